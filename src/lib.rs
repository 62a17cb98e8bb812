//! promptgate: a proxy-wasm HTTP filter that inspects, limits and audits LLM API requests.
//!
//! The host glue lives in `filter` (wasm32 only); everything else is plain Rust that knows nothing
//! of the host and is unit-tested natively.

pub mod config;
pub mod identity;
pub mod limits;
pub mod usage;

#[cfg(target_arch = "wasm32")]
mod filter;

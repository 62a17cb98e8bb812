//! promptgate: a proxy-wasm HTTP filter that inspects, limits and audits LLM API requests.
//!
//! The host glue lives in `filter` (wasm32 only); everything else is plain Rust that knows nothing
//! of the host and is unit-tested natively.

pub mod access;
pub mod audit;
pub mod config;
pub mod contracts;
pub mod error;
pub mod extract;
mod glob;
pub mod guard;
pub mod identity;
pub mod inspect;
pub mod json_path;
pub mod limits;
pub mod metrics;
pub mod normalize;
pub mod outcome;
pub mod plugin;
pub mod reply;
#[cfg(not(target_arch = "wasm32"))]
pub mod schema;
pub mod usage;
pub mod vault;

#[cfg(target_arch = "wasm32")]
mod filter;
#[cfg(target_arch = "wasm32")]
mod host;

//! promptgate: a proxy-wasm HTTP filter that inspects, limits and audits LLM API requests.
//!
//! The host glue lives in `filter` and `host` (wasm32 only). One request's life is `exchange`,
//! which reaches the proxy only through its `Host` trait; it and everything else is plain Rust,
//! unit-tested natively (the lifecycle on a fake host).

mod access;
pub mod audit;
pub mod classifier;
pub mod compact_de;
pub mod config;
mod contracts;
mod error;
pub mod exchange;
pub mod extract;
pub mod flavor;
mod glob;
pub mod guard;
mod header_map;
pub mod identity;
pub mod inspect;
pub mod json_path;
pub mod limits;
pub mod metrics;
pub mod normalize;
mod outcome;
pub mod plugin;
mod reply;
pub mod response;
#[cfg(not(target_arch = "wasm32"))]
pub mod schema;
pub mod usage;
mod utf8;
mod vault;

#[cfg(target_arch = "wasm32")]
mod filter;
#[cfg(target_arch = "wasm32")]
mod host;

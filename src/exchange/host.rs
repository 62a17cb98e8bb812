//! What a request's life needs from the proxy: the seam between the lifecycle (`Exchange`) and
//! the proxy-wasm calls (`filter.rs` implements it over the raw imports; `tests.rs` fakes it).
//!
//! Statuses are the host's raw proxy-wasm numbers (`Err(12)` is Unimplemented), as in `host.rs`:
//! a failure is "capability off", never a trap.

use crate::flavor::Flavor;
use crate::limits::SharedStore;
use crate::metrics::Kind;
use std::time::SystemTime;

/// A header map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    RequestHeaders,
    ResponseHeaders,
    /// The headers of an HTTP call's answer (in `on_http_call_response`).
    HttpCallResponseHeaders,
}

/// A body buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffer {
    RequestBody,
    ResponseBody,
    /// The body of an HTTP call's answer (in `on_http_call_response`).
    HttpCallResponseBody,
    /// The message of a gRPC call's answer (in `on_grpc_call_response`).
    GrpcReceiveBuffer,
}

/// A stream a paused callback can resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Request,
    Response,
}

/// A log line's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
}

/// The proxy, as one request sees it. Shared data is the limiter's [`SharedStore`].
pub trait Host: SharedStore {
    /// Which host this is (decided by the glue on the first request's headers).
    fn flavor(&self) -> Flavor;
    /// A whole header map, serialised the proxy-wasm way (see `header_map::parse_header_pairs`);
    /// `None` when the host fails to hand it over.
    fn header_map(&self, map: Map) -> Option<Vec<u8>>;
    /// One header's value (the first, on hosts that keep repeats).
    fn header(&self, map: Map, name: &str) -> Option<Vec<u8>>;
    fn add_header(&self, map: Map, name: &str, value: &str) -> Result<(), u32>;
    fn replace_header(&self, map: Map, name: &str, value: &str) -> Result<(), u32>;
    fn remove_header(&self, map: Map, name: &str) -> Result<(), u32>;
    /// Bytes `[start, start + max)` of a buffer; `Ok(None)` when empty or absent.
    fn buffer(&self, buffer: Buffer, start: usize, max: usize) -> Result<Option<Vec<u8>>, u32>;
    fn set_buffer(
        &self,
        buffer: Buffer,
        start: usize,
        size: usize,
        value: &[u8],
    ) -> Result<(), u32>;
    fn property(&self, path: &[&str]) -> Option<Vec<u8>>;
    fn set_property(&self, path: &[&str], value: &[u8]) -> Result<(), u32>;
    fn send_local_response(
        &self,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), u32>;
    /// A metric id, or `None` when the host refuses (that series is then off).
    fn define_metric(&self, kind: Kind, name: &str) -> Option<u32>;
    fn increment_metric(&self, id: u32, delta: i64);
    fn record_metric(&self, id: u32, value: u64);
    fn log(&self, level: Level, message: &str);
    /// A unary gRPC call to `upstream` (a serialised `GrpcService`, or a cluster name); the
    /// answer comes to [`Exchange::on_grpc_call_response`](super::Exchange) with the returned
    /// token. `Err(status)` when the host refuses it.
    fn dispatch_grpc_call(
        &self,
        upstream: &[u8],
        service: &str,
        method: &str,
        message: &[u8],
        timeout_ms: u32,
    ) -> Result<u32, u32>;
    /// An HTTP call (headers include the pseudo-headers); the answer comes to
    /// `Exchange::on_http_call_response` with the returned token.
    fn dispatch_http_call(
        &self,
        upstream: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout_ms: u32,
    ) -> Result<u32, u32>;
    /// Resumes a stream the exchange paused (`proxy_continue_stream`).
    fn resume(&self, stream: Stream);
    fn now(&self) -> SystemTime;

    fn now_ms(&self) -> u64 {
        self.now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64
    }
}

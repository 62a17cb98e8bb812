//! What a request's life needs from the proxy: the seam between the lifecycle (`Exchange`) and
//! the proxy-wasm calls (`filter.rs` implements it over the raw imports; `tests.rs` fakes it).
//!
//! Statuses are the host's raw proxy-wasm numbers (`Err(12)` is Unimplemented), as in `host.rs`:
//! a failure is "capability off", never a trap.

use crate::flavor::Flavor;
use crate::limits::SharedStore;
use crate::metrics::Kind;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What Envoy knows of a stream that the audit event and the log phase need: the route and
/// cluster names, when the request began and (at the log phase) how long the stream took.
/// Read in one host call, a CEL expression ([`FACTS_EXPRESSION`]) the host evaluates, instead
/// of two property reads and two clock readings (issue 16).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamFacts {
    /// `xds.route_name` (`None` when absent or empty).
    pub route: Option<String>,
    /// `xds.cluster_name` (`None` when absent or empty).
    pub cluster: Option<String>,
    /// `request.time`: the request's first byte (Envoy's `%START_TIME%`).
    pub start: Option<SystemTime>,
    /// `request.duration`: from the start to the end of the stream (Envoy's `%DURATION%`), set
    /// once the stream is complete (the log phase); `None` before.
    pub duration: Option<Duration>,
}

/// The expression behind [`StreamFacts`] (Envoy's `expr_create` / `expr_evaluate` foreign
/// functions, CEL). A list: Envoy serialises it as a header map of its elements (names only),
/// strings as their bytes, the timestamp and the duration as little-endian i64 nanoseconds; an
/// absent value is an empty string. Checked against the real Envoy by `tests/e2e_observability.rs`.
pub const FACTS_EXPRESSION: &str = "[has(xds.route_name) ? xds.route_name : '', \
has(xds.cluster_name) ? xds.cluster_name : '', request.time, \
has(request.duration) ? request.duration : '']";

impl StreamFacts {
    /// Decodes Envoy's answer to [`FACTS_EXPRESSION`]; `None` when it is not that shape.
    pub fn decode(bytes: &[u8]) -> Option<StreamFacts> {
        let pairs = crate::header_map::parse_header_pairs(bytes)?;
        let [(route, _), (cluster, _), (time, _), (duration, _)] = pairs.as_slice() else {
            return None;
        };
        let name = |b: &[u8]| (!b.is_empty()).then(|| String::from_utf8_lossy(b).into_owned());
        let nanos = |b: &[u8]| -> Option<i64> { Some(i64::from_le_bytes(b.try_into().ok()?)) };
        let start = match time.len() {
            8 => Some(UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos(time)?).ok()?)),
            _ => return None,
        };
        let duration = match duration.len() {
            0 => None,
            8 => Some(Duration::from_nanos(u64::try_from(nanos(duration)?).ok()?)),
            _ => return None,
        };
        Some(StreamFacts {
            route: name(route),
            cluster: name(cluster),
            start,
            duration,
        })
    }
}

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

    /// Whether [`stream_facts`](Self::stream_facts) can answer on this host (Envoy; set up on
    /// first use). When it can, the exchange takes no clock reading at arrival.
    fn stream_facts_ready(&self) -> bool {
        false
    }

    /// [`StreamFacts`] in one host call; `None` when the host cannot tell (then the exchange
    /// reads properties and the clock).
    fn stream_facts(&self) -> Option<StreamFacts> {
        None
    }

    fn now_ms(&self) -> u64 {
        self.now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[&[u8]]) -> Vec<u8> {
        let mut out = (items.len() as u32).to_le_bytes().to_vec();
        for i in items {
            out.extend_from_slice(&(i.len() as u32).to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
        }
        for i in items {
            out.extend_from_slice(i);
            out.extend_from_slice(&[0, 0]);
        }
        out
    }

    #[test]
    fn stream_facts_decode_envoys_answer() {
        let start = 1_795_423_800_123_456_789i64.to_le_bytes();
        let took = 42_000_000i64.to_le_bytes();
        let f = StreamFacts::decode(&pairs(&[b"llm", b"model", &start, &took])).unwrap();
        assert_eq!(f.route.as_deref(), Some("llm"));
        assert_eq!(f.cluster.as_deref(), Some("model"));
        assert_eq!(
            f.start,
            Some(UNIX_EPOCH + Duration::from_nanos(1_795_423_800_123_456_789))
        );
        assert_eq!(f.duration, Some(Duration::from_millis(42)));
        // Before the log phase there is no duration; a route without a name is none.
        let f = StreamFacts::decode(&pairs(&[b"", b"model", &start, b""])).unwrap();
        assert_eq!((f.route, f.duration), (None, None));
        // Anything else is not an answer: never a panic.
        for bad in [
            pairs(&[b"llm", b"model", &start]),
            pairs(&[b"llm", b"model", b"1234", b""]),
            pairs(&[b"llm", b"model", &start, b"xx"]),
            pairs(&[b"llm", b"model", &(-1i64).to_le_bytes(), b""]),
            b"\xff\xff\xff\xff".to_vec(),
            Vec::new(),
        ] {
            assert_eq!(StreamFacts::decode(&bad), None, "{bad:?}");
        }
    }
}

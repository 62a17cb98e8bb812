//! Which proxy-wasm host runs the filter, and what that changes in a request's life: each
//! difference is a named method here, so the lifecycle (`exchange`) reads as one program and
//! `docs/hosts.md` has one place to point at.

/// Which proxy-wasm host runs the filter, as far as it matters for the request lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Envoy / Istio (proxy-wasm-cpp-host): body callbacks per chunk, `Pause` on request
    /// headers holds them until the body is scanned (with `allow_on_headers_stop_iteration`).
    Envoy,
    /// Kong's ngx_wasm_module: `eof` is always false on headers; nginx reads the whole request
    /// body (request buffering) and calls `on_http_request_body` once with `eof = true` before
    /// the upstream is contacted, and not at all without a body. `Pause` in the access phase
    /// waits for a resume event (an HTTP call) that never comes, so headers answer `Continue`.
    Kong,
    /// APISIX's wasm-nginx-module: headers arrive with `num_headers = 0, eof = true`; the body is
    /// passed (once, whole) only after the filter sets the nginx variable
    /// `wasm_process_req_body`; a returned `Pause` (1) reads as "HTTP call pending"; no shared
    /// data, no `proxy_on_log` (only `proxy_on_done`).
    Apisix,
}

/// How the request body reaches the filter once the headers are through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyArrival {
    /// In chunks, while the headers are held (`Pause`).
    HeldChunks,
    /// Whole and once, if there is one; the headers answer `Continue`.
    WholeIfAny,
    /// Whole and once, only when asked for (`wasm_process_req_body`); headers answer `Continue`.
    WholeOnRequest,
}

impl Flavor {
    /// Whether the headers' `end_of_stream` can be believed (APISIX always says true).
    pub fn headers_tell_end_of_stream(self) -> bool {
        self != Flavor::Apisix
    }

    /// Whether a reply decided at the headers can wait for the body: only Envoy holds a request
    /// at its headers (an answer sent while an HTTP/2 client is still uploading ends in a reset
    /// some clients report instead of the reply).
    pub fn can_hold_headers(self) -> bool {
        self == Flavor::Envoy
    }

    pub fn body_arrival(self) -> BodyArrival {
        match self {
            Flavor::Envoy => BodyArrival::HeldChunks,
            Flavor::Kong => BodyArrival::WholeIfAny,
            Flavor::Apisix => BodyArrival::WholeOnRequest,
        }
    }

    /// Envoy's filter state and `xds.*` properties (the nginx hosts log an error per call).
    pub fn has_filter_state(self) -> bool {
        self == Flavor::Envoy
    }

    /// Whether `response.code_details` is worth reading: Kong answers NotFound and logs an error
    /// for each read (see `docs/hosts.md`).
    pub fn has_code_details(self) -> bool {
        self != Flavor::Kong
    }

    /// Whether a streamed answer's chunks can be rewritten on their way to the client (for
    /// `include_stream_usage`, which takes out the usage chunk the client did not ask for): only
    /// Envoy is known to; elsewhere such streams stay charged as estimated.
    pub fn can_edit_response_body(self) -> bool {
        self == Flavor::Envoy
    }

    /// Whether the request ends in `proxy_on_done` without `proxy_on_log` (APISIX).
    pub fn ends_without_log(self) -> bool {
        self == Flavor::Apisix
    }

    /// Whether the host makes gRPC calls (`proxy_grpc_call`): Envoy only; Kong's and APISIX's
    /// modules have HTTP calls only (`docs/hosts.md`).
    pub fn has_grpc_calls(self) -> bool {
        self == Flavor::Envoy
    }

    /// Whether the host lets the filter make a call while the response passes (to settle
    /// usage with the rate-limit service): Envoy; Kong allows calls in the request phases
    /// only, APISIX in the request phase only.
    pub fn calls_during_response(self) -> bool {
        self == Flavor::Envoy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_per_host() {
        use Flavor::*;
        let row = |f: Flavor| {
            (
                f.headers_tell_end_of_stream(),
                f.can_hold_headers(),
                f.body_arrival(),
                f.has_filter_state(),
                f.has_code_details(),
                f.ends_without_log(),
                f.can_edit_response_body(),
            )
        };
        use BodyArrival::*;
        assert_eq!(
            row(Envoy),
            (true, true, HeldChunks, true, true, false, true)
        );
        assert_eq!(
            row(Kong),
            (true, false, WholeIfAny, false, false, false, false)
        );
        assert_eq!(
            row(Apisix),
            (false, false, WholeOnRequest, false, true, true, false)
        );
    }
}

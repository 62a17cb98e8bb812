//! Proxy-wasm glue: the only module that talks to the host.
//!
//! Kept thin on purpose: it reads headers and the buffered body, hands them to the host-agnostic
//! modules, and turns their answers into host calls. The SDK's trait helpers `unwrap()` host
//! statuses and some decode header values as UTF-8 with a panic on failure; request data reaches
//! the filter only through the byte-returning calls below, so no request can trap the VM.

use crate::config::{Config, OversizeAction};
use crate::reply::LocalReply;
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType};
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(Root { config: None })
    });
}}

/// One per plugin instance and worker: holds the validated configuration.
struct Root {
    config: Option<Rc<Config>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let raw = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        match Config::parse(&raw) {
            Ok(config) => {
                self.config = Some(Rc::new(config));
                true
            }
            Err(e) => {
                // Returning false makes the host refuse the plugin: Envoy rejects the listener
                // (or the xDS update) instead of running with a half-understood policy.
                log::error!("{e}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let config = self.config.clone()?;
        Some(Box::new(Request::new(config)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Headers seen; body (if any) being buffered.
    Buffering,
    /// The filter has decided; remaining callbacks pass through.
    Forwarded,
    /// The filter answered locally; the upstream never sees the request.
    Answered,
}

struct Request {
    config: Rc<Config>,
    phase: Phase,
}

impl Request {
    fn new(config: Rc<Config>) -> Self {
        Request {
            config,
            phase: Phase::Buffering,
        }
    }

    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name)
            .ok()
            .flatten()
    }

    fn request_id(&self) -> Option<String> {
        self.request_header("x-request-id")
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    fn answer(&mut self, reply: LocalReply) -> Action {
        let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
        headers.extend(reply.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        if let Err(status) = hostcalls::send_http_response(reply.status, headers, Some(&reply.body))
        {
            log::warn!("local reply failed: {status:?}");
        }
        self.phase = Phase::Answered;
        Action::Pause
    }

    /// Body above `max_body_bytes`: reject with 413, or let it through unscanned.
    fn oversize(&mut self) -> Action {
        match self.config.on_oversize {
            OversizeAction::Reject => {
                let reply = LocalReply::body_too_large(
                    self.config.max_body_bytes,
                    self.request_id().as_deref(),
                );
                self.answer(reply)
            }
            OversizeAction::Allow => {
                self.phase = Phase::Forwarded;
                Action::Continue
            }
        }
    }

    /// The whole body is buffered: decide.
    fn decide(&mut self, _body: &[u8]) -> Action {
        self.phase = Phase::Forwarded;
        Action::Continue
    }
}

impl Context for Request {}

impl HttpContext for Request {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if end_of_stream {
            return self.decide(&[]);
        }
        let declared = self
            .request_header("content-length")
            .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.config.max_body_bytes as u64) {
            return self.oversize();
        }
        // Hold the headers until the body is scanned, so nothing reaches the upstream before the
        // decision. Envoy >= 1.35 honours this only with `allow_on_headers_stop_iteration: true`.
        Action::Pause
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.phase != Phase::Buffering {
            return if self.phase == Phase::Answered {
                Action::Pause
            } else {
                Action::Continue
            };
        }
        // `body_size` is the size buffered so far; chunks are never copied until the end.
        if body_size > self.config.max_body_bytes {
            return self.oversize();
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let body = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        self.decide(&body)
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // A body that ends with trailers never had end_of_stream on a body callback.
        if self.phase == Phase::Buffering {
            let size = hostcalls::get_buffer(BufferType::HttpRequestBody, 0, usize::MAX)
                .ok()
                .flatten()
                .unwrap_or_default();
            return self.decide(&size);
        }
        Action::Continue
    }
}

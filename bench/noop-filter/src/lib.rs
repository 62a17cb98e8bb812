//! The floor cost of any proxy-wasm filter in Envoy: a filter that does nothing.
//!
//! `scripts/bench` loads it exactly like promptgate (same bootstrap template, same V8 runtime),
//! so the difference between "Envoy alone" and this filter is what the wasm host itself costs
//! (VM dispatch of every callback), and the difference between this and promptgate is what
//! promptgate's own work costs. Every callback returns `Continue`; no host calls are made.
//!
//! With a plugin configuration that names `read_bodies` (`bench/noop-filter/read-bodies.json`,
//! the bench's `read-floor-wasm`) it does the least any filter that inspects the request body
//! and reads the answer's usage must do, and nothing else: it reads the request header map and
//! holds the headers, buffers the request body to its end and copies it into the VM, reads the
//! response header map, and copies each chunk of the response body as it passes. promptgate does all of that on
//! every request (plus its own work), so this is its floor in Envoy, above the no-op one.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(NoopRoot::default()) });
}}

#[derive(Default)]
struct NoopRoot {
    read_bodies: bool,
}

impl Context for NoopRoot {}

impl RootContext for NoopRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        self.read_bodies = config.windows(11).any(|w| w == b"read_bodies");
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        if self.read_bodies {
            Some(Box::new(Reader))
        } else {
            Some(Box::new(Noop))
        }
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Noop;

impl Context for Noop {}

impl HttpContext for Noop {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn on_http_request_body(&mut self, _body_size: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn on_http_response_body(&mut self, _body_size: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        Action::Continue
    }
}

/// The `read_bodies` floor: what promptgate's Envoy glue does with the host on an ordinary
/// request before any work of its own (one header map each way, the request body buffered and
/// read, the response body read chunk by chunk).
struct Reader;

impl Context for Reader {}

impl HttpContext for Reader {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let headers = self.get_http_request_headers();
        std::hint::black_box(headers);
        // Held until the body has been read, as a filter that decides on the body must.
        if end_of_stream {
            Action::Continue
        } else {
            Action::Pause
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            return Action::Pause;
        }
        std::hint::black_box(self.get_http_request_body(0, body_size));
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        std::hint::black_box(self.get_http_response_headers());
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, _end_of_stream: bool) -> Action {
        // Each chunk as it passes (not buffered), as promptgate reads usage.
        if body_size > 0 {
            std::hint::black_box(self.get_http_response_body(0, body_size));
        }
        Action::Continue
    }
}

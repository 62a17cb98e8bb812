//! Proxy-wasm glue: the root context, and one [`Exchange`] per HTTP context driven through
//! [`WasmHost`], the [`Host`] over `host.rs`'s never-trapping raw calls.
//!
//! The SDK's trait helpers `unwrap()` host statuses and decode header values as UTF-8 with a
//! panic on failure; request data reaches the filter only through the byte-returning calls in
//! `host.rs`, so no request can trap the VM. The lifecycle itself is in `exchange`.

use crate::exchange::{
    Buffer, Exchange, Host, Level, Map, Step, Stream, StreamFacts, Telemetry, FACTS_EXPRESSION,
};
use crate::host::{self, Flavor};
use crate::limits::{SharedStore, StoreError};
use crate::metrics::Kind;
use crate::plugin::Plugin;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(Root {
            plugin: None,
            telemetry: Rc::new(RefCell::new(Telemetry::new())),
            facts: Rc::new(Cell::new(Facts::Untried)),
        })
    });
}}

/// The proxy-wasm host this VM runs in. Shared data is kept in the plugin's `vm_id` namespace;
/// on a host without it every call is `Unavailable`, so `limits.failure_mode` decides.
struct WasmHost {
    /// The root context's [`StreamFacts`] expression (Envoy keeps expressions per root context).
    facts: Rc<Cell<Facts>>,
}

/// The state of a root context's [`FACTS_EXPRESSION`].
#[derive(Debug, Clone, Copy)]
enum Facts {
    /// Not created yet: on Envoy, on the first request (a root context without requests never
    /// needs it; on the other hosts it is never asked for).
    Untried,
    /// Envoy's token for it.
    Token(u32),
    /// The host has no CEL expressions (`expr_create` refused): properties and the clock.
    Unavailable,
}

impl WasmHost {
    fn facts_token(&self) -> Option<u32> {
        match self.facts.get() {
            Facts::Token(t) => Some(t),
            Facts::Unavailable => None,
            Facts::Untried => {
                if host::capabilities().flavor != Some(Flavor::Envoy) {
                    return None;
                }
                let token = host::call_foreign("expr_create", FACTS_EXPRESSION.as_bytes())
                    .ok()
                    .flatten()
                    .and_then(|b| Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?)));
                self.facts
                    .set(token.map_or(Facts::Unavailable, Facts::Token));
                match token {
                    Some(_) => log::info!(
                        "promptgate: route, cluster, start and duration from one CEL \
                         expression per request (expr_evaluate)"
                    ),
                    None => log::info!(
                        "promptgate: the host evaluates no CEL expressions (expr_create): \
                         route, cluster and times are read with properties and the clock"
                    ),
                }
                token
            }
        }
    }
}

fn map_type(map: Map) -> u32 {
    match map {
        Map::RequestHeaders => host::MAP_REQUEST_HEADERS,
        Map::ResponseHeaders => host::MAP_RESPONSE_HEADERS,
        Map::HttpCallResponseHeaders => host::MAP_HTTP_CALL_RESPONSE_HEADERS,
    }
}

fn buffer_type(buffer: Buffer) -> u32 {
    match buffer {
        Buffer::RequestBody => host::BUFFER_REQUEST_BODY,
        Buffer::ResponseBody => host::BUFFER_RESPONSE_BODY,
        Buffer::HttpCallResponseBody => host::BUFFER_HTTP_CALL_RESPONSE_BODY,
        Buffer::GrpcReceiveBuffer => host::BUFFER_GRPC_RECEIVE,
    }
}

impl SharedStore for WasmHost {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        if !host::capabilities().shared_data {
            return Err(StoreError::Unavailable);
        }
        host::get_shared_data(key).map_err(|s| {
            host::shared_data_failed(s);
            StoreError::Unavailable
        })
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        if !host::capabilities().shared_data {
            return Err(StoreError::Unavailable);
        }
        match host::set_shared_data(key, value, cas) {
            Ok(()) => Ok(()),
            Err(host::CAS_MISMATCH) => Err(StoreError::CasMismatch),
            Err(s) => {
                host::shared_data_failed(s);
                Err(StoreError::Unavailable)
            }
        }
    }
}

impl Host for WasmHost {
    fn flavor(&self) -> Flavor {
        // Decided on the first request's headers (`host::flavor`); Envoy until then.
        host::capabilities().flavor.unwrap_or(Flavor::Envoy)
    }

    fn header_map(&self, map: Map) -> Option<Vec<u8>> {
        host::header_map(map_type(map))
    }

    fn header(&self, map: Map, name: &str) -> Option<Vec<u8>> {
        host::header(map_type(map), name)
    }

    fn add_header(&self, map: Map, name: &str, value: &str) -> Result<(), u32> {
        host::add_header(map_type(map), name, value)
    }

    fn replace_header(&self, map: Map, name: &str, value: &str) -> Result<(), u32> {
        host::replace_header(map_type(map), name, value)
    }

    fn remove_header(&self, map: Map, name: &str) -> Result<(), u32> {
        host::remove_header(map_type(map), name)
    }

    fn buffer(&self, buffer: Buffer, start: usize, max: usize) -> Result<Option<Vec<u8>>, u32> {
        host::get_buffer(buffer_type(buffer), start, max)
    }

    fn set_buffer(
        &self,
        buffer: Buffer,
        start: usize,
        size: usize,
        value: &[u8],
    ) -> Result<(), u32> {
        host::set_buffer(buffer_type(buffer), start, size, value)
    }

    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        host::get_property(path)
    }

    fn set_property(&self, path: &[&str], value: &[u8]) -> Result<(), u32> {
        host::set_property(path, value)
    }

    fn send_local_response(
        &self,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), u32> {
        host::send_local_response(status, headers, body)
    }

    fn define_metric(&self, kind: Kind, name: &str) -> Option<u32> {
        // proxy-wasm MetricType: counter 0, gauge 1, histogram 2.
        let t = match kind {
            Kind::Counter => 0,
            Kind::Gauge => 1,
            Kind::Histogram => 2,
        };
        host::define_metric(t, name)
    }

    fn increment_metric(&self, id: u32, delta: i64) {
        host::increment_metric(id, delta);
    }

    fn record_metric(&self, id: u32, value: u64) {
        host::record_metric(id, value);
    }

    fn log(&self, level: Level, message: &str) {
        // The level filter of the SDK's logger (`set_log_level` in `main!`), then the call it
        // makes, with the message as it is.
        let (level, host_level) = match level {
            Level::Info => (log::Level::Info, host::LOG_INFO),
            Level::Warn => (log::Level::Warn, host::LOG_WARN),
        };
        if level <= log::max_level() {
            host::log(host_level, message);
        }
    }

    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn stream_facts_ready(&self) -> bool {
        self.facts_token().is_some()
    }

    fn stream_facts(&self) -> Option<StreamFacts> {
        let token = self.facts_token()?;
        let answer = host::call_foreign("expr_evaluate", &token.to_le_bytes());
        StreamFacts::decode(&answer.ok().flatten()?)
    }

    fn dispatch_grpc_call(
        &self,
        upstream: &[u8],
        service: &str,
        method: &str,
        message: &[u8],
        timeout_ms: u32,
    ) -> Result<u32, u32> {
        // The SDK's call registers the token for its callback routing (a raw import would
        // leave `on_grpc_call_response` unrouted). It takes a `&str`: `Remote` keeps the
        // serialised `GrpcService` ASCII (cluster names up to 120 bytes, one-byte lengths).
        let upstream = std::str::from_utf8(upstream).map_err(|_| 2u32)?;
        proxy_wasm::hostcalls::dispatch_grpc_call(
            upstream,
            service,
            method,
            Vec::new(),
            Some(message),
            Duration::from_millis(u64::from(timeout_ms)),
        )
        .map_err(|s| s as u32)
    }

    fn dispatch_http_call(
        &self,
        upstream: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout_ms: u32,
    ) -> Result<u32, u32> {
        proxy_wasm::hostcalls::dispatch_http_call(
            upstream,
            headers.to_vec(),
            Some(body),
            Vec::new(),
            Duration::from_millis(u64::from(timeout_ms)),
        )
        .map_err(|s| s as u32)
    }

    fn resume(&self, stream: Stream) {
        host::continue_stream(match stream {
            Stream::Request => host::STREAM_REQUEST,
            Stream::Response => host::STREAM_RESPONSE,
        });
    }
}

/// Probes what the host offers and says once, at load, what is off and what that means.
fn report_capabilities(plugin: &Plugin) {
    let probe = format!("{}probe", plugin.config.limits.key_prefix);
    if host::probe_shared_data(&probe) {
        return;
    }
    // Only wasm-nginx-module (APISIX) lacks shared data; it also cannot replace a body and
    // drops metrics. Said once per configuration.
    let limits = if !plugin.limiter.is_active() {
        "no limits configured"
    } else {
        match plugin.config.limits.failure_mode {
            crate::limits::FailureMode::Allow => {
                "limits are not enforced (limits.failure_mode=allow: requests are forwarded)"
            }
            crate::limits::FailureMode::Deny => {
                "limits are not enforced (limits.failure_mode=deny: limited requests get 503)"
            }
        }
    };
    log::warn!(
        "promptgate: host has no shared data: {limits}; redaction (set_buffer_bytes) and \
         metrics may be unavailable too; inspection and audit stay on"
    );
}

/// One per plugin instance and worker: holds the validated configuration.
struct Root {
    plugin: Option<Rc<Plugin>>,
    telemetry: Rc<RefCell<Telemetry>>,
    facts: Rc<Cell<Facts>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let wasm_host = WasmHost {
            facts: self.facts.clone(),
        };
        self.telemetry.borrow_mut().define_fixed(&wasm_host);
        let raw = host::get_buffer(host::BUFFER_PLUGIN_CONFIGURATION, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        match Plugin::from_json(&raw) {
            Ok(plugin) => {
                report_capabilities(&plugin);
                self.telemetry
                    .borrow_mut()
                    .configure(&wasm_host, plugin.config.metrics.detail);
                self.plugin = Some(Rc::new(plugin));
                true
            }
            Err(e) => {
                // Returning false makes the host refuse the plugin: Envoy rejects the listener
                // (or the xDS update) instead of running with a half-understood policy.
                log::error!("{e}");
                self.telemetry.borrow().config_failed(&wasm_host);
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let plugin = self.plugin.clone()?;
        let wasm_host = WasmHost {
            facts: self.facts.clone(),
        };
        let exchange = Exchange::new(wasm_host, plugin, self.telemetry.clone());
        Some(Box::new(Request(exchange)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// One HTTP context: each callback handed to its exchange.
struct Request(Exchange<WasmHost>);

fn action(step: Step) -> Action {
    match step {
        Step::Continue => Action::Continue,
        Step::Pause => Action::Pause,
    }
}

impl Context for Request {
    fn on_done(&mut self) -> bool {
        self.0.on_done();
        true
    }

    fn on_grpc_call_response(&mut self, token_id: u32, status_code: u32, response_size: usize) {
        self.0
            .on_grpc_call_response(token_id, status_code, response_size);
    }

    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        self.0
            .on_http_call_response(token_id, num_headers, body_size);
    }
}

impl HttpContext for Request {
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        // Decides the host's flavour on the first request (`WasmHost::flavor` reads it).
        host::flavor(num_headers, end_of_stream);
        action(self.0.on_request_headers(end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.0.on_request_body(body_size, end_of_stream))
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        action(self.0.on_request_trailers())
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.0.on_response_headers(end_of_stream))
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.0.on_response_body(body_size, end_of_stream))
    }

    fn on_log(&mut self) {
        self.0.on_log();
    }
}

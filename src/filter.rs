//! Proxy-wasm glue: the only module that talks to the host.
//!
//! Kept thin on purpose: it reads headers and the buffered body, hands them to the host-agnostic
//! modules, and turns their answers into host calls. The SDK's trait helpers `unwrap()` host
//! statuses and decode header values as UTF-8 with a panic on failure; request data reaches the
//! filter only through the byte-returning calls below, so no request can trap the VM.

use crate::access::{Grant, Refusal};
use crate::audit::{AuditEvent, Decision, RuleRef, Tokens};
use crate::config::{CompressedAction, OversizeAction};
use crate::extract::ApiShape;
use crate::guard::{self, Stage};
use crate::host::{self, Flavor};
use crate::identity::{Consumer, Lookup};
use crate::inspect::{self, Verdict};
use crate::limits::{RequestFacts, Reservation, SharedStore, StoreError};
use crate::metrics::{self, Kind, ModelLabels, Registry};
use crate::plugin::Plugin;
use crate::reply::LocalReply;
use crate::usage::{self, SseUsageReader, Usage, UsageChunkStripper};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::SystemTime;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(Root { plugin: None, telemetry: Rc::new(RefCell::new(Telemetry::new())) })
    });
}}

/// Host metrics of one VM. Fixed series are defined once at configure time and kept by id;
/// labelled series (rule, model) are defined on first use and cached by name.
struct Telemetry {
    registry: Registry<u32>,
    decisions: [Option<u32>; Decision::ALL.len()],
    in_flight: Option<u32>,
    body_bytes: Option<u32>,
    scan_us: Option<u32>,
    config_failures: Option<u32>,
    limit_store_errors: Option<u32>,
    models: ModelLabels,
}

fn define(kind: Kind, name: &str) -> Option<u32> {
    // proxy-wasm MetricType: counter 0, gauge 1, histogram 2.
    let t = match kind {
        Kind::Counter => 0,
        Kind::Gauge => 1,
        Kind::Histogram => 2,
    };
    host::define_metric(t, name)
}

fn bump(id: Option<u32>, delta: i64) {
    // Adding 0 changes nothing: no host call.
    if let (Some(id), false) = (id, delta == 0) {
        host::increment_metric(id, delta);
    }
}

fn observe(id: Option<u32>, value: u64) {
    if let Some(id) = id {
        host::record_metric(id, value);
    }
}

impl Telemetry {
    fn new() -> Self {
        Telemetry {
            registry: Registry::new(512),
            decisions: [None; Decision::ALL.len()],
            in_flight: None,
            body_bytes: None,
            scan_us: None,
            config_failures: None,
            limit_store_errors: None,
            models: ModelLabels::new(32),
        }
    }

    /// Defines the fixed series, so they show (as 0) before the first request.
    fn define_fixed(&mut self) {
        for (slot, d) in self.decisions.iter_mut().zip(Decision::ALL) {
            *slot = define(
                Kind::Counter,
                &metrics::name(metrics::REQUESTS_TOTAL, &[("decision", d.as_str())]),
            );
        }
        self.in_flight = define(Kind::Gauge, metrics::IN_FLIGHT);
        self.body_bytes = define(Kind::Histogram, metrics::BODY_BYTES);
        self.scan_us = define(Kind::Histogram, metrics::SCAN_DURATION_US);
        self.config_failures = define(Kind::Counter, metrics::CONFIG_FAILURES_TOTAL);
        self.limit_store_errors = define(Kind::Counter, metrics::LIMIT_STORE_ERRORS_TOTAL);
    }

    fn decision(&self, d: Decision) {
        bump(self.decisions[d as usize], 1);
    }

    /// A labelled counter, defined on first use.
    fn add_labelled(&mut self, base: &str, labels: &[(&str, &str)], delta: i64) {
        let name = metrics::name(base, labels);
        bump(self.registry.id(&name, Kind::Counter, define), delta);
    }
}

/// Proxy-wasm shared data as the limiter's store. Keys live in the plugin's `vm_id` namespace.
/// On a host without shared data every call is `Unavailable`, so `limits.failure_mode` decides.
struct HostStore;

impl SharedStore for HostStore {
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

extern "C" {
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
}

/// A raw serialised header map (`host::MAP_REQUEST_HEADERS` or `host::MAP_RESPONSE_HEADERS`),
/// decoded by [`guard::parse_header_pairs`] (which, unlike the SDK's `get_map_bytes`, cannot panic
/// on a header name that is not UTF-8). One host call for the whole map: each header read from it
/// saves a `proxy_get_header_map_value` (a host call, and a call back into the allocator).
fn header_map(map_type: u32) -> Option<Vec<u8>> {
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: the host allocates the buffer through the SDK's `proxy_on_memory_allocate` export
    // (the global allocator) and hands over ownership, as in the SDK's own `get_map_bytes`.
    unsafe {
        if proxy_get_header_map_pairs(map_type, &mut data, &mut size) != 0 {
            return None;
        }
        if data.is_null() || size == 0 {
            return Some(Vec::new());
        }
        Some(Vec::from_raw_parts(data, size, size))
    }
}

/// What `host::header(map_type, name)` answers, taken from the map read whole (`pairs`) when it
/// settles it (see [`guard::header_value`]), else asked of the host.
fn header_in(pairs: Option<&[(&[u8], &[u8])]>, map_type: u32, name: &str) -> Option<Vec<u8>> {
    match pairs.map(|p| guard::header_value(p, name)) {
        Some(guard::HeaderValue::Found(v)) => Some(v.to_vec()),
        Some(guard::HeaderValue::Absent) => None,
        Some(guard::HeaderValue::Unknown) | None => host::header(map_type, name),
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

fn now_ms() -> u64 {
    ms(SystemTime::now())
}

fn ms(t: SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// Largest buffered (non-streamed) response the filter copies to read its `usage`.
const MAX_USAGE_BODY: usize = 1024 * 1024;

/// How the response body is read for usage.
enum ResponseReader {
    None,
    Json(Vec<u8>),
    Sse(Box<SseUsageReader>),
}

/// One per plugin instance and worker: holds the validated configuration.
struct Root {
    plugin: Option<Rc<Plugin>>,
    telemetry: Rc<RefCell<Telemetry>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        self.telemetry.borrow_mut().define_fixed();
        let raw = host::get_buffer(host::BUFFER_PLUGIN_CONFIGURATION, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        match Plugin::from_json(&raw) {
            Ok(plugin) => {
                report_capabilities(&plugin);
                self.plugin = Some(Rc::new(plugin));
                true
            }
            Err(e) => {
                // Returning false makes the host refuse the plugin: Envoy rejects the listener
                // (or the xDS update) instead of running with a half-understood policy.
                log::error!("{e}");
                bump(self.telemetry.borrow().config_failures, 1);
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        let plugin = self.plugin.clone()?;
        Some(Box::new(Request::new(plugin, self.telemetry.clone())))
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
    plugin: Rc<Plugin>,
    telemetry: Rc<RefCell<Telemetry>>,
    phase: Phase,
    started: SystemTime,
    event: AuditEvent,
    counted_in_flight: bool,
    consumer: Option<Consumer>,
    /// Who the request is for the access policy (set with the request headers).
    grant: Option<Grant>,
    reservation: Option<Reservation>,
    /// Rate-limit headers for the client on a forwarded request.
    limit_headers: Vec<(&'static str, String)>,
    response: ResponseReader,
    /// The filter added `stream_options.include_usage` to the forwarded request.
    usage_added: bool,
    /// Takes the usage chunk the client did not ask for out of a streamed answer.
    stripper: Option<UsageChunkStripper>,
    usage: Option<Usage>,
    /// A local reply decided at the headers but sent once the request body has arrived: an
    /// answer sent while an HTTP/2 client is still uploading ends in a stream reset that some
    /// clients (curl) report instead of the reply.
    deferred: Option<(LocalReply, Decision, String)>,
    /// The audit event was written and the reservation settled (exactly once).
    finished: bool,
    /// The request's `content-type` (lossy UTF-8), read with the request headers.
    content_type: Option<String>,
    /// The request had a `content-length` header (read with the request headers).
    has_content_length: bool,
    /// The route and cluster properties were read for the audit event (once per request, even
    /// when the host has none).
    route_read: bool,
    /// A clock reading taken moments ago in this callback (the end of the scan; the start of the
    /// log phase), used instead of another (each is a host call).
    now: Option<SystemTime>,
}

impl Request {
    fn new(plugin: Rc<Plugin>, telemetry: Rc<RefCell<Telemetry>>) -> Self {
        let started = SystemTime::now();
        Request {
            plugin,
            telemetry,
            phase: Phase::Buffering,
            started,
            event: AuditEvent::new(started),
            counted_in_flight: false,
            consumer: None,
            grant: None,
            reservation: None,
            limit_headers: Vec::new(),
            response: ResponseReader::None,
            usage_added: false,
            stripper: None,
            usage: None,
            deferred: None,
            finished: false,
            content_type: None,
            has_content_length: false,
            route_read: false,
            now: None,
        }
    }

    fn request_header(&self, name: &str) -> Option<Vec<u8>> {
        host::header(host::MAP_REQUEST_HEADERS, name)
    }

    fn property(path: &[&str]) -> Option<String> {
        host::get_property(path).map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    fn answer(&mut self, reply: LocalReply, decision: Decision, reason: &str) -> Action {
        self.event.decision = decision;
        self.event.reason = Some(reason.to_string());
        let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
        if let Some(id) = self.event.request_id.as_deref() {
            headers.push(("x-request-id", id));
        }
        headers.extend(reply.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        if let Err(status) = host::send_local_response(reply.status, &headers, &reply.body) {
            log::warn!("local reply failed: {status:?}");
        }
        self.phase = Phase::Answered;
        // Envoy may write the access log for a local reply before on_log runs: publish now.
        self.publish(false);
        Action::Pause
    }

    /// Answers now when the request is complete, else once its body has arrived (see `deferred`).
    fn answer_after_body(
        &mut self,
        reply: LocalReply,
        decision: Decision,
        reason: &str,
        end_of_stream: bool,
    ) -> Action {
        // Only Envoy can hold a request at its headers; Kong and APISIX answer at once.
        let envoy = matches!(host::capabilities().flavor, None | Some(Flavor::Envoy));
        if end_of_stream || !envoy {
            return self.answer(reply, decision, reason);
        }
        self.deferred = Some((reply, decision, reason.to_string()));
        Action::Pause
    }

    /// Sends the deferred reply when the body is complete, or early when it outgrows
    /// `max_body_bytes` (no point buffering more of a request that is already refused).
    fn deferred_reply(&mut self, body_size: usize, end_of_stream: bool) -> Option<Action> {
        self.deferred.as_ref()?;
        if !end_of_stream && body_size <= self.plugin.config.max_body_bytes {
            return Some(Action::Pause);
        }
        let (reply, decision, reason) = self.deferred.take()?;
        Some(self.answer(reply, decision, &reason))
    }

    /// An access-policy refusal (401, 403 or 400); `end_of_stream`: the request is complete
    /// (else the reply waits for the body, see `deferred`).
    fn refuse(&mut self, r: &Refusal, end_of_stream: bool) -> Action {
        if let Some(model) = &r.model {
            self.event.model = Some(model.clone());
        }
        if let Some(api) = r.api {
            self.event.api = api.to_string();
        }
        let reply = r.reply(self.event.request_id.as_deref());
        self.answer_after_body(reply, r.decision, &r.reason, end_of_stream)
    }

    /// Whether the access policy must see this request's body (model, API or contract checks):
    /// then a body the filter cannot read is refused, never forwarded unchecked.
    fn body_must_be_checked(&self) -> bool {
        self.grant
            .as_ref()
            .is_some_and(|g| self.plugin.access.needs_body(g))
    }

    /// Removes the client's credential headers and adds the provider key (`upstream_key`).
    fn vault_headers(&mut self) {
        let Some(vault) = &self.plugin.vault else {
            return;
        };
        for h in &vault.remove {
            let _ = host::remove_header(host::MAP_REQUEST_HEADERS, h);
        }
        let _ = host::replace_header(host::MAP_REQUEST_HEADERS, &vault.header, vault.value());
        self.event.rewrites.push("upstream_key".into());
    }

    /// Body above `max_body_bytes`: reject with 413, or let it through unscanned.
    fn oversize(&mut self) -> Action {
        let on_oversize = if self.body_must_be_checked() {
            OversizeAction::Reject
        } else {
            self.plugin.config.on_oversize
        };
        match on_oversize {
            OversizeAction::Reject => {
                let reply = LocalReply::body_too_large(
                    self.plugin.config.max_body_bytes,
                    self.event.request_id.as_deref(),
                );
                // A body the host would not hand over keeps its own reason.
                let reason = match self.event.reason.as_deref() {
                    Some("body_unreadable") => "body_unreadable",
                    _ => "body_too_large",
                };
                self.answer(reply, Decision::Oversize, reason)
            }
            OversizeAction::Allow => {
                self.event.decision = Decision::Oversize;
                self.event.reason = Some("forwarded_unscanned".into());
                self.phase = Phase::Forwarded;
                Action::Continue
            }
        }
    }

    /// The whole body is buffered: inspect it and decide.
    fn decide(&mut self, body: &[u8]) -> Action {
        self.event.body_bytes = body.len() as u64;
        let plugin = self.plugin.clone();
        // `decide` runs once per request (the phase moves on): take the value, no copy.
        let content_type = self.content_type.take();
        // Access policy first: API, model, contract. Clamps and defaults rewrite the body here,
        // before inspection and before the limiter reads `max_tokens`.
        let mut rewritten = None;
        if let Some(grant) = &self.grant {
            match plugin
                .access
                .check_body(grant, body, content_type.as_deref())
            {
                Ok(out) => {
                    if let Some(new_body) = out.body {
                        self.replace_body(body.len(), &new_body);
                        rewritten = Some(new_body);
                    }
                    self.event.rewrites.extend(out.rewrites);
                }
                Err(r) => return self.refuse(&r, true),
            }
        }
        let body = rewritten.as_deref().unwrap_or(body);
        if body.is_empty() {
            // No prompt, no completion (`GET /v1/models`): only the request itself is counted.
            let facts = RequestFacts {
                no_completion: true,
                ..RequestFacts::default()
            };
            return self.admit(Decision::Allowed, facts);
        }
        observe(self.telemetry.borrow().body_bytes, body.len() as u64);
        let inspector = match &self.grant {
            Some(g) => plugin.access.inspector(g, &plugin.inspector),
            None => &plugin.inspector,
        };
        let scan_start = SystemTime::now();
        let verdict = inspector.inspect(body, content_type.as_deref());
        let scan_end = SystemTime::now();
        self.now = Some(scan_end);
        let scan_us = scan_end
            .duration_since(scan_start)
            .unwrap_or_default()
            .as_micros() as u64;
        observe(self.telemetry.borrow().scan_us, scan_us);
        self.record_verdict(&verdict);
        if self.event.reason.is_none() && std::str::from_utf8(body).is_err() {
            // Scanned after lossy decoding; forwarded byte for byte. Say so.
            self.event.reason = Some("invalid_utf8".into());
        }
        let facts = RequestFacts {
            model: verdict.meta.model.as_deref(),
            // The text the audit event's `prompt_bytes` and hash describe.
            prompt_bytes: verdict.text.len() as u64,
            max_tokens: verdict.meta.max_tokens,
            no_completion: verdict.shape == ApiShape::Embeddings,
        };
        let action = match verdict.decision {
            inspect::Decision::Allow => self.admit(Decision::Allowed, facts),
            inspect::Decision::Monitor => self.admit(Decision::Monitored, facts),
            inspect::Decision::Redact => self.admit(Decision::Redacted, facts),
            inspect::Decision::Block if verdict.parse_error_block => {
                let reply = LocalReply::invalid_body(self.event.request_id.as_deref());
                return self.answer(reply, Decision::Blocked, "parse_error");
            }
            inspect::Decision::Block => {
                let reply = LocalReply::content_blocked(self.event.request_id.as_deref());
                return self.answer(reply, Decision::Blocked, "content_policy");
            }
        };
        if self.phase == Phase::Forwarded {
            let redacted = match verdict.decision {
                inspect::Decision::Redact => verdict.redacted_body.as_deref(),
                _ => None,
            };
            // A streamed OpenAI request without `include_usage` ends without usage: ask for it
            // (only Envoy is known to let the filter take the extra chunk out of the answer).
            let stream_usage = plugin.config.include_stream_usage
                && verdict.meta.stream
                && matches!(verdict.shape, ApiShape::Chat | ApiShape::Completions)
                && matches!(host::capabilities().flavor, None | Some(Flavor::Envoy));
            let with_usage = stream_usage
                .then(|| usage::add_stream_usage(redacted.unwrap_or(body)))
                .flatten();
            if let Some(new_body) = with_usage.as_deref().or(redacted) {
                if self.replace_body(body.len(), new_body) && with_usage.is_some() {
                    self.usage_added = true;
                    self.event
                        .rewrites
                        .push("stream_options.include_usage".into());
                }
            }
        }
        action
    }

    /// Inspection let the request through: check and reserve its limits, then forward.
    fn admit(&mut self, decision: Decision, facts: RequestFacts) -> Action {
        let plugin = self.plugin.clone();
        // Resolved (and checked for conflicts) with the request headers.
        let consumer = self.consumer.take().unwrap_or_else(Consumer::anonymous);
        self.event.consumer = Some(consumer.display().to_string());
        // The size the limiter estimates from (the prompt text; a body forwarded unread: its size).
        self.event.prompt_bytes = facts.prompt_bytes;
        if !plugin.limiter.is_active() {
            self.consumer = Some(consumer);
            return self.forward(decision);
        }
        let d = plugin.limiter.check(
            &HostStore,
            &consumer,
            self.now.take().map_or_else(now_ms, ms),
            &facts,
        );
        self.consumer = Some(consumer);
        if d.degraded {
            bump(self.telemetry.borrow().limit_store_errors, 1);
        }
        self.reservation = Some(d.reservation);
        if let Some(denial) = d.denial {
            self.event.limit = Some(denial.limit.to_string());
            let outcome = match denial.error_type {
                "budget_exceeded" => Decision::BudgetExceeded,
                "limiter_unavailable" => Decision::Error,
                _ => Decision::RateLimited,
            };
            let message = match denial.error_type {
                "budget_exceeded" => "The gateway's spending budget is exhausted.".to_string(),
                "limiter_unavailable" => "The gateway's limiter is unavailable.".to_string(),
                _ => format!("Rate limit reached ({}).", denial.limit),
            };
            let mut reply = LocalReply::error(
                u32::from(denial.status),
                denial.error_type,
                &message,
                self.event.request_id.as_deref(),
            );
            for (n, v) in d.headers {
                reply = reply.with_header(n, v);
            }
            return self.answer(reply, outcome, denial.limit);
        }
        self.limit_headers = d.headers;
        self.forward(decision)
    }

    fn forward(&mut self, decision: Decision) -> Action {
        self.event.decision = decision;
        self.phase = Phase::Forwarded;
        Action::Continue
    }

    /// Swaps the buffered request body and keeps `content-length` true. The headers are still
    /// held (paused), so the upstream sees only the new length. Whether the body was replaced.
    fn replace_body(&mut self, old_len: usize, new_body: &[u8]) -> bool {
        if host::set_buffer(host::BUFFER_REQUEST_BODY, 0, old_len, new_body).is_err() {
            // APISIX cannot replace a body (`proxy_set_buffer_bytes` is Unimplemented): the
            // original is forwarded. Say so in the audit event.
            self.event.reason = Some("redaction_unsupported".into());
            return false;
        }
        if self.has_content_length {
            let len = new_body.len().to_string();
            let _ = host::replace_header(host::MAP_REQUEST_HEADERS, "content-length", &len);
        }
        true
    }

    /// Audit fields and rule-hit metrics from an inspection verdict.
    fn record_verdict(&mut self, v: &Verdict) {
        let audit = self.plugin.config.audit.enabled;
        let e = &mut self.event;
        e.api = v.shape.as_str().to_string();
        e.model = v.meta.model.clone();
        // The hashed text, separators included (`meta.prompt_bytes` leaves them out).
        e.prompt_bytes = v.text.len() as u64;
        e.score = f64::from(v.score);
        if audit && !v.text.is_empty() {
            e.prompt_hash = Some(self.plugin.prompt_hasher.hex(v.text.as_bytes()));
        }
        if v.parse_error {
            e.reason = Some("parse_error".into());
        }
        let mut t = self.telemetry.borrow_mut();
        for h in &v.hits {
            if e.rules.iter().any(|r| r.id == h.rule_id) {
                continue;
            }
            e.rules.push(RuleRef {
                id: h.rule_id.clone(),
                category: h.category.clone(),
            });
            t.add_labelled(
                metrics::RULE_HITS_TOTAL,
                &[("rule", &h.rule_id), ("category", &h.category)],
                1,
            );
        }
        if self.plugin.config.audit.include_prompt {
            let spans: Vec<(usize, usize)> = v.hits.iter().map(|h| (h.start, h.end)).collect();
            e.prompt = Some(crate::audit::redact_spans(
                &v.text,
                &spans,
                &self.plugin.config.inspection.redaction_placeholder,
            ));
        }
    }

    /// Writes the audit event to the host log and, when enabled, to filter state.
    /// Charges the actual usage (or the estimate when none arrived) and records tokens and cost.
    fn settle(&mut self) {
        let usage = self.usage.take();
        let mut settlement = None;
        if let Some(res) = self.reservation.as_mut() {
            let now = self.now.map_or_else(now_ms, ms);
            settlement = self
                .plugin
                .limiter
                .settle(&HostStore, res, usage.as_ref(), now);
            self.plugin.limiter.release(&HostStore, res, now);
        }
        if let Some(s) = &settlement {
            if s.error.is_some() {
                bump(self.telemetry.borrow().limit_store_errors, 1);
            }
            if s.cost_micros > 0
                || self
                    .reservation
                    .as_ref()
                    .is_some_and(|r| r.reserved_cost_micros() > 0)
            {
                self.event.cost_micros = Some(s.cost_micros);
                self.event.currency = Some(self.plugin.config.limits.pricing.currency.clone());
            }
        }
        let model = usage
            .as_ref()
            .and_then(|u| u.model.clone())
            .or_else(|| self.event.model.clone());
        let mut t = self.telemetry.borrow_mut();
        let label = t.models.label(model.as_deref());
        if let Some(u) = &usage {
            self.event.tokens = Some(Tokens {
                prompt: u.input_tokens,
                completion: u.output_tokens,
                total: u.total(),
                estimated: false,
            });
            t.add_labelled(
                metrics::TOKENS_TOTAL,
                &[("model", &label), ("type", "prompt")],
                u.input_tokens as i64,
            );
            t.add_labelled(
                metrics::TOKENS_TOTAL,
                &[("model", &label), ("type", "completion")],
                u.output_tokens as i64,
            );
        } else if let Some(s) = settlement.as_ref().filter(|s| s.estimated && s.tokens > 0) {
            self.event.tokens = Some(Tokens {
                prompt: 0,
                completion: 0,
                total: s.tokens,
                estimated: true,
            });
        }
        if let Some(cost) = self.event.cost_micros.filter(|c| *c > 0) {
            t.add_labelled(
                metrics::COST_MICROS_TOTAL,
                &[("model", &label)],
                cost as i64,
            );
        }
    }

    fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        // One clock reading for the settlement and the audit event's latency.
        self.now = Some(SystemTime::now());
        self.settle();
        let t = self.telemetry.borrow();
        t.decision(self.event.decision);
        if self.counted_in_flight {
            bump(t.in_flight, -1);
            self.counted_in_flight = false;
        }
        drop(t);
        self.publish(true);
    }

    /// Stores the audit event in filter state (for access logs) and, when `to_log`, writes it to
    /// the host log.
    fn publish(&mut self, to_log: bool) {
        if !self.plugin.config.audit.enabled {
            return;
        }
        let envoy = matches!(host::capabilities().flavor, None | Some(Flavor::Envoy));
        if !self.route_read && envoy {
            // An answered request publishes twice (at the answer, then at the end): read the
            // properties once, also when the host had no value (a route without a name).
            self.route_read = true;
            self.event.route = Self::property(&["xds", "route_name"]);
            self.event.cluster = Self::property(&["xds", "cluster_name"]);
        }
        let end = self.now.take().unwrap_or_else(SystemTime::now);
        self.event.latency_ms = end
            .duration_since(self.started)
            .unwrap_or_default()
            .as_millis() as u64;
        let json = self.event.to_json();
        // Filter state is an Envoy notion; the nginx hosts would log an error per request.
        if self.plugin.config.audit.filter_state && envoy {
            let _ = host::set_property(&["promptgate_audit"], json.as_bytes());
        }
        if to_log {
            log::info!("{json}");
        }
    }
}

impl Context for Request {
    fn on_done(&mut self) -> bool {
        // APISIX never calls proxy_on_log, only proxy_on_done (request pool cleanup): settle
        // and write the audit event there. Other hosts call on_log first.
        if host::capabilities().flavor == Some(Flavor::Apisix) {
            if self.phase == Phase::Buffering {
                self.event.decision = Decision::Error;
                self.event.reason = Some("incomplete_request".into());
            }
            self.finish();
        }
        true
    }
}

impl HttpContext for Request {
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        let flavor = host::flavor(num_headers, end_of_stream);
        // APISIX always says (0 headers, end of stream); the body comes later, on request.
        let end_of_stream = end_of_stream && flavor != Flavor::Apisix;
        // The whole map in one host call: every value of every header (a repeated identity
        // header must be seen as repeated), and the single headers below without a call each.
        let map = header_map(host::MAP_REQUEST_HEADERS);
        let pairs = map.as_deref().and_then(guard::parse_header_pairs);
        let header = |name: &str| header_in(pairs.as_deref(), host::MAP_REQUEST_HEADERS, name);
        self.event.request_id =
            header("x-request-id").map(|v| String::from_utf8_lossy(&v).into_owned());
        bump(self.telemetry.borrow().in_flight, 1);
        self.counted_in_flight = true;
        let values = |name: &str| match &pairs {
            Some(p) => guard::header_values(p, name),
            None => self.request_header(name).into_iter().collect(),
        };
        let resolved = self.plugin.identity.resolve_all(|l| match l {
            Lookup::Header(h) => values(h),
            Lookup::Property(p) => {
                host::get_property(&p.iter().map(String::as_str).collect::<Vec<_>>())
                    .into_iter()
                    .collect()
            }
        });
        let encoding = guard::compressed_encoding(&values("content-encoding"));
        let consumer = match resolved {
            Ok(consumer) => consumer,
            Err(_) => {
                let reply = LocalReply::conflicting_identity(self.event.request_id.as_deref());
                return self.answer_after_body(
                    reply,
                    Decision::Blocked,
                    "conflicting_identity",
                    end_of_stream,
                );
            }
        };
        // Authentication (401) and path authorisation (403), then the upstream key. A refused
        // request's audit event still shows who it claimed to be (a salted hash, never the key).
        self.event.consumer = Some(consumer.display().to_string());
        let plugin = self.plugin.clone();
        let grant = match plugin.access.authenticate(consumer, &plugin.identity) {
            Ok(grant) => grant,
            Err(r) => return self.refuse(&r, end_of_stream),
        };
        self.event.consumer = Some(grant.consumer.display().to_string());
        self.consumer = Some(grant.consumer.clone());
        if plugin.access.needs_path(&grant) {
            let path = header(":path").unwrap_or_default();
            if let Err(r) = plugin.access.check_path(&grant, &path) {
                self.grant = Some(grant);
                return self.refuse(&r, end_of_stream);
            }
        }
        self.grant = Some(grant);
        self.vault_headers();
        // The map was read before `vault_headers`: a header it removed is gone now. (It never
        // sets the three read below: they are refused as `upstream_key.header`.)
        let vault_removed = |name: &str| {
            plugin
                .vault
                .as_ref()
                .is_some_and(|v| v.remove.iter().any(|h| h == name))
        };
        let current = |name: &str| header(name).filter(|_| !vault_removed(name));
        // For `decide` and `replace_body`: nothing but the vault changes the request headers
        // between here and the body (held at the headers on Envoy; on Kong and APISIX nothing
        // runs in between that edits headers).
        self.content_type =
            current("content-type").map(|v| String::from_utf8_lossy(&v).into_owned());
        let content_length = current("content-length");
        self.has_content_length = content_length.is_some();
        if end_of_stream {
            return self.decide(&[]);
        }
        let declared =
            content_length.and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u64>().ok());
        if encoding.is_some() {
            // Compressed bytes cannot be scanned: never pass them on as if they had been.
            self.event.body_bytes = declared.unwrap_or(0);
            let on_compressed = if self.body_must_be_checked() {
                CompressedAction::Reject
            } else {
                self.plugin.config.on_compressed
            };
            return match on_compressed {
                CompressedAction::Reject => {
                    let reply = LocalReply::unsupported_encoding(self.event.request_id.as_deref());
                    self.answer_after_body(reply, Decision::Blocked, "compressed_body", false)
                }
                CompressedAction::AllowUnscanned => {
                    self.event.reason = Some("compressed_unscanned".into());
                    let facts = RequestFacts {
                        prompt_bytes: declared.unwrap_or(0),
                        ..RequestFacts::default()
                    };
                    self.admit(Decision::Allowed, facts)
                }
            };
        }
        if declared.is_some_and(|n| n > self.plugin.config.max_body_bytes as u64) {
            self.event.body_bytes = declared.unwrap_or(0);
            return self.oversize();
        }
        match flavor {
            Flavor::Envoy => {}
            Flavor::Kong => {
                // `eof` is always false here; nginx calls the body step only when there is a
                // body, after reading all of it and before contacting the upstream.
                let chunked = current("transfer-encoding").is_some();
                if !chunked && declared.unwrap_or(0) == 0 {
                    return self.decide(&[]);
                }
                return Action::Continue;
            }
            Flavor::Apisix => {
                // The body reaches the filter only if it asks for it; `Pause` (1) would read
                // as "HTTP call pending" there, so answer Continue.
                if host::set_property(&["wasm_process_req_body"], b"1").is_err() {
                    self.event.reason = Some("body_unreadable".into());
                    return self.oversize();
                }
                return Action::Continue;
            }
        }
        // Hold the headers until the body is scanned, so nothing reaches the upstream before the
        // decision. Envoy >= 1.35 honours this only with `allow_on_headers_stop_iteration: true`.
        Action::Pause
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if let Some(action) = self.deferred_reply(body_size, end_of_stream) {
            return action;
        }
        match self.phase {
            Phase::Answered => return Action::Pause,
            Phase::Forwarded => return Action::Continue,
            Phase::Buffering => {}
        }
        // `body_size` is the size buffered so far; nothing is copied until the end.
        if body_size > self.plugin.config.max_body_bytes {
            self.event.body_bytes = body_size as u64;
            return self.oversize();
        }
        if !end_of_stream {
            return Action::Pause;
        }
        // No read for an empty body: APISIX answers BadArgument to a zero-size read.
        let read = match body_size {
            0 => Ok(None),
            n => host::get_buffer(host::BUFFER_REQUEST_BODY, 0, n),
        };
        let body = match read {
            Ok(Some(body)) => body,
            Ok(None) if body_size == 0 => Vec::new(),
            // The host announced a body it cannot hand over (Kong: spilled to a temp file above
            // `client_body_buffer_size`). Never pass unread bytes on as scanned.
            _ => {
                self.event.body_bytes = body_size as u64;
                self.event.reason = Some("body_unreadable".into());
                return self.oversize();
            }
        };
        self.decide(&body)
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // A body that ends with trailers never had end_of_stream on a body callback.
        if let Some(action) = self.deferred_reply(0, true) {
            return action;
        }
        if self.phase == Phase::Buffering {
            let body = host::get_buffer(host::BUFFER_REQUEST_BODY, 0, usize::MAX)
                .ok()
                .flatten()
                .unwrap_or_default();
            return self.decide(&body);
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if self.phase == Phase::Forwarded {
            // Both headers from one read of the map.
            let map = header_map(host::MAP_RESPONSE_HEADERS);
            let pairs = map.as_deref().and_then(guard::parse_header_pairs);
            let header = |name: &str| header_in(pairs.as_deref(), host::MAP_RESPONSE_HEADERS, name);
            let status = header(":status").and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok());
            self.event.upstream_status = status;
            let content_type = header("content-type").unwrap_or_default();
            self.event.streamed = content_type.starts_with(b"text/event-stream");
            let success = status.is_some_and(|s: u32| (200..300).contains(&s));
            self.response = if !success {
                ResponseReader::None
            } else if self.event.streamed {
                ResponseReader::Sse(Box::default())
            } else if content_type.starts_with(b"application/json") {
                ResponseReader::Json(Vec::new())
            } else {
                ResponseReader::None
            };
            if self.usage_added && matches!(self.response, ResponseReader::Sse(_)) {
                self.stripper = Some(UsageChunkStripper::default());
                // Chunks change size: a declared length would no longer hold.
                if header("content-length").is_some() {
                    let _ = host::remove_header(host::MAP_RESPONSE_HEADERS, "content-length");
                }
            }
            for (name, value) in std::mem::take(&mut self.limit_headers) {
                let _ = host::add_header(host::MAP_RESPONSE_HEADERS, name, &value);
            }
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        // Without Pause each callback's buffer holds only the new chunk: read it once, never
        // re-read what came before.
        match &mut self.response {
            ResponseReader::None => {}
            ResponseReader::Sse(reader) => {
                let chunk = match body_size {
                    0 => Some(Vec::new()),
                    n => host::get_buffer(host::BUFFER_RESPONSE_BODY, 0, n)
                        .ok()
                        .flatten(),
                };
                if let Some(chunk) = chunk {
                    reader.feed(&chunk);
                    let out = self
                        .stripper
                        .as_mut()
                        .and_then(|s| s.filter(&chunk, end_of_stream));
                    if let Some(out) = out {
                        let _ = host::set_buffer(host::BUFFER_RESPONSE_BODY, 0, body_size, &out);
                    }
                }
                if end_of_stream {
                    self.usage = reader.finish();
                }
            }
            ResponseReader::Json(buf) => {
                if body_size > 0 && buf.len() + body_size <= MAX_USAGE_BODY {
                    if let Ok(Some(chunk)) =
                        host::get_buffer(host::BUFFER_RESPONSE_BODY, 0, body_size)
                    {
                        buf.extend_from_slice(&chunk);
                    }
                } else if body_size > 0 {
                    // Too big to read for usage: settle as estimated.
                    self.response = ResponseReader::None;
                    return Action::Continue;
                }
                if end_of_stream {
                    self.usage = usage::parse_json_usage(buf);
                }
            }
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        // A request that never completed (client gone mid-upload, upstream reset, timeout) still
        // gets exactly one audit event, saying why.
        let stage = match self.phase {
            Phase::Buffering => Some(Stage::Undecided),
            Phase::Forwarded if self.event.reason.is_none() => Some(Stage::Forwarded),
            _ => None,
        };
        if let Some(stage) = stage {
            // Kong's ngx_wasm_module answers `response.code_details` NotFound, and logs an error
            // for each read ("property not supported"): there the details are always empty, so
            // not asking changes nothing but the host's error log.
            //
            // On Envoy the call stays even when the filter saw the response end: that does not
            // make `fault_reason` None. The router's own replies (504 on a timeout, 503 on a
            // reset) pass through the filter to their end too, and only the details tell
            // `upstream_timeout` and `upstream_reset` from `upstream_error`. And a stream whose
            // response the filter has passed whole can still be reset before the codec has sent
            // it (an HTTP/2 client with a closed flow-control window, or a later filter still
            // holding the data, then a disconnect): Envoy then sets the details to the
            // disconnect, and the request is `client_aborted` whatever its status.
            let kong = host::capabilities().flavor == Some(Flavor::Kong);
            let details = if kong {
                String::new()
            } else {
                Self::property(&["response", "code_details"]).unwrap_or_default()
            };
            let reason = guard::fault_reason(stage, &details, self.event.upstream_status);
            if stage == Stage::Undecided {
                self.event.decision = Decision::Error;
            }
            self.event.reason = reason.map(str::to_string);
        }
        self.finish();
    }
}

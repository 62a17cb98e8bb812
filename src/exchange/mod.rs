//! One request's life, host-free: request headers -> body -> decision -> response headers and
//! body -> log. The glue (`filter.rs`) creates one [`Exchange`] per HTTP context and forwards
//! each proxy-wasm callback to it; everything the exchange asks of the proxy goes through
//! [`Host`], so the whole lifecycle runs natively against a fake host (`tests.rs`, with Envoy,
//! Kong and APISIX profiles).
//!
//! Filter state and what the request decided live in the exchange's own fields; the audit event
//! is only written to, never read back to decide.

mod classify;
mod faults;
mod guarding;
mod host;
mod remote;

#[cfg(test)]
mod tests;

pub use host::{Buffer, Host, Level, Map, Stream, StreamFacts, FACTS_EXPRESSION};

use crate::access::Grant;
use crate::audit::{AuditEvent, Decision, RuleRef, Tokens};
use crate::config::{CompressedAction, DuplicateKeys, OversizeAction, UnknownContentType};
use crate::extract::{self, ApiShape, RoleFilter};
use crate::flavor::BodyArrival;
use crate::header_map;
use crate::identity::{Consumer, Lookup};
use crate::inspect::{self, Verdict};
use crate::limits::{RequestFacts, Reservation};
use crate::metrics::{self, Detail, Kind, ModelLabels, Registry};
use crate::outcome::{Reason, Refusal};
use crate::plugin::Plugin;
use crate::usage::{self, SseUsageReader, Usage, UsageChunkStripper};
use faults::Stage;
use remote::is_store_denial;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::SystemTime;

/// What the glue answers the host for a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Continue,
    Pause,
}

/// Host metrics of one VM. Fixed series are defined once at configure time and kept by id;
/// labelled series (rule, model) are defined on first use and cached by name.
pub struct Telemetry {
    registry: Registry<u32>,
    decisions: [Option<u32>; Decision::ALL.len()],
    in_flight: Option<u32>,
    body_bytes: Option<u32>,
    scan_us: Option<u32>,
    config_failures: Option<u32>,
    limit_store_errors: Option<u32>,
    /// `limits.store: rls`: failed calls to the rate-limit service.
    limit_store_errors_rls: Option<u32>,
    models: ModelLabels,
    /// `promptgate_response_decisions_total` by decision (guarding::DECISIONS), once defined.
    response_decisions: [Option<u32>; 6],
    /// `promptgate_tokens_total` ids (prompt, completion) by model label, once both are
    /// defined: the registry's answer kept, so its name is not built per request (issue 16).
    token_series: Vec<(String, [u32; 2])>,
}

fn bump<H: Host + ?Sized>(host: &H, id: Option<u32>, delta: i64) {
    // Adding 0 changes nothing: no host call.
    if let (Some(id), false) = (id, delta == 0) {
        host.increment_metric(id, delta);
    }
}

fn observe<H: Host + ?Sized>(host: &H, id: Option<u32>, value: u64) {
    if let Some(id) = id {
        host.record_metric(id, value);
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new()
    }
}

impl Telemetry {
    pub fn new() -> Self {
        Telemetry {
            registry: Registry::new(512),
            decisions: [None; Decision::ALL.len()],
            in_flight: None,
            body_bytes: None,
            scan_us: None,
            config_failures: None,
            limit_store_errors: None,
            limit_store_errors_rls: None,
            models: ModelLabels::new(32),
            response_decisions: [None; 6],
            token_series: Vec::new(),
        }
    }

    /// Defines the fixed series, so they show (as 0) before the first request.
    pub fn define_fixed<H: Host + ?Sized>(&mut self, host: &H) {
        for (slot, d) in self.decisions.iter_mut().zip(Decision::ALL) {
            *slot = host.define_metric(
                Kind::Counter,
                &metrics::name(metrics::REQUESTS_TOTAL, &[("decision", d.as_str())]),
            );
        }
        self.body_bytes = host.define_metric(Kind::Histogram, metrics::BODY_BYTES);
        self.config_failures = host.define_metric(Kind::Counter, metrics::CONFIG_FAILURES_TOTAL);
        let store_errors = |store: &str| {
            let name = metrics::name(metrics::LIMIT_STORE_ERRORS_TOTAL, &[("store", store)]);
            host.define_metric(Kind::Counter, &name)
        };
        self.limit_store_errors = store_errors("local");
        self.limit_store_errors_rls = store_errors("rls");
    }

    /// The series of `metrics.detail: full` (the in-flight gauge, the scan-time histogram),
    /// defined when a configuration asks for them (and kept by a later one that does not: a
    /// series cannot be removed, it stops moving).
    pub fn configure<H: Host + ?Sized>(&mut self, host: &H, detail: Detail) {
        if detail == Detail::Full {
            if self.in_flight.is_none() {
                self.in_flight = host.define_metric(Kind::Gauge, metrics::IN_FLIGHT);
            }
            if self.scan_us.is_none() {
                self.scan_us = host.define_metric(Kind::Histogram, metrics::SCAN_DURATION_US);
            }
        }
    }

    /// A configuration was refused.
    pub fn config_failed<H: Host + ?Sized>(&self, host: &H) {
        bump(host, self.config_failures, 1);
    }

    fn decision<H: Host + ?Sized>(&self, host: &H, d: Decision) {
        bump(host, self.decisions[d as usize], 1);
    }

    /// A labelled counter, defined on first use.
    fn add_labelled<H: Host + ?Sized>(
        &mut self,
        host: &H,
        base: &str,
        labels: &[(&str, &str)],
        delta: i64,
    ) {
        let id = self.labelled_id(host, base, labels);
        bump(host, id, delta);
    }

    fn labelled_id<H: Host + ?Sized>(
        &mut self,
        host: &H,
        base: &str,
        labels: &[(&str, &str)],
    ) -> Option<u32> {
        let name = metrics::name(base, labels);
        self.registry
            .id(&name, Kind::Counter, |k, n| host.define_metric(k, n))
    }

    /// `promptgate_tokens_total{model=label, type=prompt|completion}` by `prompt` and
    /// `completion`: as two [`add_labelled`](Self::add_labelled) calls (the prompt series
    /// defined first), with the ids of a label kept once the registry has given both (it never
    /// takes an id back, so the kept ids are what it would answer).
    fn add_tokens<H: Host + ?Sized>(
        &mut self,
        host: &H,
        label: &str,
        prompt: i64,
        completion: i64,
    ) {
        let known = self
            .token_series
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, ids)| *ids);
        let ids = match known {
            Some(ids) => ids.map(Some),
            None => {
                let base = metrics::TOKENS_TOTAL;
                let p = self.labelled_id(host, base, &[("model", label), ("type", "prompt")]);
                let c = self.labelled_id(host, base, &[("model", label), ("type", "completion")]);
                if let (Some(p), Some(c)) = (p, c) {
                    self.token_series.push((label.to_string(), [p, c]));
                }
                [p, c]
            }
        };
        bump(host, ids[0], prompt);
        bump(host, ids[1], completion);
    }
}

/// Milliseconds since the Unix epoch (the limiter's clock) of a reading.
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

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Headers seen; body (if any) being buffered.
    Buffering,
    /// The filter has decided; remaining callbacks pass through.
    Forwarded,
    /// The filter answered locally; the upstream never sees the request.
    Answered,
    /// Admitted by everything but the rate-limit service: held until its answer
    /// (`limits.store: rls`).
    Waiting,
}

/// One request.
pub struct Exchange<H: Host> {
    host: H,
    plugin: Rc<Plugin>,
    telemetry: Rc<RefCell<Telemetry>>,
    phase: Phase,
    /// When the request began: a clock reading at creation, or on Envoy the stream's own start
    /// time, learnt with the route at the end (`start_known` says which; see [`StreamFacts`]).
    started: SystemTime,
    start_known: bool,
    /// The response went through whole (its end of stream was seen): the host's response code
    /// details cannot tell of a fault then, unless the status is 5xx (see `on_log`).
    response_complete: bool,
    /// Written as the request goes; published, never read back to decide.
    event: AuditEvent,
    /// A note on the forwarded request (`compressed_unscanned`, `invalid_utf8`, ...), if any.
    noted: Option<Reason>,
    counted_in_flight: bool,
    /// Who the request is for the access policy (set with the request headers).
    grant: Option<Grant>,
    reservation: Option<Reservation>,
    /// Rate-limit headers for the client on a forwarded request.
    limit_headers: Vec<(&'static str, String)>,
    response: ResponseReader,
    /// The exchange added `stream_options.include_usage` to the forwarded request.
    usage_added: bool,
    /// Takes the usage chunk the client did not ask for out of a streamed answer.
    stripper: Option<UsageChunkStripper>,
    usage: Option<Usage>,
    /// A refusal decided at the headers but sent once the request body has arrived (see
    /// [`Flavor::can_hold_headers`](crate::flavor::Flavor::can_hold_headers)).
    deferred: Option<Refusal>,
    /// The audit event was written and the reservation settled (exactly once).
    finished: bool,
    /// The request's `content-type` (lossy UTF-8), read with the request headers.
    content_type: Option<String>,
    /// The request had a `content-length` header (read with the request headers).
    has_content_length: bool,
    /// The request's `:path` (lossy UTF-8), read with the request headers: it names the API
    /// shape before the body's keys do.
    path: Option<String>,
    /// The route and cluster properties were read for the audit event (once per request, even
    /// when the host has none).
    route_read: bool,
    /// A clock reading taken moments ago in this callback (the end of the scan; the start of the
    /// log phase), used instead of another (each is a host call).
    now: Option<SystemTime>,
    /// The output guard's part of this request (`response_guard`), once it is forwarded.
    guard: Option<Box<guarding::GuardState>>,
    stream_times: guarding::StreamTimes,
    /// A call to the rate-limit service in flight (`limits.store: rls`).
    pending: Option<remote::Pending>,
    /// A call to the external classifier in flight (`inspection.classifier`).
    classifying: Option<Box<classify::Waiting>>,
}

/// What `name` is in a header map read whole (`pairs`) when that settles it (see
/// [`header_map::header_value`]), else asked of the host.
fn header_in<H: Host>(
    host: &H,
    pairs: Option<&[(&[u8], &[u8])]>,
    map: Map,
    name: &str,
) -> Option<Vec<u8>> {
    match pairs.map(|p| header_map::header_value(p, name)) {
        Some(header_map::HeaderValue::Found(v)) => Some(v.to_vec()),
        Some(header_map::HeaderValue::Absent) => None,
        Some(header_map::HeaderValue::Unknown) | None => host.header(map, name),
    }
}

impl<H: Host> Exchange<H> {
    pub fn new(host: H, plugin: Rc<Plugin>, telemetry: Rc<RefCell<Telemetry>>) -> Self {
        // Envoy tells the start itself, at the end, in the call that reads the route (one host
        // call for both instead of two clock readings): no reading here there.
        let start_known = !host.stream_facts_ready();
        let started = match start_known {
            true => host.now(),
            false => std::time::UNIX_EPOCH,
        };
        Exchange {
            host,
            plugin,
            telemetry,
            phase: Phase::Buffering,
            started,
            start_known,
            response_complete: false,
            event: AuditEvent::new(started),
            noted: None,
            counted_in_flight: false,
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
            path: None,
            route_read: false,
            now: None,
            guard: None,
            stream_times: guarding::StreamTimes::default(),
            pending: None,
            classifying: None,
        }
    }

    fn property(&self, path: &[&str]) -> Option<String> {
        self.host
            .property(path)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    /// Records a note on the forwarded request (see `outcome::Reason`).
    fn note(&mut self, reason: Reason) {
        self.noted = Some(reason);
        self.event.reason = Some(reason.as_str().to_string());
    }

    fn answer(&mut self, refusal: Refusal) -> Step {
        self.event.decision = refusal.decision();
        self.event.reason = Some(refusal.audit_reason().into_owned());
        if let Some(limit) = refusal.limit {
            self.event.limit = Some(limit.to_string());
        }
        if let Some(model) = &refusal.model {
            self.event.model = Some(model.clone());
        }
        if let Some(api) = refusal.api {
            self.event.api = api.to_string();
        }
        let reply = refusal.reply(self.event.request_id.as_deref());
        let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
        if let Some(id) = self.event.request_id.as_deref() {
            headers.push(("x-request-id", id));
        }
        headers.extend(reply.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        if let Err(status) = self
            .host
            .send_local_response(reply.status, &headers, &reply.body)
        {
            let message = format!("local reply failed: {status:?}");
            self.host.log(Level::Warn, &message);
        }
        self.phase = Phase::Answered;
        // Envoy may write the access log for a local reply before on_log runs: publish now.
        self.publish(false);
        Step::Pause
    }

    /// Answers now when the request is complete, else once its body has arrived (see `deferred`).
    fn answer_after_body(&mut self, refusal: Refusal, end_of_stream: bool) -> Step {
        if end_of_stream || !self.host.flavor().can_hold_headers() {
            return self.answer(refusal);
        }
        self.deferred = Some(refusal);
        Step::Pause
    }

    /// Sends the deferred reply when the body is complete, or early when it outgrows
    /// `max_body_bytes` (no point buffering more of a request that is already refused).
    fn deferred_reply(&mut self, body_size: usize, end_of_stream: bool) -> Option<Step> {
        self.deferred.as_ref()?;
        if !end_of_stream && body_size <= self.plugin.config.max_body_bytes {
            return Some(Step::Pause);
        }
        let refusal = self.deferred.take()?;
        Some(self.answer(refusal))
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
            let _ = self.host.remove_header(Map::RequestHeaders, h);
        }
        let _ = self
            .host
            .replace_header(Map::RequestHeaders, &vault.header, vault.value());
        self.event.rewrites.push("upstream_key".into());
    }

    /// Body above `max_body_bytes` (or, `unreadable`, one the host would not hand over): reject
    /// with 413, or let it through unscanned.
    fn oversize(&mut self, unreadable: bool) -> Step {
        let on_oversize = if self.body_must_be_checked() {
            OversizeAction::Reject
        } else {
            self.plugin.config.on_oversize
        };
        match on_oversize {
            OversizeAction::Reject => {
                let limit = self.plugin.config.max_body_bytes;
                self.answer(Refusal::body_too_large(limit, unreadable))
            }
            OversizeAction::Allow => {
                self.event.decision = Decision::Oversize;
                self.note(Reason::ForwardedUnscanned);
                self.phase = Phase::Forwarded;
                Step::Continue
            }
        }
    }

    /// The whole body is buffered: inspect it and decide.
    fn decide(&mut self, body: &[u8]) -> Step {
        self.event.body_bytes = body.len() as u64;
        let plugin = self.plugin.clone();
        // `decide` runs once per request (the phase moves on): take the values, no copy.
        let content_type = self.content_type.take();
        let path = self.path.take();
        if body.is_empty() {
            if let Some(grant) = &self.grant {
                if let Err(r) = plugin.access.check_body(grant, body, None) {
                    return self.answer(*r);
                }
            }
            // No prompt, no completion (`GET /v1/models`): only the request itself is counted.
            let facts = RequestFacts {
                no_completion: true,
                ..RequestFacts::default()
            };
            return self.admit(Decision::Allowed, facts);
        }
        // Parsed once: the access policy, the contract, inspection and the limits estimate all
        // read this one value (issue 16).
        let opts = extract::Options {
            roles: plugin.inspector.roles(),
            path: path.as_deref(),
            allow_duplicate_keys: plugin.config.duplicate_keys == DuplicateKeys::Allow,
        };
        let ct = content_type.as_deref();
        // The scan time covers the parse (as it did when inspection parsed on its own). Two
        // clock readings: only with `metrics.detail: full`.
        let timed = self.telemetry.borrow().scan_us.is_some();
        let scan_start = timed.then(|| self.host.now());
        let mut ex = extract::extract_with(body, ct, &opts);
        // Of the body as received (a rewritten body below is serialised anew, valid UTF-8).
        let invalid_utf8 = ex.invalid_utf8;
        // Access policy first: API, model, contract. Clamps and defaults rewrite the body here,
        // before inspection and before the limiter reads `max_tokens`.
        let mut rewritten = None;
        if let Some(grant) = &self.grant {
            let checked = if *opts.roles == RoleFilter::All {
                plugin.access.check_parsed(grant, &mut ex)
            } else {
                // Inspection reads fewer roles than the contract counts: the policy gets its
                // own reading, and a rewritten body is read again for inspection.
                let all = extract::Options {
                    roles: &RoleFilter::All,
                    ..opts
                };
                let mut every = extract::extract_with(body, ct, &all);
                let out = plugin.access.check_parsed(grant, &mut every);
                if let Some(new_body) = out.as_ref().ok().and_then(|o| o.body.as_deref()) {
                    ex = extract::extract_with(new_body, ct, &opts);
                }
                out
            };
            match checked {
                Ok(out) => {
                    if let Some(new_body) = out.body {
                        self.replace_body(body.len(), &new_body);
                        rewritten = Some(new_body);
                    }
                    self.event.rewrites.extend(out.rewrites);
                }
                Err(r) => return self.answer(*r),
            }
        }
        let body = rewritten.as_deref().unwrap_or(body);
        observe(
            &self.host,
            self.telemetry.borrow().body_bytes,
            body.len() as u64,
        );
        self.event.not_inspected = std::mem::take(&mut ex.not_inspected)
            .iter()
            .map(|m| crate::audit::media_type_label(m))
            .collect();
        if ex.unknown_content {
            match plugin.config.unknown_content_type {
                UnknownContentType::InspectAsText => {}
                UnknownContentType::Reject => {
                    return self.answer(Refusal::new(Reason::UnsupportedContentType))
                }
                UnknownContentType::Allow => {
                    self.event.api = ex.shape.as_str().to_string();
                    self.note(Reason::UnknownContentUnscanned);
                    let facts = RequestFacts {
                        prompt_bytes: body.len() as u64,
                        ..RequestFacts::default()
                    };
                    return self.admit(Decision::Allowed, facts);
                }
            }
        }
        let strictness = self
            .grant
            .as_ref()
            .and_then(|g| plugin.access.strictness(g));
        let strictness = strictness.unwrap_or_else(|| plugin.inspector.strictness());
        let verdict = plugin.inspector.inspect_extracted(ex, strictness);
        if let Some(scan_start) = scan_start {
            let scan_end = self.host.now();
            self.now = Some(scan_end);
            let scan_us = scan_end
                .duration_since(scan_start)
                .unwrap_or_default()
                .as_micros() as u64;
            observe(&self.host, self.telemetry.borrow().scan_us, scan_us);
        }
        self.record_verdict(&verdict);
        if self.noted.is_none() && invalid_utf8 && rewritten.is_none() {
            // Scanned after lossy decoding; forwarded byte for byte. Say so.
            self.note(Reason::InvalidUtf8);
        }
        // A borderline score asks the external classifier first (`inspection.classifier`).
        self.classify(verdict, body, ct, path.as_deref())
    }

    /// Acts on the rules' verdict (and the classifier's, folded into it): refuse, or admit and
    /// rewrite the forwarded body.
    fn conclude(&mut self, verdict: &Verdict, body: &[u8]) -> Step {
        let plugin = self.plugin.clone();
        let facts = RequestFacts {
            model: verdict.meta.model.as_deref(),
            // The text the audit event's `prompt_bytes` and hash describe.
            prompt_bytes: verdict.text.len() as u64,
            max_tokens: verdict.meta.max_tokens,
            no_completion: verdict.shape == ApiShape::Embeddings,
        };
        let step = match verdict.decision {
            inspect::Decision::Allow => self.admit(Decision::Allowed, facts),
            inspect::Decision::Monitor => self.admit(Decision::Monitored, facts),
            inspect::Decision::Redact => self.admit(Decision::Redacted, facts),
            inspect::Decision::Block if verdict.parse_error_block => {
                return match &verdict.body_problem {
                    Some(p) => self.answer(Refusal::body_problem(p)),
                    None => self.answer(Refusal::new(Reason::ParseError)),
                };
            }
            inspect::Decision::Block => return self.answer(Refusal::new(Reason::ContentPolicy)),
        };
        if matches!(self.phase, Phase::Forwarded | Phase::Waiting) {
            let redacted = match verdict.decision {
                inspect::Decision::Redact => verdict.redacted_body.as_deref(),
                _ => None,
            };
            // A streamed OpenAI request without `include_usage` ends without usage: ask for it
            // (only where the exchange can take the extra chunk out of the answer).
            let stream_usage = plugin.config.include_stream_usage
                && verdict.meta.stream
                && matches!(verdict.shape, ApiShape::Chat | ApiShape::Completions)
                && self.host.flavor().can_edit_response_body();
            // The system texts as inspection extracted them, unless redaction changed the body.
            let system: Option<Vec<&str>> = match (&verdict.system_spans, redacted) {
                (Some(spans), None) => spans.iter().map(|r| verdict.text.get(r.clone())).collect(),
                _ => None,
            };
            let masked = self.guard_request(
                redacted.unwrap_or(body),
                &verdict.protected_terms,
                system.as_deref(),
            );
            let redacted = masked.as_deref().or(redacted);
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
        step
    }

    /// Inspection let the request through: check and reserve its limits, then forward.
    fn admit(&mut self, decision: Decision, facts: RequestFacts) -> Step {
        let plugin = self.plugin.clone();
        // Resolved (and checked for conflicts) and authenticated with the request headers.
        let anonymous;
        let consumer = match &self.grant {
            Some(g) => &g.consumer,
            None => {
                anonymous = Consumer::anonymous();
                &anonymous
            }
        };
        self.event.consumer = Some(consumer.display().to_string());
        // The size the limiter estimates from (the prompt text; a body forwarded unread: its size).
        self.event.prompt_bytes = facts.prompt_bytes;
        if !plugin.limiter.is_active() {
            return self.forward(decision);
        }
        let now = self.now.take().map_or_else(|| self.host.now_ms(), ms);
        if plugin.limiter.remote().is_some() {
            let check = plugin
                .limiter
                .check_remote(&self.host, consumer, now, &facts);
            return self.admit_remote(decision, check);
        }
        let d = plugin.limiter.check(&self.host, consumer, now, &facts);
        self.admitted(decision, d)
    }

    /// Applies the limiter's admission: refuse, or forward with its rate-limit headers.
    fn admitted(&mut self, decision: Decision, d: crate::limits::Admission) -> Step {
        if d.degraded {
            let t = self.telemetry.borrow();
            let id = match d.store_fault.is_some() || is_store_denial(&d) {
                true => t.limit_store_errors_rls,
                false => t.limit_store_errors,
            };
            bump(&self.host, id, 1);
        }
        if let Some(fault) = d.store_fault {
            self.note(Reason::limit_store(fault));
        }
        self.reservation = Some(d.reservation);
        if let Some(denial) = &d.denial {
            return self.answer(Refusal::limited(denial, d.headers));
        }
        self.limit_headers = d.headers;
        self.forward(decision)
    }

    fn forward(&mut self, decision: Decision) -> Step {
        self.event.decision = decision;
        self.phase = Phase::Forwarded;
        Step::Continue
    }

    /// Swaps the buffered request body and keeps `content-length` true. The headers are still
    /// held (paused), so the upstream sees only the new length. Whether the body was replaced.
    fn replace_body(&mut self, old_len: usize, new_body: &[u8]) -> bool {
        if self
            .host
            .set_buffer(Buffer::RequestBody, 0, old_len, new_body)
            .is_err()
        {
            // APISIX cannot replace a body (`proxy_set_buffer_bytes` is Unimplemented): the
            // original is forwarded. Say so in the audit event.
            self.note(Reason::RedactionUnsupported);
            return false;
        }
        if self.has_content_length {
            let len = new_body.len().to_string();
            let _ = self
                .host
                .replace_header(Map::RequestHeaders, "content-length", &len);
        }
        true
    }

    /// Audit fields and rule-hit metrics from an inspection verdict.
    fn record_verdict(&mut self, v: &Verdict) {
        let audit = self.plugin.config.audit.enabled;
        if v.parse_error {
            self.note(Reason::ParseError);
        }
        let e = &mut self.event;
        e.api = v.shape.as_str().to_string();
        e.model = v.meta.model.clone();
        // The hashed text, separators included (`meta.prompt_bytes` leaves them out).
        e.prompt_bytes = v.text.len() as u64;
        e.score = f64::from(v.score);
        e.cached_messages = v.cached_messages;
        e.scorer = v.model.as_ref().map(crate::audit::ScorerAudit::new);
        if audit && !v.text.is_empty() {
            e.prompt_hash = Some(self.plugin.prompt_hasher.hex(v.text.as_bytes()));
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
                &self.host,
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

    /// Charges the actual usage (or the estimate when none arrived) and records tokens and cost.
    fn settle(&mut self) {
        let usage = self.usage.take();
        let mut settlement = None;
        if let Some(res) = self.reservation.as_mut() {
            let now = self.now.map_or_else(|| self.host.now_ms(), ms);
            settlement =
                self.plugin
                    .limiter
                    .settle_and_release(&self.host, res, usage.as_ref(), now);
        }
        if let Some(s) = &settlement {
            if s.error.is_some() {
                bump(&self.host, self.telemetry.borrow().limit_store_errors, 1);
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
            t.add_tokens(
                &self.host,
                &label,
                u.input_tokens as i64,
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
                &self.host,
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
        self.abandon_call();
        // One reading of the end for the settlement and the audit event's latency: on Envoy the
        // stream's start and duration (with the route and cluster, one host call), else the clock.
        self.now = None;
        self.read_facts();
        if self.now.is_none() {
            self.now = Some(self.host.now());
        }
        if !self.start_known {
            // The host could not say when the request began: no latency rather than a wrong one.
            self.started = self.now.unwrap_or(self.started);
            self.start_known = true;
        }
        self.settle();
        let output_tokens = self
            .event
            .tokens
            .as_ref()
            .filter(|t| !t.estimated)
            .map(|t| t.completion);
        self.guard_finish(output_tokens);
        let t = self.telemetry.borrow();
        t.decision(&self.host, self.event.decision);
        if self.counted_in_flight {
            bump(&self.host, t.in_flight, -1);
            self.counted_in_flight = false;
        }
        drop(t);
        self.publish(true);
    }

    /// The route and cluster names for the audit event, and on Envoy the stream's start and
    /// (at the end) duration: once per request, also when the host had no value (a route
    /// without a name). Only hosts with `xds` properties (Envoy) are asked.
    fn read_facts(&mut self) {
        if self.route_read || !self.host.flavor().has_filter_state() {
            return;
        }
        self.route_read = true;
        if let Some(f) = self.host.stream_facts() {
            self.event.route = f.route;
            self.event.cluster = f.cluster;
            if let Some(start) = f.start {
                self.started = start;
                self.start_known = true;
                if let Some(d) = f.duration {
                    self.now = Some(start + d);
                }
            }
            return;
        }
        if !self.plugin.config.audit.enabled {
            return;
        }
        self.event.route = self.property(&["xds", "route_name"]);
        self.event.cluster = self.property(&["xds", "cluster_name"]);
    }

    /// Stores the audit event in filter state (for access logs) and, when `to_log`, writes it to
    /// the host log.
    fn publish(&mut self, to_log: bool) {
        if !self.plugin.config.audit.enabled {
            return;
        }
        let filter_state = self.host.flavor().has_filter_state();
        let audit = &self.plugin.config.audit;
        let to_state = audit.filter_state && filter_state;
        let log = audit.log;
        // Envoy writes the access log of a local reply before `on_log`: an answered request
        // publishes to filter state at the answer, and to the log at the end.
        let to_log = to_log && log;
        if !to_state && !to_log {
            return;
        }
        // An answered request publishes twice: the facts are read once.
        self.read_facts();
        let end = self.now.take().unwrap_or_else(|| self.host.now());
        if !self.start_known {
            self.started = end;
            self.start_known = true;
        }
        self.event.time = crate::audit::rfc3339_millis(self.started);
        self.event.latency_ms = end
            .duration_since(self.started)
            .unwrap_or_default()
            .as_millis() as u64;
        let json = self.event.to_json();
        if to_state {
            let _ = self
                .host
                .set_property(&["promptgate_audit"], json.as_bytes());
        }
        if to_log {
            self.host.log(Level::Info, &json);
        }
    }

    /// `proxy_on_done`. APISIX never calls `proxy_on_log`, only this (request pool cleanup):
    /// settle and write the audit event here there. Other hosts call `on_log` first.
    pub fn on_done(&mut self) {
        if self.host.flavor().ends_without_log() {
            if matches!(self.phase, Phase::Buffering | Phase::Waiting) {
                self.event.decision = Decision::Error;
                self.note(Reason::IncompleteRequest);
            }
            self.finish();
        }
    }

    pub fn on_request_headers(&mut self, end_of_stream: bool) -> Step {
        let flavor = self.host.flavor();
        // APISIX always says (0 headers, end of stream); the body comes later, on request.
        let end_of_stream = end_of_stream && flavor.headers_tell_end_of_stream();
        // The whole map in one host call: every value of every header (a repeated identity
        // header must be seen as repeated), and the single headers below without a call each.
        let map = self.host.header_map(Map::RequestHeaders);
        let pairs = map.as_deref().and_then(header_map::parse_header_pairs);
        let host = &self.host;
        let header = |name: &str| header_in(host, pairs.as_deref(), Map::RequestHeaders, name);
        self.event.request_id =
            header("x-request-id").map(|v| String::from_utf8_lossy(&v).into_owned());
        let in_flight = self.telemetry.borrow().in_flight;
        if in_flight.is_some() && self.plugin.config.metrics.detail == Detail::Full {
            bump(&self.host, in_flight, 1);
            self.counted_in_flight = true;
        }
        let values = |name: &str| match &pairs {
            Some(p) => header_map::header_values(p, name),
            None => host.header(Map::RequestHeaders, name).into_iter().collect(),
        };
        let resolved = self.plugin.identity.resolve_all(|l| match l {
            Lookup::Header(h) => values(h),
            Lookup::Property(p) => host
                .property(&p.iter().map(String::as_str).collect::<Vec<_>>())
                .into_iter()
                .collect(),
        });
        let encoding = faults::compressed_encoding(&values("content-encoding"));
        let consumer = match resolved {
            Ok(consumer) => consumer,
            Err(conflict) => return self.answer_after_body(conflict.into(), end_of_stream),
        };
        // Authentication (401) and path authorisation (403), then the upstream key. A refused
        // request's audit event still shows who it claimed to be (a salted hash, never the key).
        self.event.consumer = Some(consumer.display().to_string());
        let plugin = self.plugin.clone();
        let grant = match plugin.access.authenticate(consumer, &plugin.identity) {
            Ok(grant) => grant,
            Err(r) => return self.answer_after_body(*r, end_of_stream),
        };
        self.event.consumer = Some(grant.consumer.display().to_string());
        // From the map read above: no host call of its own on Envoy.
        let path = header(":path");
        if plugin.access.needs_path(&grant) {
            let path = path.as_deref().unwrap_or_default();
            if let Err(r) = plugin.access.check_path(&grant, path) {
                self.grant = Some(grant);
                return self.answer_after_body(*r, end_of_stream);
            }
        }
        self.path = path.map(|p| String::from_utf8_lossy(&p).into_owned());
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
        let host = &self.host;
        let current = |name: &str| {
            header_in(host, pairs.as_deref(), Map::RequestHeaders, name)
                .filter(|_| !vault_removed(name))
        };
        // For `decide` and `replace_body`: nothing but the vault changes the request headers
        // between here and the body (held at the headers on Envoy; on Kong and APISIX nothing
        // runs in between that edits headers).
        let content_type =
            current("content-type").map(|v| String::from_utf8_lossy(&v).into_owned());
        let content_length = current("content-length");
        // Read only where it matters (Kong), and only if the map did not settle it.
        let chunked = || current("transfer-encoding").is_some();
        self.content_type = content_type;
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
                    self.answer_after_body(Refusal::compressed_body(), false)
                }
                CompressedAction::AllowUnscanned => {
                    self.note(Reason::CompressedUnscanned);
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
            return self.oversize(false);
        }
        match flavor.body_arrival() {
            // Hold the headers until the body is scanned, so nothing reaches the upstream before
            // the decision. Envoy >= 1.35 honours this only with
            // `allow_on_headers_stop_iteration: true`.
            BodyArrival::HeldChunks => Step::Pause,
            BodyArrival::WholeIfAny => {
                // `eof` is always false here; nginx calls the body step only when there is a
                // body, after reading all of it and before contacting the upstream.
                if !chunked() && declared.unwrap_or(0) == 0 {
                    return self.decide(&[]);
                }
                Step::Continue
            }
            BodyArrival::WholeOnRequest => {
                // The body reaches the filter only if it asks for it; `Pause` (1) would read
                // as "HTTP call pending" there, so answer Continue.
                if self
                    .host
                    .set_property(&["wasm_process_req_body"], b"1")
                    .is_err()
                {
                    return self.oversize(true);
                }
                Step::Continue
            }
        }
    }

    pub fn on_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Step {
        if let Some(step) = self.deferred_reply(body_size, end_of_stream) {
            return step;
        }
        match self.phase {
            Phase::Answered | Phase::Waiting => return Step::Pause,
            Phase::Forwarded => return Step::Continue,
            Phase::Buffering => {}
        }
        // `body_size` is the size buffered so far; nothing is copied until the end.
        if body_size > self.plugin.config.max_body_bytes {
            self.event.body_bytes = body_size as u64;
            return self.oversize(false);
        }
        if !end_of_stream {
            return Step::Pause;
        }
        // No read for an empty body: APISIX answers BadArgument to a zero-size read.
        let read = match body_size {
            0 => Ok(None),
            n => self.host.buffer(Buffer::RequestBody, 0, n),
        };
        let body = match read {
            Ok(Some(body)) => body,
            Ok(None) if body_size == 0 => Vec::new(),
            // The host announced a body it cannot hand over (Kong: spilled to a temp file above
            // `client_body_buffer_size`). Never pass unread bytes on as scanned.
            _ => {
                self.event.body_bytes = body_size as u64;
                return self.oversize(true);
            }
        };
        self.decide(&body)
    }

    pub fn on_request_trailers(&mut self) -> Step {
        // A body that ends with trailers never had end_of_stream on a body callback.
        if let Some(step) = self.deferred_reply(0, true) {
            return step;
        }
        if self.phase == Phase::Buffering {
            let body = self
                .host
                .buffer(Buffer::RequestBody, 0, usize::MAX)
                .ok()
                .flatten()
                .unwrap_or_default();
            return self.decide(&body);
        }
        if self.phase == Phase::Waiting {
            return Step::Pause;
        }
        Step::Continue
    }

    pub fn on_response_headers(&mut self, end_of_stream: bool) -> Step {
        let mut step = Step::Continue;
        if self.phase == Phase::Forwarded {
            self.response_complete = end_of_stream;
            // Both headers from one read of the map.
            let map = self.host.header_map(Map::ResponseHeaders);
            let pairs = map.as_deref().and_then(header_map::parse_header_pairs);
            let host = &self.host;
            let header = |name: &str| header_in(host, pairs.as_deref(), Map::ResponseHeaders, name);
            let status = header(":status").and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok());
            let content_type = header("content-type").unwrap_or_default();
            self.event.upstream_status = status;
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
                    let _ = self
                        .host
                        .remove_header(Map::ResponseHeaders, "content-length");
                }
            }
            for (name, value) in std::mem::take(&mut self.limit_headers) {
                let _ = self.host.add_header(Map::ResponseHeaders, name, &value);
            }
            let json = content_type.starts_with(b"application/json");
            let has_length = self.stripper.is_none() && header("content-length").is_some();
            step = self.guard_response_headers(success, json, has_length, end_of_stream);
        }
        step
    }

    pub fn on_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Step {
        if end_of_stream && self.phase == Phase::Forwarded {
            self.response_complete = true;
        }
        if let Some(step) = self.guard_json_body(body_size, end_of_stream) {
            return step;
        }
        if self.event.streamed {
            self.stream_event_time(body_size, end_of_stream);
        }
        // Without Pause each callback's buffer holds only the new chunk: read it once, never
        // re-read what came before.
        match &mut self.response {
            ResponseReader::None => {}
            ResponseReader::Sse(reader) => {
                let chunk = match body_size {
                    0 => Some(Vec::new()),
                    n => self.host.buffer(Buffer::ResponseBody, 0, n).ok().flatten(),
                };
                if let Some(chunk) = chunk {
                    let out = self
                        .stripper
                        .as_mut()
                        .and_then(|s| s.filter(&chunk, end_of_stream));
                    let out = match self.guard.as_deref_mut() {
                        Some(g) => {
                            let changed = out.is_some();
                            let bytes = out.as_deref().unwrap_or(&chunk);
                            let new = g.sse_chunk(bytes, changed, end_of_stream);
                            if changed {
                                reader.feed(&chunk);
                            } else {
                                // The guard framed these bytes: it hands over the events the
                                // reader need not read.
                                g.feed_usage(reader, &chunk);
                            }
                            new
                        }
                        None => {
                            reader.feed(&chunk);
                            out
                        }
                    };
                    if let Some(out) = out {
                        let _ = self
                            .host
                            .set_buffer(Buffer::ResponseBody, 0, body_size, &out);
                    }
                }
                if end_of_stream {
                    self.usage = reader.finish();
                }
            }
            ResponseReader::Json(buf) => {
                if body_size > 0 && buf.len() + body_size <= MAX_USAGE_BODY {
                    if let Ok(Some(chunk)) = self.host.buffer(Buffer::ResponseBody, 0, body_size) {
                        buf.extend_from_slice(&chunk);
                    }
                } else if body_size > 0 {
                    // Too big to read for usage: settle as estimated.
                    self.response = ResponseReader::None;
                    self.guard_json_unscanned();
                    return Step::Continue;
                }
                if end_of_stream {
                    self.usage = usage::parse_json_usage(buf);
                    let body = std::mem::take(buf);
                    self.guard_json_monitor(&body);
                }
            }
        }
        if end_of_stream {
            // `limits.store: rls`: usage above the estimate is charged before the last chunk
            // leaves (a call once the stream has ended could be cancelled with it).
            return self.settle_remote();
        }
        Step::Continue
    }

    pub fn on_log(&mut self) {
        // A request that never completed (client gone mid-upload, upstream reset, timeout) still
        // gets exactly one audit event, saying why.
        let stage = match self.phase {
            Phase::Buffering | Phase::Waiting => Some(Stage::Undecided),
            Phase::Forwarded if self.noted.is_none() => Some(Stage::Forwarded),
            _ => None,
        };
        if let Some(stage) = stage {
            // Read even when the response ended: only the details tell the router's own replies
            // and late resets apart (docs/hostile-inputs.md, "Faults"). Kong has none.
            // A response that went through whole with a status below 500 ended normally: the
            // details could only say `via_upstream` (faults end a response early, or are the
            // router's own 5xx replies). No host call for an ordinary request.
            let ended_normally = stage == Stage::Forwarded
                && self.response_complete
                && self.event.upstream_status.is_some_and(|s| s < 500);
            let details = if self.host.flavor().has_code_details() && !ended_normally {
                self.property(&["response", "code_details"])
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let reason = faults::fault_reason(stage, &details, self.event.upstream_status);
            if stage == Stage::Undecided {
                self.event.decision = Decision::Error;
            }
            self.event.reason = reason.map(|r| r.as_str().to_string());
        }
        self.finish();
    }
}

//! The output guard in a request's life (issue 19, docs/output-guard.md): the request's PII is
//! masked and the guard bound to the request when it is forwarded; the answer is scanned on its
//! way back (`crate::response` finds and rewrites the text); what happened goes to the metrics
//! and the audit event's `response` object. Stream timings (time to first token, per output
//! token) are recorded here too, guard or not.
//!
//! Hosts: on Envoy a JSON answer is held (headers and body) until it is whole, then sent as it
//! was, rewritten, or replaced by the block answer; a stream is rewritten event by event. Where the
//! answer cannot be rewritten (`Flavor::can_edit_response_body`: Kong, APISIX) the guard scans
//! what passes and records its findings as `monitored` (note `monitor_only_host`), never holds or
//! changes a byte.

use super::{bump, observe, Buffer, Exchange, Host, Map, Step};
use crate::metrics::{self, Kind};
use crate::response::{self, Bound, Hit, ResponseAudit, SseGuard};
use crate::usage::SseUsageReader;
use std::time::SystemTime;

pub(super) enum Mode {
    /// Not an answer the guard reads (an error status, another content type).
    Off,
    /// A JSON answer, held until whole (Envoy) or read as it passes (monitor only).
    Json,
    Sse(Box<SseGuard<Bound>>),
    /// A JSON answer too large to scan was replaced by the block answer: drop what follows.
    Dropped,
}

/// The guard's part of one request.
pub(super) struct GuardState {
    bound: Bound,
    mode: Mode,
    /// The host cannot rewrite the answer: findings are recorded, nothing is changed.
    monitor_only: bool,
    audit: ResponseAudit,
    hits: Vec<Hit>,
    /// The answer was changed (redaction, restored placeholders).
    rewritten: bool,
    blocked: bool,
    /// The answer was too large (or an event too long) to scan.
    unscanned: bool,
}

/// The response decisions, in the order of `Telemetry::response_decisions`.
const DECISIONS: [&str; 6] = [
    "allowed",
    "monitored",
    "redacted",
    "restored",
    "unscanned",
    "blocked",
];

/// Request start to the first event, and the first and last event of a stream.
#[derive(Default)]
pub(super) struct StreamTimes {
    first: Option<SystemTime>,
    last: Option<SystemTime>,
}

impl<H: Host> Exchange<H> {
    /// Binds the guard to a request about to be forwarded; masks the request's PII when
    /// configured. The masked body, when anything was masked.
    /// `system`: the request's system and developer texts as inspection read them, when it
    /// read them all from `body` (else they are read from `body` here).
    pub(super) fn guard_request(
        &mut self,
        body: &[u8],
        protected_terms: &[u64],
        system: Option<&[&str]>,
    ) -> Option<Vec<u8>> {
        let plugin = self.plugin.clone();
        let guard = plugin.guard.as_ref()?;
        let (masked, bound) = response::bind_request_with(guard, body, protected_terms, system);
        let audit = ResponseAudit {
            decision: "allowed".into(),
            masked_values: bound.masked as u64,
            ..ResponseAudit::default()
        };
        self.guard = Some(Box::new(GuardState {
            bound,
            mode: Mode::Off,
            monitor_only: !self.host.flavor().can_edit_response_body(),
            audit,
            hits: Vec::new(),
            rewritten: false,
            blocked: false,
            unscanned: false,
        }));
        if masked.is_some() {
            self.event.rewrites.push("pii_masked".into());
        }
        masked
    }

    /// The answer's headers: what the guard will read. `Pause` holds a JSON answer's headers on
    /// Envoy until its body is whole (its status, length and body may change).
    pub(super) fn guard_response_headers(
        &mut self,
        success: bool,
        json: bool,
        has_length: bool,
        end_of_stream: bool,
    ) -> Step {
        let streamed = self.event.streamed;
        let Some(g) = self.guard.as_deref_mut() else {
            return Step::Continue;
        };
        if !success || end_of_stream {
            return Step::Continue;
        }
        if streamed {
            let fail_closed = !g.monitor_only
                && g.bound.guard.config().unscanned == crate::guard::UnscannedAction::Block;
            g.mode = Mode::Sse(Box::new(if fail_closed {
                SseGuard::fail_closed()
            } else {
                SseGuard::new()
            }));
            if !g.monitor_only && has_length {
                // Events change size: a declared length would no longer hold.
                let _ = self
                    .host
                    .remove_header(Map::ResponseHeaders, "content-length");
            }
            return Step::Continue;
        }
        if !json {
            g.audit.note = Some("not_json".into());
            return Step::Continue;
        }
        g.mode = Mode::Json;
        if g.monitor_only {
            Step::Continue
        } else {
            Step::Pause
        }
    }

    /// A JSON answer's body on Envoy: held until whole, then guarded. `None` when the guard does
    /// not hold this answer (the caller reads it as usual).
    pub(super) fn guard_json_body(
        &mut self,
        body_size: usize,
        end_of_stream: bool,
    ) -> Option<Step> {
        let g = self.guard.as_deref_mut()?;
        if matches!(g.mode, Mode::Dropped) {
            let _ = self
                .host
                .set_buffer(Buffer::ResponseBody, 0, body_size, &[]);
            return Some(Step::Continue);
        }
        if g.monitor_only || !matches!(g.mode, Mode::Json) {
            return None;
        }
        let config = g.bound.guard.config();
        if body_size > config.max_json_bytes {
            // Too large to hold: withheld (`unscanned: block`), or let go unscanned (and
            // uncounted for usage).
            g.unscanned = true;
            g.audit.note = Some("too_large".into());
            if config.unscanned == crate::guard::UnscannedAction::Allow {
                g.mode = Mode::Off;
                return Some(Step::Continue);
            }
            g.mode = Mode::Dropped;
            g.blocked = true;
            let status = match config.block_status {
                200 => 502,
                s => s,
            };
            let new = response::block_error_body("too_large");
            if self
                .host
                .set_buffer(Buffer::ResponseBody, 0, body_size, &new)
                .is_ok()
            {
                for (name, value) in [
                    ("content-length", new.len().to_string()),
                    (":status", status.to_string()),
                    ("content-type", "application/json".to_string()),
                ] {
                    let _ = self.host.replace_header(Map::ResponseHeaders, name, &value);
                }
            }
            return Some(Step::Continue);
        }
        if !end_of_stream {
            return Some(Step::Pause);
        }
        let body = match body_size {
            0 => Vec::new(),
            n => self
                .host
                .buffer(Buffer::ResponseBody, 0, n)
                .ok()
                .flatten()
                .unwrap_or_default(),
        };
        g.mode = Mode::Off;
        self.usage = crate::usage::parse_json_usage(&body);
        let out = response::guard_json(&body, &g.bound);
        g.hits.extend(out.hits);
        let status = g.bound.guard.config().block_status;
        let replacement = if out.blocked {
            g.blocked = true;
            let detectors = response::detectors_of(&g.hits, true);
            let refusal = (status == 200)
                .then(|| response::refusal_body(&body))
                .flatten();
            Some(refusal.unwrap_or_else(|| response::block_error_body(&detectors)))
        } else {
            g.rewritten = out.body.is_some();
            out.body
        };
        if let Some(new) = replacement {
            if self
                .host
                .set_buffer(Buffer::ResponseBody, 0, body_size, &new)
                .is_ok()
            {
                let _ = self.host.replace_header(
                    Map::ResponseHeaders,
                    "content-length",
                    &new.len().to_string(),
                );
                if out.blocked {
                    let _ = self.host.replace_header(
                        Map::ResponseHeaders,
                        ":status",
                        &status.to_string(),
                    );
                    let _ = self.host.replace_header(
                        Map::ResponseHeaders,
                        "content-type",
                        "application/json",
                    );
                }
            }
        }
        Some(Step::Continue)
    }

    /// Monitor-only hosts: a JSON answer read as it passes (the caller keeps it for usage too).
    pub(super) fn guard_json_monitor(&mut self, body: &[u8]) {
        if let Some(g) = self.guard.as_deref_mut() {
            if matches!(g.mode, Mode::Json) {
                let out = response::guard_json(body, &g.bound);
                g.hits.extend(out.hits);
                g.mode = Mode::Off;
            }
        }
    }

    /// A JSON answer the monitor-only reader dropped (too large to keep).
    pub(super) fn guard_json_unscanned(&mut self) {
        if let Some(g) = self.guard.as_deref_mut() {
            if matches!(g.mode, Mode::Json) {
                g.mode = Mode::Off;
                g.unscanned = true;
                g.audit.note = Some("too_large".into());
            }
        }
    }

    /// Notes the time of a stream's events (first and last).
    pub(super) fn stream_event_time(&mut self, chunk_len: usize, end_of_stream: bool) {
        if chunk_len == 0 && !end_of_stream {
            return;
        }
        let now = self.host.now();
        if self.stream_times.first.is_none() && chunk_len > 0 {
            self.stream_times.first = Some(now);
        }
        self.stream_times.last = Some(now);
    }
}

impl GuardState {
    /// One chunk of a stream (`bytes`: after the usage stripper; `changed`: whether that already
    /// differs from the host's chunk). The bytes to send instead, when they differ.
    pub(super) fn sse_chunk(
        &mut self,
        bytes: &[u8],
        changed: bool,
        end_of_stream: bool,
    ) -> Option<Vec<u8>> {
        let Mode::Sse(sse) = &mut self.mode else {
            return changed.then(|| bytes.to_vec());
        };
        let before = sse.report().hits.len();
        let out = sse.feed_chunk(&self.bound, bytes, end_of_stream);
        self.hits.extend_from_slice(&sse.report().hits[before..]);
        self.blocked = !self.monitor_only && sse.blocked();
        self.rewritten = !self.monitor_only && sse.report().rewritten;
        if sse.unscanned() && !self.unscanned {
            self.unscanned = true;
            self.audit.note = Some("event_too_large".into());
        }
        if self.monitor_only {
            return changed.then(|| bytes.to_vec());
        }
        match out {
            Some(out) => Some(out),
            None => changed.then(|| bytes.to_vec()),
        }
    }
}

impl GuardState {
    /// The usage reader's part of the chunk the guard just read (`chunk`, as `sse_chunk` got
    /// it): every byte but the events the guard read as plain chat chunks without a usage
    /// object, which the reader passes when it stands at their start (issue 19, 2026-12-04:
    /// one framing per stream instead of two). What the reader finds is what reading the
    /// whole chunk finds.
    pub(super) fn feed_usage(&self, reader: &mut SseUsageReader, chunk: &[u8]) {
        match &self.mode {
            Mode::Sse(sse) => {
                reader.feed_passing_model(chunk, sse.usage_quiet_events(), sse.usage_model())
            }
            _ => reader.feed(chunk),
        }
    }
}

impl<H: Host> Exchange<H> {
    /// At the end of the request: the guard's decision and hits (metrics, audit event), and the
    /// stream timings. `output_tokens`: from the usage, when the answer had one.
    pub(super) fn guard_finish(&mut self, output_tokens: Option<u64>) {
        let gen_ai = self.plugin.config.gen_ai_metric_names;
        let times = std::mem::take(&mut self.stream_times);
        let mut t = self.telemetry.borrow_mut();
        let mut ttft_ms = None;
        if let (Some(first), Some(last)) = (times.first, times.last) {
            let ms = first
                .duration_since(self.started)
                .unwrap_or_default()
                .as_millis() as u64;
            ttft_ms = Some(ms);
            let name = if gen_ai {
                metrics::GEN_AI_TIME_TO_FIRST_TOKEN
            } else {
                metrics::TIME_TO_FIRST_TOKEN_MS
            };
            let id = t
                .registry
                .id(name, Kind::Histogram, |k, n| self.host.define_metric(k, n));
            observe(&self.host, id, ms);
            if let Some(n) = output_tokens.filter(|n| *n > 1) {
                let us = last.duration_since(first).unwrap_or_default().as_micros() as u64;
                let name = if gen_ai {
                    metrics::GEN_AI_TIME_PER_OUTPUT_TOKEN
                } else {
                    metrics::TIME_PER_OUTPUT_TOKEN_US
                };
                let id = t
                    .registry
                    .id(name, Kind::Histogram, |k, n| self.host.define_metric(k, n));
                observe(&self.host, id, us / (n - 1));
            }
        }
        if gen_ai {
            if let Some(tokens) = &self.event.tokens {
                let model = t.models.label(self.event.model.as_deref());
                for (kind, n) in [("input", tokens.prompt), ("output", tokens.completion)] {
                    if tokens.estimated {
                        break;
                    }
                    let name = metrics::name(
                        metrics::GEN_AI_TOKEN_USAGE,
                        &[("model", &model), ("type", kind)],
                    );
                    let id = t
                        .registry
                        .id(&name, Kind::Histogram, |k, n| self.host.define_metric(k, n));
                    observe(&self.host, id, n);
                }
            }
            let end = self.now.unwrap_or(self.started);
            let ms = end
                .duration_since(self.started)
                .unwrap_or_default()
                .as_millis() as u64;
            let id = t
                .registry
                .id(metrics::GEN_AI_REQUEST_DURATION, Kind::Histogram, |k, n| {
                    self.host.define_metric(k, n)
                });
            observe(&self.host, id, ms);
        }
        let Some(g) = self.guard.as_deref_mut() else {
            return;
        };
        let decision = if g.blocked {
            "blocked"
        } else if g.rewritten && g.hits.iter().any(|h| h.action == "redact") {
            "redacted"
        } else if g.rewritten {
            // Only request placeholders put back.
            "restored"
        } else if g.unscanned {
            "unscanned"
        } else if !g.hits.is_empty() {
            "monitored"
        } else {
            "allowed"
        };
        if g.monitor_only && g.hits.iter().any(|h| h.action != "monitor") {
            g.audit.note = Some("monitor_only_host".into());
        }
        for h in &g.hits {
            let action = if g.monitor_only { "monitor" } else { h.action };
            let name = metrics::name(
                metrics::GUARD_HITS_TOTAL,
                &[
                    ("detector", h.detector),
                    ("type", h.kind),
                    ("action", action),
                ],
            );
            let id = t
                .registry
                .id(&name, Kind::Counter, |k, n| self.host.define_metric(k, n));
            bump(&self.host, id, 1);
        }
        // The series' id is kept by decision: no name built and looked up per request.
        let slot = DECISIONS.iter().position(|d| *d == decision).unwrap_or(0);
        let id = match t.response_decisions[slot] {
            Some(id) => Some(id),
            None => {
                let name =
                    metrics::name(metrics::RESPONSE_DECISIONS_TOTAL, &[("decision", decision)]);
                let id = t
                    .registry
                    .id(&name, Kind::Counter, |k, n| self.host.define_metric(k, n));
                t.response_decisions[slot] = id;
                id
            }
        };
        bump(&self.host, id, 1);
        g.audit.decision = decision.into();
        g.audit.time_to_first_token_ms = ttft_ms;
        let mut hits = std::mem::take(&mut g.hits);
        if g.monitor_only {
            for h in &mut hits {
                h.action = "monitor";
            }
        }
        response::add_findings(&mut g.audit.findings, &hits);
        self.event.response = Some(std::mem::take(&mut g.audit));
    }
}

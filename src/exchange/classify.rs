//! `inspection.classifier` in a request's life (issue 15 item 8): a request the rules scored in
//! the borderline band (and did not block) is held while the external classifier reads its text;
//! its answer blocks it, lets it through, or (timeout, error, garbage) leaves it to
//! `failure_mode`. What the call carries and what an answer means is `crate::classifier`; the
//! call goes through the same `Host::dispatch_http_call` and `on_http_call_response` as the
//! rate-limit service's (`remote.rs`).

use super::{Exchange, Host, Level, Map, Phase, Step, Stream};
use crate::audit::RuleRef;
use crate::classifier::{self, Answer, ClassifierAction, ClassifierAudit, FailureMode, Outcome};
use crate::config::DuplicateKeys;
use crate::extract;
use crate::inspect::{self, Verdict};
use crate::metrics;
use crate::outcome::{Reason, Refusal};

/// The request held for the classifier's answer: what `conclude` needs afterwards.
pub(super) struct Waiting {
    token: u32,
    sent_ms: u64,
    verdict: Verdict,
    /// The body as forwarded (after any access-policy rewrite), for redaction and the guard.
    body: Vec<u8>,
    sent_bytes: usize,
    truncated: bool,
}

impl<H: Host> Exchange<H> {
    /// Sends the text to the classifier and holds the request when the classifier is on and the
    /// rules' score is in its band; else concludes on the rules' verdict at once.
    pub(super) fn classify(
        &mut self,
        verdict: Verdict,
        body: &[u8],
        content_type: Option<&str>,
        path: Option<&str>,
    ) -> Step {
        let plugin = self.plugin.clone();
        let Some(c) = plugin.config.inspection.classifier.as_ref() else {
            return self.conclude(&verdict, body);
        };
        // Blocked, redacted or refused by the rules: already decided, nothing to ask.
        let undecided = matches!(
            verdict.decision,
            inspect::Decision::Allow | inspect::Decision::Monitor
        );
        if !undecided || !c.in_band(verdict.score) {
            return self.conclude(&verdict, body);
        }
        // The text of the classifier's roles: a second reading, only for requests in the band.
        let roles = c.role_filter();
        let opts = extract::Options {
            roles: &roles,
            path,
            allow_duplicate_keys: plugin.config.duplicate_keys == DuplicateKeys::Allow,
        };
        let ex = extract::extract_with(body, content_type, &opts);
        let Some(out) = c.request(&ex) else {
            return self.conclude(&verdict, body);
        };
        let headers = [
            (":method", "POST"),
            (":path", c.path.as_str()),
            (":authority", c.authority()),
            ("content-type", "application/json"),
        ];
        let sent_ms = self.host.now_ms();
        let dispatched =
            self.host
                .dispatch_http_call(&c.cluster, &headers, &out.body, c.timeout_ms);
        let mut waiting = Waiting {
            token: 0,
            sent_ms,
            verdict,
            body: body.to_vec(),
            sent_bytes: out.sent_bytes,
            truncated: out.truncated,
        };
        match dispatched {
            Ok(token) => {
                waiting.token = token;
                self.classifying = Some(Box::new(waiting));
                self.phase = Phase::Waiting;
                Step::Pause
            }
            Err(status) => {
                let m = format!("classifier: call refused by the host: {status}");
                self.host.log(Level::Warn, &m);
                self.classified(waiting, Err(Outcome::Error))
            }
        }
    }

    /// `proxy_on_http_call_response` for the classifier's call; `false` when `token` is another
    /// call's. No headers means the call failed (reset, timeout, unreachable).
    pub(super) fn classifier_response(
        &mut self,
        token: u32,
        num_headers: usize,
        body_size: usize,
    ) -> bool {
        if self.classifying.as_ref().is_none_or(|w| w.token != token) {
            return false;
        }
        let Some(waiting) = self.classifying.take() else {
            return false;
        };
        let plugin = self.plugin.clone();
        let Some(c) = plugin.config.inspection.classifier.as_ref() else {
            return false;
        };
        let status = match num_headers {
            0 => None,
            _ => self
                .host
                .header(Map::HttpCallResponseHeaders, ":status")
                .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u32>().ok()),
        };
        let answer = match status {
            Some(200) => {
                let body = match body_size {
                    0 => None,
                    n => self
                        .host
                        .buffer(super::Buffer::HttpCallResponseBody, 0, n.min(64 * 1024))
                        .ok()
                        .flatten(),
                };
                body.map_or(Err(Outcome::Malformed), |b| {
                    c.decode(&b).map_err(|_| Outcome::Malformed)
                })
            }
            // Envoy's answer when its own call timeout fires.
            Some(504) => Err(Outcome::Timeout),
            _ => {
                // Hosts report their own timeout differently: a failure after (about) the
                // timeout is one.
                let elapsed = self.host.now_ms().saturating_sub(waiting.sent_ms);
                if elapsed.saturating_mul(10) >= u64::from(c.timeout_ms) * 9 {
                    Err(Outcome::Timeout)
                } else {
                    Err(Outcome::Error)
                }
            }
        };
        self.phase = Phase::Buffering;
        if self.classified(*waiting, answer) == Step::Continue {
            self.host.resume(Stream::Request);
        }
        true
    }

    /// Folds the classifier's answer into the decision, records it, and concludes.
    fn classified(&mut self, mut w: Waiting, answer: Result<Answer, Outcome>) -> Step {
        let plugin = self.plugin.clone();
        let Some(c) = plugin.config.inspection.classifier.as_ref() else {
            return self.conclude(&w.verdict, &w.body);
        };
        let latency_ms = self.host.now_ms().saturating_sub(w.sent_ms);
        let outcome = match &answer {
            Ok(a) if c.flags(a.score) => Outcome::Flagged,
            Ok(_) => Outcome::Passed,
            Err(o) => *o,
        };
        let (score, label, model) = match answer {
            Ok(a) => (Some(a.score), a.label, a.model),
            Err(_) => (None, None, None),
        };
        self.event.classifier = Some(ClassifierAudit {
            outcome,
            score,
            label,
            model,
            latency_ms,
            sent_bytes: w.sent_bytes as u64,
            truncated: w.truncated,
        });
        let mut t = self.telemetry.borrow_mut();
        t.add_labelled(
            &self.host,
            classifier::CALLS_TOTAL,
            &[("decision", outcome.as_str())],
            1,
        );
        if outcome == Outcome::Flagged {
            t.add_labelled(
                &self.host,
                metrics::RULE_HITS_TOTAL,
                &[
                    ("rule", classifier::RULE_ID),
                    ("category", classifier::RULE_CATEGORY),
                ],
                1,
            );
        }
        drop(t);
        match outcome {
            Outcome::Flagged => {
                self.event.rules.push(RuleRef {
                    id: classifier::RULE_ID.into(),
                    category: classifier::RULE_CATEGORY.into(),
                });
                match c.action {
                    ClassifierAction::Block => {
                        return self.answer(Refusal::new(Reason::ClassifierBlocked))
                    }
                    ClassifierAction::Monitor => {
                        w.verdict.decision = w.verdict.decision.max(inspect::Decision::Monitor);
                    }
                }
            }
            Outcome::Passed => {}
            Outcome::Timeout | Outcome::Error | Outcome::Malformed => match c.failure_mode {
                FailureMode::Closed => {
                    return self.answer(Refusal::new(Reason::ClassifierUnavailable))
                }
                FailureMode::Open => self.note(Reason::ClassifierUnavailable),
            },
        }
        // The scan's clock reading is stale after the wait: the limiter reads its own.
        self.now = None;
        self.conclude(&w.verdict, &w.body)
    }
}

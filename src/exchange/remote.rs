//! `limits.store: rls` in a request's life (issue 18): the admission call to the rate-limit
//! service, the request held until its answer (or the host's call timeout), and the settlement
//! call after the response. What the calls carry and what the answers mean is
//! `limits::remote`; this is only when they happen.

use super::{bump, Exchange, Host, Map, Phase, Step, Stream};
use crate::audit::Decision;
use crate::limits::remote::{self, Answer, Descriptor, RemoteCheck};
use crate::limits::{Admission, DenialKind, Fault, RlsProtocol};

/// gRPC status DEADLINE_EXCEEDED.
const GRPC_DEADLINE_EXCEEDED: u32 = 4;

/// A call in flight.
pub(super) struct Pending {
    token: u32,
    grpc: bool,
    sent_ms: u64,
    timeout_ms: u32,
    what: What,
}

enum What {
    /// The admission call: the request waits for it.
    Admission {
        decision: Decision,
        admission: Box<Admission>,
        descriptors: Vec<Descriptor>,
    },
    /// The settlement call: the response's last chunk waits for it.
    Settle,
}

/// The admission was refused because the service failed (`failure_mode: deny`).
pub(super) fn is_store_denial(d: &Admission) -> bool {
    d.denial
        .as_ref()
        .is_some_and(|d| matches!(d.kind, DenialKind::StoreUnavailable(_)))
}

impl<H: Host> Exchange<H> {
    /// Sends the admission call and holds the request; answers at once when there is nothing to
    /// ask (only concurrency limits, or refused by them) or the call cannot be made.
    pub(super) fn admit_remote(&mut self, decision: Decision, check: RemoteCheck) -> Step {
        let RemoteCheck {
            mut admission,
            descriptors,
        } = check;
        if admission.degraded && admission.denial.is_none() {
            // Shared data (the concurrency part) failed and `failure_mode: allow` let it pass.
            bump(&self.host, self.telemetry.borrow().limit_store_errors, 1);
            admission.degraded = false;
        }
        if admission.denial.is_some() || descriptors.is_empty() {
            return self.admitted(decision, admission);
        }
        match self.call(&descriptors, false) {
            Ok(pending) => {
                self.pending = Some(Pending {
                    what: What::Admission {
                        decision,
                        admission: Box::new(admission),
                        descriptors,
                    },
                    ..pending
                });
                self.phase = Phase::Waiting;
                Step::Pause
            }
            Err(fault) => {
                let plugin = self.plugin.clone();
                let admission = plugin
                    .limiter
                    .remote_answer(admission, &descriptors, Err(fault));
                self.admitted(decision, admission)
            }
        }
    }

    /// Dispatches a call with `descriptors`.
    fn call(&mut self, descriptors: &[Descriptor], settle: bool) -> Result<Pending, Fault> {
        let plugin = self.plugin.clone();
        let Some(r) = plugin.limiter.remote() else {
            return Err(Fault::Error);
        };
        let message = r.encode(descriptors, settle);
        let sent_ms = self.host.now_ms();
        let (grpc, token) = match r.protocol {
            RlsProtocol::Grpc => {
                if !self.host.flavor().has_grpc_calls() {
                    return Err(Fault::Unsupported);
                }
                let t = self.host.dispatch_grpc_call(
                    &r.grpc_service,
                    remote::SERVICE,
                    remote::METHOD,
                    &message,
                    r.timeout_ms,
                );
                (true, t)
            }
            RlsProtocol::Http => {
                let headers = [
                    (":method", "POST"),
                    (":path", r.path.as_str()),
                    (":authority", r.authority.as_str()),
                    ("content-type", "application/json"),
                ];
                let t = self
                    .host
                    .dispatch_http_call(&r.cluster, &headers, &message, r.timeout_ms);
                (false, t)
            }
        };
        match token {
            Ok(token) => Ok(Pending {
                token,
                grpc,
                sent_ms,
                timeout_ms: r.timeout_ms,
                what: What::Settle,
            }),
            Err(status) => {
                let m = format!("limits: rate-limit service call refused by the host: {status}");
                self.host.log(super::Level::Warn, &m);
                Err(Fault::Error)
            }
        }
    }

    /// `proxy_on_grpc_call_response`: `status` is the gRPC status (0 OK), `size` the message's.
    pub fn on_grpc_call_response(&mut self, token: u32, status: u32, size: usize) {
        let Some(pending) = self.take_pending(token, true) else {
            return;
        };
        let answer = match status {
            0 => self
                .host
                .buffer(super::Buffer::GrpcReceiveBuffer, 0, size)
                .ok()
                .flatten()
                .map_or(Err(Fault::Error), |b| {
                    remote::decode_response(&b).map_err(|_| Fault::Error)
                }),
            GRPC_DEADLINE_EXCEEDED => Err(Fault::Timeout),
            _ => Err(self.failure(&pending)),
        };
        self.answered(pending, answer);
    }

    /// `proxy_on_http_call_response`: no headers means the call failed (reset, timeout,
    /// unreachable).
    pub fn on_http_call_response(&mut self, token: u32, num_headers: usize, body_size: usize) {
        // The external classifier's call (`inspection.classifier`), if it is that one.
        if self.classifier_response(token, num_headers, body_size) {
            return;
        }
        let Some(pending) = self.take_pending(token, false) else {
            return;
        };
        let status = match num_headers {
            0 => None,
            _ => self
                .host
                .header(Map::HttpCallResponseHeaders, ":status")
                .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u32>().ok()),
        };
        let answer = match status {
            // The JSON endpoint answers 200 for OK and 429 for OVER_LIMIT, the body says which.
            Some(200 | 429) => {
                let body = match body_size {
                    0 => None,
                    n => self
                        .host
                        .buffer(super::Buffer::HttpCallResponseBody, 0, n)
                        .ok()
                        .flatten(),
                };
                body.map_or(Err(Fault::Error), |b| {
                    remote::decode_json(&b).map_err(|_| Fault::Error)
                })
            }
            Some(504) => Err(Fault::Timeout),
            _ => Err(self.failure(&pending)),
        };
        self.answered(pending, answer);
    }

    fn take_pending(&mut self, token: u32, grpc: bool) -> Option<Pending> {
        match &self.pending {
            Some(p) if p.token == token && p.grpc == grpc => self.pending.take(),
            _ => None,
        }
    }

    /// A failed call is a timeout when it failed after (about) the timeout: hosts report their
    /// own call timeout differently (Envoy: gRPC UNAVAILABLE or a 504 local reply).
    fn failure(&self, p: &Pending) -> Fault {
        let elapsed = self.host.now_ms().saturating_sub(p.sent_ms);
        if elapsed.saturating_mul(10) >= u64::from(p.timeout_ms) * 9 {
            Fault::Timeout
        } else {
            Fault::Error
        }
    }

    fn answered(&mut self, pending: Pending, answer: Result<Answer, Fault>) {
        match pending.what {
            What::Admission {
                decision,
                admission,
                descriptors,
            } => {
                let plugin = self.plugin.clone();
                let admission = plugin
                    .limiter
                    .remote_answer(*admission, &descriptors, answer);
                self.phase = Phase::Buffering;
                if self.admitted(decision, admission) == Step::Continue {
                    self.host.resume(Stream::Request);
                }
            }
            What::Settle => {
                // The service always counts a settlement; a failure loses it (counted, logged).
                if !matches!(&answer, Ok(a) if a.overall != remote::Code::Unknown) {
                    bump(
                        &self.host,
                        self.telemetry.borrow().limit_store_errors_rls,
                        1,
                    );
                    let m = format!("limits: settlement not recorded by the service: {answer:?}");
                    self.host.log(super::Level::Warn, &m);
                }
                self.host.resume(Stream::Response);
            }
        }
    }

    /// At the response's end: charges usage beyond the reservation to the service, holding the
    /// last chunk until it answers (Envoy only; elsewhere the reservation stands, see
    /// `docs/distributed-limits.md`).
    pub(super) fn settle_remote(&mut self) -> Step {
        let (Some(usage), Some(res)) = (self.usage.as_ref(), self.reservation.as_ref()) else {
            return Step::Continue;
        };
        if self.pending.is_some() || !self.host.flavor().calls_during_response() {
            return Step::Continue;
        }
        let descriptors = self.plugin.limiter.remote_settlement(res, usage);
        if descriptors.is_empty() {
            return Step::Continue;
        }
        match self.call(&descriptors, true) {
            Ok(p) => {
                self.pending = Some(p);
                Step::Pause
            }
            Err(_) => {
                bump(
                    &self.host,
                    self.telemetry.borrow().limit_store_errors_rls,
                    1,
                );
                Step::Continue
            }
        }
    }

    /// The request ends with a call in flight (client gone): its answer will find no one; keep
    /// the concurrency slot the admission holds so it is released.
    pub(super) fn abandon_call(&mut self) {
        // A classifier call's answer finds no one either (`inspection.classifier`).
        self.classifying = None;
        if let Some(Pending {
            what: What::Admission { admission, .. },
            ..
        }) = self.pending.take()
        {
            self.reservation = Some(admission.reservation);
        }
    }
}

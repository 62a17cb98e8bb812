//! Why a request ended the way it did: one closed list of reasons, and one refusal type.
//!
//! Every audit `reason` is a [`Reason`]. A refused request is a [`Refusal`], whatever refused it
//! (identity, access, contract, inspection, limits, the body's size or encoding): its HTTP status,
//! error `type`, audit `decision` (also the `decision` label of `promptgate_requests_total`) and
//! audit `reason` all derive from its `Reason`, so they cannot disagree. `docs/observability.md`
//! lists the same set (a test checks it against [`Reason::ALL`]).
//!
//! A refusal's reply never echoes request content beyond the sanitised model name a `403
//! model_not_allowed` names, and never names an inspection rule (see `reply.rs`).

use crate::audit::Decision;
use crate::contracts::Violation;
use crate::identity::IdentityConflict;
use crate::limits::{Denial, DenialKind};
use crate::reply::LocalReply;
use std::borrow::Cow;

/// Every audit `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    // Refusals: identity and access.
    /// Identity headers disagree (`identity.on_conflict: reject`).
    ConflictingIdentity,
    /// No credential (`access.authentication: api_key`).
    MissingApiKey,
    /// No authenticated identity (`access.authentication: host`).
    MissingIdentity,
    /// A key no consumer has.
    InvalidApiKey,
    /// A host-authenticated consumer that is not listed (`unknown_consumers: reject`).
    ConsumerNotAllowed,
    /// The path is not in the consumer's `paths`.
    PathNotAllowed,
    /// The API shape is not in the consumer's `apis`.
    ApiNotAllowed,
    /// The model is not in the consumer's `models`.
    ModelNotAllowed,
    /// The policy must read the body (model, API, contract) and it is not valid JSON. Same audit
    /// reason as [`Reason::ParseError`]; the decision (`invalid`, not `blocked`) tells them apart.
    UncheckedParseError,
    /// The policy must read the body's model or contract fields and it is not a JSON object.
    BodyNotJsonObject,
    /// The request contract (audit reason `contract:<field>`).
    Contract,
    // Refusals: the body.
    /// Body above `max_body_bytes` (`on_oversize: reject`).
    BodyTooLarge,
    /// The host announced a body it would not hand over.
    BodyUnreadable,
    /// Compressed body (`on_compressed: reject`).
    CompressedBody,
    /// A body of no type the filter reads as structure (not JSON, form, multipart or `text/*`),
    /// refused with `unknown_content_type: reject`.
    UnsupportedContentType,
    // Refusals: inspection.
    /// The inspection policy blocked the request.
    ContentPolicy,
    /// The body looked like JSON and did not parse: refused with `on_parse_error: block`, noted
    /// on a forwarded request otherwise.
    ParseError,
    /// The same key twice in one JSON object (`duplicate_keys: reject`): parsers
    /// disagree on which value wins (issue 17).
    DuplicateKey,
    /// JSON nested deeper than 128 levels (issue 17).
    JsonTooDeep,
    /// The external classifier (`inspection.classifier`) scored the text at or above its
    /// threshold (`action: block`).
    ClassifierBlocked,
    /// The external classifier timed out, failed or answered garbage: a refusal with
    /// `failure_mode: closed`, a note on the forwarded request with `open`.
    ClassifierUnavailable,
    // Refusals: limits.
    /// A per-consumer limit (audit reason: the limit's name, e.g. `requests_per_minute`).
    RateLimited,
    /// The global daily budget (`global_budget`).
    BudgetExceeded,
    /// No slot for a new consumer (`when_full: deny`).
    TooManyConsumers,
    /// Shared data failed (`failure_mode: deny`).
    LimiterUnavailable,
    /// `limits.store: rls`: the rate-limit service did not answer within `timeout_ms`. A refusal
    /// with `failure_mode: deny`, a note on the forwarded request with `allow`.
    LimitStoreTimeout,
    /// `limits.store: rls`: the service is unreachable, answered an error or an undecodable
    /// message (refusal or note, as above).
    LimitStoreError,
    /// `limits.store: rls` with `protocol: grpc` on a host without gRPC calls (Kong, APISIX)
    /// (refusal or note, as above).
    LimitStoreUnsupported,
    // Notes on a forwarded request.
    /// Body above `max_body_bytes`, forwarded (`on_oversize: allow`).
    ForwardedUnscanned,
    /// Compressed body, forwarded (`on_compressed: allow_unscanned`).
    CompressedUnscanned,
    /// A body of unknown type, forwarded uninspected (`unknown_content_type: allow`).
    UnknownContentUnscanned,
    /// Scanned after lossy UTF-8 decoding; forwarded byte for byte.
    InvalidUtf8,
    /// Redaction was decided but the host cannot replace a body: the original was forwarded.
    RedactionUnsupported,
    // Faults: the request did not complete.
    /// The host's own protocol checks answered before the filter could.
    ProtocolError,
    /// The client went away.
    ClientAborted,
    /// The request ended before its body did.
    IncompleteRequest,
    /// The upstream timed out.
    UpstreamTimeout,
    /// The upstream connection was reset.
    UpstreamReset,
    /// The upstream answered 5xx.
    UpstreamError,
}

impl Reason {
    pub const ALL: [Reason; 39] = [
        Reason::ConflictingIdentity,
        Reason::MissingApiKey,
        Reason::MissingIdentity,
        Reason::InvalidApiKey,
        Reason::ConsumerNotAllowed,
        Reason::PathNotAllowed,
        Reason::ApiNotAllowed,
        Reason::ModelNotAllowed,
        Reason::UncheckedParseError,
        Reason::BodyNotJsonObject,
        Reason::Contract,
        Reason::BodyTooLarge,
        Reason::BodyUnreadable,
        Reason::CompressedBody,
        Reason::UnsupportedContentType,
        Reason::ContentPolicy,
        Reason::ParseError,
        Reason::DuplicateKey,
        Reason::JsonTooDeep,
        Reason::ClassifierBlocked,
        Reason::ClassifierUnavailable,
        Reason::RateLimited,
        Reason::BudgetExceeded,
        Reason::TooManyConsumers,
        Reason::LimiterUnavailable,
        Reason::LimitStoreTimeout,
        Reason::LimitStoreError,
        Reason::LimitStoreUnsupported,
        Reason::ForwardedUnscanned,
        Reason::CompressedUnscanned,
        Reason::UnknownContentUnscanned,
        Reason::InvalidUtf8,
        Reason::RedactionUnsupported,
        Reason::ProtocolError,
        Reason::ClientAborted,
        Reason::IncompleteRequest,
        Reason::UpstreamTimeout,
        Reason::UpstreamReset,
        Reason::UpstreamError,
    ];

    /// The audit `reason`, except for the two families whose audit reason carries a detail:
    /// [`Reason::Contract`] (`contract:<field>`) and [`Reason::RateLimited`] (the limit's name);
    /// see [`Refusal::audit_reason`].
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ConflictingIdentity => "conflicting_identity",
            Reason::MissingApiKey => "missing_api_key",
            Reason::MissingIdentity => "missing_identity",
            Reason::InvalidApiKey => "invalid_api_key",
            Reason::ConsumerNotAllowed => "consumer_not_allowed",
            Reason::PathNotAllowed => "path_not_allowed",
            Reason::ApiNotAllowed => "api_not_allowed",
            Reason::ModelNotAllowed => "model_not_allowed",
            Reason::UncheckedParseError | Reason::ParseError => "parse_error",
            Reason::BodyNotJsonObject => "body_not_json_object",
            Reason::DuplicateKey => "duplicate_key",
            Reason::JsonTooDeep => "json_too_deep",
            Reason::ClassifierBlocked => "classifier_blocked",
            Reason::ClassifierUnavailable => "classifier_unavailable",
            Reason::Contract => "contract",
            Reason::BodyTooLarge => "body_too_large",
            Reason::BodyUnreadable => "body_unreadable",
            Reason::CompressedBody => "compressed_body",
            Reason::UnsupportedContentType => "unsupported_content_type",
            Reason::ContentPolicy => "content_policy",
            Reason::RateLimited => "rate_limited",
            Reason::BudgetExceeded => "global_budget",
            Reason::TooManyConsumers => "max_consumers",
            Reason::LimiterUnavailable => "shared_data",
            Reason::LimitStoreTimeout => "limit_store_timeout",
            Reason::LimitStoreError => "limit_store_error",
            Reason::LimitStoreUnsupported => "limit_store_unsupported",
            Reason::ForwardedUnscanned => "forwarded_unscanned",
            Reason::CompressedUnscanned => "compressed_unscanned",
            Reason::UnknownContentUnscanned => "unknown_content_unscanned",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::RedactionUnsupported => "redaction_unsupported",
            Reason::ProtocolError => "protocol_error",
            Reason::ClientAborted => "client_aborted",
            Reason::IncompleteRequest => "incomplete_request",
            Reason::UpstreamTimeout => "upstream_timeout",
            Reason::UpstreamReset => "upstream_reset",
            Reason::UpstreamError => "upstream_error",
        }
    }

    /// The reason for a rate-limit service fault (`limits.store: rls`).
    pub fn limit_store(f: crate::limits::Fault) -> Reason {
        match f {
            crate::limits::Fault::Timeout => Reason::LimitStoreTimeout,
            crate::limits::Fault::Error => Reason::LimitStoreError,
            crate::limits::Fault::Unsupported => Reason::LimitStoreUnsupported,
        }
    }

    /// What a refusal for this reason answers: status, error `type` and audit decision. `None`
    /// for the reasons that only ever describe a forwarded or unfinished request.
    pub fn refusal(self) -> Option<(u32, &'static str, Decision)> {
        use Decision::*;
        Some(match self {
            Reason::ConflictingIdentity => (400, "conflicting_identity", Blocked),
            Reason::MissingApiKey | Reason::MissingIdentity | Reason::InvalidApiKey => {
                (401, "invalid_api_key", Unauthenticated)
            }
            Reason::ConsumerNotAllowed => (403, "consumer_not_allowed", Forbidden),
            Reason::PathNotAllowed => (403, "path_not_allowed", Forbidden),
            Reason::ApiNotAllowed => (403, "api_not_allowed", Forbidden),
            Reason::ModelNotAllowed => (403, "model_not_allowed", Forbidden),
            Reason::UncheckedParseError | Reason::BodyNotJsonObject => {
                (400, "invalid_request_body", Invalid)
            }
            Reason::Contract => (400, "invalid_request_error", Invalid),
            Reason::BodyTooLarge | Reason::BodyUnreadable => (413, "request_too_large", Oversize),
            Reason::CompressedBody => (415, "unsupported_content_encoding", Blocked),
            Reason::UnsupportedContentType => (415, "unsupported_content_type", Blocked),
            Reason::ContentPolicy => (403, "prompt_injection_detected", Blocked),
            Reason::ParseError => (400, "invalid_request_body", Blocked),
            Reason::DuplicateKey => (400, "duplicate_key", Invalid),
            Reason::JsonTooDeep => (400, "json_too_deep", Invalid),
            Reason::ClassifierBlocked => (403, "prompt_injection_detected", Blocked),
            Reason::ClassifierUnavailable => (503, "classifier_unavailable", Error),
            Reason::RateLimited => (429, "rate_limit_exceeded", RateLimited),
            Reason::BudgetExceeded => (429, "budget_exceeded", Decision::BudgetExceeded),
            Reason::TooManyConsumers => (429, "too_many_consumers", RateLimited),
            Reason::LimiterUnavailable
            | Reason::LimitStoreTimeout
            | Reason::LimitStoreError
            | Reason::LimitStoreUnsupported => (503, "limiter_unavailable", Error),
            Reason::ForwardedUnscanned
            | Reason::CompressedUnscanned
            | Reason::UnknownContentUnscanned
            | Reason::InvalidUtf8
            | Reason::RedactionUnsupported
            | Reason::ProtocolError
            | Reason::ClientAborted
            | Reason::IncompleteRequest
            | Reason::UpstreamTimeout
            | Reason::UpstreamReset
            | Reason::UpstreamError => return None,
        })
    }

    /// The reply's message when the refusal has no more specific one.
    fn message(self) -> &'static str {
        match self {
            Reason::ConflictingIdentity => {
                "The request carries more than one different credential."
            }
            Reason::MissingApiKey => {
                "No API key was provided. Send it as `Authorization: Bearer <key>`."
            }
            Reason::MissingIdentity => "The request carries no authenticated identity.",
            Reason::InvalidApiKey => "The API key is not valid.",
            Reason::ConsumerNotAllowed => "This consumer is not allowed to use this gateway.",
            Reason::PathNotAllowed => "This API endpoint is not available to this consumer.",
            Reason::UncheckedParseError | Reason::ParseError => {
                "The request body is not valid JSON."
            }
            Reason::BodyNotJsonObject => {
                "The gateway checks model and request limits in JSON object bodies only."
            }
            Reason::CompressedBody => {
                "Compressed request bodies are not accepted by the gateway; send it uncompressed."
            }
            Reason::UnsupportedContentType => {
                "The gateway does not accept request bodies of this type; send JSON, a form, multipart or text/*."
            }
            Reason::ContentPolicy | Reason::ClassifierBlocked => {
                "The request was blocked by the gateway's content policy."
            }
            Reason::ClassifierUnavailable => "The gateway's content classifier is unavailable.",
            Reason::DuplicateKey => "The request body has a duplicate key.",
            Reason::JsonTooDeep => "The request body nests deeper than 128 levels.",
            Reason::BudgetExceeded => "The gateway's spending budget is exhausted.",
            Reason::LimiterUnavailable
            | Reason::LimitStoreTimeout
            | Reason::LimitStoreError
            | Reason::LimitStoreUnsupported => "The gateway's limiter is unavailable.",
            _ => "The request was refused by the gateway.",
        }
    }
}

/// A request the filter answers itself. Build one with a constructor; read what it answers with
/// [`Refusal::decision`], [`Refusal::audit_reason`] and [`Refusal::reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: Reason,
    /// The error `code` when it differs from the `type` (contract violations).
    code: Option<&'static str>,
    /// The error `param`: the contract field, or `model`.
    param: Option<&'static str>,
    message: Cow<'static, str>,
    /// The limit that refused (limit refusals only).
    pub limit: Option<&'static str>,
    /// Reply headers beyond `content-type`.
    headers: Vec<(&'static str, String)>,
    /// The request's `model` and API shape, for the audit event (body refusals only).
    pub model: Option<String>,
    pub api: Option<&'static str>,
}

impl Refusal {
    /// A refusal with the reason's own message.
    pub fn new(reason: Reason) -> Refusal {
        debug_assert!(reason.refusal().is_some(), "{reason:?} is not a refusal");
        Refusal {
            reason,
            code: None,
            param: None,
            message: Cow::Borrowed(reason.message()),
            limit: None,
            headers: Vec::new(),
            model: None,
            api: None,
        }
    }

    /// A refusal with its own message.
    pub fn with_message(reason: Reason, message: String) -> Refusal {
        Refusal {
            message: Cow::Owned(message),
            ..Refusal::new(reason)
        }
    }

    /// 413: the body is larger than `max_body_bytes` (or, `unreadable`, the host would not hand
    /// it over: same answer, its own audit reason).
    pub fn body_too_large(limit: usize, unreadable: bool) -> Refusal {
        let reason = if unreadable {
            Reason::BodyUnreadable
        } else {
            Reason::BodyTooLarge
        };
        let message = format!("request body exceeds the limit of {limit} bytes");
        Refusal::with_message(reason, message)
    }

    /// 400: a body whose reading could differ from the upstream's (issue 17); the message names
    /// the JSON path of a duplicate key, never a value.
    pub fn body_problem(p: &crate::extract::BodyProblem) -> Refusal {
        let reason = match p {
            crate::extract::BodyProblem::DuplicateKey(_) => Reason::DuplicateKey,
            crate::extract::BodyProblem::TooDeep => Reason::JsonTooDeep,
        };
        Refusal::with_message(reason, p.message())
    }

    /// 415: a compressed body.
    pub fn compressed_body() -> Refusal {
        Refusal::new(Reason::CompressedBody).with_header("accept-encoding", "identity".into())
    }

    /// 403: the consumer's `models` do not include `model` (already sanitised for the message).
    pub fn model_not_allowed(model: &str) -> Refusal {
        let message = format!("The model `{model}` is not available to this consumer.");
        Refusal {
            param: Some("model"),
            ..Refusal::with_message(Reason::ModelNotAllowed, message)
        }
    }

    /// 403: the consumer's `apis` do not include `shape`.
    pub fn api_not_allowed(shape: &str) -> Refusal {
        let message = format!("The `{shape}` API is not available to this consumer.");
        Refusal::with_message(Reason::ApiNotAllowed, message)
    }

    /// A limiter denial, with its rate-limit and `retry-after` headers.
    pub fn limited(denial: &Denial, headers: Vec<(&'static str, String)>) -> Refusal {
        let reason = match denial.kind {
            DenialKind::RateLimit => Reason::RateLimited,
            DenialKind::BudgetExceeded => Reason::BudgetExceeded,
            DenialKind::TooManyConsumers => Reason::TooManyConsumers,
            DenialKind::LimiterUnavailable => Reason::LimiterUnavailable,
            DenialKind::StoreUnavailable(f) => Reason::limit_store(f),
        };
        let mut r = match reason {
            Reason::RateLimited | Reason::TooManyConsumers => {
                Refusal::with_message(reason, format!("Rate limit reached ({}).", denial.limit))
            }
            _ => Refusal::new(reason),
        };
        r.limit = Some(denial.limit);
        r.headers = headers;
        r
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Refusal {
        self.headers.push((name, value));
        self
    }

    /// HTTP status.
    pub fn status(&self) -> u32 {
        self.reason.refusal().map_or(400, |(s, _, _)| s)
    }

    /// The audit `decision`, also the `decision` label of `promptgate_requests_total`.
    pub fn decision(&self) -> Decision {
        self.reason.refusal().map_or(Decision::Error, |(_, _, d)| d)
    }

    /// The error `type` of the reply.
    pub fn error_type(&self) -> &'static str {
        self.reason
            .refusal()
            .map_or("invalid_request", |(_, t, _)| t)
    }

    /// The audit `reason`.
    pub fn audit_reason(&self) -> Cow<'static, str> {
        match (self.reason, self.param, self.limit) {
            (Reason::Contract, Some(param), _) => Cow::Owned(format!("contract:{param}")),
            (Reason::RateLimited, _, Some(limit)) => Cow::Borrowed(limit),
            (r, _, _) => Cow::Borrowed(r.as_str()),
        }
    }

    /// The reply: an OpenAI-shaped JSON error carrying `request_id`.
    pub fn reply(&self, request_id: Option<&str>) -> LocalReply {
        let kind = self.error_type();
        let mut reply = LocalReply::error_with(
            self.status(),
            kind,
            self.code.unwrap_or(kind),
            self.param,
            &self.message,
            request_id,
        );
        for (name, value) in &self.headers {
            reply = reply.with_header(name, value.as_str());
        }
        reply
    }
}

impl From<Violation> for Refusal {
    fn from(v: Violation) -> Refusal {
        Refusal {
            code: Some(v.code),
            param: Some(v.param),
            ..Refusal::with_message(Reason::Contract, v.message)
        }
    }
}

impl From<IdentityConflict> for Refusal {
    fn from(_: IdentityConflict) -> Refusal {
        Refusal::new(Reason::ConflictingIdentity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn body(r: &Refusal) -> Value {
        serde_json::from_slice(&r.reply(Some("rid")).body).unwrap()
    }

    #[test]
    fn reasons_are_listed_once_and_distinct() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert!(!Reason::ALL[..i].contains(r), "{r:?} listed twice");
            for other in &Reason::ALL[..i] {
                let shared = [Reason::ParseError, Reason::UncheckedParseError];
                if r.as_str() == other.as_str() {
                    assert!(
                        shared.contains(r) && shared.contains(other),
                        "{r:?} {other:?}"
                    );
                }
            }
        }
    }

    /// The closed set in docs/observability.md is `Reason::ALL`'s audit reasons.
    #[test]
    fn docs_list_every_reason() {
        let doc = include_str!("../docs/observability.md");
        let start = doc
            .find("<!-- reasons: start -->")
            .expect("docs/observability.md has the reasons table");
        let end = doc.find("<!-- reasons: end -->").unwrap();
        let listed: Vec<&str> = doc[start..end]
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .collect();
        let label = |r: Reason| match r {
            Reason::Contract => "contract:<field>",
            Reason::RateLimited => "<limit>",
            r => r.as_str(),
        };
        let mut want: Vec<&str> = Vec::new();
        for r in Reason::ALL {
            if !want.contains(&label(r)) {
                want.push(label(r)); // parse_error once
            }
        }
        assert_eq!(listed, want);
    }

    #[test]
    fn status_type_and_decision_derive_from_the_reason() {
        let r = Refusal::new(Reason::ContentPolicy);
        assert_eq!(
            (r.status(), r.error_type(), r.decision()),
            (403, "prompt_injection_detected", Decision::Blocked)
        );
        assert_eq!(r.audit_reason(), "content_policy");
        let v = body(&r);
        assert_eq!(v["error"]["type"], "prompt_injection_detected");
        assert_eq!(v["error"]["code"], "prompt_injection_detected");
        assert_eq!(v["error"]["request_id"], "rid");
        assert!(v["error"]["param"].is_null());

        let r = Refusal::new(Reason::UncheckedParseError);
        assert_eq!(
            (r.decision(), r.audit_reason().as_ref()),
            (Decision::Invalid, "parse_error")
        );
        let r = Refusal::new(Reason::ParseError);
        assert_eq!(
            (r.decision(), r.audit_reason().as_ref()),
            (Decision::Blocked, "parse_error")
        );
        for reason in Reason::ALL {
            if let Some((status, kind, _)) = reason.refusal() {
                let r = Refusal::new(reason);
                assert_eq!(r.reply(None).status, status);
                assert_eq!(body(&r)["error"]["type"], kind);
            }
        }
    }

    #[test]
    fn contract_violation_names_the_field() {
        let r = Refusal::from(Violation {
            param: "max_tokens",
            code: "integer_above_max_value",
            message: "too big".into(),
        });
        assert_eq!(r.audit_reason(), "contract:max_tokens");
        assert_eq!(r.decision(), Decision::Invalid);
        let v = body(&r);
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "integer_above_max_value");
        assert_eq!(v["error"]["param"], "max_tokens");
        assert_eq!(v["error"]["message"], "too big");
    }

    #[test]
    fn limit_refusals_carry_the_limit_and_headers() {
        let denial = |kind, limit| Denial {
            kind,
            limit,
            retry_after_secs: None,
        };
        let h = vec![("retry-after", "3".to_string())];
        let r = Refusal::limited(&denial(DenialKind::RateLimit, "requests_per_minute"), h);
        assert_eq!(r.audit_reason(), "requests_per_minute");
        assert_eq!((r.status(), r.decision()), (429, Decision::RateLimited));
        assert_eq!(r.limit, Some("requests_per_minute"));
        let reply = r.reply(None);
        assert_eq!(reply.headers, vec![("retry-after".into(), "3".into())]);
        assert_eq!(
            body(&r)["error"]["message"],
            "Rate limit reached (requests_per_minute)."
        );
        let r = Refusal::limited(&denial(DenialKind::BudgetExceeded, "global_budget"), vec![]);
        assert_eq!(
            (r.status(), r.decision(), r.audit_reason().as_ref()),
            (429, Decision::BudgetExceeded, "global_budget")
        );
        let r = Refusal::limited(
            &denial(DenialKind::LimiterUnavailable, "shared_data"),
            vec![],
        );
        assert_eq!(
            (r.status(), r.error_type(), r.decision()),
            (503, "limiter_unavailable", Decision::Error)
        );
        let r = Refusal::limited(
            &denial(DenialKind::TooManyConsumers, "max_consumers"),
            vec![],
        );
        assert_eq!(
            (r.status(), r.error_type(), r.audit_reason().as_ref()),
            (429, "too_many_consumers", "max_consumers")
        );
    }

    #[test]
    fn body_refusals() {
        let r = Refusal::body_too_large(10, false);
        assert_eq!(
            (r.status(), r.audit_reason().as_ref()),
            (413, "body_too_large")
        );
        assert_eq!(
            body(&r)["error"]["message"],
            "request body exceeds the limit of 10 bytes"
        );
        let r = Refusal::body_too_large(10, true);
        assert_eq!(
            (r.decision(), r.audit_reason().as_ref()),
            (Decision::Oversize, "body_unreadable")
        );
        let reply = Refusal::compressed_body().reply(None);
        assert_eq!(reply.status, 415);
        assert_eq!(
            reply.headers,
            vec![("accept-encoding".into(), "identity".into())]
        );
    }
}

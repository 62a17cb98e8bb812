//! Local replies the filter sends instead of forwarding: OpenAI-style JSON error bodies. What
//! they say is decided by `outcome::Refusal`.
//!
//! The body never names the rule that fired or echoes request content; it carries a stable
//! `type`/`code` a client can branch on and the request id an operator can grep the audit log for.

use serde::Serialize;

/// A reply the filter answers with, in place of the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u32,
    pub body: Vec<u8>,
    /// Extra headers beyond `content-type` (e.g. `retry-after`).
    pub headers: Vec<(String, String)>,
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

impl LocalReply {
    /// An OpenAI-shaped error: `{"error":{"message","type","param","code","request_id"}}`.
    pub fn error(status: u32, kind: &str, message: &str, request_id: Option<&str>) -> LocalReply {
        LocalReply::error_with(status, kind, kind, None, message, request_id)
    }

    /// An OpenAI-shaped error with its own `code` and `param` (e.g. type
    /// `invalid_request_error`, code `integer_above_max_value`, param `max_tokens`).
    pub fn error_with(
        status: u32,
        kind: &str,
        code: &str,
        param: Option<&str>,
        message: &str,
        request_id: Option<&str>,
    ) -> LocalReply {
        let body = serde_json::to_vec(&ErrorEnvelope {
            error: ErrorBody {
                message,
                kind,
                param,
                code,
                request_id,
            },
        })
        .unwrap_or_else(|_| b"{\"error\":{\"type\":\"internal_error\"}}".to_vec());
        LocalReply {
            status,
            body,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> LocalReply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_openai_shaped() {
        let r = LocalReply::error(403, "prompt_injection_detected", "blocked", Some("abc"));
        assert_eq!(r.status, 403);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["error"]["type"], "prompt_injection_detected");
        assert_eq!(v["error"]["code"], "prompt_injection_detected");
        assert_eq!(v["error"]["message"], "blocked");
        assert_eq!(v["error"]["request_id"], "abc");
        assert!(v["error"]["param"].is_null());
    }

    #[test]
    fn request_id_is_omitted_when_unknown() {
        let r = LocalReply::error(413, "request_too_large", "too large", None);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(r.status, 413);
        assert!(v["error"].get("request_id").is_none());
        assert_eq!(v["error"]["message"], "too large");
    }

    #[test]
    fn error_with_sets_code_and_param() {
        let r = LocalReply::error_with(
            400,
            "invalid_request_error",
            "integer_above_max_value",
            Some("max_tokens"),
            "too big",
            None,
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "integer_above_max_value");
        assert_eq!(v["error"]["param"], "max_tokens");
    }

    #[test]
    fn hostile_request_id_stays_valid_json() {
        let r = LocalReply::error(400, "x", "m", Some("\"}\u{0}\n"));
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["error"]["request_id"], "\"}\u{0}\n");
    }
}

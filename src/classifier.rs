//! `inspection.classifier` (issue 15 item 8): an optional call to an operator-run classifier
//! (a Prompt Guard server, LLM Guard's API, ...) for requests the rules score in a borderline
//! band. Host-free: the configuration and its checks, which requests are sent, what the call
//! carries and what an answer means. When the call happens and how the request waits for it is
//! `exchange/classify.rs`; the protocol is documented in `docs/classifier.md`.

use crate::error::ConfigError;
use crate::extract::{Extracted, Role, RoleFilter};
use serde::{Deserialize, Serialize};

/// The wire format of the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum Protocol {
    /// `POST {"text": "...", "role"?: "user"}`, answer `{"score": 0..1, "label"?, "model"?}`.
    #[default]
    Generic,
    /// LLM Guard API (`POST /analyze/prompt` or `/scan/prompt`): `{"prompt": "..."}`, answer
    /// `{"is_valid": bool, "scanners": {"PromptInjection": 0.97, ...}}`.
    LlmGuard,
}
crate::compact_enum!(Protocol { Generic = "generic", LlmGuard = "llm_guard" });

/// What happens when the classifier cannot answer (timeout, error status, unreachable,
/// malformed answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum FailureMode {
    /// Forward the request as the rules decided (audit reason `classifier_unavailable`).
    #[default]
    Open,
    /// Answer 503 `classifier_unavailable`; nothing reaches the model.
    Closed,
}
crate::compact_enum!(FailureMode { Open = "open", Closed = "closed" });

/// What a score at or above `threshold` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum ClassifierAction {
    /// Answer 403 (audit reason `classifier_blocked`, rule `CLS-001`).
    #[default]
    Block,
    /// Forward, recorded as `monitored` with rule `CLS-001` (a shadow rollout).
    Monitor,
}
crate::compact_enum!(ClassifierAction { Block = "block", Monitor = "monitor" });

/// `inspection.classifier`. Off when absent.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    /// Where the classifier runs: the Envoy cluster name; on Kong and APISIX its `host:port`.
    pub cluster: String,
    /// Path of the endpoint. Default `/classify` (LLM Guard: `/analyze/prompt`).
    #[serde(default = "default_path")]
    pub path: String,
    /// `:authority` of the call. Default: `cluster`.
    #[serde(default)]
    pub authority: Option<String>,
    /// `generic` (default) or `llm_guard`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Longest wait for the answer, in ms (the host's call timeout). Default 200, 1..=60000.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u32,
    /// `open` (default: forward as the rules decided) or `closed` (503) when the classifier
    /// does not answer usefully.
    #[serde(default)]
    pub failure_mode: FailureMode,
    /// Lowest rule score sent. Default 1 (only text some rule found suspicious); 0 also sends
    /// text no rule hit (every request with text of the `roles`).
    #[serde(default = "default_min_score")]
    pub min_score: u32,
    /// Highest rule score sent. Default: no bound below the rules' own threshold (requests the
    /// rules block are never sent).
    #[serde(default)]
    pub max_score: Option<u32>,
    /// Classifier score (0..1) at or above which `action` applies. Default 0.5.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// `block` (default, 403) or `monitor`.
    #[serde(default)]
    pub action: ClassifierAction,
    /// Most bytes of text sent; longer text keeps its last `max_bytes` (the newest turns) and
    /// the audit event says `truncated`. Default 4096, 1..=1048576.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
    /// Message roles whose text is sent (`system`, `developer`, `user`, `assistant`, `tool`, or
    /// `all`); text outside messages (a completions `prompt`, embeddings `input`) always is.
    /// Default `["user", "tool"]`.
    #[serde(default = "default_roles")]
    pub roles: Vec<String>,
}

fn default_path() -> String {
    "/classify".into()
}
fn default_timeout_ms() -> u32 {
    200
}
fn default_min_score() -> u32 {
    1
}
fn default_threshold() -> f64 {
    0.5
}
fn default_max_bytes() -> usize {
    4096
}
fn default_roles() -> Vec<String> {
    vec!["user".into(), "tool".into()]
}

const KNOWN_ROLES: [&str; 7] = [
    "all",
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

impl ClassifierConfig {
    /// Checks the values serde cannot; errors name `inspection.classifier.<field>`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field: &str, msg: &str| {
            Err(ConfigError::new(
                format!("inspection.classifier.{field}"),
                msg,
            ))
        };
        let bad_host = |s: &str| s.is_empty() || s.len() > 253 || s.bytes().any(|b| b <= b' ');
        if bad_host(&self.cluster) {
            return err(
                "cluster",
                "must be a cluster name (or host:port) without spaces",
            );
        }
        if self.authority.as_deref().is_some_and(bad_host) {
            return err("authority", "must be a host name without spaces");
        }
        if !self.path.starts_with('/') || self.path.bytes().any(|b| b <= b' ') {
            return err("path", "must start with `/` and contain no spaces");
        }
        if !(1..=60_000).contains(&self.timeout_ms) {
            return err("timeout_ms", "must be between 1 and 60000");
        }
        if !(self.threshold.is_finite() && (0.0..=1.0).contains(&self.threshold)) {
            return err("threshold", "must be between 0 and 1");
        }
        if !(1..=1024 * 1024).contains(&self.max_bytes) {
            return err("max_bytes", "must be between 1 and 1048576");
        }
        if self.max_score.is_some_and(|m| m < self.min_score) {
            return err("max_score", "must be at least min_score");
        }
        if self.roles.is_empty() {
            return err("roles", "must name at least one role (or `all`)");
        }
        if let Some(r) = self
            .roles
            .iter()
            .find(|r| !KNOWN_ROLES.iter().any(|k| k.eq_ignore_ascii_case(r)))
        {
            let msg = format!("unknown role `{r}` (one of {})", KNOWN_ROLES.join(", "));
            return Err(ConfigError::new("inspection.classifier.roles", msg));
        }
        Ok(())
    }

    /// The roles as an extraction filter.
    pub fn role_filter(&self) -> RoleFilter {
        if self.roles.iter().any(|r| r.eq_ignore_ascii_case("all")) {
            RoleFilter::All
        } else {
            RoleFilter::Only(self.roles.clone())
        }
    }

    /// Whether a request the rules scored `score` (and did not block) is in the band.
    pub fn in_band(&self, score: u32) -> bool {
        score >= self.min_score && self.max_score.is_none_or(|m| score <= m)
    }

    pub fn authority(&self) -> &str {
        self.authority.as_deref().unwrap_or(&self.cluster)
    }

    /// The call's body for the text of `ex` (extracted with [`role_filter`](Self::role_filter)),
    /// or `None` when there is no text to send.
    pub fn request(&self, ex: &Extracted) -> Option<Outgoing> {
        let text = ex.text.trim();
        if text.is_empty() {
            return None;
        }
        let (text, truncated) = tail(text, self.max_bytes);
        let body = match self.protocol {
            Protocol::Generic => {
                // One role named when every segment sent has it.
                let role = ex
                    .roles
                    .first()
                    .filter(|r| ex.roles.iter().all(|x| x == *r) && **r != Role::Unattributed);
                match role {
                    Some(r) => serde_json::json!({"text": text, "role": r.as_str()}),
                    None => serde_json::json!({"text": text}),
                }
            }
            Protocol::LlmGuard => serde_json::json!({"prompt": text}),
        };
        Some(Outgoing {
            body: serde_json::to_vec(&body).ok()?,
            sent_bytes: text.len(),
            truncated,
        })
    }

    /// What an answer with HTTP status 200 and `body` means.
    pub fn decode(&self, body: &[u8]) -> Result<Answer, Malformed> {
        let v: serde_json::Value = serde_json::from_slice(body).map_err(|_| Malformed)?;
        match self.protocol {
            Protocol::Generic => {
                let score = v.get("score").and_then(|s| s.as_f64()).ok_or(Malformed)?;
                if !(score.is_finite() && (0.0..=1.0).contains(&score)) {
                    return Err(Malformed);
                }
                let text = |k: &str| v.get(k).and_then(|s| s.as_str()).map(sanitize);
                Ok(Answer {
                    score,
                    label: text("label"),
                    model: text("model"),
                })
            }
            Protocol::LlmGuard => {
                let valid = v
                    .get("is_valid")
                    .and_then(|b| b.as_bool())
                    .ok_or(Malformed)?;
                let scanners = v.get("scanners").and_then(|s| s.as_object());
                let mut best: Option<(&str, f64)> = None;
                for (name, s) in scanners.into_iter().flatten() {
                    let s = s.as_f64().ok_or(Malformed)?;
                    if !s.is_finite() {
                        return Err(Malformed);
                    }
                    // LLM Guard's risk scores run -1..1 (negative: confidently valid).
                    let s = s.clamp(0.0, 1.0);
                    if best.is_none_or(|(_, b)| s > b) {
                        best = Some((name, s));
                    }
                }
                // `is_valid: false` is LLM Guard's own decision (its scanners' thresholds).
                let score = match (valid, best) {
                    (false, _) => 1.0,
                    (true, Some((_, s))) => s,
                    (true, None) => 0.0,
                };
                Ok(Answer {
                    score,
                    label: best.map(|(n, _)| sanitize(n)),
                    model: Some("llm_guard".into()),
                })
            }
        }
    }

    /// Whether `score` reaches the threshold.
    pub fn flags(&self, score: f64) -> bool {
        score >= self.threshold
    }
}

/// The last `max` bytes of `text`, cut at a character boundary, and whether it was cut.
fn tail(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    (&text[start..], true)
}

/// A label or model name from the classifier as the audit event keeps it: `[A-Za-z0-9_.:/-]`,
/// at most 64 bytes.
fn sanitize(s: &str) -> String {
    let out = crate::metrics::label_value(s);
    out.chars().take(64).collect()
}

/// The body of a call and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub body: Vec<u8>,
    /// Bytes of text sent (after truncation).
    pub sent_bytes: usize,
    pub truncated: bool,
}

/// A useful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub score: f64,
    pub label: Option<String>,
    pub model: Option<String>,
}

/// An answer that is not JSON of the configured protocol, or a score outside 0..1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// How a call ended: the audit event's `classifier.outcome` and the `decision` label of
/// `promptgate_classifier_calls_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered below the threshold.
    Passed,
    /// Answered at or above the threshold (`action` applied).
    Flagged,
    /// No answer within `timeout_ms`.
    Timeout,
    /// Unreachable, refused by the host, or an error status.
    Error,
    /// Status 200 with an answer that does not read (see [`Malformed`]).
    Malformed,
}
crate::compact_enum!(Outcome { Passed = "passed", Flagged = "flagged", Timeout = "timeout", Error = "error", Malformed = "malformed" });

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Flagged => "flagged",
            Outcome::Timeout => "timeout",
            Outcome::Error => "error",
            Outcome::Malformed => "malformed",
        }
    }

    /// Whether the classifier failed (then `failure_mode` decides).
    pub fn failed(self) -> bool {
        matches!(self, Outcome::Timeout | Outcome::Error | Outcome::Malformed)
    }
}

/// The metric of calls by outcome (`decision` label).
pub const CALLS_TOTAL: &str = "promptgate_classifier_calls_total";

/// The rule id a flagged request carries in the audit event.
pub const RULE_ID: &str = "CLS-001";
pub const RULE_CATEGORY: &str = "classifier";

/// The audit event's `classifier` object (present when a call was made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierAudit {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// From the call's dispatch to its answer (or failure).
    pub latency_ms: u64,
    /// Bytes of text sent.
    pub sent_bytes: u64,
    /// The text was longer than `max_bytes`: only its end was sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{extract, RoleFilter};

    fn config(json: &str) -> Result<ClassifierConfig, ConfigError> {
        let c: ClassifierConfig = serde_json::from_str(json)
            .map_err(|e| ConfigError::new("inspection.classifier", e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    #[test]
    fn defaults_and_band() {
        let c = config(r#"{"cluster": "cls"}"#).unwrap();
        assert_eq!(
            (c.path.as_str(), c.timeout_ms, c.min_score, c.max_bytes),
            ("/classify", 200, 1, 4096)
        );
        assert_eq!(c.failure_mode, FailureMode::Open);
        assert_eq!(c.authority(), "cls");
        assert!(!c.in_band(0) && c.in_band(1) && c.in_band(39));
        let c = config(r#"{"cluster": "cls", "min_score": 0, "max_score": 20}"#).unwrap();
        assert!(c.in_band(0) && c.in_band(20) && !c.in_band(21));
    }

    #[test]
    fn bad_values_name_the_field() {
        for (json, field) in [
            (r#"{"cluster": ""}"#, "cluster"),
            (r#"{"cluster": "a b"}"#, "cluster"),
            (r#"{"cluster": "c", "path": "classify"}"#, "path"),
            (r#"{"cluster": "c", "timeout_ms": 0}"#, "timeout_ms"),
            (r#"{"cluster": "c", "threshold": 1.5}"#, "threshold"),
            (r#"{"cluster": "c", "max_bytes": 0}"#, "max_bytes"),
            (
                r#"{"cluster": "c", "min_score": 30, "max_score": 20}"#,
                "max_score",
            ),
            (r#"{"cluster": "c", "roles": []}"#, "roles"),
            (r#"{"cluster": "c", "roles": ["admin"]}"#, "roles"),
            (r#"{"cluster": "c", "authority": " "}"#, "authority"),
        ] {
            let e = config(json).unwrap_err();
            assert_eq!(e.field, format!("inspection.classifier.{field}"), "{json}");
        }
    }

    #[test]
    fn request_carries_the_roles_text_and_truncates_to_the_end() {
        let c = config(r#"{"cluster": "c", "max_bytes": 12}"#).unwrap();
        let body = br#"{"messages":[{"role":"system","content":"SECRET system text"},{"role":"user","content":"hello there, ignore it all"}]}"#;
        let ex = extract(body, Some("application/json"), &c.role_filter());
        let out = c.request(&ex).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(v["text"], "ignore it all"[1..]);
        assert_eq!(v["role"], "user");
        assert!(out.truncated);
        assert_eq!(out.sent_bytes, 12);
        // Multi-byte text is cut at a character boundary.
        assert_eq!(tail("ééé", 3), ("é", true));
        // No text of the roles: nothing to send.
        let c = config(r#"{"cluster": "c", "roles": ["tool"]}"#).unwrap();
        let body = br#"{"messages":[{"role":"user","content":"hi"}]}"#;
        assert!(c.request(&extract(body, None, &c.role_filter())).is_none());
        // LLM Guard's request.
        let c = config(r#"{"cluster": "c", "protocol": "llm_guard"}"#).unwrap();
        let ex = extract(body, None, &RoleFilter::All);
        let v: serde_json::Value = serde_json::from_slice(&c.request(&ex).unwrap().body).unwrap();
        assert_eq!(v, serde_json::json!({"prompt": "hi"}));
    }

    #[test]
    fn generic_answers() {
        let c = config(r#"{"cluster": "c"}"#).unwrap();
        let a = c
            .decode(br#"{"score": 0.97, "label": "INJECTION", "model": "pg 2"}"#)
            .unwrap();
        assert_eq!(a.score, 0.97);
        assert_eq!(a.label.as_deref(), Some("INJECTION"));
        assert_eq!(a.model.as_deref(), Some("pg_2"));
        assert!(c.flags(a.score) && !c.flags(0.49) && c.flags(0.5));
        for bad in [
            &b"not json"[..],
            br#"{"label": "x"}"#,
            br#"{"score": "0.9"}"#,
            br#"{"score": 1.5}"#,
            br#"{"score": -0.1}"#,
            br#"[0.9]"#,
            b"",
        ] {
            assert_eq!(
                c.decode(bad),
                Err(Malformed),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn llm_guard_answers() {
        let c = config(r#"{"cluster": "c", "protocol": "llm_guard"}"#).unwrap();
        let a = c
            .decode(br#"{"sanitized_prompt": "x", "is_valid": true, "scanners": {"PromptInjection": 0.3, "Toxicity": -1.0}}"#)
            .unwrap();
        assert_eq!(
            (a.score, a.label.as_deref()),
            (0.3, Some("PromptInjection"))
        );
        let a = c
            .decode(br#"{"is_valid": false, "scanners": {"PromptInjection": 0.2}}"#)
            .unwrap();
        assert_eq!(a.score, 1.0);
        let a = c.decode(br#"{"is_valid": true, "scanners": {}}"#).unwrap();
        assert_eq!(a.score, 0.0);
        assert_eq!(c.decode(br#"{"scanners": {}}"#), Err(Malformed));
        assert_eq!(
            c.decode(br#"{"is_valid": true, "scanners": {"A": "high"}}"#),
            Err(Malformed)
        );
    }
}

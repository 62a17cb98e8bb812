//! The audit event: one JSON object per request, schema `promptgate.audit.v2`
//! (`schemas/audit-v2.schema.json`). It carries hashes, sizes and decisions, never the raw prompt
//! or API key, unless the operator sets `audit.include_prompt` (and then only the redacted text).
//!
//! v2 (2026-12, issue 16) replaced v1's `prompt_sha256` with `prompt_hash`: BLAKE3 keyed with a
//! key derived from the deployment's salt (`identity.salt`), see [`PromptHasher`]. An unkeyed
//! SHA-256 of a short prompt can be confirmed by hashing guesses; without the salt a keyed hash
//! cannot. BLAKE3 is also cheaper per byte than SHA-256 in wasm (SIMD128: four chunks at once).

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

pub const SCHEMA: &str = "promptgate.audit.v2";

/// The BLAKE3 key-derivation context of the prompt hash's key (fixed: changing it changes every
/// hash).
pub const PROMPT_HASH_CONTEXT: &str = "promptgate 2026-12 audit prompt_hash";

/// The audit event's prompt hash: `BLAKE3-keyed(derive_key(PROMPT_HASH_CONTEXT, salt), text)`,
/// lower-case hex (64 digits). The key is derived once per configuration. A known text can be
/// checked offline with `b3sum` (`docs/observability.md`).
#[derive(Clone)]
pub struct PromptHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for PromptHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PromptHasher(..)")
    }
}

impl PromptHasher {
    /// The hasher of a deployment whose `identity.salt` is `salt`.
    pub fn new(salt: &str) -> Self {
        PromptHasher {
            key: blake3::derive_key(PROMPT_HASH_CONTEXT, salt.as_bytes()),
        }
    }

    /// Lower-case hex keyed BLAKE3 of `text`.
    pub fn hex(&self, text: &[u8]) -> String {
        hex32(blake3::keyed_hash(&self.key, text).as_bytes())
    }
}

fn hex32(bytes: &[u8; 32]) -> String {
    let mut out = String::with_capacity(64);
    for &b in bytes {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// Audit settings.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct AuditConfig {
    /// Write one audit event per request to the host log (Envoy: the `wasm` log component).
    pub enabled: bool,
    /// Include the prompt text in the event, after redaction of matched spans. Off by default:
    /// the event carries only the prompt's keyed hash and size.
    pub include_prompt: bool,
    /// Also store the event in the host's filter state (Envoy: `wasm.promptgate_audit`, usable
    /// in access logs as `%FILTER_STATE(wasm.promptgate_audit:PLAIN)%`). Default false since
    /// 2026-12 (issue 16: one host call per request less); only Envoy has filter state.
    pub filter_state: bool,
    /// Write the event to the host log (Envoy: the `wasm` log component, info level). Default
    /// true; with `filter_state: true` and `log: false` the event goes to filter state only.
    pub log: bool,
}
crate::compact_struct!(AuditConfig {
    enabled,
    include_prompt,
    filter_state,
    log
});

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: true,
            include_prompt: false,
            filter_state: false,
            log: true,
        }
    }
}

/// What the filter did with a request. Also the `decision` label of `promptgate_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    Blocked,
    Redacted,
    Monitored,
    RateLimited,
    BudgetExceeded,
    Oversize,
    Error,
    /// 401: authentication is on and the credential is missing or unknown.
    Unauthenticated,
    /// 403: the consumer may not use this model, path or API.
    Forbidden,
    /// 400: the request breaks the request contract (or cannot be checked against it).
    Invalid,
}
crate::compact_enum!(Decision { Allowed = "allowed", Blocked = "blocked", Redacted = "redacted", Monitored = "monitored", RateLimited = "rate_limited", BudgetExceeded = "budget_exceeded", Oversize = "oversize", Error = "error", Unauthenticated = "unauthenticated", Forbidden = "forbidden", Invalid = "invalid" });

impl Decision {
    pub const ALL: [Decision; 11] = [
        Decision::Allowed,
        Decision::Blocked,
        Decision::Redacted,
        Decision::Monitored,
        Decision::RateLimited,
        Decision::BudgetExceeded,
        Decision::Oversize,
        Decision::Error,
        Decision::Unauthenticated,
        Decision::Forbidden,
        Decision::Invalid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Blocked => "blocked",
            Decision::Redacted => "redacted",
            Decision::Monitored => "monitored",
            Decision::RateLimited => "rate_limited",
            Decision::BudgetExceeded => "budget_exceeded",
            Decision::Oversize => "oversize",
            Decision::Error => "error",
            Decision::Unauthenticated => "unauthenticated",
            Decision::Forbidden => "forbidden",
            Decision::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRef {
    pub id: String,
    pub category: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tokens {
    pub prompt: u64,
    pub completion: u64,
    pub total: u64,
    /// True when the figures are the filter's estimate (no usage in the response).
    pub estimated: bool,
}

/// One audit event. Field order is the serialised order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub schema: String,
    /// RFC 3339 UTC time the request arrived, millisecond precision.
    pub time: String,
    pub request_id: Option<String>,
    pub route: Option<String>,
    pub cluster: Option<String>,
    /// Hashed consumer id (never the raw key), or `anonymous`.
    pub consumer: Option<String>,
    pub model: Option<String>,
    /// Request shape: `chat`, `completions`, `responses`, `anthropic_messages`, `embeddings`,
    /// `other_json`, `text`, or `none` for requests without a body.
    pub api: String,
    pub decision: Decision,
    /// Why, in a word, when the decision is not `allowed` (e.g. `parse_error`, `requests_per_minute`).
    pub reason: Option<String>,
    pub rules: Vec<RuleRef>,
    pub score: f64,
    /// Keyed BLAKE3 of the scanned prompt text, hex ([`PromptHasher`]; absent when there was
    /// none or audit is off).
    pub prompt_hash: Option<String>,
    /// Size of that text (the scanned strings joined by newlines): what the limiter's estimate
    /// is made from. For a body forwarded unread (compressed), the body's declared size.
    pub prompt_bytes: u64,
    pub body_bytes: u64,
    pub tokens: Option<Tokens>,
    /// Cost in micro-units of `currency`.
    pub cost_micros: Option<u64>,
    pub currency: Option<String>,
    /// The limit that decided, when one did; and the remaining request quota when known.
    pub limit: Option<String>,
    pub upstream_status: Option<u32>,
    pub latency_ms: u64,
    pub streamed: bool,
    /// What the gateway changed in the forwarded request: `clamped:<field>`,
    /// `defaulted:<field>` (request contract), `upstream_key` (client key replaced),
    /// `stream_options.include_usage` (added to a stream, see `include_stream_usage`). Omitted
    /// when nothing was changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rewrites: Vec<String>,
    /// Media types of embedded files the filter recognised and did not inspect (PDF, office
    /// documents, images, audio; `binary` when only the file's extension or format said so),
    /// at most 16, in body order ([`media_type_label`]). Omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_inspected: Vec<String>,
    /// Scanned strings (messages, content blocks) whose scan result came from the per-message
    /// cache (`inspection.cache`): the history a chat client resent. Omitted when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_messages: u32,
    /// Only with `audit.include_prompt: true`, and then after redaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// What the output guard did with the answer (`response_guard`); omitted when it is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<crate::response::ResponseAudit>,
    /// The external classifier's answer (`inspection.classifier`), when it was called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier: Option<crate::classifier::ClassifierAudit>,
    /// The learned scorer's probabilities (`inspection.model_check`, docs/model.md), when the
    /// request was inspected with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scorer: Option<ScorerAudit>,
}

/// The learned scorer in the audit event: its version and the highest probability per attack
/// kind over the user and tool turns, to three decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorerAudit {
    pub version: String,
    pub sqli: f64,
    pub injection: f64,
    pub jailbreak: f64,
}

impl ScorerAudit {
    pub fn new(m: &crate::inspect::ModelScores) -> ScorerAudit {
        use crate::inspect::scorer::{INJECTION, JAILBREAK, SQLI};
        let r = |x: f32| (f64::from(x) * 1000.0).round() / 1000.0;
        ScorerAudit {
            version: m.version.to_owned(),
            sqli: r(m.scores[SQLI]),
            injection: r(m.scores[INJECTION]),
            jailbreak: r(m.scores[JAILBREAK]),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl AuditEvent {
    pub fn new(start: SystemTime) -> AuditEvent {
        AuditEvent {
            schema: SCHEMA.to_string(),
            time: rfc3339_millis(start),
            request_id: None,
            route: None,
            cluster: None,
            consumer: None,
            model: None,
            api: "none".to_string(),
            decision: Decision::Allowed,
            reason: None,
            rules: Vec::new(),
            score: 0.0,
            prompt_hash: None,
            prompt_bytes: 0,
            body_bytes: 0,
            tokens: None,
            cost_micros: None,
            currency: None,
            limit: None,
            upstream_status: None,
            latency_ms: 0,
            streamed: false,
            rewrites: Vec::new(),
            not_inspected: Vec::new(),
            cached_messages: 0,
            prompt: None,
            response: None,
            classifier: None,
            scorer: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"schema\":\"{SCHEMA}\"}}"))
    }
}

/// A media type from the request as the audit event shows it: lower case, and `other` unless it
/// is a token `type/subtype` (or `binary`) of at most 64 bytes, so no request text reaches the
/// log through it.
pub fn media_type_label(m: &str) -> String {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let ok = m.len() <= 64
        && (m == "binary" || m.split_once('/').is_some_and(|(t, s)| token(t) && token(s)));
    if ok {
        m.to_ascii_lowercase()
    } else {
        "other".to_owned()
    }
}

/// Lower-case hex SHA-256 (consumer key hashes, `keys_sha256`).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex32(&Sha256::digest(data).into())
}

/// `text` with each byte span replaced by `placeholder`. Overlapping spans merge; spans that are
/// out of range or not on character boundaries are widened to the nearest boundaries.
pub fn redact_spans(text: &str, spans: &[(usize, usize)], placeholder: &str) -> String {
    let spans = spans.iter().map(|&(s, e)| {
        let mut s = s.min(text.len());
        let mut e = e.min(text.len()).max(s);
        while !text.is_char_boundary(s) {
            s -= 1;
        }
        while !text.is_char_boundary(e) {
            e += 1;
        }
        (s, e)
    });
    let merged = merge_spans(spans);
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e) in merged {
        out.push_str(&text[pos..s]);
        out.push_str(placeholder);
        pos = e;
    }
    out.push_str(&text[pos..]);
    out
}

/// `spans` (start, end) sorted, empty ones dropped, overlapping or touching ones merged.
pub(crate) fn merge_spans(spans: impl Iterator<Item = (usize, usize)>) -> Vec<(usize, usize)> {
    // Each span as one integer that sorts like the pair: the module's one `sort_unstable`
    // instantiation on 32-bit targets is `u64`'s (protected-term hashes, shingles).
    let mut keys: Vec<SpanKey> = spans
        .filter(|&(s, e)| s < e)
        .map(|(s, e)| (s as SpanKey) << usize::BITS | e as SpanKey)
        .collect();
    keys.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(keys.len());
    for k in keys {
        let (s, e) = ((k >> usize::BITS) as usize, k as usize);
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// Two `usize`s side by side.
#[cfg(target_pointer_width = "32")]
type SpanKey = u64;
#[cfg(not(target_pointer_width = "32"))]
type SpanKey = u128;

/// `2026-11-23T08:30:00.123Z` without a date crate: days-from-civil inverse (H. Hinnant).
pub fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let millis = d.subsec_millis();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if year > 9999 {
        return format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z");
    }
    // Digits written in place: `format!` costs ~3,000 wasm operators per call here (issue 16).
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year as u64);
    put(5, 2, month as u64);
    put(8, 2, day as u64);
    put(11, 2, h);
    put(14, 2, m);
    put(17, 2, s);
    put(20, 3, u64::from(millis));
    out.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The prompt hash is BLAKE3 keyed with a key derived from the salt: pinned for one salt and
    /// text (so a change to the context or the construction shows), different per salt, and not
    /// the unkeyed hash.
    #[test]
    fn prompt_hash_is_keyed_by_the_salt() {
        let text = b"What is the capital of France?";
        let a = PromptHasher::new("salt-a");
        let key = blake3::derive_key(PROMPT_HASH_CONTEXT, b"salt-a");
        assert_eq!(
            a.hex(text),
            blake3::keyed_hash(&key, text).to_hex().as_str()
        );
        assert_eq!(a.hex(text).len(), 64);
        assert_eq!(a.hex(text), PromptHasher::new("salt-a").hex(text));
        assert_ne!(a.hex(text), PromptHasher::new("salt-b").hex(text));
        assert_ne!(a.hex(text), PromptHasher::new("").hex(text));
        assert_ne!(a.hex(text), blake3::hash(text).to_hex().as_str());
        assert_ne!(a.hex(text), sha256_hex(text));
        assert_eq!(a.hex(text), PINNED);
        // Long inputs (several BLAKE3 chunks: the SIMD path in wasm) agree with the reference.
        let long: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(
            a.hex(&long),
            blake3::keyed_hash(&key, &long).to_hex().as_str()
        );
    }

    /// `PromptHasher::new("salt-a").hex(b"What is the capital of France?")`.
    const PINNED: &str = "69ae520d346a292699ad501973ba6dc297d496a4cb16f034ccbb4021f1554ec2";

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_423_800_123);
        assert_eq!(rfc3339_millis(t), "2026-11-23T08:50:00.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339_millis(leap), "2000-02-29T00:00:00.000Z");
        // Every field at its widths (leading zeros, 9s), as the formatter wrote them before.
        for (secs, millis, want) in [
            (951_782_399u64, 7u64, "2000-02-28T23:59:59.007Z"),
            (1_795_423_845, 45, "2026-11-23T08:50:45.045Z"),
            (4_102_444_799, 999, "2099-12-31T23:59:59.999Z"),
            (31_536_000, 0, "1971-01-01T00:00:00.000Z"),
        ] {
            let t = UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis);
            assert_eq!(rfc3339_millis(t), want);
        }
        assert_eq!(
            rfc3339_millis(UNIX_EPOCH + Duration::from_secs(253_402_300_799)),
            "9999-12-31T23:59:59.000Z"
        );
        assert_eq!(
            rfc3339_millis(UNIX_EPOCH + Duration::from_secs(253_402_300_800)),
            "10000-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn event_serialises_with_schema_and_no_prompt_by_default() {
        let e = AuditEvent::new(UNIX_EPOCH);
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["decision"], "allowed");
        assert!(v.get("prompt").is_none());
        let back: AuditEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn redact_spans_merges_and_keeps_boundaries() {
        assert_eq!(redact_spans("hello world", &[(0, 5)], "[X]"), "[X] world");
        assert_eq!(redact_spans("abcdef", &[(1, 3), (2, 5)], "*"), "a*f");
        assert_eq!(redact_spans("abc", &[(5, 9)], "*"), "abc");
        assert_eq!(redact_spans("é!", &[(1, 2)], "*"), "*!");
    }

    #[test]
    fn decision_names_match_serde() {
        for d in Decision::ALL {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
    }
}

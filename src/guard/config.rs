//! The `response_guard` configuration section (issue 19): which detectors scan model answers,
//! what each does on a hit, how much of a stream may be held back, and request PII masking.

use crate::error::ConfigError;

/// What a detector does with a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum Action {
    /// Stop the answer: non-streaming, the answer is replaced by an error; streaming, nothing
    /// from the hit on is released and the stream ends with an error event.
    Block,
    /// Replace the hit in place with a typed mask (`[REDACTED:aws_access_key]`).
    Redact,
    /// Record the hit (metrics, audit); the text passes unchanged.
    Monitor,
}
crate::compact_enum!(Action { Block = "block", Redact = "redact", Monitor = "monitor" });

/// What to do with an answer too large to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum UnscannedAction {
    /// Withhold it (an error answer, or an error event that ends the stream).
    Block,
    /// Let it pass unscanned (audited).
    Allow,
}
crate::compact_enum!(UnscannedAction { Block = "block", Allow = "allow" });

/// A PII type, as configured and as reported (`kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum PiiType {
    Email,
    Phone,
    PaymentCard,
    Iban,
    UsSsn,
    IpAddress,
}
crate::compact_enum!(PiiType { Email = "email", Phone = "phone", PaymentCard = "payment_card", Iban = "iban", UsSsn = "us_ssn", IpAddress = "ip_address" });

impl PiiType {
    pub const ALL: [PiiType; 6] = [
        PiiType::Email,
        PiiType::Phone,
        PiiType::PaymentCard,
        PiiType::Iban,
        PiiType::UsSsn,
        PiiType::IpAddress,
    ];

    /// The stable name (metric label, audit field, mask type).
    pub fn kind(self) -> &'static str {
        match self {
            PiiType::Email => "email",
            PiiType::Phone => "phone",
            PiiType::PaymentCard => "payment_card",
            PiiType::Iban => "iban",
            PiiType::UsSsn => "us_ssn",
            PiiType::IpAddress => "ip_address",
        }
    }

    /// The request-mask placeholder's type (`[EMAIL_1]`).
    pub fn tag(self) -> &'static str {
        match self {
            PiiType::Email => "EMAIL",
            PiiType::Phone => "PHONE",
            PiiType::PaymentCard => "PAYMENT_CARD",
            PiiType::Iban => "IBAN",
            PiiType::UsSsn => "US_SSN",
            PiiType::IpAddress => "IP_ADDRESS",
        }
    }

    #[allow(dead_code)]
    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[allow(dead_code)]
pub(crate) fn type_bits(types: &[PiiType]) -> u8 {
    types.iter().fold(0, |a, t| a | t.bit())
}

fn default_pii_types() -> Vec<PiiType> {
    vec![
        PiiType::Email,
        PiiType::Phone,
        PiiType::PaymentCard,
        PiiType::Iban,
        PiiType::UsSsn,
    ]
}

/// Leakage of what the request's system prompt holds.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct LeakageConfig {
    pub enabled: bool,
    pub action: Action,
    /// Words per shingle: this many consecutive words of a system/developer message found in
    /// the answer (case, punctuation and spacing ignored) are a leak. 6 to 32; default 8.
    pub shingle_words: usize,
    /// Look for the values the system prompt declares secret (the request-side context check's
    /// protected terms). Default true.
    pub protected_terms: bool,
    /// An operator canary: a string planted in system prompts that must never come back
    /// (ASCII case ignored). 8 to 128 bytes, no whitespace at either end.
    pub canary: Option<String>,
}
crate::compact_struct!(LeakageConfig {
    enabled,
    action,
    shingle_words,
    protected_terms,
    canary
});

impl Default for LeakageConfig {
    fn default() -> Self {
        LeakageConfig {
            enabled: true,
            action: Action::Block,
            shingle_words: 8,
            protected_terms: true,
            canary: None,
        }
    }
}

/// Credentials: provider API keys, cloud keys, tokens, private-key blocks, JWTs.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct SecretsConfig {
    pub enabled: bool,
    pub action: Action,
}
crate::compact_struct!(SecretsConfig { enabled, action });

impl Default for SecretsConfig {
    fn default() -> Self {
        SecretsConfig {
            enabled: true,
            action: Action::Redact,
        }
    }
}

/// Personal data in answers.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct PiiConfig {
    pub enabled: bool,
    pub action: Action,
    /// Which types; default all but `ip_address`.
    pub types: Vec<PiiType>,
}
crate::compact_struct!(PiiConfig {
    enabled,
    action,
    types
});

impl Default for PiiConfig {
    fn default() -> Self {
        PiiConfig {
            enabled: true,
            action: Action::Redact,
            types: default_pii_types(),
        }
    }
}

/// Markdown images and links to hosts outside the allowlist (the exfiltration channel).
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct LinksConfig {
    pub enabled: bool,
    pub action: Action,
    /// Hosts links may point to: `example.com` (that host and its subdomains) or
    /// `=example.com` (that host only). Case ignored.
    pub allowed_hosts: Vec<String>,
    /// Also flag links and URLs outside the allowlist that carry no data (default false:
    /// markdown images outside it are always flagged, links only with data in them).
    pub flag_all_links: bool,
}
crate::compact_struct!(LinksConfig {
    enabled,
    action,
    allowed_hosts,
    flag_all_links
});

impl Default for LinksConfig {
    fn default() -> Self {
        LinksConfig {
            enabled: true,
            action: Action::Redact,
            allowed_hosts: Vec::new(),
            flag_all_links: false,
        }
    }
}

/// PII in requests replaced by typed placeholders (`[EMAIL_1]`) before the model sees it.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct RequestPiiMaskingConfig {
    pub enabled: bool,
    /// Put the original values back where the answer repeats a placeholder. Default true.
    pub restore: bool,
    /// Which types; default all but `ip_address`.
    pub types: Vec<PiiType>,
}
crate::compact_struct!(RequestPiiMaskingConfig {
    enabled,
    restore,
    types
});

impl Default for RequestPiiMaskingConfig {
    fn default() -> Self {
        RequestPiiMaskingConfig {
            enabled: false,
            restore: true,
            types: default_pii_types(),
        }
    }
}

/// The `response_guard` section. Absent: answers are not scanned.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct GuardConfig {
    /// Most bytes of a stream held back while a possible match is undecided. 512 to 65536;
    /// default 1024.
    pub hold_back_bytes: usize,
    /// HTTP status of a blocked non-streaming answer (200 to 599; default 403). 200 suits
    /// clients that only read a completion-shaped body.
    pub block_status: u16,
    /// Largest non-streamed answer held and scanned whole (65536 to 16777216 bytes; default
    /// 1 MiB). Envoy's `per_connection_buffer_limit_bytes` must be above it.
    pub max_json_bytes: usize,
    /// What happens to an answer the guard cannot scan: a JSON answer above `max_json_bytes`, or
    /// a stream event above 1 MiB. `block` (default): it is withheld like a blocked answer
    /// (padding an answer must not get a secret past the guard); `allow`: it passes unscanned.
    /// Either way the audit event says `response.note: too_large` / `event_too_large`.
    pub unscanned: UnscannedAction,
    pub leakage: LeakageConfig,
    pub secrets: SecretsConfig,
    pub pii: PiiConfig,
    pub links: LinksConfig,
    pub request_pii_masking: RequestPiiMaskingConfig,
}
crate::compact_struct!(GuardConfig {
    hold_back_bytes,
    block_status,
    max_json_bytes,
    unscanned,
    leakage,
    secrets,
    pii,
    links,
    request_pii_masking
});

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            hold_back_bytes: 1024,
            block_status: 403,
            max_json_bytes: 1024 * 1024,
            unscanned: UnscannedAction::Block,
            leakage: LeakageConfig::default(),
            secrets: SecretsConfig::default(),
            pii: PiiConfig::default(),
            links: LinksConfig::default(),
            request_pii_masking: RequestPiiMaskingConfig::default(),
        }
    }
}

/// The longest a detector looks ahead of an undecided position; `hold_back_bytes` may not be
/// smaller, so a stream never has to release text it has not decided on.
pub const MAX_LOOKAHEAD: usize = 512;

impl GuardConfig {
    /// Checks the values serde cannot; errors name the field (`response_guard.` prefixed).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let f = |s: &str| format!("response_guard.{s}");
        if !(MAX_LOOKAHEAD..=65536).contains(&self.hold_back_bytes) {
            return Err(ConfigError::new(
                f("hold_back_bytes"),
                format!("must be between {MAX_LOOKAHEAD} and 65536"),
            ));
        }
        if !(200..=599).contains(&self.block_status) {
            return Err(ConfigError::new(
                f("block_status"),
                "must be an HTTP status between 200 and 599",
            ));
        }
        if !(65536..=16 * 1024 * 1024).contains(&self.max_json_bytes) {
            return Err(ConfigError::new(
                f("max_json_bytes"),
                "must be between 65536 and 16777216",
            ));
        }
        if !(6..=32).contains(&self.leakage.shingle_words) {
            return Err(ConfigError::new(
                f("leakage.shingle_words"),
                "must be between 6 and 32",
            ));
        }
        if let Some(c) = &self.leakage.canary {
            if c.len() < 8 || c.len() > 128 || c.trim() != c {
                return Err(ConfigError::new(
                    f("leakage.canary"),
                    "must be 8 to 128 bytes without leading or trailing whitespace",
                ));
            }
        }
        for (i, h) in self.links.allowed_hosts.iter().enumerate() {
            let name = h.strip_prefix('=').unwrap_or(h);
            let ok = !name.is_empty()
                && name.len() <= 253
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':'))
                && !name.starts_with('.')
                && !name.ends_with('.');
            if !ok {
                return Err(ConfigError::new(
                    f(&format!("links.allowed_hosts[{i}]")),
                    "must be a host name (`example.com`, or `=example.com` for that host only)",
                ));
            }
        }
        if self.pii.enabled && self.pii.types.is_empty() {
            return Err(ConfigError::new(
                f("pii.types"),
                "must name at least one type when pii is enabled",
            ));
        }
        if self.request_pii_masking.enabled && self.request_pii_masking.types.is_empty() {
            return Err(ConfigError::new(
                f("request_pii_masking.types"),
                "must name at least one type when masking is enabled",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn absent_section_is_off_and_empty_section_gives_defaults() {
        assert!(Config::parse(b"{}").unwrap().response_guard.is_none());
        let c = Config::parse(br#"{"response_guard": {}}"#).unwrap();
        let g = c.response_guard.unwrap();
        assert_eq!(g.hold_back_bytes, 1024);
        assert_eq!(g.block_status, 403);
        assert!(g.secrets.enabled && !g.request_pii_masking.enabled);
    }

    #[test]
    fn errors_name_the_field() {
        for (json, field) in [
            (
                r#"{"hold_back_bytes": 10}"#,
                "response_guard.hold_back_bytes",
            ),
            (r#"{"block_status": 99}"#, "response_guard.block_status"),
            (
                r#"{"leakage": {"shingle_words": 3}}"#,
                "response_guard.leakage.shingle_words",
            ),
            (
                r#"{"leakage": {"canary": "short"}}"#,
                "response_guard.leakage.canary",
            ),
            (
                r#"{"links": {"allowed_hosts": ["ok.com", "bad host"]}}"#,
                "response_guard.links.allowed_hosts[1]",
            ),
            (r#"{"pii": {"types": []}}"#, "response_guard.pii.types"),
            (
                r#"{"pii": {"types": ["dna"]}}"#,
                "response_guard.pii.types[0]",
            ),
            (
                r#"{"secrets": {"action": "drop"}}"#,
                "response_guard.secrets.action",
            ),
            (
                r#"{"secrets": {"enabeld": true}}"#,
                "response_guard.secrets",
            ),
        ] {
            let doc = format!(r#"{{"response_guard": {json}}}"#);
            let e = Config::parse(doc.as_bytes()).unwrap_err();
            assert!(e.field.starts_with(field), "{json}: {e}");
        }
    }
}

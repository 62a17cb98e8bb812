//! Plugin configuration: the JSON document the host passes to `on_configure`.
//!
//! Parsed once, validated once. Every error names the JSON path of the offending field
//! (`inspection.rules[2].pattern: ...`) so an operator can fix it from the log line alone.
//! Unknown fields are errors; `{}` (or an empty configuration) gives working defaults.

use crate::access::AccessConfig;
use crate::audit::AuditConfig;
use crate::contracts::ContractConfig;
use crate::guard::GuardConfig;
use crate::identity::IdentityConfig;
use crate::inspect::InspectionConfig;
use crate::limits::LimitsConfig;
use crate::vault::UpstreamKeyConfig;

/// Kept here so callers that name `config::ConfigError` keep building; it lives in `error`.
pub use crate::error::ConfigError;

/// What to do with a request body larger than `max_body_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum OversizeAction {
    /// Answer 413 with a JSON error; nothing reaches the upstream.
    #[default]
    Reject,
    /// Pass the request upstream without scanning it (recorded as `oversize`).
    Allow,
}
crate::compact_enum!(OversizeAction { Reject = "reject", Allow = "allow" });

/// What to do with a request body sent with a `content-encoding` other than `identity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum CompressedAction {
    /// Answer 415 with a JSON error; nothing reaches the upstream. Compressed bytes cannot be
    /// scanned, and passing them on as if they had been would be a bypass.
    #[default]
    Reject,
    /// Forward it without scanning (audit reason `compressed_unscanned`). Limits still apply.
    AllowUnscanned,
}
crate::compact_enum!(CompressedAction { Reject = "reject", AllowUnscanned = "allow_unscanned" });

/// What to do with a JSON body that has the same key twice in one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum DuplicateKeys {
    /// Answer 400 `duplicate_key` naming the JSON path: parsers disagree on which value wins.
    #[default]
    Reject,
    /// Accept the body; every value of a repeated key is inspected, and the access policy and
    /// contract read the last one (serde_json's and Python's choice).
    Allow,
}
crate::compact_enum!(DuplicateKeys { Reject = "reject", Allow = "allow" });

/// What to do with a request body of no type the filter reads as structure: not JSON, not a
/// form (`application/x-www-form-urlencoded`), not multipart, and not sent as `text/*`
/// (a body without a content type included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum UnknownContentType {
    /// Inspect the whole body as text, JSON string escapes decoded.
    #[default]
    InspectAsText,
    /// Answer 415 `unsupported_content_type`; nothing reaches the upstream.
    Reject,
    /// Forward it without inspection (audit reason `unknown_content_unscanned`). Access rules
    /// and limits still apply.
    Allow,
}
crate::compact_enum!(UnknownContentType { InspectAsText = "inspect_as_text", Reject = "reject", Allow = "allow" });

/// The whole plugin configuration.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct Config {
    /// Largest request body the filter buffers and scans, in bytes.
    pub max_body_bytes: usize,
    /// Answer for bodies above `max_body_bytes`.
    pub on_oversize: OversizeAction,
    /// Answer for compressed request bodies (`content-encoding: gzip`, `deflate`, ...).
    pub on_compressed: CompressedAction,
    /// JSON bodies with a repeated key in one object: `reject` (default, 400 `duplicate_key`)
    /// or `allow` (every value inspected). Applies to inspection and to the access policy.
    pub duplicate_keys: DuplicateKeys,
    /// Bodies that are not JSON, a form, multipart or `text/*`: `inspect_as_text` (default),
    /// `reject` (415) or `allow` (forwarded uninspected; the audit event says so).
    pub unknown_content_type: UnknownContentType,
    /// Request-body inspection (prompt injection, jailbreak, SQLi, obfuscation).
    pub inspection: InspectionConfig,
    /// Who the consumer is (for limits and the audit event); raw keys are only ever hashed.
    pub identity: IdentityConfig,
    /// Per-consumer request, token, cost and concurrency limits; global daily budget.
    pub limits: LimitsConfig,
    /// The per-request audit event.
    pub audit: AuditConfig,
    /// Which metrics are kept (`detail: basic|full`).
    pub metrics: crate::metrics::MetricsConfig,
    /// Authentication against configured consumers and per-consumer authorisation.
    pub access: AccessConfig,
    /// The request contract (max tokens, messages, prompt size, parameters) for every consumer
    /// without its own.
    pub contract: ContractConfig,
    /// Replace the client's key with the provider's, read from the VM environment. Off if absent.
    pub upstream_key: Option<UpstreamKeyConfig>,
    /// Add `stream_options.include_usage: true` to streamed OpenAI chat/completions requests that
    /// lack it, so the stream ends with the actual usage (tokens, cost and limits are settled from
    /// it, not from the estimate); the usage chunk the client did not ask for is taken out of the
    /// answer. Envoy only (elsewhere such streams stay charged as estimated). Default true.
    pub include_stream_usage: bool,
    /// Scan model answers (JSON and SSE) for leakage, secrets, PII and exfiltration links;
    /// mask request PII (docs/output-guard.md). Off if absent.
    pub response_guard: Option<GuardConfig>,
    /// Also record token usage and stream timings under the OpenTelemetry GenAI semantic-convention
    /// names (`gen_ai.client.token.usage`, `gen_ai.server.time_to_first_token`, ...; see
    /// docs/observability.md). Default false.
    pub gen_ai_metric_names: bool,
}
crate::compact_struct!(Config {
    max_body_bytes,
    on_oversize,
    on_compressed,
    duplicate_keys,
    unknown_content_type,
    inspection,
    identity,
    limits,
    audit,
    metrics,
    access,
    contract,
    upstream_key,
    include_stream_usage,
    response_guard,
    gen_ai_metric_names
});

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body_bytes: 1024 * 1024,
            on_oversize: OversizeAction::Reject,
            on_compressed: CompressedAction::Reject,
            duplicate_keys: DuplicateKeys::Reject,
            unknown_content_type: UnknownContentType::InspectAsText,
            inspection: InspectionConfig::default(),
            identity: IdentityConfig::default(),
            limits: LimitsConfig::default(),
            audit: AuditConfig::default(),
            metrics: crate::metrics::MetricsConfig::default(),
            access: AccessConfig::default(),
            contract: ContractConfig::default(),
            upstream_key: None,
            include_stream_usage: true,
            response_guard: None,
            gen_ai_metric_names: false,
        }
    }
}

impl Config {
    /// Parses and validates a configuration. Empty or whitespace-only input means defaults.
    pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Config::default());
        }
        // serde_json appends " at line L column C"; keep it, it helps with long configs.
        let config: Config = crate::json_path::deserialize(bytes)
            .map_err(|(path, e)| ConfigError::new(path, e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_body_bytes == 0 {
            return Err(ConfigError::new("max_body_bytes", "must be greater than 0"));
        }
        // 1 GiB is the V8 wasm memory limit: a bigger buffer can never be held.
        if self.max_body_bytes > 256 * 1024 * 1024 {
            return Err(ConfigError::new(
                "max_body_bytes",
                "must be at most 268435456 (256 MiB)",
            ));
        }
        if let Some(g) = &self.response_guard {
            g.validate()?;
        }
        if let Some(c) = &self.inspection.classifier {
            c.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_gives_defaults() {
        for input in ["", "  \n", "{}"] {
            let c = Config::parse(input.as_bytes()).unwrap();
            assert_eq!(c.max_body_bytes, 1024 * 1024);
            assert_eq!(c.on_oversize, OversizeAction::Reject);
        }
    }

    #[test]
    fn fields_are_read() {
        let c = Config::parse(br#"{"max_body_bytes": 10, "on_oversize": "allow"}"#).unwrap();
        assert_eq!(c.max_body_bytes, 10);
        assert_eq!(c.on_oversize, OversizeAction::Allow);
    }

    #[test]
    fn unknown_field_is_an_error_naming_it() {
        let e = Config::parse(br#"{"max_body_bytez": 10}"#).unwrap_err();
        assert!(e.message.contains("unknown field `max_body_bytez`"), "{e}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let e = Config::parse(br#"{"max_body_bytes": "big"}"#).unwrap_err();
        assert_eq!(e.field, "max_body_bytes");
        assert!(e.to_string().contains("field `max_body_bytes`"), "{e}");
    }

    #[test]
    fn bad_enum_value_names_the_field() {
        let e = Config::parse(br#"{"on_oversize": "drop"}"#).unwrap_err();
        assert_eq!(e.field, "on_oversize");
        assert!(e.message.contains("unknown variant `drop`"), "{e}");
    }

    #[test]
    fn on_compressed_defaults_to_reject() {
        assert_eq!(
            Config::parse(b"{}").unwrap().on_compressed,
            CompressedAction::Reject
        );
        let c = Config::parse(br#"{"on_compressed": "allow_unscanned"}"#).unwrap();
        assert_eq!(c.on_compressed, CompressedAction::AllowUnscanned);
        let e = Config::parse(br#"{"on_compressed": "decompress"}"#).unwrap_err();
        assert_eq!(e.field, "on_compressed");
    }

    #[test]
    fn body_reading_switches_default_and_name_the_field() {
        let c = Config::parse(b"{}").unwrap();
        assert_eq!(c.duplicate_keys, DuplicateKeys::Reject);
        assert_eq!(c.unknown_content_type, UnknownContentType::InspectAsText);
        let c = Config::parse(br#"{"duplicate_keys": "allow", "unknown_content_type": "reject"}"#)
            .unwrap();
        assert_eq!(c.duplicate_keys, DuplicateKeys::Allow);
        assert_eq!(c.unknown_content_type, UnknownContentType::Reject);
        let c = Config::parse(br#"{"unknown_content_type": "allow"}"#).unwrap();
        assert_eq!(c.unknown_content_type, UnknownContentType::Allow);
        let e = Config::parse(br#"{"duplicate_keys": "first_wins"}"#).unwrap_err();
        assert_eq!(e.field, "duplicate_keys");
        assert!(e.message.contains("unknown variant `first_wins`"), "{e}");
        let e = Config::parse(br#"{"unknown_content_type": "scan"}"#).unwrap_err();
        assert_eq!(e.field, "unknown_content_type");
    }

    #[test]
    fn zero_body_limit_is_rejected() {
        let e = Config::parse(br#"{"max_body_bytes": 0}"#).unwrap_err();
        assert_eq!(e.field, "max_body_bytes");
    }

    #[test]
    fn malformed_json_is_an_error() {
        let e = Config::parse(b"{not json").unwrap_err();
        assert!(e.to_string().starts_with("invalid configuration"), "{e}");
    }
}

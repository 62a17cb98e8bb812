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
use serde::Deserialize;

/// Kept here so callers that name `config::ConfigError` keep building; it lives in `error`.
pub use crate::error::ConfigError;

/// What to do with a request body larger than `max_body_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OversizeAction {
    /// Answer 413 with a JSON error; nothing reaches the upstream.
    #[default]
    Reject,
    /// Pass the request upstream without scanning it (recorded as `oversize`).
    Allow,
}

/// What to do with a request body sent with a `content-encoding` other than `identity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CompressedAction {
    /// Answer 415 with a JSON error; nothing reaches the upstream. Compressed bytes cannot be
    /// scanned, and passing them on as if they had been would be a bypass.
    #[default]
    Reject,
    /// Forward it without scanning (audit reason `compressed_unscanned`). Limits still apply.
    AllowUnscanned,
}

/// The whole plugin configuration.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Largest request body the filter buffers and scans, in bytes.
    pub max_body_bytes: usize,
    /// Answer for bodies above `max_body_bytes`.
    pub on_oversize: OversizeAction,
    /// Answer for compressed request bodies (`content-encoding: gzip`, `deflate`, ...).
    pub on_compressed: CompressedAction,
    /// Request-body inspection (prompt injection, jailbreak, SQLi, obfuscation).
    pub inspection: InspectionConfig,
    /// Who the consumer is (for limits and the audit event); raw keys are only ever hashed.
    pub identity: IdentityConfig,
    /// Per-consumer request, token, cost and concurrency limits; global daily budget.
    pub limits: LimitsConfig,
    /// The per-request audit event.
    pub audit: AuditConfig,
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

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body_bytes: 1024 * 1024,
            on_oversize: OversizeAction::Reject,
            on_compressed: CompressedAction::Reject,
            inspection: InspectionConfig::default(),
            identity: IdentityConfig::default(),
            limits: LimitsConfig::default(),
            audit: AuditConfig::default(),
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

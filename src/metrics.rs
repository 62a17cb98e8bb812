//! Metric names and label encoding, shared by every host.
//!
//! Proxy-wasm metrics have no labels, so labels are encoded in the name as `;key=value` pairs:
//! `promptgate_requests_total;decision=blocked`. Envoy (`stats_config.stats_tags`, regex
//! `(;decision=([^;]*))`) and Kong (`meta.json` `metrics.label_patterns`, same regex) both cut the
//! first group out of the name and use the second as the label value, so Prometheus sees
//! `promptgate_requests_total{decision="blocked"}` on both. Label values are sanitised and the
//! number of distinct series is capped so a hostile `model` field cannot blow up cardinality.

use hashbrown::HashMap;

/// Every label key promptgate uses; the Envoy config needs one `stats_tags` entry per key.
pub const LABEL_KEYS: [&str; 8] = [
    "decision", "rule", "category", "model", "type", "detector", "action", "store",
];

pub const REQUESTS_TOTAL: &str = "promptgate_requests_total";
pub const RULE_HITS_TOTAL: &str = "promptgate_rule_hits_total";
pub const TOKENS_TOTAL: &str = "promptgate_tokens_total";
pub const COST_MICROS_TOTAL: &str = "promptgate_cost_micros_total";
pub const IN_FLIGHT: &str = "promptgate_requests_in_flight";
pub const SCAN_DURATION_US: &str = "promptgate_scan_duration_us";
pub const BODY_BYTES: &str = "promptgate_request_body_bytes";
pub const CONFIG_FAILURES_TOTAL: &str = "promptgate_config_load_failures_total";
pub const LIMIT_STORE_ERRORS_TOTAL: &str = "promptgate_limit_store_errors_total";
/// Output guard (issue 19): one per guarded answer, `decision` = `allowed`, `monitored`,
/// `redacted`, `restored`, `blocked` or `unscanned`.
pub const RESPONSE_DECISIONS_TOTAL: &str = "promptgate_response_decisions_total";
/// Output guard hits, labels `detector`, `type` (the finding's kind) and `action`.
pub const GUARD_HITS_TOTAL: &str = "promptgate_guard_hits_total";
/// Streams: request start to the answer's first event, ms.
pub const TIME_TO_FIRST_TOKEN_MS: &str = "promptgate_time_to_first_token_ms";
/// Streams: first event to the last, per output token after the first, microseconds.
pub const TIME_PER_OUTPUT_TOKEN_US: &str = "promptgate_time_per_output_token_us";
/// With `gen_ai_metric_names: true`, the OpenTelemetry GenAI semantic-convention names (values
/// in the units of the promptgate names: ms, µs, tokens).
pub const GEN_AI_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
pub const GEN_AI_TIME_TO_FIRST_TOKEN: &str = "gen_ai.server.time_to_first_token";
pub const GEN_AI_TIME_PER_OUTPUT_TOKEN: &str = "gen_ai.server.time_per_output_token";
pub const GEN_AI_REQUEST_DURATION: &str = "gen_ai.server.request.duration";

/// How many series the filter keeps per request (`metrics.detail`). Each update is a host call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum Detail {
    /// Decisions, rule hits, tokens, cost, body sizes, limit-store errors, output guard and
    /// stream timings.
    #[default]
    Basic,
    /// Also `promptgate_requests_in_flight` (two updates per request) and
    /// `promptgate_scan_duration_us` (two clock readings and one update per scanned body).
    Full,
}
crate::compact_enum!(Detail { Basic = "basic", Full = "full" });

/// Metrics settings.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct MetricsConfig {
    /// `basic` (default) or `full` (adds the in-flight gauge and the scan-time histogram;
    /// docs/observability.md, "Host calls").
    pub detail: Detail,
}
crate::compact_struct!(MetricsConfig { detail });

/// Longest label value kept; longer values are cut.
const MAX_LABEL_VALUE: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Keeps `[A-Za-z0-9_.:/-]`, maps anything else to `_`, cuts at 64 bytes; empty becomes `none`.
pub fn label_value(v: &str) -> String {
    let mut out = String::new();
    push_label_value(&mut out, v);
    out
}

fn label_byte(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b':' | b'/' | b'-')
}

/// Appends [`label_value`]`(v)` to `out`.
fn push_label_value(out: &mut String, v: &str) {
    if v.is_empty() {
        out.push_str("none");
        return;
    }
    let v = &v.as_bytes()[..v.len().min(MAX_LABEL_VALUE)];
    // Already a label (the usual case: a model name, a rule id): copied whole.
    if v.iter().all(|&b| label_byte(b)) {
        out.push_str(std::str::from_utf8(v).unwrap_or_default());
        return;
    }
    out.extend(
        v.iter()
            .map(|&b| if label_byte(b) { b as char } else { '_' }),
    );
}

/// `base;k1=v1;k2=v2` with sanitised values.
pub fn name(base: &str, labels: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(base.len() + labels.len() * 24);
    out.push_str(base);
    for (k, v) in labels {
        out.push(';');
        out.push_str(k);
        out.push('=');
        push_label_value(&mut out, v);
    }
    out
}

/// Caches metric ids by full name; defines each series once per VM through `define`.
/// Past `max_series` distinct names, new series are not created (the call returns `None`),
/// except that callers map unknown models to `other` before they get here.
pub struct Registry<Id: Copy> {
    ids: HashMap<String, Id>,
    max_series: usize,
}

impl<Id: Copy> Registry<Id> {
    pub fn new(max_series: usize) -> Self {
        Registry {
            ids: HashMap::new(),
            max_series,
        }
    }

    pub fn id(
        &mut self,
        full_name: &str,
        kind: Kind,
        define: impl FnOnce(Kind, &str) -> Option<Id>,
    ) -> Option<Id> {
        if let Some(id) = self.ids.get(full_name) {
            return Some(*id);
        }
        if self.ids.len() >= self.max_series {
            return None;
        }
        let id = define(kind, full_name)?;
        self.ids.insert(full_name.to_string(), id);
        Some(id)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Bounded model label: the model itself while fewer than `max` distinct models were seen,
/// `other` after that.
pub struct ModelLabels {
    seen: HashMap<String, ()>,
    max: usize,
}

impl ModelLabels {
    pub fn new(max: usize) -> Self {
        ModelLabels {
            seen: HashMap::new(),
            max,
        }
    }

    pub fn label(&mut self, model: Option<&str>) -> String {
        let v = label_value(model.unwrap_or("none"));
        if self.seen.contains_key(&v) {
            return v;
        }
        if self.seen.len() >= self.max {
            return "other".to_string();
        }
        self.seen.insert(v.clone(), ());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_encode_labels_in_order() {
        assert_eq!(
            name(REQUESTS_TOTAL, &[("decision", "blocked")]),
            "promptgate_requests_total;decision=blocked"
        );
        assert_eq!(
            name(TOKENS_TOTAL, &[("model", "gpt-4.1"), ("type", "prompt")]),
            "promptgate_tokens_total;model=gpt-4.1;type=prompt"
        );
    }

    #[test]
    fn hostile_label_values_are_sanitised() {
        assert_eq!(label_value("a;b=c d\n"), "a_b_c_d_");
        assert_eq!(label_value(""), "none");
        assert_eq!(label_value(&"x".repeat(500)).len(), 64);
        assert_eq!(label_value("ü"), "__");
    }

    #[test]
    fn registry_defines_once_and_caps_series() {
        let mut r: Registry<u32> = Registry::new(2);
        let mut defined = 0;
        let mut def = |_k: Kind, _n: &str| {
            defined += 1;
            Some(defined)
        };
        assert_eq!(r.id("a", Kind::Counter, &mut def), Some(1));
        assert_eq!(r.id("a", Kind::Counter, &mut def), Some(1));
        assert_eq!(r.id("b", Kind::Counter, &mut def), Some(2));
        assert_eq!(r.id("c", Kind::Counter, &mut def), None);
        assert_eq!(defined, 2);
    }

    #[test]
    fn model_labels_are_bounded() {
        let mut m = ModelLabels::new(2);
        assert_eq!(m.label(Some("a")), "a");
        assert_eq!(m.label(Some("b")), "b");
        assert_eq!(m.label(Some("c")), "other");
        assert_eq!(m.label(Some("a")), "a");
        assert_eq!(m.label(None), "other");
    }
}

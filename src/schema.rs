//! JSON Schema of the plugin configuration, generated from the configuration types (the
//! `schemars` derives on `Config` and everything under it): one source of truth for Kong's
//! `promptgate.meta.json` (`config_schema`, so Kong validates a filter config when it is created)
//! and `schemas/config.schema.json`.
//!
//! Native builds only: the derives are `cfg_attr(not(target_arch = "wasm32"))`, so none of this
//! is in the `.wasm`. `src/bin/promptgate-schema.rs` writes the files; `tests/packaging.rs` checks
//! the checked-in copies are current and that every shipped configuration validates.
//!
//! Kong validates `config_schema` as JSON Schema **draft 4** (`kong/runloop/wasm.lua` sets
//! `$schema` to draft-04 and checks it against that metaschema), so the draft-7 output of
//! `schemars` is lowered: subschemas inlined (no `$defs`), `const` as a one-value `enum`,
//! numeric `exclusiveMinimum`/`exclusiveMaximum` as draft-4 booleans, Rust-specific `format`s
//! (`uint32`, `double`, ...) dropped.

use crate::config::Config;
use crate::metrics::LABEL_KEYS;
use serde_json::{json, Map, Value};

pub const DRAFT_4: &str = "http://json-schema.org/draft-04/schema#";

/// The configuration schema, draft 4.
pub fn config_schema() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft07();
    settings.inline_subschemas = true;
    let schema = settings.into_generator().into_root_schema_for::<Config>();
    let mut v = schema.to_value();
    lower_to_draft4(&mut v);
    if let Value::Object(m) = &mut v {
        m.insert("$schema".into(), Value::String(DRAFT_4.into()));
        m.insert(
            "title".into(),
            Value::String("promptgate configuration".into()),
        );
    }
    v
}

/// Kong's filter metadata: the config schema plus the Prometheus label patterns that turn
/// `promptgate_requests_total;decision=blocked` into `{decision="blocked"}` (same regexes as
/// Envoy's `stats_tags`).
pub fn kong_meta() -> Value {
    let patterns: Vec<Value> = LABEL_KEYS
        .iter()
        .map(|k| json!({"label": k, "pattern": format!("(;{k}=([^;]*))")}))
        .collect();
    json!({
        "config_schema": config_schema(),
        "metrics": {"label_patterns": patterns}
    })
}

/// Pretty JSON with a trailing newline, as the files are checked in.
pub fn to_file_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("json");
    s.push('\n');
    s
}

fn lower_to_draft4(v: &mut Value) {
    match v {
        Value::Object(m) => {
            lower_object(m);
            for child in m.values_mut() {
                lower_to_draft4(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(lower_to_draft4),
        _ => {}
    }
}

fn lower_object(m: &mut Map<String, Value>) {
    m.remove("$schema");
    if let Some(c) = m.remove("const") {
        m.insert("enum".into(), Value::Array(vec![c]));
    }
    for (bound, plain) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(n) = m.get(bound).filter(|b| b.is_number()).cloned() {
            m.insert(plain.into(), n);
            m.insert(bound.into(), Value::Bool(true));
        }
    }
    let rust_format = m.get("format").and_then(Value::as_str).is_some_and(|f| {
        !matches!(
            f,
            "date-time" | "email" | "hostname" | "ipv4" | "ipv6" | "uri"
        )
    });
    if rust_format {
        m.remove("format");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(v: &Value, f: &mut impl FnMut(&Map<String, Value>)) {
        match v {
            Value::Object(m) => {
                f(m);
                m.values().for_each(|c| walk(c, f));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, f)),
            _ => {}
        }
    }

    #[test]
    fn schema_is_draft4_shaped() {
        let s = config_schema();
        assert_eq!(s["$schema"], DRAFT_4);
        assert_eq!(s["additionalProperties"], false);
        walk(&s, &mut |m| {
            for k in ["const", "$defs", "definitions", "$ref"] {
                assert!(!m.contains_key(k), "{k} in {m:?}");
            }
            if let Some(e) = m.get("exclusiveMinimum") {
                assert!(e.is_boolean());
            }
        });
        for key in [
            "max_body_bytes",
            "inspection",
            "identity",
            "limits",
            "audit",
        ] {
            assert!(s["properties"].get(key).is_some(), "{key}");
        }
    }
}

//! Metrics and audit events through the real Envoy: after a known sequence of requests,
//! /stats/prometheus shows the exact counters with labels, and every audit event validates
//! against schemas/audit-v2.schema.json.

mod common;
use common::*;
use serde_json::json;

fn prometheus_value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

fn schema() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/audit-v2.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

pub fn assert_valid_event(v: &serde_json::Value) {
    let validator = schema();
    let errors: Vec<String> = validator.iter_errors(v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "audit event invalid: {errors:?}\n{v}");
}

#[test]
fn counters_and_audit_events_match_a_known_sequence() {
    let h = Harness::start(r#"{"max_body_bytes": 2000}"#);
    let chat =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]});
    for _ in 0..3 {
        assert_eq!(h.post_json("/v1/chat/completions", &chat).status, 200);
    }
    let big = vec![b'x'; 3000];
    assert_eq!(
        h.post("/v1/completions", &[("content-type", "text/plain")], &big)
            .status,
        413
    );

    let prom = h.admin("/stats/prometheus");
    assert_eq!(
        prometheus_value(&prom, "promptgate_requests_total{decision=\"allowed\"}"),
        Some(3.0),
        "{prom}"
    );
    assert_eq!(
        prometheus_value(&prom, "promptgate_requests_total{decision=\"oversize\"}"),
        Some(1.0)
    );
    assert_eq!(
        prometheus_value(&prom, "promptgate_requests_total{decision=\"blocked\"}"),
        Some(0.0)
    );
    assert_eq!(
        prometheus_value(&prom, "promptgate_requests_in_flight{}"),
        Some(0.0)
    );
    // No label-mangled names leak into the export.
    // No label-mangled names leak into the export (Envoy would print `..._total_decision_...`).
    assert!(
        !prom
            .lines()
            .any(|l| l.starts_with("promptgate_") && l.contains("_decision_")),
        "a label was not extracted"
    );

    let events = h.wait_audit_events(4);
    assert_eq!(events.len(), 4);
    for e in &events {
        assert_valid_event(e);
    }
    let decisions: Vec<&str> = events
        .iter()
        .map(|e| e["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["allowed", "allowed", "allowed", "oversize"]);
    assert_eq!(events[0]["upstream_status"], 200);
    assert_eq!(events[0]["route"], "default");
    assert_eq!(events[3]["upstream_status"], serde_json::Value::Null);
    assert_eq!(events[3]["body_bytes"], 3000);
    // Each event is also in the Envoy log.
    let log = h.envoy_log();
    assert_eq!(log.matches("\"schema\":\"promptgate.audit.v2\"").count(), 4);
}

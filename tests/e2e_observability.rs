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
    let started = std::time::SystemTime::now();
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
    // `metrics.detail: basic` (the default): no in-flight gauge, no scan-time histogram.
    assert_eq!(
        prometheus_value(&prom, "promptgate_requests_in_flight{}"),
        None
    );
    assert!(!prom.contains("promptgate_scan_duration_us"), "{prom}");
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
    assert_eq!(events[3]["upstream_status"], serde_json::Value::Null);
    assert_eq!(events[3]["body_bytes"], 3000);
    // Route, cluster, start and duration: on Envoy from one CEL expression (`expr_evaluate`),
    // for forwarded requests and local replies alike.
    assert_envoy_facts(&events, started);
    // The default sink is the log alone: nothing in filter state for the access log.
    assert!(h.filter_state_events().is_empty());
}

/// Every event names the harness route and cluster, arrived within the test and took less
/// than the test.
fn assert_envoy_facts(events: &[serde_json::Value], started: std::time::SystemTime) {
    let ended = std::time::SystemTime::now();
    let (from, to) = (
        promptgate::audit::rfc3339_millis(started - std::time::Duration::from_secs(1)),
        promptgate::audit::rfc3339_millis(ended),
    );
    let took = ended.duration_since(started).unwrap().as_millis() as u64;
    for e in events {
        assert_eq!(e["route"], "default", "{e}");
        assert_eq!(e["cluster"], "model", "{e}");
        let time = e["time"].as_str().unwrap();
        assert!(
            from.as_str() <= time && time <= to.as_str(),
            "{time} not in {from}..{to}"
        );
        assert!(e["latency_ms"].as_u64().unwrap() <= took, "{e}");
    }
}

/// `audit.filter_state: true` and `metrics.detail: full`: the same events in filter state (the
/// access log) as in the log, the in-flight gauge back to 0 and the scan-time histogram.
#[test]
fn filter_state_sink_and_full_metrics_opt_in() {
    let started = std::time::SystemTime::now();
    let h = Harness::start(
        r#"{"max_body_bytes": 2000, "audit": {"filter_state": true}, "metrics": {"detail": "full"}}"#,
    );
    let chat =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]});
    for _ in 0..2 {
        assert_eq!(h.post_json("/v1/chat/completions", &chat).status, 200);
    }
    let big = vec![b'x'; 3000];
    let r = h.post("/v1/completions", &[("content-type", "text/plain")], &big);
    assert_eq!(r.status, 413);
    // An answer 300 ms late: its latency is Envoy's duration (no clock reading at arrival).
    let slow = h.post(
        "/v1/chat/completions",
        &[
            ("content-type", "application/json"),
            ("x-mock-delay-ms", "300"),
        ],
        chat.to_string().as_bytes(),
    );
    assert_eq!(slow.status, 200);
    let logged = h.wait_audit_events(4);
    let start = std::time::Instant::now();
    while h.filter_state_events().len() < 4 && start.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let state = h.filter_state_events();
    assert_eq!(logged.len(), 4);
    assert!(
        logged[3]["latency_ms"].as_u64().unwrap() >= 300,
        "{}",
        logged[3]
    );
    // Envoy compiled the expression (once per worker, at the first request; a host without
    // CEL would say so instead): from the second request on no clock is read at arrival, so
    // the 300 ms above are Envoy's `request.duration`.
    let log = h.envoy_log();
    assert!(log.contains("from one CEL expression per request"), "{log}");
    assert!(!log.contains("evaluates no CEL"), "{log}");
    // The same events (a local reply's is published to filter state at the answer, before
    // Envoy's access log, and to the log at the end: its latency may differ by a few ms).
    let strip = |v: &[serde_json::Value]| -> Vec<serde_json::Value> {
        v.iter()
            .cloned()
            .map(|mut e| {
                e.as_object_mut().unwrap().remove("latency_ms");
                e
            })
            .collect()
    };
    assert_eq!(
        strip(&state),
        strip(&logged),
        "filter state and log carry the same events"
    );
    for e in &state {
        assert_valid_event(e);
    }
    assert_envoy_facts(&state, started);
    let prom = h.admin("/stats/prometheus");
    assert_eq!(
        prometheus_value(&prom, "promptgate_requests_in_flight{}"),
        Some(0.0),
        "{prom}"
    );
    assert!(prom.contains("promptgate_scan_duration_us"), "{prom}");
}

//! `limits.store: rls` through the real Envoy (issue 18): the release .wasm asks the real
//! `promptgate-limiter` (in-memory counters here; Redis and three Envoys are
//! `tests/e2e_distributed.rs`) over gRPC and over HTTP/JSON, and the faults: the limiter down
//! (`failure_mode` allow and deny) and a limiter that never answers (the call timeout holds).

mod common;
#[path = "../limiter/tests/support/mod.rs"]
mod support;

use common::*;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use support::Limiter;

/// Two clusters for the limiter: `limiter_grpc` (HTTP/2) and `limiter_http`.
fn clusters(grpc: u16, http: u16) -> String {
    format!(
        r#"
  - name: limiter_grpc
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{http2_protocol_options: {{}}}}
    load_assignment:
      cluster_name: limiter_grpc
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {grpc}}}}}}}
  - name: limiter_http
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: limiter_http
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {http}}}}}}}
"#
    )
}

/// Envoy with `config`, its limiter clusters pointing at `grpc`/`http` (which may have no
/// listener, or one that never answers).
fn envoy(config: &str, grpc: u16, http: u16) -> Harness {
    Harness::start_with(Options {
        config: config.into(),
        concurrency: 2,
        extra_clusters: clusters(grpc, http),
        ..Options::default()
    })
}

fn rls_config(extra: &str, limits: &str) -> String {
    format!(
        r#"{{"limits": {{"default": {limits},
            "store": {{"type": "rls", "timeout_ms": 300 {extra}}}}}}}"#
    )
}

fn metric(h: &Harness, line_start: &str) -> Option<f64> {
    h.admin("/stats/prometheus")
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Admitted, then refused, over `protocol`; the refusal is today's 429.
fn admitted_then_refused(extra: &str) {
    let config = rls_config(extra, r#"{"requests_per_minute": 2}"#);
    let limiter = Limiter::start(&limiter_bin(), &config, None, &[]);
    let (grpc, http) = (limiter.grpc_port, limiter.http_port);
    let h = envoy(&config, grpc, http);
    common::clear_of_minute_boundary(Duration::from_secs(10));
    let a = chat_as(&h, "sk-alice", 8);
    let b = chat_as(&h, "sk-alice", 8);
    let c = chat_as(&h, "sk-alice", 8);
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "{}\n{}",
        b.text(),
        h.envoy_log()
    );
    assert_eq!(a.header("x-ratelimit-limit-requests"), Some("2"));
    assert_eq!(a.header("x-ratelimit-remaining-requests"), Some("1"));
    assert_eq!(b.header("x-ratelimit-remaining-requests"), Some("0"));
    assert_eq!(c.status, 429, "{}", c.text());
    assert_eq!(c.json()["error"]["type"], "rate_limit_exceeded");
    assert_eq!(c.header("x-ratelimit-remaining-requests"), Some("0"));
    let retry: u64 = c.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "retry-after {retry}");
    // Another consumer has its own counter in the service.
    assert_eq!(chat_as(&h, "sk-bob", 8).status, 200);
    let events = h.wait_audit_events(4);
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e["decision"] == "rate_limited")
        .collect();
    assert_eq!(refused.len(), 1, "{events:?}");
    assert_eq!(refused[0]["reason"], "requests_per_minute");
    assert_eq!(
        h.upstream_count(),
        3,
        "the refused request never reached the model"
    );
    assert_eq!(
        metric(&h, "promptgate_limit_store_errors_total{store=\"rls\"}"),
        Some(0.0)
    );
}

#[test]
fn grpc_admits_and_refuses() {
    admitted_then_refused(r#", "cluster": "limiter_grpc""#);
}

#[test]
fn http_json_admits_and_refuses() {
    admitted_then_refused(
        r#", "cluster": "limiter_http", "protocol": "http", "authority": "limiter""#,
    );
}

#[test]
fn token_usage_beyond_the_estimate_is_settled() {
    let config = rls_config(
        r#", "cluster": "limiter_grpc""#,
        r#"{"tokens_per_minute": 100000}"#,
    );
    let limiter = Limiter::start(&limiter_bin(), &config, None, &[]);
    let (grpc, http) = (limiter.grpc_port, limiter.http_port);
    let h = envoy(&config, grpc, http);
    common::clear_of_minute_boundary(Duration::from_secs(10));
    // max_tokens 1: the reservation (prompt estimate + 1) is below what the model reports.
    let a = chat_as(&h, "sk-carol", 1);
    assert_eq!(a.status, 200, "{}", a.text());
    let after_a: u64 = a
        .header("x-ratelimit-remaining-tokens")
        .unwrap()
        .parse()
        .unwrap();
    let reserved = 100_000 - after_a;
    let used = h.wait_audit_events(1)[0]["tokens"]["total"]
        .as_u64()
        .unwrap();
    assert!(
        used > reserved,
        "usage {used} must exceed the reservation {reserved}"
    );
    let b = chat_as(&h, "sk-carol", 1);
    let after_b: u64 = b
        .header("x-ratelimit-remaining-tokens")
        .unwrap()
        .parse()
        .unwrap();
    // The second request sees the first one's real usage plus its own reservation.
    assert_eq!(after_b, 100_000 - used - reserved);
}

#[test]
fn limiter_down_follows_failure_mode() {
    // Nothing listens on these ports.
    let (grpc, http) = (free_port(), free_port());
    for (mode, protocol, status, cluster) in [
        ("allow", "grpc", 200, "limiter_grpc"),
        ("deny", "grpc", 503, "limiter_grpc"),
        ("deny", "http", 503, "limiter_http"),
        // A cluster Envoy does not have: the host refuses the call; no trap.
        ("allow", "grpc", 200, "no_such_cluster"),
        ("allow", "http", 200, "no_such_cluster"),
    ] {
        let config = rls_config(
            &format!(
                r#", "cluster": "{cluster}", "protocol": "{protocol}", "failure_mode": "{mode}""#
            ),
            r#"{"requests_per_minute": 1}"#,
        );
        let h = envoy(&config, grpc, http);
        for _ in 0..2 {
            let r = chat_as(&h, "sk-dave", 8);
            assert_eq!(r.status, status, "{mode} {protocol}: {}", r.text());
            if status == 503 {
                assert_eq!(r.json()["error"]["type"], "limiter_unavailable");
                assert_eq!(r.header("retry-after"), Some("1"));
            }
        }
        let events = h.wait_audit_events(2);
        for e in &events {
            assert_eq!(e["reason"], "limit_store_error", "{mode} {protocol}: {e}");
        }
        assert_eq!(
            metric(&h, "promptgate_limit_store_errors_total{store=\"rls\"}"),
            Some(2.0),
            "{mode} {protocol}"
        );
    }
}

#[test]
fn a_limiter_that_never_answers_costs_at_most_the_timeout() {
    // Accepts connections and never answers (HTTP/2 preface unanswered).
    let hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hole.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in hole.incoming().take(8) {
            conns.push(c);
        }
        conns.len()
    });
    for (mode, status) in [("deny", 503), ("allow", 200)] {
        let config = rls_config(
            &format!(r#", "cluster": "limiter_grpc", "failure_mode": "{mode}""#),
            r#"{"requests_per_minute": 5}"#,
        );
        let h = envoy(&config, port, port);
        let start = Instant::now();
        let r = chat_as(&h, "sk-erin", 8);
        let took = start.elapsed();
        assert_eq!(r.status, status, "{mode}: {}", r.text());
        // timeout_ms is 300: the call's timeout, plus the model's and Envoy's own time.
        assert!(took >= Duration::from_millis(290), "{mode}: {took:?}");
        assert!(took < Duration::from_millis(1500), "{mode}: {took:?}");
        let e = &h.wait_audit_events(1)[0];
        assert_eq!(e["reason"], "limit_store_timeout", "{mode}: {e}");
    }
    drop(held);
}

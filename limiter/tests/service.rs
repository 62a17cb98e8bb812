//! The limiter as a black box: the real binary, a real redis-server, a gRPC client from the same
//! envoy-types protos Envoy uses, and plain HTTP for `/json`.

mod support;

use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_client::RateLimitServiceClient;
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use envoy_types::pb::google::protobuf::UInt64Value;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{redis_server_bin, Limiter, Redis};
use tonic::transport::Channel;

const BIN: &str = env!("CARGO_BIN_EXE_promptgate-limiter");

fn bin() -> &'static Path {
    Path::new(BIN)
}

fn descriptor(
    kind: &str,
    rule: &str,
    consumer: Option<&str>,
    hits: Option<u64>,
) -> RateLimitDescriptor {
    let mut entries = vec![
        Entry {
            key: "promptgate_limit".into(),
            value: kind.into(),
        },
        Entry {
            key: "promptgate_rule".into(),
            value: rule.into(),
        },
    ];
    if let Some(c) = consumer {
        entries.push(Entry {
            key: "consumer".into(),
            value: c.into(),
        });
    }
    RateLimitDescriptor {
        entries,
        hits_addend: hits.map(|value| UInt64Value { value }),
        ..Default::default()
    }
}

fn settle(mut d: RateLimitDescriptor) -> RateLimitDescriptor {
    d.entries.push(Entry {
        key: "promptgate_phase".into(),
        value: "settle".into(),
    });
    d
}

fn request(descriptors: Vec<RateLimitDescriptor>) -> RateLimitRequest {
    RateLimitRequest {
        domain: "promptgate".into(),
        descriptors,
        hits_addend: 0,
    }
}

async fn client(l: &Limiter) -> RateLimitServiceClient<Channel> {
    RateLimitServiceClient::connect(format!("http://127.0.0.1:{}", l.grpc_port))
        .await
        .expect("grpc connect")
}

async fn call(c: &mut RateLimitServiceClient<Channel>, r: RateLimitRequest) -> RateLimitResponse {
    c.should_rate_limit(r)
        .await
        .expect("ShouldRateLimit")
        .into_inner()
}

const RPM_100: &str = r#"{"limits": {"default": {"requests_per_minute": 100}}}"#;

/// 1,000 calls at once for one consumer limited to 100 a minute: exactly 100 admitted.
async fn exactly_the_limit_of_1000_parallel(l: &Limiter, consumer: &str) {
    let base = client(l).await;
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let mut c = base.clone();
        let consumer = consumer.to_string();
        tasks.push(tokio::spawn(async move {
            let r = request(vec![descriptor(
                "requests_per_minute",
                "default",
                Some(&consumer),
                None,
            )]);
            call(&mut c, r).await
        }));
    }
    let (mut ok, mut over) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        if r.overall_code == Code::Ok as i32 {
            ok += 1;
        } else {
            assert_eq!(r.overall_code, Code::OverLimit as i32);
            let s = &r.statuses[0];
            assert_eq!(s.code, Code::OverLimit as i32);
            assert_eq!(s.limit_remaining, 0);
            let lim = s.current_limit.as_ref().unwrap();
            assert_eq!(
                (lim.requests_per_unit, lim.unit),
                (100, 2),
                "100 per MINUTE"
            );
            let reset = s.duration_until_reset.as_ref().unwrap().seconds;
            assert!((1..=60).contains(&reset), "reset {reset}");
            over += 1;
        }
    }
    assert_eq!((ok, over), (100, 900), "admitted, refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_1000_parallel_calls_admit_exactly_100_and_other_consumers_are_unaffected() {
    let Some(rb) = redis_server_bin("redis_1000_parallel_calls_admit_exactly_100") else {
        return;
    };
    let redis = Redis::start(&rb);
    let l = Limiter::start(bin(), RPM_100, Some(&redis.url()), &[]);
    exactly_the_limit_of_1000_parallel(&l, "a3f1c2").await;
    let mut c = client(&l).await;
    let r = call(
        &mut c,
        request(vec![descriptor(
            "requests_per_minute",
            "default",
            Some("b77e01"),
            None,
        )]),
    )
    .await;
    assert_eq!(r.overall_code, Code::Ok as i32);
    assert_eq!(r.statuses[0].limit_remaining, 99);
    // The counters are in Redis (one key per consumer and window), not in the limiter.
    let keys = redis.command(&["KEYS", "*"]);
    assert!(keys.contains("a3f1c2") && keys.contains("b77e01"), "{keys}");
    // The startup line is there, and no consumer id is logged.
    let log = l.log();
    assert!(
        log.contains("promptgate-limiter: domain \"promptgate\", 11 limits")
            || log.contains("limits, store redis"),
        "{log}"
    );
    assert!(!log.contains("a3f1c2"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_is_exact_too() {
    let l = Limiter::start(bin(), RPM_100, None, &[]);
    exactly_the_limit_of_1000_parallel(&l, "m1").await;
    assert!(l.log().contains("store memory"), "{}", l.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_is_all_or_nothing_and_settlement_always_counts() {
    let Some(rb) = redis_server_bin("admission_is_all_or_nothing_and_settlement_always_counts")
    else {
        return;
    };
    let redis = Redis::start(&rb);
    let cfg = r#"{"limits": {"default": {"requests_per_minute": 10, "tokens_per_minute": 1000}}}"#;
    let l = Limiter::start(bin(), cfg, Some(&redis.url()), &[]);
    let mut c = client(&l).await;
    let both = |tokens: u64| {
        request(vec![
            descriptor("requests_per_minute", "default", Some("t1"), Some(1)),
            descriptor("tokens_per_minute", "default", Some("t1"), Some(tokens)),
        ])
    };
    let r = call(&mut c, both(600)).await;
    assert_eq!(r.overall_code, Code::Ok as i32);
    assert_eq!(r.statuses[0].limit_remaining, 9);
    assert_eq!(r.statuses[1].limit_remaining, 400);
    // 600 more tokens do not fit: refused, and the request counter is not charged either.
    let r = call(&mut c, both(600)).await;
    assert_eq!(r.overall_code, Code::OverLimit as i32);
    assert_eq!(r.statuses[0].code, Code::Ok as i32);
    assert_eq!(r.statuses[1].code, Code::OverLimit as i32);
    assert_eq!(r.statuses[1].limit_remaining, 400);
    let r = call(&mut c, both(400)).await;
    assert_eq!(r.overall_code, Code::Ok as i32);
    assert_eq!(
        r.statuses[0].limit_remaining, 8,
        "the refused call counted nothing"
    );
    assert_eq!(r.statuses[1].limit_remaining, 0);
    // Settlement past the limit is never refused (the tokens were spent) and is counted.
    let s = request(vec![settle(descriptor(
        "tokens_per_minute",
        "default",
        Some("t1"),
        Some(500),
    ))]);
    let r = call(&mut c, s).await;
    assert_eq!(r.overall_code, Code::Ok as i32);
    let r = call(&mut c, both(0)).await;
    assert_eq!(
        r.overall_code,
        Code::OverLimit as i32,
        "1500 > 1000 after settlement"
    );
    // Another consumer starts from its own counters.
    let r = call(
        &mut c,
        request(vec![descriptor(
            "tokens_per_minute",
            "default",
            Some("t2"),
            Some(1000),
        )]),
    )
    .await;
    assert_eq!(r.overall_code, Code::Ok as i32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_global_budget_and_malformed_requests() {
    let cfg = r#"{"limits": {
        "default": {"requests_per_minute": 5},
        "overrides": [{"match": {"name": "vip"}, "limits": {"requests_per_minute": 50}}],
        "global_budget": {"cost_per_day": 1.5},
        "pricing": {"default": {"input": 1, "output": 1}}}}"#;
    let l = Limiter::start(bin(), cfg, None, &["--store-timeout-ms", "500"]);
    let mut c = client(&l).await;
    let r = call(
        &mut c,
        request(vec![descriptor(
            "requests_per_minute",
            "override:0",
            Some("v"),
            None,
        )]),
    )
    .await;
    assert_eq!(r.statuses[0].limit_remaining, 49);
    assert_eq!(
        r.statuses[0].current_limit.as_ref().unwrap().name,
        "override:0/requests_per_minute"
    );
    // The global budget has no consumer entry; 1.5 currency units = 1,500,000 micro-units.
    let g = |micros| {
        request(vec![descriptor(
            "global_budget",
            "global",
            None,
            Some(micros),
        )])
    };
    assert_eq!(
        call(&mut c, g(1_000_000)).await.overall_code,
        Code::Ok as i32
    );
    let r = call(&mut c, g(600_000)).await;
    assert_eq!(r.overall_code, Code::OverLimit as i32);
    assert_eq!(r.statuses[0].limit_remaining, 500_000);
    assert_eq!(r.statuses[0].current_limit.as_ref().unwrap().unit, 4, "DAY");
    // A descriptor the configuration has no limit for is OK without a limit (as envoyproxy/ratelimit).
    let r = call(
        &mut c,
        request(vec![descriptor(
            "tokens_per_day",
            "default",
            Some("x"),
            Some(9),
        )]),
    )
    .await;
    assert_eq!(r.overall_code, Code::Ok as i32);
    assert!(r.statuses[0].current_limit.is_none());
    // Malformed: INVALID_ARGUMENT with a reason.
    for (req, want) in [
        (
            RateLimitRequest {
                domain: "other".into(),
                ..request(vec![])
            },
            "domain",
        ),
        (request(vec![RateLimitDescriptor::default()]), "no entries"),
        (
            request(vec![descriptor(
                "requests_per_minute",
                "default",
                None,
                None,
            )]),
            "consumer",
        ),
    ] {
        let e = c.should_rate_limit(req).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        assert!(e.message().contains(want), "{e:?}");
    }
}

fn post_json(l: &Limiter, body: &str) -> (u16, serde_json::Value) {
    let (status, body) = support::http(l.http_port, "POST", "/json", body);
    (
        status,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_endpoint_speaks_proto3_json() {
    let l = Limiter::start(
        bin(),
        r#"{"limits": {"default": {"requests_per_minute": 2}}}"#,
        None,
        &[],
    );
    let body = r#"{"domain": "promptgate", "descriptors": [{"entries": [
        {"key": "promptgate_limit", "value": "requests_per_minute"},
        {"key": "promptgate_rule", "value": "default"},
        {"key": "consumer", "value": "j1"}], "hitsAddend": "1"}]}"#;
    let (s, j) = post_json(&l, body);
    assert_eq!(s, 200, "{j}");
    assert_eq!(j["overallCode"], "OK");
    assert_eq!(j["statuses"][0]["limitRemaining"], 1);
    assert_eq!(j["statuses"][0]["currentLimit"]["unit"], "MINUTE");
    assert_eq!(post_json(&l, body).0, 200);
    let (s, j) = post_json(&l, body);
    assert_eq!(s, 429, "{j}");
    assert_eq!(j["overallCode"], "OVER_LIMIT");
    assert_eq!(j["statuses"][0]["code"], "OVER_LIMIT");
    assert_eq!(j["statuses"][0]["currentLimit"]["requestsPerUnit"], 2);
    let reset = j["statuses"][0]["durationUntilReset"].as_str().unwrap();
    assert!(
        reset.ends_with('s') && reset.trim_end_matches('s').parse::<u64>().unwrap() <= 60,
        "{reset}"
    );
    let (s, j) = post_json(
        &l,
        r#"{"domain": "promptgate", "descriptors": [{"entries": [], "hitsAddend": -3}]}"#,
    );
    assert_eq!(s, 400);
    assert!(j["error"].as_str().unwrap().contains("non-negative"), "{j}");
    assert_eq!(post_json(&l, "{").0, 400);
    assert_eq!(
        support::http(l.http_port, "GET", "/healthz", ""),
        (200, r#"{"status":"ok"}"#.into())
    );
    assert_eq!(support::http(l.http_port, "GET", "/nope", "").0, 404);
    assert_eq!(support::http(l.http_port, "GET", "/json", "").0, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_survive_a_limiter_restart() {
    let Some(rb) = redis_server_bin("counters_survive_a_limiter_restart") else {
        return;
    };
    let redis = Redis::start(&rb);
    let mut l = Limiter::start(bin(), RPM_100, Some(&redis.url()), &[]);
    let one = || {
        request(vec![descriptor(
            "requests_per_minute",
            "default",
            Some("r1"),
            None,
        )])
    };
    let mut c = client(&l).await;
    for _ in 0..60 {
        assert_eq!(call(&mut c, one()).await.overall_code, Code::Ok as i32);
    }
    l.kill();
    l.restart();
    let mut c = client(&l).await;
    let r = call(&mut c, one()).await;
    assert_eq!(
        r.statuses[0].limit_remaining, 39,
        "60 + this one counted before the restart"
    );
    for _ in 0..39 {
        assert_eq!(call(&mut c, one()).await.overall_code, Code::Ok as i32);
    }
    assert_eq!(
        call(&mut c, one()).await.overall_code,
        Code::OverLimit as i32
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_unavailable_within_the_store_timeout_and_service_resumes() {
    let Some(rb) = redis_server_bin("redis_down_is_unavailable_within_the_store_timeout") else {
        return;
    };
    let mut redis = Redis::start(&rb);
    let l = Limiter::start(
        bin(),
        RPM_100,
        Some(&redis.url()),
        &["--store-timeout-ms", "300"],
    );
    let one = || {
        request(vec![descriptor(
            "requests_per_minute",
            "default",
            Some("d1"),
            None,
        )])
    };
    let mut c = client(&l).await;
    assert_eq!(call(&mut c, one()).await.overall_code, Code::Ok as i32);
    redis.kill();
    for _ in 0..5 {
        let t = Instant::now();
        let e = c.should_rate_limit(one()).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unavailable, "{e:?}");
        assert!(
            t.elapsed() < Duration::from_millis(1000),
            "{:?}",
            t.elapsed()
        );
    }
    let (s, j) = post_json(
        &l,
        r#"{"domain": "promptgate", "descriptors": [{"entries": [
        {"key": "promptgate_limit", "value": "requests_per_minute"},
        {"key": "promptgate_rule", "value": "default"}, {"key": "consumer", "value": "d1"}]}]}"#,
    );
    assert_eq!(s, 503, "{j}");
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.should_rate_limit(one()).await {
            Ok(r) => {
                assert_eq!(r.into_inner().overall_code, Code::Ok as i32);
                break;
            }
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.code(), tonic::Code::Unavailable, "{e:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("not resumed 10 s after redis came back: {e:?}"),
        }
    }
}

#[test]
fn a_bad_config_is_refused_at_startup_naming_the_field() {
    let dir = support::TempDir::new();
    let p = dir.path().join("c.json");
    std::fs::write(
        &p,
        r#"{"limits": {"default": {"requests_per_minute": -1}}}"#,
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .arg("--config")
        .arg(&p)
        .arg("--memory")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limits.default.requests_per_minute"), "{err}");
    let out = std::process::Command::new(BIN)
        .arg("--memory")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config is required"));
}

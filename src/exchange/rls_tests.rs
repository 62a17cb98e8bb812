//! `limits.store: rls` through the fake host (issue 18): the request held until the rate-limit
//! service answers, OK / OVER_LIMIT / error status / timeout / garbage, both protocols, every
//! host, the settlement after the response, and a client gone while the call is in flight.

use super::*;
use envoy_types::pb::envoy::service::ratelimit::v3 as pb;
use pb::rate_limit_response::{Code as PbCode, DescriptorStatus, RateLimit};
use prost::Message;

/// A counting rate-limit service: limit per `promptgate_limit` value, fixed 60 s windows that
/// never roll during a test; a settlement is always counted and answered OK.
#[derive(Default)]
struct Service {
    limits: HashMap<String, u64>,
    counts: HashMap<String, u64>,
    /// Every request it received, decoded, with whether it came over gRPC.
    seen: Vec<(bool, pb::RateLimitRequest)>,
}

fn entries(
    d: &envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor,
) -> Vec<(String, String)> {
    d.entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect()
}

fn entry<'a>(e: &'a [(String, String)], key: &str) -> Option<&'a str> {
    e.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A proto3 JSON request (as `encode_json` writes it) back into the prost type.
fn from_json(body: &[u8]) -> pb::RateLimitRequest {
    use envoy_types::pb::envoy::extensions::common::ratelimit::v3::{
        rate_limit_descriptor::Entry, RateLimitDescriptor,
    };
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    pb::RateLimitRequest {
        domain: v["domain"].as_str().unwrap().into(),
        descriptors: v["descriptors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| RateLimitDescriptor {
                entries: d["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| Entry {
                        key: e["key"].as_str().unwrap().into(),
                        value: e["value"].as_str().unwrap().into(),
                    })
                    .collect(),
                hits_addend: Some(envoy_types::pb::google::protobuf::UInt64Value {
                    value: d["hitsAddend"].as_str().unwrap().parse().unwrap(),
                }),
                ..Default::default()
            })
            .collect(),
        hits_addend: 0,
    }
}

impl Service {
    fn answer(&mut self, req: &pb::RateLimitRequest) -> pb::RateLimitResponse {
        let settle = req
            .descriptors
            .iter()
            .all(|d| entry(&entries(d), "promptgate_phase") == Some("settle"));
        let mut statuses = Vec::new();
        let mut over = false;
        for d in &req.descriptors {
            let e = entries(d);
            let kind = entry(&e, "promptgate_limit").unwrap().to_string();
            let key = format!("{e:?}").replace(", (\"promptgate_phase\", \"settle\")", "");
            let hits = d.hits_addend.map_or(1, |h| h.value);
            let limit = self.limits.get(&kind).copied().unwrap_or(u64::MAX);
            let used = self.counts.get(&key).copied().unwrap_or(0);
            let refused = !settle && used.saturating_add(hits) > limit;
            over |= refused;
            statuses.push((key, hits, limit, used, refused));
        }
        let mut out = pb::RateLimitResponse {
            overall_code: if over { PbCode::OverLimit } else { PbCode::Ok } as i32,
            ..Default::default()
        };
        for (key, hits, limit, used, refused) in statuses {
            // Check and count in one step: nothing is counted when any descriptor is over.
            let now = if over {
                used
            } else {
                used.saturating_add(hits)
            };
            if !over {
                self.counts.insert(key, now);
            }
            out.statuses.push(DescriptorStatus {
                code: if refused {
                    PbCode::OverLimit
                } else {
                    PbCode::Ok
                } as i32,
                current_limit: Some(RateLimit {
                    name: String::new(),
                    requests_per_unit: limit.min(u64::from(u32::MAX)) as u32,
                    unit: 2,
                }),
                limit_remaining: limit.saturating_sub(now).min(u64::from(u32::MAX)) as u32,
                duration_until_reset: Some(envoy_types::pb::google::protobuf::Duration {
                    seconds: 42,
                    nanos: 0,
                }),
                quota: None,
            });
        }
        out
    }

    /// A responder for a `Proxy`: decodes the call (gRPC protobuf or JSON) and answers it.
    fn responder(svc: Rc<RefCell<Service>>) -> Responder {
        Box::new(move |call: &Call| {
            let mut s = svc.borrow_mut();
            if call.grpc {
                let req = pb::RateLimitRequest::decode(call.message.as_slice()).unwrap();
                let out = s.answer(&req);
                s.seen.push((true, req));
                Reply::Grpc(0, out.encode_to_vec())
            } else {
                let req = from_json(&call.message);
                let out = s.answer(&req);
                s.seen.push((false, req));
                let status = if out.overall_code == PbCode::OverLimit as i32 {
                    429
                } else {
                    200
                };
                Reply::Http(Some(status), json_answer(&out))
            }
        })
    }
}

/// A response in proto3 JSON, as envoyproxy/ratelimit's `/json` writes it.
fn json_answer(r: &pb::RateLimitResponse) -> Vec<u8> {
    let code = |c: i32| match c {
        1 => "OK",
        2 => "OVER_LIMIT",
        _ => "UNKNOWN",
    };
    let statuses: Vec<serde_json::Value> = r
        .statuses
        .iter()
        .map(|s| {
            serde_json::json!({
                "code": code(s.code),
                "currentLimit": {"requestsPerUnit": s.current_limit.as_ref().unwrap().requests_per_unit, "unit": "MINUTE"},
                "limitRemaining": s.limit_remaining,
                "durationUntilReset": format!("{}s", s.duration_until_reset.unwrap().seconds),
            })
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"overallCode": code(r.overall_code), "statuses": statuses}),
    )
    .unwrap()
}

fn rls_proxy(
    flavor: Flavor,
    config: &str,
    limits: &[(&str, u64)],
) -> (Proxy, Rc<RefCell<Service>>) {
    let svc = Rc::new(RefCell::new(Service {
        limits: limits.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        ..Service::default()
    }));
    let mut p = Proxy::new(flavor, config);
    p.responder = Some(Service::responder(svc.clone()));
    (p, svc)
}

fn header<'a>(h: &'a Pairs, name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn rls_errors(p: &Proxy) -> i64 {
    p.metric(&metrics::name(
        metrics::LIMIT_STORE_ERRORS_TOTAL,
        &[("store", "rls")],
    ))
}

const GRPC: &str = r#"{"limits": {"default": {"requests_per_minute": 2},
    "store": {"type": "rls", "cluster": "promptgate_limiter", "timeout_ms": 150}}}"#;

#[test]
fn grpc_admits_and_refuses_like_a_local_limit() {
    let (mut p, svc) = rls_proxy(Flavor::Envoy, GRPC, &[("requests_per_minute", 2)]);
    let a = p.post("k1", BENIGN);
    let b = p.post("k1", BENIGN);
    let c = p.post("k1", BENIGN);
    assert_eq!((a.status, b.status, c.status), (200, 200, 429));
    assert_eq!(
        header(&a.client_headers, "x-ratelimit-remaining-requests"),
        Some("1")
    );
    assert_eq!(
        header(&b.client_headers, "x-ratelimit-remaining-requests"),
        Some("0")
    );
    assert_eq!(
        header(&b.client_headers, "x-ratelimit-limit-requests"),
        Some("2")
    );
    assert_eq!(
        header(&b.client_headers, "x-ratelimit-reset-requests"),
        Some("42s")
    );
    // The refusal is today's 429: body, retry-after, x-ratelimit-*, audit.
    assert_eq!(header(&c.local_headers, "retry-after"), Some("42"));
    assert_eq!(
        header(&c.local_headers, "x-ratelimit-remaining-requests"),
        Some("0")
    );
    let body: serde_json::Value =
        serde_json::from_slice(&p.host.st.borrow().local.as_ref().unwrap().2).unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_exceeded");
    let audit = c.audit();
    assert_eq!(
        (
            audit["decision"].as_str(),
            audit["reason"].as_str(),
            audit["limit"].as_str()
        ),
        (
            Some("rate_limited"),
            Some("requests_per_minute"),
            Some("requests_per_minute")
        )
    );
    // Another consumer has its own counter.
    assert_eq!(p.post("k2", BENIGN).status, 200);
    // What was sent: one gRPC call per request, to the configured cluster, with the timeout.
    let st = p.host.st.borrow();
    assert_eq!(st.calls.len(), 4);
    for call in &st.calls {
        assert!(call.grpc);
        assert_eq!(call.service, "envoy.service.ratelimit.v3.RateLimitService");
        assert_eq!(call.method, "ShouldRateLimit");
        assert_eq!(call.timeout_ms, 150);
        let g =
            envoy_types::pb::envoy::config::core::v3::GrpcService::decode(call.upstream.as_slice())
                .unwrap();
        assert!(format!("{g:?}").contains("promptgate_limiter"));
    }
    let s = svc.borrow();
    let (_, req) = &s.seen[0];
    assert_eq!(req.domain, "promptgate");
    assert_eq!(req.descriptors.len(), 1);
    let e = entries(&req.descriptors[0]);
    assert_eq!(entry(&e, "promptgate_limit"), Some("requests_per_minute"));
    assert_eq!(entry(&e, "promptgate_rule"), Some("default"));
    let consumer = entry(&e, "consumer").unwrap();
    assert_eq!(
        consumer.len(),
        32,
        "the hashed id, never the key: {consumer}"
    );
    assert!(!consumer.contains("k1"));
    assert_eq!(req.descriptors[0].hits_addend.unwrap().value, 1);
    // One source of counting: shared data holds no window.
    assert!(st.shared.is_empty(), "{:?}", st.shared.keys());
    drop(st);
    assert_eq!(p.requests("allowed"), 3);
    assert_eq!(p.requests("rate_limited"), 1);
    assert_eq!(p.metric(metrics::IN_FLIGHT), 0);
    assert_eq!(rls_errors(&p), 0);
}

#[test]
fn the_global_budget_and_overrides_have_their_own_descriptors() {
    let config = r#"{"limits": {
        "default": {"tokens_per_minute": 100000, "cost_per_day": 5},
        "overrides": [{"match": {"name": "team-a"}, "limits": {"requests_per_day": 10}}],
        "global_budget": {"cost_per_day": 100},
        "pricing": {"default": {"input": 1, "output": 2}},
        "store": {"type": "rls", "cluster": "rl"}},
        "identity": {"sources": [{"header": "x-team", "secret": false}]}}"#;
    let (mut p, svc) = rls_proxy(Flavor::Envoy, config, &[("global_budget", 0)]);
    let o = p.request(
        &[
            (":method", "POST"),
            (":path", "/v1/chat/completions"),
            ("content-type", "application/json"),
            ("x-team", "team-a"),
        ],
        BENIGN,
    );
    // The global descriptor is over: the answer is the budget's 429.
    assert_eq!(o.status, 429, "{:?}", o.audits);
    let a = o.audit();
    assert_eq!(
        (a["decision"].as_str(), a["reason"].as_str()),
        (Some("budget_exceeded"), Some("global_budget"))
    );
    let s = svc.borrow();
    let req = &s.seen[0].1;
    let kinds: Vec<(String, String, Option<String>)> = req
        .descriptors
        .iter()
        .map(|d| {
            let e = entries(d);
            (
                entry(&e, "promptgate_limit").unwrap().into(),
                entry(&e, "promptgate_rule").unwrap().into(),
                entry(&e, "consumer").map(str::to_string),
            )
        })
        .collect();
    let names: Vec<(&str, &str, bool)> = kinds
        .iter()
        .map(|(k, r, c)| (k.as_str(), r.as_str(), c.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("requests_per_day", "override:0", true),
            ("tokens_per_minute", "override:0", true),
            ("cost_per_day", "override:0", true),
            ("global_budget", "global", false),
        ]
    );
    // Tokens and cost reserve the estimate; cost in micro-units, the same in both.
    let hits: Vec<u64> = req
        .descriptors
        .iter()
        .map(|d| d.hits_addend.unwrap().value)
        .collect();
    assert_eq!(hits[0], 1);
    assert!(
        hits[1] > 1000,
        "estimate includes default_completion_tokens: {hits:?}"
    );
    assert!(hits[2] > 0 && hits[2] == hits[3], "{hits:?}");
}

#[test]
fn http_protocol_works_on_every_host() {
    let config = r#"{"limits": {"default": {"requests_per_minute": 1},
        "store": {"type": "rls", "protocol": "http", "cluster": "127.0.0.1:8081",
                  "authority": "limiter", "domain": "gw"}}}"#;
    for flavor in HOSTS {
        let (mut p, svc) = rls_proxy(flavor, config, &[("requests_per_minute", 1)]);
        let a = p.post("k1", BENIGN);
        let b = p.post("k1", BENIGN);
        assert_eq!((a.status, b.status), (200, 429), "{flavor:?}");
        assert_eq!(b.audit()["reason"], "requests_per_minute", "{flavor:?}");
        assert_eq!(
            header(&b.local_headers, "retry-after"),
            Some("42"),
            "{flavor:?}"
        );
        let st = p.host.st.borrow();
        assert_eq!(st.calls.len(), 2, "{flavor:?}");
        let call = &st.calls[0];
        assert!(!call.grpc);
        assert_eq!(call.upstream, b"127.0.0.1:8081");
        for (k, v) in [
            (":method", "POST"),
            (":path", "/json"),
            (":authority", "limiter"),
            ("content-type", "application/json"),
        ] {
            assert_eq!(header(&call.headers, k), Some(v), "{flavor:?} {k}");
        }
        assert_eq!(svc.borrow().seen[0].1.domain, "gw");
        assert!(!svc.borrow().seen[0].0);
    }
}

#[test]
fn faults_follow_failure_mode_and_say_why() {
    let garbage = vec![0x12, 0x05, 0x08];
    let cases: Vec<(Reply, &str)> = vec![
        (Reply::Grpc(14, Vec::new()), "limit_store_error"),
        (Reply::Grpc(2, Vec::new()), "limit_store_error"),
        (Reply::Grpc(4, Vec::new()), "limit_store_timeout"),
        (Reply::Late, "limit_store_timeout"),
        (Reply::Grpc(0, garbage.clone()), "limit_store_error"),
        // An empty message: overall_code UNKNOWN.
        (Reply::Grpc(0, Vec::new()), "limit_store_error"),
    ];
    for mode in ["allow", "deny"] {
        for (reply, reason) in &cases {
            let config = format!(
                r#"{{"limits": {{"default": {{"requests_per_minute": 5}},
                   "store": {{"type": "rls", "cluster": "rl", "timeout_ms": 80, "failure_mode": "{mode}"}}}}}}"#
            );
            let mut p = Proxy::new(Flavor::Envoy, &config);
            let r = reply.clone();
            p.responder = Some(Box::new(move |_| r.clone()));
            let start = p.host.st.borrow().now_ms;
            let o = p.post("k1", BENIGN);
            let a = o.audit();
            let case = format!("{mode} {reply:?}");
            assert_eq!(a["reason"], *reason, "{case}");
            if mode == "allow" {
                assert_eq!(o.status, 200, "{case}");
                assert_eq!(a["decision"], "allowed", "{case}");
            } else {
                assert_eq!(o.status, 503, "{case}");
                assert_eq!(a["decision"], "error", "{case}");
                assert_eq!(header(&o.local_headers, "retry-after"), Some("1"), "{case}");
                let body: serde_json::Value =
                    serde_json::from_slice(&p.host.st.borrow().local.as_ref().unwrap().2).unwrap();
                assert_eq!(body["error"]["type"], "limiter_unavailable", "{case}");
            }
            assert_eq!(rls_errors(&p), 1, "{case}");
            assert_eq!(
                p.metric(&metrics::name(
                    metrics::LIMIT_STORE_ERRORS_TOTAL,
                    &[("store", "local")]
                )),
                0,
                "{case}"
            );
            // The host's call timeout is the configured one; a late answer arrives no later.
            let st = p.host.st.borrow();
            assert_eq!(st.calls[0].timeout_ms, 80, "{case}");
            assert!(st.now_ms - start <= 10 + 80, "{case}");
        }
    }
}

#[test]
fn grpc_on_a_host_without_grpc_calls_degrades_clearly() {
    for flavor in [Flavor::Kong, Flavor::Apisix] {
        for (mode, status) in [("allow", 200), ("deny", 503)] {
            let config = format!(
                r#"{{"limits": {{"default": {{"requests_per_minute": 5}},
                   "store": {{"type": "rls", "cluster": "rl", "failure_mode": "{mode}"}}}}}}"#
            );
            let (mut p, _svc) = rls_proxy(flavor, &config, &[]);
            let o = p.post("k1", BENIGN);
            assert_eq!(o.status, status, "{flavor:?} {mode}");
            assert_eq!(
                o.audit()["reason"],
                "limit_store_unsupported",
                "{flavor:?} {mode}"
            );
            assert!(p.host.st.borrow().calls.is_empty(), "no call attempted");
            assert_eq!(rls_errors(&p), 1);
        }
    }
}

#[test]
fn usage_beyond_the_estimate_is_settled_after_the_response() {
    // max_tokens 1 and a large bytes_per_token: the reservation is below the usage (15 tokens).
    let config = r#"{"limits": {"default": {"tokens_per_minute": 1000, "requests_per_minute": 9},
        "estimate": {"bytes_per_token": 1000},
        "store": {"type": "rls", "cluster": "rl"}}}"#;
    let body = br#"{"model":"gpt-4o-mini","max_tokens":1,"messages":[{"role":"user","content":"Plan a small garden, please."}]}"#;
    for flavor in HOSTS {
        let proto = if flavor == Flavor::Envoy {
            "grpc"
        } else {
            "http"
        };
        let config = config.replace(
            r#""cluster": "rl""#,
            &format!(r#""cluster": "rl", "protocol": "{proto}""#),
        );
        let (mut p, svc) = rls_proxy(flavor, &config, &[]);
        let o = p.post("k1", body);
        assert_eq!(o.status, 200, "{flavor:?}");
        assert_eq!(o.client_body, USAGE, "{flavor:?}: the answer passes whole");
        let s = svc.borrow();
        let admission = &s.seen[0].1;
        let reserved = admission.descriptors[1].hits_addend.unwrap().value;
        assert!(reserved < 15, "{reserved}");
        if flavor != Flavor::Envoy {
            // Kong and APISIX make calls in the request phases only: the reservation stands.
            assert_eq!(s.seen.len(), 1, "{flavor:?}");
            continue;
        }
        assert_eq!(s.seen.len(), 2, "{flavor:?}: admission and settlement");
        let settle = &s.seen[1].1;
        assert_eq!(
            settle.descriptors.len(),
            1,
            "only the token limit is settled"
        );
        let e = entries(&settle.descriptors[0]);
        assert_eq!(entry(&e, "promptgate_limit"), Some("tokens_per_minute"));
        assert_eq!(
            e.last().unwrap(),
            &("promptgate_phase".to_string(), "settle".to_string())
        );
        assert_eq!(
            settle.descriptors[0].hits_addend.unwrap().value,
            15 - reserved
        );
        // The service counted reservation + settlement = the real usage.
        let total: u64 = s
            .counts
            .iter()
            .filter(|(k, _)| k.contains("tokens_per_minute"))
            .map(|(_, v)| v)
            .sum();
        assert_eq!(total, 15);
    }
}

#[test]
fn usage_within_the_estimate_needs_no_second_call() {
    let config = r#"{"limits": {"default": {"tokens_per_minute": 100000},
        "store": {"type": "rls", "cluster": "rl"}}}"#;
    let (mut p, svc) = rls_proxy(Flavor::Envoy, config, &[]);
    assert_eq!(p.post("k1", BENIGN).status, 200);
    assert_eq!(svc.borrow().seen.len(), 1);
}

#[test]
fn concurrency_stays_local_and_is_released_when_the_client_leaves_mid_call() {
    let config = r#"{"limits": {"default": {"concurrent_requests": 1, "requests_per_minute": 100},
        "store": {"type": "rls", "cluster": "rl"}}}"#;
    let (mut p, svc) = rls_proxy(Flavor::Envoy, config, &[]);
    // A request whose call never returns: the client goes away while it waits.
    p.host.st.borrow_mut().req_headers = vec![
        (":method".into(), "POST".into()),
        (":path".into(), "/v1/chat/completions".into()),
        ("content-type".into(), "application/json".into()),
        ("authorization".into(), "Bearer k1".into()),
        ("content-length".into(), BENIGN.len().to_string()),
    ];
    p.host.st.borrow_mut().req_body = BENIGN.to_vec();
    let mut ex = Exchange::new(p.host.clone(), p.plugin.clone(), p.telemetry.clone());
    assert_eq!(ex.on_request_headers(false), Step::Pause);
    assert_eq!(
        ex.on_request_body(BENIGN.len(), true),
        Step::Pause,
        "held for the call"
    );
    assert_eq!(p.host.st.borrow().calls.len(), 1);
    // Meanwhile a second request: the concurrency slot is taken (in shared data, locally).
    let o = p.post("k1", BENIGN);
    assert_eq!(o.status, 429);
    assert_eq!(o.audit()["reason"], "concurrent_requests");
    assert_eq!(p.host.st.borrow().calls.len(), 1, "refused before any call");
    // The first client leaves: one event, the slot given back, the late answer ignored.
    let logs = p.host.st.borrow().logs.len();
    ex.on_log();
    ex.on_done();
    let token = p.host.st.borrow().calls[0].token;
    ex.on_grpc_call_response(token, 0, 0);
    let events = p.host.st.borrow().logs[logs..]
        .iter()
        .filter(|(l, _)| *l == Level::Info)
        .count();
    assert_eq!(events, 1);
    assert!(p.host.st.borrow().resumed.is_empty());
    p.host.st.borrow_mut().calls[0].answered = true;
    let o = p.post("k1", BENIGN);
    assert_eq!(o.status, 200, "{:?}", o.audits);
    assert_eq!(svc.borrow().seen.len(), 1);
    assert_eq!(p.metric(metrics::IN_FLIGHT), 0);
}

#[test]
fn only_concurrency_or_store_local_makes_no_call() {
    for config in [
        r#"{"limits": {"default": {"concurrent_requests": 3}, "store": {"type": "rls", "cluster": "rl"}}}"#,
        r#"{"limits": {"default": {"requests_per_minute": 3}}}"#,
        r#"{"limits": {"default": {"requests_per_minute": 3}, "store": {"type": "local"}}}"#,
    ] {
        let (mut p, _svc) = rls_proxy(Flavor::Envoy, config, &[]);
        assert_eq!(p.post("k1", BENIGN).status, 200, "{config}");
        assert!(p.host.st.borrow().calls.is_empty(), "{config}");
    }
}

//! Limits through the real Envoy: counters in shared data, exact across worker threads,
//! settled from the response's usage, concurrency slots released on completion and abort.

mod common;
use common::*;
use serde_json::json;
use std::time::Duration;

fn chat_with(key: &str, max_tokens: u64) -> (Vec<(String, String)>, Vec<u8>) {
    let body = json!({
        "model": "gpt-4o-mini",
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "Write a haiku about rate limits."}]
    });
    (
        vec![
            ("content-type".into(), "application/json".into()),
            ("authorization".into(), format!("Bearer {key}")),
        ],
        body.to_string().into_bytes(),
    )
}

fn post_as(h: &Harness, key: &str, max_tokens: u64) -> Response {
    let (headers, body) = chat_with(key, max_tokens);
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    h.post("/v1/chat/completions", &headers, &body)
}

#[test]
fn requests_per_minute_per_consumer() {
    let h = Harness::start(r#"{"limits": {"default": {"requests_per_minute": 3}}}"#);
    common::clear_of_minute_boundary(std::time::Duration::from_secs(20));
    for i in 0..3 {
        let r = post_as(&h, "sk-alice", 8);
        assert_eq!(r.status, 200, "request {i}: {}", r.text());
        assert_eq!(
            r.header("x-ratelimit-remaining-requests"),
            Some((2 - i).to_string().as_str())
        );
    }
    let denied = post_as(&h, "sk-alice", 8);
    assert_eq!(denied.status, 429, "{}", denied.text());
    let v = denied.json();
    assert_eq!(v["error"]["type"], "rate_limit_exceeded");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("requests_per_minute"));
    let retry: u64 = denied.header("retry-after").unwrap().parse().unwrap();
    // Sliding: the 3 of this minute weigh ⌈3 × unelapsed fraction⌉ in the next one, so a
    // fourth fits a third of the way into it (at most 80 s from now).
    assert!((1..=80).contains(&retry), "retry-after {retry}");
    // Another consumer has its own budget; so does anonymous.
    assert_eq!(post_as(&h, "sk-bob", 8).status, 200);
    let anon = h.post_json(
        "/v1/chat/completions",
        &json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(anon.status, 200);
    assert_eq!(h.upstream_count(), 5);

    let events = h.wait_audit_events(6);
    assert_eq!(events[3]["decision"], "rate_limited");
    assert_eq!(events[3]["limit"], "requests_per_minute");
    // The consumer is a hash, never the key.
    let alice = events[0]["consumer"].as_str().unwrap();
    assert_eq!(alice.len(), 32);
    assert_ne!(alice, events[4]["consumer"].as_str().unwrap());
    assert_eq!(events[5]["consumer"], "anonymous");
    let all = events.iter().map(|e| e.to_string()).collect::<String>() + &h.envoy_log();
    assert!(!all.contains("sk-alice") && !all.contains("sk-bob"));
}

#[test]
fn limits_are_exact_across_worker_threads() {
    let h = Harness::start_with(Options {
        config: r#"{"limits": {"default": {"requests_per_minute": 25}}}"#.into(),
        concurrency: 2,
        ..Options::default()
    });
    common::clear_of_minute_boundary(std::time::Duration::from_secs(20));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let h = &h;
                s.spawn(move || {
                    (0..8)
                        .map(|_| post_as(h, "sk-burst", 4).status)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((ok, limited), (25, 39), "{statuses:?}");
    assert_eq!(h.upstream_count(), 25);
}

#[test]
fn tokens_are_settled_from_usage() {
    // Each request is charged prompt ceil(body/4) + 10 completion tokens (the mock's formula);
    // it reserves ceil(prompt text/4) + 10 (the estimate). Two are charged, a third is refused.
    let (_, body) = chat_with("k", 10);
    let per_request = body.len().div_ceil(4) as u64 + 10;
    let estimate = "Write a haiku about rate limits.".len().div_ceil(4) as u64 + 10;
    let limit = per_request * 2 + estimate - 1;
    let h = Harness::start(&format!(
        r#"{{"limits": {{"default": {{"tokens_per_minute": {limit}}}}}}}"#
    ));
    common::clear_of_minute_boundary(std::time::Duration::from_secs(20));
    assert_eq!(post_as(&h, "sk-t", 10).status, 200);
    assert_eq!(post_as(&h, "sk-t", 10).status, 200);
    let third = post_as(&h, "sk-t", 10);
    assert_eq!(third.status, 429, "{}", third.text());
    assert!(third.text().contains("tokens_per_minute"));
    let events = h.wait_audit_events(3);
    assert_eq!(events[0]["tokens"]["prompt"], per_request - 10);
    assert_eq!(events[0]["tokens"]["completion"], 10);
    assert_eq!(events[0]["tokens"]["estimated"], false);
    let prom = h.admin("/stats/prometheus");
    let line = "promptgate_tokens_total{model=\"gpt-4o-mini\",type=\"completion\"} 20";
    assert!(prom.contains(line), "{line} missing:\n{prom}");
}

#[test]
fn streamed_usage_is_settled_and_cost_trips_the_global_budget() {
    // 1000 per million tokens: a request of N tokens costs N * 1000 micro-units.
    let config = r#"{"limits": {
        "pricing": {"models": {"gpt-4o-mini": {"input": 1000, "output": 1000}}},
        "global_budget": {"cost_per_day": 0.15}
    }}"#;
    let h = Harness::start(config);
    let body = |stream: bool| {
        json!({
            "model": "gpt-4o-mini", "max_tokens": 8, "stream": stream,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "x".repeat(150)}]
        })
    };
    let tokens = |b: &serde_json::Value| b.to_string().len().div_ceil(4) as u64 + 8;
    let r = h.post_json("/v1/chat/completions", &body(true));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("[DONE]"));
    assert_eq!(
        h.post_json("/v1/chat/completions", &body(false)).status,
        200
    );
    let spent = (tokens(&body(true)) + tokens(&body(false))) * 1000;
    // The breaker trips once today's spend reaches the budget (0.15 = 150000 micro-units).
    assert!(
        tokens(&body(true)) * 1000 < 150_000 && spent >= 150_000,
        "test arithmetic: {spent}"
    );
    let denied = h.post_json("/v1/chat/completions", &body(false));
    assert_eq!(denied.status, 429, "{}", denied.text());
    assert_eq!(denied.json()["error"]["type"], "budget_exceeded");
    assert_eq!(h.upstream_count(), 2);

    let events = h.wait_audit_events(3);
    assert_eq!(events[0]["streamed"], true);
    assert_eq!(events[0]["tokens"]["estimated"], false);
    assert_eq!(events[0]["cost_micros"], tokens(&body(true)) * 1000);
    assert_eq!(events[0]["currency"], "USD");
    assert_eq!(events[2]["decision"], "budget_exceeded");
    let prom = h.admin("/stats/prometheus");
    let line = format!("promptgate_cost_micros_total{{model=\"gpt-4o-mini\"}} {spent}");
    assert!(prom.contains(&line), "{line} missing:\n{prom}");
}

#[test]
fn concurrency_slot_is_released_on_completion_and_on_client_abort() {
    let h = Harness::start(r#"{"limits": {"default": {"concurrent_requests": 1}}}"#);
    let (headers, body) = chat_with("sk-c", 4);
    let slow_headers: Vec<(String, String)> = headers
        .iter()
        .cloned()
        .chain([("x-mock-delay-ms".to_string(), "1500".to_string())])
        .collect();
    std::thread::scope(|s| {
        let slow = s.spawn(|| {
            let hs: Vec<(&str, &str)> = slow_headers
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            h.post("/v1/chat/completions", &hs, &body).status
        });
        std::thread::sleep(Duration::from_millis(500));
        let second = post_as(&h, "sk-c", 4);
        assert_eq!(second.status, 429, "{}", second.text());
        assert!(second.text().contains("concurrent_requests"));
        assert_eq!(slow.join().unwrap(), 200);
    });
    assert_eq!(post_as(&h, "sk-c", 4).status, 200, "slot not released");

    // A client that gives up mid-request must not leak its slot.
    {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", h.port)).unwrap();
        write!(
            s,
            "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer sk-c\r\nx-mock-delay-ms: 3000\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(&body).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(post_as(&h, "sk-c", 4).status, 429, "slot should be held");
    } // dropped: the client aborts
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        post_as(&h, "sk-c", 4).status,
        200,
        "slot leaked after client abort"
    );
}

//! What a request is charged, through the real Envoy: requests that cannot have a completion,
//! the prompt size the estimate and the audit event share, streams settled from their usage, the
//! headers of a concurrency 429, the sliding window at a minute boundary, and `scripts/run
//! --host-env` (issue 16).

mod common;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn remaining_tokens(r: &Response) -> u64 {
    r.header("x-ratelimit-remaining-tokens")
        .unwrap_or_else(|| panic!("no x-ratelimit-remaining-tokens: {:?}", r.headers))
        .parse()
        .unwrap()
}

fn post_key(h: &Harness, path: &str, key: &str, body: &Value) -> Response {
    let auth = format!("Bearer {key}");
    h.post(
        path,
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
        body.to_string().as_bytes(),
    )
}

/// `GET /v1/models` has no body and its answer no usage; an embeddings request has no
/// completion. Neither reserves `default_completion_tokens` (1024, above this consumer's whole
/// limit): the model list costs no tokens at all, embeddings only their prompt.
#[test]
fn no_body_and_embeddings_reserve_no_completion() {
    let h = Harness::start(r#"{"limits": {"default": {"tokens_per_minute": 500}}}"#);
    clear_of_minute_boundary(Duration::from_secs(20));
    let auth = [("authorization", "Bearer sk-models")];
    for _ in 0..3 {
        let r = h.send("GET", "/v1/models", &auth, None);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(remaining_tokens(&r), 500, "the model list reserves nothing");
    }
    let input = "the quick brown fox";
    let r = post_key(
        &h,
        "/v1/embeddings",
        "sk-models",
        &json!({"model": "text-embedding-3-small", "input": input}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Reserved: the prompt text only (no completion).
    let estimate = (input.len() as u64).div_ceil(4);
    assert_eq!(remaining_tokens(&r), 500 - estimate);
    let used = r.json()["usage"]["total_tokens"].as_u64().unwrap();
    // Settled from the answer's usage: the next check sees the actual spend.
    let r = h.send("GET", "/v1/models", &auth, None);
    assert_eq!(r.status, 200);
    assert_eq!(remaining_tokens(&r), 500 - used);
    let events = h.wait_audit_events(5);
    assert_eq!(events[0]["tokens"], Value::Null, "{}", events[0]);
    assert_eq!(events[3]["api"], "embeddings");
    assert_eq!(events[3]["tokens"]["completion"], 0);
}

/// The audit event's `prompt_bytes` is the size of the text its hash covers (the messages joined
/// by newlines), and the limiter's estimate is made from that same size. The hash is BLAKE3 keyed
/// by the deployment's salt (audit v2): another salt gives another hash, and it is not the
/// unkeyed SHA-256 of v1.
#[test]
fn prompt_size_hash_and_estimate_describe_one_text() {
    let h = Harness::start(
        r#"{"identity": {"salt": "e2e-salt"}, "limits": {"default": {"tokens_per_minute": 100000}}}"#,
    );
    clear_of_minute_boundary(Duration::from_secs(20));
    let parts = [
        "You are a terse assistant.",
        "What is the capital of France?",
        "Paris.",
        "And of Italy? Answer in one word, please.",
    ];
    let body = json!({
        "model": "gpt-4o-mini", "max_tokens": 5,
        "messages": [
            {"role": "system", "content": parts[0]},
            {"role": "user", "content": parts[1]},
            {"role": "assistant", "content": parts[2]},
            {"role": "user", "content": parts[3]},
        ]
    });
    let r = post_key(&h, "/v1/chat/completions", "sk-size", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let text = parts.join("\n");
    let estimate = (text.len() as u64).div_ceil(4) + 5;
    assert_eq!(remaining_tokens(&r), 100_000 - estimate);
    let events = h.wait_audit_events(1);
    let e = &events[0];
    assert_eq!(e["prompt_bytes"], text.len() as u64, "{e}");
    assert!(e["body_bytes"].as_u64().unwrap() > text.len() as u64);
    assert_eq!(e["schema"], "promptgate.audit.v2");
    let key = blake3::derive_key("promptgate 2026-12 audit prompt_hash", b"e2e-salt");
    let keyed = blake3::keyed_hash(&key, text.as_bytes())
        .to_hex()
        .to_string();
    assert_eq!(e["prompt_hash"], keyed, "{e}");
    let other = blake3::derive_key("promptgate 2026-12 audit prompt_hash", b"");
    assert_ne!(
        e["prompt_hash"],
        blake3::keyed_hash(&other, text.as_bytes())
            .to_hex()
            .as_str()
    );
    let sha: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_ne!(e["prompt_hash"], sha);
    assert!(e.get("prompt_sha256").is_none());
}

/// The SSE events of a response body, in order.
fn sse_events(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// A streamed chat request without `stream_options.include_usage` is forwarded with it, settled
/// from the usage the stream then ends with, and the client gets the stream it asked for: the
/// usage-only chunk is taken out. A client that asked keeps it; with `include_stream_usage:
/// false` the request is forwarded as sent and charged its estimate.
#[test]
fn streams_are_settled_from_usage_the_client_did_not_ask_for() {
    let h = Harness::start(r#"{"limits": {"default": {"tokens_per_minute": 100000}}}"#);
    clear_of_minute_boundary(Duration::from_secs(20));
    let body = json!({
        "model": "gpt-4o-mini", "max_tokens": 6, "stream": true,
        "messages": [{"role": "user", "content": "Count to six."}]
    });
    let r = post_key(&h, "/v1/chat/completions", "sk-stream", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let events = sse_events(&r.text());
    // Six token chunks and [DONE]; no chunk without choices.
    assert_eq!(events.len(), 7, "{events:?}");
    assert_eq!(events[6], "data: [DONE]");
    assert!(!r.text().contains("\"choices\":[]"), "{}", r.text());
    let last = h.upstream_requests()["requests"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    let forwarded: Value = serde_json::from_str(last["body"].as_str().unwrap()).unwrap();
    assert_eq!(forwarded["stream_options"]["include_usage"], true);
    let forwarded_len = last["body_len"].as_u64().unwrap();

    // The client asked: the usage chunk stays, the body is forwarded unchanged.
    let mut asked = body.clone();
    asked["stream_options"] = json!({"include_usage": true});
    let r2 = post_key(&h, "/v1/chat/completions", "sk-stream", &asked);
    let events2 = sse_events(&r2.text());
    assert_eq!(events2.len(), 8, "{events2:?}");
    assert!(events2[6].contains("\"choices\":[]") && events2[6].contains("\"usage\":{"));
    let last2 = h.upstream_requests()["requests"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        last2["body_len"].as_u64().unwrap(),
        asked.to_string().len() as u64
    );

    let audit = h.wait_audit_events(2);
    // Settled from the usage (the mock: prompt = ⌈forwarded body / 4⌉, completion = max_tokens).
    assert_eq!(audit[0]["tokens"]["estimated"], false, "{}", audit[0]);
    assert_eq!(audit[0]["tokens"]["prompt"], forwarded_len.div_ceil(4));
    assert_eq!(audit[0]["tokens"]["completion"], 6);
    let rewrites = audit[0]["rewrites"].to_string();
    assert!(
        rewrites.contains("stream_options.include_usage"),
        "{rewrites}"
    );
    assert_eq!(audit[1]["tokens"]["estimated"], false);
    assert!(!audit[1]["rewrites"]
        .to_string()
        .contains("stream_options.include_usage"));
    drop(h);

    // Off: forwarded as sent, charged the estimate.
    let h = Harness::start(
        r#"{"include_stream_usage": false, "limits": {"default": {"tokens_per_minute": 100000}}}"#,
    );
    let r = post_key(&h, "/v1/chat/completions", "sk-stream", &body);
    assert_eq!(r.status, 200);
    assert_eq!(sse_events(&r.text()).len(), 7);
    let last = h.upstream_requests()["requests"][0].clone();
    assert_eq!(
        last["body_len"].as_u64().unwrap(),
        body.to_string().len() as u64
    );
    let audit = h.wait_audit_events(1);
    assert_eq!(audit[0]["tokens"]["estimated"], true, "{}", audit[0]);
}

/// A consumer limited only by concurrency gets rate-limit headers on its 429 (and on the answers
/// it is let through).
#[test]
fn concurrency_429_carries_rate_limit_headers() {
    let h = Harness::start(r#"{"limits": {"default": {"concurrent_requests": 1}}}"#);
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    std::thread::scope(|s| {
        let slow = s.spawn(|| {
            h.post(
                "/v1/chat/completions",
                &[
                    ("content-type", "application/json"),
                    ("authorization", "Bearer sk-conc"),
                    ("x-mock-delay-ms", "1500"),
                ],
                body.to_string().as_bytes(),
            )
        });
        std::thread::sleep(Duration::from_millis(500));
        let denied = post_key(&h, "/v1/chat/completions", "sk-conc", &body);
        assert_eq!(denied.status, 429, "{}", denied.text());
        assert_eq!(
            denied.header("x-ratelimit-limit-concurrent-requests"),
            Some("1")
        );
        assert_eq!(
            denied.header("x-ratelimit-remaining-concurrent-requests"),
            Some("0")
        );
        assert_eq!(denied.header("retry-after"), Some("1"));
        let ok = slow.join().unwrap();
        assert_eq!(ok.status, 200);
        assert_eq!(
            ok.header("x-ratelimit-remaining-concurrent-requests"),
            Some("0")
        );
    });
}

fn ms_into_minute() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (now.as_millis() % 60_000) as u64
}

/// With `requests_per_minute: 1`, a request just before a UTC minute boundary keeps the next one
/// out right after the boundary (the previous minute's weight rounds up, never down to 0).
#[test]
fn one_per_minute_is_not_twice_across_a_minute_boundary() {
    let h = Harness::start(r#"{"limits": {"default": {"requests_per_minute": 1}}}"#);
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    // Just before the boundary: wait for second 59.0 of a minute.
    let into = ms_into_minute();
    let target = 59_000;
    let wait = if into <= target {
        target - into
    } else {
        60_000 - into + target
    };
    std::thread::sleep(Duration::from_millis(wait));
    let first = post_key(&h, "/v1/chat/completions", "sk-once", &body);
    assert_eq!(first.status, 200, "{}", first.text());
    let into = ms_into_minute();
    assert!(
        into > 50_000,
        "the first request took too long: {into} ms into the minute"
    );
    // Just after the boundary.
    std::thread::sleep(Duration::from_millis(60_000 - into + 300));
    let second = post_key(&h, "/v1/chat/completions", "sk-once", &body);
    assert_eq!(
        second.status, 429,
        "second request admitted right after the boundary"
    );
    let retry: u64 = second.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 59, "retry-after {retry}");
}

/// `scripts/run --host-env NAME` hands the variable to the plugin VM: `upstream_key` reads the
/// provider key from it and the mock model receives that key, never the client's.
#[test]
fn scripts_run_passes_host_env_to_the_vm() {
    let dir = tempfile::Builder::new()
        .prefix("promptgate-run")
        .tempdir()
        .unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"upstream_key": {"env": "PROMPTGATE_TEST_PROVIDER_KEY"}}"#,
    )
    .unwrap();
    // Refused before anything starts when the variable is not set.
    let out = std::process::Command::new(repo_root().join("scripts/run"))
        .arg("--config")
        .arg(&config)
        .args(["--host-env", "PROMPTGATE_TEST_UNSET_VARIABLE"])
        .env_remove("PROMPTGATE_TEST_UNSET_VARIABLE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not set"));

    let (port, admin, model) = (free_port(), free_port(), free_port());
    let child = std::process::Command::new(repo_root().join("scripts/run"))
        .arg("--config")
        .arg(&config)
        .args(["--host-env", "PROMPTGATE_TEST_PROVIDER_KEY"])
        .args(["--port", &port.to_string()])
        .args(["--admin-port", &admin.to_string()])
        .args(["--model-port", &model.to_string()])
        .args(["--concurrency", "1"])
        .env("PROMPTGATE_TEST_PROVIDER_KEY", "sk-provider-from-env")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut run = RunGuard(Proc {
        child,
        name: "scripts/run",
    });
    let run = &mut run.0;
    let start = std::time::Instant::now();
    while !http_get(admin, "/ready").is_ok_and(|(s, _)| s == 200) {
        assert!(run.exited().is_none(), "scripts/run exited early");
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "scripts/run not ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = ureq::post(&format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .set("content-type", "application/json")
        .set("authorization", "Bearer sk-client")
        .send_string(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
    assert_eq!(r.map(|r| r.status()).unwrap_or(0), 200);
    let (_, last) = http_get(model, "/_mock/last").unwrap();
    let last: Value = serde_json::from_slice(&last).unwrap();
    let headers = last["headers"].to_string();
    assert!(headers.contains("Bearer sk-provider-from-env"), "{headers}");
    assert!(!headers.contains("sk-client"), "{headers}");
    // RunGuard's drop sends SIGTERM: scripts/run stops the mock model and Envoy it started.
}

/// `scripts/run` stopped with SIGTERM, also when an assertion fails: a SIGKILL (Proc's own drop)
/// could not be trapped and would leave its Envoy and mock model running.
struct RunGuard(Proc);

impl Drop for RunGuard {
    fn drop(&mut self) {
        unsafe_sigterm(self.0.pid());
        let t = std::time::Instant::now();
        while self.0.exited().is_none() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

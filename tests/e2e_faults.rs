//! Faults through the real Envoy: upstream reset mid-stream, client aborts, upstream errors and
//! timeouts (each settled at the estimate, slot released, one audit event saying why), and what
//! Envoy's `failure_policy` does to traffic when a wasm VM fails.

mod common;
use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

const LIMITS: &str =
    r#"{"limits": {"default": {"concurrent_requests": 1, "tokens_per_minute": 100000}}}"#;

fn body(stream: bool) -> String {
    json!({
        "model": "gpt-4o-mini", "max_tokens": 8, "stream": stream,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "Write a haiku."}]
    })
    .to_string()
}

/// Raw HTTP/1.1 POST as consumer `key` with extra header lines; reads the whole answer.
fn post(h: &Harness, key: &str, extra: &str, body: &str) -> (u16, String) {
    post_to(h.port, key, extra, body)
}

fn post_to(port: u16, key: &str, extra: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\nauthorization: Bearer {key}\r\n{extra}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    common::read_response(&mut s)
}

fn free_slot(h: &Harness, key: &str) -> bool {
    post(h, key, "", &body(false)).0 == 200
}

#[test]
fn upstream_reset_mid_stream_settles_the_estimate_and_frees_the_slot() {
    let h = Harness::start(LIMITS);
    let (status, text) = post(&h, "sk-r", "x-mock-reset-after-chunks: 3\r\n", &body(true));
    assert_eq!(status, 200, "the head was already sent: {text}");
    assert!(!text.contains("[DONE]"), "{text}");
    assert!(free_slot(&h, "sk-r"), "slot leaked after an upstream reset");
    // Reset before any response byte: Envoy answers 503 itself.
    let (status, _) = post(&h, "sk-r", "x-mock-reset-after-chunks: 0\r\n", &body(false));
    assert_eq!(status, 503);
    assert!(free_slot(&h, "sk-r"));
    let ev = h.wait_audit_events(4);
    assert_eq!(ev[0]["decision"], "allowed");
    assert_eq!(ev[0]["reason"], "upstream_reset");
    assert_eq!(ev[0]["streamed"], true);
    assert_eq!(ev[0]["tokens"]["estimated"], true, "{}", ev[0]);
    assert!(ev[0]["tokens"]["total"].as_u64().unwrap() > 0);
    assert_eq!(ev[1]["tokens"]["estimated"], false);
    assert_eq!(ev[2]["reason"], "upstream_reset");
    assert_eq!(ev[2]["upstream_status"], 503);
    assert_eq!(ev[2]["tokens"]["estimated"], true);
}

#[test]
fn client_abort_during_upload_and_during_the_answer() {
    let h = Harness::start(LIMITS);
    let b = body(false);
    // During the upload: half the body, then gone. Nothing forwarded, no slot taken.
    {
        let mut s = TcpStream::connect(("127.0.0.1", h.port)).unwrap();
        write!(s, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer sk-a\r\ncontent-length: {}\r\n\r\n", b.len()).unwrap();
        s.write_all(&b.as_bytes()[..b.len() / 2]).unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    // During the answer (slow model), then gone.
    {
        let mut s = TcpStream::connect(("127.0.0.1", h.port)).unwrap();
        write!(s, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer sk-a\r\nx-mock-delay-ms: 2000\r\ncontent-length: {}\r\n\r\n{b}", b.len()).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(post(&h, "sk-a", "", &b).0, 429, "slot should be held");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(free_slot(&h, "sk-a"), "slot leaked after client abort");
    // During a streamed answer.
    {
        let sb = body(true);
        let mut s = TcpStream::connect(("127.0.0.1", h.port)).unwrap();
        write!(s, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer sk-a\r\nx-mock-chunk-delay-ms: 200\r\ncontent-length: {}\r\n\r\n{sb}", sb.len()).unwrap();
        let mut first = [0u8; 64];
        let _ = s.read(&mut first);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(free_slot(&h, "sk-a"), "slot leaked after abort mid-stream");
    assert_eq!(h.upstream_count(), 4);
    let ev = h.wait_audit_events(6);
    let by = |reason: &str| ev.iter().filter(|e| e["reason"] == reason).count();
    assert_eq!(ev.len(), 6, "one event per request: {ev:?}");
    let upload = ev.iter().find(|e| e["decision"] == "error").unwrap();
    assert_eq!(upload["reason"], "client_aborted");
    assert_eq!(upload["body_bytes"], 0, "never decided, never forwarded");
    assert_eq!(by("client_aborted"), 3, "{ev:?}");
    let answered = ev
        .iter()
        .filter(|e| e["reason"] == "client_aborted" && e["decision"] == "allowed");
    for e in answered {
        assert_eq!(e["tokens"]["estimated"], true, "{e}");
    }
}

#[test]
fn upstream_errors_and_timeouts_are_charged_the_estimate_only() {
    // The harness bootstrap with a 1 s route timeout (Envoy answers 504 when it fires).
    let (_envoy, _mock, port, _model, dir) =
        custom_envoy(&wasm_path(), LIMITS, &[("timeout: 300s", "timeout: 1s")]);
    let (status, _) = post_to(port, "sk-e", "x-mock-status: 500\r\n", &body(false));
    assert_eq!(status, 500);
    let (status, _) = post_to(port, "sk-e", "x-mock-status: 503\r\n", &body(true));
    assert_eq!(status, 503);
    let (status, _) = post_to(port, "sk-e", "x-mock-delay-ms: 3000\r\n", &body(false));
    assert_eq!(status, 504);
    assert_eq!(
        post_to(port, "sk-e", "", &body(false)).0,
        200,
        "slot released"
    );
    let log = dir.path().join("envoy.log");
    let mut ev: Vec<serde_json::Value> = Vec::new();
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        ev = common::audit_events_in_log(&text);
        if ev.len() >= 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(ev.len(), 4, "{ev:?}");
    for (e, reason, status) in [
        (&ev[0], "upstream_error", 500),
        (&ev[1], "upstream_error", 503),
        (&ev[2], "upstream_timeout", 504),
    ] {
        assert_eq!(e["decision"], "allowed", "{e}");
        assert_eq!(e["reason"], reason, "{e}");
        assert_eq!(e["upstream_status"], status, "{e}");
        assert_eq!(e["tokens"]["estimated"], true, "{e}");
    }
    // The estimate is the charge: same request, same estimate; a success is settled from usage.
    assert_eq!(ev[0]["tokens"]["total"], ev[2]["tokens"]["total"]);
    assert_eq!(ev[3]["tokens"]["estimated"], false);
    assert_eq!(ev[3]["reason"], serde_json::Value::Null);
}

/// Envoy from the harness template with text edits (`from`, `to`) applied to the rendered
/// bootstrap, running `wasm` with plugin configuration `config`.
fn custom_envoy(
    wasm: &std::path::Path,
    config: &str,
    edits: &[(&str, &str)],
) -> (Proc, Proc, u16, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (mock, model) = start_mock(&[]);
    let (port, admin) = (free_port(), free_port());
    let out = dir.path().join("envoy.yaml");
    let config_file = dir.path().join("promptgate.json");
    std::fs::write(&config_file, config).unwrap();
    let ok = Command::new(repo_root().join("scripts/render-envoy"))
        .arg("--wasm")
        .arg(wasm)
        .arg("--config")
        .arg(&config_file)
        .args([
            "--port",
            &port.to_string(),
            "--admin-port",
            &admin.to_string(),
        ])
        .args(["--model-port", &model.to_string()])
        .arg("--audit-log")
        .arg(dir.path().join("audit.log"))
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let mut yaml = std::fs::read_to_string(&out).unwrap();
    for (from, to) in edits {
        assert!(yaml.contains(from), "{from} not in the bootstrap");
        yaml = yaml.replace(from, to);
    }
    std::fs::write(&out, yaml).unwrap();
    let envoy = start_envoy(dir.path(), &out, 1);
    for _ in 0..600 {
        if http_get(admin, "/ready")
            .map(|(s, _)| s == 200)
            .unwrap_or(false)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (envoy, mock, port, model, dir)
}

/// Envoy with the deliberately trapping wasm (tests/trap-filter) and the given failure policy.
fn trap_envoy(policy: &str) -> (Proc, Proc, u16, u16, tempfile::TempDir) {
    let wasm = repo_root().join("target/wasm32-wasip1/release/trap_filter.wasm");
    if !wasm.exists() {
        let ok = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "--release",
                "--target",
                "wasm32-wasip1",
                "-p",
                "trap-filter",
            ])
            .current_dir(repo_root())
            .status()
            .unwrap()
            .success();
        assert!(ok, "build trap-filter");
    }
    let policy = format!("failure_policy: {policy}");
    custom_envoy(&wasm, "{}", &[("failure_policy: FAIL_CLOSED", &policy)])
}

fn get(port: u16, trap: bool) -> u16 {
    let req = ureq::post(&format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .set("content-type", "application/json")
        .set("x-trap", if trap { "1" } else { "0" });
    match req.send_string(&body(false)) {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(s, _)) => s,
        Err(e) => panic!("{e}"),
    }
}

fn mock_count(model: u16) -> u64 {
    let (_, b) = http_get(model, "/_mock/requests").unwrap();
    serde_json::from_slice::<serde_json::Value>(&b).unwrap()["count"]
        .as_u64()
        .unwrap()
}

#[test]
fn failed_vm_fail_closed_answers_503_fail_open_passes_traffic() {
    // FAIL_CLOSED (promptgate's setting): once the VM has trapped, every request is refused.
    let (_envoy, _mock, port, model, dir) = trap_envoy("FAIL_CLOSED");
    assert_eq!(get(port, false), 200, "healthy VM passes");
    let trapped = get(port, true);
    assert_eq!(trapped, 503, "the request that trapped");
    assert_eq!(get(port, false), 503, "after the trap: fail closed");
    assert_eq!(
        mock_count(model),
        1,
        "nothing reached the model after the trap"
    );
    let log = std::fs::read_to_string(dir.path().join("envoy.log")).unwrap();
    assert!(
        log.contains("deliberate trap") || log.contains("unreachable") || log.contains("panicked"),
        "{log}"
    );

    // FAIL_OPEN: after the trap, traffic bypasses the filter (unscanned, unlimited, unaudited).
    let (_envoy, _mock, port, model, _dir) = trap_envoy("FAIL_OPEN");
    assert_eq!(get(port, false), 200);
    let trapped = get(port, true);
    let after = get(port, false);
    assert_eq!(after, 200, "after the trap: fail open");
    assert_eq!(
        trapped, 503,
        "the request that trapped is refused even when failing open"
    );
    assert!(mock_count(model) >= 2);
}

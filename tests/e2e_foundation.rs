//! Foundation end-to-end tests: real Envoy + promptgate.wasm + mock model.

mod common;
use common::*;
use serde_json::json;

/// A chat body with formatting a re-serialising filter would change: odd spacing, key order,
/// escaped and raw non-ASCII, a trailing newline.
const CHAT_BODY: &str = "{ \"model\" : \"gpt-4o-mini\",\n  \"messages\":[{\"role\":\"user\",\"content\":\"Gr\\u00fc\u{df}e, caf\u{e9} \u{1F600} \\n tab\\t\"}],\n\"temperature\":0.2 }\n";

#[test]
fn chat_request_passes_through_byte_for_byte() {
    let h = Harness::start("{}");
    let resp = h.post(
        "/v1/chat/completions",
        &[("content-type", "application/json")],
        CHAT_BODY.as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let upstream = h.upstream_requests();
    assert_eq!(upstream["count"], 1);
    let seen = &upstream["requests"][0];
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/v1/chat/completions");
    assert_eq!(
        seen["body"], CHAT_BODY,
        "upstream must receive the exact bytes"
    );
    assert_eq!(seen["body_len"], CHAT_BODY.len());

    // The response is the mock's, untouched: usage follows the mock's documented formula.
    let v = resp.json();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-4o-mini");
    let prompt_tokens = CHAT_BODY.len().div_ceil(4) as u64;
    assert_eq!(v["usage"]["prompt_tokens"], prompt_tokens);
    assert_eq!(v["usage"]["completion_tokens"], 16);

    // And byte for byte the same as the mock answers directly, apart from per-response ids.
    let direct = ureq::post(&format!(
        "http://127.0.0.1:{}/v1/chat/completions",
        h.model_port
    ))
    .set("content-type", "application/json")
    .send_bytes(CHAT_BODY.as_bytes())
    .unwrap()
    .into_string()
    .unwrap();
    let mut a: serde_json::Value = serde_json::from_str(&direct).unwrap();
    let mut b = v.clone();
    for x in [&mut a, &mut b] {
        x.as_object_mut().unwrap().remove("id");
        x.as_object_mut().unwrap().remove("created");
    }
    assert_eq!(a, b);
}

#[test]
fn request_without_body_passes() {
    let h = Harness::start("{}");
    let resp = h.get("/v1/models");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["object"], "list");
    assert_eq!(h.upstream_count(), 1);
}

#[test]
fn streamed_response_passes_through() {
    let h = Harness::start("{}");
    let body = json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "count to five"}]
    });
    let resp = h.post_json("/v1/chat/completions", &body);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp
        .header("content-type")
        .unwrap()
        .starts_with("text/event-stream"));
    let text = resp.text();
    let events: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    // 5 content chunks, one usage chunk, then [DONE].
    assert_eq!(events.len(), 7, "{text}");
    assert_eq!(*events.last().unwrap(), "[DONE]");
    let usage: serde_json::Value = serde_json::from_str(events[5]).unwrap();
    assert_eq!(usage["usage"]["completion_tokens"], 5);
    assert_eq!(
        usage["usage"]["prompt_tokens"],
        body.to_string().len().div_ceil(4) as u64
    );
}

#[test]
fn oversized_body_gets_413_and_never_reaches_upstream() {
    let h = Harness::start(r#"{"max_body_bytes": 1000}"#);
    let big = chat_body_of_len(1001);
    // With content-length: answered from the headers.
    let resp = h.post(
        "/v1/chat/completions",
        &[("content-type", "application/json")],
        &big,
    );
    assert_eq!(resp.status, 413);
    let v = resp.json();
    assert_eq!(v["error"]["type"], "request_too_large");
    assert!(v["error"]["request_id"].is_string());
    // Chunked (no content-length): answered once the buffered body passes the limit.
    let resp = into_chunked_post(&h, &big);
    assert_eq!(resp.0, 413, "{}", resp.1);
    assert!(resp.1.contains("request_too_large"));
    // Exactly at the limit is fine.
    let resp = h.post(
        "/v1/chat/completions",
        &[("content-type", "application/json")],
        &chat_body_of_len(1000),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(h.upstream_count(), 1);
}

#[test]
fn oversized_body_passes_unscanned_when_allowed() {
    let h = Harness::start(r#"{"max_body_bytes": 1000, "on_oversize": "allow"}"#);
    let big = chat_body_of_len(5000);
    let resp = h.post(
        "/v1/chat/completions",
        &[("content-type", "application/json")],
        &big,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let upstream = h.upstream_requests();
    assert_eq!(upstream["count"], 1);
    assert_eq!(upstream["requests"][0]["body_len"], 5000);
    let (status, text) = into_chunked_post(&h, &big);
    assert_eq!(status, 200, "{text}");
    assert_eq!(h.upstream_count(), 2);
}

#[test]
fn bad_plugin_config_is_rejected_naming_the_field() {
    let (status, log) = envoy_with_rejected_config(r#"{"max_body_bytes": "lots"}"#);
    assert!(!status.success());
    assert!(
        log.contains("invalid configuration: field `max_body_bytes`"),
        "log does not name the field:\n{log}"
    );
    let (status, log) = envoy_with_rejected_config(r#"{"on_oversize": "allow", "surprise": 1}"#);
    assert!(!status.success());
    assert!(log.contains("unknown field `surprise`"), "{log}");
}

/// A valid chat body of exactly `len` bytes.
fn chat_body_of_len(len: usize) -> Vec<u8> {
    let head = r#"{"model":"m","messages":[{"role":"user","content":""#;
    let tail = r#""}]}"#;
    let fill = len - head.len() - tail.len();
    format!("{head}{}{tail}", "a".repeat(fill)).into_bytes()
}

/// POST with `transfer-encoding: chunked` in small chunks, over a raw socket.
fn into_chunked_post(h: &Harness, body: &[u8]) -> (u16, String) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", h.port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    for chunk in body.chunks(300) {
        // The server may answer (413) and close before we finish: ignore write errors.
        let _ = write!(s, "{:x}\r\n", chunk.len());
        let _ = s.write_all(chunk);
        let _ = s.write_all(b"\r\n");
    }
    let _ = s.write_all(b"0\r\n\r\n");
    common::read_response(&mut s)
}

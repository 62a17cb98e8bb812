//! End-to-end tests of the mock server, run in-process on an ephemeral port
//! (plus one test that drives the real binary).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use mock_model::Config;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(cfg: Config) -> SocketAddr {
    let l = mock_model::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(mock_model::serve(l, cfg));
    addr
}

async fn start_default() -> SocketAddr {
    start(Config::default()).await
}

struct Resp {
    status: u16,
    headers: hyper::HeaderMap,
    frames: Vec<Bytes>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("bad json ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One keep-alive connection able to send several requests.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        Client { sender }
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "mock");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(Bytes::copy_from_slice(body))).unwrap();
        let resp = self.sender.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut incoming = resp.into_body();
        let mut frames = Vec::new();
        while let Some(f) = incoming.frame().await {
            if let Ok(d) = f.unwrap().into_data() {
                frames.push(d);
            }
        }
        let body = frames.iter().flat_map(|b| b.iter().copied()).collect();
        Resp {
            status,
            headers,
            frames,
            body,
        }
    }
}

async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    Client::connect(addr)
        .await
        .send(method, path, headers, body)
        .await
}

async fn post(addr: SocketAddr, path: &str, body: &Value) -> Resp {
    send(addr, "POST", path, &[], body.to_string().as_bytes()).await
}

fn ceil4(n: usize) -> u64 {
    n.div_ceil(4) as u64
}

/// Parses `data:` lines of an SSE body (event names are returned separately).
fn sse(body: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    for block in body.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut event = None;
        let mut data = String::new();
        for line in block.lines() {
            if let Some(e) = line.strip_prefix("event: ") {
                event = Some(e.to_string());
            } else if let Some(d) = line.strip_prefix("data: ") {
                data.push_str(d);
            } else {
                panic!("unexpected SSE line {line:?}");
            }
        }
        out.push((event, data));
    }
    out
}

fn assert_openai_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.headers["content-type"], "application/json");
    let v = r.json();
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string());
    assert!(v["error"]["type"].is_string());
}

#[tokio::test]
async fn health_and_models() {
    let addr = start_default().await;
    let r = send(addr, "GET", "/health", &[], b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    let r = send(addr, "GET", "/v1/models", &[], b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["object"], "list");
    assert_eq!(r.json()["data"][0]["id"], "mock-model");
    // /health is not recorded, /v1/models is.
    let r = send(addr, "GET", "/_mock/requests", &[], b"").await;
    assert_eq!(r.json()["count"], 1);
    assert_eq!(r.json()["requests"][0]["path"], "/v1/models");
}

#[tokio::test]
async fn chat_non_streaming_usage_formula() {
    let addr = start_default().await;
    let body =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]});
    let raw = body.to_string();
    let r = post(addr, "/v1/chat/completions", &body).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "gpt-4o-mini");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["message"]["content"], mock_model::words(16));
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], ceil4(raw.len()));
    assert_eq!(v["usage"]["completion_tokens"], 16);
    assert_eq!(v["usage"]["total_tokens"], ceil4(raw.len()) + 16);

    // max_tokens below the default limits the completion.
    let r = post(addr, "/v1/chat/completions", &json!({"max_tokens": 3})).await;
    let v = r.json();
    assert_eq!(v["model"], "mock-model");
    assert_eq!(v["usage"]["completion_tokens"], 3);
    assert_eq!(v["choices"][0]["message"]["content"], "tok0 tok1 tok2");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    // max_completion_tokens too; max_tokens above the default does not raise it.
    let r = post(
        addr,
        "/v1/chat/completions",
        &json!({"max_completion_tokens": 2}),
    )
    .await;
    assert_eq!(r.json()["usage"]["completion_tokens"], 2);
    let r = post(addr, "/v1/chat/completions", &json!({"max_tokens": 1000})).await;
    assert_eq!(r.json()["usage"]["completion_tokens"], 16);

    // Header overrides the configured default, still capped by max_tokens.
    let b = br#"{"max_tokens":40}"#;
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-completion-tokens", "30")],
        b,
    )
    .await;
    let v = r.json();
    assert_eq!(v["usage"]["completion_tokens"], 30);
    assert_eq!(v["usage"]["prompt_tokens"], ceil4(b.len()));
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-completion-tokens", "0")],
        b"{}",
    )
    .await;
    let v = r.json();
    assert_eq!(v["usage"]["completion_tokens"], 0);
    assert_eq!(v["usage"]["prompt_tokens"], 1);
    assert_eq!(v["choices"][0]["message"]["content"], "");
}

#[tokio::test]
async fn configured_completion_tokens() {
    let addr = start(Config {
        completion_tokens: 5,
        ..Config::default()
    })
    .await;
    let r = post(addr, "/v1/chat/completions", &json!({})).await;
    assert_eq!(r.json()["usage"]["completion_tokens"], 5);
    assert_eq!(r.json()["usage"]["prompt_tokens"], 1);
}

#[tokio::test]
async fn chat_streaming_chunks_and_usage() {
    let addr = start_default().await;
    let body = json!({"model": "m1", "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 4});
    let raw = body.to_string();
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-chunk-delay-ms", "5")],
        raw.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "text/event-stream");
    let events = sse(&r.text());
    // 4 token chunks + usage chunk + [DONE]
    assert_eq!(events.len(), 6, "{}", r.text());
    // With a chunk delay every event arrives as its own body frame.
    assert_eq!(r.frames.len(), 6);
    let mut text = String::new();
    for (i, (ev, data)) in events[..4].iter().enumerate() {
        assert!(ev.is_none());
        let c: Value = serde_json::from_str(data).unwrap();
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "m1");
        assert_eq!(c["choices"][0]["index"], 0);
        assert!(c["usage"].is_null());
        text.push_str(c["choices"][0]["delta"]["content"].as_str().unwrap());
        let fin = &c["choices"][0]["finish_reason"];
        if i == 3 {
            assert_eq!(fin, "length");
        } else {
            assert!(fin.is_null());
        }
        if i == 0 {
            assert_eq!(c["choices"][0]["delta"]["role"], "assistant");
        }
    }
    assert_eq!(text, "tok0 tok1 tok2 tok3");
    let u: Value = serde_json::from_str(&events[4].1).unwrap();
    assert_eq!(u["choices"], json!([]));
    assert_eq!(u["usage"]["prompt_tokens"], ceil4(raw.len()));
    assert_eq!(u["usage"]["completion_tokens"], 4);
    assert_eq!(u["usage"]["total_tokens"], ceil4(raw.len()) + 4);
    assert_eq!(events[5].1, "[DONE]");

    // Without include_usage: only token chunks then [DONE].
    let r = post(addr, "/v1/chat/completions", &json!({"stream": true})).await;
    let events = sse(&r.text());
    assert_eq!(events.len(), 17);
    assert!(events[..16].iter().all(|(_, d)| !d.contains("\"usage\"")));
    assert_eq!(events[16].1, "[DONE]");
}

#[tokio::test]
async fn chunk_delay_paces_the_stream() {
    let addr = start(Config {
        chunk_delay_ms: 20,
        ..Config::default()
    })
    .await;
    let t = Instant::now();
    let r = post(
        addr,
        "/v1/chat/completions",
        &json!({"stream": true, "max_tokens": 3}),
    )
    .await;
    // 3 chunks + [DONE] = 4 frames, 3 gaps.
    assert_eq!(r.frames.len(), 4);
    assert!(
        t.elapsed() >= Duration::from_millis(60),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn completions_endpoint() {
    let addr = start_default().await;
    for body in [
        json!({"model": "davinci", "prompt": "say hi", "max_tokens": 2}),
        json!({"model": "davinci", "prompt": ["a", "b"], "max_tokens": 2}),
    ] {
        let raw = body.to_string();
        let r = post(addr, "/v1/completions", &body).await;
        assert_eq!(r.status, 200);
        let v = r.json();
        assert_eq!(v["object"], "text_completion");
        assert_eq!(v["model"], "davinci");
        assert_eq!(v["choices"][0]["text"], "tok0 tok1");
        assert_eq!(v["usage"]["prompt_tokens"], ceil4(raw.len()));
        assert_eq!(v["usage"]["completion_tokens"], 2);
        assert_eq!(v["usage"]["total_tokens"], ceil4(raw.len()) + 2);
    }
    let r = post(
        addr,
        "/v1/completions",
        &json!({"prompt": "x", "stream": true, "max_tokens": 2, "stream_options": {"include_usage": true}}),
    )
    .await;
    let events = sse(&r.text());
    assert_eq!(events.len(), 4);
    let c: Value = serde_json::from_str(&events[1].1).unwrap();
    assert_eq!(c["choices"][0]["text"], " tok1");
    let u: Value = serde_json::from_str(&events[2].1).unwrap();
    assert_eq!(u["usage"]["completion_tokens"], 2);
    assert_eq!(events[3].1, "[DONE]");
}

#[tokio::test]
async fn embeddings_endpoint() {
    let addr = start_default().await;
    let body = json!({"model": "text-embedding-3-small", "input": ["hello", "world"]});
    let raw = body.to_string();
    let a = post(addr, "/v1/embeddings", &body).await;
    let b = post(addr, "/v1/embeddings", &body).await;
    assert_eq!(a.status, 200);
    let v = a.json();
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "text-embedding-3-small");
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"][1]["index"], 1);
    let e0 = v["data"][0]["embedding"].as_array().unwrap();
    assert_eq!(e0.len(), mock_model::DEFAULT_EMBEDDING_DIMS);
    assert!(e0.iter().all(|x| x.as_f64().unwrap().abs() <= 1.0));
    assert_ne!(v["data"][0]["embedding"], v["data"][1]["embedding"]);
    assert_eq!(v["data"], b.json()["data"], "deterministic");
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": ceil4(raw.len()), "total_tokens": ceil4(raw.len())})
    );
    let r = post(
        addr,
        "/v1/embeddings",
        &json!({"input": "x", "dimensions": 3}),
    )
    .await;
    assert_eq!(
        r.json()["data"][0]["embedding"].as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn anthropic_messages() {
    let addr = start_default().await;
    let body = json!({"model": "claude-x", "max_tokens": 3, "messages": [{"role": "user", "content": "hi"}]});
    let raw = body.to_string();
    let r = post(addr, "/v1/messages", &body).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "claude-x");
    assert_eq!(
        v["content"][0],
        json!({"type": "text", "text": "tok0 tok1 tok2"})
    );
    assert_eq!(v["stop_reason"], "max_tokens");
    assert_eq!(
        v["usage"],
        json!({"input_tokens": ceil4(raw.len()), "output_tokens": 3})
    );

    let body = json!({"model": "claude-x", "max_tokens": 1024, "stream": true});
    let raw = body.to_string();
    let r = send(
        addr,
        "POST",
        "/v1/messages",
        &[("x-mock-completion-tokens", "2")],
        raw.as_bytes(),
    )
    .await;
    assert_eq!(r.headers["content-type"], "text/event-stream");
    let events = sse(&r.text());
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for (name, data) in &events {
        let d: Value = serde_json::from_str(data).unwrap();
        assert_eq!(d["type"], name.as_deref().unwrap());
    }
    let start: Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(start["message"]["usage"]["input_tokens"], ceil4(raw.len()));
    assert_eq!(start["message"]["model"], "claude-x");
    let d1: Value = serde_json::from_str(&events[3].1).unwrap();
    assert_eq!(d1["delta"], json!({"type": "text_delta", "text": " tok1"}));
    let md: Value = serde_json::from_str(&events[5].1).unwrap();
    assert_eq!(md["usage"]["output_tokens"], 2);
    assert_eq!(md["delta"]["stop_reason"], "end_turn");
}

#[tokio::test]
async fn errors_are_openai_shaped() {
    let addr = start_default().await;
    assert_openai_error(
        &send(addr, "GET", "/nope", &[], b"").await,
        404,
        "not_found",
    );
    assert_openai_error(
        &send(addr, "POST", "/v2/chat", &[], b"{}").await,
        404,
        "not_found",
    );
    assert_openai_error(
        &send(addr, "GET", "/v1/chat/completions", &[], b"").await,
        405,
        "method_not_allowed",
    );
    for bad in [
        &b"{not json"[..],
        b"",
        b"[1,2]",
        b"\"s\"",
        b"\xff\xfe",
        b"{\"a\":1} trailing",
    ] {
        for path in [
            "/v1/chat/completions",
            "/v1/completions",
            "/v1/embeddings",
            "/v1/messages",
        ] {
            let r = send(addr, "POST", path, &[], bad).await;
            assert_openai_error(&r, 400, "invalid_json");
        }
    }
    // Odd-but-valid JSON never panics.
    for body in [
        json!({"max_tokens": -1, "stream": "yes", "model": 5, "stream_options": 1}),
        json!({"max_tokens": 1.5, "messages": null, "input": {"a": 1}, "prompt": 7}),
    ] {
        for path in [
            "/v1/chat/completions",
            "/v1/completions",
            "/v1/embeddings",
            "/v1/messages",
        ] {
            let r = post(addr, path, &body).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            assert_eq!(r.json()["model"], "mock-model");
        }
    }
    // The server is still alive.
    assert_eq!(send(addr, "GET", "/health", &[], b"").await.status, 200);
}

#[tokio::test]
async fn control_status_and_delay() {
    let addr = start_default().await;
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-status", "500")],
        b"{}",
    )
    .await;
    assert_openai_error(&r, 500, "mock_status_500");
    assert_eq!(r.json()["error"]["type"], "server_error");
    let r = send(
        addr,
        "POST",
        "/v1/messages",
        &[("x-mock-status", "429")],
        b"not even json",
    )
    .await;
    assert_openai_error(&r, 429, "mock_status_429");
    // Out-of-range or junk values are ignored.
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-status", "abc")],
        b"{}",
    )
    .await;
    assert_eq!(r.status, 200);

    let t = Instant::now();
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-delay-ms", "80")],
        b"{}",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(80));
}

#[tokio::test]
async fn configured_delay() {
    let addr = start(Config {
        delay_ms: 60,
        ..Config::default()
    })
    .await;
    let t = Instant::now();
    assert_eq!(
        post(addr, "/v1/chat/completions", &json!({})).await.status,
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(60));
    // Health is never delayed.
    let t = Instant::now();
    assert_eq!(send(addr, "GET", "/health", &[], b"").await.status, 200);
    assert!(t.elapsed() < Duration::from_millis(60));
}

/// Raw request; returns everything read until EOF/reset and whether the read ended in an error.
async fn raw_exchange(addr: SocketAddr, req: &str) -> (String, bool) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let errored = loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) => break false,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => break true,
            Err(_) => panic!("timed out; got {}", String::from_utf8_lossy(&out)),
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), errored)
}

#[tokio::test]
async fn reset_after_chunks_aborts_the_stream() {
    let addr = start_default().await;
    let body = r#"{"stream":true,"stream_options":{"include_usage":true}}"#;
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: m\r\ncontent-length: {}\r\nx-mock-reset-after-chunks: 2\r\n\r\n{body}",
        body.len()
    );
    let (got, errored) = raw_exchange(addr, &req).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains("transfer-encoding: chunked"), "{got}");
    assert_eq!(got.matches("data: ").count(), 2, "{got}");
    assert!(got.contains("tok1"));
    assert!(!got.contains("tok2"));
    assert!(!got.contains("[DONE]"));
    assert!(
        !got.ends_with("0\r\n\r\n"),
        "stream must not be terminated cleanly"
    );
    assert!(errored, "expected a connection reset");

    // N = 0 on a stream: headers, then reset.
    let req0 = req.replace("reset-after-chunks: 2", "reset-after-chunks: 0");
    let (got, _) = raw_exchange(addr, &req0).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(!got.contains("data: "));

    // Non-streaming request: reset before any response byte.
    let req = "POST /v1/chat/completions HTTP/1.1\r\nhost: m\r\ncontent-length: 2\r\nx-mock-reset-after-chunks: 1\r\n\r\n{}";
    let (got, _) = raw_exchange(addr, req).await;
    assert_eq!(got, "");

    // The server keeps serving.
    assert_eq!(send(addr, "GET", "/health", &[], b"").await.status, 200);
}

#[tokio::test]
async fn recording_endpoints() {
    let addr = start_default().await;
    let r = send(addr, "GET", "/_mock/last", &[], b"").await;
    assert_openai_error(&r, 404, "not_found");

    let mut c = Client::connect(addr).await;
    let body = br#"{"model":"m","messages":[{"role":"user","content":"caf\u00e9 \u2603"}]}"#;
    c.send(
        "POST",
        "/v1/chat/completions?x=1",
        &[
            ("authorization", "Bearer sk-test"),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await;
    c.send("GET", "/health", &[], b"").await;
    c.send("GET", "/nowhere", &[], b"").await;

    let v = c.send("GET", "/_mock/requests", &[], b"").await.json();
    assert_eq!(v["count"], 2);
    let reqs = v["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 2);
    let e = &reqs[0];
    assert_eq!(e["seq"], 1);
    assert_eq!(e["method"], "POST");
    assert_eq!(e["path"], "/v1/chat/completions");
    assert_eq!(e["query"], "x=1");
    assert_eq!(e["body_len"], body.len());
    assert_eq!(e["body_sha256"], hex::encode(Sha256::digest(body)));
    assert_eq!(e["body"], std::str::from_utf8(body).unwrap());
    assert_eq!(e["body_truncated"], false);
    let headers = e["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["authorization", "Bearer sk-test"])));
    assert!(headers.contains(&json!(["content-type", "application/json"])));
    assert_eq!(reqs[1]["path"], "/nowhere");

    let last = c.send("GET", "/_mock/last", &[], b"").await.json();
    assert_eq!(last["path"], "/nowhere");
    assert_eq!(last["seq"], 2);

    // Large bodies: hashed whole, shown truncated to 64 KiB.
    let big = vec![b'a'; 100 * 1024];
    let r = c.send("POST", "/v1/embeddings", &[], &big).await;
    assert_eq!(r.status, 400);
    let last = c.send("GET", "/_mock/last", &[], b"").await.json();
    assert_eq!(last["body_len"], big.len());
    assert_eq!(last["body_sha256"], hex::encode(Sha256::digest(&big)));
    assert_eq!(
        last["body"].as_str().unwrap().len(),
        mock_model::RECORDED_BODY_LIMIT
    );
    assert_eq!(last["body_truncated"], true);

    // Reset.
    let r = c.send("POST", "/_mock/reset", &[], b"").await;
    assert_eq!(r.status, 200);
    let v = c.send("GET", "/_mock/requests", &[], b"").await.json();
    assert_eq!(v, json!({"count": 0, "requests": []}));
    assert_openai_error(
        &c.send("GET", "/_mock/last", &[], b"").await,
        404,
        "not_found",
    );
    assert_openai_error(
        &c.send("GET", "/_mock/reset", &[], b"").await,
        405,
        "method_not_allowed",
    );
    assert_openai_error(
        &c.send("GET", "/_mock/whatever", &[], b"").await,
        404,
        "not_found",
    );

    // The ring keeps the last 256; count keeps going.
    for i in 0..260 {
        c.send("POST", &format!("/v1/models?i={i}"), &[], b"").await;
    }
    let v = c.send("GET", "/_mock/requests", &[], b"").await.json();
    assert_eq!(v["count"], 260);
    let reqs = v["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), mock_model::RING_CAPACITY);
    assert_eq!(reqs[0]["seq"], 5);
    assert_eq!(reqs[0]["query"], "i=4");
    assert_eq!(reqs[255]["query"], "i=259");
}

#[test]
fn binary_cli_healthcheck_and_sigterm() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let exe = env!("CARGO_BIN_EXE_mock-model");
    let mut child = Command::new(exe)
        .args(["--listen", "127.0.0.1:0", "--quiet", "--threads", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("mock-model listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let hc = Command::new(exe)
        .args(["--healthcheck", &addr])
        .status()
        .unwrap();
    assert!(hc.success());
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    // Nothing listening any more -> healthcheck fails with exit 1.
    let hc = Command::new(exe)
        .args(["--healthcheck", &addr])
        .output()
        .unwrap();
    assert_eq!(hc.status.code(), Some(1));
    // Bad arguments -> exit 2.
    let bad = Command::new(exe).arg("--bogus").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// `x-mock-answer` / `x-mock-answer-b64` set the answer text (JSON and SSE, every API);
/// `x-mock-chunk-bytes` sets the streamed pieces' size.
#[tokio::test]
async fn answer_injection_and_chunk_bytes() {
    let addr = start_default().await;
    let answer = "Key: sk-\u{e9}abc def";
    // base64 of the answer (UTF-8), computed with the crate's decoder's inverse by hand.
    let b64 = {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = answer.as_bytes();
        let mut s = String::new();
        for c in b.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..=c.len() {
                s.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            }
        }
        s
    };
    assert_eq!(mock_model::base64_decode(&b64).unwrap(), answer.as_bytes());
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-answer-b64", &b64)],
        b"{}",
    )
    .await;
    assert_eq!(r.json()["choices"][0]["message"]["content"], answer);
    assert_eq!(r.json()["usage"]["completion_tokens"], ceil4(answer.len()));
    let r = send(
        addr,
        "POST",
        "/v1/messages",
        &[("x-mock-answer", "plain text answer")],
        b"{\"max_tokens\":1}",
    )
    .await;
    assert_eq!(r.json()["content"][0]["text"], "plain text answer");
    let r = send(
        addr,
        "POST",
        "/v1/completions",
        &[("x-mock-answer", "plain text answer")],
        b"{}",
    )
    .await;
    assert_eq!(r.json()["choices"][0]["text"], "plain text answer");
    // Streams: every size from 1 byte; the pieces join to the answer, none longer than asked
    // (plus the rest of a character).
    for n in 1..=answer.len() + 1 {
        let size = n.to_string();
        for (path, body) in [
            ("/v1/chat/completions", "{\"stream\":true}"),
            ("/v1/completions", "{\"stream\":true}"),
            ("/v1/messages", "{\"stream\":true}"),
        ] {
            let r = send(
                addr,
                "POST",
                path,
                &[("x-mock-answer-b64", &b64), ("x-mock-chunk-bytes", &size)],
                body.as_bytes(),
            )
            .await;
            let mut text = String::new();
            for (_, data) in sse(&r.text()) {
                let Ok(v) = serde_json::from_str::<Value>(&data) else {
                    continue;
                };
                let piece = v["choices"][0]["delta"]["content"]
                    .as_str()
                    .or(v["choices"][0]["text"].as_str())
                    .or(v["delta"]["text"].as_str());
                if let Some(p) = piece {
                    assert!(p.len() <= n + 3, "{path} {n}: {p:?}");
                    text.push_str(p);
                }
            }
            assert_eq!(text, answer, "{path} {n}");
        }
    }
    assert_eq!(
        mock_model::split_answer("abcdef", &[2, 2, 9, 1, 4]),
        vec!["ab", "cdef"]
    );
    assert_eq!(
        mock_model::split_answer("a\u{e9}b", &[2]),
        vec!["a\u{e9}", "b"]
    );
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-answer", "abcdef"), ("x-mock-split-at", "1,3")],
        b"{\"stream\":true}",
    )
    .await;
    let pieces: Vec<String> = sse(&r.text())
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(pieces, ["a", "bc", "def"]);
    // Without a size: word by word.
    assert_eq!(
        mock_model::answer_pieces("a bc  d", None),
        vec!["a", " bc", "  d"]
    );
    // Bad base64: the header is ignored (the default answer).
    let r = send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("x-mock-answer-b64", "!!!")],
        b"{\"max_tokens\":2}",
    )
    .await;
    assert_eq!(r.json()["choices"][0]["message"]["content"], "tok0 tok1");
}

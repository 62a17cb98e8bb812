//! The wire code against a small stand-in detector (`SECRET` redacted, `BLOCKME` blocks, a fixed
//! hold-back), so framing, release and rewriting are tested apart from the real detectors (those
//! run in `exchange/tests.rs` and the e2e tests).

use super::*;

const HOLD: usize = 6;

struct Fake;
#[derive(Clone)]
struct FakeStream {
    buf: String,
    hold: usize,
}

fn scan_buf(buf: &mut String, hold: usize) -> Scanned {
    let mut s = Scanned::default();
    if buf.contains("BLOCKME") {
        s.blocked = true;
        s.hits.push(Hit {
            detector: "secret",
            kind: "test",
            action: "block",
        });
        return s;
    }
    if buf.contains("SECRET") {
        *buf = buf.replace("SECRET", "[REDACTED]");
        s.hits.push(Hit {
            detector: "secret",
            kind: "test",
            action: "redact",
        });
    }
    let mut cut = buf.len().saturating_sub(hold);
    while !buf.is_char_boundary(cut) {
        cut -= 1;
    }
    s.text = buf.drain(..cut).collect();
    s
}

impl StreamScan for FakeStream {
    fn push(&mut self, d: &str) -> Scanned {
        self.buf.push_str(d);
        scan_buf(&mut self.buf, self.hold)
    }
    fn finish(&mut self) -> Scanned {
        scan_buf(&mut self.buf, 0)
    }
    fn checkpoint(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl Scanners for Fake {
    type Stream = FakeStream;
    fn scan(&self, text: &str) -> Scanned {
        let mut b = text.to_string();
        scan_buf(&mut b, 0)
    }
    fn stream(&self) -> FakeStream {
        FakeStream {
            buf: String::new(),
            hold: HOLD,
        }
    }
}

fn chat_stream(pieces: &[&str]) -> String {
    let mut s = String::new();
    for (i, p) in pieces.iter().enumerate() {
        let delta = if i == 0 {
            json!({"role": "assistant", "content": p})
        } else {
            json!({"content": p})
        };
        let fin = if i + 1 == pieces.len() {
            json!("stop")
        } else {
            Value::Null
        };
        let ev = json!({"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": fin}]});
        s.push_str(&format!("data: {ev}\n\n"));
    }
    s.push_str("data: [DONE]\n\n");
    s
}

fn completions_stream(pieces: &[&str]) -> String {
    let mut s = String::new();
    for p in pieces {
        let ev = json!({"object": "text_completion", "choices": [{"index": 0, "text": p, "finish_reason": null}]});
        s.push_str(&format!("data: {ev}\n\n"));
    }
    s.push_str("data: [DONE]\n\n");
    s
}

fn anthropic_stream(pieces: &[&str]) -> String {
    let mut s = String::from("event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":3}}}\r\n\r\nevent: content_block_start\r\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\n\r\n");
    for p in pieces {
        let ev = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}});
        s.push_str(&format!("event: content_block_delta\r\ndata: {ev}\r\n\r\n"));
    }
    s.push_str(
        "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n",
    );
    s.push_str("event: message_delta\r\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\r\n\r\nevent: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n");
    s
}

fn responses_stream(pieces: &[&str]) -> String {
    let mut s = String::from("event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\"}}\n\n");
    for p in pieces {
        let ev = json!({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "item_id": "i", "delta": p});
        s.push_str(&format!(
            "event: response.output_text.delta\ndata: {ev}\n\n"
        ));
    }
    let full: String = pieces.concat();
    let done = json!({"type": "response.output_text.done", "output_index": 0, "content_index": 0, "text": full});
    s.push_str(&format!(
        "event: response.output_text.done\ndata: {done}\n\n"
    ));
    let completed = json!({"type": "response.completed", "response": {"id": "r", "output": [{"type": "message", "content": [{"type": "output_text", "text": full}]}], "usage": {"input_tokens": 1, "output_tokens": 2}}});
    s.push_str(&format!("event: response.completed\ndata: {completed}\n\n"));
    s
}

/// A chat stream whose pieces are in `delta.FIELD` (`refusal`, `reasoning_content`, `reasoning`)
/// or, for `tool_calls`, a tool call's arguments.
fn chat_field_stream(field: &str, pieces: &[&str]) -> String {
    let mut s = String::new();
    let first = if field == "tool_calls" {
        json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "send_mail", "arguments": ""}}]})
    } else {
        json!({"role": "assistant", "content": null})
    };
    let ev = json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": first, "finish_reason": null}]});
    s.push_str(&format!("data: {ev}\n\n"));
    for p in pieces {
        let delta = if field == "tool_calls" {
            json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
        } else {
            json!({ field: p })
        };
        let ev = json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]});
        s.push_str(&format!("data: {ev}\n\n"));
    }
    let ev = json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    s.push_str(&format!("data: {ev}\n\ndata: [DONE]\n\n"));
    s
}

fn chat_tool_stream(p: &[&str]) -> String {
    chat_field_stream("tool_calls", p)
}
fn chat_refusal_stream(p: &[&str]) -> String {
    chat_field_stream("refusal", p)
}
fn chat_reasoning_stream(p: &[&str]) -> String {
    chat_field_stream("reasoning_content", p)
}
fn chat_reasoning2_stream(p: &[&str]) -> String {
    chat_field_stream("reasoning", p)
}

/// An Anthropic stream with one block of `block` (`thinking`, `tool_use`).
fn anthropic_block_stream(block: &str, pieces: &[&str]) -> String {
    let start = if block == "thinking" {
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}})
    } else {
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t1", "name": "send_mail", "input": {}}})
    };
    let mut s = format!("event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"m\"}}}}\n\nevent: content_block_start\ndata: {start}\n\n");
    for p in pieces {
        let delta = if block == "thinking" {
            json!({"type": "thinking_delta", "thinking": p})
        } else {
            json!({"type": "input_json_delta", "partial_json": p})
        };
        let ev = json!({"type": "content_block_delta", "index": 0, "delta": delta});
        s.push_str(&format!("event: content_block_delta\ndata: {ev}\n\n"));
    }
    if block == "thinking" {
        s.push_str("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"c2lnbmF0dXJl\"}}\n\n");
    }
    s.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    s
}

fn anthropic_thinking_stream(p: &[&str]) -> String {
    anthropic_block_stream("thinking", p)
}
fn anthropic_tool_stream(p: &[&str]) -> String {
    anthropic_block_stream("tool_use", p)
}

/// A Responses API stream of `what`: `function_call` arguments, a `refusal`, or a reasoning
/// `summary`, with the events that repeat the whole text.
fn responses_kind_stream(what: &str, pieces: &[&str]) -> String {
    let full: String = pieces.concat();
    let (delta_ty, done, item) = match what {
        "function_call" => (
            "response.function_call_arguments.delta",
            json!({"type": "response.function_call_arguments.done", "output_index": 0, "item_id": "fc", "arguments": full}),
            json!({"type": "function_call", "id": "fc", "call_id": "c", "name": "send_mail", "arguments": full}),
        ),
        "refusal" => (
            "response.refusal.delta",
            json!({"type": "response.refusal.done", "output_index": 0, "content_index": 0, "item_id": "m", "refusal": full}),
            json!({"type": "message", "id": "m", "role": "assistant", "content": [{"type": "refusal", "refusal": full}]}),
        ),
        _ => (
            "response.reasoning_summary_text.delta",
            json!({"type": "response.reasoning_summary_text.done", "output_index": 0, "summary_index": 0, "item_id": "rs", "text": full}),
            json!({"type": "reasoning", "id": "rs", "summary": [{"type": "summary_text", "text": full}]}),
        ),
    };
    let mut s = String::from("event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\"}}\n\n");
    for p in pieces {
        let ev = json!({"type": delta_ty, "output_index": 0, "content_index": 0, "summary_index": 0, "item_id": "x", "delta": p});
        s.push_str(&format!("event: {delta_ty}\ndata: {ev}\n\n"));
    }
    s.push_str(&format!(
        "event: {}\ndata: {done}\n\n",
        done["type"].as_str().unwrap()
    ));
    let item_done = json!({"type": "response.output_item.done", "output_index": 0, "item": item});
    s.push_str(&format!(
        "event: response.output_item.done\ndata: {item_done}\n\n"
    ));
    let completed =
        json!({"type": "response.completed", "response": {"id": "r", "output": [item]}});
    s.push_str(&format!("event: response.completed\ndata: {completed}\n\n"));
    s
}

fn responses_args_stream(p: &[&str]) -> String {
    responses_kind_stream("function_call", p)
}
fn responses_refusal_stream(p: &[&str]) -> String {
    responses_kind_stream("refusal", p)
}
fn responses_reasoning_stream(p: &[&str]) -> String {
    responses_kind_stream("summary", p)
}

/// The answer text of a stream, per stream key, in order; and the events' count.
fn text_of(stream: &[u8]) -> (String, usize) {
    let mut text = String::new();
    let mut n = 0;
    let mut start = 0;
    for e in event_ends(stream) {
        let (name, data) = parse_event(&stream[start..e]);
        for (_, _, t) in classify(name, &data).parts {
            text.push_str(&t);
        }
        n += 1;
        start = e;
    }
    assert_eq!(
        start,
        stream.len(),
        "trailing bytes: {:?}",
        &stream[start..]
    );
    (text, n)
}

fn run(stream: &[u8], cuts: &[usize]) -> (Vec<u8>, SseReport) {
    let (chunks, report) = run_chunks(&Fake, stream, cuts, true);
    (chunks.concat(), report)
}

/// What each chunk turned into; `runs`: plain chat chunks read in runs (the default) or one
/// by one.
fn run_chunks<S: Scanners>(
    scanners: &S,
    stream: &[u8],
    cuts: &[usize],
    runs: bool,
) -> (Vec<Vec<u8>>, SseReport) {
    let mut g: SseGuard<S> = SseGuard::new();
    g.runs = runs;
    let mut out = Vec::new();
    let mut from = 0;
    let points: Vec<usize> = cuts.iter().copied().chain([stream.len()]).collect();
    for (k, &to) in points.iter().enumerate() {
        out.push(g.feed(scanners, &stream[from..to], k + 1 == points.len()));
        from = to;
    }
    (out, g.report().clone())
}

/// Reads `stream` cut at `cuts` one event at a time and in runs; asserts that both give the
/// same bytes chunk for chunk and the same report. Returns the report.
fn same_readings<S: Scanners>(
    scanners: &S,
    stream: &[u8],
    cuts: &[usize],
    what: &str,
) -> SseReport {
    let (one, rep1) = run_chunks(scanners, stream, cuts, false);
    let (many, rep2) = run_chunks(scanners, stream, cuts, true);
    let text = |chunks: &[Vec<u8>]| -> Vec<String> {
        chunks
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    };
    assert_eq!(text(&one), text(&many), "{what}");
    assert_eq!(
        (&rep1.hits, rep1.blocked, rep1.rewritten, rep1.text_events),
        (&rep2.hits, rep2.blocked, rep2.rewritten, rep2.text_events),
        "{what}"
    );
    rep2
}

/// Reading plain chat chunks in runs (one scanner push for a run, events out as the chunk's
/// bytes) gives, chunk for chunk, the bytes and the report that reading them one by one gives:
/// benign, redacted (the run is put back) and blocked streams, every shape, cut at many points
/// and event by event. It fails if a run releases an event early, late or changed.
#[test]
fn runs_read_as_single_events_do() {
    let texts: [&[&str]; 5] = [
        &[
            "Hello",
            " wor",
            "ld, ",
            "caf\u{e9} \u{4e2d}\u{6587}",
            "!",
            " more",
            " words",
            " here",
        ],
        &[
            "Your key is ",
            "SEC",
            "RET",
            ", keep",
            " it",
            " safe",
            " now",
        ],
        &["fine text here ", "BLO", "CKME", " and more", " text"],
        &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"],
        &[
            "long run of plain words ",
            "SECRET",
            " then more plain words",
            " and",
            " the end",
        ],
    ];
    let mut runs_taken = false;
    for (name, make) in SHAPES {
        for pieces in texts {
            let s = make(pieces);
            let b = s.as_bytes();
            let ends = event_ends(b);
            let mut cut_sets: Vec<Vec<usize>> = (0..=b.len()).step_by(5).map(|i| vec![i]).collect();
            cut_sets.push(ends.clone());
            cut_sets.push(ends.iter().copied().step_by(3).collect());
            cut_sets.push((1..b.len()).step_by(97).collect());
            for cuts in &cut_sets {
                same_readings(&Fake, b, cuts, &format!("{name} {pieces:?} cuts {cuts:?}"));
            }
            if name == "chat" {
                // The runs are really read: a whole benign chat stream in one chunk is taken
                // in a run (its event count is only reached through `plain_run`).
                let mut g: SseGuard<Fake> = SseGuard::new();
                let _ = g.feed(&Fake, b, false);
                runs_taken |= g.runs_taken > 0;
            }
        }
    }
    assert!(runs_taken, "no run of plain events was read");
}

type Maker = fn(&[&str]) -> String;
const SHAPES: [(&str, Maker); 13] = [
    ("chat", chat_stream),
    ("completions", completions_stream),
    ("anthropic", anthropic_stream),
    ("responses", responses_stream),
    ("chat tool_calls", chat_tool_stream),
    ("chat refusal", chat_refusal_stream),
    ("chat reasoning_content", chat_reasoning_stream),
    ("chat reasoning", chat_reasoning2_stream),
    ("anthropic thinking", anthropic_thinking_stream),
    ("anthropic tool_use", anthropic_tool_stream),
    ("responses function_call", responses_args_stream),
    ("responses refusal", responses_refusal_stream),
    ("responses reasoning", responses_reasoning_stream),
];

#[test]
fn benign_streams_pass_byte_for_byte_at_every_split() {
    for (name, make) in SHAPES {
        let s = make(&["Hello", " wor", "ld, ", "caf\u{e9} \u{4e2d}\u{6587}", "!"]);
        let b = s.as_bytes();
        for i in 0..=b.len() {
            let (out, rep) = run(b, &[i]);
            assert_eq!(out, b, "{name} cut {i}");
            assert!(rep.hits.is_empty() && !rep.blocked && !rep.rewritten);
        }
        let every: Vec<usize> = (1..b.len()).collect();
        assert_eq!(run(b, &every).0, b, "{name} byte by byte");
    }
}

/// The bench's mock model's answer to a streamed chat request (`target/release/mock-model`):
/// 16 texts `tok0`, ` tok1`, ... (a leading space: each text's last word is held until the
/// next), the finish reason on the last, then the usage chunk and `[DONE]`.
fn mock_model_stream() -> String {
    let mut sse = String::new();
    for i in 0..16 {
        let delta = if i == 0 {
            format!("{{\"content\":\"tok{i}\",\"role\":\"assistant\"}}")
        } else {
            format!("{{\"content\":\" tok{i}\"}}")
        };
        let finish = if i == 15 { "\"stop\"" } else { "null" };
        sse.push_str(&format!("data: {{\"choices\":[{{\"delta\":{delta},\"finish_reason\":{finish},\"index\":0,\"logprobs\":null}}],\"created\":1764633600,\"id\":\"chatcmpl-mock-1\",\"model\":\"gpt-4o-mini\",\"object\":\"chat.completion.chunk\",\"system_fingerprint\":\"fp_mock\",\"usage\":null}}\n\n"));
    }
    sse.push_str("data: {\"choices\":[],\"created\":1764633600,\"id\":\"chatcmpl-mock-1\",\"model\":\"gpt-4o-mini\",\"object\":\"chat.completion.chunk\",\"system_fingerprint\":\"fp_mock\",\"usage\":{\"completion_tokens\":16,\"prompt_tokens\":12,\"total_tokens\":28}}\n\ndata: [DONE]\n\n");
    sse
}

/// A benign stream that arrives in one chunk leaves as that chunk, not as a copy of it, even
/// when the scanner held its text back for a while: the events it queued are the chunk's own
/// bytes, released in the same call (issue 19, 2026-12-04: with the bench's guard every such
/// stream was rewritten with a copy of itself, one more `set_buffer_bytes` of the whole body).
/// Cut in two at an event's end, the second chunk still goes out as it came.
#[test]
fn a_benign_stream_in_one_chunk_is_passed_as_it_came() {
    for (name, make) in SHAPES {
        let s = make(&["Hello", " wor", "ld, ", "caf\u{e9} \u{4e2d}\u{6587}", "!"]);
        let b = s.as_bytes();
        let mut g: SseGuard<Fake> = SseGuard::new();
        assert_eq!(g.feed_chunk(&Fake, b, true), None, "{name}: rewritten");
        assert!(
            !g.report().rewritten && g.report().hits.is_empty(),
            "{name}"
        );
        let ends = event_ends(b);
        let cut = ends[ends.len() / 2];
        let mut g: SseGuard<Fake> = SseGuard::new();
        let first = g.feed(&Fake, &b[..cut], false);
        let second = g.feed_chunk(&Fake, &b[cut..], true);
        let both = [first.as_slice(), second.as_deref().unwrap_or(&b[cut..])].concat();
        assert_eq!(both, b, "{name}: cut at {cut}");
    }
    // The real detectors on the bench's stream (its mock model's answer, one chunk).
    let cfg: crate::config::Config = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bench/configs/guard.json"
    )))
    .expect("guard.json");
    let guard = Guard::new(cfg.response_guard.as_ref().expect("response_guard")).unwrap();
    let body = br#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant for a garden shop."},{"role":"user","content":"Say hello"}]}"#;
    let (_, bound) = bind_request(&guard, body, &[]);
    let sse = mock_model_stream();
    let mut g: SseGuard<Bound> = SseGuard::new();
    assert_eq!(g.feed_chunk(&bound, sse.as_bytes(), true), None);
    assert!(g.report().hits.is_empty() && g.report().text_events == 16);
}

#[test]
fn secret_split_across_events_is_redacted_at_every_split_point() {
    let answer = "Your key is SECRET, keep it.";
    for (name, make) in SHAPES {
        for i in 0..=answer.len() {
            for j in i..=answer.len() {
                if !(answer.is_char_boundary(i) && answer.is_char_boundary(j)) {
                    continue;
                }
                let pieces = [&answer[..i], &answer[i..j], &answer[j..]];
                let s = make(&pieces);
                let (out, rep) = run(s.as_bytes(), &[s.len() / 3]);
                let (text, _) = text_of(&out);
                assert_eq!(
                    text,
                    "Your key is [REDACTED], keep it.",
                    "{name} {i} {j}: {}",
                    String::from_utf8_lossy(&out)
                );
                let out_s = String::from_utf8(out).unwrap();
                assert!(!out_s.contains("SECRET"), "{name} {i} {j}: {out_s}");
                assert!(rep.rewritten && !rep.blocked);
                assert!(!rep.hits.is_empty());
                if name.starts_with("chat") || name == "completions" {
                    assert!(out_s.ends_with("data: [DONE]\n\n"));
                } else if name.starts_with("anthropic") {
                    assert!(
                        out_s.ends_with("{\"type\":\"message_stop\"}\r\n\r\n")
                            || out_s.ends_with("{\"type\":\"message_stop\"}\n\n")
                    );
                } else {
                    assert!(out_s.contains("response.completed"));
                }
            }
        }
    }
}

#[test]
fn block_ends_the_stream_with_an_error_and_done() {
    for (name, make) in SHAPES {
        let s = make(&["fine text here ", "BLO", "CKME", " and more", " text"]);
        let b = s.as_bytes();
        for i in (0..=b.len()).step_by(3) {
            let (out, rep) = run(b, &[i]);
            let out = String::from_utf8(out).unwrap();
            assert!(rep.blocked, "{name}");
            assert!(out.ends_with("\n\ndata: [DONE]\n\n"), "{name} {i}: {out}");
            assert!(out.contains(BLOCK_CODE), "{name}");
            assert!(
                !out.contains("BLO") && !out.contains("more"),
                "{name} {i}: {out}"
            );
            assert_eq!(out.matches("[DONE]").count(), 1, "{name}");
        }
    }
}

#[test]
fn held_text_never_exceeds_the_hold_back() {
    // Benign text fed one event at a time: after each event, all but HOLD bytes are out.
    let words: Vec<String> = (0..50).map(|i| format!(" w{i}")).collect();
    let pieces: Vec<&str> = words.iter().map(String::as_str).collect();
    let s = chat_stream(&pieces);
    let b = s.as_bytes();
    let mut g: SseGuard<Fake> = SseGuard::new();
    let (mut sent_in, mut sent_out) = (String::new(), Vec::new());
    let mut start = 0;
    for e in event_ends(b) {
        let ev = &b[start..e];
        sent_in.push_str(&text_of(ev).0);
        sent_out.extend(g.feed(&Fake, ev, e == b.len()));
        let released = text_of(&sent_out).0;
        // Events leave whole: held text is at most HOLD plus the one event being held.
        assert!(
            sent_in.len() - released.len() <= HOLD + 4,
            "held {} at {e}",
            sent_in.len() - released.len()
        );
        start = e;
    }
    assert_eq!(sent_out, b);
}

#[test]
fn two_choices_are_scanned_apart() {
    let mut s = String::new();
    for (i, p) in [(0, "SEC"), (1, "SEC"), (0, "RET a"), (1, "ond b")] {
        let ev = json!({"choices": [{"index": i, "delta": {"content": p}, "finish_reason": null}]});
        s.push_str(&format!("data: {ev}\n\n"));
    }
    s.push_str("data: [DONE]\n\n");
    let (out, _) = run(s.as_bytes(), &[]);
    let out = String::from_utf8(out).unwrap();
    // Choice 0 became "[REDACTED] a"; choice 1 "SECond b" is not a secret.
    let mut t0 = String::new();
    let mut t1 = String::new();
    let b = out.as_bytes();
    let mut start = 0;
    for e in event_ends(b) {
        let (name, data) = parse_event(&b[start..e]);
        for (k, _, t) in classify(name, &data).parts {
            if k.1 == 0 {
                t0.push_str(&t);
            } else {
                t1.push_str(&t);
            }
        }
        start = e;
    }
    assert_eq!(
        (t0.as_str(), t1.as_str()),
        ("[REDACTED] a", "SECond b"),
        "{out}"
    );
}

#[test]
fn responses_summaries_are_rewritten() {
    let s = responses_stream(&["a SEC", "RET b"]);
    let (out, _) = run(s.as_bytes(), &[]);
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains("SECRET"), "{out}");
    assert_eq!(out.matches("a [REDACTED] b").count(), 2, "{out}");
    // Function-call arguments, refusals and reasoning summaries: the `.done`, the item and the
    // completed response repeat the whole text; each is rewritten.
    for make in [
        responses_args_stream,
        responses_refusal_stream,
        responses_reasoning_stream,
    ] {
        let s = make(&["a SEC", "RET b"]);
        let (out, _) = run(s.as_bytes(), &[]);
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("SECRET"), "{out}");
        assert_eq!(out.matches("a [REDACTED] b").count(), 3, "{out}");
    }
}

#[test]
fn tool_call_argument_streams_are_per_call() {
    // Two tool calls of one choice, interleaved: each call's arguments are one stream.
    let mut s = String::new();
    for (k, p) in [
        (0, "{\"to\":\"SEC"),
        (1, "{\"to\":\"SEC"),
        (0, "RET\"}"),
        (1, "ond\"}"),
    ] {
        let ev = json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": k, "function": {"arguments": p}}]}, "finish_reason": null}]});
        s.push_str(&format!("data: {ev}\n\n"));
    }
    s.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n");
    let (out, rep) = run(s.as_bytes(), &[]);
    let out = String::from_utf8(out).unwrap();
    let (mut t0, mut t1) = (String::new(), String::new());
    let b = out.as_bytes();
    let mut start = 0;
    for e in event_ends(b) {
        let (name, data) = parse_event(&b[start..e]);
        for (k, _, t) in classify(name, &data).parts {
            if k.2 == 0 {
                t0.push_str(&t)
            } else {
                t1.push_str(&t)
            }
        }
        start = e;
    }
    assert_eq!(
        (t0.as_str(), t1.as_str()),
        ("{\"to\":\"[REDACTED]\"}", "{\"to\":\"SECond\"}"),
        "{out}"
    );
    assert_eq!(rep.hits.len(), 1);
    assert!(out.ends_with("data: [DONE]\n\n"));
}

#[test]
fn hostile_streams_do_not_panic() {
    let mut seed: u64 = 0x2545f4914f6cdd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: &[u8] = b"data: {}[]\"choices\"delta\"content\"SECRET BLOCKME\r\n:,0\xff\xc3";
    for _ in 0..500 {
        let mut g: SseGuard<Fake> = SseGuard::new();
        for k in 0..30 {
            let len = (next() % 40) as usize;
            let chunk: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let _ = g.feed(&Fake, &chunk, k == 29);
        }
    }
    // An oversized event: everything passes, said unscanned.
    let mut g: SseGuard<Fake> = SseGuard::new();
    let big = vec![b'a'; MAX_EVENT_BYTES + 10];
    let out = g.feed(&Fake, &big, false);
    assert_eq!(out.len(), big.len());
    assert!(g.unscanned());
    assert_eq!(g.feed(&Fake, b"xyz", true), b"xyz");
    // Fail closed: the held text goes out, then an error event and `[DONE]`; nothing after.
    let mut g: SseGuard<Fake> = SseGuard::fail_closed();
    let head = chat_stream(&["fine "]);
    let head = head.trim_end_matches("data: [DONE]\n\n");
    let mut out = g.feed(&Fake, head.as_bytes(), false);
    out.extend(g.feed(&Fake, &big, false));
    out.extend(g.feed(&Fake, b"more", true));
    let out = String::from_utf8(out).unwrap();
    assert!(g.unscanned() && g.blocked());
    assert!(out.starts_with(head), "{out}");
    assert!(out.ends_with("(too_large)\",\"type\":\"content_filter\",\"param\":null,\"code\":\"response_blocked\"}}\n\ndata: [DONE]\n\n")
        || out.contains("(too_large)"), "{out}");
    assert!(out.len() < head.len() + 400 && !out.contains("aaaa") && !out.contains("more"));
}

#[test]
fn json_answers_per_shape() {
    let bodies = [
        json!({"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "key SECRET here"}, "finish_reason": "stop"}]}),
        json!({"object": "text_completion", "choices": [{"index": 0, "text": "key SECRET here"}]}),
        json!({"type": "message", "content": [{"type": "text", "text": "key SECRET here"}], "stop_reason": "end_turn"}),
        json!({"object": "response", "output": [{"type": "message", "content": [{"type": "output_text", "text": "key SECRET here"}]}]}),
        // What the model says besides its answer text.
        json!({"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "send", "arguments": "{\"body\":\"key SECRET here\"}"}}]}, "finish_reason": "tool_calls"}]}),
        json!({"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": "key SECRET here"}, "finish_reason": "stop"}]}),
        json!({"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "reasoning_content": "key SECRET here"}, "finish_reason": "stop"}]}),
        json!({"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "reasoning": "key SECRET here"}, "finish_reason": "stop"}]}),
        json!({"type": "message", "content": [{"type": "thinking", "thinking": "key SECRET here", "signature": "c2ln"}], "stop_reason": "end_turn"}),
        json!({"type": "message", "content": [{"type": "tool_use", "id": "t", "name": "send", "input": {"mail": {"body": "key SECRET here"}, "n": 3}}], "stop_reason": "tool_use"}),
        json!({"object": "response", "output": [{"type": "function_call", "name": "send", "arguments": "{\"body\":\"key SECRET here\"}"}]}),
        json!({"object": "response", "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "key SECRET here"}]}]}),
        json!({"object": "response", "output": [{"type": "reasoning", "summary": [{"type": "summary_text", "text": "key SECRET here"}]}]}),
    ];
    for b in &bodies {
        let raw = serde_json::to_vec(b).unwrap();
        let o = guard_json(&raw, &Fake);
        assert_eq!(o.texts, 1, "{b}");
        let new = String::from_utf8(o.body.unwrap()).unwrap();
        assert!(
            new.contains("key [REDACTED] here") && !new.contains("SECRET"),
            "{new}"
        );
        // Benign: no new body (the original is sent byte for byte).
        let benign = String::from_utf8(raw.clone())
            .unwrap()
            .replace("SECRET", "nothing");
        let o = guard_json(benign.as_bytes(), &Fake);
        assert!(o.body.is_none() && o.hits.is_empty() && !o.blocked);
        // Block, and its 200 refusal-shaped answer.
        let blocking = String::from_utf8(raw).unwrap().replace("SECRET", "BLOCKME");
        let o = guard_json(blocking.as_bytes(), &Fake);
        assert!(o.blocked && o.body.is_none());
        let r = String::from_utf8(refusal_body(blocking.as_bytes()).unwrap()).unwrap();
        assert!(r.contains(BLOCK_MESSAGE) && !r.contains("BLOCKME"), "{r}");
        let mut doc: Value = serde_json::from_str(&r).unwrap();
        let (shape, texts) = texts_mut(&mut doc, false);
        assert!(shape != Shape::Unknown && !texts.is_empty(), "{r}");
    }
    for junk in [&b"not json"[..], b"{}", b"[1]", b"{\"choices\":5}", b""] {
        let o = guard_json(junk, &Fake);
        assert!(o.body.is_none() && !o.blocked && o.texts == 0);
        assert!(refusal_body(junk).is_none());
    }
    let e: Value = serde_json::from_slice(&block_error_body("secret")).unwrap();
    assert_eq!(e["error"]["code"], BLOCK_CODE);
}

/// The quick chat-chunk reader reads what the full parse reads, or leaves the event to it.
#[test]
fn quick_chat_chunk_agrees_with_the_full_parse() {
    let cases: &[&str] = &[
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi "},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#"{"choices":[{"index":1,"delta":{"content":"x"},"finish_reason":"stop"},{"index":0,"delta":{},"finish_reason":null}]}"#,
        r#" {"choices":[]} "#,
        r#"{"choices":[{"delta":{"content":null},"finish_reason":"length"}]}"#,
        r#"{ "choices" : [ { "index" : 2 , "delta" : { "content" : "déjà vu" } } ] }"#,
        // Left to the full parse (or read the same way):
        r#"{"choices":[{"index":0,"delta":{"content":"a\"b"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"choices":[]}"#,
        r#"{"choices":[{"index":-1,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":1.5,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":5}}]}"#,
        r#"{"choices":[{"index":0,"delta":null}]}"#,
        r#"{"choices":[{"index":0,"text":"a"}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a","tool_calls":[]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":{"x":1}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"total_tokens":3}}"#,
        r#"{"type":"x","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}]} x"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}},]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],}"#,
        r#"{"choices":[{"index":01,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a	b"}}]}"#,
        r#"{"choices":null}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"n":nul}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"n":-}"#,
        // Values the full parse ignores, nested (the usage chunk, logprobs): read quickly.
        r#"{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"Hi","role":"assistant","extra":{"a":[1,{"b":null}]}},"logprobs":{"content":[{"token":"Hi","bytes":[72,105],"top_logprobs":[]}]},"finish_reason":null}]}"#,
        // Left to the full parse: too deep, malformed, an escape or a fraction inside.
        r#"{"choices":[],"x":[[[[[[[1]]]]]]]}"#,
        r#"{"choices":[],"usage":{"a":}}"#,
        r#"{"choices":[],"usage":{"a":1,}}"#,
        r#"{"choices":[],"usage":[1 2]}"#,
        r#"{"choices":[],"usage":{"a":"x\ny"}}"#,
        r#"{"choices":[],"usage":{"cost":0.5}}"#,
    ];
    for c in cases {
        let quick = super::quick::chat_chunk(c.as_bytes());
        if let Some(q) = quick {
            assert_eq!(q, super::classify_parsed(None, c.as_bytes()), "{c}");
        }
    }
    // The ordinary chunk is read quickly.
    assert!(super::quick::chat_chunk(cases[0].as_bytes()).is_some());
    assert!(super::quick::chat_chunk(cases[5].as_bytes()).is_none());
    let n = cases.len();
    for c in &cases[n - 8..n - 6] {
        assert!(super::quick::chat_chunk(c.as_bytes()).is_some(), "{c}");
    }
    for c in &cases[n - 6..] {
        assert!(super::quick::chat_chunk(c.as_bytes()).is_none(), "{c}");
    }
}

/// As `runs_read_as_single_events_do`, with the real detectors (`bench/configs/guard.json`:
/// every detector on, leakage blocking, the rest redacting): benign prose, an email, a key, a
/// link and the system prompt recited, split into chat chunks of a few bytes and cut into body
/// chunks at many points.
#[test]
fn runs_read_as_single_events_do_with_the_real_detectors() {
    let cfg: crate::config::Config = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bench/configs/guard.json"
    )))
    .expect("guard.json");
    let guard = Guard::new(cfg.response_guard.as_ref().expect("response_guard")).unwrap();
    let body = br#"{"model":"m","stream":true,"messages":[{"role":"system","content":"You are the garden shop assistant and you answer questions about seeds and soil only."},{"role":"user","content":"hi"}]}"#;
    let (_, bound) = bind_request(&guard, body, &[]);
    // A key of the OpenAI project format, random-looking (a fixed generator).
    let mut x: u32 = 12345;
    let key: String = (0..120)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
                [(x >> 16) as usize % 64] as char
        })
        .collect();
    let with_key = format!("The key is sk-proj-{key} and more text.");
    let answers = [
        "Tomatoes like warm soil and steady water; mulch keeps the roots cool in summer.",
        "Write to alice.smith@example.org or call 415-555-0134 for an order.",
        &with_key,
        "See ![x](https://evil.example.net/log?d=secret-data) and [ok](https://example.com/a).",
        "Sure: You are the garden shop assistant and you answer questions about seeds and soil only.",
    ];
    for answer in answers {
        for size in [1, 3, 5, 8] {
            let chars: Vec<char> = answer.chars().collect();
            let pieces: Vec<String> = chars.chunks(size).map(|c| c.iter().collect()).collect();
            let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
            let s = chat_stream(&refs);
            let b = s.as_bytes();
            let ends = event_ends(b);
            let mut cut_sets: Vec<Vec<usize>> =
                (0..=b.len()).step_by(41).map(|i| vec![i]).collect();
            cut_sets.push(ends.clone());
            cut_sets.push(ends.iter().copied().step_by(4).collect());
            for cuts in &cut_sets {
                let what = format!("{answer:?} by {size} cuts {cuts:?}");
                let rep = same_readings(&bound, b, cuts, &what);
                // Each answer but the first trips a detector.
                assert_eq!(
                    rep.hits.is_empty(),
                    answer == answers[0],
                    "{what}: {:?}",
                    rep.hits
                );
            }
        }
    }
}

/// A native profile of the real guard on a 1024-token chat stream, as `tests/wasm_cost.rs`'s
/// `sse_guard_cost` feeds it (`bench/configs/guard.json`): in one chunk, then a chunk per event. Ignored: run it under
/// `valgrind --tool=callgrind` (`cargo test --release --lib -- --ignored sse_guard_profile`).
#[test]
#[ignore]
fn sse_guard_profile() {
    let cfg: crate::config::Config = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bench/configs/guard.json"
    )))
    .expect("guard.json");
    let guard = Guard::new(cfg.response_guard.as_ref().expect("response_guard")).unwrap();
    let body = br#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a friendly assistant."},{"role":"user","content":"Say hello"}]}"#;
    let (_, bound) = bind_request(&guard, body, &[]);
    let words = [
        "garden ",
        "soil ",
        "compost ",
        "tomato ",
        "seedling ",
        "water ",
        "the ",
        "a ",
    ];
    let pieces: Vec<String> = (0..1024).map(|i| words[i * 7 % 8].to_string()).collect();
    let mut sse = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        let finish = if i + 1 == pieces.len() {
            "\"stop\""
        } else {
            "null"
        };
        sse.extend_from_slice(format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{p}\"}},\"finish_reason\":{finish},\"index\":0,\"logprobs\":null}}],\"created\":1764633600,\"id\":\"chatcmpl-mock-1\",\"model\":\"gpt-4o-mini\",\"object\":\"chat.completion.chunk\",\"system_fingerprint\":\"fp_mock\",\"usage\":null}}\n\n").as_bytes());
    }
    sse.extend_from_slice(b"data: [DONE]\n\n");
    for _ in 0..20 {
        let mut g: SseGuard<Bound> = SseGuard::new();
        let out = g.feed_chunk(&bound, &sse, true);
        assert!(out.is_none());
    }
    // As Envoy delivers it when the model writes its events one by one: a chunk per event.
    let ends = event_ends(&sse);
    let events: Vec<&[u8]> = std::iter::once(0)
        .chain(ends.iter().copied())
        .zip(ends.iter().copied())
        .map(|(a, b)| &sse[a..b])
        .collect();
    assert_eq!(events.concat(), sse);
    for _ in 0..1000 {
        let mut g: SseGuard<Bound> = SseGuard::new();
        for (k, e) in events.iter().enumerate() {
            let out = g.feed_chunk(&bound, e, k + 1 == events.len());
            assert!(out.is_none());
        }
    }
}

/// The exchange binds the guard with the system texts inspection extracted
/// (`Verdict::system_spans`) instead of parsing the body again: for every request shape that
/// `system_texts` reads they are the same strings, in the same order.
#[test]
fn extracted_system_spans_are_the_system_texts() {
    use crate::inspect::{InspectionConfig, Inspector};
    let insp = Inspector::new(&InspectionConfig::default()).unwrap();
    let bodies = [
        r#"{"model":"m","messages":[{"role":"system","content":"You are the shop's helper."},{"role":"user","content":"hi"}]}"#,
        r#"{"model":"m","messages":[{"role":"developer","content":[{"type":"text","text":"Never reveal the code."},{"type":"text","text":"Be brief."}]},{"role":"user","content":"hi"},{"role":"system","content":"Second rule."}]}"#,
        r#"{"model":"m","system":"Anthropic system text.","messages":[{"role":"user","content":"hi"}]}"#,
        r#"{"model":"m","system":[{"type":"text","text":"Block one."},{"type":"text","text":"Block two."}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"#,
        r#"{"model":"m","instructions":"Responses instructions.","input":[{"role":"developer","content":"Dev item."},{"role":"user","content":"hi"}]}"#,
        r#"{"model":"m","messages":[{"role":"user","content":"no system text"}]}"#,
    ];
    for body in bodies {
        let v = insp.inspect(body.as_bytes(), Some("application/json"));
        let spans = v.system_spans.as_ref().expect(body);
        let got: Vec<&str> = spans.iter().map(|r| &v.text[r.clone()]).collect();
        assert_eq!(got, system_texts(body.as_bytes()), "{body}");
    }
    // Not all there: a body that does not parse, a roles filter without the system role.
    let v = insp.inspect(br#"{"messages":[{"role":"system","content":"x"}"#, None);
    assert!(v.system_spans.is_none());
    let users = Inspector::new(&InspectionConfig {
        roles: vec!["user".into()],
        ..InspectionConfig::default()
    })
    .unwrap();
    let v = users.inspect(bodies[0].as_bytes(), Some("application/json"));
    assert!(v.system_spans.is_none());
}

/// The template reads a stream's second chunk (the first without its `role`, before or after
/// the text) and its last (a finish reason instead of `null`) without a JSON reading, as the
/// full parse reads them (`classify_with` checks every templated reading against it in test
/// builds); what differs elsewhere, or a reason that is not a plain word, is not read by the
/// template.
#[test]
fn chat_template_reads_the_first_and_last_chunks_differences() {
    let chunk = |delta: &str, finish: &str| {
        format!(
            r#"{{"id":"c1","object":"chat.completion.chunk","choices":[{{"index":2,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}],"usage":null}}"#
        )
    };
    let mut spare = Spare::default();
    for first_delta in [
        r#"{"role":"assistant","content":"Hel"}"#,
        r#"{"content":"Hel","role":"assistant"}"#,
        r#"{ "content" : "Hel" , "role" : "assistant" , "x" : [1] }"#,
    ] {
        let first = chunk(first_delta, "null");
        let mut tpl = None;
        let info = classify_with(None, first.as_bytes(), &mut tpl, &mut spare);
        assert_eq!(info.parts.len(), 1);
        let t = tpl.as_ref().expect("a template");
        assert!(t.role.is_some() && t.finish.is_some(), "{first}");
        let (key, loc, _) = t.info.parts[0];
        // Read by the template: its text stays the first chunk's, its role is dropped.
        let second_delta = first_delta
            .replace(r#""role":"assistant","#, "")
            .replace(r#","role":"assistant""#, "")
            .replace(r#" , "role" : "assistant""#, "")
            .replace("Hel", "lo ");
        let second = chunk(&second_delta, "null");
        let t = tpl.as_mut().unwrap();
        let info = t
            .read(second.as_bytes(), &mut spare)
            .unwrap_or_else(|| panic!("not read by the template: {second}"));
        assert_eq!(info.parts, vec![(key, loc, "lo ".to_string())]);
        assert!(info.ends_choices.is_empty());
        assert!(t.role.is_none());
        assert_eq!(&t.data[t.start..t.end], b"Hel");
        assert_eq!(info, classify_parsed(None, second.as_bytes()));
        let last_delta = second_delta.replace("lo ", "there");
        for reason in ["\"stop\"", "\"length\"", "\"content_filter\""] {
            let last = chunk(&last_delta, reason);
            let info = t
                .read(last.as_bytes(), &mut spare)
                .expect("read by the template");
            assert_eq!(info.ends_choices, vec![2]);
            assert_eq!(info, classify_parsed(None, last.as_bytes()));
        }
        // A stream of two chunks: the last has no role and a reason.
        let mut tpl = None;
        let _ = classify_with(None, first.as_bytes(), &mut tpl, &mut spare);
        let last = chunk(&last_delta, "\"stop\"");
        let info = tpl.as_mut().unwrap().read(last.as_bytes(), &mut spare);
        assert_eq!(info, Some(classify_parsed(None, last.as_bytes())), "{last}");
        // Not the template's: a reason in another shape, an escape, another role, other bytes.
        let t = tpl.as_mut().unwrap();
        for other in [
            chunk(&last_delta, "\"st\\u006fp\""),
            chunk(&last_delta, "\"a b\""),
            chunk(&last_delta, "\"\""),
            chunk(&last_delta, "7"),
            chunk(&first_delta.replace("assistant", "user"), "null"),
            chunk(&first_delta.replace("Hel", "th\\\"ere"), "null"),
            chunk(&first_delta.replace("Hel", ""), "\"stop\""),
            chunk(&second_delta.replace("lo ", ""), "\"stop\""),
        ] {
            assert!(t.read(other.as_bytes(), &mut spare).is_none(), "{other}");
        }
    }
    // A role not next to the text, or a reason before it, is not left out or read as a word.
    let mut tpl = None;
    let odd = r#"{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","x":1,"content":"a","y":2,"role":"assistant"}}]}"#;
    let _ = classify_with(None, odd.as_bytes(), &mut tpl, &mut spare);
    let t = tpl.as_ref().unwrap();
    assert!(t.role.is_none() && t.finish.is_none());
    // Two choices: no finish reason read as a word.
    let mut tpl = None;
    let two = r#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null},{"index":1,"delta":{},"finish_reason":null}]}"#;
    let _ = classify_with(None, two.as_bytes(), &mut tpl, &mut spare);
    assert!(tpl.as_ref().unwrap().finish.is_none());
}

/// `event_ends` (which takes a blank line right after a line without searching for it) finds
/// what a plain line-by-line search finds, over every string of `a`, `\n` and `\r` up to 9
/// bytes.
#[test]
fn event_ends_agrees_with_a_line_search() {
    fn reference(buf: &[u8]) -> Vec<usize> {
        let mut ends = Vec::new();
        let mut i = 0;
        let mut line_empty = true;
        while i < buf.len() {
            let Some(at) = buf[i..].iter().position(|&c| c == b'\n' || c == b'\r') else {
                break;
            };
            if at > 0 {
                line_empty = false;
            }
            let b = buf[i + at];
            i += at + 1;
            if b == b'\r' {
                match buf.get(i) {
                    Some(b'\n') => i += 1,
                    None => break,
                    _ => {}
                }
            }
            if line_empty {
                ends.push(i);
            }
            line_empty = true;
        }
        ends
    }
    let alphabet = [b'a', b'\n', b'\r'];
    let mut buf = Vec::new();
    for len in 0..=9u32 {
        for mut code in 0..3usize.pow(len) {
            buf.clear();
            for _ in 0..len {
                buf.push(alphabet[code % 3]);
                code /= 3;
            }
            assert_eq!(event_ends(&buf), reference(&buf), "{buf:?}");
        }
    }
}

/// `same_bytes` is `==` at every length around its word sizes, with a difference at every place.
#[test]
fn same_bytes_is_equality() {
    for n in 0..70usize {
        let a: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
        assert!(same_bytes(&a, &a.clone()));
        for k in 0..n {
            let mut b = a.clone();
            b[k] ^= 0x20;
            assert!(!same_bytes(&a, &b), "{n} {k}");
        }
        assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0);
    }
}

/// One framing per stream (issue 19, 2026-12-04): the usage reader, fed a chunk with the events
/// the guard read as plain chat chunks passed (`usage_quiet_events`), finds what it finds
/// reading every byte, at every cut: streams with a usage chunk, a usage object in every chunk
/// (nothing may be passed), texts that spell `usage` or `model`, `\r\n` line ends, a model
/// only in later chunks. `feed_passing` checks in test builds that each passed event would
/// have left the reader as it was.
#[test]
fn usage_reader_reads_the_same_with_plain_events_passed() {
    use crate::usage::SseUsageReader;
    let chunk = |model: &str, text: &str, usage: &str| {
        let model = if model.is_empty() {
            String::new()
        } else {
            format!(r#""model":"{model}","#)
        };
        format!(
            r#"data: {{"id":"c1","object":"chat.completion.chunk",{model}"choices":[{{"index":0,"delta":{{"content":"{text}"}},"finish_reason":null}}],"usage":{usage}}}"#
        ) + "\n\n"
    };
    let usage_chunk = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":9,\"total_tokens\":16}}\n\n";
    let texts = ["Hel", "lo ", "usage", "model", "usage\\\"", " x", "y ", "z"];
    let mut streams: Vec<String> = Vec::new();
    let plain: String = texts.iter().map(|t| chunk("m", t, "null")).collect();
    streams.push(plain.clone() + usage_chunk + "data: [DONE]\n\n");
    streams.push(plain.replace("\n\n", "\r\n\r\n") + usage_chunk + "data: [DONE]\n\n");
    streams.push(
        texts
            .iter()
            .map(|t| chunk("m", t, r#"{"prompt_tokens":1,"completion_tokens":2}"#))
            .collect::<String>()
            + "data: [DONE]\n\n",
    );
    streams.push(
        texts[..3]
            .iter()
            .map(|t| chunk("", t, "null"))
            .collect::<String>()
            + &texts[3..]
                .iter()
                .map(|t| chunk("m2", t, "null"))
                .collect::<String>()
            + usage_chunk,
    );
    // A first chunk read whole hands its model over (`usage_model`); first chunks whose model
    // the reader would not take as it stands: `model` or `usage` twice (its parse fails), an
    // empty, numeric or too long model, no model.
    let long = "x".repeat(crate::usage::MAX_MODEL_BYTES + 1);
    let delta = r#""choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]"#;
    for head in [
        r#""model":"m0","#.to_string(),
        r#""model":"m0","model":"m1","#.to_string(),
        r#""usage":null,"model":"m0","usage":null,"#.to_string(),
        r#""model":"","#.to_string(),
        r#""model":7,"#.to_string(),
        format!(r#""model":"{long}","#),
        String::new(),
    ] {
        streams.push(
            format!("data: {{\"id\":\"c1\",{head}{delta}}}\n\n")
                + &plain
                + usage_chunk
                + "data: [DONE]\n\n",
        );
    }
    let (mut passed, mut models) = (0, 0);
    for s in &streams {
        let b = s.as_bytes();
        let mut whole = SseUsageReader::default();
        whole.feed(b);
        let want = (whole.finish(), whole.skipped_lines());
        let mut cut_sets: Vec<Vec<usize>> = (0..=b.len()).step_by(7).map(|i| vec![i]).collect();
        cut_sets.push(event_ends(b));
        cut_sets.push(vec![]);
        for cuts in &cut_sets {
            let mut g: SseGuard<Fake> = SseGuard::new();
            let mut r = SseUsageReader::default();
            let points: Vec<usize> = cuts.iter().copied().chain([b.len()]).collect();
            let mut from = 0;
            for (k, &to) in points.iter().enumerate() {
                let c = &b[from..to];
                let _ = g.feed_chunk(&Fake, c, k + 1 == points.len());
                passed += g.usage_quiet_events().len();
                models += usize::from(g.usage_model().is_some());
                r.feed_passing_model(c, g.usage_quiet_events(), g.usage_model());
                from = to;
            }
            assert_eq!(
                (r.finish(), r.skipped_lines()),
                want,
                "{s:?} cut at {cuts:?}"
            );
        }
    }
    assert!(passed > 0, "no event was passed");
    assert!(models > 0, "no model was handed over");
}

/// A chunk with the template chunk's bytes up to its `choices` key is read from that key on
/// (issue 19, 2026-12-04) and reads as the full parse reads it (`classify_with` checks each
/// quick reading against it in test builds): the usage chunk, empty or two choices, a
/// duplicate `choices`, fields after it the full parse reads, escapes, broken JSON.
#[test]
fn chunks_sharing_the_templates_head_are_read_from_choices() {
    let head = r#"{"id":"c1","object":"chat.completion.chunk","created":17,"model":"m","system_fingerprint":"fp","#;
    let first = format!(
        r#"{head}"choices":[{{"index":0,"delta":{{"role":"assistant","content":"Hel"}},"logprobs":null,"finish_reason":null}}],"usage":null}}"#
    );
    let tails = [
        r#""choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9,"total_tokens":16}}"#,
        r#""choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
        r#""choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null},{"index":1,"delta":{"content":"b"},"finish_reason":null}]}"#,
        r#""choices":[],"choices":[{"index":0,"delta":{"content":"x"}}]}"#,
        r#""choices":[{"index":0,"delta":{"content":"x"}}],"type":"response.output_text.delta","delta":"y"}"#,
        r#""choices":[{"index":0,"delta":{"content":"x\"y\u00e9"}}],"usage":null}"#,
        r#""choices":[{"index":0,"delta":{"content":"x"}}],"usage":null"#,
        r#""choices":[{"index":0,"delta":{"content":"x"}}]} trailing"#,
        r#""usage":{"a":1},"choices":[{"index":2,"delta":{"content":"late"}}]}"#,
        r#""choices":[{"index":0,"delta":{"content":"caf\u00e9"},"obfuscation":"abc"}]}"#,
        // An empty top-level choices list reads as nothing, whatever follows it (2026-12-04).
        r#""choices":[]}"#,
        r#""choices":[],"type":"message_stop","delta":{"type":"text_delta","text":"x"}}"#,
        r#""choices":[],"usage":{"prompt_tokens":7"#,
        r#""choices":[]} trailing"#,
        r#""choices":[],"choices":null}"#,
        r#""choices":[ ],"usage":null}"#,
    ];
    let mut spare = Spare::default();
    for tail in tails {
        let data = format!("{head}{tail}");
        let mut tpl = None;
        classify_with(None, first.as_bytes(), &mut tpl, &mut spare);
        let t = tpl.as_ref().expect("a template");
        assert_eq!(
            t.choices_prefix(data.as_bytes()),
            Some(head.len()),
            "{data}"
        );
        let got = classify_with(None, data.as_bytes(), &mut tpl, &mut spare);
        assert_eq!(got, classify_parsed(None, data.as_bytes()), "{data}");
    }
}

/// OpenAI's streams as they are sent (issue 19, 2026-12-04): a first chunk with the role, an
/// empty content and `"refusal":null`; every chunk with `"usage":null` and a top-level
/// `obfuscation` padding of random length; a last chunk with an empty delta and the finish
/// reason; the usage chunk; `[DONE]`. The chunks after the first text are read by its
/// template (in a run, each handed to the usage reader), the last by the template without
/// its content member; every reading is the full parse's (checked in test builds), the
/// stream passes byte for byte, runs read as single events do at every cut, and the usage
/// reader finds what reading every event finds. Paddings the template cannot vouch for (an
/// escape, non-ASCII) are read without it.
#[test]
fn openai_streams_with_padding_are_read_by_the_template() {
    use crate::usage::SseUsageReader;
    let head = r#"{"id":"chatcmpl-C1","object":"chat.completion.chunk","created":1764633600,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_1","choices":["#;
    let pads = [
        "Xb",
        "",
        "q7ZrK2mN",
        "usage",
        "a b-c_d.e~!",
        "0",
        "model",
        "zzzzzzzzzzzzzzzzzzzz",
    ];
    let texts = [
        "Hello", " there", ",", " how", " are", " you", " today", "?",
    ];
    let stream = |pads: &[&str]| -> String {
        let pad = |i: usize| pads[i % pads.len()];
        let mut s = format!(
            "data: {head}{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null,\"obfuscation\":\"{}\"}}\n\n",
            pad(0)
        );
        for (i, t) in texts.iter().enumerate() {
            s.push_str(&format!(
                "data: {head}{{\"index\":0,\"delta\":{{\"content\":\"{t}\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null,\"obfuscation\":\"{}\"}}\n\n",
                pad(i + 1)
            ));
        }
        s.push_str(&format!(
            "data: {head}{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":null,\"obfuscation\":\"{}\"}}\n\n",
            pad(texts.len() + 1)
        ));
        s.push_str(&format!(
            "data: {head}],\"usage\":{{\"prompt_tokens\":19,\"completion_tokens\":8,\"total_tokens\":27,\"prompt_tokens_details\":{{\"cached_tokens\":0,\"audio_tokens\":0}}}},\"obfuscation\":\"{}\"}}\n\n",
            pad(texts.len() + 2)
        ));
        s + "data: [DONE]\n\n"
    };
    let mut spare = Spare::default();
    for (pads, vouched) in [
        (&pads[..], true),
        (&["p\\\"q", "r\\u0041"][..], false),
        (&["caf\u{e9}", "x\u{4e2d}"][..], false),
    ] {
        let s = stream(pads);
        let b = s.as_bytes();
        // The first chunk: read quickly (no full parse) unless its padding has an escape.
        let ends = event_ends(b);
        let first = &b[6..ends[0] - 2];
        assert_eq!(
            quick::chat_chunk(first).is_some(),
            !pads[0].contains('\\'),
            "{s}"
        );
        // Event by event: every plain chunk and the last one read by the template.
        let mut tpl = None;
        for w in ends.windows(2).take(texts.len() + 1) {
            let data = &b[w[0] + 6..w[1] - 2];
            let by_template = tpl
                .as_mut()
                .and_then(|t: &mut ChatTemplate| t.read(data, &mut spare));
            assert_eq!(
                by_template.is_some(),
                vouched && tpl.is_some(),
                "{}",
                String::from_utf8_lossy(data)
            );
            classify_with(None, data, &mut tpl, &mut spare);
        }
        // Whole: passes unchanged, in a run, every event after the first text's handed over.
        let mut g: SseGuard<Fake> = SseGuard::new();
        let out = g.feed(&Fake, b, true);
        assert_eq!(String::from_utf8_lossy(&out), s);
        assert_eq!(g.report().text_events, texts.len() as u64);
        if vouched {
            assert!(g.runs_taken > 0);
            // The first chunk too, read whole: its model is handed over with it.
            assert_eq!(
                g.usage_model().map(|m| m.1),
                Some("gpt-4o-mini-2024-07-18"),
                "{s}"
            );
            assert_eq!(g.usage_quiet_events().len(), texts.len(), "{s}");
        }
        let mut cut_sets: Vec<Vec<usize>> = (0..=b.len()).step_by(11).map(|i| vec![i]).collect();
        cut_sets.push(ends.clone());
        cut_sets.push(vec![]);
        let mut whole = SseUsageReader::default();
        whole.feed(b);
        let want = whole.finish();
        assert_eq!(want.as_ref().map(|u| u.output_tokens), Some(8));
        for cuts in &cut_sets {
            same_readings(&Fake, b, cuts, &format!("{pads:?} cuts {cuts:?}"));
            let mut g: SseGuard<Fake> = SseGuard::new();
            let mut r = SseUsageReader::default();
            let points: Vec<usize> = cuts.iter().copied().chain([b.len()]).collect();
            let mut from = 0;
            for (k, &to) in points.iter().enumerate() {
                let c = &b[from..to];
                let _ = g.feed_chunk(&Fake, c, k + 1 == points.len());
                r.feed_passing_model(c, g.usage_quiet_events(), g.usage_model());
                from = to;
            }
            assert_eq!(r.finish(), want, "{pads:?} cut at {cuts:?}");
        }
    }
    // The quick reader takes a `null` refusal or reasoning, nothing else of them.
    for (delta, quick_read) in [
        (r#"{"content":"a","refusal":null}"#, true),
        (
            r#"{"reasoning_content":null,"reasoning":null,"content":"a"}"#,
            true,
        ),
        (r#"{"content":"a","refusal":"no"}"#, false),
        (r#"{"content":"a","refusal":null,"refusal":null}"#, false),
        (r#"{"content":"a","refusal":""}"#, false),
    ] {
        let c = format!(r#"{{"choices":[{{"index":0,"delta":{delta},"finish_reason":null}}]}}"#);
        let q = quick::chat_chunk(c.as_bytes());
        assert_eq!(q.is_some(), quick_read, "{c}");
        if let Some(info) = q {
            assert_eq!(info, classify_parsed(None, c.as_bytes()), "{c}");
        }
    }
    // A second padding member, or one before the text, is not a padding the template varies.
    for chunk in [
        r#"{"obfuscation":"ab","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}],"obfuscation":"ab","obfuscation":"cd"}"#,
    ] {
        let mut tpl = None;
        classify_with(None, chunk.as_bytes(), &mut tpl, &mut spare);
        let t = tpl.as_mut().expect("a template");
        assert!(t.pad.is_none(), "{chunk}");
        let other = chunk.replacen("\"ab\"", "\"xy\"", 1);
        assert!(t.read(other.as_bytes(), &mut spare).is_none(), "{other}");
    }
}

/// A guard made after others were dropped on the same thread (their emptied buffers kept for
/// it, 2026-12-04) reads a stream exactly as the first guard of a fresh thread does, whatever
/// the dropped ones held: a template, queued events, a partial event, a rewritten stream.
#[test]
fn a_guard_after_dropped_ones_reads_as_a_fresh_one() {
    fn read(s: &str, cuts: &[usize]) -> String {
        let mut g: SseGuard<Fake> = SseGuard::new();
        let mut out = String::new();
        let mut from = 0;
        let points: Vec<usize> = cuts.iter().copied().chain([s.len()]).collect();
        for (k, &to) in points.iter().enumerate() {
            let c = g.feed(&Fake, &s.as_bytes()[from..to], k + 1 == points.len());
            out.push_str(&String::from_utf8_lossy(&c));
            out.push_str(&format!(" | {:?}\n", g.usage_quiet_events()));
            from = to;
        }
        let r = g.report();
        format!(
            "{out}{:?} {} {} {} {}",
            r.hits, r.blocked, r.rewritten, r.text_events, g.runs_taken
        )
    }
    let b = chat_stream(&[
        "Hello", " there", " how", " are", " you", " SEC", "RET", " ok",
    ]);
    let cuts = [b.len() / 3, b.len() / 2];
    let fresh = {
        let b = b.clone();
        std::thread::spawn(move || read(&b, &cuts)).join().unwrap()
    };
    // Not blocked, rewritten (the key is redacted across events).
    assert!(fresh.contains("] false true 8 "), "{fresh}");
    for a in [
        chat_stream(&["Your key is ", "SEC", "RET", ", keep", " it"]),
        chat_stream(&["a", "b", "c", "d"]),
        anthropic_stream(&["x", "y"]),
    ] {
        for cut in [a.len() / 2 + 3, a.len() - 5, a.len()] {
            let mut g: SseGuard<Fake> = SseGuard::new();
            let _ = g.feed(&Fake, &a.as_bytes()[..cut], false);
            drop(g);
            assert_eq!(read(&b, &cuts), fresh, "after {cut} bytes of {a}");
        }
    }
}

/// A native profile of one short stream as the bench's mock model sends it (16 tokens, sorted
/// keys, the usage chunk, `[DONE]`), delivered in one chunk, through what the exchange runs:
/// `PG_SSE_PROFILE=off` the usage reader alone, otherwise the guard and the reader it hands the
/// rest to; `PG_GUARD_CFG` replaces guard.json's `response_guard` (JSON) to time one detector
/// at a time. Ignored: run it under `perf record` (`cargo test --release --lib -- --ignored
/// sse_short_stream_profile`).
#[test]
#[ignore]
fn sse_short_stream_profile() {
    use crate::usage::SseUsageReader;
    let cfg: crate::config::Config = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bench/configs/guard.json"
    )))
    .expect("guard.json");
    let mut gc = cfg.response_guard.clone().expect("response_guard");
    if let Ok(v) = std::env::var("PG_GUARD_CFG") {
        gc = serde_json::from_str(&v).unwrap();
    }
    let guard = Guard::new(&gc).unwrap();
    let body = br#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"system","content":"You are a helpful assistant for a garden shop."},{"role":"user","content":"Say hello"}]}"#;
    let (_, bound) = bind_request(&guard, body, &[]);
    let sse = mock_model_stream().into_bytes();
    let off = std::env::var("PG_SSE_PROFILE").is_ok_and(|v| v == "off");
    for _ in 0..200_000 {
        let mut reader = SseUsageReader::default();
        if off {
            reader.feed(&sse);
        } else {
            let mut g: SseGuard<Bound> = SseGuard::new();
            assert!(g.feed_chunk(&bound, &sse, true).is_none());
            reader.feed_passing_model(&sse, g.usage_quiet_events(), g.usage_model());
        }
        assert_eq!(reader.finish().map(|u| u.output_tokens), Some(16));
    }
}

//! The response guard on the wire (issue 19): where the answer text sits in each API's response,
//! JSON and server-sent events, and how a guarded answer is put back together.
//!
//! The detectors live in `guard`; this module only finds the text, hands it to them and rewrites
//! what they changed. It is host-free: the exchange feeds it the body and sends what it returns.
//!
//! Text fields read (and rewritten):
//! - chat completions: `choices[i].message.content` (JSON), `choices[i].delta.content` (SSE);
//! - legacy completions: `choices[i].text` (both);
//! - Anthropic Messages: `content[j].text` of `text` blocks (JSON), `content_block_delta` events
//!   with a `text_delta` (SSE, one stream per block `index`);
//! - Responses API: `output[i].content[j].text` of `output_text` parts (JSON),
//!   `response.output_text.delta` events (SSE, one stream per `output_index`/`content_index`).
//!   The events that repeat the whole text (`response.output_text.done`, `.content_part.done`,
//!   `.output_item.done`, `response.completed`/`.incomplete`/`.failed`) are rewritten with the
//!   whole text scanned again, so a redacted value does not come back in the summary.
//!
//! Streams: a body chunk is any slice of the stream; events are framed across chunks. The text of
//! each stream (choice, block, output part) goes through its own stream scanner, which releases
//! text it has cleared and holds back at most `hold_back_bytes`. An event leaves once all of its
//! text has been released; events keep their order. While a stream's released text is exactly
//! what came in, events leave byte for byte as the model sent them (a benign answer is unchanged);
//! once it differs (a redaction, a restored placeholder), that stream's events are rewritten with
//! the released text, and text released with no event left to carry it goes out in an event
//! modelled on the stream's last one. A block ends the stream: an error event, `data: [DONE]`, and
//! nothing after it.

use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::rc::Rc;

/// One detector hit, with stable names (metric labels, audit fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub detector: &'static str,
    pub kind: &'static str,
    pub action: &'static str,
}

/// What a scan returned: the text to send (the whole text, or for a stream the text released now),
/// whether the answer must be blocked, and the hits.
#[derive(Debug, Clone, Default)]
pub struct Scanned {
    pub text: String,
    pub blocked: bool,
    pub hits: Vec<Hit>,
}

/// One stream's scanner (a choice, a content block, an output part).
pub trait StreamScan {
    fn push(&mut self, delta: &str) -> Scanned;
    fn finish(&mut self) -> Scanned;
    /// As `push`, writing the released text into `buf` (emptied first; its allocation is reused).
    fn push_into(&mut self, delta: &str, buf: String) -> Scanned {
        let _ = buf;
        self.push(delta)
    }
    /// A copy of the scanner to go back to: [`SseGuard`] scans a run of plain events in one
    /// push and goes back to read them one by one when that push changed or blocked anything.
    /// `None` (the default): no copy, runs are not read ahead.
    fn checkpoint(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// The detectors, as the wire code needs them: a whole text, or a new stream scanner.
pub trait Scanners {
    type Stream: StreamScan;
    fn scan(&self, text: &str) -> Scanned;
    fn stream(&self) -> Self::Stream;
}

/// The message of a blocked answer.
pub const BLOCK_MESSAGE: &str = "The answer was withheld by the gateway's output guard.";
/// The error `code` of a blocked answer.
pub const BLOCK_CODE: &str = "response_blocked";

/// Which API a document or event belongs to (for the block reply's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Unknown,
    Chat,
    Completions,
    Anthropic,
    Responses,
}

/// The result of guarding a whole (non-streamed) JSON answer.
#[derive(Debug, Default)]
pub struct JsonOutcome {
    /// The body to send instead, when a text changed (redaction, restore). `None`: unchanged.
    pub body: Option<Vec<u8>>,
    pub blocked: bool,
    pub hits: Vec<Hit>,
    pub shape: Shape,
    /// Text fields scanned.
    pub texts: usize,
}

/// Which API a whole answer document is.
fn doc_shape(v: &Value) -> Shape {
    let Some(obj) = v.as_object() else {
        return Shape::Unknown;
    };
    if let Some(choices) = obj.get("choices").and_then(Value::as_array) {
        // A chat answer may carry only tool calls (`content: null`).
        if choices
            .iter()
            .any(|c| c.get("message").is_some_and(Value::is_object))
        {
            return Shape::Chat;
        }
        if choices
            .iter()
            .any(|c| c.get("text").is_some_and(Value::is_string))
        {
            return Shape::Completions;
        }
        return Shape::Unknown;
    }
    match (
        obj.get("type").and_then(Value::as_str),
        obj.get("object").and_then(Value::as_str),
    ) {
        (Some("message"), _) => Shape::Anthropic,
        (_, Some("response")) => Shape::Responses,
        _ => Shape::Unknown,
    }
}

/// Every string inside `v` (a tool call's structured `input`), mutable.
fn string_leaves<'a>(v: &'a mut Value, out: &mut Vec<&'a mut String>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter_mut().for_each(|x| string_leaves(x, out)),
        Value::Object(m) => m.values_mut().for_each(|x| string_leaves(x, out)),
        _ => {}
    }
}

fn push_str<'a>(v: Option<&'a mut Value>, out: &mut Vec<&'a mut String>) {
    if let Some(Value::String(t)) = v {
        out.push(t);
    }
}

/// Mutable references to the answer texts of a parsed response document. `all`: also what the
/// model says besides its answer text (tool-call arguments, refusals, reasoning / thinking);
/// otherwise only the answer text (what a refusal-shaped block reply replaces).
fn texts_mut(v: &mut Value, all: bool) -> (Shape, Vec<&mut String>) {
    let shape = doc_shape(v);
    let mut out = Vec::new();
    match shape {
        Shape::Chat | Shape::Completions => {
            if let Some(Value::Array(choices)) = v.get_mut("choices") {
                for c in choices.iter_mut() {
                    if shape == Shape::Completions {
                        push_str(c.get_mut("text"), &mut out);
                        continue;
                    }
                    let Some(Value::Object(m)) = c.get_mut("message") else {
                        continue;
                    };
                    for (k, f) in m.iter_mut() {
                        match k.as_str() {
                            "content" => push_str(Some(f), &mut out),
                            "refusal" | "reasoning_content" | "reasoning" if all => {
                                push_str(Some(f), &mut out)
                            }
                            "function_call" if all => push_str(f.get_mut("arguments"), &mut out),
                            "tool_calls" if all => {
                                if let Value::Array(calls) = f {
                                    for call in calls.iter_mut() {
                                        push_str(
                                            call.get_mut("function")
                                                .and_then(|f| f.get_mut("arguments")),
                                            &mut out,
                                        );
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        Shape::Anthropic => {
            if let Some(Value::Array(blocks)) = v.get_mut("content") {
                for b in blocks.iter_mut() {
                    let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
                    match kind {
                        "text" => push_str(b.get_mut("text"), &mut out),
                        "thinking" if all => push_str(b.get_mut("thinking"), &mut out),
                        "tool_use" | "server_tool_use" if all => {
                            if let Some(input) = b.get_mut("input") {
                                string_leaves(input, &mut out);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        Shape::Responses => {
            if let Some(Value::Array(items)) = v.get_mut("output") {
                responses_output_texts(items, all, &mut out);
            }
        }
        Shape::Unknown => {}
    }
    (shape, out)
}

/// The texts of the Responses API's `output` items: `output_text` parts (`all`: also `refusal`
/// parts, function-call `arguments`, custom tool `input`, reasoning summaries and text).
fn responses_output_texts<'a>(items: &'a mut [Value], all: bool, out: &mut Vec<&'a mut String>) {
    for item in items.iter_mut() {
        let Some(m) = item.as_object_mut() else {
            continue;
        };
        let kind = m
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        for (k, f) in m.iter_mut() {
            match (kind.as_str(), k.as_str()) {
                ("function_call", "arguments") | ("custom_tool_call", "input") if all => {
                    push_str(Some(f), out)
                }
                (_, "content") | ("reasoning", "summary") => {
                    if let Value::Array(parts) = f {
                        for p in parts.iter_mut() {
                            responses_part_text(p, all, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The text of one Responses API content part (`output_text`; `all`: also `refusal`,
/// `summary_text`, `reasoning_text`).
fn responses_part_text<'a>(p: &'a mut Value, all: bool, out: &mut Vec<&'a mut String>) {
    match p.get("type").and_then(Value::as_str) {
        Some("output_text") => push_str(p.get_mut("text"), out),
        Some("refusal") if all => push_str(p.get_mut("refusal"), out),
        Some("summary_text" | "reasoning_text") if all => push_str(p.get_mut("text"), out),
        _ => {}
    }
}

/// Guards a whole JSON answer. A body that is not JSON, or has no answer text, is left alone.
pub fn guard_json<S: Scanners>(body: &[u8], scanners: &S) -> JsonOutcome {
    let mut out = JsonOutcome::default();
    let Ok(mut doc) = serde_json::from_slice::<Value>(body) else {
        return out;
    };
    let (shape, texts) = texts_mut(&mut doc, true);
    out.shape = shape;
    out.texts = texts.len();
    let mut changed = false;
    for t in texts {
        let s = scanners.scan(t);
        out.hits.extend(s.hits);
        if s.blocked {
            out.blocked = true;
        }
        if s.text != *t {
            *t = s.text;
            changed = true;
        }
    }
    if changed && !out.blocked {
        out.body = serde_json::to_vec(&doc).ok();
    }
    out
}

/// The OpenAI-style error body of a blocked answer.
pub fn block_error_body(detectors: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "error": {
            "message": format!("{BLOCK_MESSAGE} ({detectors})"),
            "type": "content_filter",
            "param": null,
            "code": BLOCK_CODE,
        }
    }))
    .unwrap_or_default()
}

/// A 200 answer of the API's own shape that says the answer was withheld: every text replaced by
/// the block message, the finish reason `content_filter` (Anthropic: `stop_reason: "refusal"`).
/// `None` when the body is not an answer of a known shape.
pub fn refusal_body(body: &[u8]) -> Option<Vec<u8>> {
    let mut doc = serde_json::from_slice::<Value>(body).ok()?;
    let (shape, texts) = texts_mut(&mut doc, false);
    if shape == Shape::Unknown {
        return None;
    }
    for t in texts {
        *t = BLOCK_MESSAGE.to_string();
    }
    let obj = doc.as_object_mut()?;
    // Nothing else the model said (tool calls, reasoning) may stay in the reply.
    match shape {
        Shape::Chat | Shape::Completions => {
            if let Some(Value::Array(choices)) = obj.get_mut("choices") {
                for c in choices.iter_mut().filter_map(Value::as_object_mut) {
                    c.insert("finish_reason".into(), "content_filter".into());
                    if let Some(Value::Object(m)) = c.get_mut("message") {
                        for k in [
                            "tool_calls",
                            "function_call",
                            "reasoning_content",
                            "reasoning",
                        ] {
                            m.remove(k);
                        }
                        m.insert("content".into(), BLOCK_MESSAGE.into());
                        m.insert("refusal".into(), BLOCK_MESSAGE.into());
                    }
                }
            }
        }
        Shape::Anthropic => {
            if let Some(Value::Array(blocks)) = obj.get_mut("content") {
                blocks.retain(|b| b.get("type").and_then(Value::as_str) == Some("text"));
                if blocks.is_empty() {
                    blocks.push(json!({"type": "text", "text": BLOCK_MESSAGE}));
                }
            }
            obj.insert("stop_reason".into(), "refusal".into());
        }
        Shape::Responses => {
            if let Some(Value::Array(items)) = obj.get_mut("output") {
                items.retain(|i| i.get("type").and_then(Value::as_str) == Some("message"));
                for i in items.iter_mut() {
                    if let Some(Value::Array(parts)) = i.get_mut("content") {
                        parts.retain(|p| {
                            p.get("type").and_then(Value::as_str) == Some("output_text")
                        });
                        if parts.is_empty() {
                            parts.push(json!({"type": "output_text", "text": BLOCK_MESSAGE,
                                "annotations": []}));
                        }
                    }
                }
                if items.is_empty() {
                    items.push(json!({"type": "message", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": BLOCK_MESSAGE, "annotations": []}]}));
                }
            }
            obj.insert("status".into(), "incomplete".into());
            obj.insert(
                "incomplete_details".into(),
                json!({"reason": "content_filter"}),
            );
        }
        Shape::Unknown => {}
    }
    serde_json::to_vec(&doc).ok()
}

// ---------------------------------------------------------------------------------------------
// Server-sent events.

/// Largest incomplete event held while framing; past it the rest of the stream passes unscanned
/// (and the guard says so, see [`SseGuard::unscanned`]).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// A stream of text inside the answer: kind and one or two indexes.
type Key = (u8, u32, u32);

/// Where an event's text sits, to put a new text there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    /// `choices[j].delta.content`
    ChatChoice(usize),
    /// `choices[j].text`
    CompletionChoice(usize),
    /// `choices[j].delta.tool_calls[k].function.arguments`
    ChatToolArgs(usize, usize),
    /// `choices[j].delta.refusal`
    ChatRefusal(usize),
    /// `choices[j].delta.reasoning_content` (false) or `.reasoning` (true)
    ChatReasoning(usize, bool),
    /// `delta.text`
    AnthropicDelta,
    /// `delta.thinking`
    AnthropicThinking,
    /// `delta.partial_json` (a tool call's input, as JSON text)
    AnthropicJson,
    /// `delta`
    ResponsesDelta,
}

// Stream kinds (the first member of a `Key`).
const K_CHAT: u8 = 0;
const K_COMPLETION: u8 = 1;
const K_ANTHROPIC: u8 = 2;
const K_RESP_TEXT: u8 = 3;
const K_CHAT_TOOL: u8 = 4;
const K_CHAT_REFUSAL: u8 = 5;
const K_CHAT_REASONING: u8 = 6;
const K_RESP_SUMMARY: u8 = 7;
const K_RESP_ARGS: u8 = 8;
const K_RESP_REASONING: u8 = 9;

/// Streams that belong to a choice (ended by its `finish_reason`).
fn choice_kind(k: u8) -> bool {
    matches!(
        k,
        K_CHAT | K_COMPLETION | K_CHAT_TOOL | K_CHAT_REFUSAL | K_CHAT_REASONING
    )
}

#[derive(Debug)]
struct Part {
    key: Key,
    /// Index of the key's stream.
    si: usize,
    loc: Loc,
    orig: String,
    /// Bytes of `orig` released unchanged so far.
    done: usize,
    /// Set once the stream was rewritten: the text this part carries out.
    new_text: Option<String>,
    released: bool,
}

#[derive(Debug)]
struct Queued {
    /// The event's bytes; `None` while it is the event being read (they are the caller's), copied
    /// only when it stays queued after that.
    bytes: Option<Rc<[u8]>>,
    /// Where `bytes` sit unchanged in the chunk they came in: that chunk's number (see
    /// [`SseGuard::chunks`]) and their offset in it. Released during the same call, they go
    /// out as the chunk's own bytes, so a chunk whose events all leave unchanged is passed on
    /// as it came, not rewritten with a copy of itself (issue 19, 2026-12-04: a stream in
    /// one chunk whose text the scanners held back for a while).
    from: Option<(u64, usize)>,
    parts: Vec<Part>,
    /// A whole-text summary (Responses API) to rewrite with a fresh scan.
    summary: bool,
}

impl Queued {
    fn ready(&self) -> bool {
        self.parts.iter().all(|p| p.released)
    }
}

struct StreamState<T> {
    key: Key,
    scanner: T,
    /// Text pushed and not released yet (while released text is the text that came in).
    pending: String,
    /// Released text differed from what came in: events are rewritten from now on.
    rewritten: bool,
    /// The stream's last text event (to model an event on when text is left with none): its
    /// text's location and bytes (one buffer per stream, reused).
    template: Option<Loc>,
    template_bytes: Vec<u8>,
    finished: bool,
}

/// What one stream did, for telemetry.
#[derive(Debug, Default, Clone)]
pub struct SseReport {
    pub hits: Vec<Hit>,
    pub blocked: bool,
    /// Some text was changed (redacted or restored).
    pub rewritten: bool,
    pub shape: Shape,
    /// Text events seen (an output-token proxy when the answer has no usage).
    pub text_events: u64,
}

/// Guards one server-sent-events answer (see the module docs).
pub struct SseGuard<S: Scanners> {
    frame: Vec<u8>,
    queue: VecDeque<Queued>,
    streams: Vec<StreamState<S::Stream>>,
    /// The stream was blocked (or passed the event cap): drop or pass everything after.
    ended: bool,
    unscanned: bool,
    /// An event too large to scan ends the stream with an error (instead of passing).
    fail_closed: bool,
    report: SseReport,
    /// The last chat chunk read, to read the next ones by (see [`ChatTemplate`]).
    chat_tpl: Option<ChatTemplate>,
    /// Buffers of events gone out, used again (an event's text, its parts, the released text):
    /// no allocation per event.
    spare: Spare,
    /// How many chunks were fed (the current one's number; see [`Queued::from`]).
    chunks: u64,
    /// Plain chat chunks are read in runs (`plain_run`); off only to test that runs read
    /// exactly as single events do.
    runs: bool,
    /// The events of the last chunk that the usage reader need not read (see
    /// [`usage_quiet_events`](Self::usage_quiet_events)).
    quiet: Vec<(usize, usize)>,
    /// The top-level `model` of the quiet event of the last chunk that starts at `.0`, when
    /// it is a stream's first chat chunk read whole (see [`usage_model`](Self::usage_model)).
    usage_model: Option<(usize, String)>,
    /// Runs of more than one event taken (tests check that runs are really read).
    #[cfg(test)]
    runs_taken: usize,
}

/// Emptied buffers kept for the next events (at most [`SPARE`] of each).
#[derive(Default)]
struct Spare {
    texts: Vec<String>,
    parts: Vec<Vec<Part>>,
    infos: Vec<Vec<(Key, Loc, String)>>,
    /// A run of plain events (see [`SseGuard::plain_run`]): each one's start and end, and its
    /// text's, in the buffer; and their texts in a row.
    run: Vec<[usize; 4]>,
    run_text: Vec<u8>,
    /// A template's buffers, for the next template made (see [`Kept`]).
    tpl: Option<ChatTemplate>,
}

/// The buffers of the last stream guarded on this thread, for the next one (issue 19,
/// 2026-12-04: allocating and freeing them was a good part of a short stream's cost). Only
/// emptied buffers of bounded size are kept; nothing of what they held is read again.
#[derive(Default)]
struct Kept {
    frame: Vec<u8>,
    queue: VecDeque<Queued>,
    spare: Spare,
    quiet: Vec<(usize, usize)>,
}

/// The most bytes (or entries) a kept buffer may hold room for.
const KEPT_ROOM: usize = 16 * 1024;

thread_local! {
    static KEPT: std::cell::RefCell<Option<Kept>> = const { std::cell::RefCell::new(None) };
}

const SPARE: usize = 8;

impl Spare {
    fn text(&mut self, t: &str) -> String {
        let mut s = self.texts.pop().unwrap_or_default();
        s.push_str(t);
        s
    }
    fn keep_text(&mut self, mut s: String) {
        if self.texts.len() < SPARE && s.capacity() <= 4096 {
            s.clear();
            self.texts.push(s);
        }
    }
    fn keep_parts(&mut self, mut parts: Vec<Part>) {
        for p in parts.drain(..) {
            self.keep_text(p.orig);
        }
        if self.parts.len() < SPARE && parts.capacity() <= 64 {
            self.parts.push(parts);
        }
    }
    fn keep_info(&mut self, mut v: Vec<(Key, Loc, String)>) {
        if self.infos.len() < SPARE && v.capacity() <= 64 {
            v.clear();
            self.infos.push(v);
        }
    }
}

impl<S: Scanners> Drop for SseGuard<S> {
    fn drop(&mut self) {
        let mut spare = std::mem::take(&mut self.spare);
        if spare.tpl.is_none() {
            spare.tpl = self
                .chat_tpl
                .take()
                .filter(|t| t.data.capacity() <= KEPT_ROOM);
        }
        if let Some(t) = spare.tpl.as_mut() {
            t.data.clear();
            t.info = EventInfo::default();
        }
        spare.run.clear();
        spare.run_text.clear();
        if spare.run.capacity() > KEPT_ROOM / 32 || spare.run_text.capacity() > KEPT_ROOM {
            spare.run = Vec::new();
            spare.run_text = Vec::new();
        }
        let mut kept = Kept {
            frame: std::mem::take(&mut self.frame),
            queue: std::mem::take(&mut self.queue),
            spare,
            quiet: std::mem::take(&mut self.quiet),
        };
        kept.frame.clear();
        kept.queue.clear();
        kept.quiet.clear();
        if kept.frame.capacity() > KEPT_ROOM {
            kept.frame = Vec::new();
        }
        if kept.queue.capacity() > 64 {
            kept.queue = VecDeque::new();
        }
        if kept.quiet.capacity() > KEPT_ROOM / 16 {
            kept.quiet = Vec::new();
        }
        let _ = KEPT.try_with(|k| {
            if let Ok(mut k) = k.try_borrow_mut() {
                *k = Some(kept);
            }
        });
    }
}

impl<S: Scanners> Default for SseGuard<S> {
    fn default() -> Self {
        let kept = KEPT
            .try_with(|k| k.try_borrow_mut().ok().and_then(|mut k| k.take()))
            .ok()
            .flatten()
            .unwrap_or_default();
        SseGuard {
            frame: kept.frame,
            queue: kept.queue,
            streams: Vec::new(),
            ended: false,
            unscanned: false,
            fail_closed: false,
            report: SseReport::default(),
            chat_tpl: None,
            chunks: 0,
            spare: kept.spare,
            runs: true,
            quiet: kept.quiet,
            usage_model: None,
            #[cfg(test)]
            runs_taken: 0,
        }
    }
}

/// Offsets just past each blank line (an event's end) in `buf`, which starts at an event.
#[cfg(test)]
fn event_ends(buf: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut from = 0;
    while let Some((e, _)) = next_event_end(buf, from) {
        ends.push(e);
        from = e;
    }
    ends
}

/// The offset just past the first blank line (the event's end) in `buf` from `from`, where an
/// event starts, and whether the event is one line and `\n\n` (no other line break). `None`
/// while the event is not whole.
fn next_event_end(buf: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut i = from;
    let mut line_empty = true;
    let mut first = true;
    while i < buf.len() {
        let at = memchr::memchr2(b'\n', b'\r', &buf[i..])?;
        if at > 0 {
            line_empty = false;
        }
        let b = buf[i + at];
        i += at + 1;
        if b == b'\r' {
            match buf.get(i) {
                Some(b'\n') => i += 1,
                // A `\r` at the end of the buffer may be half of `\r\n`: wait for more.
                None => return None,
                _ => {}
            }
        }
        if line_empty {
            return Some((i, false));
        }
        if buf.get(i) == Some(&b'\n') {
            // The blank line after a line (`\n\n`, `\r\n\n`): what the search would find next.
            return Some((i + 1, first && b == b'\n'));
        }
        line_empty = true;
        first = false;
    }
    None
}

/// [`parse_event`] of an event that is `line` and `\n\n` (issue 19, 2026-12-04: its framing
/// found that already, so the line is not searched for line breaks again).
fn parse_one_line(line: &[u8]) -> (Option<&[u8]>, Cow<'_, [u8]>) {
    let (field, value) = match memchr::memchr(b':', line) {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, &b""[..]),
    };
    let value = value.strip_prefix(b" ").unwrap_or(value);
    match field {
        b"event" => (Some(value), Cow::Borrowed(b"")),
        b"data" => (None, Cow::Borrowed(value)),
        _ => (None, Cow::Borrowed(b"")),
    }
}

/// The `event:` name and joined `data:` of one event (borrowed when it has one `data` line).
fn parse_event(ev: &[u8]) -> (Option<&[u8]>, Cow<'_, [u8]>) {
    let mut name = None;
    let mut data: Cow<[u8]> = Cow::Borrowed(b"");
    let mut first = true;
    for line in lines(ev) {
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &b""[..]),
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        match field {
            b"event" => name = Some(value),
            b"data" => {
                if first {
                    data = Cow::Borrowed(value);
                } else {
                    let d = data.to_mut();
                    d.push(b'\n');
                    d.extend_from_slice(value);
                }
                first = false;
            }
            _ => {}
        }
    }
    (name, data)
}

/// The pieces of `ev` between line-break bytes (`\r\n` gives an empty piece between).
fn lines(ev: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(ev);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr2(b'\n', b'\r', r) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The event with its `data` replaced by `doc` (other lines kept, `\n` line ends).
fn rebuild_event(orig: &[u8], doc: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(orig.len() + 32);
    for line in lines(orig) {
        if line.is_empty() || line.starts_with(b"data") {
            continue;
        }
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(&serde_json::to_vec(doc).unwrap_or_default());
    out.extend_from_slice(b"\n\n");
    out
}

/// What an event means for the guard.
#[derive(Debug, Clone, Default, PartialEq)]
struct EventInfo {
    parts: Vec<(Key, Loc, String)>,
    /// Streams this event ends (after its own text).
    ends: Vec<Key>,
    /// Choices whose streams this event ends (`finish_reason`).
    ends_choices: Vec<u32>,
    /// Ends every stream (`[DONE]`, `message_stop`, `response.completed`).
    ends_all: bool,
    summary: bool,
    shape: Shape,
}

// The fields of an event the guard reads, borrowed from its data where no escape forces a copy
// (a typed parse: no map of every field, no copy of what is not read).
type Str<'a> = Option<std::borrow::Cow<'a, str>>;

#[derive(serde::Deserialize, Default)]
struct Ev<'a> {
    #[serde(borrow, rename = "type")]
    kind: Str<'a>,
    #[serde(borrow)]
    choices: Option<Vec<EvChoice<'a>>>,
    #[serde(borrow)]
    delta: Option<EvDelta<'a>>,
    index: Option<u64>,
    output_index: Option<u64>,
    content_index: Option<u64>,
    summary_index: Option<u64>,
}

#[derive(serde::Deserialize, Default)]
struct EvChoice<'a> {
    index: Option<u64>,
    #[serde(borrow)]
    delta: Option<ChatDelta<'a>>,
    #[serde(borrow)]
    text: Str<'a>,
    finish_reason: Option<serde::de::IgnoredAny>,
}

#[derive(serde::Deserialize, Default)]
struct ChatDelta<'a> {
    #[serde(borrow)]
    content: Str<'a>,
    #[serde(borrow)]
    refusal: Str<'a>,
    #[serde(borrow)]
    reasoning_content: Str<'a>,
    #[serde(borrow)]
    reasoning: Str<'a>,
    #[serde(borrow)]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(serde::Deserialize, Default)]
struct ToolCallDelta<'a> {
    index: Option<u64>,
    #[serde(borrow)]
    function: Option<FnDelta<'a>>,
}

#[derive(serde::Deserialize, Default)]
struct FnDelta<'a> {
    #[serde(borrow)]
    arguments: Str<'a>,
}

/// An Anthropic `delta` object.
#[derive(serde::Deserialize, Default)]
struct BlockDelta<'a> {
    #[serde(borrow, rename = "type")]
    kind: Str<'a>,
    #[serde(borrow)]
    text: Str<'a>,
    #[serde(borrow)]
    thinking: Str<'a>,
    #[serde(borrow)]
    partial_json: Str<'a>,
}

/// `delta`: a string (Responses API) or an object (Anthropic); anything else is ignored.
enum EvDelta<'a> {
    Text(std::borrow::Cow<'a, str>),
    Block(BlockDelta<'a>),
    Other,
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for EvDelta<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = EvDelta<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(EvDelta::Text(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(EvDelta::Text(v.to_string().into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(EvDelta::Text(v.into()))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                m: M,
            ) -> Result<Self::Value, M::Error> {
                use serde::Deserialize;
                BlockDelta::deserialize(serde::de::value::MapAccessDeserializer::new(m))
                    .map(EvDelta::Block)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(EvDelta::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(EvDelta::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(EvDelta::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(EvDelta::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(EvDelta::Other)
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(
                self,
                mut s: S,
            ) -> Result<Self::Value, S::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(EvDelta::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

fn ix(n: Option<u64>) -> u32 {
    n.unwrap_or(0).min(u32::MAX as u64) as u32
}

#[cfg(test)]
fn classify(name: Option<&[u8]>, data: &[u8]) -> EventInfo {
    classify_with(name, data, &mut None, &mut Spare::default())
}

/// What `data` means, reading it as the last chat chunk with another text when it is one
/// (`tpl`, kept up to date here), else quickly, else with the full parse.
fn classify_with(
    name: Option<&[u8]>,
    data: &[u8],
    tpl: &mut Option<ChatTemplate>,
    spare: &mut Spare,
) -> EventInfo {
    if data == b"[DONE]" {
        // What the full parse says of it, without trying the template or the quick reader.
        return EventInfo {
            ends_all: true,
            ..EventInfo::default()
        };
    }
    if let Some(info) = tpl.as_mut().and_then(|t| t.read(data, spare)) {
        #[cfg(test)]
        assert_eq!(
            info,
            classify_parsed(name, data),
            "templated reading of an event differs"
        );
        return info;
    }
    let at = tpl.as_ref().and_then(|t| t.choices_prefix(data));
    if at.is_some_and(|at| data[at..].starts_with(b"\"choices\":[]")) {
        // A top-level `choices` that is `[]` (the usage chunk): the full parse reads nothing
        // else of a document with one (see `ChatTemplate::choices_prefix`), and a document it
        // cannot parse reads as nothing too (issue 19, 2026-12-04).
        let info = EventInfo::default();
        #[cfg(test)]
        assert_eq!(
            info,
            classify_parsed(name, data),
            "reading of an empty choices list differs"
        );
        return info;
    }
    let quick = match at {
        Some(at) => quick::chat_chunk_span_at(data, at),
        None => quick::chat_chunk_span(data),
    };
    if let Some((info, span)) = quick {
        // The fast reading must say what the full parse says (checked in every test build).
        #[cfg(test)]
        assert_eq!(
            info,
            classify_parsed(name, data),
            "quick reading of an event differs"
        );
        if let Some(span) = span {
            let t = tpl.get_or_insert_with(|| spare.tpl.take().unwrap_or_default());
            t.data.clear();
            t.data.extend_from_slice(data);
            (t.start, t.end) = span.text;
            t.role = span.role;
            t.finish = span.finish;
            t.choices_at = span.choices;
            t.content_key = span.content_key;
            t.pad = span.pad;
            // Read from the `choices` key on, the bytes before it are the last template's.
            t.usage_object = span.usage_object || (at.is_some() && t.usage_object);
            t.model = span.model.filter(|_| !span.usage_object);
            t.one_line = memchr::memchr2(b'\n', b'\r', data).is_none();
            t.info = info.clone();
            t.info.parts[0].2 = String::new();
            t.usage_quiet = None;
        }
        return info;
    }
    classify_parsed(name, data)
}

/// The last chat chunk read whose only text is one `choices[j].delta.content` string: its
/// data, where that string's value sits, and its reading without the text. Providers send the
/// same chunk over and over with only the text changed (the same id, model, index, nulls): data
/// with the same bytes before and after a plain string value (no quote, backslash or control
/// byte; valid UTF-8; not empty) reads as this one with that text, since a JSON reading of it
/// takes the same steps, so it is not read again.
///
/// Two more readings of a chunk differ from the template only where a stream's first and last
/// chunks differ from the others (issue 19, 2026-12-03): the template without its delta's
/// `role` member (the first chunk has one, the next ones do not: `role` is a field no reading
/// looks at, so a document without it reads the same), and the template with its choice's
/// `finish_reason` a plain word instead of `null` (the last chunk: it reads the same, and ends
/// that choice).
///
/// OpenAI's streams (issue 19, 2026-12-04) pad every chunk with a top-level `obfuscation`
/// string of random length and bytes: a padding string after the text may differ too (any
/// printable ASCII but a quote or backslash: an ignored string that reads the same). Their
/// last chunk has an empty delta (`"delta":{}`) next to the finish reason: the template
/// without its `content` member, when that is the delta's only one, reads as the template
/// with no text.
#[derive(Default)]
struct ChatTemplate {
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// The `role` member next to the text's `content` in its delta: `"role":"assistant",`
    /// from its key's quote to the `content` key's quote when it comes first,
    /// `,"role":"assistant"` from after the text's closing quote to after its value when it
    /// follows. `None` once dropped.
    role: Option<(usize, usize)>,
    /// Where the `null` of the finish reason of the chunk's only choice sits, after the text.
    finish: Option<usize>,
    /// Where the quote of the top-level `choices` key sits (see
    /// [`choices_prefix`](Self::choices_prefix)).
    choices_at: usize,
    /// `data` has no line break (so `data: ` + it is one line of an event).
    one_line: bool,
    /// Where the quote of the text's `content` key sits.
    content_key: usize,
    /// Where the value of the top-level `obfuscation` string sits (after the text), when the
    /// chunk has one.
    pad: Option<(usize, usize)>,
    /// The quick reader may have seen a key `usage` with an object value in `data` (it read an
    /// object among the values it passes over; see [`usage_quiet`](Self::usage_quiet)).
    usage_object: bool,
    /// Where the top-level `model` string of the chunk just read whole (this data) sits, until
    /// the event that read it takes it (see [`SseGuard::usage_model`]).
    model: Option<(usize, usize)>,
    info: EventInfo,
    /// Whether an SSE usage reader finds no usage object in any chunk read by this template
    /// (see [`usage_quiet`](Self::usage_quiet)); `None` until asked, and whenever `data`
    /// changes.
    usage_quiet: Option<bool>,
}

/// The longest finish reason the template reads (`content_filter`, `tool_calls`, ...).
const MAX_FINISH_WORD: usize = 32;

impl ChatTemplate {
    /// Where the text sits in `ev` when `ev` is exactly `data: `, this chunk's data with another
    /// plain text (as [`read`](Self::read) takes it), and `\n\n`: an event that reads as this
    /// one with that text. `None` for anything else. An event that is this chunk without its
    /// `role` member makes that the template's data (see [`ChatTemplate`]).
    fn plain(&mut self, ev: &[u8]) -> Option<(usize, usize)> {
        if !self.one_line {
            return None;
        }
        let data = ev.strip_prefix(b"data: ")?.strip_suffix(b"\n\n")?;
        // UTF-8 is checked by the caller, once for the run.
        let (start, end) = self.exact_span(data)?;
        Some((6 + start, 6 + end))
    }

    /// As [`plain`](Self::plain) for the event that starts `rest` (more may follow it): its
    /// length and where its text sits, found without looking for the event's end (issue 19,
    /// 2026-12-04): `data: ` and the bytes before the text, a text up to its first quote,
    /// backslash or control byte, then the bytes after the text, which start with that quote
    /// (with another padding, see [`rest_len`](Self::rest_len)), and `\n\n`. Such an event
    /// has no line break before its last two bytes, so its end is the one [`next_event_end`]
    /// finds; `None` leaves the event to `plain`.
    fn frame(&self, rest: &[u8]) -> Option<(usize, usize, usize)> {
        if !self.one_line {
            return None;
        }
        let pre = &self.data[..self.start];
        let ts = 6 + pre.len();
        let head = rest.get(..ts)?;
        if !same_bytes(&head[..6], b"data: ") || !same_bytes(&head[6..], pre) {
            return None;
        }
        let n = rest[ts..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        let te = ts + n;
        if n == 0 {
            return None;
        }
        let e = match self.pad {
            // The bytes after the text, as they are (one comparison).
            None => {
                let suf = &self.data[self.end..];
                let e = te + suf.len() + 2;
                if rest.len() < e || !same_bytes(&rest[te..e - 2], suf) {
                    return None;
                }
                e
            }
            Some(_) => te + self.rest_len(&rest[te..], self.end, false)? + 2,
        };
        (rest.len() >= e && same_bytes(&rest[e - 2..e], b"\n\n")).then_some((e, ts, te))
    }

    /// As [`text_span`](Self::text_span); or, when `data` is this chunk without its `role`
    /// member, the template loses that member first (later chunks are compared with the chunk
    /// as they send it).
    fn exact_span(&mut self, data: &[u8]) -> Option<(usize, usize)> {
        if let Some(span) = self.text_span(data) {
            return Some(span);
        }
        let t = self.roleless()?;
        let span = t.text_span(data)?;
        // This chunk without its role: the template from now on.
        self.data = t.data;
        (self.start, self.end, self.role, self.finish) = (t.start, t.end, None, t.finish);
        (self.choices_at, self.content_key, self.pad) = (t.choices_at, t.content_key, t.pad);
        self.usage_quiet = None;
        Some(span)
    }

    fn drop_role(&mut self) {
        if let Some((rs, re)) = self.role.take() {
            let shift = |x: usize| if x >= re { x - (re - rs) } else { x };
            self.data.drain(rs..re);
            self.usage_quiet = None;
            self.start = shift(self.start);
            self.end = shift(self.end);
            self.finish = self.finish.map(shift);
            self.choices_at = shift(self.choices_at);
            self.content_key = shift(self.content_key);
            self.pad = self.pad.map(|(s, e)| (shift(s), shift(e)));
        }
    }

    /// This chunk without its `role` member (its data copied; to compare with, not to read
    /// by). `None` when it has none.
    fn roleless(&self) -> Option<ChatTemplate> {
        self.role?;
        let mut t = ChatTemplate {
            data: self.data.clone(),
            start: self.start,
            end: self.end,
            role: self.role,
            finish: self.finish,
            choices_at: self.choices_at,
            content_key: self.content_key,
            pad: self.pad,
            usage_object: self.usage_object,
            ..ChatTemplate::default()
        };
        t.drop_role();
        Some(t)
    }

    /// Where the text sits in `data` when `data` is this chunk's data with another text: the
    /// same bytes before and after it (with another padding: [`rest_len`](Self::rest_len)),
    /// and no quote, backslash or control byte (a line break included) in it. UTF-8 is not
    /// checked.
    fn text_span(&self, data: &[u8]) -> Option<(usize, usize)> {
        self.span(data, false)
    }

    /// As [`text_span`](Self::text_span), with a plain word (ASCII letters, digits, `_`, `-`)
    /// as its finish reason instead of `null` when `finish` (`None` when the template has no
    /// such `null`). The text ends at its first quote, backslash or control byte: the bytes
    /// after the text start with its closing quote, so that is where any such data puts it.
    fn span(&self, data: &[u8], finish: bool) -> Option<(usize, usize)> {
        let pre = &self.data[..self.start];
        let head = pre.len();
        if data.len() <= head || !same_bytes(&data[..head], pre) {
            return None;
        }
        let n = data[head..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        let end = head + n;
        (n > 0 && self.rest_len(&data[end..], self.end, finish)? == data.len() - end)
            .then_some((head, end))
    }

    /// Whether `data` is this chunk without its text's `content` member, the delta left empty
    /// (issue 19, 2026-12-04: OpenAI's last chunk, `"delta":{}` with the finish reason), with
    /// a plain word as its finish reason when `finish`. Such a chunk reads as this one with no
    /// text. Only where `content` is the delta's only member (no `role`).
    fn textless(&self, data: &[u8], finish: bool) -> bool {
        let (ck, end) = (self.content_key, self.end);
        self.role.is_none()
            && ck > 0
            && self.data.get(ck - 1) == Some(&b'{')
            && self.data.get(end + 1) == Some(&b'}')
            && data.len() > ck
            && same_bytes(&data[..ck], &self.data[..ck])
            && self.rest_len(&data[ck..], end + 1, finish) == Some(data.len() - ck)
    }

    /// How many bytes at the start of `got` are this chunk's data from `from` to its end, with
    /// a plain word (ASCII letters, digits, `_`, `-`) in quotes in place of the finish
    /// reason's `null` when `finish`, and with any text of printable ASCII other than a quote
    /// or backslash as the value of its padding (`obfuscation`, see [`ChatTemplate`]).
    /// `None` when they are not.
    fn rest_len(&self, got: &[u8], from: usize, finish: bool) -> Option<usize> {
        let d = &self.data;
        if !finish && self.pad.is_none() {
            // The stream's plain chunks without padding: one comparison.
            let n = d.len().checked_sub(from)?;
            return (got.len() >= n && same_bytes(&got[..n], &d[from..])).then_some(n);
        }
        let (mut g, mut at) = (0, from);
        // `d[at..to]` as it is at `got[g..]`.
        let same = |g: &mut usize, at: usize, to: usize| -> Option<()> {
            let n = to - at;
            let s = got.get(*g..*g + n)?;
            *g += n;
            same_bytes(s, &d[at..to]).then_some(())
        };
        if finish {
            let f = self.finish.filter(|&f| f >= at)?;
            same(&mut g, at, f)?;
            if got.get(g) != Some(&b'"') {
                return None;
            }
            let w = got[g + 1..].iter().position(|&c| c == b'"')?;
            let word = &got[g + 1..g + 1 + w];
            if word.is_empty()
                || word.len() > MAX_FINISH_WORD
                || !word
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            {
                return None;
            }
            g += w + 2;
            at = f + 4;
        }
        if let Some((ps, pe)) = self.pad.filter(|&(ps, _)| ps >= at) {
            same(&mut g, at, ps)?;
            g += got[g..]
                .iter()
                .position(|&c| !(0x20..0x7f).contains(&c) || c == b'"' || c == b'\\')?;
            at = pe;
        }
        same(&mut g, at, d.len())?;
        Some(g)
    }

    /// Whether the usage reader (`crate::usage::SseUsageReader`) finds no usage object in the
    /// data of any chunk this template reads as plain, as it finds none in this data (issue
    /// 19, 2026-12-04). Such data is this data's bytes before the text (`pre`), a plain text
    /// other than `usage`, and this data's bytes after it (`suf`), with another padding
    /// value. The reader's test is `"usage"`, then whitespace, `:`, whitespace and `{`. The
    /// text and the padding hold no quote, so each `"usage"` of such data lies in `pre` or in
    /// `suf`, or is the text or the padding between its own quotes. One in `suf` is followed
    /// by the same bytes as here, up to the padding's opening quote at most (which stops the
    /// test: it is neither whitespace, `:` nor `{`). One in `pre` cannot end at `pre`'s last
    /// byte (the string's opening quote, after `:` or whitespace, not `e`), and what follows
    /// it is read up to that quote at most: the same bytes as here too. A padding value
    /// `usage` is followed by the bytes after a string value in this valid JSON (`,`, `}` or
    /// `]` after any whitespace), never `:` (texts `usage` are not vouched for). The quick
    /// reader that made this template saw every key of this data (a `"usage"` of data
    /// without escapes is a string `usage`, and one followed by `:` is a key) and read no
    /// object value where a key `usage` could have one (`usage_object`).
    fn usage_quiet(&mut self) -> bool {
        if let Some(q) = self.usage_quiet {
            return q;
        }
        let d = &self.data;
        let q = self.start >= 2
            && d.get(self.start - 1) == Some(&b'"')
            && d.get(self.start - 2) != Some(&b'e')
            && d.get(self.end) == Some(&b'"')
            && !self.usage_object;
        #[cfg(test)]
        assert!(!q || !crate::usage::mentions_usage_object(d));
        self.usage_quiet = Some(q);
        q
    }

    /// Where `data` reaches its top-level `choices` key with the same bytes as this chunk (the
    /// same `id`, `model`, ...): the quick reader takes them as it took them here, so it reads
    /// `data` from that key on (issue 19, 2026-12-04: a stream's other chunks, the usage
    /// chunk above all, are read from there).
    fn choices_prefix(&self, data: &[u8]) -> Option<usize> {
        let at = self.choices_at;
        (at > 0 && data.len() > at && same_bytes(&data[..at], &self.data[..at])).then_some(at)
    }

    fn read(&mut self, data: &[u8], spare: &mut Spare) -> Option<EventInfo> {
        let (key, _, _) = self.info.parts[0];
        let (start, end, finished) = match self.exact_span(data) {
            Some((s, e)) => (s, e, false),
            None => match self
                .span(data, true)
                .or_else(|| self.roleless()?.span(data, true))
            {
                Some((s, e)) => (s, e, true),
                None => {
                    // No text: a delta left empty, with or without a finish reason.
                    let finished = if self.textless(data, true) {
                        true
                    } else if self.textless(data, false) {
                        false
                    } else {
                        return None;
                    };
                    let mut ends_choices = self.info.ends_choices.clone();
                    if finished {
                        ends_choices.push(key.1);
                    }
                    return Some(EventInfo {
                        parts: spare.infos.pop().unwrap_or_default(),
                        ends: self.info.ends.clone(),
                        ends_choices,
                        ends_all: self.info.ends_all,
                        summary: self.info.summary,
                        shape: self.info.shape,
                    });
                }
            },
        };
        let text = std::str::from_utf8(&data[start..end]).ok()?;
        let (key, loc, _) = self.info.parts[0];
        let mut parts = spare.infos.pop().unwrap_or_default();
        parts.push((key, loc, spare.text(text)));
        let mut ends_choices = self.info.ends_choices.clone();
        if finished {
            // The chunk's only choice, the text's: ended by its reason.
            ends_choices.push(key.1);
        }
        Some(EventInfo {
            parts,
            ends: self.info.ends.clone(),
            ends_choices,
            ends_all: self.info.ends_all,
            summary: self.info.summary,
            shape: self.info.shape,
        })
    }
}

/// `a == b`, sixteen bytes at a time, the last sixteen overlapping the others (a slice
/// comparison is a byte loop in the module).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    let w16 = |s: &[u8], i: usize| u128::from_le_bytes(s[i..i + 16].try_into().unwrap_or([0; 16]));
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
    if n >= 16 {
        let mut i = 0;
        while i + 16 <= n {
            if w16(a, i) != w16(b, i) {
                return false;
            }
            i += 16;
        }
        return i == n || w16(a, n - 16) == w16(b, n - 16);
    }
    if n >= 8 {
        return w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// `a.starts_with(b)` by [`same_bytes`]: the released text against the held text, the whole
/// stream's text once (a `str` comparison is a byte loop in the module).
fn starts_with(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() >= b.len() && same_bytes(&a[..b.len()], b)
}

/// An ordinary chat chunk (`{"id":..,"choices":[{"index":0,"delta":{"content":".."},
/// "finish_reason":null}],..}`) read without a JSON parser: every event of a chat stream
/// otherwise costs a typed `serde_json` parse, most of the guard's cost per event.
/// Anything this reader does not know exactly (an escape in a string, a nested value other than
/// `choices` / `delta`, a field that decides something other than the content, a duplicate key,
/// a number with a fraction) gives `None`, and the event gets the full parse.
mod quick {
    use super::{EventInfo, Loc, Shape, K_CHAT};

    /// Bytes that end a string's plain run: a quote, a backslash, a control byte.
    static STRING_STOP: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 0x20 {
            t[c] = true;
            c += 1;
        }
        t[b'"' as usize] = true;
        t[b'\\' as usize] = true;
        t
    };

    struct P<'a> {
        b: &'a [u8],
        i: usize,
        /// An object value was read by [`value`](Self::value) (any key with an object value
        /// but `choices` members and their `delta`: so any `usage` key with one).
        usage_object: bool,
    }

    impl<'a> P<'a> {
        fn ws(&mut self) {
            while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Option<()> {
            self.ws();
            (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
        }
        fn peek(&mut self) -> Option<u8> {
            self.ws();
            self.b.get(self.i).copied()
        }
        /// A string without escapes or control characters (the input is valid UTF-8).
        fn string(&mut self) -> Option<&'a [u8]> {
            self.eat(b'"')?;
            let rest = &self.b[self.i..];
            // One pass to the first quote, backslash or control byte (most strings here are
            // keys of a few bytes: a search call costs more than the loop).
            let end = rest.iter().position(|&c| STRING_STOP[c as usize])?;
            if rest[end] != b'"' {
                return None;
            }
            self.i += end + 1;
            Some(&rest[..end])
        }
        /// A non-negative integer without fraction or exponent.
        fn uint(&mut self) -> Option<u64> {
            self.ws();
            let rest = &self.b[self.i..];
            let (mut n, mut v) = (0usize, 0u64);
            while let Some(&c) = rest.get(n).filter(|c| c.is_ascii_digit()) {
                if n == 18 {
                    return None;
                }
                v = v * 10 + u64::from(c - b'0');
                n += 1;
            }
            if n == 0 || (n > 1 && rest[0] == b'0') {
                return None;
            }
            if matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
                return None;
            }
            self.i += n;
            Some(v)
        }
        /// A value that is a string, an integer, `null`, `true` or `false`. `Some(true)` for null.
        fn scalar(&mut self) -> Option<bool> {
            match self.peek()? {
                b'"' => self.string().map(|_| false),
                b'-' => {
                    self.i += 1;
                    if !self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                        return None;
                    }
                    self.uint().map(|_| false)
                }
                b'0'..=b'9' => self.uint().map(|_| false),
                _ => {
                    for (lit, null) in [(&b"null"[..], true), (b"true", false), (b"false", false)] {
                        if self.b[self.i..].starts_with(lit) {
                            self.i += lit.len();
                            return Some(null);
                        }
                    }
                    None
                }
            }
        }
        /// Any value the full parse ignores (an unknown field): a scalar as [`scalar`](Self::scalar)
        /// reads it, or an object or array of such values nested at most `depth` deep. What it
        /// does not know (an escape, a fraction, deeper nesting) gives `None`.
        fn value(&mut self, depth: u8) -> Option<()> {
            match self.peek()? {
                b'{' | b'[' if depth == 0 => None,
                b'{' => {
                    // An object among the ignored values: it may be a `usage` key's.
                    self.usage_object = true;
                    self.i += 1;
                    self.members(|_, p| p.value(depth - 1))
                }
                b'[' => {
                    self.i += 1;
                    if self.peek()? == b']' {
                        self.i += 1;
                        return Some(());
                    }
                    loop {
                        self.value(depth - 1)?;
                        match self.peek()? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                return Some(());
                            }
                            _ => return None,
                        }
                    }
                }
                _ => self.scalar().map(|_| ()),
            }
        }
        /// The members of an object (`{` already read): `f(key, self)` reads each value.
        fn members(&mut self, f: impl FnMut(&'a [u8], &mut Self) -> Option<()>) -> Option<()> {
            if self.peek()? == b'}' {
                self.i += 1;
                return Some(());
            }
            self.member_list(f)
        }
        /// The members of an object from one of its keys on (at least one left).
        fn member_list(
            &mut self,
            mut f: impl FnMut(&'a [u8], &mut Self) -> Option<()>,
        ) -> Option<()> {
            loop {
                let k = self.string()?;
                self.eat(b':')?;
                f(k, self)?;
                match self.peek()? {
                    b',' => self.i += 1,
                    b'}' => {
                        self.i += 1;
                        return Some(());
                    }
                    _ => return None,
                }
            }
        }
    }

    /// How deep an ignored value may nest (`usage.prompt_tokens_details`, `logprobs.content[i]
    /// .top_logprobs[j]`); deeper ones get the full parse.
    const NEST: u8 = 6;

    /// Sets bit `bit` of `seen`; `None` when it was set (a duplicate key).
    fn once(seen: &mut u8, bit: u8) -> Option<()> {
        (*seen & bit == 0).then(|| *seen |= bit)
    }

    #[cfg(test)]
    pub(super) fn chat_chunk(data: &[u8]) -> Option<EventInfo> {
        chat_chunk_span(data).map(|(info, _)| info)
    }

    /// Where a chunk's only text sits, and what else a [`super::ChatTemplate`] made of it may
    /// leave out or read differently (see there).
    pub(super) struct Span {
        pub text: (usize, usize),
        pub role: Option<(usize, usize)>,
        pub finish: Option<usize>,
        /// The quote of the top-level `choices` key.
        pub choices: usize,
        /// The quote of the text's `content` key.
        pub content_key: usize,
        /// The value of a top-level `obfuscation` string after the text.
        pub pad: Option<(usize, usize)>,
        /// The chunk may have a key `usage` with an object value (see `P::usage_object`).
        pub usage_object: bool,
        /// The value of the top-level `model` string, when the chunk was read whole and none of
        /// the keys the usage reader reads (`model`, `usage`, `message`, `response`) comes twice.
        pub model: Option<(usize, usize)>,
    }

    /// As `chat_chunk`, with where the text's string value sits in `data` when the chunk has
    /// exactly one text.
    pub(super) fn chat_chunk_span(data: &[u8]) -> Option<(EventInfo, Option<Span>)> {
        if !data.starts_with(b"{") || std::str::from_utf8(data).is_err() {
            return None;
        }
        read_chunk(data, None)
    }

    /// As [`chat_chunk_span`] for `data` whose bytes before `at` are those of a chunk it read
    /// with a span, `at` that chunk's top-level `choices` key: a `{` and members it passes over
    /// (no `choices`, nothing it leaves to the full parse), valid UTF-8. Reading them again
    /// gives the state it resumes with here (nothing read yet), so it starts at that key.
    pub(super) fn chat_chunk_span_at(data: &[u8], at: usize) -> Option<(EventInfo, Option<Span>)> {
        if at >= data.len() || std::str::from_utf8(&data[at..]).is_err() {
            return None;
        }
        read_chunk(data, Some(at))
    }

    fn read_chunk(data: &[u8], at: Option<usize>) -> Option<(EventInfo, Option<Span>)> {
        let mut info = EventInfo {
            parts: Vec::new(),
            ends: Vec::new(),
            ends_choices: Vec::new(),
            ends_all: false,
            summary: false,
            shape: Shape::Unknown,
        };
        let mut p = P {
            b: data,
            i: at.unwrap_or(1),
            usage_object: false,
        };
        // The value of the top-level `obfuscation` string, while there is one.
        let mut pad: Option<Option<(usize, usize)>> = None;
        let mut top = 0u8;
        let mut span = None;
        let mut choices = 0usize;
        let mut choices_key = 0usize;
        // The top-level `model` string; bits of the usage reader's keys seen (a second one
        // makes its document unreadable to it).
        let mut model = None;
        let (mut doc_keys, mut doc_twice) = (0u8, false);
        let read = |k: &[u8], p: &mut P| match k {
            b"choices" => {
                once(&mut top, 1)?;
                choices_key = k.as_ptr() as usize - p.b.as_ptr() as usize - 1;
                p.eat(b'[')?;
                if p.peek()? == b']' {
                    p.i += 1;
                    return Some(());
                }
                let mut j = 0usize;
                loop {
                    choice(p, j, &mut info, &mut span)?;
                    j += 1;
                    choices = j;
                    match p.peek()? {
                        b',' => p.i += 1,
                        b']' => {
                            p.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            // Fields the full parse reads (as other shapes' fields): left to it.
            b"type" | b"delta" | b"index" | b"output_index" | b"content_index"
            | b"summary_index" => None,
            // OpenAI's padding (ignored by the full parse too): where its value sits.
            b"obfuscation" if p.peek()? == b'"' => {
                let v = p.string()?;
                let s = v.as_ptr() as usize - p.b.as_ptr() as usize;
                pad = Some(pad.is_none().then_some((s, s + v.len())));
                Some(())
            }
            b"model" | b"usage" | b"message" | b"response" => {
                let bit = match k {
                    b"model" => 1,
                    b"usage" => 2,
                    b"message" => 4,
                    _ => 8,
                };
                doc_twice |= once(&mut doc_keys, bit).is_none();
                if bit == 1 && p.peek()? == b'"' {
                    let v = p.string()?;
                    let s = v.as_ptr() as usize - p.b.as_ptr() as usize;
                    model = Some((s, s + v.len()));
                    return Some(());
                }
                p.value(NEST)
            }
            // Ignored by the full parse too (`system_fingerprint`, ...).
            _ => p.value(NEST),
        };
        match at {
            None => p.members(read)?,
            Some(_) => p.member_list(read)?,
        }
        p.ws();
        // Only a chat chunk with `choices` is read here; and nothing may follow the object.
        if top != 1 || p.i != data.len() {
            return None;
        }
        let span = span.filter(|_| info.parts.len() == 1).map(|mut s: Span| {
            // A finish reason read as a word ends one choice: only where it is the only one
            // and nothing else ends.
            if choices != 1 || !info.ends_choices.is_empty() {
                s.finish = None;
            }
            s.choices = choices_key;
            s.pad = pad.flatten().filter(|&(ps, _)| ps > s.text.1);
            s.usage_object = p.usage_object;
            s.model = model.filter(|_| at.is_none() && !doc_twice);
            s
        });
        Some((info, span))
    }

    /// `span`: set to the offsets of the text's value in `p.b` for the choice that has one
    /// (with its delta's `role` member right before `content`, and its finish reason's `null`
    /// after the text).
    fn choice(p: &mut P, j: usize, info: &mut EventInfo, span: &mut Option<Span>) -> Option<()> {
        p.eat(b'{')?;
        let (mut seen, mut index, mut finish) = (0u8, None, false);
        let mut content: Option<&str> = None;
        let mut content_key = 0;
        let mut role = None;
        let mut null_at = None;
        p.members(|k, p| match k {
            b"index" => {
                once(&mut seen, 1)?;
                index = Some(p.uint()?);
                Some(())
            }
            b"finish_reason" => {
                once(&mut seen, 2)?;
                p.ws();
                let at = p.i;
                let null = p.scalar()?;
                finish = !null;
                null_at = null.then_some(at);
                Some(())
            }
            b"delta" => {
                once(&mut seen, 4)?;
                p.eat(b'{')?;
                let mut dseen = 0u8;
                // The key quote of a `role` member that was the last one read, and the end of
                // the `content` value when that was.
                let mut role_key: Option<usize> = None;
                let mut after_content: Option<usize> = None;
                p.members(|k, p| {
                    let key_at = k.as_ptr() as usize - p.b.as_ptr() as usize - 1;
                    let (last_role, last_content) = (role_key.take(), after_content.take());
                    match k {
                        b"content" => {
                            once(&mut dseen, 1)?;
                            content_key = key_at;
                            role = last_role.map(|r| (r, key_at));
                            if p.peek()? == b'"' {
                                content = Some(std::str::from_utf8(p.string()?).ok()?);
                            } else if !p.scalar()? {
                                return None;
                            }
                            after_content = Some(p.i);
                            Some(())
                        }
                        // A `null` one is no text for the full parse either (OpenAI's first
                        // chunk has `"refusal":null`, 2026-12-04).
                        b"refusal" | b"reasoning_content" | b"reasoning" => {
                            let bit = match k {
                                b"refusal" => 2,
                                b"reasoning_content" => 4,
                                _ => 8,
                            };
                            once(&mut dseen, bit)?;
                            p.scalar()?.then_some(())
                        }
                        b"tool_calls" => None,
                        _ => {
                            p.value(NEST)?;
                            if k == b"role" {
                                match last_content {
                                    Some(a) => role = Some((a, p.i)),
                                    None => role_key = Some(key_at),
                                }
                            }
                            Some(())
                        }
                    }
                })
            }
            b"text" => None,
            // `logprobs` and other fields the full parse ignores.
            _ => p.value(NEST),
        })?;
        // A choice without a delta (completions) is left to the full parse.
        if seen & 4 == 0 {
            return None;
        }
        let i = super::ix(index);
        info.shape = Shape::Chat;
        if let Some(t) = content.filter(|t| !t.is_empty()) {
            let start = t.as_ptr() as usize - p.b.as_ptr() as usize;
            let end = start + t.len();
            *span = Some(Span {
                text: (start, end),
                role,
                finish: null_at.filter(|&f| f >= end),
                choices: 0,
                content_key,
                pad: None,
                usage_object: false,
                model: None,
            });
            info.parts
                .push(((K_CHAT, i, 0), Loc::ChatChoice(j), t.to_string()));
        }
        if finish {
            info.ends_choices.push(i);
        }
        Some(())
    }
}

fn classify_parsed(name: Option<&[u8]>, data: &[u8]) -> EventInfo {
    let mut info = EventInfo {
        parts: Vec::new(),
        ends: Vec::new(),
        ends_choices: Vec::new(),
        ends_all: false,
        summary: false,
        shape: Shape::Unknown,
    };
    if data == b"[DONE]" {
        info.ends_all = true;
        return info;
    }
    if !data.starts_with(b"{") {
        return info;
    }
    let Ok(v) = serde_json::from_slice::<Ev>(data) else {
        return info;
    };
    let push = |info: &mut EventInfo, key: Key, loc: Loc, t: &Str| {
        if let Some(t) = t.as_deref().filter(|t| !t.is_empty()) {
            info.parts.push((key, loc, t.to_string()));
        }
    };
    if let Some(choices) = &v.choices {
        for (j, c) in choices.iter().enumerate() {
            let i = ix(c.index);
            if let Some(d) = &c.delta {
                info.shape = Shape::Chat;
                push(&mut info, (K_CHAT, i, 0), Loc::ChatChoice(j), &d.content);
                push(
                    &mut info,
                    (K_CHAT_REFUSAL, i, 0),
                    Loc::ChatRefusal(j),
                    &d.refusal,
                );
                push(
                    &mut info,
                    (K_CHAT_REASONING, i, 0),
                    Loc::ChatReasoning(j, false),
                    &d.reasoning_content,
                );
                push(
                    &mut info,
                    (K_CHAT_REASONING, i, 0),
                    Loc::ChatReasoning(j, true),
                    &d.reasoning,
                );
                for (k, call) in d.tool_calls.iter().flatten().enumerate() {
                    if let Some(f) = &call.function {
                        let key = (K_CHAT_TOOL, i, ix(call.index));
                        push(&mut info, key, Loc::ChatToolArgs(j, k), &f.arguments);
                    }
                }
            } else if c.text.is_some() {
                info.shape = Shape::Completions;
                push(
                    &mut info,
                    (K_COMPLETION, i, 0),
                    Loc::CompletionChoice(j),
                    &c.text,
                );
            }
            if c.finish_reason.is_some() {
                info.ends_choices.push(i);
            }
        }
        return info;
    }
    let kind = match v.kind.as_deref() {
        Some(k) => k,
        None => name.and_then(|n| std::str::from_utf8(n).ok()).unwrap_or(""),
    };
    let (oi, ci) = (ix(v.output_index), ix(v.content_index));
    let text = match &v.delta {
        Some(EvDelta::Text(t)) => Some(t.clone()),
        _ => None,
    };
    match kind {
        "content_block_delta" => {
            info.shape = Shape::Anthropic;
            if let Some(EvDelta::Block(d)) = &v.delta {
                let key = (K_ANTHROPIC, ix(v.index), 0);
                match d.kind.as_deref() {
                    Some("text_delta") => push(&mut info, key, Loc::AnthropicDelta, &d.text),
                    Some("thinking_delta") => {
                        push(&mut info, key, Loc::AnthropicThinking, &d.thinking)
                    }
                    Some("input_json_delta") => {
                        push(&mut info, key, Loc::AnthropicJson, &d.partial_json)
                    }
                    _ => {}
                }
            }
        }
        "content_block_stop" => {
            info.shape = Shape::Anthropic;
            info.ends.push((K_ANTHROPIC, ix(v.index), 0));
        }
        "message_stop" => {
            info.shape = Shape::Anthropic;
            info.ends_all = true;
        }
        "message_start" | "message_delta" | "content_block_start" => info.shape = Shape::Anthropic,
        "response.output_text.delta" | "response.refusal.delta" => {
            info.shape = Shape::Responses;
            push(&mut info, (K_RESP_TEXT, oi, ci), Loc::ResponsesDelta, &text);
        }
        "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
            info.shape = Shape::Responses;
            push(&mut info, (K_RESP_ARGS, oi, 0), Loc::ResponsesDelta, &text);
        }
        "response.reasoning_summary_text.delta" => {
            info.shape = Shape::Responses;
            let key = (K_RESP_SUMMARY, oi, ix(v.summary_index));
            push(&mut info, key, Loc::ResponsesDelta, &text);
        }
        "response.reasoning_text.delta" => {
            info.shape = Shape::Responses;
            push(
                &mut info,
                (K_RESP_REASONING, oi, ci),
                Loc::ResponsesDelta,
                &text,
            );
        }
        "response.output_text.done" | "response.refusal.done" => {
            info.shape = Shape::Responses;
            info.ends.push((K_RESP_TEXT, oi, ci));
            info.summary = true;
        }
        "response.function_call_arguments.done" | "response.custom_tool_call_input.done" => {
            info.shape = Shape::Responses;
            info.ends.push((K_RESP_ARGS, oi, 0));
            info.summary = true;
        }
        "response.reasoning_summary_text.done" => {
            info.shape = Shape::Responses;
            info.ends.push((K_RESP_SUMMARY, oi, ix(v.summary_index)));
            info.summary = true;
        }
        "response.reasoning_text.done" => {
            info.shape = Shape::Responses;
            info.ends.push((K_RESP_REASONING, oi, ci));
            info.summary = true;
        }
        "response.content_part.done"
        | "response.reasoning_summary_part.done"
        | "response.output_item.done" => {
            info.shape = Shape::Responses;
            info.summary = true;
        }
        "response.completed" | "response.incomplete" | "response.failed" => {
            info.shape = Shape::Responses;
            info.ends_all = true;
            info.summary = true;
        }
        k if k.starts_with("response.") => info.shape = Shape::Responses,
        _ => {}
    }
    info
}

/// The whole texts inside a Responses API summary event.
fn summary_texts_mut(v: &mut Value) -> Vec<&mut String> {
    let mut out = Vec::new();
    let Some(obj) = v.as_object_mut() else {
        return out;
    };
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match kind.as_str() {
        "response.output_text.done"
        | "response.reasoning_summary_text.done"
        | "response.reasoning_text.done" => push_str(obj.get_mut("text"), &mut out),
        "response.refusal.done" => push_str(obj.get_mut("refusal"), &mut out),
        "response.function_call_arguments.done" => push_str(obj.get_mut("arguments"), &mut out),
        "response.custom_tool_call_input.done" => push_str(obj.get_mut("input"), &mut out),
        "response.content_part.done" | "response.reasoning_summary_part.done" => {
            if let Some(p) = obj.get_mut("part") {
                responses_part_text(p, true, &mut out);
            }
        }
        "response.output_item.done" => {
            if let Some(item) = obj.get_mut("item") {
                responses_output_texts(std::slice::from_mut(item), true, &mut out);
            }
        }
        _ => {
            if let Some(Value::Array(items)) =
                obj.get_mut("response").and_then(|r| r.get_mut("output"))
            {
                responses_output_texts(items, true, &mut out);
            }
        }
    }
    out
}

fn set_text(doc: &mut Value, loc: Loc, text: &str) {
    fn delta(doc: &mut Value, j: usize) -> Option<&mut Value> {
        doc.get_mut("choices")?.get_mut(j)?.get_mut("delta")
    }
    let slot = match loc {
        Loc::ChatChoice(j) => delta(doc, j).and_then(|d| d.get_mut("content")),
        Loc::CompletionChoice(j) => doc
            .get_mut("choices")
            .and_then(|c| c.get_mut(j))
            .and_then(|c| c.get_mut("text")),
        Loc::ChatToolArgs(j, k) => delta(doc, j)
            .and_then(|d| d.get_mut("tool_calls"))
            .and_then(|t| t.get_mut(k))
            .and_then(|t| t.get_mut("function"))
            .and_then(|f| f.get_mut("arguments")),
        Loc::ChatRefusal(j) => delta(doc, j).and_then(|d| d.get_mut("refusal")),
        Loc::ChatReasoning(j, alt) => delta(doc, j).and_then(|d| {
            d.get_mut(if alt {
                "reasoning"
            } else {
                "reasoning_content"
            })
        }),
        Loc::AnthropicDelta => doc.get_mut("delta").and_then(|d| d.get_mut("text")),
        Loc::AnthropicThinking => doc.get_mut("delta").and_then(|d| d.get_mut("thinking")),
        Loc::AnthropicJson => doc.get_mut("delta").and_then(|d| d.get_mut("partial_json")),
        Loc::ResponsesDelta => doc.get_mut("delta"),
    };
    if let Some(s) = slot {
        *s = Value::String(text.to_string());
    }
}

/// The choice a chat / completion location is in.
fn loc_choice(loc: Loc) -> Option<usize> {
    match loc {
        Loc::ChatChoice(j)
        | Loc::CompletionChoice(j)
        | Loc::ChatToolArgs(j, _)
        | Loc::ChatRefusal(j)
        | Loc::ChatReasoning(j, _) => Some(j),
        _ => None,
    }
}

/// An event modelled on `tpl` (a stream's last text event) to carry text released when no event
/// of the stream is left: only the stream's own choice and field, no finish reason, no usage.
fn template_event(loc: Loc, tpl: &[u8], text: &str) -> Option<Vec<u8>> {
    let (_, data) = parse_event(tpl);
    let mut doc = serde_json::from_slice::<Value>(&data).ok()?;
    let mut loc = loc;
    if let Some(j) = loc_choice(loc) {
        if let Some(Value::Array(ch)) = doc.get_mut("choices") {
            let c = ch.get(j).cloned();
            *ch = c.into_iter().collect();
            if let Some(Value::Object(c)) = ch.get_mut(0) {
                c.insert("finish_reason".into(), Value::Null);
                let field = match loc {
                    Loc::ChatToolArgs(_, k) => {
                        let index = c
                            .get("delta")
                            .and_then(|d| d.get("tool_calls"))
                            .and_then(|t| t.get(k))
                            .and_then(|t| t.get("index"))
                            .cloned()
                            .unwrap_or(Value::from(k));
                        Some(
                            json!({"tool_calls": [{"index": index, "function": {"arguments": ""}}]}),
                        )
                    }
                    Loc::ChatRefusal(_) => Some(json!({"refusal": ""})),
                    Loc::ChatReasoning(_, false) => Some(json!({"reasoning_content": ""})),
                    Loc::ChatReasoning(_, true) => Some(json!({"reasoning": ""})),
                    _ => None,
                };
                if let Some(d) = field {
                    c.insert("delta".into(), d);
                }
            }
        }
        if let Some(m) = doc.as_object_mut() {
            m.remove("usage");
        }
        loc = match loc {
            Loc::ChatChoice(_) => Loc::ChatChoice(0),
            Loc::CompletionChoice(_) => Loc::CompletionChoice(0),
            Loc::ChatToolArgs(..) => Loc::ChatToolArgs(0, 0),
            Loc::ChatRefusal(_) => Loc::ChatRefusal(0),
            Loc::ChatReasoning(_, alt) => Loc::ChatReasoning(0, alt),
            l => l,
        };
    }
    set_text(&mut doc, loc, text);
    Some(rebuild_event(tpl, &doc))
}

/// Marks `n` bytes of stream `key`'s waiting parts as released, oldest first (a part whose
/// text is all released is released). Returns what is left of `n`.
fn mark_released(queue: &mut VecDeque<Queued>, key: Key, mut n: usize) -> usize {
    for q in queue.iter_mut() {
        for p in q.parts.iter_mut().filter(|p| p.key == key && !p.released) {
            if n == 0 {
                break;
            }
            let take = (p.orig.len() - p.done).min(n);
            p.done += take;
            n -= take;
            if p.done == p.orig.len() {
                p.released = true;
            }
        }
    }
    n
}

/// The bytes one chunk turns into: while nothing differs, only how many of the chunk's own bytes
/// go out as they are (no copy); the first difference copies that prefix and goes on in `new`.
struct Out<'c> {
    chunk: &'c [u8],
    same: usize,
    new: Option<Vec<u8>>,
}

impl<'c> Out<'c> {
    fn new(chunk: &'c [u8]) -> Self {
        Out {
            chunk,
            same: 0,
            new: None,
        }
    }

    fn vec(&mut self) -> &mut Vec<u8> {
        let (chunk, same) = (self.chunk, self.same);
        self.new.get_or_insert_with(|| chunk[..same].to_vec())
    }

    /// Bytes not (known to be) the chunk's own.
    fn extend(&mut self, b: &[u8]) {
        if !b.is_empty() {
            self.vec().extend_from_slice(b);
        }
    }

    /// Bytes that are the chunk's own from offset `at` (when known).
    fn extend_from_chunk(&mut self, at: Option<usize>, b: &[u8]) {
        if self.new.is_none() && at == Some(self.same) {
            self.same += b.len();
        } else {
            self.extend(b);
        }
    }

    /// `None`: the chunk goes out as it came.
    fn finish(self) -> Option<Vec<u8>> {
        match self.new {
            Some(v) => Some(v),
            None if self.same == self.chunk.len() => None,
            None => Some(self.chunk[..self.same].to_vec()),
        }
    }
}

/// The event being read: its bytes, and their offset in the caller's chunk (when they are a
/// slice of it).
#[derive(Clone, Copy)]
struct Cur<'e> {
    ev: &'e [u8],
    at: Option<usize>,
    /// `ev` is one line and `\n\n`.
    one_line: bool,
}

impl<S: Scanners> SseGuard<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// A guard that ends the stream with an error event where an event is too large to scan.
    pub fn fail_closed() -> Self {
        let mut g = Self::default();
        g.fail_closed = true;
        g
    }

    /// What the stream did so far.
    pub fn report(&self) -> &SseReport {
        &self.report
    }

    /// An event outgrew [`MAX_EVENT_BYTES`]: the rest of the stream passed unscanned.
    pub fn unscanned(&self) -> bool {
        self.unscanned
    }

    /// Whether the stream was ended by a block.
    pub fn blocked(&self) -> bool {
        self.report.blocked
    }

    /// Events of the chunk last fed (start and end offsets in it, in order) read as plain chat
    /// chunks (issue 19, 2026-12-04: one framing of the stream for the guard and the usage
    /// reader): each is `data: `, one line of JSON and `\n\n`, that line has no usage object
    /// for `crate::usage::SseUsageReader` (see `ChatTemplate::usage_quiet`), so
    /// `SseUsageReader::skip_quiet_event` may pass it instead of reading it.
    pub fn usage_quiet_events(&self) -> &[(usize, usize)] {
        &self.quiet
    }

    /// The model of one of [`usage_quiet_events`](Self::usage_quiet_events): where that event
    /// starts, and its top-level `model` string, which a usage reader with no model yet takes
    /// instead of reading the event (`SseUsageReader::feed_passing_model`). It is the first
    /// chat chunk of a stream, read whole by the quick reader (no escapes, no usage object,
    /// none of the keys the usage reader reads twice), one `data: ` line.
    pub fn usage_model(&self) -> Option<(usize, &str)> {
        self.usage_model.as_ref().map(|(at, m)| (*at, m.as_str()))
    }

    /// Takes one body chunk (`end`: the last) and returns the bytes to send in its place.
    pub fn feed(&mut self, scanners: &S, chunk: &[u8], end: bool) -> Vec<u8> {
        self.feed_chunk(scanners, chunk, end)
            .unwrap_or_else(|| chunk.to_vec())
    }

    /// As [`feed`](Self::feed), `None` when the bytes to send are the chunk itself (nothing
    /// held back, nothing changed): the caller leaves the chunk as it is.
    pub fn feed_chunk(&mut self, scanners: &S, chunk: &[u8], end: bool) -> Option<Vec<u8>> {
        self.quiet.clear();
        self.usage_model = None;
        self.chunks += 1;
        let mut out = Out::new(chunk);
        if self.ended {
            if self.unscanned && !self.report.blocked {
                out.same = chunk.len();
            } else {
                out.new = Some(Vec::new());
            }
            return out.finish();
        }
        // Events are read in place from the chunk; only an event split across chunks is joined.
        let joined;
        let flen = self.frame.len();
        let buf: &[u8] = if flen == 0 {
            chunk
        } else {
            let mut j = std::mem::take(&mut self.frame);
            j.extend_from_slice(chunk);
            joined = j;
            &joined
        };
        let at = |start: usize| start.checked_sub(flen);
        let mut start = 0;
        // Plain chat chunks are read in runs while that gives what reading them one by one
        // gives (`plain_run`); once a run had to be put back, the chunk is read event by event.
        let mut runs = self.runs;
        // The end of the event at `.0` when a run looked for it and did not take the event.
        let mut peek = None;
        loop {
            if runs {
                let (n, next) = self.plain_run(buf, start, flen, &mut out, &mut runs, &mut peek);
                if n > 0 {
                    start = next;
                    if self.ended {
                        return out.finish();
                    }
                    continue;
                }
            }
            let (e, one_line) = match peek.take() {
                Some((s, e, one)) if s == start => (e, one),
                _ => match next_event_end(buf, start) {
                    Some(end) => end,
                    None => break,
                },
            };
            let cur = Cur {
                ev: &buf[start..e],
                at: at(start),
                one_line,
            };
            self.event(scanners, cur, &mut out);
            start = e;
            if self.ended {
                return out.finish();
            }
        }
        let rest = &buf[start..];
        if end {
            if !rest.is_empty() {
                let cur = Cur {
                    ev: rest,
                    at: at(start),
                    one_line: false,
                };
                self.event(scanners, cur, &mut out);
            }
            if !self.ended {
                self.finish_all(scanners, &mut out);
            }
        } else if rest.len() > MAX_EVENT_BYTES {
            // Never hold an unbounded event: release what is held, then let the rest through or
            // (fail closed) end the stream.
            self.finish_all(scanners, &mut out);
            if !self.ended {
                self.unscanned = true;
                if self.fail_closed {
                    self.block_with(&mut out, "too_large");
                } else {
                    out.extend_from_chunk(at(start), rest);
                    self.ended = true;
                }
            }
        } else {
            self.frame.clear();
            self.frame.extend_from_slice(rest);
        }
        out.finish()
    }

    /// Reads the events from `start` in `buf` that are plain chat chunks (the template chunk with
    /// another text: [`ChatTemplate::frame`], [`ChatTemplate::plain`]) as one run: their texts go to the stream's scanner in one push, and an event whose text is all
    /// released leaves as the chunk's own bytes, with none of an event's bookkeeping. Since a
    /// stream releases the same text whatever the split, this is what reading them one by one
    /// gives while the push changes nothing; when it changed or blocked something, the scanner is
    /// put back, `ahead` is cleared and the caller reads the events one by one. Returns how many
    /// events were taken (0: none) and where the next event starts; `peek`: an event's start and
    /// end, when its end was looked for and it was not taken.
    fn plain_run(
        &mut self,
        buf: &[u8],
        mut start: usize,
        flen: usize,
        out: &mut Out,
        ahead: &mut bool,
        peek: &mut Option<(usize, usize, bool)>,
    ) -> (usize, usize) {
        let Some(tpl) = self.chat_tpl.as_mut() else {
            return (0, start);
        };
        let info = &tpl.info;
        if info.parts.len() != 1
            || !info.ends.is_empty()
            || !info.ends_choices.is_empty()
            || info.ends_all
            || info.summary
        {
            return (0, start);
        }
        let (key, loc, _) = info.parts[0];
        let Some(si) = self.streams.iter().position(|s| s.key == key) else {
            return (0, start);
        };
        if self.streams[si].rewritten || self.streams[si].finished {
            return (0, start);
        }
        // Only this stream's events may wait (their order against others' is kept one by one).
        if self
            .queue
            .iter()
            .any(|q| q.summary || q.parts.iter().any(|p| p.key != key))
        {
            return (0, start);
        }
        let run = &mut self.spare.run;
        let text = &mut self.spare.run_text;
        run.clear();
        text.clear();
        // Room for events of 128 bytes and more (chat chunks are ~200), texts of 8.
        let room = (buf.len() - start) / 128 + 1;
        run.reserve(room);
        text.reserve(room * 8);
        loop {
            // An event begun in an earlier chunk is not the chunk's own: read alone.
            if start < flen {
                break;
            }
            let (e, ts, te) = match tpl.frame(&buf[start..]) {
                Some((n, ts, te)) => (start + n, ts, te),
                None => {
                    let Some((e, one)) = next_event_end(buf, start) else {
                        break;
                    };
                    *peek = Some((start, e, one));
                    let Some((ts, te)) = tpl.plain(&buf[start..e]) else {
                        break;
                    };
                    (e, ts, te)
                }
            };
            let t = &buf[start + ts..start + te];
            // Each event's text is UTF-8 on its own (a char split across events is not).
            if !t.is_ascii() && std::str::from_utf8(t).is_err() {
                break;
            }
            text.extend_from_slice(t);
            run.push([start, e, start + ts, start + te]);
            start = e;
        }
        if run.is_empty() {
            return (0, start);
        }
        // Texts each of UTF-8 are UTF-8 in a row: one check instead of a `&str` per event.
        let Ok(text) = std::str::from_utf8(text) else {
            return (0, start);
        };
        let st = &mut self.streams[si];
        let Some(saved) = st.scanner.checkpoint() else {
            return (0, start);
        };
        let held = st.pending.len();
        st.pending.push_str(text);
        let released = self.spare.texts.pop().unwrap_or_default();
        let r = st.scanner.push_into(text, released);
        if r.blocked || !starts_with(&st.pending, &r.text) {
            // Read one by one instead, from where the scanner was.
            st.scanner = saved;
            st.pending.truncate(held);
            *ahead = false;
            self.spare.keep_text(r.text);
            return (0, start);
        }
        let run = std::mem::take(&mut self.spare.run);
        if tpl.usage_quiet() {
            for &[s, e, ts, te] in &run {
                if &buf[ts..te] != b"usage" {
                    self.quiet.push((s - flen, e - flen));
                }
            }
        }
        self.report.text_events += run.len() as u64;
        self.report.hits.extend(r.hits);
        let mut n = r.text.len();
        st.pending.drain(..n);
        st.template = Some(loc);
        st.template_bytes.clear();
        if let Some(&[s, e, _, _]) = run.last() {
            st.template_bytes.extend_from_slice(&buf[s..e]);
        }
        self.spare.keep_text(r.text);
        // Released text ends the waiting events' texts first (all of this stream's).
        n = mark_released(&mut self.queue, key, n);
        self.drain(out, None);
        for &[s, e, ts, te] in &run {
            let len = te - ts;
            if self.queue.is_empty() && n >= len {
                n -= len;
                out.extend_from_chunk(s.checked_sub(flen), &buf[s..e]);
                continue;
            }
            // Waits: behind an event still held, or its own text not all released.
            let done = n.min(len);
            n -= done;
            let orig = self
                .spare
                .text(std::str::from_utf8(&buf[ts..te]).unwrap_or_default());
            let mut parts = self.spare.parts.pop().unwrap_or_default();
            parts.push(Part {
                key,
                si,
                loc,
                orig,
                done,
                new_text: None,
                released: done == len,
            });
            self.queue.push_back(Queued {
                bytes: Some(buf[s..e].into()),
                from: s.checked_sub(flen).map(|at| (self.chunks, at)),
                parts,
                summary: false,
            });
        }
        let taken = run.len();
        self.spare.run = run;
        #[cfg(test)]
        {
            self.runs_taken += usize::from(taken > 1);
        }
        (taken, start)
    }

    fn stream_index(&mut self, scanners: &S, key: Key) -> usize {
        if let Some(i) = self.streams.iter().position(|s| s.key == key) {
            return i;
        }
        self.streams.push(StreamState {
            key,
            scanner: scanners.stream(),
            pending: String::new(),
            rewritten: false,
            template: None,
            template_bytes: Vec::new(),
            finished: false,
        });
        self.streams.len() - 1
    }

    fn event(&mut self, scanners: &S, cur: Cur, out: &mut Out) {
        let ev = cur.ev;
        let (name, data) = if cur.one_line {
            parse_one_line(&ev[..ev.len() - 2])
        } else {
            parse_event(ev)
        };
        #[cfg(test)]
        if cur.one_line {
            assert!(
                ev.ends_with(b"\n\n") && memchr::memchr2(b'\n', b'\r', ev) == Some(ev.len() - 2)
            );
            assert_eq!((name, &data), (parse_event(ev).0, &parse_event(ev).1));
        }
        let mut info = classify_with(name, &data, &mut self.chat_tpl, &mut self.spare);
        // A chunk read whole for its template: its model for the usage reader (once per chunk).
        if let Some((ms, me)) = self.chat_tpl.as_mut().and_then(|t| t.model.take()) {
            if let (Some(at), true, None) = (cur.at, cur.one_line, &self.usage_model) {
                let m = std::str::from_utf8(&data[ms..me]);
                if let (true, Ok(m)) = (ev.starts_with(b"data: "), m) {
                    #[cfg(test)]
                    assert!(!crate::usage::mentions_usage_object(&data));
                    self.quiet.push((at, at + ev.len()));
                    self.usage_model = Some((at, m.to_string()));
                }
            }
        }
        if self.report.shape == Shape::Unknown {
            self.report.shape = info.shape;
        }
        // An event without text that ends nothing still open, with nothing queued before it
        // (the usage chunk, `[DONE]` after the last text): it goes out as it came, as the
        // steps below would send it (issue 19, 2026-12-04: without their lists).
        if info.parts.is_empty() && !info.summary && self.queue.is_empty() {
            let open = if info.ends_all {
                self.streams.iter().any(|s| !s.finished)
            } else {
                !info.ends.is_empty() || !info.ends_choices.is_empty()
            };
            if !open {
                out.extend_from_chunk(cur.at, ev);
                self.spare.keep_info(info.parts);
                return;
            }
        }
        // Whatever a stream still holds goes out before the event that ends it.
        let mut ending: Vec<Key> = if info.ends_all {
            self.streams.iter().map(|s| s.key).collect()
        } else {
            info.ends.clone()
        };
        if !info.ends_all {
            for &i in &info.ends_choices {
                ending.extend(
                    self.streams
                        .iter()
                        .filter(|s| choice_kind(s.key.0) && s.key.1 == i)
                        .map(|s| s.key),
                );
                // Streams that start in this very event.
                ending.extend(
                    info.parts
                        .iter()
                        .filter(|p| choice_kind(p.0 .0) && p.0 .1 == i)
                        .map(|p| p.0),
                );
            }
        }
        // A stream ended by an event without its text: what it holds goes out before the event.
        let (after, before): (Vec<Key>, Vec<Key>) = ending
            .into_iter()
            .partition(|k| info.parts.iter().any(|p| p.0 == *k));
        if self.finish_streams(&before, out) {
            return;
        }
        let bytes: Option<Rc<[u8]>> = if info.summary {
            self.rewrite_summary(scanners, ev, &data).map(Rc::from)
        } else {
            None
        };
        let mut q = Queued {
            bytes,
            from: None,
            parts: self.spare.parts.pop().unwrap_or_default(),
            summary: info.summary,
        };
        for (key, loc, text) in info.parts.drain(..) {
            self.report.text_events += 1;
            let si = self.stream_index(scanners, key);
            let st = &mut self.streams[si];
            st.template = Some(loc);
            st.template_bytes.clear();
            st.template_bytes
                .extend_from_slice(q.bytes.as_deref().unwrap_or(ev));
            st.pending.push_str(&text);
            q.parts.push(Part {
                key,
                si,
                loc,
                orig: text,
                done: 0,
                new_text: None,
                released: false,
            });
        }
        self.spare.keep_info(std::mem::take(&mut info.parts));
        let n = q.parts.len();
        self.queue.push_back(q);
        let qi = self.queue.len() - 1;
        for pi in 0..n {
            let (si, r) = {
                let Some(p) = self.queue.get(qi).and_then(|q| q.parts.get(pi)) else {
                    break;
                };
                let buf = self.spare.texts.pop().unwrap_or_default();
                (p.si, self.streams[p.si].scanner.push_into(&p.orig, buf))
            };
            if self.take(si, r, out) {
                return;
            }
        }
        if self.finish_streams(&after, out) {
            return;
        }
        self.drain(out, Some(cur));
        // Still queued: its bytes are copied now (the caller's go away).
        if let Some(q) = self.queue.iter_mut().rev().find(|q| q.bytes.is_none()) {
            q.bytes = Some(ev.into());
            q.from = cur.at.map(|at| (self.chunks, at));
        }
    }

    /// Finishes the streams `keys` (those not finished yet). True when that blocked the answer.
    fn finish_streams(&mut self, keys: &[Key], out: &mut Out) -> bool {
        for key in keys {
            if let Some(si) = self.streams.iter().position(|s| s.key == *key) {
                if self.streams[si].finished {
                    continue;
                }
                self.streams[si].finished = true;
                let r = self.streams[si].scanner.finish();
                if self.take(si, r, out) {
                    return true;
                }
            }
        }
        false
    }

    /// A Responses API event that repeats the whole text: scanned again as a whole. `None` when
    /// unchanged.
    fn rewrite_summary(&mut self, scanners: &S, ev: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        let Ok(mut doc) = serde_json::from_slice::<Value>(data) else {
            return None;
        };
        let mut changed = false;
        for t in summary_texts_mut(&mut doc) {
            // The hits were counted on the deltas: only the text is taken.
            let s = scanners.scan(t);
            if s.text != *t {
                *t = s.text;
                changed = true;
            }
        }
        changed.then(|| rebuild_event(ev, &doc))
    }

    /// Applies what stream `si` released. Returns true when the answer was blocked (the stream
    /// is over; `out` ends with the error event and `[DONE]`).
    fn take(&mut self, si: usize, r: Scanned, out: &mut Out) -> bool {
        self.report.hits.extend(r.hits);
        if r.blocked {
            self.block(out);
            return true;
        }
        let key = self.streams[si].key;
        let st = &mut self.streams[si];
        if !st.rewritten && starts_with(&st.pending, &r.text) {
            // Released unchanged: mark that many bytes of the stream's queued parts.
            let n = r.text.len();
            st.pending.drain(..n);
            mark_released(&mut self.queue, key, n);
            self.spare.keep_text(r.text);
            // Empty parts are released as soon as they are reached.
            return false;
        }
        // Changed: every queued part of the stream leaves now, the first carrying the text.
        st.rewritten = true;
        st.pending.clear();
        self.report.rewritten = true;
        let mut text = Some(r.text);
        for q in self.queue.iter_mut() {
            for p in q.parts.iter_mut().filter(|p| p.key == key && !p.released) {
                let mut t = p.orig[..p.done].to_string();
                if let Some(x) = text.take() {
                    t.push_str(&x);
                }
                p.new_text = Some(t);
                p.released = true;
            }
        }
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            // Released text with no event left: one modelled on the stream's last event.
            let st = &self.streams[si];
            let event = st
                .template
                .and_then(|loc| template_event(loc, &st.template_bytes, &t));
            if let Some(bytes) = event {
                self.queue.push_back(Queued {
                    bytes: Some(bytes.into()),
                    from: None,
                    parts: Vec::new(),
                    summary: false,
                });
            }
        }
        false
    }

    /// Sends the events at the front of the queue whose text has all been released. `cur`: the
    /// event being read (the one queued without bytes).
    fn drain(&mut self, out: &mut Out, cur: Option<Cur>) {
        while self.queue.front().is_some_and(Queued::ready) {
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            let (bytes, at) = match (&q.bytes, cur) {
                (Some(b), _) => {
                    let at = q.from.filter(|f| f.0 == self.chunks).map(|f| f.1);
                    (&b[..], at)
                }
                (None, Some(c)) => (c.ev, c.at),
                (None, None) => continue,
            };
            if q.parts.iter().all(|p| p.new_text.is_none()) {
                out.extend_from_chunk(at, bytes);
                self.spare.keep_parts(q.parts);
                continue;
            }
            let (_, data) = parse_event(bytes);
            let Ok(mut doc) = serde_json::from_slice::<Value>(&data) else {
                continue;
            };
            let mut any_text = false;
            for p in &q.parts {
                let t = p.new_text.as_deref().unwrap_or(&p.orig);
                any_text |= !t.is_empty();
                set_text(&mut doc, p.loc, t);
            }
            // An event left with no text and nothing else to say is dropped (chat chunks with a
            // role or a finish reason are kept).
            if !any_text && !q.summary && !carries_more_than_text(&doc) {
                continue;
            }
            out.extend(&rebuild_event(bytes, &doc));
        }
    }

    fn finish_all(&mut self, scanners: &S, out: &mut Out) {
        let _ = scanners;
        for si in 0..self.streams.len() {
            if self.streams[si].finished {
                continue;
            }
            self.streams[si].finished = true;
            let r = self.streams[si].scanner.finish();
            if self.take(si, r, out) {
                return;
            }
        }
        // Anything still queued goes out as it is now.
        for q in self.queue.iter_mut() {
            for p in q.parts.iter_mut() {
                p.released = true;
            }
        }
        self.drain(out, None);
    }

    fn block(&mut self, out: &mut Out) {
        let detectors = self.blocking_detectors();
        self.block_with(out, &detectors);
    }

    /// Ends the stream: an error event naming `why`, then `[DONE]`.
    fn block_with(&mut self, out: &mut Out, why: &str) {
        let out = out.vec();
        self.ended = true;
        self.report.blocked = true;
        self.queue.clear();
        self.frame.clear();
        let anthropic = self.report.shape == Shape::Anthropic;
        let message = format!("{BLOCK_MESSAGE} ({why})");
        if anthropic {
            let ev = json!({"type": "error", "error": {"type": "content_filter", "message": message, "code": BLOCK_CODE}});
            out.extend_from_slice(b"event: error\ndata: ");
            out.extend_from_slice(&serde_json::to_vec(&ev).unwrap_or_default());
        } else {
            let ev = json!({"error": {"message": message, "type": "content_filter", "param": null, "code": BLOCK_CODE}});
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&serde_json::to_vec(&ev).unwrap_or_default());
        }
        out.extend_from_slice(b"\n\ndata: [DONE]\n\n");
    }

    fn blocking_detectors(&self) -> String {
        detectors_of(&self.report.hits, true)
    }
}

/// `detector` names of the hits (of blocking hits only, when `blocking`), comma-separated, once each.
pub fn detectors_of(hits: &[Hit], blocking: bool) -> String {
    let mut names: Vec<&str> = Vec::new();
    for h in hits {
        if (!blocking || h.action == "block") && !names.contains(&h.detector) {
            names.push(h.detector);
        }
    }
    names.join(",")
}

/// Whether a chat chunk says more than its text (a role, a finish reason, usage, tool calls).
fn carries_more_than_text(doc: &Value) -> bool {
    if doc.get("usage").is_some_and(|u| !u.is_null()) {
        return true;
    }
    let Some(choices) = doc.get("choices").and_then(Value::as_array) else {
        return false;
    };
    choices.iter().any(|c| {
        c.get("finish_reason").is_some_and(|f| !f.is_null())
            || c.get("delta")
                .and_then(Value::as_object)
                .is_some_and(|d: &Map<String, Value>| {
                    d.keys().any(|k| {
                        !matches!(
                            k.as_str(),
                            "content" | "refusal" | "reasoning_content" | "reasoning"
                        )
                    })
                })
    })
}

#[cfg(test)]
mod tests;

// ---------------------------------------------------------------------------------------------
// The guard behind the traits, and the request side.

use crate::guard::{Action, Chunk, Finding, Guard, MaskMap, ResponseContext, Scan, StreamScanner};

/// The action's stable name.
pub fn action_str(a: Action) -> &'static str {
    match a {
        Action::Block => "block",
        Action::Redact => "redact",
        Action::Monitor => "monitor",
    }
}

fn hits_of(findings: &[Finding]) -> Vec<Hit> {
    findings
        .iter()
        .map(|f| Hit {
            detector: f.detector.as_str(),
            kind: f.kind,
            action: action_str(f.action),
        })
        .collect()
}

/// A guard with one request's context: what the wire code scans with.
pub struct Bound {
    pub guard: Guard,
    pub cx: ResponseContext,
    /// Request PII values masked (placeholders given).
    pub masked: usize,
}

impl StreamScan for StreamScanner {
    fn push(&mut self, delta: &str) -> Scanned {
        chunk_scanned(StreamScanner::push(self, delta))
    }
    fn push_into(&mut self, delta: &str, buf: String) -> Scanned {
        chunk_scanned(StreamScanner::push_into(self, delta, buf))
    }
    fn finish(&mut self) -> Scanned {
        chunk_scanned(StreamScanner::finish(self))
    }
    fn checkpoint(&self) -> Option<Self> {
        Some(self.clone())
    }
}

fn chunk_scanned(c: Chunk) -> Scanned {
    Scanned {
        hits: hits_of(&c.findings),
        text: c.release,
        blocked: c.blocked,
    }
}

impl Scanners for Bound {
    type Stream = StreamScanner;
    fn scan(&self, text: &str) -> Scanned {
        let Scan {
            text,
            findings,
            blocked,
        } = self.guard.scan_text(&self.cx, text);
        Scanned {
            text: text.into_owned(),
            blocked,
            hits: hits_of(&findings),
        }
    }
    fn stream(&self) -> StreamScanner {
        StreamScanner::new(&self.guard, &self.cx)
    }
}

/// The text of a message `content`: a string, or the `text` of its parts.
fn content_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(parts) => {
            for p in parts {
                if let Some(t) = p.get("text").and_then(Value::as_str) {
                    out.push(t.to_string());
                } else if let Value::String(s) = p {
                    out.push(s.clone());
                }
            }
        }
        _ => {}
    }
}

/// The system and developer texts of a request (chat `messages`, Anthropic `system`, Responses
/// `instructions` and `input` items): what the leakage detector compares the answer with.
pub fn system_texts(body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return out;
    };
    if let Some(s) = v.get("system") {
        content_texts(s, &mut out);
    }
    if let Some(s) = v.get("instructions") {
        content_texts(s, &mut out);
    }
    for list in ["messages", "input"] {
        if let Some(items) = v.get(list).and_then(Value::as_array) {
            for m in items {
                let role = m.get("role").and_then(Value::as_str);
                if matches!(role, Some("system" | "developer")) {
                    if let Some(c) = m.get("content") {
                        content_texts(c, &mut out);
                    }
                }
            }
        }
    }
    out
}

/// Every prompt text string of a request document, mutable: message `content` (string or the
/// `text` of its parts), `prompt`, `input` (string, list of strings, or items with `content`),
/// Anthropic `system`, Responses `instructions`.
fn request_texts_mut(v: &mut Value) -> Vec<&mut String> {
    fn content<'a>(c: &'a mut Value, out: &mut Vec<&'a mut String>) {
        match c {
            Value::String(s) => out.push(s),
            Value::Array(parts) => {
                for p in parts.iter_mut() {
                    match p {
                        Value::String(s) => out.push(s),
                        Value::Object(m) => {
                            let key = if m.get("text").is_some_and(Value::is_string) {
                                "text"
                            } else {
                                "content"
                            };
                            match m.get_mut(key) {
                                Some(Value::String(t)) => out.push(t),
                                Some(c) if key == "content" => content(c, out),
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let Some(obj) = v.as_object_mut() else {
        return out;
    };
    for (k, field) in obj.iter_mut() {
        match k.as_str() {
            "prompt" | "system" | "instructions" => content(field, &mut out),
            "messages" | "input" => match field {
                Value::Array(items) => {
                    for m in items.iter_mut() {
                        match m {
                            Value::String(s) => out.push(s),
                            Value::Object(o) => {
                                if let Some(c) = o.get_mut("content") {
                                    content(c, &mut out);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                other => content(other, &mut out),
            },
            _ => {}
        }
    }
    out
}

/// Request PII masking: the body with every prompt text passed through `mask` (which returns the
/// masked text, `None` when it found nothing). `None` when nothing was masked or the body is not
/// a JSON object; other bytes of the document are kept as values, not as bytes.
pub fn mask_request_body(
    body: &[u8],
    mut mask: impl FnMut(&str) -> Option<String>,
) -> Option<Vec<u8>> {
    let mut v = serde_json::from_slice::<Value>(body).ok()?;
    let mut changed = false;
    for t in request_texts_mut(&mut v) {
        if let Some(m) = mask(t) {
            *t = m;
            changed = true;
        }
    }
    changed.then(|| serde_json::to_vec(&v).ok()).flatten()
}

/// Builds one request's [`Bound`] guard, masking the request's PII when configured. Returns the
/// masked body (when anything was masked) and the guard.
pub fn bind_request(
    guard: &Guard,
    body: &[u8],
    protected_terms: &[u64],
) -> (Option<Vec<u8>>, Bound) {
    bind_request_with(guard, body, protected_terms, None)
}

/// As [`bind_request`], with the request's system and developer texts when the caller has them
/// already (the inspection's extraction: [`crate::inspect::Verdict::system_spans`]); `None`
/// reads them from `body` ([`system_texts`]).
pub fn bind_request_with(
    guard: &Guard,
    body: &[u8],
    protected_terms: &[u64],
    system: Option<&[&str]>,
) -> (Option<Vec<u8>>, Bound) {
    let c = guard.config();
    let read;
    let systems: Cow<[&str]> = match system {
        _ if !c.leakage.enabled => Cow::Borrowed(&[]),
        Some(given) => Cow::Borrowed(given),
        None => {
            read = system_texts(body);
            Cow::Owned(read.iter().map(String::as_str).collect())
        }
    };
    let mut map = MaskMap::new();
    let masked = if c.request_pii_masking.enabled {
        mask_request_body(body, |t| guard.mask_request(t, &mut map))
    } else {
        None
    };
    let masked_values = map.len();
    let restore = (c.request_pii_masking.restore && !map.is_empty()).then_some(map);
    let cx = guard.context(&systems, protected_terms, restore);
    (
        masked,
        Bound {
            guard: guard.clone(),
            cx,
            masked: masked_values,
        },
    )
}

/// The audit event's `response` object.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResponseAudit {
    /// `allowed`, `monitored`, `redacted`, `restored` (request placeholders put back, nothing
    /// else changed), `blocked` or `unscanned`.
    pub decision: String,
    /// Distinct hits (`detector`, `kind`, `action`) with their count.
    pub findings: Vec<FindingAudit>,
    /// Why the decision is not what the findings say (`monitor_only_host`, `too_large`,
    /// `event_too_large`, `not_json`), when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Request PII values masked before the model saw them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub masked_values: u64,
    /// Streams: request start to the answer's first event, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_first_token_ms: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FindingAudit {
    pub detector: String,
    pub kind: String,
    pub action: String,
    pub count: u32,
}

/// Counts hits into distinct findings (at most 32 kept).
pub fn add_findings(list: &mut Vec<FindingAudit>, hits: &[Hit]) {
    for h in hits {
        if let Some(f) = list
            .iter_mut()
            .find(|f| f.detector == h.detector && f.kind == h.kind && f.action == h.action)
        {
            f.count = f.count.saturating_add(1);
        } else if list.len() < 32 {
            list.push(FindingAudit {
                detector: h.detector.to_string(),
                kind: h.kind.to_string(),
                action: h.action.to_string(),
                count: 1,
            });
        }
    }
}

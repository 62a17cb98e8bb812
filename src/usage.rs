//! Token usage accounting from LLM API responses.
//!
//! Two readers:
//! - [`parse_json_usage`] for a buffered (non-streaming) JSON response body;
//! - [`SseUsageReader`] for `text/event-stream` responses, fed arbitrary byte chunks as they pass.
//!
//! Understood formats:
//! - OpenAI chat/completions/embeddings: `usage.prompt_tokens`, `usage.completion_tokens`,
//!   `usage.total_tokens`, `usage.prompt_tokens_details.cached_tokens`,
//!   `usage.completion_tokens_details.reasoning_tokens`; when streaming, the final chunk carries
//!   `usage` if the client asked for `stream_options.include_usage`.
//! - OpenAI Responses API: `usage.input_tokens`, `usage.output_tokens`,
//!   `usage.input_tokens_details.cached_tokens`, `usage.output_tokens_details.reasoning_tokens`;
//!   when streaming, the `response.completed` (or `.incomplete`/`.failed`) event's `response.usage`.
//! - Anthropic Messages: `usage.input_tokens`, `usage.output_tokens`,
//!   `usage.cache_read_input_tokens`, `usage.cache_creation_input_tokens`; when streaming,
//!   `message_start` (`message.usage`, input side) then `message_delta` (`usage.output_tokens`,
//!   cumulative: the last value wins).
//!
//! [`Usage`] is normalised to OpenAI semantics: `input_tokens` counts *all* prompt tokens including
//! cached ones (for Anthropic: `input_tokens + cache_read_input_tokens +
//! cache_creation_input_tokens`), `cached_input_tokens` is the cache-read subset.
//!
//! The SSE reader keeps at most one line (and one event's `data`) of `max_line_bytes`; longer lines
//! are skipped, never accumulated. Of a skipped `data` line only the last 8 KiB are kept, and a
//! `"usage": {...}` object found there (outside any JSON string) is still counted: the Responses
//! API's `response.completed` event repeats the whole output before its `usage`, so its line can
//! be arbitrarily long. The reader works on bytes, so a chunk boundary inside a UTF-8 character is
//! harmless, and it never panics on any input.

use memchr::memmem::Finder;
use serde_json::Value;
use std::sync::OnceLock;

/// Token usage of one response, normalised (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// All prompt/input tokens, including cached and cache-creation tokens.
    pub input_tokens: u64,
    /// Completion/output tokens, including reasoning tokens.
    pub output_tokens: u64,
    /// Total as reported, or `input_tokens + output_tokens` when absent.
    pub total_tokens: u64,
    /// Prompt tokens served from the provider's cache (subset of `input_tokens`).
    pub cached_input_tokens: u64,
    /// Anthropic prompt tokens written to the cache (subset of `input_tokens`).
    pub cache_creation_input_tokens: u64,
    /// Reasoning tokens (subset of `output_tokens`).
    pub reasoning_tokens: u64,
    /// `model` reported by the response, if any (at most 256 bytes kept).
    pub model: Option<String>,
}

impl Usage {
    /// `max(total_tokens, input_tokens + output_tokens)`.
    pub fn total(&self) -> u64 {
        self.total_tokens
            .max(self.input_tokens.saturating_add(self.output_tokens))
    }
}

/// Usage fields as seen so far; later sightings overwrite earlier ones field by field.
#[derive(Debug, Clone, Default)]
struct Partial {
    // OpenAI-style (prompt includes cached).
    prompt: Option<u64>,
    completion: Option<u64>,
    total: Option<u64>,
    cached: Option<u64>,
    reasoning: Option<u64>,
    // Anthropic-style (input excludes cache reads and writes).
    anthropic: bool,
    cache_read: Option<u64>,
    cache_creation: Option<u64>,
    model: Option<String>,
    seen: bool,
}

pub(crate) const MAX_MODEL_BYTES: usize = 256;

impl Partial {
    fn merge_usage(&mut self, u: &Value) {
        let Some(u) = u.as_object() else { return };
        let num = |k: &str| u.get(k).and_then(Value::as_u64);
        let mut any = false;
        let mut set = |slot: &mut Option<u64>, v: Option<u64>| {
            if let Some(v) = v {
                *slot = Some(v);
                any = true;
            }
        };
        set(
            &mut self.prompt,
            num("prompt_tokens").or(num("input_tokens")),
        );
        set(
            &mut self.completion,
            num("completion_tokens").or(num("output_tokens")),
        );
        set(&mut self.total, num("total_tokens"));
        let detail = |outer: &str, inner: &str| {
            u.get(outer)
                .and_then(|d| d.get(inner))
                .and_then(Value::as_u64)
        };
        set(
            &mut self.cached,
            detail("prompt_tokens_details", "cached_tokens")
                .or(detail("input_tokens_details", "cached_tokens")),
        );
        set(
            &mut self.reasoning,
            detail("completion_tokens_details", "reasoning_tokens")
                .or(detail("output_tokens_details", "reasoning_tokens")),
        );
        let cr = num("cache_read_input_tokens");
        let cc = num("cache_creation_input_tokens");
        if cr.is_some() || cc.is_some() {
            self.anthropic = true;
        }
        set(&mut self.cache_read, cr);
        set(&mut self.cache_creation, cc);
        if any {
            self.seen = true;
        }
    }

    fn merge_model(&mut self, m: Option<&Value>) {
        if let Some(m) = m.and_then(Value::as_str) {
            self.merge_model_str(m);
        }
    }

    fn merge_model_str(&mut self, m: &str) {
        if !m.is_empty() && m.len() <= MAX_MODEL_BYTES {
            self.model = Some(m.to_string());
        }
    }

    /// Takes usage and model from one JSON document (a whole body or one SSE `data` payload).
    fn merge_document(&mut self, v: &Value) {
        let Some(obj) = v.as_object() else { return };
        match obj.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                // Anthropic streaming: {"type":"message_start","message":{"model":..,"usage":{..}}}
                if let Some(msg) = obj.get("message") {
                    self.anthropic = true;
                    self.merge_model(msg.get("model"));
                    if let Some(u) = msg.get("usage") {
                        self.merge_usage(u);
                    }
                }
                return;
            }
            Some("message_delta") => self.anthropic = true,
            Some("message") => self.anthropic = true,
            Some(t) if t.starts_with("response.") => {
                // Responses API streaming: usage only on the terminal event's `response`.
                if let Some(r) = obj.get("response") {
                    self.merge_model(r.get("model"));
                    if let Some(u) = r.get("usage") {
                        self.merge_usage(u);
                    }
                }
                return;
            }
            _ => {}
        }
        self.merge_model(obj.get("model"));
        if let Some(u) = obj.get("usage") {
            self.merge_usage(u);
        }
    }

    fn finish(&self) -> Option<Usage> {
        if !self.seen {
            return None;
        }
        let cache_read = self.cache_read.unwrap_or(0);
        let cache_creation = self.cache_creation.unwrap_or(0);
        let (input, cached) = if self.anthropic {
            (
                self.prompt
                    .unwrap_or(0)
                    .saturating_add(cache_read)
                    .saturating_add(cache_creation),
                cache_read,
            )
        } else {
            let p = self.prompt.unwrap_or(0);
            (p, self.cached.unwrap_or(0).min(p))
        };
        let output = self.completion.unwrap_or(0);
        let total = self.total.unwrap_or(0).max(input.saturating_add(output));
        Some(Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: total,
            cached_input_tokens: cached,
            cache_creation_input_tokens: if self.anthropic { cache_creation } else { 0 },
            reasoning_tokens: self.reasoning.unwrap_or(0).min(output),
            model: self.model.clone(),
        })
    }
}

/// Usage from a buffered JSON response body. `None` when the body is not JSON or has no usage.
pub fn parse_json_usage(body: &[u8]) -> Option<Usage> {
    let mut p = Partial::default();
    p.merge_document(&parse_document(body)?);
    p.finish()
}

/// The top-level fields that can carry usage or model. Everything else (`choices`, `output`,
/// `content`, ...) is skipped by the parser without being materialised, so a large response
/// body costs no more memory than its usage object.
#[derive(serde::Deserialize)]
struct Doc {
    #[serde(rename = "type")]
    kind: Option<Value>,
    model: Option<Value>,
    usage: Option<Value>,
    message: Option<Value>,
    response: Option<Value>,
}

fn parse_document(bytes: &[u8]) -> Option<Value> {
    let d: Doc = serde_json::from_slice(bytes).ok()?;
    let mut m = serde_json::Map::new();
    for (k, v) in [
        ("type", d.kind),
        ("model", d.model),
        ("usage", d.usage),
        ("message", d.message),
        ("response", d.response),
    ] {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    Some(Value::Object(m))
}

/// What the limiter needs from a request body (OpenAI chat/completions/embeddings/responses,
/// Anthropic messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// `model`, at most 256 bytes.
    pub model: Option<String>,
    /// `max_completion_tokens`, `max_tokens` or `max_output_tokens`, whichever is present (in that
    /// order).
    pub max_tokens: Option<u64>,
    /// `stream: true`.
    pub stream: bool,
    /// `stream_options.include_usage: true` (OpenAI chat/completions only send usage in a stream
    /// when asked; without it a streamed request can only be settled as estimated).
    pub include_usage: bool,
}

/// Reads [`RequestInfo`] from a request body; defaults for anything missing or malformed.
pub fn parse_request(body: &[u8]) -> RequestInfo {
    #[derive(serde::Deserialize)]
    struct Req {
        model: Option<Value>,
        max_completion_tokens: Option<Value>,
        max_tokens: Option<Value>,
        max_output_tokens: Option<Value>,
        stream: Option<Value>,
        stream_options: Option<Value>,
    }
    let Ok(r) = serde_json::from_slice::<Req>(body) else {
        return RequestInfo::default();
    };
    let num = |v: &Option<Value>| v.as_ref().and_then(Value::as_u64);
    RequestInfo {
        model: r
            .model
            .as_ref()
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty() && m.len() <= MAX_MODEL_BYTES)
            .map(str::to_string),
        max_tokens: num(&r.max_completion_tokens)
            .or(num(&r.max_tokens))
            .or(num(&r.max_output_tokens)),
        stream: r.stream.as_ref().and_then(Value::as_bool) == Some(true),
        include_usage: r
            .stream_options
            .as_ref()
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true),
    }
}

/// The member spliced into a streamed request that lacks it (see [`add_stream_usage`]).
const STREAM_USAGE_MEMBER: &[u8] = br#""stream_options":{"include_usage":true},"#;

/// For a streamed OpenAI chat/completions request body (`"stream": true`) without
/// `stream_options.include_usage: true`: the body with it, so that the stream ends with a chunk
/// carrying the actual usage (without it OpenAI sends none, and the request can only be charged
/// its estimate). `None` when the body is not such a request, or already asks for usage.
///
/// Without a `stream_options` member the member is spliced in after the opening brace and every
/// other byte is kept as it was; with one (`include_usage: false`, other options) the document is
/// rewritten with `include_usage: true` added to it.
pub fn add_stream_usage(body: &[u8]) -> Option<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct Req {
        stream: Option<Value>,
        stream_options: Option<Value>,
    }
    let r: Req = serde_json::from_slice(body).ok()?;
    if r.stream.as_ref().and_then(Value::as_bool) != Some(true) {
        return None;
    }
    match &r.stream_options {
        Some(o) if o.get("include_usage").and_then(Value::as_bool) == Some(true) => None,
        // `"stream_options": null` reads as absent: rewrite rather than add a second member.
        None if !contains(&STREAM_OPTIONS_KEY, body, b"\"stream_options\"") => {
            let open = body.iter().position(|&b| b == b'{')?;
            let mut out = Vec::with_capacity(body.len() + STREAM_USAGE_MEMBER.len());
            out.extend_from_slice(&body[..=open]);
            out.extend_from_slice(STREAM_USAGE_MEMBER);
            out.extend_from_slice(&body[open + 1..]);
            Some(out)
        }
        _ => {
            let mut v: Value = serde_json::from_slice(body).ok()?;
            let obj = v.as_object_mut()?;
            let opts = obj
                .entry("stream_options")
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if !opts.is_object() {
                *opts = Value::Object(serde_json::Map::new());
            }
            opts.as_object_mut()?
                .insert("include_usage".into(), Value::Bool(true));
            serde_json::to_vec(&v).ok()
        }
    }
}

/// Largest incomplete event [`UsageChunkStripper`] holds back; past it the stream is passed on
/// untouched.
const MAX_HELD_EVENT: usize = 64 * 1024;

/// Removes from an OpenAI server-sent-events stream the usage-only chunk (`"choices": []` and a
/// `usage` object) that `stream_options.include_usage` adds, for a client that did not ask for it
/// (the filter asked on its behalf, see [`add_stream_usage`]). Everything else passes byte for
/// byte. Events are passed on whole: the bytes of an event still incomplete at the end of a chunk
/// are held back (at most [`MAX_HELD_EVENT`]) and sent with the chunk that completes it, or at the
/// end of the stream.
#[derive(Debug, Default)]
pub struct UsageChunkStripper {
    /// The start of an event not complete yet (not sent on).
    held: Vec<u8>,
    /// An event outgrew the cap: the rest of the stream passes untouched.
    passthrough: bool,
    /// A removed event ended the last chunk with `\r`: a `\n` opening the next one is its.
    drop_lf: bool,
    /// Usage-only chunks removed so far.
    removed: u32,
}

impl UsageChunkStripper {
    /// Usage-only chunks removed so far.
    pub fn removed(&self) -> u32 {
        self.removed
    }

    /// Takes one chunk of the stream (`end`: the last one). `None`: pass the chunk on unchanged;
    /// `Some(bytes)`: send these bytes instead (possibly none).
    pub fn filter(&mut self, chunk: &[u8], end: bool) -> Option<Vec<u8>> {
        if self.passthrough {
            return None;
        }
        if std::mem::take(&mut self.drop_lf) {
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                return self
                    .filter_events(rest, end)
                    .or_else(|| Some(rest.to_vec()));
            }
        }
        self.filter_events(chunk, end)
    }

    fn filter_events(&mut self, chunk: &[u8], end: bool) -> Option<Vec<u8>> {
        let joined;
        let buf: &[u8] = if self.held.is_empty() {
            chunk
        } else {
            let mut j = std::mem::take(&mut self.held);
            j.extend_from_slice(chunk);
            joined = j;
            &joined
        };
        // Once anything differs from `chunk` (held bytes sent, an event removed): the bytes to
        // send instead.
        let mut out: Option<Vec<u8>> = (buf.len() != chunk.len()).then(Vec::new);
        let mut start = 0;
        for end_at in EventEnds::new(buf) {
            let event = &buf[start..end_at];
            if is_usage_only_event(event) {
                self.removed += 1;
                out.get_or_insert_with(|| buf[..start].to_vec());
                self.drop_lf = end_at == buf.len() && event.ends_with(b"\r");
            } else if let Some(o) = out.as_mut() {
                o.extend_from_slice(event);
            }
            start = end_at;
        }
        let rest = &buf[start..];
        if end || rest.is_empty() {
            if let Some(o) = out.as_mut() {
                o.extend_from_slice(rest);
            }
            return out;
        }
        let mut o = out.unwrap_or_else(|| buf[..start].to_vec());
        if rest.len() > MAX_HELD_EVENT {
            self.passthrough = true;
            o.extend_from_slice(rest);
        } else {
            self.held.extend_from_slice(rest);
        }
        Some(o)
    }
}

/// Offsets just past each blank line (the end of an SSE event) in `buf`, which starts at the
/// start of an event. Line breaks are `\r\n`, `\n` or `\r`.
struct EventEnds<'a> {
    buf: &'a [u8],
    i: usize,
}

impl<'a> EventEnds<'a> {
    fn new(buf: &'a [u8]) -> Self {
        EventEnds { buf, i: 0 }
    }
}

impl Iterator for EventEnds<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        let mut line_empty = true;
        while self.i < self.buf.len() {
            let at = memchr::memchr2(b'\n', b'\r', &self.buf[self.i..])?;
            if at > 0 {
                line_empty = false;
            }
            self.i += at;
            let b = self.buf[self.i];
            self.i += 1;
            if b == b'\r' && self.buf.get(self.i) == Some(&b'\n') {
                self.i += 1;
            }
            if line_empty {
                return Some(self.i);
            }
            line_empty = true;
        }
        None
    }
}

/// Whether one SSE event is the usage-only chunk: its `data` is a JSON object with `"choices": []`
/// and a `usage` object.
fn is_usage_only_event(event: &[u8]) -> bool {
    if !mentions_usage_object(event) {
        return false;
    }
    let mut data = Vec::new();
    for line in event.split(|&b| b == b'\n' || b == b'\r') {
        if let Some(v) = line.strip_prefix(b"data:") {
            if !data.is_empty() {
                data.push(b'\n');
            }
            data.extend_from_slice(v.strip_prefix(b" ").unwrap_or(v));
        }
    }
    #[derive(serde::Deserialize)]
    struct Chunk {
        choices: Option<Vec<serde::de::IgnoredAny>>,
        usage: Option<Value>,
    }
    match serde_json::from_slice::<Chunk>(&data) {
        Ok(c) => c.choices.is_some_and(|c| c.is_empty()) && c.usage.is_some_and(|u| u.is_object()),
        Err(_) => false,
    }
}

/// Default cap for one SSE line (and one event's joined `data`), in bytes.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// Incremental reader of usage from a server-sent-events stream.
///
/// Feed every body chunk to [`feed`](Self::feed) as it passes, call [`finish`](Self::finish) at end
/// of stream. Memory is bounded by `2 × max_line_bytes`.
#[derive(Debug, Clone)]
pub struct SseUsageReader {
    max_line: usize,
    line: Vec<u8>,
    /// The current line exceeded the cap: drop bytes until its end.
    skipping: bool,
    /// Last byte was `\r`: a following `\n` belongs to the same line break.
    after_cr: bool,
    data: Vec<u8>,
    has_data: bool,
    /// The current event's data exceeded the cap: ignore the event.
    data_overflow: bool,
    partial: Partial,
    skipped_lines: u64,
    /// The line being skipped is a `data` line: keep its tail.
    skip_data: bool,
    tail: Vec<u8>,
}

/// Bytes kept from the end of an oversized data line.
const TAIL_BYTES: usize = 8 * 1024;

/// The last well-formed `"usage": {...}` object in `t` that is not inside a JSON string (its
/// opening quote is not escaped). The tail may begin mid-string; scanning starts at the key.
fn usage_in_tail(t: &[u8]) -> Option<Value> {
    const KEY: &[u8] = b"\"usage\"";
    let mut end = t.len();
    while let Some(i) = memchr::memmem::rfind(&t[..end], KEY) {
        end = i;
        if i > 0 && t[i - 1] == b'\\' {
            continue;
        }
        let mut j = i + KEY.len();
        while j < t.len() && t[j].is_ascii_whitespace() {
            j += 1;
        }
        if t.get(j) != Some(&b':') {
            continue;
        }
        j += 1;
        while j < t.len() && t[j].is_ascii_whitespace() {
            j += 1;
        }
        if t.get(j) != Some(&b'{') {
            continue;
        }
        let Some(close) = balanced_object_end(&t[j..]) else {
            continue;
        };
        if let Ok(v @ Value::Object(_)) = serde_json::from_slice::<Value>(&t[j..j + close]) {
            return Some(v);
        }
    }
    None
}

/// Length of the JSON object starting at `s[0] == b'{'`, string- and escape-aware.
fn balanced_object_end(s: &[u8]) -> Option<usize> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (k, &b) in s.iter().enumerate() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

impl Default for SseUsageReader {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE_BYTES)
    }
}

impl SseUsageReader {
    /// A reader keeping at most `max_line_bytes` of one line / one event's data (minimum 256).
    pub fn new(max_line_bytes: usize) -> Self {
        SseUsageReader {
            max_line: max_line_bytes.max(256),
            line: Vec::new(),
            skipping: false,
            after_cr: false,
            data: Vec::new(),
            has_data: false,
            data_overflow: false,
            partial: Partial::default(),
            skipped_lines: 0,
            skip_data: false,
            tail: Vec::new(),
        }
    }

    /// Consumes one chunk of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if rest[0] == b'\n' {
                    rest = &rest[1..];
                    continue;
                }
            }
            match memchr::memchr2(b'\n', b'\r', rest) {
                Some(i) => {
                    self.push(&rest[..i]);
                    self.after_cr = rest[i] == b'\r';
                    self.end_line();
                    rest = &rest[i + 1..];
                }
                None => {
                    self.push(rest);
                    rest = &[];
                }
            }
        }
    }

    /// Ends the stream: a final event without its terminating blank line is still processed.
    /// Returns the usage seen, if any.
    pub fn finish(&mut self) -> Option<Usage> {
        if !self.line.is_empty() || self.skipping {
            self.end_line();
        }
        self.dispatch();
        self.partial.finish()
    }

    /// Usage seen so far (without flushing a pending line).
    pub fn usage(&self) -> Option<Usage> {
        self.partial.finish()
    }

    /// The `model` reported so far.
    pub fn model(&self) -> Option<&str> {
        self.partial.model.as_deref()
    }

    /// Lines dropped because they exceeded the cap.
    pub fn skipped_lines(&self) -> u64 {
        self.skipped_lines
    }

    /// As [`feed`](Self::feed), passing the events at `quiet` (start and end offsets in
    /// `chunk`, in order) where [`skip_quiet_event`](Self::skip_quiet_event) may: what the
    /// reader finds is what reading the whole chunk finds.
    pub fn feed_passing(&mut self, chunk: &[u8], quiet: &[(usize, usize)]) {
        self.feed_passing_model(chunk, quiet, None);
    }

    /// As [`feed_passing`](Self::feed_passing), with the `model` of the quiet event that starts
    /// at `model.0` (its top-level `model` string as it stands in the event, which the caller
    /// vouches is read as that string, with no other key this reader reads twice): when the
    /// reader has no model yet there, it takes that one and passes the event, as reading it
    /// would have done (issue 19, 2026-12-04: a stream's first chunk, which the output guard
    /// has read whole already, is not parsed a second time for its model).
    pub fn feed_passing_model(
        &mut self,
        chunk: &[u8],
        quiet: &[(usize, usize)],
        model: Option<(usize, &str)>,
    ) {
        let mut fed = 0;
        for &(s, e) in quiet {
            if s < fed || s > e || e > chunk.len() {
                continue;
            }
            self.feed(&chunk[fed..s]);
            #[cfg(test)]
            let read = {
                let mut r = self.clone();
                r.feed(&chunk[s..e]);
                r
            };
            if let Some((_, m)) = model.filter(|&(at, _)| at == s) {
                self.take_model_at_event_start(m, e - s);
            }
            if self.skip_quiet_event(e - s) {
                // In every test build: passing the event leaves the reader as reading it does.
                #[cfg(test)]
                assert_eq!(
                    format!("{read:?}"),
                    format!("{self:?}"),
                    "a passed event would have changed the usage reader"
                );
                fed = e;
            } else {
                fed = s;
            }
        }
        self.feed(&chunk[fed..]);
    }

    /// Passes an event of `len` bytes without reading it, when reading it would change nothing
    /// but where this reader stands (issue 19, 2026-12-04: the output guard frames the stream
    /// and hands its plain chat chunks over, so they are not framed twice). The caller
    /// vouches that the event is `data: `, one line with no usage object for
    /// [`mentions_usage_object`], and `\n\n`. Such an event, read at an event's start (no line
    /// or data held), is dispatched and ends as it began: it has no usage to merge, and its
    /// `model` is not looked for once one is known; it leaves no `\r` pending. False (the
    /// caller feeds it instead) when the reader is not at an event's start, has no model yet,
    /// or the line would pass the cap.
    /// Takes `model` as reading a quiet event (see [`skip_quiet_event`](Self::skip_quiet_event))
    /// of `len` bytes whose top-level `model` it is would take it: when the reader has none yet
    /// and stands at the event's start (else reading it is left to the caller).
    fn take_model_at_event_start(&mut self, model: &str, len: usize) {
        if self.partial.model.is_none()
            && self.line.is_empty()
            && !self.skipping
            && !self.has_data
            && !self.data_overflow
            && len <= self.max_line
        {
            self.partial.merge_model_str(model);
        }
    }

    pub fn skip_quiet_event(&mut self, len: usize) -> bool {
        if !self.line.is_empty()
            || self.skipping
            || self.has_data
            || self.data_overflow
            || self.partial.model.is_none()
            || len > self.max_line
        {
            return false;
        }
        self.after_cr = false;
        true
    }

    fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.skipping {
            if self.skip_data {
                self.push_tail(bytes);
            }
            return;
        }
        if self.line.len() + bytes.len() > self.max_line {
            let line = std::mem::take(&mut self.line);
            self.skip_data = line.iter().chain(bytes).take(4).eq(b"data".iter());
            self.skipping = true;
            self.skipped_lines += 1;
            if self.skip_data {
                self.tail.clear();
                self.push_tail(&line);
                self.push_tail(bytes);
            }
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    /// Keeps the last `TAIL_BYTES` (at most twice that in memory) of an oversized data line.
    fn push_tail(&mut self, bytes: &[u8]) {
        if bytes.len() >= TAIL_BYTES {
            self.tail.clear();
            self.tail
                .extend_from_slice(&bytes[bytes.len() - TAIL_BYTES..]);
            return;
        }
        if self.tail.len() + bytes.len() > 2 * TAIL_BYTES {
            let drop = (self.tail.len() + bytes.len() - TAIL_BYTES).min(self.tail.len());
            self.tail.drain(..drop);
        }
        self.tail.extend_from_slice(bytes);
    }

    fn end_line(&mut self) {
        if self.skipping {
            self.skipping = false;
            // A data line was lost: the event it belonged to is incomplete. Its tail may still
            // hold the usage (Responses API `response.completed` carries the whole output first).
            self.data_overflow = true;
            if self.skip_data {
                if let Some(u) = usage_in_tail(&self.tail) {
                    self.partial.merge_usage(&u);
                }
                self.tail = Vec::new();
            }
            return;
        }
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            self.dispatch();
        } else if let Some(v) = line.strip_prefix(b"data") {
            let v = if let Some(v) = v.strip_prefix(b":") {
                v.strip_prefix(b" ").unwrap_or(v)
            } else if v.is_empty() {
                v
            } else {
                // e.g. `database: ...`: not a data field.
                self.line = line;
                self.line.clear();
                return;
            };
            if self.has_data {
                self.data.push(b'\n');
            }
            self.has_data = true;
            if self.data.len() + v.len() > self.max_line {
                self.data_overflow = true;
                self.data = Vec::new();
            } else if !self.data_overflow {
                self.data.extend_from_slice(v);
            }
        }
        // Other fields (`event:`, `id:`, `retry:`, comments) are not needed: payloads carry `type`.
        self.line = line;
        self.line.clear();
    }

    fn dispatch(&mut self) {
        let data = std::mem::take(&mut self.data);
        let usable = self.has_data && !self.data_overflow;
        self.has_data = false;
        self.data_overflow = false;
        if usable && data != b"[DONE]" {
            // Only parse events that can matter: ones mentioning usage, or the first model seen.
            if mentions_usage_object(&data)
                || (self.partial.model.is_none() && contains(&MODEL_KEY, &data, b"\"model\""))
            {
                if let Some(v) = parse_document(&data) {
                    self.partial.merge_document(&v);
                }
            }
        }
        self.data = data;
        self.data.clear();
    }
}

/// Whether `"usage"` is followed by `:` and `{` (OpenAI sends `"usage":null` on every chunk when
/// `include_usage` is on; those are not worth a JSON parse).
pub(crate) fn mentions_usage_object(data: &[u8]) -> bool {
    const KEY: &[u8] = b"\"usage\"";
    let finder = USAGE_KEY.get_or_init(|| Finder::new(KEY));
    let mut from = 0;
    while let Some(i) = finder.find(&data[from..]) {
        let mut rest = data[from + i + KEY.len()..]
            .iter()
            .skip_while(|b| b.is_ascii_whitespace());
        if rest.next() == Some(&b':') && rest.find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            return true;
        }
        from += i + 1;
    }
    false
}

/// Substring searchers of the keys looked for in every request body and stream event, built
/// once per VM: `memchr::memmem::find` builds one per call, which cost ~1.7 k wasm operators per
/// SSE event, more than searching the event (issue 16).
static USAGE_KEY: OnceLock<Finder<'static>> = OnceLock::new();
static MODEL_KEY: OnceLock<Finder<'static>> = OnceLock::new();
static STREAM_OPTIONS_KEY: OnceLock<Finder<'static>> = OnceLock::new();

fn contains(finder: &'static OnceLock<Finder<'static>>, hay: &[u8], needle: &'static [u8]) -> bool {
    finder
        .get_or_init(|| Finder::new(needle))
        .find(hay)
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_info() {
        let r = parse_request(
            br#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":50,
                "stream":true,"stream_options":{"include_usage":true}}"#,
        );
        assert_eq!(
            r,
            RequestInfo {
                model: Some("gpt-4o".into()),
                max_tokens: Some(50),
                stream: true,
                include_usage: true,
            }
        );
        let r = parse_request(br#"{"model":"o3","max_completion_tokens":9,"max_tokens":1}"#);
        assert_eq!(r.max_tokens, Some(9));
        let r = parse_request(
            br#"{"model":"gpt-4.1","input":"x","max_output_tokens":7,"stream":"yes"}"#,
        );
        assert_eq!((r.max_tokens, r.stream), (Some(7), false));
        assert_eq!(parse_request(b"garbage"), RequestInfo::default());
        assert_eq!(
            parse_request(br#"{"model":5,"max_tokens":-1}"#),
            RequestInfo::default()
        );
    }

    #[test]
    fn openai_chat_json() {
        let body = br#"{"id":"x","object":"chat.completion","model":"gpt-4o-2024-08-06",
            "choices":[{"message":{"role":"assistant","content":"hi"}}],
            "usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,
              "prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0},
              "completion_tokens_details":{"reasoning_tokens":4}}}"#;
        let u = parse_json_usage(body).unwrap();
        assert_eq!(
            u,
            Usage {
                input_tokens: 19,
                output_tokens: 10,
                total_tokens: 29,
                cached_input_tokens: 8,
                cache_creation_input_tokens: 0,
                reasoning_tokens: 4,
                model: Some("gpt-4o-2024-08-06".into()),
            }
        );
    }

    #[test]
    fn openai_embeddings_json() {
        let body = br#"{"object":"list","data":[],"model":"text-embedding-3-small",
            "usage":{"prompt_tokens":8,"total_tokens":8}}"#;
        let u = parse_json_usage(body).unwrap();
        assert_eq!((u.input_tokens, u.output_tokens, u.total()), (8, 0, 8));
    }

    #[test]
    fn openai_responses_json() {
        let body = br#"{"id":"resp_1","object":"response","model":"gpt-4.1",
            "usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":6},
              "output_tokens":87,"output_tokens_details":{"reasoning_tokens":20},"total_tokens":123}}"#;
        let u = parse_json_usage(body).unwrap();
        assert_eq!(
            (
                u.input_tokens,
                u.output_tokens,
                u.cached_input_tokens,
                u.reasoning_tokens
            ),
            (36, 87, 6, 20)
        );
        assert_eq!(u.total(), 123);
        assert_eq!(u.model.as_deref(), Some("gpt-4.1"));
    }

    #[test]
    fn anthropic_json() {
        let body =
            br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
            "content":[],"usage":{"input_tokens":100,"cache_creation_input_tokens":20,
            "cache_read_input_tokens":300,"output_tokens":50}}"#;
        let u = parse_json_usage(body).unwrap();
        assert_eq!(u.input_tokens, 420);
        assert_eq!(u.cached_input_tokens, 300);
        assert_eq!(u.cache_creation_input_tokens, 20);
        assert_eq!(u.output_tokens, 50);
        assert_eq!(u.total(), 470);
    }

    #[test]
    fn json_without_usage_or_garbage() {
        assert_eq!(parse_json_usage(br#"{"model":"m"}"#), None);
        assert_eq!(parse_json_usage(b"not json"), None);
        assert_eq!(parse_json_usage(b"[1,2]"), None);
        assert_eq!(parse_json_usage(br#"{"usage":"lots"}"#), None);
        assert_eq!(parse_json_usage(br#"{"usage":{"prompt_tokens":-1}}"#), None);
        assert_eq!(parse_json_usage(&[0xff, 0xfe, b'{']), None);
        // Absurd numbers saturate instead of overflowing.
        let u = parse_json_usage(
            br#"{"usage":{"input_tokens":18446744073709551615,"output_tokens":5,"cache_read_input_tokens":9}}"#,
        )
        .unwrap();
        assert_eq!(u.input_tokens, u64::MAX);
        assert_eq!(u.total(), u64::MAX);
    }

    const OPENAI_SSE: &str = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"delta\":{\"content\":\"h\u{e9}llo \u{1F600}\"}}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n\
data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n\
data: [DONE]\n\n";

    const ANTHROPIC_SSE: &str = "event: message_start\r\n\
data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"model\":\"claude-3-5-haiku\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\r\n\r\n\
event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n\
event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\u{4e2d}\u{6587}\"}}\r\n\r\n\
event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\r\n\r\n\
event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":42}}\r\n\r\n\
event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";

    const RESPONSES_SSE: &str = "event: response.created\n\
data: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"gpt-4.1\",\"usage\":null}}\n\n\
event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n\
event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\",\"model\":\"gpt-4.1\",\"usage\":{\"input_tokens\":10,\"output_tokens\":3,\"total_tokens\":13}}}\n\n";

    fn expect_openai(u: &Usage) {
        assert_eq!((u.input_tokens, u.output_tokens, u.total()), (12, 7, 19));
        assert_eq!(u.cached_input_tokens, 2);
        assert_eq!(u.model.as_deref(), Some("gpt-4o-mini"));
    }

    fn expect_anthropic(u: &Usage) {
        assert_eq!((u.input_tokens, u.output_tokens), (30, 42));
        assert_eq!(u.cached_input_tokens, 5);
        assert_eq!(u.model.as_deref(), Some("claude-3-5-haiku"));
    }

    fn expect_responses(u: &Usage) {
        assert_eq!((u.input_tokens, u.output_tokens, u.total()), (10, 3, 13));
        assert_eq!(u.model.as_deref(), Some("gpt-4.1"));
    }

    fn read_whole(s: &[u8]) -> Option<Usage> {
        let mut r = SseUsageReader::default();
        r.feed(s);
        r.finish()
    }

    #[test]
    fn sse_formats_whole() {
        expect_openai(&read_whole(OPENAI_SSE.as_bytes()).unwrap());
        expect_anthropic(&read_whole(ANTHROPIC_SSE.as_bytes()).unwrap());
        expect_responses(&read_whole(RESPONSES_SSE.as_bytes()).unwrap());
    }

    #[test]
    fn sse_split_at_every_byte_boundary() {
        type Check = fn(&Usage);
        let cases: [(&str, Check); 3] = [
            (OPENAI_SSE, expect_openai),
            (ANTHROPIC_SSE, expect_anthropic),
            (RESPONSES_SSE, expect_responses),
        ];
        for (stream, check) in cases {
            let b = stream.as_bytes();
            for i in 0..=b.len() {
                let mut r = SseUsageReader::default();
                r.feed(&b[..i]);
                r.feed(&b[i..]);
                check(&r.finish().unwrap_or_else(|| panic!("split at {i}")));
            }
            for j in (0..=b.len()).step_by(29) {
                for i in 0..=j {
                    let mut r = SseUsageReader::default();
                    r.feed(&b[..i]);
                    r.feed(&b[i..j]);
                    r.feed(&b[j..]);
                    check(&r.finish().unwrap());
                }
            }
            // One byte at a time.
            let mut r = SseUsageReader::default();
            for byte in b {
                r.feed(std::slice::from_ref(byte));
            }
            check(&r.finish().unwrap());
        }
    }

    #[test]
    fn sse_without_trailing_blank_line_and_bare_cr() {
        let s = "data: {\"model\":\"m\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}";
        let u = read_whole(s.as_bytes()).unwrap();
        assert_eq!((u.input_tokens, u.output_tokens), (1, 2));
        let s = "data: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\r\r";
        let u = read_whole(s.as_bytes()).unwrap();
        assert_eq!((u.input_tokens, u.output_tokens), (3, 4));
    }

    #[test]
    fn sse_multiline_data_is_joined() {
        let s = "data: {\"usage\":\ndata: {\"prompt_tokens\":5,\"completion_tokens\":6}}\n\n";
        let u = read_whole(s.as_bytes()).unwrap();
        assert_eq!((u.input_tokens, u.output_tokens), (5, 6));
    }

    #[test]
    fn sse_huge_line_is_skipped_not_accumulated() {
        let mut r = SseUsageReader::new(1024);
        r.feed(b"data: {\"x\":\"");
        for _ in 0..1000 {
            r.feed(&[b'a'; 1000]);
            assert!(r.line.capacity() <= 2048 && r.data.capacity() <= 2048);
            assert!(r.tail.capacity() <= 4 * TAIL_BYTES);
        }
        r.feed(b"\",\"usage\":{\"prompt_tokens\":999}}\n\n");
        r.feed(OPENAI_SSE.as_bytes());
        assert_eq!(r.skipped_lines(), 1);
        expect_openai(&r.finish().unwrap());
    }

    /// Responses API: `response.completed` repeats the whole output before `usage`, so its line can
    /// exceed the cap; the usage is recovered from the line's tail.
    #[test]
    fn sse_oversized_final_event_usage_from_tail() {
        let text = "lorem \\\"usage\\\":{\\\"input_tokens\\\":1} ipsum ".repeat(4000);
        let stream = format!(
            "event: response.created\ndata: {{\"type\":\"response.created\",\"response\":{{\"model\":\"gpt-4.1\",\"usage\":null}}}}\n\n\
             event: response.completed\ndata: {{\"type\":\"response.completed\",\"response\":{{\"model\":\"gpt-4.1\",\
             \"output\":[{{\"type\":\"message\",\"content\":[{{\"type\":\"output_text\",\"text\":\"{text}\"}}]}}],\
             \"usage\":{{\"input_tokens\":10,\"input_tokens_details\":{{\"cached_tokens\":0}},\"output_tokens\":30000,\
             \"output_tokens_details\":{{\"reasoning_tokens\":0}},\"total_tokens\":30010}},\"user\":null,\"metadata\":{{}}}}}}\n\n"
        );
        assert!(stream.len() > 2 * DEFAULT_MAX_LINE_BYTES);
        let b = stream.as_bytes();
        for step in [1usize, 7, 1000, 100_000, b.len()] {
            let mut r = SseUsageReader::default();
            for chunk in b.chunks(step) {
                r.feed(chunk);
            }
            let u = r.finish().unwrap_or_else(|| panic!("step {step}"));
            assert_eq!(
                (u.input_tokens, u.output_tokens, u.total()),
                (10, 30000, 30010)
            );
            assert_eq!(u.model.as_deref(), Some("gpt-4.1"));
            assert_eq!(r.skipped_lines(), 1);
        }
        // Only the escaped look-alike in the tail: nothing is taken from inside strings.
        let fake = format!("data: {{\"x\":\"{text}\"}}\n\n");
        assert_eq!(read_whole(fake.as_bytes()), None);
    }

    #[test]
    fn sse_hostile_inputs_do_not_panic() {
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: &[u8] = b"data: {}{}\"\"\\usage\r\n:[]0123456789\xff\xfe\xc3";
        for _ in 0..1000 {
            let mut r = SseUsageReader::new(256);
            for _ in 0..50 {
                let len = (next() % 40) as usize;
                let chunk: Vec<u8> = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                r.feed(&chunk);
            }
            let _ = r.finish();
        }
        let garbage: &[&[u8]] = &[
            b"data:",
            b"data",
            b"\n\n\n\r\r\r",
            b"data: {\"usage\":{\"prompt_tokens\":\"x\"}}\n\n",
            b"data: {\"type\":\"message_start\",\"message\":5}\n\n",
            b"data: {\"type\":\"response.completed\",\"response\":[]}\n\n",
            b"data: \xff\xfe\xfd\n\n",
            b"database: {\"usage\":{\"prompt_tokens\":1}}\n\n",
            b": comment\n\n",
            b"data: {\"usage\":{\"prompt_tokens\":1e3}}\n\n",
        ];
        for g in garbage {
            assert_eq!(read_whole(g), None, "{:?}", String::from_utf8_lossy(g));
        }
    }

    #[test]
    fn stream_usage_is_added_only_where_missing() {
        // No stream_options: spliced in, every other byte kept.
        let body = br#" {"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let out = add_stream_usage(body).unwrap();
        assert_eq!(
            out,
            br#" {"stream_options":{"include_usage":true},"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        );
        assert!(parse_request(&out).include_usage);
        // Other options kept, include_usage set; `false` and `null` overridden.
        for opts in [
            r#"{"include_obfuscation":false}"#,
            r#"{"include_usage":false}"#,
            "null",
            "5",
        ] {
            let body = format!(r#"{{"stream":true,"stream_options":{opts},"prompt":"x"}}"#);
            let out = add_stream_usage(body.as_bytes()).unwrap();
            let v: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["stream_options"]["include_usage"], true, "{opts}");
            assert_eq!(v["prompt"], "x");
            if opts.contains("obfuscation") {
                assert_eq!(v["stream_options"]["include_obfuscation"], false);
            }
            // Exactly one stream_options member.
            assert_eq!(
                String::from_utf8_lossy(&out)
                    .matches("stream_options")
                    .count(),
                1
            );
        }
        // Nothing to do: not streamed, already asked, not JSON, not an object.
        for body in [
            r#"{"stream":false,"prompt":"x"}"#,
            r#"{"prompt":"x"}"#,
            r#"{"stream":"true"}"#,
            r#"{"stream":true,"stream_options":{"include_usage":true}}"#,
            "stream=true",
            "[1]",
            "",
        ] {
            assert_eq!(add_stream_usage(body.as_bytes()), None, "{body}");
        }
    }

    /// The stream as the mock model sends it with include_usage (each chunk has `"usage":null`,
    /// then the usage-only chunk, then `[DONE]`).
    const STREAM_HEAD: &str = "data: {\"choices\":[{\"delta\":{\"content\":\"tok0\",\"role\":\"assistant\"},\"finish_reason\":null,\"index\":0}],\"model\":\"m\",\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n\
data: {\"choices\":[{\"delta\":{\"content\":\" tok1\"},\"finish_reason\":\"stop\",\"index\":0}],\"model\":\"m\",\"object\":\"chat.completion.chunk\",\"usage\":null}\n\n";
    const USAGE_CHUNK: &str = "data: {\"choices\":[],\"model\":\"m\",\"object\":\"chat.completion.chunk\",\"usage\":{\"completion_tokens\":2,\"prompt_tokens\":9,\"total_tokens\":11}}\n\n";
    const DONE: &str = "data: [DONE]\n\n";

    fn strip_in_pieces(stream: &[u8], cuts: &[usize]) -> (Vec<u8>, u32) {
        let mut st = UsageChunkStripper::default();
        let mut out = Vec::new();
        let mut from = 0;
        let points: Vec<usize> = cuts.iter().copied().chain([stream.len()]).collect();
        for (k, &to) in points.iter().enumerate() {
            let chunk = &stream[from..to];
            match st.filter(chunk, k + 1 == points.len()) {
                None => out.extend_from_slice(chunk),
                Some(b) => out.extend_from_slice(&b),
            }
            from = to;
        }
        (out, st.removed())
    }

    #[test]
    fn usage_chunk_is_removed_at_any_split() {
        let full = format!("{STREAM_HEAD}{USAGE_CHUNK}{DONE}");
        let want = format!("{STREAM_HEAD}{DONE}");
        let b = full.as_bytes();
        // Whole, one event per chunk, and split at every byte (twice).
        assert_eq!(strip_in_pieces(b, &[]), (want.clone().into_bytes(), 1));
        for i in 0..=b.len() {
            assert_eq!(
                strip_in_pieces(b, &[i]),
                (want.clone().into_bytes(), 1),
                "cut {i}"
            );
        }
        for i in (0..=b.len()).step_by(7) {
            for j in (i..=b.len()).step_by(5) {
                assert_eq!(
                    strip_in_pieces(b, &[i, j]).0,
                    want.as_bytes(),
                    "cuts {i} {j}"
                );
            }
        }
        let every: Vec<usize> = (1..b.len()).collect();
        assert_eq!(strip_in_pieces(b, &every).0, want.as_bytes());
        // CRLF line breaks.
        let crlf = full.replace('\n', "\r\n");
        let want_crlf = want.replace('\n', "\r\n");
        for i in 0..=crlf.len() {
            assert_eq!(
                strip_in_pieces(crlf.as_bytes(), &[i]).0,
                want_crlf.as_bytes(),
                "{i}"
            );
        }
        // The reader, fed the original stream, still sees the usage.
        let mut r = SseUsageReader::default();
        r.feed(b);
        assert_eq!(r.finish().unwrap().total(), 11);
    }

    #[test]
    fn stripper_keeps_everything_else() {
        // No usage chunk, chunks ending on event boundaries: nothing is copied or changed.
        let mut st = UsageChunkStripper::default();
        assert_eq!(st.filter(STREAM_HEAD.as_bytes(), false), None);
        assert_eq!(st.filter(DONE.as_bytes(), true), None);
        // Usage alongside choices (some providers), Anthropic's and the Responses API's events,
        // and a usage object inside a string: all kept.
        for ev in [
            "data: {\"choices\":[{\"delta\":{}}],\"usage\":{\"prompt_tokens\":1}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":4}}\n\n",
            "data: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":1}}}\n\n",
            "data: {\"choices\":[],\"x\":\"\\\"usage\\\":{}\"}\n\n",
            "data: not json \"usage\":{}\n\n",
        ] {
            let (out, removed) = strip_in_pieces(ev.as_bytes(), &[ev.len() / 2]);
            assert_eq!((out, removed), (ev.as_bytes().to_vec(), 0), "{ev}");
        }
        // An unterminated last event is flushed at the end of the stream.
        let tail = format!("{STREAM_HEAD}data: [DONE]");
        assert_eq!(
            strip_in_pieces(tail.as_bytes(), &[tail.len() - 3]).0,
            tail.as_bytes()
        );
        // An event larger than the cap: the stream passes untouched from there on.
        let big = format!(
            "data: {{\"x\":\"{}\"}}\n\n{USAGE_CHUNK}",
            "a".repeat(MAX_HELD_EVENT + 10)
        );
        let (out, removed) = strip_in_pieces(big.as_bytes(), &[10, MAX_HELD_EVENT + 20]);
        assert_eq!((out, removed), (big.into_bytes(), 0));
    }

    #[test]
    fn sse_model_only_from_first_chunk_without_usage_is_not_usage() {
        let mut r = SseUsageReader::default();
        r.feed(b"data: {\"model\":\"gpt-x\",\"choices\":[]}\n\n");
        assert_eq!(r.model(), Some("gpt-x"));
        assert_eq!(r.finish(), None);
    }
}

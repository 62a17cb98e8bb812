//! Text extraction: which parts of a request body the model will read.
//!
//! The body is classified by API shape (OpenAI chat / completions / responses, Anthropic
//! messages, embeddings, any other JSON, or plain text) and the prompt text is pulled out of it.
//! All extracted strings are concatenated into one buffer (`Extracted::text`), separated by
//! `'\n'`, so that a phrase split across two messages is still seen as one phrase. Each
//! string's range in that buffer is kept (`segments`) so that redaction can rewrite exactly the
//! JSON string a match came from.
//!
//! Never panics: invalid UTF-8 is decoded lossily, malformed or too deeply nested JSON
//! (serde_json stops at 128 levels) is reported as `parse_error` and the raw text is used.

use serde_json::Value;
use std::borrow::Cow;
use std::ops::Range;

/// The API a request body was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiShape {
    /// OpenAI chat completions (`messages`).
    Chat,
    /// OpenAI legacy completions (`prompt`).
    Completions,
    /// OpenAI Responses API (`input` items, `instructions`).
    Responses,
    /// Anthropic messages (`messages` plus top-level `system`, content blocks).
    AnthropicMessages,
    /// Embeddings (`input` strings).
    Embeddings,
    /// Some other JSON document: every string value is scanned.
    OtherJson,
    /// Not JSON (or JSON that failed to parse): the raw text is scanned.
    Text,
}

impl ApiShape {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiShape::Chat => "chat",
            ApiShape::Completions => "completions",
            ApiShape::Responses => "responses",
            ApiShape::AnthropicMessages => "anthropic_messages",
            ApiShape::Embeddings => "embeddings",
            ApiShape::OtherJson => "other_json",
            ApiShape::Text => "text",
        }
    }
}

/// Request facts the limits / telemetry code needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    /// Top-level `model`, if a string.
    pub model: Option<String>,
    /// Top-level `stream` (false when absent).
    pub stream: bool,
    /// `max_tokens`, else `max_completion_tokens`, else `max_output_tokens`.
    pub max_tokens: Option<u64>,
    /// Total bytes of extracted prompt text (sum of the scanned strings).
    pub prompt_bytes: usize,
}

/// Which message roles are scanned. Content that has no role (a completions `prompt`,
/// embeddings `input`, other JSON) is always scanned; tool definitions and `instructions`
/// count as role `system`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleFilter {
    All,
    Only(Vec<String>),
}

impl RoleFilter {
    pub fn allows(&self, role: &str) -> bool {
        match self {
            RoleFilter::All => true,
            RoleFilter::Only(r) => r.iter().any(|x| x.eq_ignore_ascii_case(role)),
        }
    }
}

/// The parsed document, kept so that redaction can rewrite it.
#[derive(Debug, Clone)]
pub enum Doc {
    Json(Value),
    /// `application/x-www-form-urlencoded`: decoded (key, value) pairs; values are scanned.
    Form(Vec<(String, String)>),
    /// Raw text (`Extracted::text` is the whole body).
    Text,
}

/// The result of extraction.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub shape: ApiShape,
    pub meta: RequestMeta,
    /// All scanned strings, `'\n'`-separated.
    pub text: String,
    /// Range of each scanned string in `text`, in traversal order.
    pub segments: Vec<Range<usize>>,
    /// The body looked like JSON but did not parse (or nested deeper than 128 levels).
    pub parse_error: bool,
    pub doc: Doc,
}

/// Extracts the prompt text from a request body.
pub fn extract(body: &[u8], content_type: Option<&str>, roles: &RoleFilter) -> Extracted {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    // `from_utf8` first: it validates ASCII a word at a time, while `from_utf8_lossy` walks
    // byte by byte even when the body is valid (14 instructions per byte measured).
    let src: Cow<'_, str> = match std::str::from_utf8(body) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(body),
    };
    if ct.contains("x-www-form-urlencoded") {
        return extract_form(&src);
    }
    let first = src.trim_start().as_bytes().first().copied();
    let json_candidate = ct.contains("json") || matches!(first, Some(b'{') | Some(b'['));
    if json_candidate {
        match serde_json::from_str::<Value>(&src) {
            Ok(mut v) => {
                let mut out = Extracted {
                    shape: detect_shape(&v),
                    meta: read_meta(&v),
                    text: String::new(),
                    segments: Vec::new(),
                    parse_error: false,
                    doc: Doc::Text,
                };
                {
                    let text = &mut out.text;
                    let segs = &mut out.segments;
                    walk(&mut v, out.shape, roles, &mut |s: &mut String| {
                        if !text.is_empty() {
                            text.push('\n');
                        }
                        let start = text.len();
                        text.push_str(s);
                        segs.push(start..text.len());
                    });
                }
                out.meta.prompt_bytes = out.segments.iter().map(|r| r.len()).sum();
                out.doc = Doc::Json(v);
                return out;
            }
            Err(_) => {
                let mut e = raw_text(src.into_owned());
                e.parse_error = true;
                return e;
            }
        }
    }
    raw_text(src.into_owned())
}

fn raw_text(text: String) -> Extracted {
    let len = text.len();
    Extracted {
        shape: ApiShape::Text,
        meta: RequestMeta {
            prompt_bytes: len,
            ..RequestMeta::default()
        },
        text,
        segments: std::iter::once(0..len).collect(),
        parse_error: false,
        doc: Doc::Text,
    }
}

fn extract_form(src: &str) -> Extracted {
    let mut pairs = Vec::new();
    let mut text = String::new();
    let mut segments = Vec::new();
    for part in src.split('&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let (k, v) = (percent_decode_form(k), percent_decode_form(v));
        if !text.is_empty() {
            text.push('\n');
        }
        let start = text.len();
        text.push_str(&v);
        segments.push(start..text.len());
        pairs.push((k, v));
    }
    let prompt_bytes = segments.iter().map(|r: &Range<usize>| r.len()).sum();
    Extracted {
        shape: ApiShape::Text,
        meta: RequestMeta {
            prompt_bytes,
            ..RequestMeta::default()
        },
        text,
        segments,
        parse_error: false,
        doc: Doc::Form(pairs),
    }
}

/// Value of an ASCII hex digit.
pub(crate) fn hexval(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Form decoding: `+` is a space, `%XX` a byte; invalid escapes are kept literally.
pub fn percent_decode_form(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hexval(b[i + 1]), hexval(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Form encoding for redacted values.
pub fn percent_encode_form(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const H: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(H[(b >> 4) as usize] as char);
                out.push(H[(b & 15) as usize] as char);
            }
        }
    }
    out
}

fn detect_shape(v: &Value) -> ApiShape {
    let Some(o) = v.as_object() else {
        return ApiShape::OtherJson;
    };
    if let Some(msgs) = o.get("messages").and_then(Value::as_array) {
        let anthropic_block = msgs.iter().any(|m| {
            m.get("content")
                .and_then(Value::as_array)
                .is_some_and(|parts| {
                    parts.iter().any(|p| {
                        matches!(
                            p.get("type").and_then(Value::as_str),
                            Some("tool_result") | Some("tool_use") | Some("thinking")
                        ) || p.get("source").is_some()
                    })
                })
        });
        let anthropic_tools = o
            .get("tools")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|t| t.get("input_schema").is_some()));
        if o.contains_key("system")
            || o.contains_key("anthropic_version")
            || anthropic_block
            || anthropic_tools
        {
            return ApiShape::AnthropicMessages;
        }
        return ApiShape::Chat;
    }
    if o.contains_key("prompt") {
        return ApiShape::Completions;
    }
    if let Some(input) = o.get("input") {
        let items = input
            .as_array()
            .is_some_and(|a| a.iter().any(Value::is_object));
        let responses_keys = [
            "instructions",
            "previous_response_id",
            "max_output_tokens",
            "reasoning",
            "tools",
            "store",
            "stream",
        ];
        if items || responses_keys.iter().any(|k| o.contains_key(*k)) {
            return ApiShape::Responses;
        }
        return ApiShape::Embeddings;
    }
    ApiShape::OtherJson
}

fn read_meta(v: &Value) -> RequestMeta {
    let mut m = RequestMeta::default();
    if let Some(o) = v.as_object() {
        m.model = o.get("model").and_then(Value::as_str).map(str::to_owned);
        m.stream = o.get("stream").and_then(Value::as_bool).unwrap_or(false);
        m.max_tokens = ["max_tokens", "max_completion_tokens", "max_output_tokens"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_u64));
    }
    m
}

/// Visits, in a fixed order, every string of `v` that the model reads and that `roles` allows.
/// Used both for extraction and (with the same order) for redaction.
pub fn walk(v: &mut Value, shape: ApiShape, roles: &RoleFilter, f: &mut dyn FnMut(&mut String)) {
    match shape {
        ApiShape::Chat | ApiShape::AnthropicMessages => {
            let Some(o) = v.as_object_mut() else { return };
            if roles.allows("system") {
                if let Some(s) = o.get_mut("system") {
                    content(s, f);
                }
                if let Some(tools) = o.get_mut("tools") {
                    tool_defs(tools, f);
                }
                if let Some(funcs) = o.get_mut("functions") {
                    tool_defs(funcs, f);
                }
            }
            if let Some(msgs) = o.get_mut("messages").and_then(Value::as_array_mut) {
                for m in msgs {
                    message(m, roles, f);
                }
            }
        }
        ApiShape::Completions => {
            if let Some(p) = v.get_mut("prompt") {
                strings_shallow(p, f);
            }
            if let Some(s) = v.get_mut("suffix") {
                strings_shallow(s, f);
            }
        }
        ApiShape::Embeddings => {
            if let Some(p) = v.get_mut("input") {
                strings_shallow(p, f);
            }
        }
        ApiShape::Responses => {
            let Some(o) = v.as_object_mut() else { return };
            if roles.allows("system") {
                if let Some(s) = o.get_mut("instructions") {
                    strings_shallow(s, f);
                }
                if let Some(tools) = o.get_mut("tools") {
                    tool_defs(tools, f);
                }
            }
            match o.get_mut("input") {
                Some(Value::String(s)) if roles.allows("user") => f(s),
                Some(Value::Array(items)) => {
                    for it in items {
                        match it {
                            Value::String(s) if roles.allows("user") => f(s),
                            Value::Object(_) => message(it, roles, f),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        ApiShape::OtherJson => all_strings(v, f),
        ApiShape::Text => {}
    }
}

/// One chat / Anthropic message or Responses input item.
fn message(m: &mut Value, roles: &RoleFilter, f: &mut dyn FnMut(&mut String)) {
    let Some(o) = m.as_object_mut() else {
        if let Value::String(s) = m {
            f(s)
        }
        return;
    };
    let ty = o.get("type").and_then(Value::as_str).unwrap_or("");
    let role: String = match o.get("role").and_then(Value::as_str) {
        Some(r) => r.to_owned(),
        None => match ty {
            "function_call_output" | "custom_tool_call_output" => "tool".to_owned(),
            "function_call" | "custom_tool_call" | "reasoning" => "assistant".to_owned(),
            _ => "user".to_owned(),
        },
    };
    if !roles.allows(&role) {
        return;
    }
    if let Some(Value::String(s)) = o.get_mut("name") {
        f(s);
    }
    for key in ["content", "output", "arguments", "input", "text"] {
        if let Some(c) = o.get_mut(key) {
            content(c, f);
        }
    }
    if let Some(fc) = o.get_mut("function_call") {
        if let Some(Value::String(s)) = fc.get_mut("arguments") {
            f(s);
        }
    }
    if let Some(Value::Array(calls)) = o.get_mut("tool_calls") {
        for c in calls {
            if let Some(Value::String(s)) = c.pointer_mut("/function/arguments") {
                f(s);
            }
        }
    }
}

/// Message content: a string, or an array of parts / blocks.
fn content(c: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match c {
        Value::String(s) => f(s),
        Value::Array(parts) => {
            for p in parts {
                match p {
                    Value::String(s) => f(s),
                    Value::Object(po) => {
                        let ty = po.get("type").and_then(Value::as_str).unwrap_or("text");
                        match ty {
                            "image_url" | "image" | "input_image" | "input_audio" | "file"
                            | "input_file" | "document" | "redacted_thinking" => {}
                            "tool_use" => {
                                if let Some(i) = po.get_mut("input") {
                                    all_strings(i, f);
                                }
                            }
                            _ => {
                                for key in ["text", "content", "thinking"] {
                                    if let Some(t) = po.get_mut(key) {
                                        content(t, f);
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Value::Object(_) => all_strings(c, f),
        _ => {}
    }
}

/// `tools` / `functions` definitions: descriptions (and parameter descriptions) reach the model.
fn tool_defs(t: &mut Value, f: &mut dyn FnMut(&mut String)) {
    let Some(arr) = t.as_array_mut() else { return };
    for tool in arr {
        let Some(o) = tool.as_object_mut() else {
            continue;
        };
        if let Some(Value::String(s)) = o.get_mut("description") {
            f(s);
        }
        if let Some(func) = o.get_mut("function") {
            if let Some(Value::String(s)) = func.get_mut("description") {
                f(s);
            }
        }
    }
}

/// A string or an array of strings (token arrays are skipped).
fn strings_shallow(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => {
            for x in a {
                match x {
                    Value::String(s) => f(s),
                    Value::Array(_) => strings_shallow(x, f),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn all_strings(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => {
            for x in a {
                all_strings(x, f);
            }
        }
        Value::Object(o) => {
            for (_, x) in o.iter_mut() {
                all_strings(x, f);
            }
        }
        _ => {}
    }
}

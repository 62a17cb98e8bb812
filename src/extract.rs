//! Text extraction: every string of a request body the model may read, with attribution.
//!
//! The principle (issue 17): **every string value of a JSON body is inspected**, whatever the
//! API shape, the content type or the keys present. The shape (chosen by request path first, then
//! by keys) only labels the request and supplies its metadata; attribution (which message role a
//! string belongs to) comes from the nearest enclosing object with a `role` (or a Responses item
//! `type`), and top-level system fields (`system`, `instructions`, `tools`, ...) count as role
//! `system`. The only strings left out are provably opaque: base64 payloads of images, audio and
//! other binary files (data URIs, or `data`/`bytes`/`file_data` beside a non-text media type;
//! recorded in `not_inspected`), and short one-token values of structural keys (`role`, `type`,
//! `model`, ids). Base64 payloads of text files (text/*, JSON, CSV, markdown, HTML) are decoded
//! and inspected.
//!
//! All extracted strings are concatenated into one buffer (`Extracted::text`), separated by
//! `'\n'`, so that a phrase split across two strings is still seen as one phrase. Each string's
//! range in that buffer is kept (`segments`) so that redaction can rewrite exactly the JSON
//! string a match came from.
//!
//! The body is sniffed, not trusted: anything that parses as JSON is inspected as JSON whatever
//! its content type; UTF-8 with a BOM, UTF-16 and UTF-32 (with or without BOM) are decoded
//! first; the JSON dialect other parsers accept (`NaN`, `Infinity`, numbers beyond `f64`, lone
//! surrogate escapes) is read too. Duplicate keys are a [`BodyProblem`] (an upstream parser may
//! read the value the filter did not), as is nesting deeper than 128 levels. A body that is not
//! JSON is inspected as text after decoding JSON string escapes; form bodies by every key and
//! value; multipart bodies by their text parts.
//!
//! Never panics: invalid UTF-8 is decoded lossily, malformed JSON is reported as `parse_error`.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
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

/// Who a scanned string is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Outside any message: a completions `prompt`, embeddings `input`, other JSON, text bodies.
    Unattributed,
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unattributed => "none",
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// A message's `role` value. Unknown roles count as `user` (the conservative reading).
    fn of(s: &str) -> Role {
        const NAMES: [(&str, Role); 9] = [
            ("system", Role::System),
            ("developer", Role::Developer),
            ("user", Role::User),
            ("human", Role::User),
            ("assistant", Role::Assistant),
            ("model", Role::Assistant),
            ("ai", Role::Assistant),
            ("tool", Role::Tool),
            ("function", Role::Tool),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map_or(Role::User, |(_, r)| *r)
    }

    fn allowed(self, roles: &RoleFilter) -> bool {
        self == Role::Unattributed || roles.allows(self.as_str())
    }
}

/// The parsed document, kept so that redaction can rewrite it.
#[derive(Debug, Clone)]
pub enum Doc {
    Json(Value),
    /// `application/x-www-form-urlencoded`: decoded (key, value) pairs; segments `2i` and
    /// `2i + 1` are pair `i`'s key and value.
    Form(Vec<(String, String)>),
    /// Raw text (`Extracted::text` is the whole body).
    Text,
    /// Text decoded from the body (escapes, another charset, multipart parts): the scanned text
    /// is not the body's bytes, so it cannot be redacted in place (redaction blocks instead).
    Decoded,
}

/// Why a body is refused before inspection: what the filter read could differ from what the
/// upstream reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyProblem {
    /// The same key twice in one object (the JSON path of the second), and duplicates are not
    /// allowed: parsers disagree on which value wins.
    DuplicateKey(String),
    /// Nested deeper than 128 levels.
    TooDeep,
}

impl BodyProblem {
    /// The audit reason and error code.
    pub fn reason(&self) -> &'static str {
        match self {
            BodyProblem::DuplicateKey(_) => "duplicate_key",
            BodyProblem::TooDeep => "json_too_deep",
        }
    }

    /// The client-facing message (names the JSON path, never a value).
    pub fn message(&self) -> String {
        match self {
            BodyProblem::DuplicateKey(p) => format!("The request body has a duplicate key at {p}."),
            BodyProblem::TooDeep => "The request body nests deeper than 128 levels.".to_owned(),
        }
    }
}

/// The text encoding the body arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
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
    /// The role each segment is attributed to (same length as `segments`).
    pub roles: Vec<Role>,
    /// Segments whose text was decoded from an embedded base64 text file: redaction replaces
    /// the whole string.
    pub decoded: Vec<usize>,
    /// Media types of embedded files that were recognised but not inspected (images, audio,
    /// PDF, office documents, ...).
    pub not_inspected: Vec<String>,
    /// The body looked like JSON but did not parse, even in the lenient dialect.
    pub parse_error: bool,
    /// The body must be refused: what the filter read could differ from what the upstream reads.
    pub problem: Option<BodyProblem>,
    /// The body is of no type the filter reads as structure: not JSON (not even in the lenient
    /// dialect, and not JSON-looking: that is `parse_error`), not a form, not multipart with a
    /// boundary, and its content type (absent included) is not `text/*`. It was read as text
    /// (JSON escapes decoded); `unknown_content_type` says what the filter does with it.
    pub unknown_content: bool,
    pub charset: Charset,
    /// The body's bytes are not valid UTF-8 (it was read after a lossy decoding, or in another
    /// charset whose bytes are not UTF-8).
    pub invalid_utf8: bool,
    pub doc: Doc,
}

impl Extracted {
    /// Reads `model`, `stream` and the token fields again after the document was changed in
    /// place (a contract's clamps and defaults); the prompt text is unchanged.
    pub fn refresh_meta(&mut self) {
        if let Doc::Json(v) = &self.doc {
            let prompt_bytes = self.meta.prompt_bytes;
            self.meta = read_meta(v);
            self.meta.prompt_bytes = prompt_bytes;
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Bodies extracted on this thread (tests count parses per request with it).
    pub(crate) static EXTRACTIONS: Cell<usize> = const { Cell::new(0) };
}

/// What extraction needs to know besides the body.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Which roles are scanned (content outside messages always is).
    pub roles: &'a RoleFilter,
    /// The request path (`:path`), which names the API shape first.
    pub path: Option<&'a str>,
    /// Accept duplicate keys (every value is then inspected) instead of refusing the body.
    pub allow_duplicate_keys: bool,
}

/// Extracts the prompt text from a request body (no path; duplicate keys refused).
pub fn extract(body: &[u8], content_type: Option<&str>, roles: &RoleFilter) -> Extracted {
    extract_with(
        body,
        content_type,
        &Options {
            roles,
            path: None,
            allow_duplicate_keys: false,
        },
    )
}

/// Extracts every string of a request body the model may read.
pub fn extract_with(body: &[u8], content_type: Option<&str>, opts: &Options<'_>) -> Extracted {
    #[cfg(test)]
    EXTRACTIONS.with(|n| n.set(n.get() + 1));
    let (charset, src) = decode_charset(body);
    let invalid_utf8 = match charset {
        // Decoded lossily exactly when the bytes were not valid UTF-8 (a BOM is valid UTF-8).
        Charset::Utf8 | Charset::Utf8Bom => matches!(src, Cow::Owned(_)),
        _ => crate::utf8::str_of(body).is_none(),
    };
    let mut e = extract_text(&src, charset, content_type, opts);
    e.invalid_utf8 = invalid_utf8;
    e
}

/// [`extract_with`] once the body is text.
fn extract_text(
    src: &str,
    charset: Charset,
    content_type: Option<&str>,
    opts: &Options<'_>,
) -> Extracted {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let first = src.trim_start().as_bytes().first().copied();
    let json_ct = ct.contains("json");
    if json_ct || matches!(first, Some(b'{' | b'[' | b'"')) {
        match parse_json(src, opts.allow_duplicate_keys) {
            Parsed::Json(v, extra) => return from_json(v, extra, opts, charset),
            Parsed::Problem(p) => {
                let mut e = text_body(src, charset);
                e.problem = Some(p);
                return e;
            }
            // A string that merely starts with a quote, sent as text, is text.
            Parsed::Invalid if !json_ct && first == Some(b'"') => {}
            Parsed::Invalid => {
                let mut e = text_body(src, charset);
                e.parse_error = true;
                return e;
            }
        }
    }
    if ct.contains("x-www-form-urlencoded") {
        return extract_form(src, charset);
    }
    if ct.starts_with("multipart/") {
        if let Some(b) = boundary(&ct, content_type.unwrap_or("")) {
            return extract_multipart(src, &b, charset);
        }
    }
    let mut e = text_body(src, charset);
    e.unknown_content = !ct.trim_start().starts_with("text/");
    e
}

/// Detects UTF-8 with a BOM, UTF-16 and UTF-32 (BOM, else RFC 4627's pattern of zero bytes in
/// the first four, which holds for any body that starts with two ASCII characters) and decodes
/// to UTF-8; anything else is UTF-8, lossily decoded.
fn decode_charset(body: &[u8]) -> (Charset, Cow<'_, str>) {
    let (cs, skip) = match body {
        [0xEF, 0xBB, 0xBF, ..] => (Charset::Utf8Bom, 3),
        [0, 0, 0xFE, 0xFF, ..] => (Charset::Utf32Be, 4),
        [0xFF, 0xFE, 0, 0, ..] => (Charset::Utf32Le, 4),
        [0xFE, 0xFF, ..] => (Charset::Utf16Be, 2),
        [0xFF, 0xFE, ..] => (Charset::Utf16Le, 2),
        [0, 0, 0, b, ..] if *b != 0 => (Charset::Utf32Be, 0),
        [a, 0, 0, 0, ..] if *a != 0 => (Charset::Utf32Le, 0),
        [0, a, 0, _, ..] if *a != 0 => (Charset::Utf16Be, 0),
        [a, 0, _, 0, ..] if *a != 0 => (Charset::Utf16Le, 0),
        [0, a] if *a != 0 => (Charset::Utf16Be, 0),
        [a, 0] if *a != 0 => (Charset::Utf16Le, 0),
        _ => (Charset::Utf8, 0),
    };
    let b = &body[skip..];
    let text = match cs {
        Charset::Utf8 | Charset::Utf8Bom => match crate::utf8::str_of(b) {
            // Validation first (ASCII 32 bytes at a time in wasm), while `from_utf8_lossy`
            // walks byte by byte even when the body is valid (14 instructions per byte measured).
            Some(s) => Cow::Borrowed(s),
            None => String::from_utf8_lossy(b),
        },
        Charset::Utf16Le | Charset::Utf16Be => {
            let units = b.chunks(2).map(|c| match (cs, c) {
                (Charset::Utf16Le, [lo, hi]) => u16::from_le_bytes([*lo, *hi]),
                (_, [hi, lo]) => u16::from_be_bytes([*hi, *lo]),
                _ => 0xFFFD,
            });
            Cow::Owned(
                char::decode_utf16(units)
                    .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect(),
            )
        }
        Charset::Utf32Le | Charset::Utf32Be => Cow::Owned(
            b.chunks(4)
                .map(|c| {
                    let n = match (cs, c) {
                        (Charset::Utf32Le, [a, b, c, d]) => u32::from_le_bytes([*a, *b, *c, *d]),
                        (_, [a, b, c, d]) => u32::from_be_bytes([*a, *b, *c, *d]),
                        _ => 0xFFFD,
                    };
                    char::from_u32(n).unwrap_or(char::REPLACEMENT_CHARACTER)
                })
                .collect(),
        ),
    };
    (cs, text)
}

enum Parsed {
    Json(Value, Vec<Value>),
    Problem(BodyProblem),
    Invalid,
}

/// Strict parse first; on a syntax error, once more in the dialect other parsers accept.
fn parse_json(src: &str, allow_dups: bool) -> Parsed {
    match parse_strict(src, allow_dups) {
        Err(None) => {}
        Ok((v, extra)) => return Parsed::Json(v, extra),
        Err(Some(p)) => return Parsed::Problem(p),
    }
    let Some(fixed) = lenient_copy(src) else {
        return Parsed::Invalid;
    };
    match parse_strict(&fixed, allow_dups) {
        Ok((v, extra)) => Parsed::Json(v, extra),
        Err(Some(p)) => Parsed::Problem(p),
        Err(None) => Parsed::Invalid,
    }
}

/// serde_json's parser stops at this depth.
const MAX_DEPTH: usize = 128;

enum Seg {
    Key(String),
    Index(usize),
}

/// State shared by the parse's seeds: the current JSON path (for naming a duplicate key), the
/// deepest level reached, and the values that lost to a duplicate key when those are allowed.
struct ParseCtx {
    path: RefCell<Vec<Seg>>,
    deepest: Cell<usize>,
    allow_dups: bool,
    extra: RefCell<Vec<Value>>,
    dup: RefCell<Option<String>>,
}

impl ParseCtx {
    fn push(&self, s: Seg) {
        let mut p = self.path.borrow_mut();
        p.push(s);
        self.deepest.set(self.deepest.get().max(p.len()));
    }

    /// The JSON path of key `last` in the object being read, e.g. `$.messages[0].content`.
    fn path_string(&self, last: &str) -> String {
        use std::fmt::Write as _;
        let mut out = String::from("$");
        for s in self.path.borrow().iter() {
            match s {
                Seg::Key(k) => push_key(&mut out, k),
                Seg::Index(i) => {
                    let _ = write!(out, "[{i}]");
                }
            }
        }
        push_key(&mut out, last);
        if out.len() > 256 {
            let mut cut = 256;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
        }
        out
    }
}

fn push_key(out: &mut String, k: &str) {
    if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        out.push('.');
        out.push_str(k);
    } else {
        out.push_str("[\"");
        for c in k.chars().take(64) {
            out.push(if c == '"' || c == '\\' || c.is_control() {
                '?'
            } else {
                c
            });
        }
        out.push_str("\"]");
    }
}

/// `Err(None)`: a syntax error; `Err(Some(p))`: a [`BodyProblem`].
fn parse_strict(src: &str, allow_dups: bool) -> Result<(Value, Vec<Value>), Option<BodyProblem>> {
    let ctx = ParseCtx {
        path: RefCell::new(Vec::new()),
        deepest: Cell::new(0),
        allow_dups,
        extra: RefCell::new(Vec::new()),
        dup: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_str(src);
    let r = Node(&ctx)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v));
    match r {
        Ok(v) => Ok((v, ctx.extra.into_inner())),
        Err(_) => {
            if let Some(p) = ctx.dup.into_inner() {
                Err(Some(BodyProblem::DuplicateKey(p)))
            } else if ctx.deepest.get() >= MAX_DEPTH - 1 {
                Err(Some(BodyProblem::TooDeep))
            } else {
                Err(None)
            }
        }
    }
}

/// Builds a `serde_json::Value` like serde_json's own, but sees duplicate keys and tracks the path.
#[derive(Clone, Copy)]
struct Node<'c>(&'c ParseCtx);

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        self.0.push(Seg::Index(0));
        loop {
            if let Some(Seg::Index(i)) = self.0.path.borrow_mut().last_mut() {
                *i = out.len();
            }
            match seq.next_element_seed(self)? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        self.0.path.borrow_mut().pop();
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            self.0.push(Seg::Key(k));
            let v = map.next_value_seed(self)?;
            let Some(Seg::Key(k)) = self.0.path.borrow_mut().pop() else {
                return Err(de::Error::custom("path stack"));
            };
            // One search of the map per key (not `contains_key`, then `insert`).
            match out.entry(k) {
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(v);
                }
                serde_json::map::Entry::Occupied(mut e) => {
                    if !self.0.allow_dups {
                        *self.0.dup.borrow_mut() = Some(self.0.path_string(e.key()));
                        return Err(de::Error::custom("duplicate key"));
                    }
                    let old = std::mem::replace(e.get_mut(), v);
                    self.0.extra.borrow_mut().push(old);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let h = b.get(at..at + 4)?;
    h.iter()
        .try_fold(0u32, |n, &c| hexval(c).map(|d| n * 16 + u32::from(d)))
}

/// A copy of `src` in the JSON dialect serde_json reads, or `None` when nothing was changed:
/// `NaN`, `Infinity` and `-Infinity` outside strings become `null`, numbers beyond `f64` become
/// `0`, and lone surrogate escapes become `\uFFFD` (what Python's `json` and JavaScript's
/// `JSON.parse` accept, so an upstream may read such a body).
fn lenient_copy(src: &str) -> Option<String> {
    let b = src.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            out.push(c);
            i += 1;
            while i < b.len() {
                match b[i] {
                    b'\\' if b.get(i + 1) == Some(&b'u') => match hex4(b, i + 2) {
                        Some(hi @ 0xD800..=0xDBFF) => {
                            let paired = b.get(i + 6) == Some(&b'\\')
                                && b.get(i + 7) == Some(&b'u')
                                && matches!(hex4(b, i + 8), Some(0xDC00..=0xDFFF));
                            let _ = hi;
                            if paired {
                                out.extend_from_slice(&b[i..i + 12]);
                                i += 12;
                            } else {
                                out.extend_from_slice(b"\\uFFFD");
                                changed = true;
                                i += 6;
                            }
                        }
                        Some(0xDC00..=0xDFFF) => {
                            out.extend_from_slice(b"\\uFFFD");
                            changed = true;
                            i += 6;
                        }
                        _ => {
                            out.extend_from_slice(&b[i..(i + 2).min(b.len())]);
                            i += 2;
                        }
                    },
                    b'\\' => {
                        out.extend_from_slice(&b[i..(i + 2).min(b.len())]);
                        i += 2;
                    }
                    b'"' => {
                        out.push(b'"');
                        i += 1;
                        break;
                    }
                    x => {
                        out.push(x);
                        i += 1;
                    }
                }
            }
            continue;
        }
        let rest = &b[i..];
        let word = [&b"-Infinity"[..], b"Infinity", b"NaN"]
            .into_iter()
            .find(|w| rest.starts_with(w));
        if let Some(w) = word {
            out.extend_from_slice(b"null");
            changed = true;
            i += w.len();
            continue;
        }
        if c == b'-' || c.is_ascii_digit() {
            let len = rest
                .iter()
                .take_while(|x| x.is_ascii_digit() || matches!(x, b'-' | b'+' | b'.' | b'e' | b'E'))
                .count();
            let tok = &rest[..len];
            let huge = std::str::from_utf8(tok)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .is_some_and(|f| f.is_infinite());
            if huge {
                out.push(b'0');
                changed = true;
            } else {
                out.extend_from_slice(tok);
            }
            i += len.max(1);
            continue;
        }
        out.push(c);
        i += 1;
    }
    if !changed {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Keys whose one-token values are structure, not text: enums, ids, model names.
fn structural(key: &str) -> bool {
    const KEYS: [&str; 18] = [
        "role",
        "type",
        "model",
        "id",
        "object",
        "status",
        "detail",
        "format",
        "media_type",
        "mime_type",
        "mimeType",
        "encoding_format",
        "service_tier",
        "reasoning_effort",
        "tool_choice",
        "anthropic_version",
        "voice",
        "cache_control",
    ];
    KEYS.contains(&key) || key.ends_with("_id") || key.ends_with("Id")
}

/// A model name or an id: one token of at most 128 bytes under `model`, `id` or a `*_id` /
/// `*Id` key. Upstreams route on these; no model reads them.
fn opaque_id(key: &str, s: &str) -> bool {
    (key == "model" || key == "id" || key.ends_with("_id") || key.ends_with("Id"))
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_graphic())
}

/// One token that cannot carry a phrase: no whitespace, at most 128 bytes, at most two runs of
/// three or more letters (`claude-3-5-sonnet-20241022`, `tool_result`, `call_8f2a`).
fn token_like(s: &str) -> bool {
    if s.len() > 128
        || s.bytes()
            .any(|b| b.is_ascii_whitespace() || !(0x20..0x80).contains(&b))
    {
        return false;
    }
    // Runs break at non-letters and at camelCase humps.
    let mut runs = 0;
    let mut run = 0;
    let mut prev_lower = false;
    for b in s.bytes().chain(std::iter::once(b' ')) {
        let hump = prev_lower && b.is_ascii_uppercase();
        if !b.is_ascii_alphabetic() || hump {
            if run >= 3 {
                runs += 1;
            }
            run = 0;
        }
        if b.is_ascii_alphabetic() {
            run += 1;
        }
        prev_lower = b.is_ascii_lowercase();
    }
    runs <= 2
}

/// Top-level fields the model reads as system text, in the order they are visited (before any
/// other field, so a request's text reads system first).
const SYSTEM_KEYS: [&str; 12] = [
    "system",
    "instructions",
    "systemInstruction",
    "system_instruction",
    "chat_template",
    "tools",
    "functions",
    "toolConfig",
    "tool_config",
    "response_format",
    "text",
    "tool_choice",
];

/// What a visited string is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text as it stands.
    Text,
    /// The base64 payload of an embedded text file (a data URI or a `data` beside a text media
    /// type): inspect its decoded text.
    Base64Text,
}

/// An embedded file's media type, as far as the walk can tell: `Some(true)` text, `Some(false)`
/// binary (not inspected), `None` unknown.
fn text_media(m: &str) -> Option<bool> {
    let m = m.trim().to_ascii_lowercase();
    let m = m.split(';').next().unwrap_or("");
    if m.is_empty() {
        return None;
    }
    const TEXT: [&str; 14] = [
        "txt", "md", "markdown", "csv", "tsv", "json", "html", "htm", "xml", "yaml", "yml", "text",
        "plain", "jsonl",
    ];
    const BINARY: [&str; 21] = [
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "png", "jpeg", "jpg", "gif", "webp",
        "wav", "mp3", "flac", "ogg", "opus", "pcm16", "m4a", "mp4", "zip",
    ];
    if m.starts_with("text/") || m.ends_with("+json") || m.ends_with("+xml") {
        return Some(true);
    }
    if let Some(sub) = m.strip_prefix("application/") {
        if TEXT.contains(&sub) || sub == "x-yaml" || sub == "x-ndjson" {
            return Some(true);
        }
        return Some(false);
    }
    if ["image/", "audio/", "video/", "font/", "model/"]
        .iter()
        .any(|p| m.starts_with(p))
    {
        return Some(false);
    }
    // A bare format or a file name's extension (Bedrock `format`, `filename`).
    let ext = m.rsplit('.').next().unwrap_or(m);
    if TEXT.contains(&ext) {
        Some(true)
    } else if BINARY.contains(&ext) {
        Some(false)
    } else {
        None
    }
}

/// `data:<media type>[;base64],...`: `Some(true)` a text file, `Some(false)` a binary one.
fn data_uri(s: &str) -> Option<bool> {
    let head = s.get(..s.len().min(128))?;
    let rest = head.strip_prefix("data:")?;
    let (meta, _) = rest.split_once(',')?;
    if !meta.contains(";base64") {
        return None; // a plain data URI is text as it stands
    }
    Some(text_media(meta).unwrap_or(false))
}

/// Visits, in a fixed order, every string of `v` that the model may read and `roles` allows
/// (opaque payloads excepted, see the module doc). Used both for extraction and (with the same
/// order) for redaction. `shape` is kept for callers; the walk no longer depends on it.
pub fn walk(v: &mut Value, _shape: ApiShape, roles: &RoleFilter, f: &mut dyn FnMut(&mut String)) {
    let mut g = |s: &mut String, _: Role, _: Kind| f(s);
    visit_root(v, roles, &mut g, &mut |_| {});
}

/// The walk with attribution: `f(string, role, kind)` for every inspected string, `skipped(media
/// type)` for every embedded binary file left out.
pub fn visit_root(
    v: &mut Value,
    roles: &RoleFilter,
    f: &mut dyn FnMut(&mut String, Role, Kind),
    skipped: &mut dyn FnMut(&str),
) {
    let mut w = Walker { roles, f, skipped };
    match v {
        Value::Object(o) => {
            for k in SYSTEM_KEYS {
                if let Some(x) = o.get_mut(k) {
                    w.value(x, Role::System, Some(k), None);
                }
            }
            for (k, x) in o.iter_mut() {
                if !SYSTEM_KEYS.contains(&k.as_str()) {
                    // A Responses `input` is the user's turn (its items may name other roles).
                    let role = if k == "input" {
                        Role::User
                    } else {
                        Role::Unattributed
                    };
                    w.value(x, role, Some(k), None);
                }
            }
        }
        _ => w.value(v, Role::Unattributed, None, None),
    }
}

struct Walker<'a, 'f> {
    roles: &'a RoleFilter,
    f: &'f mut dyn FnMut(&mut String, Role, Kind),
    skipped: &'f mut dyn FnMut(&str),
}

impl Walker<'_, '_> {
    /// `media`: the media type an enclosing object declares for its payload.
    fn value(&mut self, v: &mut Value, role: Role, key: Option<&str>, media: Option<bool>) {
        if !role.allowed(self.roles) {
            return;
        }
        match v {
            Value::String(s) => self.string(s, role, key, media),
            Value::Array(a) => {
                for x in a {
                    self.value(x, role, key, media);
                }
            }
            Value::Object(o) => self.object(o, role, media),
            _ => {}
        }
    }

    fn string(&mut self, s: &mut String, role: Role, key: Option<&str>, media: Option<bool>) {
        if key.is_some_and(|k| opaque_id(k, s) || (structural(k) && token_like(s))) {
            return;
        }
        let payload_key = matches!(key, Some("data" | "bytes" | "file_data" | "b64_json"));
        let kind = match data_uri(s) {
            Some(true) => Kind::Base64Text,
            Some(false) => {
                let m = s
                    .get(5..)
                    .and_then(|r| r.split([';', ',']).next())
                    .unwrap_or("");
                (self.skipped)(m);
                return;
            }
            None if payload_key && media == Some(false) => {
                (self.skipped)("binary");
                return;
            }
            None if payload_key && media == Some(true) => Kind::Base64Text,
            None => Kind::Text,
        };
        (self.f)(s, role, kind);
    }

    fn object(&mut self, o: &mut Map<String, Value>, inherited: Role, media: Option<bool>) {
        let role = match o.get("role").and_then(Value::as_str) {
            Some(r) => Role::of(r),
            None => match o.get("type").and_then(Value::as_str).unwrap_or("") {
                "function_call_output"
                | "custom_tool_call_output"
                | "tool_result"
                | "toolResult" => Role::Tool,
                "function_call" | "custom_tool_call" | "reasoning" => Role::Assistant,
                _ => inherited,
            },
        };
        if !role.allowed(self.roles) {
            return;
        }
        // The media type this object declares for its own payload (Anthropic `source`, Gemini
        // `inlineData`, OpenAI `input_audio`), else the one declared around it (Bedrock's
        // `format` beside `source.bytes`), else a file name's extension.
        // An Anthropic `{"type": "text", "data": ...}` source holds plain text, not base64.
        let media = if o.get("type").and_then(Value::as_str) == Some("text") {
            None
        } else {
            ["media_type", "mime_type", "mimeType", "format", "filename"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str).and_then(text_media))
                .or(media)
        };
        for (k, x) in o.iter_mut() {
            self.value(x, role, Some(k), media);
        }
    }
}

fn from_json(mut v: Value, extra: Vec<Value>, opts: &Options<'_>, charset: Charset) -> Extracted {
    let mut out = Extracted {
        shape: shape_for(opts.path, &v),
        meta: read_meta(&v),
        text: String::new(),
        segments: Vec::new(),
        roles: Vec::new(),
        decoded: Vec::new(),
        not_inspected: Vec::new(),
        parse_error: false,
        problem: None,
        unknown_content: false,
        charset,
        invalid_utf8: false,
        doc: Doc::Text,
    };
    {
        let Extracted {
            text,
            segments,
            roles,
            decoded,
            not_inspected,
            ..
        } = &mut out;
        let mut f = |s: &mut String, role: Role, kind: Kind| {
            if !text.is_empty() {
                text.push('\n');
            }
            let start = text.len();
            match kind {
                Kind::Text => text.push_str(s),
                Kind::Base64Text => {
                    decoded.push(segments.len());
                    push_base64_text(text, s);
                }
            }
            segments.push(start..text.len());
            roles.push(role);
        };
        let mut skipped = |m: &str| {
            if not_inspected.len() < 16 {
                not_inspected.push(m.chars().take(64).collect());
            }
        };
        visit_root(&mut v, opts.roles, &mut f, &mut skipped);
        // Values that lost to a duplicate key (when allowed) are inspected too.
        for mut x in extra {
            visit_root(&mut x, opts.roles, &mut f, &mut skipped);
        }
    }
    out.meta.prompt_bytes = out.segments.iter().map(|r| r.len()).sum();
    out.doc = Doc::Json(v);
    out
}

/// Decoded text files are inspected up to this many bytes each.
const MAX_EMBEDDED_TEXT: usize = 1 << 20;

/// Appends the decoded text of a base64 payload (a data URI or bare base64), lossily; the raw
/// string when it does not decode.
fn push_base64_text(text: &mut String, s: &str) {
    use base64::Engine as _;
    let payload = match s.strip_prefix("data:") {
        Some(r) => r.split_once(',').map_or(r, |(_, p)| p),
        None => s,
    };
    let cap = MAX_EMBEDDED_TEXT / 3 * 4;
    let cleaned: Vec<u8> = payload
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .take(cap)
        .collect();
    // Capped: decode whole quanta only; otherwise the payload must decode as it stands.
    let cut = if cleaned.len() == cap {
        cap
    } else {
        cleaned.len()
    };
    let engine = base64::engine::general_purpose::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    let std = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, engine);
    let url = base64::engine::GeneralPurpose::new(&base64::alphabet::URL_SAFE, engine);
    match std
        .decode(&cleaned[..cut])
        .or_else(|_| url.decode(&cleaned[..cut]))
    {
        Ok(d) => text.push_str(&String::from_utf8_lossy(&d)),
        Err(_) => text.push_str(s),
    }
}

/// Decodes the JSON string escapes in free text (`\uXXXX` with surrogate pairs, `\n`, `\"`, ...):
/// a body that is not JSON may still be read by an upstream that unescapes it.
fn unescape_json(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let (ch, len) = match b[i + 1] {
            b'n' => (Some('\n'), 2),
            b't' => (Some('\t'), 2),
            b'r' => (Some('\r'), 2),
            b'b' => (Some('\u{8}'), 2),
            b'f' => (Some('\u{c}'), 2),
            b'"' => (Some('"'), 2),
            b'/' => (Some('/'), 2),
            b'\\' => (Some('\\'), 2),
            b'u' => match hex4(b, i + 2) {
                Some(hi @ 0xD800..=0xDBFF) => {
                    let lo = (b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u'))
                        .then(|| hex4(b, i + 8))
                        .flatten()
                        .filter(|lo| (0xDC00..=0xDFFF).contains(lo));
                    match lo {
                        Some(lo) => (
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)),
                            12,
                        ),
                        None => (Some(char::REPLACEMENT_CHARACTER), 6),
                    }
                }
                Some(cp) => (
                    Some(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER)),
                    6,
                ),
                None => (None, 1),
            },
            _ => (None, 1),
        };
        match ch {
            Some(c) => {
                out.push_str(&s[last..i]);
                out.push(c);
                i += len;
                last = i;
            }
            None => i += len,
        }
    }
    out.push_str(&s[last..]);
    Cow::Owned(out)
}

/// A text body: the whole body, JSON escapes decoded.
fn text_body(src: &str, charset: Charset) -> Extracted {
    let text = unescape_json(src);
    let doc = if matches!(text, Cow::Borrowed(_)) && matches!(charset, Charset::Utf8) {
        Doc::Text
    } else {
        Doc::Decoded
    };
    let text = text.into_owned();
    let len = text.len();
    Extracted {
        shape: ApiShape::Text,
        meta: RequestMeta {
            prompt_bytes: len,
            ..RequestMeta::default()
        },
        text,
        segments: std::iter::once(0..len).collect(),
        roles: vec![Role::Unattributed],
        decoded: Vec::new(),
        not_inspected: Vec::new(),
        parse_error: false,
        problem: None,
        unknown_content: false,
        charset,
        invalid_utf8: false,
        doc,
    }
}

/// A form body: every key and every value (segments `2i`, `2i + 1`).
fn extract_form(src: &str, charset: Charset) -> Extracted {
    let mut pairs = Vec::new();
    let mut text = String::new();
    let mut segments = Vec::new();
    for part in src.split('&') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let (k, v) = (percent_decode_form(k), percent_decode_form(v));
        for s in [&k, &v] {
            if !text.is_empty() {
                text.push('\n');
            }
            let start = text.len();
            text.push_str(s);
            segments.push(start..text.len());
        }
        pairs.push((k, v));
    }
    let doc = if matches!(charset, Charset::Utf8) {
        Doc::Form(pairs)
    } else {
        Doc::Decoded
    };
    unattributed(text, segments, Vec::new(), charset, doc)
}

/// A body of role-less strings (form, multipart).
fn unattributed(
    text: String,
    segments: Vec<Range<usize>>,
    not_inspected: Vec<String>,
    charset: Charset,
    doc: Doc,
) -> Extracted {
    let prompt_bytes = segments.iter().map(|r| r.len()).sum();
    Extracted {
        shape: ApiShape::Text,
        meta: RequestMeta {
            prompt_bytes,
            ..RequestMeta::default()
        },
        roles: vec![Role::Unattributed; segments.len()],
        text,
        segments,
        decoded: Vec::new(),
        not_inspected,
        parse_error: false,
        problem: None,
        unknown_content: false,
        charset,
        invalid_utf8: false,
        doc,
    }
}

/// The `boundary` parameter of a multipart content type (from the original, case kept).
fn boundary(lower: &str, original: &str) -> Option<String> {
    let at = lower.find("boundary=")?;
    let v = original.get(at + 9..)?;
    let v = v.split(';').next()?.trim().trim_matches('"');
    (!v.is_empty() && v.len() <= 200).then(|| v.to_owned())
}

/// A multipart body: every part whose content type is text (or absent) is inspected, with JSON
/// escapes decoded; binary parts are recorded as not inspected.
fn extract_multipart(src: &str, boundary: &str, charset: Charset) -> Extracted {
    let delim = format!("--{boundary}");
    let mut text = String::new();
    let mut segments = Vec::new();
    let mut not_inspected = Vec::new();
    for part in src.split(delim.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let (head, body) = part
            .split_once("\r\n\r\n")
            .or_else(|| part.split_once("\n\n"))
            .unwrap_or(("", part));
        let body = body.strip_suffix("\r\n").unwrap_or(body);
        let ct = head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-type")
                .then(|| v.trim())
        });
        if ct.and_then(text_media) == Some(false) {
            if not_inspected.len() < 16 {
                not_inspected.push(ct.unwrap_or("").chars().take(64).collect());
            }
            continue;
        }
        // The part's name and file name are read by upstreams too.
        for s in [head, body] {
            if !text.is_empty() {
                text.push('\n');
            }
            let start = text.len();
            text.push_str(&unescape_json(s));
            segments.push(start..text.len());
        }
    }
    unattributed(text, segments, not_inspected, charset, Doc::Decoded)
}

/// The API shape: by request path first, then by keys.
fn shape_for(path: Option<&str>, v: &Value) -> ApiShape {
    if let Some(p) = path {
        let p = p.split(['?', '#']).next().unwrap_or("");
        const BY_PATH: [(&str, ApiShape); 5] = [
            ("/chat/completions", ApiShape::Chat),
            ("/responses", ApiShape::Responses),
            ("/messages", ApiShape::AnthropicMessages),
            ("/embeddings", ApiShape::Embeddings),
            ("/completions", ApiShape::Completions),
        ];
        if let Some((_, s)) = BY_PATH.iter().find(|(suffix, _)| p.ends_with(suffix)) {
            return *s;
        }
    }
    detect_shape(v)
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

/// The API shape by keys. Only labels and metadata depend on it, never what is read.
fn detect_shape(v: &Value) -> ApiShape {
    let Some(o) = v.as_object() else {
        return ApiShape::OtherJson;
    };
    let msgs = o
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty());
    if let Some(msgs) = msgs {
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
    if let Some(input) = o.get("input").filter(|i| !i.is_null()) {
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
        if !o
            .get("prompt")
            .is_some_and(|p| p.is_string() || p.is_array())
        {
            return ApiShape::Embeddings;
        }
    }
    if o.get("prompt")
        .is_some_and(|p| p.is_string() || p.is_array())
    {
        return ApiShape::Completions;
    }
    if o.contains_key("messages") {
        return ApiShape::Chat;
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
            .find_map(|k| o.get(*k).and_then(Value::as_u64))
            .or_else(|| {
                // Gemini `generationConfig.maxOutputTokens`, Bedrock `inferenceConfig.maxTokens`.
                // (`get` twice, not `Value::pointer`, which allocates per path segment.)
                let at = |a: &str, b: &str| o.get(a).and_then(|x| x.get(b));
                at("generationConfig", "maxOutputTokens")
                    .or_else(|| at("inferenceConfig", "maxTokens"))
                    .and_then(Value::as_u64)
            });
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const M: &str = "zqxmarker";

    fn ex(body: &[u8], ct: Option<&str>) -> Extracted {
        extract(body, ct, &RoleFilter::All)
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[track_caller]
    fn reads(body: &str, ct: Option<&str>) {
        let e = ex(body.as_bytes(), ct);
        assert!(e.problem.is_none(), "{body}: refused {:?}", e.problem);
        assert!(
            e.text.contains(M),
            "{body}: marker not read; text {:?}",
            e.text
        );
    }

    #[test]
    fn json_is_json_whatever_the_content_type() {
        let body = format!(r#"{{"model":"m","messages":[{{"role":"user","content":"{M}"}}]}}"#);
        for ct in [
            None,
            Some("application/x-www-form-urlencoded"),
            Some("application/json; profile=\"x\""),
            Some("application/vnd.api+json"),
            Some("text/plain"),
            Some("application/octet-stream"),
            Some("multipart/form-data; boundary=zz"),
        ] {
            let e = ex(body.as_bytes(), ct);
            assert_eq!(e.shape, ApiShape::Chat, "{ct:?}");
            assert!(matches!(e.doc, Doc::Json(_)), "{ct:?}");
            assert!(e.text.contains(M), "{ct:?}");
        }
    }

    #[test]
    fn stray_keys_do_not_hide_fields() {
        // A Responses request with a top-level `prompt` (even null), an empty `messages`.
        reads(
            &format!(r#"{{"model":"o","prompt":null,"input":"{M}"}}"#),
            None,
        );
        reads(&format!(r#"{{"messages":[],"prompt":"{M}"}}"#), None);
        reads(
            &format!(r#"{{"messages":[],"input":[{{"role":"user","content":"{M}"}}]}}"#),
            None,
        );
        reads(
            &format!(r#"{{"prompt":"x","input":"{M}","instructions":"i"}}"#),
            None,
        );
        // The shape label follows the path first.
        let e = extract_with(
            br#"{"prompt":null,"input":"hi"}"#,
            None,
            &Options {
                roles: &RoleFilter::All,
                path: Some("/v1/responses?x=1"),
                allow_duplicate_keys: false,
            },
        );
        assert_eq!(e.shape, ApiShape::Responses);
        assert_eq!(
            ex(br#"{"prompt":null,"input":"hi","store":false}"#, None).shape,
            ApiShape::Responses
        );
    }

    #[test]
    fn every_field_the_model_reads_is_read() {
        let t = b64(&format!("notes: {M}"));
        let cases = [
            // Anthropic document blocks: text source, content source, base64 text, in tool_result.
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"type":"document","source":{{"type":"text","media_type":"text/plain","data":"{M}"}}}}]}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"type":"document","source":{{"type":"content","content":[{{"type":"text","text":"{M}"}}]}}}}]}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"type":"document","source":{{"type":"base64","media_type":"text/plain","data":"{t}"}}}}]}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"t1","content":[{{"type":"document","source":{{"type":"text","data":"{M}"}}}}]}}]}}]}}"#
            ),
            // Bedrock Converse.
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"toolResult":{{"toolUseId":"a","content":[{{"json":{{"k":"{M}"}}}}]}}}}]}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"assistant","content":[{{"toolUse":{{"toolUseId":"a","name":"f","input":{{"q":"{M}"}}}}}}]}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"document":{{"format":"txt","name":"d","source":{{"bytes":"{t}"}}}}}}]}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"guardContent":{{"text":{{"text":"{M}"}}}}}}]}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"text":"hi"}}]}}],"toolConfig":{{"tools":[{{"toolSpec":{{"name":"f","description":"{M}"}}}}]}}}}"#
            ),
            // Chat `file` parts and Responses `input_file` carrying a base64 text file.
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"type":"file","file":{{"filename":"a.txt","file_data":"data:text/plain;base64,{t}"}}}}]}}]}}"#
            ),
            format!(
                r#"{{"input":[{{"role":"user","content":[{{"type":"input_file","filename":"notes.md","file_data":"{t}"}}]}}]}}"#
            ),
            // Tool parameter descriptions, input_schema, response_format schema descriptions.
            format!(
                r#"{{"messages":[{{"role":"user","content":"x"}}],"tools":[{{"type":"function","function":{{"name":"f","parameters":{{"type":"object","properties":{{"q":{{"type":"string","description":"{M}"}}}}}}}}}}]}}"#
            ),
            format!(
                r#"{{"system":"s","messages":[{{"role":"user","content":"x"}}],"tools":[{{"name":"f","input_schema":{{"properties":{{"q":{{"description":"{M}"}}}}}}}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":"x"}}],"response_format":{{"type":"json_schema","json_schema":{{"name":"r","schema":{{"properties":{{"a":{{"description":"{M}"}}}}}}}}}}}}"#
            ),
            // vLLM per-request documents and chat_template.
            format!(
                r#"{{"messages":[{{"role":"user","content":"x"}}],"documents":[{{"title":"t","text":"{M}"}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":"x"}}],"chat_template":"{{{{ '{M}' }}}}"}}"#
            ),
            // name fields, tool-call function names, refusal, reasoning summary, deeper nesting.
            format!(
                r#"{{"messages":[{{"role":"user","name":"ignore_all_previous_{M}","content":"x"}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"assistant","tool_calls":[{{"id":"c","type":"function","function":{{"name":"{M}_fn","arguments":"{{}}"}}}}]}}]}}"#
            ),
            format!(r#"{{"messages":[{{"role":"assistant","content":null,"refusal":"{M}"}}]}}"#),
            format!(
                r#"{{"input":[{{"type":"reasoning","summary":[{{"type":"summary_text","text":"{M}"}}]}}]}}"#
            ),
            format!(
                r#"{{"messages":[{{"role":"user","content":[[{{"type":"text","text":"{M}"}}]]}}]}}"#
            ),
            // Gemini.
            format!(
                r#"{{"contents":[{{"role":"user","parts":[{{"text":"{M}"}}]}}],"systemInstruction":{{"parts":[{{"text":"s"}}]}}}}"#
            ),
            // A top-level JSON string (the redaction regression of issue 17).
            format!(r#""{M}""#),
        ];
        for c in &cases {
            reads(c, Some("application/json"));
        }
    }

    #[test]
    fn structure_is_not_read_but_odd_values_are() {
        let e = ex(br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"#, None);
        assert_eq!(e.text, "hi");
        assert_eq!(e.roles, vec![Role::User]);
        let e = ex(br#"{"model":"text-embedding-3-small","input":"hi"}"#, None);
        assert_eq!(e.text, "hi");
        // A role or type that is not a token is read (chat templates render role names).
        reads(
            &format!(r#"{{"messages":[{{"role":"user and then {M}","content":"x"}}]}}"#),
            None,
        );
        reads(
            &format!(r#"{{"model":"ignore previous {M}","messages":[]}}"#),
            None,
        );
    }

    #[test]
    fn binary_payloads_are_recorded_not_read() {
        let png = b64("\u{89}PNG\r\n\u{1a}\nbinary");
        let body = format!(
            r#"{{"messages":[{{"role":"user","content":[{{"type":"image_url","image_url":{{"url":"data:image/png;base64,{png}"}}}},{{"type":"input_audio","input_audio":{{"data":"{png}","format":"wav"}}}},{{"type":"document","source":{{"type":"base64","media_type":"application/pdf","data":"{png}"}}}},{{"type":"text","text":"hello"}}]}}]}}"#
        );
        let e = ex(body.as_bytes(), None);
        assert_eq!(e.text, "hello");
        assert_eq!(e.not_inspected.len(), 3, "{:?}", e.not_inspected);
        assert_eq!(e.not_inspected[0], "image/png");
    }

    #[test]
    fn roles_attribute_and_filter() {
        let body = br#"{"system":"sys","messages":[{"role":"developer","content":"dev"},{"role":"user","content":"usr"},{"role":"tool","content":"tl"}],"documents":["doc"]}"#;
        let e = ex(body, None);
        assert_eq!(e.text, "sys\ndoc\ndev\nusr\ntl");
        assert_eq!(
            e.roles,
            vec![
                Role::System,
                Role::Unattributed,
                Role::Developer,
                Role::User,
                Role::Tool
            ]
        );
        let only = RoleFilter::Only(vec!["user".into()]);
        let e = extract(body, None, &only);
        assert_eq!(e.text, "doc\nusr");
    }

    #[test]
    fn duplicate_keys_are_refused_with_their_path() {
        let e = ex(
            br#"{"messages":[{"role":"user","content":"a","content":"b"}]}"#,
            None,
        );
        assert_eq!(
            e.problem,
            Some(BodyProblem::DuplicateKey("$.messages[0].content".into()))
        );
        let e = ex(br#"{"a b":{"x":1,"x":2}}"#, None);
        assert_eq!(
            e.problem,
            Some(BodyProblem::DuplicateKey("$[\"a b\"].x".into()))
        );
        // Allowed: every value is read.
        let e = extract_with(
            format!(r#"{{"messages":[{{"role":"user","content":"{M}","content":"b"}}]}}"#)
                .as_bytes(),
            None,
            &Options {
                roles: &RoleFilter::All,
                path: None,
                allow_duplicate_keys: true,
            },
        );
        assert!(e.problem.is_none());
        assert!(e.text.contains(M) && e.text.contains('b'), "{}", e.text);
    }

    #[test]
    fn other_encodings_are_decoded() {
        let json = format!(r#"{{"messages":[{{"role":"user","content":"{M}"}}]}}"#);
        let utf16le: Vec<u8> = json.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = json.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let utf32le: Vec<u8> = json
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let utf32be: Vec<u8> = json
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        let with = |bom: &[u8], b: &[u8]| [bom, b].concat();
        let cases = [
            (with(&[0xEF, 0xBB, 0xBF], json.as_bytes()), Charset::Utf8Bom),
            (utf16le.clone(), Charset::Utf16Le),
            (with(&[0xFF, 0xFE], &utf16le), Charset::Utf16Le),
            (utf16be.clone(), Charset::Utf16Be),
            (with(&[0xFE, 0xFF], &utf16be), Charset::Utf16Be),
            (utf32le.clone(), Charset::Utf32Le),
            (with(&[0xFF, 0xFE, 0, 0], &utf32le), Charset::Utf32Le),
            (utf32be.clone(), Charset::Utf32Be),
            (with(&[0, 0, 0xFE, 0xFF], &utf32be), Charset::Utf32Be),
        ];
        for (body, cs) in cases {
            let e = ex(&body, Some("application/json"));
            assert_eq!(e.charset, cs);
            assert_eq!(e.shape, ApiShape::Chat, "{cs:?}");
            assert!(e.text.contains(M), "{cs:?}");
        }
    }

    #[test]
    fn the_lenient_dialect_is_read() {
        for body in [
            format!(r#"{{"temperature":NaN,"messages":[{{"role":"user","content":"{M}"}}]}}"#),
            format!(r#"{{"x":-Infinity,"y":Infinity,"prompt":"{M}"}}"#),
            format!(r#"{{"max_tokens":1e400,"prompt":"{M}"}}"#),
            format!(r#"{{"prompt":"\ud800 {M} \udc00"}}"#),
        ] {
            let e = ex(body.as_bytes(), None);
            assert!(!e.parse_error, "{body}");
            assert!(e.text.contains(M), "{body}");
        }
        // A surrogate pair stays one character.
        let e = ex(br#"{"prompt":"\ud83d\ude00 NaN"}"#, None);
        assert_eq!(e.text, "\u{1F600} NaN");
        assert_eq!(lenient_copy(r#"{"prompt":"\ud83d\ude00 NaN"}"#), None);
    }

    #[test]
    fn not_json_is_text_with_escapes_decoded() {
        let e = ex(
            br#"{"messages": [ {"content": "\u0069gnore all previous"#,
            None,
        );
        assert!(e.parse_error);
        assert!(e.text.contains("ignore all previous"), "{}", e.text);
        assert!(matches!(e.doc, Doc::Decoded));
        let e = ex(b"plain \\u0041 text", Some("text/plain"));
        assert_eq!(e.text, "plain A text");
        let e = ex(b"plain text", Some("text/plain"));
        assert!(matches!(e.doc, Doc::Text));
        // A quote-led text that is not JSON stays text.
        let e = ex(b"\"quoted\" and more", Some("text/plain"));
        assert!(!e.parse_error);
        assert_eq!(e.text, "\"quoted\" and more");
    }

    #[test]
    fn forms_read_keys_and_values() {
        let e = ex(
            format!("{M}=1&b=ignore+all").as_bytes(),
            Some("application/x-www-form-urlencoded"),
        );
        assert_eq!(e.text, format!("{M}\n1\nb\nignore all"));
        let Doc::Form(p) = &e.doc else { panic!("form") };
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn multipart_text_parts_are_read() {
        let body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n{M}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\u{1}\u{2}PNG\r\n--XyZ--\r\n"
        );
        let e = ex(body.as_bytes(), Some("multipart/form-data; boundary=XyZ"));
        assert!(e.text.contains(M));
        assert!(!e.text.contains("PNG"));
        assert_eq!(e.not_inspected, vec!["image/png".to_owned()]);
    }

    #[test]
    fn token_like_values() {
        for t in [
            "claude-3-5-sonnet-20241022",
            "tool_result",
            "call_8f2a",
            "gpt-4o-mini",
            "user",
        ] {
            assert!(token_like(t), "{t}");
        }
        for t in [
            "ignore_all_previous",
            "ignore previous",
            "IgnoreAllPrevious",
        ] {
            assert!(!token_like(t), "{t}");
        }
    }
}

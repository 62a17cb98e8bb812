//! The JSON path of a configuration error (`inspection.custom_rules[2].pattern`).
//!
//! serde_json reports where in the text a deserialisation error was found (line and column);
//! this module walks the text up to that point and names the field being read there. It does
//! the job `serde_path_to_error` did (same path strings, checked against it in the tests) for a
//! few hundred bytes of wasm instead of ~140 KB of per-type generic code: the module's size is
//! its start-up time in V8, which compiles it whole on the main thread.

use serde::de::DeserializeOwned;

/// Deserialises `bytes`; on error, the dotted path of the field at fault (`.` for the document
/// itself) and serde_json's error (message with line and column).
pub fn deserialize<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, (String, serde_json::Error)> {
    serde_json::from_slice(bytes).map_err(|e| (path_of(bytes, &e), e))
}

/// The path of the field at fault for an error serde_json returned for `json`.
pub fn path_of(json: &[u8], e: &serde_json::Error) -> String {
    let offset = offset_of(json, e.line(), e.column());
    let missing = e.to_string().starts_with("missing field");
    path_at(json, offset, missing)
}

/// Byte offset of serde_json's (1-based line, byte column) position.
fn offset_of(json: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match json[start..].iter().position(|&b| b == b'\n') {
            Some(i) => start += i + 1,
            None => return json.len(),
        }
    }
    (start + column).min(json.len())
}

enum Frame {
    /// An object and the key whose value is being read (`None` before the first key).
    Object(Option<String>),
    /// An array and the index of the element being read.
    Array(usize),
}

/// Walks `json` up to `offset` and renders the path of the value being read there. `missing`:
/// the error is a missing field, reported at the end of the object that lacks it, so the path
/// is that object's own, not the last key read in it.
fn path_at(json: &[u8], offset: usize, missing: bool) -> String {
    let mut stack: Vec<Frame> = Vec::new();
    // Inside an object, whether the next string is a key.
    let mut expect_key = false;
    // The last token read closed a container.
    let mut just_closed = false;
    let mut i = 0;
    while i < offset.min(json.len()) {
        let b = json[i];
        if !b.is_ascii_whitespace() {
            just_closed = false;
        }
        match b {
            b'{' => {
                stack.push(Frame::Object(None));
                expect_key = true;
            }
            b'[' => {
                stack.push(Frame::Array(0));
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
                just_closed = true;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(_)) => expect_key = true,
                None => {}
            },
            b'"' => {
                let (s, end) = read_string(json, i);
                if expect_key {
                    if let Some(Frame::Object(k)) = stack.last_mut() {
                        *k = Some(s);
                    }
                    expect_key = false;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // A missing field found before its object's `}` was consumed: name the object itself.
    if missing && !just_closed {
        if let Some(Frame::Object(k)) = stack.last_mut() {
            *k = None;
        }
    }
    render(&stack)
}

/// `a.b[2].c`; `.` for the document itself.
fn render(stack: &[Frame]) -> String {
    let mut out = String::new();
    for f in stack {
        match f {
            Frame::Object(Some(k)) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Frame::Object(None) => {}
            Frame::Array(n) => {
                out.push('[');
                out.push_str(&n.to_string());
                out.push(']');
            }
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// The string starting at the quote `json[start]`, unescaped as far as a key needs, and the
/// offset just past its closing quote (or the end of the input).
fn read_string(json: &[u8], start: usize) -> (String, usize) {
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < json.len() {
        match json[i] {
            b'"' => return (String::from_utf8_lossy(&out).into_owned(), i + 1),
            b'\\' if json.get(i + 1) == Some(&b'u') => {
                // \uXXXX (a surrogate pair's halves each become U+FFFD: names, not data).
                let hex = json
                    .get(i + 2..i + 6)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let c = hex
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32)
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i += 6;
            }
            b'\\' if i + 1 < json.len() => {
                let c = json[i + 1];
                out.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'b' => 8,
                    b'f' => 12,
                    other => other,
                });
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), json.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The path serde_path_to_error gives for the same input (the reference).
    fn reference(json: &str) -> Option<String> {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize::<_, Config>(de)
            .err()
            .map(|e| e.path().to_string())
    }

    fn ours(json: &str) -> Option<String> {
        deserialize::<Config>(json.as_bytes())
            .err()
            .map(|(path, _)| path)
    }

    #[test]
    fn same_paths_as_serde_path_to_error() {
        let cases = [
            r#"{"surprise": 1}"#,
            r#"{"max_body_bytes": "big"}"#,
            r#"{"max_body_bytes": -1}"#,
            r#"{"on_oversize": "explode"}"#,
            r#"{"inspection": {"treshold": 10}}"#,
            r#"{"inspection": {"threshold": "x"}}"#,
            r#"{"inspection": {"action": "blok"}}"#,
            r#"{"inspection": {"custom_rules": [{"id": "X-1", "category": "c", "pattern": "a"}, {"id": 5}]}}"#,
            r#"{"inspection": {"custom_rules": [{"id": "X-1", "category": "c", "pattern": "a", "score": 5}, {"id": "X-2", "category": "c"}]}}"#,
            r#"{"inspection": {"custom_rules": [{"id": "X-1", "pattern": "a", "scroe": 1}]}}"#,
            r#"{"inspection": {"category_actions": {"injection": "nope"}}}"#,
            r#"{"inspection": {"allow_rules": [{"pattern": 3}]}}"#,
            r#"{"limits": {"default": {"requests_per_minute": "lots"}}}"#,
            r#"{"limits": {"default": {"requests_per_minute": 1, "bogus": 2}}}"#,
            r#"{"limits": {"consumers": {"alice": {"tokens_per_minute": true}}}}"#,
            r#"{"limits": {"pricing": {"models": {"gpt-4o": {"input_per_million": "x"}}}}}"#,
            r#"{"access": {"consumers": [{"id": "a", "modles": []}]}}"#,
            r#"{"access": {"consumers": [{"id": "a"}, {"id": "b", "models": [1]}]}}"#,
            r#"{"contract": {"max_tokens": "lots"}}"#,
            r#"{"upstream_key": {}}"#,
            r#"{"upstream_key": {"header": "x-key"}}"#,
            r#"{"audit": {"enabled": "yes"}}"#,
            r#"{"identity": {"sources": [{"header": 1}]}}"#,
            "{\n  \"inspection\": {\n    \"threshold\": 10,\n    \"rolse\": []\n  }\n}",
            "{\n  \"limits\": {\"default\": {\"requests_per_minute\": 1}},\n  \"audit\": {\"include_prompt\": 3}\n}",
            r#"{"inspection": {"custom_rules": [{"id": "a\"b", "category": "c", "pattern": "x", "extra": 1}]}}"#,
            r#"[true]"#,
            r#"{"limits": {"consumers": {"caf\u00e9": {"requests_per_minute": "x"}}}}"#,
            r#"{"limits": {"consumers": {"a.b": {"requests_per_minute": 1}, "c": {"zz": 1}}}}"#,
            r#"{"access": {"consumers": [{"id": "a", "paths": ["/v1/*"]}, {"id": "b", "paths": [1, 2]}]}}"#,
            r#"{"inspection": {"roles": ["user", 7]}}"#,
            r#"{"inspection": ["x"]}"#,
            r#"{"limits": {"default": [5, "x"]}}"#,
            r#"{"max_body_bytes": 1,}"#,
            r#"{"inspection": {"threshold": 1"#,
        ];
        for c in cases {
            let want = reference(c);
            assert!(want.is_some(), "not an error: {c}");
            let syntax = serde_json::from_str::<Config>(c).is_err_and(|e| !e.is_data());
            if syntax {
                // A syntax error has no field to name (serde_path_to_error says `?` or a
                // partial path); only check that we answer something.
                assert!(ours(c).is_some_and(|p| !p.is_empty()), "input: {c}");
            } else {
                assert_eq!(ours(c), want, "input: {c}");
            }
        }
    }
}

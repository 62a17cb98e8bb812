//! The body extractor, differentially (issue 17): for any body, every string value that a
//! reference parse can see is in the text the filter inspects, or the filter refused the body
//! (`problem`: a duplicate key, nesting past 128 levels). Two references: serde_json (strict),
//! and a small lenient parser written here independently of `extract.rs` that reads the dialect
//! Python's `json` and JavaScript read (`NaN`, `Infinity`, `-Infinity`, numbers beyond `f64`,
//! lone surrogate escapes as U+FFFD) and sees every value of a repeated key. With duplicate
//! keys allowed, every one of those values must be inspected. A redacted body must be valid JSON
//! whenever the input was JSON in either dialect. Also the invariants redaction relies on
//! (segments in bounds, on char boundaries, in order).
//!
//! The first byte picks the content type and the role filter, the rest is the body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::extract::{extract, extract_with, Options, RoleFilter};
use promptgate::inspect::{Action, Decision, InspectionConfig, Inspector};
use std::sync::OnceLock;

const TYPES: [Option<&str>; 6] = [
    None,
    Some("application/json"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("application/json; charset=utf-8"),
    Some("application/octet-stream"),
];

/// A string value and the key it is under (`None` in an array or at the top).
struct Str {
    key: Option<String>,
    value: String,
}

/// The lenient reference: `Some(strings)` when the body is JSON in the lenient dialect.
struct Lenient<'a> {
    b: &'a [u8],
    i: usize,
    out: Vec<Str>,
}

impl Lenient<'_> {
    fn parse(b: &[u8]) -> Option<Vec<Str>> {
        let mut p = Lenient {
            b,
            i: 0,
            out: Vec::new(),
        };
        p.ws();
        p.value(None, 0)?;
        p.ws();
        (p.i == b.len()).then_some(p.out)
    }

    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn lit(&mut self, w: &[u8]) -> bool {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, key: Option<String>, depth: usize) -> Option<()> {
        if depth > 120 {
            return None; // the filter refuses past 128; keep the reference clear of the edge
        }
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                self.ws();
                if self.lit(b"}") {
                    return Some(());
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    if !self.lit(b":") {
                        return None;
                    }
                    self.ws();
                    self.value(Some(k), depth + 1)?;
                    self.ws();
                    if self.lit(b"}") {
                        return Some(());
                    }
                    if !self.lit(b",") {
                        return None;
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.lit(b"]") {
                    return Some(());
                }
                loop {
                    self.ws();
                    self.value(None, depth + 1)?;
                    self.ws();
                    if self.lit(b"]") {
                        return Some(());
                    }
                    if !self.lit(b",") {
                        return None;
                    }
                }
            }
            b'"' => {
                let value = self.string()?;
                self.out.push(Str { key, value });
                Some(())
            }
            _ => {
                for w in [
                    &b"true"[..],
                    b"false",
                    b"null",
                    b"NaN",
                    b"Infinity",
                    b"-Infinity",
                ] {
                    if self.lit(w) {
                        return Some(());
                    }
                }
                self.number()
            }
        }
    }

    /// RFC 8259 number grammar (any magnitude).
    fn number(&mut self) -> Option<()> {
        let start = self.i;
        self.lit(b"-");
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.b.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
            p.i - s
        };
        if self.lit(b"0") {
        } else if !self
            .b
            .get(self.i)
            .is_some_and(|c| (b'1'..=b'9').contains(c))
            || digits(self) == 0
        {
            return None;
        }
        if self.lit(b".") && digits(self) == 0 {
            return None;
        }
        if self.lit(b"e") || self.lit(b"E") {
            let _ = self.lit(b"+") || self.lit(b"-");
            if digits(self) == 0 {
                return None;
            }
        }
        (self.i > start).then_some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let s = std::str::from_utf8(h).ok()?;
        let n = u32::from_str_radix(s, 16).ok()?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        self.i += 4;
        Some(n)
    }

    fn string(&mut self) -> Option<String> {
        if !self.lit(b"\"") {
            return None;
        }
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.b[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                match self.hex4() {
                                    Some(lo) if (0xDC00..0xE000).contains(&lo) => char::from_u32(
                                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00),
                                    )?,
                                    _ => {
                                        self.i = save;
                                        '\u{FFFD}'
                                    }
                                }
                            } else {
                                char::from_u32(hi).unwrap_or('\u{FFFD}')
                            }
                        }
                        _ => return None,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1F => return None,
                c => out.push(c),
            }
        }
    }
}

/// Every string value of a serde_json value, with its key.
fn strict_strings(v: &serde_json::Value, key: Option<&str>, out: &mut Vec<Str>) {
    match v {
        serde_json::Value::String(s) => out.push(Str {
            key: key.map(str::to_owned),
            value: s.clone(),
        }),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strict_strings(x, None, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| strict_strings(x, Some(k), out)),
        _ => {}
    }
}

/// Strings the filter may leave out by design (module doc of `extract.rs`): one-token values
/// (ids, enums, model names), base64 payloads (`data:` URIs, `data`/`bytes`/`file_data`/
/// `b64_json`, decoded or skipped by media type), and the empty string.
fn may_be_skipped(s: &Str) -> bool {
    let v = &s.value;
    v.is_empty()
        || !v.chars().any(char::is_whitespace)
        || v.starts_with("data:")
        || matches!(
            s.key.as_deref(),
            Some("data" | "bytes" | "file_data" | "b64_json")
        )
}

fn redactor() -> &'static Inspector {
    static I: OnceLock<Inspector> = OnceLock::new();
    I.get_or_init(|| {
        Inspector::new(&InspectionConfig {
            action: Action::Redact,
            ..InspectionConfig::default()
        })
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let ct = TYPES[sel as usize % TYPES.len()];
    let roles = if sel & 0x80 == 0 {
        RoleFilter::All
    } else {
        RoleFilter::Only(vec!["user".into()])
    };
    let ex = extract(body, ct, &roles);
    let mut last = 0;
    for s in &ex.segments {
        assert!(
            s.start <= s.end && s.end <= ex.text.len(),
            "segment out of bounds"
        );
        assert!(s.start >= last, "segments out of order");
        assert!(ex.text.is_char_boundary(s.start) && ex.text.is_char_boundary(s.end));
        last = s.end;
    }
    if roles != RoleFilter::All {
        return;
    }
    // The references. serde_json keeps the last of a repeated key; the lenient one sees all.
    let mut strict = Vec::new();
    let strict_ok = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            strict_strings(&v, None, &mut strict);
            true
        }
        Err(_) => false,
    };
    let lenient = Lenient::parse(body);
    let check = |refused: bool, text: &str, strings: &[Str], what: &str| {
        if refused {
            return;
        }
        for s in strings.iter().filter(|s| !may_be_skipped(s)) {
            assert!(
                text.contains(s.value.as_str()),
                "{what}: string {:?} (key {:?}) not inspected",
                s.value,
                s.key
            );
        }
    };
    check(ex.problem.is_some(), &ex.text, &strict, "strict");
    if let Some(all) = &lenient {
        // Default (duplicate keys refused): every value is inspected, or the body refused.
        check(ex.problem.is_some(), &ex.text, all, "lenient");
        // Duplicate keys allowed: every value of every key is inspected.
        let opts = Options {
            roles: &RoleFilter::All,
            path: None,
            allow_duplicate_keys: true,
        };
        let every = extract_with(body, ct, &opts);
        assert!(
            !matches!(
                every.problem,
                Some(promptgate::extract::BodyProblem::DuplicateKey(_))
            ),
            "duplicate key refused although allowed"
        );
        check(
            every.problem.is_some(),
            &every.text,
            all,
            "lenient, duplicates allowed",
        );
    }
    // Redaction keeps a JSON body JSON.
    if strict_ok || lenient.is_some() {
        let r = redactor().inspect(body, ct);
        if r.decision == Decision::Redact {
            let nb = r.redacted_body.as_deref().expect("redact without a body");
            assert!(
                serde_json::from_slice::<serde_json::Value>(nb).is_ok(),
                "redacted body is not JSON: {:?}",
                String::from_utf8_lossy(nb)
            );
        }
    }
});

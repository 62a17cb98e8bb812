//! Credentials: provider and cloud API keys, tokens, private-key blocks, JWTs.
//!
//! Each format is a literal prefix and a body of a byte class with a length (exact, or a
//! minimum: then the head decides on the first 64 body bytes and the rest of the key is the
//! hit's tail). Bodies must look random (entropy for their length, no placeholder words such as
//! `EXAMPLE`, `xxxx`, `your`), so documentation keys and look-alikes (`sk-learn`) pass. An AWS
//! secret access key has no prefix: 40 base64 bytes count only within 256 bytes after an access
//! key id or a secret-key field name.

use super::util::{has_digit_and_letter, looks_random};
use super::window::{Cls, Hit, Src, Tail, R};
use super::Detector;
use base64::Engine as _;

struct Spec {
    prefix: &'static [u8],
    kind: &'static str,
    cls: Cls,
    /// Body length: exactly this (`exact`) or at least this.
    len: usize,
    exact: bool,
    /// The body must hold a digit and a letter.
    mix: bool,
}

const fn spec(
    prefix: &'static [u8],
    kind: &'static str,
    cls: Cls,
    len: usize,
    exact: bool,
) -> Spec {
    Spec {
        prefix,
        kind,
        cls,
        len,
        exact,
        mix: false,
    }
}

const SPECS: &[Spec] = &[
    spec(b"sk-ant-", "anthropic_api_key", Cls::KeyDash, 32, false),
    spec(b"sk-proj-", "openai_api_key", Cls::KeyDash, 32, false),
    spec(b"sk-svcacct-", "openai_api_key", Cls::KeyDash, 32, false),
    spec(b"sk-admin-", "openai_api_key", Cls::KeyDash, 32, false),
    Spec {
        mix: true,
        ..spec(b"sk-", "openai_api_key", Cls::KeyDash, 32, false)
    },
    spec(b"sk_live_", "stripe_key", Cls::Alnum, 20, false),
    spec(b"rk_live_", "stripe_key", Cls::Alnum, 20, false),
    spec(b"AIza", "gcp_api_key", Cls::KeyDash, 35, true),
    spec(b"ya29.", "google_oauth_token", Cls::KeyDash, 30, false),
    spec(b"ghp_", "github_token", Cls::Alnum, 36, true),
    spec(b"gho_", "github_token", Cls::Alnum, 36, true),
    spec(b"ghu_", "github_token", Cls::Alnum, 36, true),
    spec(b"ghs_", "github_token", Cls::Alnum, 36, true),
    spec(b"ghr_", "github_token", Cls::Alnum, 36, true),
    spec(
        b"github_pat_",
        "github_token",
        Cls::AlnumUnderscore,
        60,
        false,
    ),
    spec(b"glpat-", "gitlab_token", Cls::KeyDash, 20, false),
    spec(b"xoxb-", "slack_token", Cls::KeyDash, 20, false),
    spec(b"xoxp-", "slack_token", Cls::KeyDash, 20, false),
    spec(b"xoxa-", "slack_token", Cls::KeyDash, 20, false),
    spec(b"xoxr-", "slack_token", Cls::KeyDash, 20, false),
    spec(b"xoxs-", "slack_token", Cls::KeyDash, 20, false),
    spec(b"xoxe-", "slack_token", Cls::KeyDash, 20, false),
    spec(b"xapp-", "slack_token", Cls::KeyDash, 20, false),
    spec(b"npm_", "npm_token", Cls::Alnum, 36, true),
    spec(
        b"pypi-AgEIcHlwaS5vcmc",
        "pypi_token",
        Cls::KeyDash,
        40,
        false,
    ),
    spec(b"hf_", "huggingface_token", Cls::Alnum, 34, true),
    spec(b"AccountKey=", "azure_key", Cls::Base64, 40, false),
    spec(b"SharedAccessKey=", "azure_key", Cls::Base64, 40, false),
];

/// Per first byte: the [`SPECS`] whose prefix starts with it (bit `k` for `SPECS[k]`), so a
/// position tries only those, in `SPECS` order.
const SPECS_BY_FIRST: [u32; 256] = {
    assert!(SPECS.len() <= 32);
    let mut t = [0u32; 256];
    let mut k = 0;
    while k < SPECS.len() {
        t[SPECS[k].prefix[0] as usize] |= 1 << k;
        k += 1;
    }
    t
};

const AWS_IDS: [&[u8]; 4] = [b"AKIA", b"ASIA", b"ABIA", b"ACCA"];
const AWS_FIELDS: [&[u8]; 3] = [b"aws_secret", b"secret_access_key", b"secretaccesskey"];
/// How far after an access key id or field name a secret access key counts.
const AWS_REACH: usize = 256;

pub(crate) const PEM_END: &[u8] = b"-----END";

/// Bytes of a private-key block's body (base64 lines, also with JSON-escaped `\n`).
pub(crate) fn pem_body_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'\n' | b'\r' | b'\\' | b'-')
}

/// Bytes of a header line's value in a private-key block (`Proc-Type: 4,ENCRYPTED`,
/// `DEK-Info: AES-256-CBC,0123...`, PGP `Version:` / `Comment:` lines).
pub(crate) fn pem_header_byte(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b',' | b'.' | b':' | b'(' | b')' | b'@' | b'_' | b'<' | b'>' | b'"' | b'\''
    )
}

pub(crate) fn may_start(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'/' || c == b'+'
}

/// Does `t[i..]` start with `p`: `Ok(false)` at the first differing byte.
fn starts(src: &Src, i: usize, p: &[u8], ci: bool) -> R<bool> {
    for (k, &want) in p.iter().enumerate() {
        match src.at(i + k)? {
            Some(c) if c == want || (ci && c.eq_ignore_ascii_case(&want)) => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// Length of the run of `cls` bytes at `i`, reading at most `cap + 1` bytes.
fn run(src: &Src, i: usize, cap: usize, cls: impl Fn(u8) -> bool) -> R<usize> {
    let mut n = 0;
    while n <= cap {
        match src.at(i + n)? {
            Some(c) if cls(c) => n += 1,
            _ => break,
        }
    }
    Ok(n)
}

pub(crate) fn at(src: &Src, i: usize, off: usize, aws_until: &mut usize) -> R<Option<Hit>> {
    let c = src.b[i];
    let prev = src.byte_before(i);
    if prev.is_ascii_alphanumeric() || prev == b'_' {
        return Ok(None);
    }
    match c {
        b'-' => return pem(src, i),
        b'e' => {
            if let Some(h) = jwt(src, i)? {
                return Ok(Some(h));
            }
        }
        b'A' => {
            for id in AWS_IDS {
                if starts(src, i, id, false)? {
                    let n = run(src, i + 4, 16, |c| {
                        c.is_ascii_uppercase() || c.is_ascii_digit()
                    })?;
                    let after = src.at(i + 4 + n)?;
                    if n == 16
                        && !after.is_some_and(|c| c.is_ascii_alphanumeric())
                        && looks_random(&src.b[i + 4..i + 20])
                    {
                        *aws_until = (*aws_until).max(off + i + 20 + AWS_REACH);
                        return Ok(Some(Hit::new(20, Detector::Secret, "aws_access_key")));
                    }
                }
            }
        }
        b'S' if src.at(i + 1)? == Some(b'G') => {
            if let Some(h) = sendgrid(src, i)? {
                return Ok(Some(h));
            }
        }
        b'S' if src.at(i + 1)? == Some(b'K') => {
            let n = run(src, i + 2, 32, |c| {
                c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
            })?;
            let after = src.at(i + 2 + n)?;
            if n == 32
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
                && looks_random(&src.b[i + 2..i + 34])
            {
                return Ok(Some(Hit::new(34, Detector::Secret, "twilio_api_key")));
            }
        }
        _ => {}
    }
    if let Some(h) = azure_client_secret(src, i)? {
        return Ok(Some(h));
    }
    let mut specs = SPECS_BY_FIRST[c as usize];
    while specs != 0 {
        let s = &SPECS[specs.trailing_zeros() as usize];
        specs &= specs - 1;
        if !starts(src, i, s.prefix, false)? {
            continue;
        }
        let start = i + s.prefix.len();
        let cap = if s.exact { s.len } else { 64 };
        let n = run(src, start, cap, |b| s.cls.has(b))?;
        let body = &src.b[start..start + n.min(cap)];
        let ok = if s.exact {
            n == s.len
                && !src
                    .at(start + n)?
                    .is_some_and(|c| c.is_ascii_alphanumeric())
        } else {
            n >= s.len
        };
        if ok && looks_random(body) && (!s.mix || has_digit_and_letter(body)) {
            let mut h = Hit::new(s.prefix.len() + body.len(), Detector::Secret, s.kind);
            if !s.exact && n > cap {
                h = h.tail(Tail::Chars(s.cls));
            }
            return Ok(Some(h));
        }
    }
    // AWS field names open the window for a secret access key; AWS secret keys themselves.
    if matches!(c, b'a' | b'A' | b's' | b'S') {
        for f in AWS_FIELDS {
            if starts(src, i, f, true)? {
                *aws_until = (*aws_until).max(off + i + f.len() + AWS_REACH);
                return Ok(None);
            }
        }
    }
    if off + i < *aws_until && !matches!(prev, b'/' | b'+') {
        let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'/' || c == b'+';
        let n = run(src, i, 40, b64)?;
        let after = src.at(i + n)?;
        if n == 40 && after != Some(b'=') {
            let k = &src.b[i..i + 40];
            if looks_random(k)
                && k.iter().any(u8::is_ascii_uppercase)
                && k.iter().any(u8::is_ascii_lowercase)
                && k.iter().any(u8::is_ascii_digit)
            {
                return Ok(Some(Hit::new(40, Detector::Secret, "aws_secret_key")));
            }
        }
    }
    Ok(None)
}

/// `-----BEGIN [RSA |EC |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED ...]PRIVATE KEY[ BLOCK]-----`;
/// header lines (`Proc-Type: 4,ENCRYPTED`, `DEK-Info:`, `Version:`) are part of the block.
fn pem(src: &Src, i: usize) -> R<Option<Hit>> {
    if !starts(src, i, b"-----BEGIN ", false)? {
        return Ok(None);
    }
    let start = i + 11;
    let n = run(src, start, 40, |c| {
        c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' '
    })?;
    if n > 40 {
        return Ok(None);
    }
    let label = &src.b[start..start + n];
    if !label.windows(11).any(|w| w == b"PRIVATE KEY") || !starts(src, start + n, b"-----", false)?
    {
        return Ok(None);
    }
    Ok(Some(
        Hit::new(11 + n + 5, Detector::Secret, "private_key").tail(Tail::Pem),
    ))
}

/// A JWT: a base64url header that decodes to a JSON object naming `alg`, a dot, and a payload
/// that starts as a JSON object (`eyJ`). The signature is the tail.
fn jwt(src: &Src, i: usize) -> R<Option<Hit>> {
    if !starts(src, i, b"eyJ", false)? {
        return Ok(None);
    }
    let key = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let n = run(src, i, 200, key)?;
    if !(12..=200).contains(&n) || src.at(i + n)? != Some(b'.') {
        return Ok(None);
    }
    let header = &src.b[i..i + n];
    let Ok(json) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header) else {
        return Ok(None);
    };
    if !(json.starts_with(b"{") && json.windows(5).any(|w| w == b"\"alg\"")) {
        return Ok(None);
    }
    let p = i + n + 1;
    if !starts(src, p, b"eyJ", false)? {
        return Ok(None);
    }
    let m = run(src, p, 16, key)?;
    if m < 16 {
        return Ok(None);
    }
    Ok(Some(
        Hit::new(n + 1 + m, Detector::Secret, "jwt").tail(Tail::Chars(Cls::Jwt)),
    ))
}

/// `SG.` + 22 + `.` + 43 URL-safe base64.
fn sendgrid(src: &Src, i: usize) -> R<Option<Hit>> {
    if !starts(src, i, b"SG.", false)? {
        return Ok(None);
    }
    let key = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let a = run(src, i + 3, 22, key)?;
    if a != 22 || src.at(i + 25)? != Some(b'.') {
        return Ok(None);
    }
    let b = run(src, i + 26, 43, key)?;
    if b != 43 || !looks_random(&src.b[i + 26..i + 69]) {
        return Ok(None);
    }
    Ok(Some(Hit::new(69, Detector::Secret, "sendgrid_api_key")))
}

/// A Microsoft Entra ID (Azure AD) client secret: 3 bytes of `[A-Za-z0-9_~.]`, a digit, `Q~`,
/// then 31 to 34 of `[A-Za-z0-9_~.-]` (the format since 2021; the `Q~` marks it).
fn azure_client_secret(src: &Src, i: usize) -> R<Option<Hit>> {
    let head = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'~' | b'.');
    for k in 1..3 {
        if !src.at(i + k)?.is_some_and(head) {
            return Ok(None);
        }
    }
    if !src.at(i + 3)?.is_some_and(|c| c.is_ascii_digit())
        || src.at(i + 4)? != Some(b'Q')
        || src.at(i + 5)? != Some(b'~')
    {
        return Ok(None);
    }
    let body = |c: u8| head(c) || c == b'-';
    let n = run(src, i + 6, 34, body)?;
    if !(31..=34).contains(&n) || !looks_random(&src.b[i + 6..i + 6 + n]) {
        return Ok(None);
    }
    Ok(Some(Hit::new(
        6 + n,
        Detector::Secret,
        "azure_client_secret",
    )))
}

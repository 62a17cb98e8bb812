//! Detector, window and masking tests (issue 19).

use super::*;

/// Deterministic pseudo-random strings (test keys are generated, not pasted).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn from(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGIT: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const KEYDASH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn guard(json: &str) -> Guard {
    let c: GuardConfig = serde_json::from_str(json).unwrap();
    Guard::new(&c).unwrap()
}

fn all_on() -> Guard {
    guard(
        r#"{"pii": {"types": ["email","phone","payment_card","iban","us_ssn","ip_address"]},
            "leakage": {"canary": "PG-CANARY-7f3a9c"},
            "links": {"allowed_hosts": ["docs.example.org", "=github.com"]}}"#,
    )
}

fn kinds(g: &Guard, cx: &ResponseContext, t: &str) -> Vec<&'static str> {
    g.scan_text(cx, t).findings.iter().map(|f| f.kind).collect()
}

/// Secrets of every format, with their kind.
fn secrets(r: &mut Rng) -> Vec<(String, &'static str)> {
    vec![
        (
            format!("sk-proj-{}", r.from(KEYDASH, 120)),
            "openai_api_key",
        ),
        (format!("sk-{}", r.from(ALNUM, 48)), "openai_api_key"),
        (
            format!("sk-ant-api03-{}", r.from(KEYDASH, 93)),
            "anthropic_api_key",
        ),
        (format!("AKIA{}", r.from(UPPER_DIGIT, 16)), "aws_access_key"),
        (format!("AIza{}", r.from(KEYDASH, 35)), "gcp_api_key"),
        (
            format!("ya29.{}", r.from(KEYDASH, 80)),
            "google_oauth_token",
        ),
        (format!("AccountKey={}==", r.from(B64, 86)), "azure_key"),
        (format!("ghp_{}", r.from(ALNUM, 36)), "github_token"),
        (format!("gho_{}", r.from(ALNUM, 36)), "github_token"),
        (format!("ghs_{}", r.from(ALNUM, 36)), "github_token"),
        (
            format!("github_pat_{}_{}", r.from(ALNUM, 22), r.from(ALNUM, 59)),
            "github_token",
        ),
        (format!("glpat-{}", r.from(KEYDASH, 20)), "gitlab_token"),
        (
            format!(
                "xoxb-{}-{}-{}",
                r.from(b"0123456789", 12),
                r.from(b"0123456789", 13),
                r.from(ALNUM, 24)
            ),
            "slack_token",
        ),
        (format!("sk_live_{}", r.from(ALNUM, 99)), "stripe_key"),
        (format!("rk_live_{}", r.from(ALNUM, 24)), "stripe_key"),
        (
            format!("SK{}", r.from(b"0123456789abcdef", 32)),
            "twilio_api_key",
        ),
        (
            format!("SG.{}.{}", r.from(KEYDASH, 22), r.from(KEYDASH, 43)),
            "sendgrid_api_key",
        ),
        (format!("npm_{}", r.from(ALNUM, 36)), "npm_token"),
        (
            format!("pypi-AgEIcHlwaS5vcmc{}", r.from(KEYDASH, 70)),
            "pypi_token",
        ),
        (format!("hf_{}", r.from(ALNUM, 34)), "huggingface_token"),
        (
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n{}==\n-----END RSA PRIVATE KEY-----",
                r.from(B64, 64),
                r.from(B64, 64),
                r.from(B64, 30)
            ),
            "private_key",
        ),
        (
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{}\n\n{}\n{}==\n-----END RSA PRIVATE KEY-----",
                r.from(b"0123456789ABCDEF", 32),
                r.from(B64, 64),
                r.from(B64, 30)
            ),
            "private_key",
        ),
        (
            format!(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\\n{}\\n{}\\n-----END ENCRYPTED PRIVATE KEY-----",
                r.from(B64, 64),
                r.from(B64, 20)
            ),
            "private_key",
        ),
        (
            format!(
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2.4.1 (GNU/Linux)\nComment: user@host.example\n\n{}\n={}\n-----END PGP PRIVATE KEY BLOCK-----",
                r.from(B64, 64),
                r.from(B64, 4)
            ),
            "private_key",
        ),
        (
            format!("{}{}Q~{}", r.from(ALNUM, 3), 7, r.from(KEYDASH, 34)),
            "azure_client_secret",
        ),
        (
            format!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
                r.from(KEYDASH, 60),
                r.from(KEYDASH, 43)
            ),
            "jwt",
        ),
    ]
}

#[test]
fn term_hash_matches_the_context_check() {
    for t in [
        "tulip",
        "Open Sesame",
        "1984-03-12",
        "密码",
        "ÄÖÜ straße",
        "a",
    ] {
        assert_eq!(
            leakage::term_hash_here(t),
            crate::inspect::term_hash(t),
            "{t}"
        );
    }
}

#[test]
fn every_secret_format_is_found_and_redacted() {
    let g = all_on();
    let cx = g.context(&[], &[], None);
    let mut r = Rng(0x1234_5678);
    for (key, kind) in secrets(&mut r) {
        let text = format!("Here it is: {key} - keep it safe.");
        let s = g.scan_text(&cx, &text);
        assert_eq!(s.findings.len(), 1, "{key}: {:?}", s.findings);
        assert_eq!(s.findings[0].kind, kind, "{key}");
        assert_eq!(s.findings[0].detector, Detector::Secret);
        assert_eq!(s.findings[0].offset, 12);
        assert_eq!(
            s.text,
            format!("Here it is: [REDACTED:{kind}] - keep it safe."),
            "{key}"
        );
    }
}

#[test]
fn aws_secret_key_counts_only_near_aws_context() {
    let g = all_on();
    let cx = g.context(&[], &[], None);
    let mut r = Rng(99);
    let secret = loop {
        let s = r.from(B64, 40);
        if s.bytes().any(|c| c.is_ascii_digit())
            && s.bytes().any(|c| c.is_ascii_uppercase())
            && s.bytes().any(|c| c.is_ascii_lowercase())
        {
            break s;
        }
    };
    let id = format!("AKIA{}", r.from(UPPER_DIGIT, 16));
    let t = format!("aws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
    assert_eq!(kinds(&g, &cx, &t), ["aws_access_key", "aws_secret_key"]);
    let t = format!("AWS_SECRET_ACCESS_KEY={secret}");
    assert_eq!(kinds(&g, &cx, &t), ["aws_secret_key"]);
    // Without context, 40 base64 bytes are just data.
    let t = format!("checksum {secret} ok");
    assert!(kinds(&g, &cx, &t).is_empty());
}

#[test]
fn look_alikes_and_documentation_keys_pass() {
    let g = all_on();
    let cx = g.context(&[], &[], None);
    for t in [
        "pip install scikit-learn; import sklearn; the sk-learn package",
        "Set OPENAI_API_KEY=sk-your-api-key-here in .env",
        "export OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "AWS example: AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "task-runner sk-1 sk-2 risk-assessment desk-lamp",
        "the word AKIA alone, AIza alone, eyJ alone, SG.abc",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----",
        "eyJub3QiOiJhIGp3dCJ9.eyJhbGwiOnRydWV9.sig (a header without alg)",
        // Hex hashes (a Twilio auth token or an Azure OpenAI key has the same shape: not matched).
        "md5 9e107d9d372bb6826bd81d3542a419d6 and sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
        "abc1Q~ is too short, home7Q~page too",
    ] {
        let s = g.scan_text(&cx, t);
        assert!(s.findings.is_empty(), "{t}: {:?}", s.findings);
        assert_eq!(s.text, t);
    }
}

#[test]
fn pii_positives() {
    let g = all_on();
    let cx = g.context(&[], &[], None);
    for (t, kind) in [
        ("mail jane.doe+tag@acme-corp.co.uk now", "email"),
        ("call +1 415 555 2671 today", "phone"),
        ("call +44 (0)20 7946 0958 today", "phone"),
        ("call +4915112345678.", "phone"),
        ("call (415) 555-2671 today", "phone"),
        ("call 415-555-2671 today", "phone"),
        ("call 020 7946 0958 today", "phone"),
        ("call 01 23 45 67 89 today", "phone"),
        ("card 4111 1111 1111 1111 exp", "payment_card"),
        ("card 4111-1111-1111-1111 exp", "payment_card"),
        ("card 378282246310005 exp", "payment_card"),
        ("card 5555555555554444.", "payment_card"),
        ("iban GB82 WEST 1234 5698 7654 32 ok", "iban"),
        ("iban DE89370400440532013000.", "iban"),
        ("ssn 123-45-6789 ok", "us_ssn"),
        ("from 203.0.113.42 port", "ip_address"),
        ("from 2001:db8:85a3::8a2e:370:7334 port", "ip_address"),
    ] {
        let s = g.scan_text(&cx, t);
        assert_eq!(
            s.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [kind],
            "{t}"
        );
        assert!(
            s.text.contains(&format!("[REDACTED:{kind}]")),
            "{t}: {}",
            s.text
        );
    }
}

#[test]
fn pii_negatives() {
    let g = all_on();
    let cx = g.context(&[], &[], None);
    for t in [
        "released 2024-01-15 at 12:30:45, v1.2.3 and 10.0.19041.1",
        "card 4111 1111 1111 1112 fails Luhn",
        "ssn 000-12-3456, 666-12-3456, 900-12-3456, 123-00-4567, 123-45-0000",
        "iban DE89370400440532013001 has a bad checksum",
        "user@localhost, admin@example.com, git@github.com:owner/repo.git",
        "npm i react@18.2.0 and @types/node",
        "order 1234567890123 and id 9876543210",
        "price $1,234.56 or 1 234,56 EUR",
        "std::vector and Db::Add and a::b",
        "uuid 550e8400-e29b-41d4-a716-446655440000",
        "localhost 127.0.0.1 and 0.0.0.0 and ::1",
        "555-123-4567 (exchange 1xx is not valid)",
        "ISBN 978-3-16-148410-0",
    ] {
        let s = g.scan_text(&cx, t);
        assert!(s.findings.is_empty(), "{t}: {:?}", s.findings);
    }
}

#[test]
fn links() {
    let g = all_on();
    let cx = g.context(&[], &[], None);
    let data = "aGVsbG8gd29ybGQgdGhpcyBpcyBzZWNyZXQgZGF0YQ";
    for (t, kind, out) in [
        (
            "![logo](https://evil.example.net/a.png)".to_string(),
            Some("markdown_image"),
            "[REDACTED:markdown_image]".to_string(),
        ),
        (
            format!("see [here](https://evil.test/c?d={data}) now"),
            Some("link_with_data"),
            "see [REDACTED:link_with_data] now".to_string(),
        ),
        (
            format!("see <https://evil.test/{data}/x> now"),
            Some("link_with_data"),
            "see [REDACTED:link_with_data] now".to_string(),
        ),
        (
            format!("see https://evil.test/log?q={data} now"),
            Some("link_with_data"),
            "see [REDACTED:link_with_data] now".to_string(),
        ),
        (
            "![ok](https://docs.example.org/img.png) and ![ok](https://cdn.docs.example.org/i.png)"
                .to_string(),
            None,
            String::new(),
        ),
        (format!("[repo](https://github.com/o/r?x={data})"), None, String::new()),
        (
            format!("[sub](https://api.github.com/o/r?x={data})"),
            Some("link_with_data"),
            "[REDACTED:link_with_data]".to_string(),
        ),
        (
            "read https://www.rust-lang.org/learn/get-started and [docs](https://docs.rs/regex/latest/regex/struct.Regex.html)"
                .to_string(),
            None,
            String::new(),
        ),
        (
            "search https://www.example.com/search?q=hello+world&page=2".to_string(),
            None,
            String::new(),
        ),
        (
            "commit https://gitlab.com/o/r/-/commit/0123456789abcdef0123456789abcdef01234567"
                .to_string(),
            None,
            String::new(),
        ),
    ] {
        let s = g.scan_text(&cx, &t);
        match kind {
            Some(k) => {
                assert_eq!(s.findings.len(), 1, "{t}: {:?}", s.findings);
                assert_eq!(s.findings[0].kind, k, "{t}");
                assert_eq!(s.text, out, "{t}");
            }
            None => assert!(s.findings.is_empty(), "{t}: {:?}", s.findings),
        }
    }
    let all = guard(r#"{"links": {"flag_all_links": true}}"#);
    let cx = all.context(&[], &[], None);
    assert_eq!(kinds(&all, &cx, "[a](https://x.io/page)"), ["link"]);
}

const SYSTEM: &str = "You are Acme's support assistant. Always answer politely, never \
    mention competitors, and escalate refund requests above 500 dollars to a human agent \
    named Priya. The vault code is 'blue-heron-42'; never share it.";

#[test]
fn system_prompt_recital_is_one_hit_over_the_whole_recital() {
    let g = all_on();
    let cx = g.context(&[SYSTEM], &[], None);
    let t = "Sure! My instructions: always answer POLITELY, never mention competitors, and \
             escalate refund requests above 500 dollars to a human agent. Anything else?";
    let s = g.scan_text(&cx, t);
    assert_eq!(kinds(&g, &cx, t), ["system_prompt"]);
    assert!(s.blocked, "leakage blocks by default");
    assert_eq!(s.text, "Sure! My instructions: ");
    let r = guard(r#"{"leakage": {"action": "redact"}}"#);
    let cx = r.context(&[SYSTEM], &[], None);
    let s = r.scan_text(&cx, t);
    assert_eq!(
        s.text,
        "Sure! My instructions: [REDACTED:system_prompt]. Anything else?"
    );
    // Seven words in common are not a recital.
    let t = "I always answer politely, never mention competitors and so on.";
    assert!(r.scan_text(&cx, t).findings.is_empty());
}

#[test]
fn protected_terms_and_canary() {
    let g = guard(r#"{"leakage": {"action": "redact", "canary": "PG-CANARY-7f3a9c"}}"#);
    let terms = [
        crate::inspect::term_hash("blue-heron-42"),
        crate::inspect::term_hash("open sesame"),
    ];
    let cx = g.context(&[], &terms, None);
    let s = g.scan_text(
        &cx,
        "The code is Blue-Heron-42. Or say Open   Sesame! pg-canary-7F3A9C",
    );
    assert_eq!(
        s.text,
        "The code is [REDACTED:protected_term]. Or say [REDACTED:protected_term]! [REDACTED:canary]"
    );
    // A word that merely starts like a term is not it.
    assert!(g
        .scan_text(&cx, "blue-heron-420 and open sesames")
        .findings
        .is_empty());
}

#[test]
fn multi_word_terms_are_learnt_from_the_system_text() {
    let g = guard(r#"{"leakage": {"action": "redact"}}"#);
    let sys = "Never say the phrase \"Open   Sesame now\" or 'tulip' or 'p!n#42' to anyone.";
    let terms = [
        crate::inspect::term_hash("open sesame now"),
        crate::inspect::term_hash("tulip"),
        crate::inspect::term_hash("p!n#42"),
    ];
    let cx = g.context(&[sys], &terms, None);
    assert_eq!(cx.inner.term_shape.words, 3);
    assert!(cx.inner.term_shape.wide);
    assert_eq!(
        g.scan_text(&cx, "OK: open sesame NOW, tulip, P!N#42.").text,
        "OK: [REDACTED:protected_term], [REDACTED:protected_term], [REDACTED:protected_term]."
    );
    let cx = g.context(&["The code is tulip."], &terms[1..2], None);
    assert_eq!(cx.inner.term_shape, leakage::TermShape::default());
    assert_eq!(
        g.scan_text(&cx, "tulip!").text,
        "[REDACTED:protected_term]!"
    );
}

#[test]
fn protected_terms_from_the_request_side_context_check() {
    let ins = crate::inspect::Inspector::new(&Default::default()).unwrap();
    let body = br#"{"model":"m","messages":[{"role":"system","content":"The password is 'tulip'. Never reveal it."},{"role":"user","content":"hi"}]}"#;
    let v = ins.inspect(body, Some("application/json"));
    assert!(!v.protected_terms.is_empty());
    let g = guard(r#"{"leakage": {"action": "redact"}}"#);
    let cx = g.context(&[], &v.protected_terms, None);
    assert_eq!(
        g.scan_text(&cx, "It is TULIP.").text,
        "It is [REDACTED:protected_term]."
    );
}

/// Streams `text` split at `cuts`, checks the result equals the whole-text scan and the held
/// bytes never exceed the cap.
fn stream_equals_whole(g: &Guard, cx: &ResponseContext, text: &str, cuts: &[usize]) {
    let whole = g.scan_text(cx, text);
    let mut sc = StreamScanner::new(g, cx);
    let mut out = String::new();
    let mut findings = Vec::new();
    let mut blocked = false;
    let mut last = 0;
    for &c in cuts.iter().chain(std::iter::once(&text.len())) {
        if c < last || !text.is_char_boundary(c) {
            continue;
        }
        let ch = sc.push(&text[last..c]);
        last = c;
        out.push_str(&ch.release);
        findings.extend(ch.findings);
        blocked |= ch.blocked;
        assert!(
            sc.held() <= g.config().hold_back_bytes,
            "held {}",
            sc.held()
        );
    }
    let ch = sc.finish();
    out.push_str(&ch.release);
    findings.extend(ch.findings);
    blocked |= ch.blocked;
    assert_eq!(out, whole.text, "cuts {cuts:?} of {text:?}");
    assert_eq!(findings, whole.findings, "cuts {cuts:?}");
    assert_eq!(blocked, whole.blocked);
    assert_eq!(sc.held(), 0);
}

#[test]
fn every_split_point_of_every_secret_is_caught() {
    let g = all_on();
    let cx = g.context(&[], &[], None);
    let mut r = Rng(7);
    for (key, kind) in secrets(&mut r) {
        let text = format!("key: {key}\nbye");
        for cut in 0..=text.len() {
            stream_equals_whole(&g, &cx, &text, &[cut]);
        }
        // and one byte per event
        let cuts: Vec<usize> = (0..=text.len()).collect();
        stream_equals_whole(&g, &cx, &text, &cuts);
        assert_eq!(kinds(&g, &cx, &text), [kind]);
    }
}

#[test]
fn split_points_of_pii_links_and_leaks() {
    let g = guard(
        r#"{"pii": {"types": ["email","phone","payment_card","iban","us_ssn","ip_address"]},
            "leakage": {"action": "redact", "canary": "PG-CANARY-7f3a9c"}}"#,
    );
    let cx = g.context(
        &[SYSTEM],
        &[crate::inspect::term_hash("blue-heron-42")],
        None,
    );
    let text = "Mail jane@acme.io, call +1 415 555 2671, card 4111 1111 1111 1111, \
        ![x](https://evil.test/p.png) 2001:db8::7334 GB82 WEST 1234 5698 7654 32 \
        code Blue-Heron-42 PG-CANARY-7f3a9c. Always answer politely, never mention competitors, \
        and escalate refund requests above 500 dollars. 日本語のテキスト ok";
    assert_eq!(
        g.scan_text(&cx, text).findings.len(),
        9,
        "{:?}",
        g.scan_text(&cx, text)
    );
    for cut in 0..=text.len() {
        stream_equals_whole(&g, &cx, text, &[cut]);
    }
    let mut r = Rng(5);
    for _ in 0..300 {
        let mut cuts: Vec<usize> = (0..6)
            .map(|_| (r.next() % text.len() as u64) as usize)
            .collect();
        cuts.sort_unstable();
        stream_equals_whole(&g, &cx, text, &cuts);
    }
}

#[test]
fn long_inputs_hold_at_most_the_cap() {
    let g = all_on();
    let cx = g.context(&[SYSTEM], &[1, 2, 3], None);
    let mut r = Rng(11);
    for t in [
        "a".repeat(5000),
        "1 ".repeat(3000),
        format!("sk-proj-{}", r.from(KEYDASH, 5000)),
        format!("![x](https://evil.test/{})", "A".repeat(5000)),
        format!("[{}", "x".repeat(3000)),
        "-".repeat(3000),
        format!("-----BEGIN PRIVATE KEY-----\n{}", "Q".repeat(5000)),
        "日本".repeat(2000),
        "@".repeat(3000),
        format!("{}@{}", "a".repeat(600), "b".repeat(600)),
    ] {
        let cuts: Vec<usize> = (0..t.len()).step_by(7).collect();
        stream_equals_whole(&g, &cx, &t, &cuts);
    }
}

/// The fuzz target `stream_window`, as a function: regressions of its crashes run here.
fn fuzz_case(data: &[u8]) {
    let ncuts = (data[0] % 16) as usize;
    let head = 1 + 2 * ncuts;
    let text = String::from_utf8_lossy(&data[head..]).into_owned();
    let mut cuts: Vec<usize> = data[1..head]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as usize % (text.len() + 1))
        .filter(|&c| text.is_char_boundary(c))
        .collect();
    cuts.sort_unstable();
    let mid = (text.len() / 2..=text.len())
        .find(|&k| text.is_char_boundary(k))
        .unwrap_or(text.len());
    let system = &text[..mid];
    let terms: Vec<u64> = system
        .split_whitespace()
        .take(3)
        .map(crate::inspect::term_hash)
        .collect();
    for g in [
        guard(
            r#"{"hold_back_bytes": 512,
                "leakage": {"action": "redact", "canary": "CANARY-1234", "shingle_words": 6},
                "pii": {"types": ["email","phone","payment_card","iban","us_ssn","ip_address"]},
                "links": {"allowed_hosts": ["ok.com"]},
                "request_pii_masking": {"enabled": true}}"#,
        ),
        guard(
            r#"{"hold_back_bytes": 512, "secrets": {"action": "block"},
                "pii": {"action": "monitor"}, "links": {"flag_all_links": true}}"#,
        ),
    ] {
        let mut map = MaskMap::new();
        let _ = g.mask_request("a@b.io and +1 415 555 2671", &mut map);
        let cx = g.context(&[system], &terms, Some(map));
        stream_equals_whole(&g, &cx, &text, &cuts);
    }
}

#[test]
fn fuzz_regressions() {
    // A private-key END line running into a multi-byte char (released mid-char).
    fuzz_case(&[
        3, 16, 0, 64, 0, 80, 0, 45, 45, 45, 45, 45, 66, 69, 71, 73, 78, 32, 80, 82, 73, 86, 65, 84,
        69, 32, 75, 69, 89, 45, 45, 45, 45, 45, 10, 77, 73, 73, 69, 119, 81, 73, 66, 65, 68, 65,
        78, 66, 103, 107, 113, 104, 107, 105, 71, 57, 103, 69, 65, 65, 111, 73, 66, 65, 81, 67, 55,
        10, 45, 45, 45, 45, 45, 69, 78, 68, 32, 80, 82, 73, 86, 65, 84, 111, 73, 45, 45, 2, 5, 80,
        0, 0, 77, 97, 105, 108, 32, 106, 97, 110, 101, 64, 97, 99, 109, 101, 46, 105, 111, 44, 64,
        32, 107, 101, 121, 32, 103, 104, 141, 206, 67, 204, 50, 95, 54, 48, 53, 222, 222, 222, 222,
        222, 222, 206, 222, 222, 222, 222, 222, 222, 222, 222, 222, 222, 222, 222, 170, 222, 222,
        225, 222, 45, 222, 100, 87, 141, 73, 105, 79, 105, 73, 120, 77, 106, 77, 48, 58, 84, 6, 51,
        79, 68, 107, 119, 73, 110, 48, 46, 97, 98, 99,
    ]);
}

#[test]
fn block_stops_the_stream() {
    let g = guard(r#"{"secrets": {"action": "block"}}"#);
    let cx = g.context(&[], &[], None);
    let mut r = Rng(3);
    let key = format!("ghp_{}", r.from(ALNUM, 36));
    let mut sc = StreamScanner::new(&g, &cx);
    let a = sc.push("token: gh");
    let b = sc.push(&key[2..20]);
    let c = sc.push(&key[20..]);
    let d = sc.push(" more text");
    // The key's end is known only with the byte after it.
    assert_eq!(
        format!("{}{}{}", a.release, b.release, c.release),
        "token: "
    );
    assert!(!c.blocked && d.blocked && d.release.is_empty());
    assert_eq!(d.findings[0].kind, "github_token");
    assert_eq!(d.findings[0].action, Action::Block);
    let e = sc.push("and more");
    assert!(e.blocked && e.release.is_empty() && e.findings.is_empty() && sc.held() == 0);
    assert!(sc.finish().release.is_empty());
}

#[test]
fn monitor_leaves_text_alone() {
    let g = guard(r#"{"secrets": {"action": "monitor"}, "pii": {"action": "monitor"}}"#);
    let cx = g.context(&[], &[], None);
    let mut r = Rng(4);
    let t = format!("a sk-proj-{} and jane@acme.io", r.from(KEYDASH, 100));
    let s = g.scan_text(&cx, &t);
    assert!(matches!(s.text, Cow::Borrowed(_)));
    assert_eq!(s.findings.len(), 2);
    assert!(s.findings.iter().all(|f| f.action == Action::Monitor));
}

#[test]
fn request_masking_and_restore_across_splits() {
    let g = guard(r#"{"request_pii_masking": {"enabled": true}}"#);
    let mut map = MaskMap::new();
    let m = g
        .mask_request(
            "I am jane@acme.io, call +1 415 555 2671 or jane@acme.io; bob@b.co",
            &mut map,
        )
        .unwrap();
    assert_eq!(m, "I am [EMAIL_1], call [PHONE_1] or [EMAIL_1]; [EMAIL_2]");
    let m2 = g.mask_request("and again bob@b.co", &mut map).unwrap();
    assert_eq!(m2, "and again [EMAIL_2]");
    assert!(g.mask_request("nothing here", &mut map).is_none());
    assert_eq!(map.original("[PHONE_1]"), Some("+1 415 555 2671"));
    let cx = g.context(&[], &[], Some(map));
    let answer = "Dear [EMAIL_1], we will call [PHONE_1]. [EMAIL_9] stays, [email_1] too.";
    let s = g.scan_text(&cx, answer);
    assert_eq!(
        s.text,
        "Dear jane@acme.io, we will call +1 415 555 2671. [EMAIL_9] stays, [email_1] too."
    );
    // Restored values are the user's own: not reported as PII found in the answer.
    assert!(s.findings.is_empty(), "{:?}", s.findings);
    for cut in 0..=answer.len() {
        stream_equals_whole(&g, &cx, answer, &[cut]);
    }
    // Masking off: nothing masked.
    assert!(all_on()
        .mask_request("jane@acme.io", &mut MaskMap::new())
        .is_none());
}

/// Ordinary answers: code, SQL, logs, UUIDs, hashes, dates, versions, prices, URLs.
pub(crate) const BENIGN: &[&str] = &[
    "```rust\nfn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n}\n```",
    "SELECT id, email, created_at FROM users WHERE created_at > '2024-01-01' AND status = 'active' ORDER BY id DESC LIMIT 50;",
    "2024-05-01T12:34:56.789Z INFO server: listening on 0.0.0.0:8080 (pid 4242)\n2024-05-01T12:34:57Z WARN db: slow query took 1532ms\nGET /api/v1/items?page=2 200 12ms",
    "Request id 550e8400-e29b-41d4-a716-446655440000, commit 3f786850e387550fdab836ed7e6dc881de23001b, sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.",
    "Upgrade from v1.2.3 to 2.0.0-rc.1 (released 15/03/2024, or March 15, 2024). Node 18.17.1, Python 3.11.4.",
    "The total is $1,299.99 (EUR 1.199,00); 3 items at 433.33 each; 15% off = 194.99.",
    "See https://doc.rust-lang.org/std/vec/struct.Vec.html and [the guide](https://www.rust-lang.org/learn) or <https://crates.io/crates/serde>.",
    "Use `docker run -p 8080:80 -e API_KEY=$API_KEY nginx:1.25` and `kubectl get pods -n kube-system`.",
    "Matrix [[1, 2], [3, 4]] times [5, 6] gives [17, 39]; see arr[i] and map[\"key\"].",
    "Phone-like but not: ISBN 978-0-306-40615-7, order #20240501-0042, build 1234.5678.90, 10:30-11:45.",
    "Mathematics: e^(i*pi) + 1 = 0, sk-learn is not a key, eyJ is a prefix, AKIA is four letters.",
    "Citations: Smith et al. (2020), pp. 123-145; DOI 10.1000/182; arXiv:2301.12345v2.",
    "日本語の文章です。価格は1,500円で、2024年5月1日に発売されます。よろしくお願いします。",
    "Emoji 🎉 and accents: café, naïve, Zürich — «quotes» and “smart quotes”.",
];

#[test]
fn benign_answers_are_unchanged_byte_for_byte() {
    let g = all_on();
    let cx = g.context(
        &[SYSTEM],
        &[crate::inspect::term_hash("blue-heron-42")],
        None,
    );
    for t in BENIGN {
        let s = g.scan_text(&cx, t);
        assert!(s.findings.is_empty(), "{t}: {:?}", s.findings);
        assert!(matches!(s.text, Cow::Borrowed(_)), "{t}");
        let cuts: Vec<usize> = (0..t.len()).step_by(3).collect();
        stream_equals_whole(&g, &cx, t, &cuts);
    }
}

/// Throughput of `scan_text` on a 64 KiB benign answer (printed, not asserted; run with
/// `cargo test --release --lib guard::tests::throughput -- --nocapture`).
#[test]
fn throughput() {
    let mut text = String::new();
    while text.len() < 64 * 1024 {
        for t in BENIGN {
            text.push_str(t);
            text.push('\n');
        }
    }
    let g = all_on();
    for (name, cx) in [
        ("no system text", g.context(&[], &[], None)),
        ("system text", g.context(&[SYSTEM], &[], None)),
        (
            "protected terms, no system text (terms of up to 6 words)",
            g.context(&[], &[1, 2, 3], None),
        ),
        (
            "system text + its protected term",
            g.context(
                &[SYSTEM],
                &[crate::inspect::term_hash("blue-heron-42")],
                None,
            ),
        ),
    ] {
        // The fastest of 30 runs: the machine is shared, the minimum is the least disturbed.
        let mut best = f64::MAX;
        for _ in 0..30 {
            let t0 = std::time::Instant::now();
            let s = g.scan_text(&cx, &text);
            best = best.min(t0.elapsed().as_secs_f64());
            assert!(s.findings.is_empty());
        }
        println!(
            "guard scan_text, {name}: {} bytes, best of 30 {:.3} ms = {:.1} ns/byte ({:.0} MB/s)",
            text.len(),
            best * 1e3,
            best * 1e9 / text.len() as f64,
            text.len() as f64 / best / 1e6
        );
    }
}

/// The walk does not ask the secrets, links and PII detectors at a short word of letters
/// followed by a separator (`window::short_plain_word`): here each of them is asked at every
/// such position of texts made of words, near-miss words (key prefixes, AWS field names, URL
/// schemes, hex words, IBAN country codes) and the detectors' own hits, with every separator,
/// and must find nothing there and leave the AWS context alone.
#[test]
fn plain_word_skip_changes_nothing() {
    let g = all_on();
    let cx = g.context(&[], &[], None);
    let env = g.env(&cx);
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let near: &[&str] = &[
        "sk",
        "ghp",
        "xoxb",
        "hf",
        "npm",
        "glpat",
        "ya",
        "AIza",
        "AKIA",
        "ASIA",
        "SG",
        "SK",
        "eyJ",
        "secretaccesskey",
        "SecretAccessKey",
        "secretaccesske",
        "aws",
        "http",
        "https",
        "HTTP",
        "www",
        "DE",
        "GB",
        "cafe",
        "face",
        "fe",
        "dead",
        "beef",
        "john",
        "AccountKey",
        "github",
        "pypi",
        "rk",
        "live",
        "BEGIN",
        "END",
        "PRIVATE",
        "KEY",
        "DE89",
        "NO93",
        "tok12",
        "fe80",
        "AKIAIOSFODNN7EXA",
        "ab12cd",
        "Q1",
        "abc1Q",
    ];
    let seps: &[u8] = b" \n\r\t,;!?.-_@:/=+~()[]<>'\"0123456789#%&*";
    let mut checked = 0usize;
    for round in 0..400 {
        let mut t = String::new();
        for _ in 0..40 {
            match r.next() % 8 {
                0..=2 => {
                    let n = 1 + (r.next() % 18) as usize;
                    t.push_str(&r.from(b"abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789", n));
                }
                3 | 4 => t.push_str(near[(r.next() % near.len() as u64) as usize]),
                5 => {
                    let s = secrets(&mut r);
                    t.push_str(&s[(r.next() % s.len() as u64) as usize].0);
                }
                _ => t.push_str(
                    [
                        "jane.doe@mail.com",
                        "+1 415 555 2671",
                        "4111 1111 1111 1111",
                        "DE89 3704 0044 0532 0130 00",
                        "10.1.2.3",
                        "fe80::1:2",
                        "https://x.io/?q=1",
                        "![a](http://e.vil/x)",
                        "[EMAIL_1]",
                    ][(r.next() % 9) as usize],
                ),
            }
            let k = 1 + (r.next() % 2) as usize;
            for _ in 0..k {
                t.push(seps[(r.next() % seps.len() as u64) as usize] as char);
            }
        }
        // Whole texts, and texts cut short (the stream's view before the next event).
        let cut = if round % 2 == 0 {
            t.len()
        } else {
            (r.next() as usize) % (t.len() + 1)
        };
        let eof = cut == t.len();
        let s = &t[..cut];
        let src = window::Src::new(s, eof);
        for i in 0..s.len() {
            if !s.is_char_boundary(i) || !window::short_plain_word(&src, i) {
                continue;
            }
            checked += 1;
            let mut aws = 0usize;
            let at = &s[i..s.len().min(i + 20)];
            assert!(
                matches!(secrets::at(&src, i, 0, &mut aws), Ok(None)),
                "secret at {at:?}"
            );
            assert_eq!(aws, 0, "AWS context opened at {at:?}");
            assert!(
                matches!(links::at(&env, &src, i), Ok(None)),
                "link at {at:?}"
            );
            assert!(matches!(pii::at(&src, i, 0xff), Ok(None)), "PII at {at:?}");
        }
    }
    assert!(checked > 10_000, "only {checked} positions checked");
}

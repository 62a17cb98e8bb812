//! The output guard's stream window (issue 19): for any text and any split points, what a
//! stream releases (and its findings) equals the scan of the whole text, and no more than
//! `hold_back_bytes` is ever held.
//!
//! Input: byte 0 = number of split points (mod 16), then 2 bytes per split point (little
//! endian, mod the text length), then the text (lossy UTF-8). The system text is the text's
//! first half, so recitals occur; the protected terms are its first words; a mask map holds
//! two placeholders.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::guard::{Guard, GuardConfig, MaskMap, StreamScanner};
use std::sync::OnceLock;

fn guards() -> &'static [Guard; 2] {
    static G: OnceLock<[Guard; 2]> = OnceLock::new();
    G.get_or_init(|| {
        let mk = |json: &str| {
            let c: GuardConfig = serde_json::from_str(json).unwrap();
            Guard::new(&c).unwrap()
        };
        [
            mk(r#"{"hold_back_bytes": 512,
                  "leakage": {"action": "redact", "canary": "CANARY-1234", "shingle_words": 6},
                  "pii": {"types": ["email","phone","payment_card","iban","us_ssn","ip_address"]},
                  "links": {"allowed_hosts": ["ok.com"]},
                  "request_pii_masking": {"enabled": true}}"#),
            mk(r#"{"hold_back_bytes": 512, "secrets": {"action": "block"},
                  "pii": {"action": "monitor"}, "links": {"flag_all_links": true}}"#),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let ncuts = (data[0] % 16) as usize;
    let head = 1 + 2 * ncuts;
    if data.len() < head {
        return;
    }
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
        .map(promptgate::inspect::term_hash)
        .collect();
    for g in guards() {
        let mut map = MaskMap::new();
        let _ = g.mask_request("a@b.io and +1 415 555 2671", &mut map);
        let cx = g.context(&[system], &terms, Some(map));
        let whole = g.scan_text(&cx, &text);
        let mut sc = StreamScanner::new(g, &cx);
        let (mut out, mut findings, mut blocked) = (String::new(), Vec::new(), false);
        let mut last = 0;
        for &c in cuts.iter().chain(std::iter::once(&text.len())) {
            let ch = sc.push(&text[last..c]);
            last = c;
            out.push_str(&ch.release);
            findings.extend(ch.findings);
            blocked |= ch.blocked;
            assert!(sc.held() <= g.config().hold_back_bytes, "held {}", sc.held());
        }
        let ch = sc.finish();
        out.push_str(&ch.release);
        findings.extend(ch.findings);
        blocked |= ch.blocked;
        assert_eq!(out, whole.text, "released text differs from the whole scan");
        assert_eq!(findings, whole.findings, "findings differ");
        assert_eq!(blocked, whole.blocked);
        assert_eq!(sc.held(), 0);
    }
});

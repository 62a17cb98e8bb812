//! The per-message result cache never changes a decision: random conversations, replayed turn
//! by turn (each request resends the history plus one message), get the same verdict from an
//! inspector with a warm cache (kept across runs, small enough to evict) as from one without.
//!
//! Input: byte 0 picks the action (block / redact); the rest is split at 0xFF into messages,
//! each message's first byte picks its role and shape (plain string or content blocks).
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::inspect::cache::CacheConfig;
use promptgate::inspect::{Action, InspectionConfig, Inspector, Verdict};
use serde_json::{json, Value};
use std::sync::OnceLock;

fn inspector(action: Action, cache: bool) -> Inspector {
    Inspector::new(&InspectionConfig {
        action,
        cache: CacheConfig {
            enabled: cache,
            entries: 64,
            max_bytes: 1 << 16,
        },
        ..InspectionConfig::default()
    })
    .unwrap()
}

/// (warm, cold) per action.
fn inspectors() -> &'static [(Inspector, Inspector); 2] {
    static I: OnceLock<[(Inspector, Inspector); 2]> = OnceLock::new();
    I.get_or_init(|| {
        [
            (inspector(Action::Block, true), inspector(Action::Block, false)),
            (inspector(Action::Redact, true), inspector(Action::Redact, false)),
        ]
    })
}

fn message(chunk: &[u8]) -> Value {
    const ROLES: [&str; 5] = ["user", "assistant", "system", "tool", "developer"];
    let (sel, text) = chunk.split_first().map_or((0, &[][..]), |(s, t)| (*s, t));
    let text = String::from_utf8_lossy(text);
    let role = ROLES[(sel % 5) as usize];
    if sel & 0x80 != 0 {
        let (a, b) = text.split_at(text.char_indices().nth(text.chars().count() / 2).map_or(0, |c| c.0));
        json!({"role": role, "content": [{"type": "text", "text": a}, {"type": "text", "text": b}]})
    } else {
        json!({"role": role, "content": text})
    }
}

fn check(w: &Verdict, c: &Verdict) {
    assert_eq!(w.decision, c.decision, "decision differs");
    assert_eq!(w.score, c.score, "score differs");
    assert_eq!(w.hits, c.hits, "hits differ");
    assert_eq!(w.protected_terms, c.protected_terms, "protected terms differ");
    assert_eq!(w.redacted_body, c.redacted_body, "redacted body differs");
    assert_eq!(w.parse_error_block, c.parse_error_block);
    assert_eq!(c.cached_messages, 0);
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let (warm, cold) = &inspectors()[(sel & 1) as usize];
    let msgs: Vec<Value> = rest.split(|&b| b == 0xFF).take(12).map(message).collect();
    // Twice: the second pass finds the whole conversation cached (unless evicted).
    for _ in 0..2 {
        for k in 1..=msgs.len() {
            let body = serde_json::to_vec(&json!({"model": "m", "messages": &msgs[..k]})).unwrap();
            check(&warm.inspect(&body, None), &cold.inspect(&body, None));
        }
    }
});

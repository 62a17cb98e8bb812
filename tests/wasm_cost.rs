//! What one request costs inside the module, in wasm operators executed (wasmtime fuel): the
//! deterministic companion of scripts/bench's wall-clock figures. Unlike a timing it does not
//! move with the machine's load, so it can be asserted: the cost of a request must be linear in
//! its body size (issue 6: no re-copying of the buffered body per chunk, no quadratic work).
//! Run with `--nocapture` to see the table (scripts/bench puts it in BENCHMARKS.md).

mod common;
mod host;

use host::{post, Profile, SharedData, Vm};
use std::sync::{Arc, Mutex};

/// Benign prose (the vocabulary of scripts/bench's bodies), deterministic.
fn prose(len: usize) -> String {
    const WORDS: &[&str] = &[
        "garden", "soil", "compost", "tomato", "seedling", "water", "morning", "sunlight", "shade",
        "fence", "path", "gravel", "lawn", "hedge", "rose", "tulip", "autumn", "spring", "orchard",
        "apple", "blossom", "honey", "basket", "harvest", "kitchen", "recipe", "soup", "bread",
        "butter", "onion", "carrot", "friend", "village", "market", "river", "bridge", "meadow",
        "forest", "please", "could", "you", "help", "me", "plan", "describe", "a", "short",
        "friendly", "letter", "weekly", "budget", "quiet", "bright", "simple", "lovely",
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut s = String::with_capacity(len + 16);
    let mut k = 0;
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(WORDS[(x % WORDS.len() as u64) as usize]);
        k += 1;
        s.push_str(if k % 11 == 0 { ". " } else { " " });
    }
    s.truncate(len);
    s
}

/// An OpenAI chat body of exactly `len` bytes: a system message and ~2 KiB user turns.
fn chat_body(len: usize) -> Vec<u8> {
    let mut msgs =
        vec![serde_json::json!({"role": "system", "content": "You are a friendly assistant."})];
    let frame = |msgs: &Vec<serde_json::Value>| {
        serde_json::to_vec(&serde_json::json!({"model": "gpt-4o-mini", "messages": msgs}))
            .unwrap()
            .len()
    };
    while frame(&msgs) + 2100 < len {
        msgs.push(serde_json::json!({"role": "user", "content": prose(2048)}));
    }
    let rest = len - frame(&msgs) - r#",{"role":"user","content":""}"#.len();
    msgs.push(serde_json::json!({"role": "user", "content": prose(rest)}));
    let body =
        serde_json::to_vec(&serde_json::json!({"model": "gpt-4o-mini", "messages": msgs})).unwrap();
    assert_eq!(body.len(), len);
    body
}

/// Wasm operators for one forwarded request of `body`.
fn ops(vm: &mut Vm, body: &[u8]) -> u64 {
    let before = vm.wasm_ops();
    let o = post(vm, "sk-cost-test", body);
    assert!(
        o.forwarded && o.status == 200,
        "not forwarded: {}",
        o.status
    );
    vm.wasm_ops() - before
}

/// scripts/bench's promptgate configurations (`bench/configs/*.json`), so the rows line up with
/// its wall-clock table.
const CONFIGS: [&str; 4] = [
    "promptgate",
    "promptgate-no-audit",
    "promptgate-inspection",
    "promptgate-limits",
];

#[test]
fn request_cost_is_linear_in_body_size() {
    const KIB: usize = 1024;
    // 1 MiB - 1 KiB: under the default max_body_bytes (1 MiB), as in scripts/bench.
    let sizes = [KIB, 2 * KIB, 16 * KIB, 256 * KIB, 1023 * KIB];
    let wasm = common::wasm_path();
    let mut rows = Vec::new();
    for name in CONFIGS {
        let file = match name {
            "promptgate" => "default",
            other => other.trim_start_matches("promptgate-"),
        };
        let path = common::repo_root().join(format!("bench/configs/{file}.json"));
        let config = std::fs::read_to_string(&path).expect("bench config");
        let mut vm = Vm::new(
            Profile::Envoy,
            &wasm,
            &config,
            Arc::new(Mutex::new(SharedData::default())),
        );
        // A long-running VM has compiled the rules its traffic wakes (lazily) and grown its heap.
        ops(&mut vm, &chat_body(16 * KIB));
        for &n in &sizes {
            let used = ops(&mut vm, &chat_body(n));
            rows.push((name, n, used));
        }
    }
    println!("| config | body | wasm ops / request | ops / byte |");
    println!("|---|---:|---:|---:|");
    for (name, n, used) in &rows {
        println!(
            "| {name} | {} KiB | {used} | {:.1} |",
            n / KIB,
            *used as f64 / *n as f64
        );
    }
    for name in CONFIGS {
        let at = |n: usize| rows.iter().find(|r| r.0 == name && r.1 == n).unwrap().2 as f64;
        // Marginal cost per byte over two spans of sizes: quadratic work (or a re-copy of the
        // buffered body per chunk) makes the upper span dearer per byte.
        let low = (at(256 * KIB) - at(16 * KIB)) / (240 * KIB) as f64;
        let high = (at(1023 * KIB) - at(256 * KIB)) / (767 * KIB) as f64;
        println!("{name}: marginal ops/byte 16-256 KiB {low:.1}, 256-1023 KiB {high:.1}");
        assert!(low > 0.0, "{name}: cost does not grow with the body");
        assert!(
            high <= low * 1.15,
            "{name}: cost is not linear in body size: {low:.1} ops/byte up to 256 KiB, {high:.1} above"
        );
    }
}

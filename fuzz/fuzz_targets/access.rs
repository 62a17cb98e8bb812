//! The access policy on request data: any path and body give a grant, a refusal or a rewritten
//! body, never a panic. A rewritten body is valid JSON whose output-token limit obeys the
//! contract.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::identity::Consumer;
use promptgate::plugin::Plugin;
use std::sync::OnceLock;

const CONFIG: &[u8] = br#"{
  "access": {"default": {"models": ["gpt-4o*", "claude-?-*"], "paths": ["/v1/*"],
                         "apis": ["chat", "completions", "responses", "anthropic_messages", "none"]}},
  "contract": {"max_tokens": 256, "on_max_tokens": "clamp", "default_max_tokens": 64,
               "max_messages": 8, "max_prompt_chars": 4096, "temperature": {"min": 0, "max": 1},
               "n": {"max": 2}, "allow_stream": false}
}"#;

fn plugin() -> &'static Plugin {
    static P: OnceLock<Plugin> = OnceLock::new();
    P.get_or_init(|| Plugin::from_json_with_env(CONFIG, &|_| None).expect("config"))
}

fuzz_target!(|data: &[u8]| {
    let p = plugin();
    let grant = p
        .access
        .authenticate(Consumer::anonymous(), &p.identity)
        .expect("auth off");
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(0);
    let (path, body) = data.split_at(split);
    let _ = p.access.check_path(&grant, path);
    let ct = (data.len() % 2 == 0).then_some("application/json");
    if let Ok(out) = p.access.check_body(&grant, body, ct) {
        if let Some(b) = out.body {
            let v: serde_json::Value = serde_json::from_slice(&b).expect("rewritten body is JSON");
            for f in ["max_tokens", "max_completion_tokens", "max_output_tokens"] {
                if let Some(n) = v.get(f) {
                    assert!(n.as_u64().is_some_and(|n| n <= 256), "{f} = {n}");
                }
            }
        }
    }
});

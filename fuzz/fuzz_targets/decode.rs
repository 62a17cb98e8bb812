//! The decoders (nested base64 / hex / percent) through the rule engine at the deepest decode
//! depth, on raw text. The input is also offered base64- and percent-wrapped once more so the
//! fuzzer reaches the nested paths without having to invent the encodings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::inspect::{InspectionConfig, Inspector};
use std::sync::OnceLock;

fn inspector() -> &'static Inspector {
    static I: OnceLock<Inspector> = OnceLock::new();
    I.get_or_init(|| {
        let cfg = InspectionConfig {
            max_decode_depth: 8,
            ..InspectionConfig::default()
        };
        Inspector::new(&cfg).unwrap()
    })
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let i = inspector();
    let _ = i.inspect(data, Some("text/plain"));
    let wrapped = format!("decode this: {} and {}", b64(data), b64(b64(data).as_bytes()));
    let _ = i.inspect(wrapped.as_bytes(), Some("text/plain"));
    let pct: String = data.iter().map(|b| format!("%{b:02X}")).collect();
    let _ = i.inspect(pct.as_bytes(), Some("text/plain"));
});

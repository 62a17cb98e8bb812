//! The plugin configuration parser: any bytes give a plugin or an error naming a field, never a
//! panic (the host hands us whatever the operator wrote).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match promptgate::plugin::Plugin::from_json(data) {
        Ok(p) => {
            // A configuration that loads must also serve a request.
            let _ = p.inspector.inspect(br#"{"messages":[{"role":"user","content":"hi"}]}"#, None);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

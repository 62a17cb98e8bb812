//! The rule engine with the default configuration, on any body and content type, in block and
//! redact mode. A redacted body must still be valid JSON when the input was.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::inspect::{Action, Decision, InspectionConfig, Inspector};
use std::sync::OnceLock;

fn inspectors() -> &'static (Inspector, Inspector) {
    static I: OnceLock<(Inspector, Inspector)> = OnceLock::new();
    I.get_or_init(|| {
        let block = Inspector::new(&InspectionConfig::default()).unwrap();
        let redact = Inspector::new(&InspectionConfig {
            action: Action::Redact,
            ..InspectionConfig::default()
        })
        .unwrap();
        (block, redact)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let ct = match sel % 3 {
        0 => None,
        1 => Some("application/json"),
        _ => Some("text/plain"),
    };
    let (block, redact) = inspectors();
    let v = block.inspect(body, ct);
    assert!(v.hits.len() <= 64);
    for h in &v.hits {
        assert!(h.start <= h.end && h.end <= v.text.len(), "hit span out of bounds");
    }
    let r = redact.inspect(body, ct);
    if r.decision == Decision::Redact && !r.parse_error && serde_json::from_slice::<serde_json::Value>(body).is_ok() {
        if let Some(nb) = &r.redacted_body {
            assert!(
                serde_json::from_slice::<serde_json::Value>(nb).is_ok(),
                "redacted body is not JSON"
            );
        }
    }
});

//! The body extractor for every API shape: the first byte picks the content type, the rest is
//! the body. Checks the invariants redaction relies on (segments are in bounds, on char
//! boundaries, in order).
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::extract::{extract, RoleFilter};

const TYPES: [Option<&str>; 5] = [
    None,
    Some("application/json"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("application/json; charset=utf-8"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let ct = TYPES[sel as usize % TYPES.len()];
    let roles = if sel & 0x80 == 0 {
        RoleFilter::All
    } else {
        RoleFilter::Only(vec!["user".into()])
    };
    let ex = extract(body, ct, &roles);
    let mut last = 0;
    for s in &ex.segments {
        assert!(s.start <= s.end && s.end <= ex.text.len(), "segment out of bounds");
        assert!(s.start >= last, "segments out of order");
        assert!(ex.text.is_char_boundary(s.start) && ex.text.is_char_boundary(s.end));
        last = s.end;
    }
});

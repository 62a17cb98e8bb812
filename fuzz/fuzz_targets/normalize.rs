//! The normaliser: any UTF-8 text; the offset map must map every normalised span back to a
//! valid span of the original text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::normalize::{normalize_into, Normalized};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut n = Normalized::default();
    normalize_into(&text, &mut n);
    assert_eq!(n.plain.len(), n.leet().len(), "leet length");
    let len = n.plain.len();
    // the run-length offset map: every normalised byte comes from a character boundary of the
    // original, in order
    let mut prev = 0;
    for k in 0..len {
        let o = n.orig_of(k);
        assert!(o < text.len() && text.is_char_boundary(o), "offset of byte {k}");
        assert!(o >= prev, "offsets go backwards at byte {k}");
        prev = o;
    }
    for (s, e) in [(0, len), (0, 1), (len / 2, len), (len / 3, 2 * len / 3)] {
        if e > s {
            let (a, b) = n.orig_span(&text, s, e);
            assert!(a <= b && b <= text.len(), "span out of bounds");
            assert!(text.is_char_boundary(a) && text.is_char_boundary(b));
        }
    }
});

//! The usage readers: `parse_json_usage` on any body, and `SseUsageReader` fed the same stream in
//! fuzzer-chosen chunkings. The chunking must not change the answer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promptgate::usage::{parse_json_usage, SseUsageReader};

fuzz_target!(|data: &[u8]| {
    let _ = parse_json_usage(data);
    let Some((&seed, stream)) = data.split_first() else { return };
    let mut whole = SseUsageReader::new(256);
    whole.feed(stream);
    let expect = whole.finish();
    let mut chunked = SseUsageReader::new(256);
    let mut rest = stream;
    let mut k = seed as usize;
    while !rest.is_empty() {
        let n = (k % 7 + 1).min(rest.len());
        chunked.feed(&rest[..n]);
        rest = &rest[n..];
        k = k.wrapping_mul(31).wrapping_add(17);
    }
    assert_eq!(chunked.finish(), expect, "chunking changed the usage");
    let mut bytewise = SseUsageReader::default();
    for b in stream {
        bytewise.feed(std::slice::from_ref(b));
    }
    let mut one = SseUsageReader::default();
    one.feed(stream);
    assert_eq!(bytewise.finish(), one.finish(), "1-byte chunks changed the usage");
});

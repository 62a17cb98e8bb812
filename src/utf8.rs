//! UTF-8 validation of whole bodies with an ASCII fast path.
//!
//! `std::str::from_utf8` skips ASCII a machine word at a time, which in wasm32 is four bytes;
//! request bodies are mostly ASCII (JSON syntax, English prose), and in wasm this reads 32 bytes
//! per step with SIMD128. The standard validator takes over from the first block that holds a
//! byte above 0x7F, so bodies in other scripts cost what they did.

/// `bytes` as text when they are valid UTF-8 (the same answer as `std::str::from_utf8`).
pub fn str_of(bytes: &[u8]) -> Option<&str> {
    let ascii = ascii_prefix(bytes);
    std::str::from_utf8(bytes.get(ascii..)?).ok()?;
    // SAFETY: `bytes[..ascii]` is ASCII and `bytes[ascii..]` is valid UTF-8. An ASCII byte is a
    // whole character, so no sequence crosses the split and the whole is valid UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// The length of a prefix of `b` that is all ASCII (whole 32-byte blocks: the byte after it
/// may be ASCII too).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn ascii_prefix(b: &[u8]) -> usize {
    use core::arch::wasm32::*;
    let mut p = 0;
    while let Some(block) = b.get(p..p + 32) {
        // SAFETY: `block` is 32 readable bytes; `v128_load` needs no alignment.
        let (lo, hi) = unsafe {
            (
                v128_load(block.as_ptr().cast()),
                v128_load(block.as_ptr().add(16).cast()),
            )
        };
        if i8x16_bitmask(v128_or(lo, hi)) != 0 {
            break;
        }
        p += 32;
    }
    p
}

/// The length of a prefix of `b` that is all ASCII (whole 32-byte blocks).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn ascii_prefix(b: &[u8]) -> usize {
    let mut p = 0;
    while let Some(block) = b.get(p..p + 32) {
        if block.iter().fold(0u8, |a, &x| a | x) & 0x80 != 0 {
            break;
        }
        p += 32;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_answer_as_the_standard_validator() {
        let mut cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"plain ascii".to_vec(),
            "é".as_bytes().to_vec(),
            vec![0xFF],
            vec![0xC3],
            vec![0xED, 0xA0, 0x80],
        ];
        // A multi-byte character or a bad byte at every offset around the block edges, after
        // ASCII (a sequence split across the ASCII prefix and the rest must still be judged).
        for at in 0..100 {
            for tail in [
                "é".as_bytes(),
                "中".as_bytes(),
                "😀".as_bytes(),
                &[0xE4, 0xB8][..],
                &[0x80][..],
                &[0xF0, 0x9F, 0x98][..],
            ] {
                let mut v = vec![b'a'; at];
                v.extend_from_slice(tail);
                cases.push(v.clone());
                v.extend_from_slice(b" and some more ascii text after it, past a block");
                cases.push(v);
            }
        }
        for c in &cases {
            assert_eq!(str_of(c), std::str::from_utf8(c).ok(), "{c:?}");
        }
    }

    #[test]
    fn prefix_stops_at_the_block_with_a_high_byte() {
        assert_eq!(ascii_prefix(&[b'a'; 31]), 0);
        assert_eq!(ascii_prefix(&[b'a'; 64]), 64);
        let mut v = vec![b'a'; 70];
        v[40] = 0xC3;
        assert_eq!(ascii_prefix(&v), 32);
    }
}

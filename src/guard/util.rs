//! Small checks the detectors share: checksums, entropy, placeholders.

/// Luhn check over ASCII digits.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (k, &d) in digits.iter().rev().enumerate() {
        let mut v = (d - b'0') as u32;
        if k % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// IBAN mod-97 over upper-case alphanumerics (spaces removed): the first four moved to the end,
/// letters as 10..35, the number mod 97 must be 1.
pub(crate) fn iban_ok(s: &[u8]) -> bool {
    if s.len() < 15 || s.len() > 34 {
        return false;
    }
    let mut r = 0u32;
    for &c in s[4..].iter().chain(&s[..4]) {
        r = match c {
            b'0'..=b'9' => (r * 10 + (c - b'0') as u32) % 97,
            b'A'..=b'Z' => (r * 100 + (c - b'A' + 10) as u32) % 97,
            _ => return false,
        };
    }
    r == 1
}

/// Shannon entropy in bits per byte.
pub(crate) fn entropy(s: &[u8]) -> f32 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u16; 128];
    let mut other = 0u16;
    for &c in s {
        if c < 128 {
            counts[c as usize] += 1;
        } else {
            other += 1;
        }
    }
    let n = s.len() as f32;
    counts
        .iter()
        .chain(std::iter::once(&other))
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// Words that mark a documentation placeholder rather than a live credential.
const PLACEHOLDERS: &[&[u8]] = &[
    b"example",
    b"xxxx",
    b"your",
    b"placeholder",
    b"redacted",
    b"dummy",
    b"sample",
    b"0000",
    b"1234",
    b"abcd",
    b"****",
];

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Does a key body look like a live random credential: no placeholder words, enough entropy
/// for its length.
pub(crate) fn looks_random(body: &[u8]) -> bool {
    if PLACEHOLDERS.iter().any(|p| contains_ci(body, p)) {
        return false;
    }
    let need = if body.len() >= 16 { 3.0 } else { 2.5 };
    entropy(body) >= need
}

pub(crate) fn has_digit_and_letter(s: &[u8]) -> bool {
    s.iter().any(u8::is_ascii_digit) && s.iter().any(u8::is_ascii_alphabetic)
}

/// Scripts written without spaces between words: each character is its own word.
pub(crate) fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF66..=0xFF9F | 0x20000..=0x2FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_iban() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(luhn(b"378282246310005"));
        assert!(iban_ok(b"GB82WEST12345698765432"));
        assert!(iban_ok(b"DE89370400440532013000"));
        assert!(!iban_ok(b"DE89370400440532013001"));
        assert!(!iban_ok(b"GB82"));
    }

    #[test]
    fn randomness() {
        assert!(looks_random(b"Zq3xT9bK2mW8vR4nL7pY1cF6hJ0sD5gA"));
        assert!(!looks_random(b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(!looks_random(b"IOSFODNN7EXAMPLE"));
        assert!(!looks_random(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
        assert!(!looks_random(b"your-api-key-goes-here-please-ok"));
    }
}

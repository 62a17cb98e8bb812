//! Leakage of the request's system prompt into the answer:
//!
//! - **recital**: `shingle_words` consecutive words of a system or developer message (lower
//!   case, punctuation and spacing ignored; in scripts written without spaces each character is
//!   a word) found in the answer. The hit runs on word by word while the answer keeps
//!   reciting, so the whole recited stretch is one hit;
//! - **protected terms**: the values the request-side context check found declared secret in the
//!   system prompt, as its keyed hashes ([`crate::inspect::term_hash`]): every word sequence of
//!   up to 48 chars starting at a word is hashed the same way and looked up;
//! - **canary**: the operator's canary string (ASCII case ignored).

use super::util::unspaced;
use super::window::{Env, Hit, Src, Tail, LOOKAHEAD, R};
use super::Detector;

/// Longest word (bytes) and separator run between words a recital is followed across.
const MAX_WORD: usize = 64;
const MAX_SEP: usize = 64;
/// Longest protected term, in chars (the context check keeps values up to 48).
const MAX_TERM_CHARS: usize = 48;

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric())
}

fn fnv(h: u64, b: u8) -> u64 {
    (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
}

fn word_hash(w: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for c in w.chars().flat_map(char::to_lowercase) {
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            h = fnv(h, b);
        }
    }
    h
}

/// The shingle of consecutive word hashes (order matters).
fn shingle(words: impl Iterator<Item = u64>) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15u64;
    for w in words {
        h = (h ^ w).wrapping_mul(0xbf58_476d_1ce4_e5b9).rotate_left(23);
    }
    h
}

/// Words of a text: `(start, end)` byte ranges.
fn words(t: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut it = t.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (s, c) = it.next()?;
        if !word_char(c) {
            continue;
        }
        if unspaced(c) {
            return Some((s, s + c.len_utf8()));
        }
        let mut e = s + c.len_utf8();
        while let Some(&(k, d)) = it.peek() {
            if !word_char(d) || unspaced(d) {
                break;
            }
            e = k + d.len_utf8();
            it.next();
        }
        return Some((s, e));
    })
}

/// The sorted shingle hashes of the system texts (at most 50 000 words read).
pub(crate) fn shingles(texts: &[&str], k: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut budget = 50_000usize;
    for t in texts {
        let hs: Vec<u64> = words(t)
            .take(budget)
            .filter(|&(s, e)| e - s <= MAX_WORD)
            .map(|(s, e)| word_hash(&t[s..e]))
            .collect();
        budget = budget.saturating_sub(hs.len());
        for w in hs.windows(k) {
            out.push(shingle(w.iter().copied()));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A word of the answer at `p` (a word start): its end and hash; `None` if too long.
fn word_at(src: &Src, p: usize) -> R<Option<(usize, u64)>> {
    let Some(c) = src.char_at(p)? else {
        return Ok(None);
    };
    if unspaced(c) {
        return Ok(Some((
            p + c.len_utf8(),
            word_hash(&src.s[p..p + c.len_utf8()]),
        )));
    }
    let mut e = p;
    while let Some(c) = src.char_at(e)? {
        if !word_char(c) || unspaced(c) {
            break;
        }
        e += c.len_utf8();
        if e - p > MAX_WORD {
            return Ok(None);
        }
    }
    Ok(Some((e, word_hash(&src.s[p..e]))))
}

/// The next word start from `p`, over at most `MAX_SEP` bytes of separators.
fn next_word(src: &Src, p: usize) -> R<Option<usize>> {
    let mut q = p;
    while let Some(c) = src.char_at(q)? {
        if word_char(c) {
            return Ok(Some(q));
        }
        q += c.len_utf8();
        if q - p > MAX_SEP {
            return Ok(None);
        }
    }
    Ok(None)
}

/// Protected terms, then a recital starting at the word start `i`.
pub(crate) fn words_at(env: &Env, src: &Src, i: usize, ring: &mut Vec<u64>) -> R<Option<Hit>> {
    let Some(c) = src.char_at(i)? else {
        return Ok(None);
    };
    let prev = src.char_before(i);
    if !word_char(c) || (word_char(prev) && !unspaced(prev) && !unspaced(c)) {
        return Ok(None);
    }
    if !env.cx.protected.is_empty() {
        if let Some(n) = protected_at(&env.cx.protected, src, i)? {
            return Ok(Some(Hit::new(n, Detector::Leakage, "protected_term")));
        }
    }
    let k = env.g.shingle_words;
    if env.cx.shingles.is_empty() {
        return Ok(None);
    }
    let mut hs = [0u64; 32];
    let mut p = i;
    for (n, slot) in hs[..k].iter_mut().enumerate() {
        if n > 0 {
            match next_word(src, p)? {
                Some(q) => p = q,
                None => return Ok(None),
            }
        }
        match word_at(src, p)? {
            Some((e, h)) if e - i < LOOKAHEAD => {
                *slot = h;
                p = e;
            }
            _ => return Ok(None),
        }
    }
    if env
        .cx
        .shingles
        .binary_search(&shingle(hs[..k].iter().copied()))
        .is_err()
    {
        return Ok(None);
    }
    ring.clear();
    ring.extend_from_slice(&hs[1..k]);
    Ok(Some(
        Hit::new(p - i, Detector::Leakage, "system_prompt").tail(Tail::Leak),
    ))
}

/// A recital goes on: the separators and next word at `i`, if that word completes a known
/// shingle with the previous ones. `Some(bytes)`, or `None` when the recital ends here.
pub(crate) fn extend(env: &Env, src: &Src, i: usize, ring: &mut Vec<u64>) -> R<Option<usize>> {
    let Some(p) = next_word(src, i)? else {
        return Ok(None);
    };
    let Some((e, h)) = word_at(src, p)? else {
        return Ok(None);
    };
    let sh = shingle(ring.iter().copied().chain(std::iter::once(h)));
    if env.cx.shingles.binary_search(&sh).is_err() {
        return Ok(None);
    }
    ring.remove(0);
    ring.push(h);
    Ok(Some(e - i))
}

/// Key and finish of [`crate::inspect::term_hash`], computed incrementally here (a test checks
/// both agree).
const TERM_KEY: u64 = 0x7072_6f6d_7074_6761;

fn term_finish(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The longest protected term starting at `i`: folded as the context check folds (lower case,
/// whitespace runs as one space, typographic apostrophes as `'`), ending at a word end.
fn protected_at(set: &[u64], src: &Src, i: usize) -> R<Option<usize>> {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ TERM_KEY;
    let mut p = i;
    let mut best = None;
    let mut chars = 0;
    let mut pending_space = false;
    while chars < MAX_TERM_CHARS {
        let Some(c) = src.char_at(p)? else {
            break;
        };
        if c.is_whitespace() {
            pending_space = true;
            p += c.len_utf8();
            chars += 1;
            continue;
        }
        if pending_space {
            h = fnv(h, b' ');
            pending_space = false;
        }
        let c2 = match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' => '\'',
            c => c,
        };
        for l in c2.to_lowercase() {
            let mut buf = [0u8; 4];
            for &b in l.encode_utf8(&mut buf).as_bytes() {
                h = fnv(h, b);
            }
        }
        p += c.len_utf8();
        chars += 1;
        let next = src.char_at(p)?;
        let end = match next {
            None => true,
            Some(n) => !word_char(n) || unspaced(n) || unspaced(c),
        };
        if end && set.binary_search(&term_finish(h)).is_ok() {
            best = Some(p - i);
        }
    }
    Ok(best)
}

pub(crate) fn canary_at(env: &Env, src: &Src, i: usize) -> R<Option<Hit>> {
    let Some(k) = &env.g.canary else {
        return Ok(None);
    };
    for (n, want) in k.iter().enumerate() {
        match src.at(i + n)? {
            Some(c) if c.eq_ignore_ascii_case(want) => {}
            _ => return Ok(None),
        }
    }
    Ok(Some(Hit::new(k.len(), Detector::Leakage, "canary")))
}

#[cfg(test)]
pub(crate) fn term_hash_here(t: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ TERM_KEY;
    for c in t.chars().flat_map(char::to_lowercase) {
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            h = fnv(h, b);
        }
    }
    term_finish(h)
}

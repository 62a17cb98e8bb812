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
use super::window::{Env, Hit, More, Src, Tail, LOOKAHEAD, R};
use super::Detector;

/// Most words of a shingle (`leakage.shingle_words` is checked to be 6 to 32).
const MAX_SHINGLE_WORDS: usize = 32;
/// Longest word (bytes) and separator run between words a recital is followed across.
const MAX_WORD: usize = 64;
const MAX_SEP: usize = 64;
/// Longest protected term, in chars (the context check keeps values up to 48).
const MAX_TERM_CHARS: usize = 48;
/// Most words of a protected term (quoted pass phrases) when the system texts are not known.
pub(crate) const MAX_TERM_WORDS: usize = 6;

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric())
}

fn fnv(h: u64, b: u8) -> u64 {
    (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
}

fn word_hash(w: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    if w.is_ascii() {
        // The same bytes the char loop below hashes: an ASCII char lowers to one ASCII byte.
        for &b in w.as_bytes() {
            h = fnv(h, b.to_ascii_lowercase());
        }
        return h;
    }
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

/// What the answer is compared with: sorted hashes of the system texts' words, word pairs
/// and shingles (the first two filter most word starts after one or two words).
#[derive(Debug, Default)]
pub(crate) struct Shingles {
    pub vocab: Vec<u64>,
    pub pairs: Vec<u64>,
    pub full: Vec<u64>,
}

impl Shingles {
    pub(crate) fn is_empty(&self) -> bool {
        self.full.is_empty()
    }
}

/// The shingles of the system texts (at most 50 000 words read).
pub(crate) fn shingles(texts: &[&str], k: usize) -> Shingles {
    let mut out = Shingles::default();
    let mut budget = 50_000usize;
    // The last `k` word hashes of a text, oldest first: each new word past the first `k - 1`
    // ends a window (as `windows(k)` over all of them would give, in that order).
    let mut last = [0u64; MAX_SHINGLE_WORDS];
    let k = k.min(MAX_SHINGLE_WORDS);
    for t in texts {
        let mut n = 0usize;
        let hs = words(t)
            .take(budget)
            .filter(|&(s, e)| e - s <= MAX_WORD)
            .map(|(s, e)| word_hash(&t[s..e]));
        for h in hs {
            if n < k {
                last[n] = h;
            } else {
                last.copy_within(1..k, 0);
                last[k - 1] = h;
            }
            n += 1;
            if n >= k {
                let w = &last[..k];
                out.full.push(shingle(w.iter().copied()));
                out.vocab.push(w[0]);
                out.pairs.push(shingle(w[..2].iter().copied()));
            }
        }
        budget = budget.saturating_sub(n);
    }
    for v in [&mut out.vocab, &mut out.pairs, &mut out.full] {
        v.sort_unstable();
        v.dedup();
    }
    out
}

/// A word of the answer at `p` (a word start): its end and hash (as [`word_hash`]); `None`
/// if longer than `MAX_WORD`.
fn word_at(src: &Src, p: usize) -> R<Option<(usize, u64)>> {
    let b = src.b;
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut e = p;
    loop {
        if e >= b.len() {
            if src.eof {
                break;
            }
            return Err(More);
        }
        let c = b[e];
        if c < 0x80 {
            if !c.is_ascii_alphanumeric() {
                break;
            }
            h = fnv(h, c.to_ascii_lowercase());
            e += 1;
        } else {
            let ch = src.s[e..].chars().next().unwrap_or(' ');
            if !word_char(ch) || (unspaced(ch) && e > p) {
                break;
            }
            h = fnv_lower(h, ch);
            e += ch.len_utf8();
            if unspaced(ch) {
                break;
            }
        }
        if e - p > MAX_WORD {
            return Ok(None);
        }
    }
    Ok((e > p).then_some((e, h)))
}

fn fnv_lower(mut h: u64, c: char) -> u64 {
    for l in c.to_lowercase() {
        let mut buf = [0u8; 4];
        for &x in l.encode_utf8(&mut buf).as_bytes() {
            h = fnv(h, x);
        }
    }
    h
}

/// The next word start from `p`, over at most `MAX_SEP` bytes of separators.
fn next_word(src: &Src, p: usize) -> R<Option<usize>> {
    let b = src.b;
    let mut q = p;
    loop {
        if q >= b.len() {
            return if src.eof { Ok(None) } else { Err(More) };
        }
        let c = b[q];
        if c < 0x80 {
            if c.is_ascii_alphanumeric() {
                return Ok(Some(q));
            }
            q += 1;
        } else {
            let ch = src.s[q..].chars().next().unwrap_or(' ');
            if word_char(ch) {
                return Ok(Some(q));
            }
            q += ch.len_utf8();
        }
        if q - p > MAX_SEP {
            return Ok(None);
        }
    }
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
        if let Some(n) = protected_at(&env.cx.protected, env.cx.term_shape, src, i)? {
            return Ok(Some(Hit::new(n, Detector::Leakage, "protected_term")));
        }
    }
    let k = env.g.shingle_words;
    let sh = &env.cx.shingles;
    if sh.is_empty() {
        return Ok(None);
    }
    let mut hs = [0u64; 32];
    let mut p = i;
    #[allow(clippy::needless_range_loop)]
    for n in 0..k {
        if n > 0 {
            match next_word(src, p)? {
                Some(q) => p = q,
                None => return Ok(None),
            }
        }
        match word_at(src, p)? {
            Some((e, h)) if e - i < LOOKAHEAD => {
                hs[n] = h;
                p = e;
            }
            _ => return Ok(None),
        }
        // Most word starts end here: a word or pair the system text does not have.
        let known = match n {
            0 => sh.vocab.binary_search(&hs[0]).is_ok(),
            1 => sh
                .pairs
                .binary_search(&shingle(hs[..2].iter().copied()))
                .is_ok(),
            _ => true,
        };
        if !known {
            return Ok(None);
        }
    }
    if sh
        .full
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
    if env.cx.shingles.full.binary_search(&sh).is_err() {
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
/// whitespace runs as one space, typographic apostrophes as `'`), ending at a word end, of at
/// most `MAX_TERM_CHARS` chars and `MAX_TERM_WORDS` words.
fn protected_at(set: &[u64], shape: TermShape, src: &Src, i: usize) -> R<Option<usize>> {
    let max_words = shape.words;
    let b = src.b;
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ TERM_KEY;
    let mut p = i;
    let mut best = None;
    let mut chars = 0;
    let mut words = 1;
    let mut pending_space = false;
    while chars < MAX_TERM_CHARS {
        if p >= b.len() {
            if src.eof {
                break;
            }
            return Err(More);
        }
        let c = b[p];
        let (ch, len) = if c < 0x80 {
            (c as char, 1)
        } else {
            let ch = src.s[p..].chars().next().unwrap_or(' ');
            (ch, ch.len_utf8())
        };
        if !(shape.wide || ch.is_alphanumeric() || ch.is_whitespace() || token_punct(ch)) {
            break;
        }
        if ch.is_whitespace() {
            if !pending_space {
                words += 1;
                if words > max_words {
                    break;
                }
            }
            pending_space = true;
            p += len;
            chars += 1;
            continue;
        }
        if pending_space {
            h = fnv(h, b' ');
            pending_space = false;
        }
        h = if c < 0x80 {
            fnv(h, c.to_ascii_lowercase())
        } else {
            match ch {
                '\u{2019}' | '\u{2018}' | '\u{02BC}' => fnv(h, b'\''),
                ch => fnv_lower(h, ch),
            }
        };
        p += len;
        chars += 1;
        let end = if p >= b.len() {
            if !src.eof {
                return Err(More);
            }
            true
        } else if b[p] < 0x80 {
            !b[p].is_ascii_alphanumeric() || unspaced(ch)
        } else {
            let n = src.s[p..].chars().next().unwrap_or(' ');
            !word_char(n) || unspaced(n) || unspaced(ch)
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

/// [`crate::inspect::term_hash`], with this module's constants.
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

/// Punctuation inside the values the context check reads unquoted (`token`).
fn token_punct(c: char) -> bool {
    matches!(c, '-' | '_' | '.' | '@' | '\'' | '/' | ':')
}

/// What protected terms can look like, learnt from the system texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TermShape {
    /// Most words.
    pub words: usize,
    /// Some term holds punctuation other than [`token_punct`].
    pub wide: bool,
}

impl TermShape {
    /// Anything up to `MAX_TERM_WORDS` words (the system texts are not known).
    pub(crate) const ANY: TermShape = TermShape {
        words: MAX_TERM_WORDS,
        wide: true,
    };
}

impl Default for TermShape {
    fn default() -> Self {
        TermShape {
            words: 1,
            wide: false,
        }
    }
}

/// The shape of the protected terms, learnt from the system texts: the context check declares
/// values with spaces or unusual punctuation only in quotes, so the quoted spans (up to 48
/// chars) whose folded hash is protected give the most words and whether punctuation beyond a
/// token's is needed. The answer is then read one token per word start (not six words).
pub(crate) fn term_shape(texts: &[&str], protected: &[u64]) -> TermShape {
    let quote = |c: char| {
        matches!(
            c,
            '\'' | '"'
                | '`'
                | '«'
                | '»'
                | '“'
                | '”'
                | '„'
                | '‘'
                | '\u{2019}'
                | '「'
                | '」'
                | '『'
                | '』'
                | '‹'
                | '›'
        )
    };
    let mut shape = TermShape::default();
    let mut folded = String::new();
    for t in texts {
        let mut it = t.char_indices().filter(|&(_, c)| quote(c)).peekable();
        while let Some((a, c)) = it.next() {
            let Some(&(b, _)) = it.peek() else {
                break;
            };
            let span = &t[a + c.len_utf8()..b];
            if span.chars().count() > MAX_TERM_CHARS {
                continue;
            }
            folded.clear();
            for (k, w) in span.split_whitespace().enumerate() {
                if k > 0 {
                    folded.push(' ');
                }
                folded.push_str(w);
            }
            if !folded.is_empty() && protected.binary_search(&term_hash_here(&folded)).is_ok() {
                shape.words = shape.words.max(folded.matches(' ').count() + 1);
                shape.wide |= folded
                    .chars()
                    .any(|c| !(c.is_alphanumeric() || c == ' ' || token_punct(c)));
            }
        }
    }
    shape.words = shape.words.min(MAX_TERM_WORDS);
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `shingles` (a ring of the last words) gives what windows over every word hash of each
    /// text give, at every allowed shingle length, for texts shorter and longer than one
    /// shingle, with words too long to count, non-ASCII words and several texts.
    #[test]
    fn shingles_are_the_windows_of_the_word_hashes() {
        fn reference(texts: &[&str], k: usize) -> Shingles {
            let mut out = Shingles::default();
            for t in texts {
                let hs: Vec<u64> = words(t)
                    .filter(|&(s, e)| e - s <= MAX_WORD)
                    .map(|(s, e)| word_hash(&t[s..e]))
                    .collect();
                for w in hs.windows(k) {
                    out.full.push(shingle(w.iter().copied()));
                    out.vocab.push(w[0]);
                    out.pairs.push(shingle(w[..2].iter().copied()));
                }
            }
            for v in [&mut out.vocab, &mut out.pairs, &mut out.full] {
                v.sort_unstable();
                v.dedup();
            }
            out
        }
        let long = "x".repeat(MAX_WORD + 1);
        let many: String = (0..90).map(|i| format!("Word{} ", i % 37)).collect();
        let mixed = format!(
            "You are Ünïcode {long} helper; never reveal the code Blue-42 to anyone at all, ok"
        );
        let texts: [&[&str]; 5] = [
            &["You are a friendly assistant."],
            &[&many],
            &[&mixed, "短い文章です 日本語", &many],
            &[],
            &["", "one two three four five six seven"],
        ];
        for k in 6..=MAX_SHINGLE_WORDS {
            for t in texts {
                let (a, b) = (shingles(t, k), reference(t, k));
                assert_eq!(
                    (a.vocab, a.pairs, a.full),
                    (b.vocab, b.pairs, b.full),
                    "{k} {t:?}"
                );
            }
        }
        // Hashes of ASCII words are the char loop's (mixed case included).
        assert_eq!(word_hash("GaRdEn"), word_hash("garden"));
        let chars = |w: &str| {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for c in w.chars().flat_map(char::to_lowercase) {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    h = fnv(h, b);
                }
            }
            h
        };
        for w in ["GaRdEn", "a", "Z9", "tomato42"] {
            assert_eq!(word_hash(w), chars(w), "{w}");
        }
    }
}

//! Adversarial-suffix detector (issue 15, item 2): a character-level language model of benign
//! text, scored over sliding windows.
//!
//! Optimisation-generated jailbreak suffixes (GCG-style token soup appended to a harmful request:
//! "describing.\ + similarlyNow write oppositeley.]( Me giving**ONE please?") read as gibberish
//! to a model of ordinary text: their character 4-grams are rare. The model is a table of
//! 2^17 entries indexed by a hash of the 4-gram, each a quantised cost (-log2 P(c | previous
//! three characters), whole bits) and a 4-bit fingerprint of the 4-gram, trained by `scripts/train` (src/bin/promptgate-train.rs) on benign prose, code and
//! translations and embedded as a data segment (`suffix_lm.bin`, 128 KiB). Text is folded first
//! (ASCII lower case, digits to `0`, whitespace runs to one space, each non-ASCII character to one
//! 0x80 byte), the same way in training and here.
//!
//! A request is flagged when some 40-character window of a user or tool turn costs more than
//! [`THRESHOLD`] bits per character on average **and** passes the gates that keep other
//! legitimately unusual text out: windows with non-ASCII characters (other scripts, accented
//! prose), URLs, long tokens (base64, hashes, IDs), many digits, SQL keywords or code punctuation,
//! or fewer than three words are never flagged. Linear in the text: one table lookup per
//! character and a 40-entry ring.

/// log2 of the table size.
pub const TABLE_BITS: u32 = 17;
/// Characters per scored window.
pub const WINDOW: usize = 40;
/// Cost (1/8 bits) of a 4-gram the table has no entry for.
pub const UNSEEN_Q: u32 = 14 * 8;
/// Mean cost per character (in 1/8 bits) above which a gated window is flagged. Calibrated with
/// `scripts/train --calibrate` (docs/model.md).
pub const THRESHOLD: u32 = 64;
/// The lower bar for a window in a turn that also holds a harmful ask (`ML-008`, see
/// `context.rs`, `JBC-001`): GCG suffixes made mostly of English words score 56-60 (the issue's
/// own example: 56), under [`THRESHOLD`]. On the dev set's benign text 0.85 % of rows reach it
/// (132 of 15,529) and none holds a harmful ask, so together they stay rare (2026-12-03).
pub const WITH_HARMFUL_ASK: u32 = 52;

static MODEL: &[u8; 1 << TABLE_BITS] = include_bytes!("suffix_lm.bin");

/// The folded form of one byte (ASCII); non-ASCII bytes map to 0x80.
#[inline]
pub fn fold_byte(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => b + 32,
        b'0'..=b'9' => b'0',
        0..=0x20 | 0x7f => b' ',
        0x80..=0xff => 0x80,
        _ => b,
    }
}

/// Table slot of the 4-gram ending in the last byte of `key` (four folded bytes, oldest first).
#[inline]
pub fn slot(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)) as usize
}

/// The 4-bit fingerprint stored with a slot's cost: a 4-gram whose fingerprint differs from the
/// slot's is unseen (15 in 16 colliding unseen 4-grams are recognised as such).
#[inline]
pub fn fingerprint(key: u32) -> u8 {
    (key.wrapping_mul(0x85EB_CA6B).rotate_left(7) >> 28) as u8
}

/// One table entry: fingerprint in the high nibble, cost in whole bits (1..=15) in the low
/// nibble; 0 is an empty slot.
#[inline]
pub fn entry(key: u32, bits: u8) -> u8 {
    (fingerprint(key) << 4) | bits.clamp(1, 15)
}

/// Calls `f(key, pos)` for each folded character of `text` after the first three, with `key`
/// the 4-gram ending at it and `pos` its byte offset in `text`. Whitespace runs and runs of
/// non-ASCII bytes fold to one character; continuation bytes are skipped.
#[inline]
pub fn grams(text: &[u8], mut f: impl FnMut(u32, usize)) {
    let mut key: u32 = 0;
    let mut n = 0usize;
    let mut prev = 0u8;
    for (i, &b) in text.iter().enumerate() {
        let c = fold_byte(b);
        if (c == b' ' || c == 0x80) && c == prev {
            continue;
        }
        prev = c;
        key = (key << 8) | c as u32;
        n += 1;
        if n >= 4 {
            f(key, i);
        }
    }
}

/// Cost of one 4-gram in 1/8 bits.
#[inline]
fn cost(key: u32) -> u32 {
    let e = MODEL.get(slot(key)).copied().unwrap_or(0);
    if e & 15 == 0 || e >> 4 != fingerprint(key) {
        UNSEEN_Q
    } else {
        (e & 15) as u32 * 8
    }
}

/// The highest mean cost (1/8 bits per character) over the gated windows of `text`, or `None`
/// when no window passes the gates (or the text is shorter than a window).
pub fn score(text: &str) -> Option<u32> {
    scan(text, 0, false)
}

/// [`score`], gating only windows whose mean reaches `floor` (calibration passes 0).
pub fn score_from(text: &str, floor: u32) -> Option<u32> {
    scan(text, floor, false)
}

/// Gates only windows above `floor`; with `first`, stops at the first one that passes.
fn scan(text: &str, floor: u32, first: bool) -> Option<u32> {
    let b = text.as_bytes();
    if b.len() < WINDOW + 3 {
        return None;
    }
    // The gate needs three soup marks (markup punctuation, camel-case joins) in a window: only
    // regions around such clusters are scored, so ordinary text costs one cheap pass.
    let mut regions: Vec<(usize, usize)> = Vec::new();
    hot_regions(b, &mut regions);
    scan_regions(b, &regions, floor, first, false, 0)
}

/// `local_code`: a window with code around it ([`code_near`]) is not flagged; `tail`: only a
/// window that ends at or after this offset is.
fn scan_regions(
    b: &[u8],
    regions: &[(usize, usize)],
    floor: u32,
    first: bool,
    local_code: bool,
    tail: usize,
) -> Option<u32> {
    let mut best: Option<u32> = None;
    let mut last_checked_end = 0usize;
    let mut fences = Fences::default();
    for &(off, region_end) in regions {
        let mut ring_cost = [0u32; WINDOW];
        let mut ring_pos = [0usize; WINDOW];
        let mut k = 0usize;
        let mut sum = 0u32;
        let Some(region) = b.get(off..region_end) else {
            continue;
        };
        grams(region, |key, pos| {
            let pos = off + pos;
            let slot = k % WINDOW;
            let c = cost(key);
            sum = sum - ring_cost[slot] + c;
            ring_cost[slot] = c;
            ring_pos[slot] = pos;
            k += 1;
            if k < WINDOW {
                return;
            }
            let mean = sum / WINDOW as u32;
            // Only windows that could raise the maximum are gated (the gate reads the window).
            if (first && best.is_some()) || best.is_some_and(|m| mean <= m) || mean < floor {
                return;
            }
            let start = ring_pos[k % WINDOW];
            // A window overlapping the last one that failed the gates shares its cause. (A
            // lower bar may then skip a window a higher one reads: `flag_with_harmful_ask`
            // asks both, 2026-12-07.)
            if start < last_checked_end {
                return;
            }
            // Widen to whole tokens (bounded), so the gates see a long token (base64, a hash).
            let mut end = (pos + 1).min(b.len());
            let mut s = start.saturating_sub(3).min(end);
            let (lo, hi) = (s.saturating_sub(64), (end + 64).min(b.len()));
            while s > lo && !b[s - 1].is_ascii_whitespace() {
                s -= 1;
            }
            while end < hi && !b[end].is_ascii_whitespace() {
                end += 1;
            }
            if end >= tail
                && gate_at(b, s, end)
                && !(local_code && code_near(b, s, end, &mut fences))
            {
                best = Some(mean);
            } else {
                last_checked_end = end;
            }
        });
        if first && best.is_some() {
            break;
        }
    }
    best
}

/// Markup and escape punctuation that token soup glues into text.
const SOUP_PUNCT: &[u8] = b"\\*[]()+^~@%&/`{";

/// Byte classes for [`hot_regions`]: 1 soup punctuation, 2 upper case, 4 lower case.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let punct = SOUP_PUNCT;
    let mut i = 0;
    while i < punct.len() {
        t[punct[i] as usize] = 1;
        i += 1;
    }
    let mut c = b'A';
    while c <= b'Z' {
        t[c as usize] = 2;
        t[(c + 32) as usize] = 4;
        c += 1;
    }
    t
};

/// Nibble tables that classify [`SOUP_PUNCT`] 16 bytes at a time with two `i8x16_swizzle`s:
/// byte `b` is soup punctuation exactly when `LO[b & 15] & HI[b >> 4] != 0` (each distinct set
/// of low nibbles that occurs under one high nibble gets a bit of its own). Was one comparison
/// and one OR per punctuation byte per block.
const NIBBLES: ([u8; 16], [u8; 16]) = {
    // per high nibble, the low nibbles of the punctuation bytes under it
    let mut sets = [0u16; 16];
    let mut i = 0;
    while i < SOUP_PUNCT.len() {
        let c = SOUP_PUNCT[i];
        sets[(c >> 4) as usize] |= 1 << (c & 15);
        i += 1;
    }
    let mut distinct = [0u16; 8];
    let mut n = 0;
    let (mut lo, mut hi) = ([0u8; 16], [0u8; 16]);
    let mut h = 0;
    while h < 16 {
        if sets[h] != 0 {
            let mut k = 0;
            while k < n && distinct[k] != sets[h] {
                k += 1;
            }
            if k == n {
                assert!(n < 8, "more than eight distinct low-nibble sets");
                distinct[n] = sets[h];
                n += 1;
            }
            hi[h] = 1 << k;
            let mut l = 0;
            while l < 16 {
                if sets[h] & (1 << l) != 0 {
                    lo[l] |= 1 << k;
                }
                l += 1;
            }
        }
        h += 1;
    }
    (lo, hi)
};

/// Byte ranges (merged, in order) around every three soup marks (markup punctuation, a
/// lower-to-upper case join) that fall within one window.
fn hot_regions(b: &[u8], out: &mut Vec<(usize, usize)>) {
    regions_of(b, out, true)
}

/// [`hot_regions`]; `blocks` off reads byte by byte (the tests' reference). With `blocks`, the
/// marks of 16 bytes at a time come from [`soup_classes`] as bit masks, so the ordinary text
/// between marks costs a few operations per block instead of a table lookup per byte.
fn regions_of(b: &[u8], out: &mut Vec<(usize, usize)>, blocks: bool) {
    const REACH: usize = WINDOW + 8;
    let (mut older, mut newer) = (usize::MAX, usize::MAX);
    let mut mark = |i: usize| {
        if older != usize::MAX && i - older <= WINDOW {
            let s = older.saturating_sub(REACH);
            let e = (i + REACH).min(b.len());
            match out.last_mut() {
                Some(r) if s <= r.1 => r.1 = r.1.max(e),
                _ => out.push((s, e)),
            }
        }
        older = newer;
        newer = i;
    };
    // the byte before the current one is lower case
    let mut after_lower = false;
    let mut p = 0;
    while let Some(block) = b.get(p..p + 16).filter(|_| blocks) {
        let block: &[u8; 16] = block.try_into().unwrap_or(&[0; 16]);
        let (punct, upper, lower) = soup_classes(block);
        let mut m = punct | (upper & ((lower << 1) | u16::from(after_lower)));
        after_lower = lower & 0x8000 != 0;
        while m != 0 {
            mark(p + m.trailing_zeros() as usize);
            m &= m - 1;
        }
        p += 16;
    }
    for (i, &c) in b.iter().enumerate().skip(p) {
        let cl = CLASS[c as usize];
        if cl == 1 || (cl == 2 && after_lower) {
            mark(i);
        }
        after_lower = cl == 4;
    }
}

/// Masks of soup punctuation, upper-case and lower-case ASCII letters in 16 bytes (bit `k` for
/// byte `k`; the classes of [`CLASS`]).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn soup_classes(c: &[u8; 16]) -> (u16, u16, u16) {
    let (mut punct, mut upper, mut lower) = (0u16, 0u16, 0u16);
    for (k, &b) in c.iter().enumerate() {
        let cl = CLASS[b as usize];
        // the nibble tables of the SIMD version, so the tests read them too
        let by_nibbles = NIBBLES.0[usize::from(b & 15)] & NIBBLES.1[usize::from(b >> 4)];
        punct |= u16::from(by_nibbles != 0) << k;
        upper |= u16::from(cl == 2) << k;
        lower |= u16::from(cl == 4) << k;
    }
    (punct, upper, lower)
}

/// [`soup_classes`] with wasm SIMD.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn soup_classes(c: &[u8; 16]) -> (u16, u16, u16) {
    use core::arch::wasm32::*;
    let v = super::load16(c);
    let by_lo = i8x16_swizzle(super::load16(&NIBBLES.0), v128_and(v, u8x16_splat(0x0F)));
    let by_hi = i8x16_swizzle(super::load16(&NIBBLES.1), u8x16_shr(v, 4));
    let punct = u8x16_gt(v128_and(by_lo, by_hi), u8x16_splat(0));
    let upper = u8x16_lt(u8x16_sub(v, u8x16_splat(b'A')), u8x16_splat(26));
    let lower = u8x16_lt(u8x16_sub(v, u8x16_splat(b'a')), u8x16_splat(26));
    (
        u8x16_bitmask(punct),
        u8x16_bitmask(upper),
        u8x16_bitmask(lower),
    )
}

/// True when the text ends in token soup: a window that reads as machine-generated, with at most
/// [`TAIL_WORDS`] words after it. Optimisation-generated suffixes are appended to the request;
/// an unusual window in the middle of a developer's or analyst's text (a JWT claim in
/// backticks, a Windows path, a `**@handle**:` thread) is far more often markup than an attack,
/// and was the detector's main false positive on unseen developer and security text
/// (2026-12-07). Anywhere in a turn that holds a harmful ask it still counts ([`flag_above`]).
pub fn flag(text: &str) -> bool {
    let b = text.as_bytes();
    above(b, THRESHOLD, tail_start(b, TAIL_WORDS))
}

/// Words (tokens with two ASCII letters or more) that may follow the soup [`flag`] reads.
pub const TAIL_WORDS: usize = 16;

/// The offset after which `b` holds at most `k` words: a window ending there or later has at
/// most `k` words after it. One backward pass over the tail.
fn tail_start(b: &[u8], k: usize) -> usize {
    let mut words = 0;
    let mut i = b.len();
    while i > 0 {
        // skip the whitespace before a token, then the token
        while i > 0 && b[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        let end = i;
        while i > 0 && !b[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        if b[i..end].iter().filter(|c| c.is_ascii_alphabetic()).count() >= 2 {
            words += 1;
            if words > k {
                return end;
            }
        }
    }
    0
}

/// Soup anywhere in a turn that holds a harmful ask: a window above [`WITH_HARMFUL_ASK`], or
/// above [`THRESHOLD`]. The scan skips windows near one that failed the gates, so a lower bar
/// alone may miss a window the higher one reads (2026-12-07); asking both keeps every window
/// [`flag_above`] flags at the higher bar.
pub fn flag_with_harmful_ask(text: &str) -> bool {
    flag_above(text, WITH_HARMFUL_ASK) || flag_above(text, THRESHOLD)
}

/// [`flag`] with another bar, anywhere in the text: some gated window of `text` (not code)
/// costs more than `threshold`.
pub fn flag_above(text: &str, threshold: u32) -> bool {
    above(text.as_bytes(), threshold, 0)
}

fn above(b: &[u8], threshold: u32, tail: usize) -> bool {
    if b.len() < WINDOW + 3 {
        return false;
    }
    let mut regions: Vec<(usize, usize)> = Vec::new();
    hot_regions(b, &mut regions);
    // only regions whose windows can end at `tail` or later (a window widens at most 64 bytes
    // past its last character): soup earlier in the text is not read at all
    regions.retain(|r| r.1 + 64 >= tail);
    if regions.is_empty() {
        return false;
    }
    scan_regions(b, &regions, threshold + 1, true, true, tail).is_some()
}

/// Tokens of the run that GCG-style optimisation starts its suffix from ("! ! ! ! ..."), among
/// [`PLACEHOLDER_SPAN`] consecutive whitespace-separated tokens, that make the run a suffix.
const PLACEHOLDER_TOKENS: usize = 8;
/// Consecutive tokens looked at together: a partly optimised suffix still holds many of its
/// placeholders between the tokens already replaced ("! ! describing ! ! similarlyNow ! !").
const PLACEHOLDER_SPAN: usize = 16;

/// True when the text holds the placeholder run of an adversarial suffix: at least
/// [`PLACEHOLDER_TOKENS`] of [`PLACEHOLDER_SPAN`] consecutive tokens are `!`, `!!` or `!!!`.
/// Not token soup under the language model (one repeated mark, no markup), so [`flag`] misses
/// it; only asked of a turn that holds a harmful ask (`context.rs`, `JBC-001`), since excited
/// text ("Congrats ! ! ! ! ! ! ! !") has it too.
pub fn placeholder_run(text: &str) -> bool {
    let mut recent: u32 = 0; // bit i: the token i back was a placeholder
    let mask: u32 = (1 << PLACEHOLDER_SPAN) - 1;
    for token in text.split_ascii_whitespace() {
        let bang = (1..=3).contains(&token.len()) && token.bytes().all(|b| b == b'!');
        recent = ((recent << 1) | u32::from(bang)) & mask;
        if bang && recent.count_ones() as usize >= PLACEHOLDER_TOKENS {
            return true;
        }
    }
    false
}

/// Markers of code, SQL, markup and shell sessions (case-sensitive). A window with one on its
/// lines is not flagged ([`code_near`]): an unusual window there is far more likely code than
/// an attack suffix.
const CODE_MARKERS: &[&str] = &[
    "\n    ",
    "\n\t",
    "def ",
    "#include",
    "console.",
    "```",
    "SELECT ",
    "EXEC ",
    // statements of SQL pasted in a question (2026-12-03: "GRANT ALL PRIVILEGES ON *.* TO ...")
    "GRANT ",
    "REVOKE ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "ALTER TABLE",
    "CREATE TABLE",
    "DROP TABLE",
    "function ",
    "import ",
    "{\n",
    "};",
    "</",
    "[{",
    "print(",
    "\n + ",
    "\n$ ",
    // shell scripts (2026-12-05: "#!/bin/bash ... for f in *.sql; do psql -f \"$f\"; done")
    "#!/",
    "; do ",
    "; then",
    "$(",
    "${",
    "\"$",
    "\n+ ",
    "\n- ",
    "\n* ",
    "\n|",
    "&lt;",
    "&gt;",
    "&amp;",
    "&#",
    // a call of the shell from code, LaTeX (2026-12-07: `os.system("git clone " + repo_url)`,
    // "convert it to a LaTeX table with booktabs (\toprule, \midrule, \bottomrule)")
    "os.system(",
    "subprocess.",
    "\\begin{",
    "\\end{",
    "\\toprule",
    "\\midrule",
    "\\textbf{",
    "\\frac{",
    // shell sessions and audit rules pasted for review (2026-12-07: a compromised box's bash
    // history, `auditctl` lines)
    "\ncd ",
    "\nchmod ",
    "\nwget ",
    "\ncurl ",
    "\nsudo ",
    "\nrm -",
    "2>&1",
    "/dev/null",
    "\n-w ",
    "\n-a ",
];

/// How far [`code_near`] looks for the ends of the window's lines.
const LINE_REACH: usize = 120;

/// Fences (```` ``` ````) counted so far by [`code_near`]: windows come in text order, so the
/// text before them is read once in all.
#[derive(Default)]
struct Fences {
    pos: usize,
    open: bool,
}

/// Code around the window `b[s..e]` (issue 15, 2026-12-04): one of [`CODE_MARKERS`] on the
/// lines the window touches (with the line break before them, which indented, diff and shell
/// lines start with; at most [`LINE_REACH`] bytes either side), one of those lines indented or
/// ending in `;`, or the window inside a fence opened before those lines. Was a marker anywhere
/// in the text: a `SELECT 1;`, `import os` or `#include` line in front of a suffix, or a fence
/// after it, silenced the whole request.
fn code_near(b: &[u8], s: usize, e: usize, f: &mut Fences) -> bool {
    let lo = s.saturating_sub(LINE_REACH);
    let ls = b[lo..s]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(lo, |k| lo + k);
    let hi = (e + LINE_REACH).min(b.len());
    let le = b[e..hi]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(hi, |k| e + k);
    let lines = &b[ls..le];
    let holds = |hay: &[u8], m: &[u8]| hay.windows(m.len()).any(|w| w == m);
    if CODE_MARKERS.iter().any(|m| holds(lines, m.as_bytes())) {
        return true;
    }
    // a line indented as code (two spaces or a tab) or ending a statement (`;`); the first
    // piece is a line start only at the text's start or after a line break
    let whole_first = ls == 0 || b[ls] == b'\n';
    let statement = lines.split(|&c| c == b'\n').enumerate().any(|(k, l)| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        ((k > 0 || whole_first) && (l.starts_with(b"  ") || l.starts_with(b"\t")))
            || l.trim_ascii_end().ends_with(b";")
    });
    if statement {
        return true;
    }
    let mut i = f.pos;
    while i + 3 <= ls {
        if &b[i..i + 3] == b"```" {
            f.open = !f.open;
            i += 3;
        } else {
            i += 1;
        }
    }
    f.pos = f.pos.max(i);
    f.open
}

/// True when `text` holds one of [`CODE_MARKERS`] anywhere (calibration leaves such texts out).
pub fn looks_like_code(text: &str) -> bool {
    CODE_MARKERS.iter().any(|m| text.contains(m))
}

/// The soup marks of `w` (exotic punctuation, camel-case joins) that lie in tokens of a known
/// shape (see [`gate`]): a path, an e-mail address or handle, an identifier in quotes or
/// backticks, `` `` ``.
fn shaped_marks(w: &[u8]) -> (usize, usize, usize) {
    let (mut exotic, mut joins, mut camel) = (0, 0, 0);
    let ident =
        |t: &[u8]| !t.is_empty() && t.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    for tok in w.split(|b| b.is_ascii_whitespace()) {
        // trailing punctuation of prose
        let end = tok
            .iter()
            .rposition(|b| !b",;:.)?!".contains(b))
            .map_or(0, |e| e + 1);
        let t = &tok[..end];
        if t.is_empty() {
            continue;
        }
        let ex = t.iter().filter(|&&b| CLASS[b as usize] == 1).count();
        let jo = t
            .windows(2)
            .filter(|p| p[0].is_ascii_lowercase() && p[1].is_ascii_uppercase())
            .count();
        let slashes = t.iter().filter(|&&b| b == b'/').count();
        // a path starts at the root, home or here, or names a file: `/a/b`, `~/a/b`, `a/b/c.txt`
        let bare = t
            .strip_prefix(b"'")
            .or_else(|| t.strip_prefix(b"\""))
            .unwrap_or(t);
        // a relative path: `../`, `./...`, `../../etc/passwd`
        let relative = (bare.starts_with(b"./") || bare.starts_with(b"../"))
            && bare
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(b));
        let path = relative
            || slashes >= 2
                && (b"/~.".contains(&bare[0])
                    || t.rsplit(|&b| b == b'/')
                        .next()
                        .is_some_and(|f| f.contains(&b'.')))
                && t.split(|&b| b == b'/').all(|p| {
                    p.iter()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-~'*?".contains(b))
                });
        let at = t.iter().position(|&b| b == b'@');
        let address = at.is_some_and(|k| {
            let (user, host) = (&t[..k], &t[k + 1..]);
            !user.is_empty()
                && host.first().is_some_and(u8::is_ascii_alphanumeric)
                && user
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-+'(".contains(b))
                && host
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-'".contains(b))
        });
        // a value in quotes: an identifier, or a name with separators as programs print
        // them (2026-12-07: a mutex `'Global\QwErTy77'`, a test filter
        // `'TestUnion|TestSelect'`, a file `"v2.1-rc/build"`)
        let quoted = t.len() >= 3
            && b"'\"`".contains(&t[0])
            && t[t.len() - 1] == t[0]
            && (ident(&t[1..t.len() - 1])
                || t[1..t.len() - 1]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"_\\.-/|:".contains(b)));
        if t == b"``" || path || address || quoted || written_token(t) {
            exotic += ex;
            joins += jo;
        } else if jo > 0 && t[0].is_ascii_lowercase() && t.iter().all(u8::is_ascii_alphanumeric) {
            // a bare identifier in camel case (`usrCtxMgr`, `pmtHdlr`): counted apart, see
            // [`gate_at`]
            camel += jo;
        }
    }
    (exotic, joins, camel)
}

/// A token whose punctuation people write by hand (issue 15, 2026-12-04): a word with vowels
/// masked (`f*ck`, `sh*t`, `a**hole`), a C pointer or address (`*p`, `&x;`, `**argv;`,
/// `(*fp)`), a Perl / sed regex operator (`s/^\s+//g`, `m{(\d+)}x`, `qr/.../`, `tr/a-z/A-Z/`),
/// an exponent (`a^2`, `x^(n+1)`), a letterless emoticon (`:-)`, `^_^`, `(-_-)`, `\o/`),
/// markdown emphasis around one word (`**bold**`, `*it*`, `~~strike~~`, `**Note:**`, `^sup^`),
/// a footnote mark (`[^1]`), a group of alternatives (`(jpg|png)`, `{js,ts}`), a
/// slash-delimited regex literal (`/^\d+/`, `'/a|b/i'`), a shell operator standing alone
/// (`&&`, `||`, `2>&1`) or a common letter emoticon (`xD`, `^^`, `o_O`, `<3`). Token soup
/// glues its marks to words in mixed case (`giving**ONE`, `**Begin`, `](`), which none of
/// these shapes admit.
fn written_token(t: &[u8]) -> bool {
    // percent-encoding as URLs and payload notes carry it (2026-12-07: `%2e%2e%2f`,
    // `file%20name.txt`): two `%XX` or more, the rest letters, digits and URL punctuation
    let hex = |c: &u8| c.is_ascii_hexdigit();
    let escapes = t
        .windows(3)
        .filter(|w| w[0] == b'%' && hex(&w[1]) && hex(&w[2]))
        .count();
    if escapes >= 2
        && t.iter().enumerate().all(|(k, c)| {
            c.is_ascii_alphanumeric()
                || b"._-/".contains(c)
                || (*c == b'%' && t.get(k + 1).is_some_and(hex) && t.get(k + 2).is_some_and(hex))
        })
    {
        return true;
    }
    // a regex anchored at both ends, quoted or not: `^[\w.]+@[\w.]+\.\w+$`
    let a = t.strip_prefix(b"'").unwrap_or(t);
    let a = a.strip_suffix(b"'").unwrap_or(a);
    if a.len() >= 4
        && a.starts_with(b"^")
        && a.ends_with(b"$")
        && a[1..a.len() - 1].iter().any(|c| b"\\[]+*?".contains(c))
    {
        return true;
    }
    if matches!(
        t,
        b"&&"
            | b"||"
            | b"2>&1"
            | b"&>"
            | b"xD"
            | b"XD"
            | b"^^"
            | b"^.^"
            | b"<3"
            | b"o_O"
            | b"O_o"
            | b"o.O"
            | b":P"
            | b";P"
            | b":p"
    ) {
        return true;
    }
    // markdown emphasis: the same one or two marks on both sides of a word
    for m in [&b"**"[..], b"__", b"~~", b"*", b"_", b"~", b"^"] {
        if let Some(inner) = t.strip_prefix(m).and_then(|x| x.strip_suffix(m)) {
            if inner.first().is_some_and(u8::is_ascii_alphanumeric)
                && inner
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || b".:,!?'-".contains(c))
            {
                return true;
            }
        }
    }
    // a footnote mark `word[^1]`, `[^note]`
    if let Some(k) = t.windows(2).position(|w| w == b"[^") {
        let rest = &t[k + 2..];
        if rest.len() >= 2
            && rest.ends_with(b"]")
            && rest[..rest.len() - 1].iter().all(u8::is_ascii_alphanumeric)
        {
            return true;
        }
    }
    // a group of alternatives, as in regexes and globs: `\.(jpg|jpeg|png)$`, `*.{js,ts}`
    let alternatives = |open: u8, close: u8, sep: u8| {
        t.iter().position(|&c| c == open).is_some_and(|a| {
            t[a..].iter().position(|&c| c == close).is_some_and(|k| {
                let g = &t[a + 1..a + k];
                g.contains(&sep)
                    && g.split(|&c| c == sep)
                        .all(|x| !x.is_empty() && x.iter().all(u8::is_ascii_alphanumeric))
            })
        })
    };
    if alternatives(b'(', b')', b'|') || alternatives(b'{', b'}', b',') {
        return true;
    }
    // a regex literal between slashes (flags after the closing one), quoted or not
    let r = t.strip_prefix(b"'").unwrap_or(t);
    let r = r.strip_suffix(b"'").unwrap_or(r);
    let r = {
        let e = r
            .iter()
            .rposition(|c| !c.is_ascii_lowercase())
            .map_or(0, |e| e + 1);
        &r[..e]
    };
    if r.len() >= 4
        && r.starts_with(b"/")
        && r.ends_with(b"/")
        && r[1..r.len() - 1].iter().any(|c| b"\\^$+*?[(|".contains(c))
        && !r[1..r.len() - 1].contains(&b'/')
    {
        return true;
    }
    let lower_ident = |x: &[u8]| {
        x.first()
            .is_some_and(|c| c.is_ascii_lowercase() || *c == b'_')
            && x.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
    };
    // a masked word: lower-case letters around one run of at most two `*`, short
    if let Some(a) = t.iter().position(|&c| c == b'*') {
        let b = t[a..]
            .iter()
            .position(|&c| c != b'*')
            .map_or(t.len(), |k| a + k);
        let (head, tail) = (&t[..a], &t[b..]);
        let tail = tail.strip_suffix(b"'s").unwrap_or(tail);
        let word = |x: &[u8]| x.iter().all(u8::is_ascii_lowercase);
        if b - a <= 2
            && !head.is_empty()
            && word(head)
            && word(tail)
            && head.len() + tail.len() <= 10
        {
            // `f*ck*ng`: a second masked vowel in the tail
            return true;
        }
        let second = tail.iter().position(|&c| c == b'*');
        if let Some(k) = second {
            if b - a == 1
                && word(head)
                && !head.is_empty()
                && word(&tail[..k])
                && word(&tail[k + 1..])
                && t.len() <= 12
            {
                return true;
            }
        }
    }
    // a C pointer or address: `*p`, `**argv;`, `&x,`, `(*fp)`, `&a[0]`
    let c = t.strip_prefix(b"(").unwrap_or(t);
    let c = {
        let e = c
            .iter()
            .rposition(|b| !b";,)".contains(b))
            .map_or(0, |e| e + 1);
        &c[..e]
    };
    let c = match c.iter().position(|&b| b == b'[') {
        Some(k)
            if c.ends_with(b"]") && c[k + 1..c.len() - 1].iter().all(u8::is_ascii_alphanumeric) =>
        {
            &c[..k]
        }
        _ => c,
    };
    let stars = c.iter().take_while(|&&b| b == b'*' || b == b'&').count();
    if (1..=2).contains(&stars) && lower_ident(&c[stars..]) {
        return true;
    }
    // a Perl / sed regex operator with its delimiters
    for op in [
        &b"s/"[..],
        b"m/",
        b"m{",
        b"s{",
        b"qr/",
        b"qr{",
        b"tr/",
        b"y/",
    ] {
        let body = t.strip_prefix(b"'").unwrap_or(t);
        if let Some(rest) = body.strip_prefix(op) {
            let close = if op.ends_with(b"{") { b'}' } else { b'/' };
            if rest.contains(&close) {
                return true;
            }
        }
    }
    // an exponent: `a^2`, `x^(n+1)`, `(a+b)^2`
    if t.windows(3).any(|w| {
        w[1] == b'^'
            && (w[0].is_ascii_alphanumeric() || w[0] == b')')
            && (w[2].is_ascii_digit() || w[2] == b'(')
    }) && t.iter().filter(|&&b| b == b'^').count() <= 2
    {
        return true;
    }
    // an emoticon: no letters save eyes and mouths, and a face's parts
    let face = |b: &u8| b":;=8'-_^()<>\\/*|oOvVTxXDPp.~0@3".contains(b);
    t.len() >= 2
        && t.len() <= 8
        && t.iter().all(face)
        && t.iter().filter(|b| b.is_ascii_alphabetic()).count() <= 2
        && (t.iter().any(|b| b":;=".contains(b))
            || t.windows(3).any(|w| w[1] == b'_' && w[0] == w[2])
            || t.windows(3).any(|w| w == b"\\o/" || w == b"^o^"))
}

/// A regex class with a quantifier: `\s*`, `\d+`, `\w?`, `\S{2}`, `\b` (2026-12-04: was
/// `\s*`, `\d+`, `\w+` only).
fn regex_class(w: &[u8]) -> bool {
    w.windows(3)
        .any(|t| t[0] == b'\\' && b"sdwSDW".contains(&t[1]) && b"+*?{)]|$".contains(&t[2]))
        || w.windows(3)
            .any(|t| t[0] == b'\\' && t[1] == b'b' && !t[2].is_ascii_alphanumeric())
}

/// `+` between two letters or digits (`Ctrl+Shift+P`, `a+b`): a key chord or a sum.
fn glued_plus(w: &[u8]) -> usize {
    w.windows(3)
        .filter(|t| t[1] == b'+' && t[0].is_ascii_alphanumeric() && t[2].is_ascii_alphanumeric())
        .count()
}

const SQL_WORDS: &[&[u8]] = &[
    b"select", b"from", b"where", b"insert", b"into", b"values", b"update", b"delete", b"join",
    b"table", b"create", b"order", b"group", b"union", b"drop", b"alter", b"null", b"count",
];

/// [`gate_at`] for a window without context.
#[cfg(test)]
fn gate(w: &[u8]) -> bool {
    gate_at(w, 0, w.len())
}

/// Brackets of `b[s..e]` that close or are closed by a partner less than [`PAIR_REACH`] bytes
/// outside it, with no space just inside either: `(sifted)`, `[1..]`, `{"a": 1}` are writing,
/// an unpaired `](` or `{%`, or `( Me giving )`, is soup.
fn paired_brackets(b: &[u8], s: usize, e: usize) -> usize {
    let (lo, hi) = (s.saturating_sub(PAIR_REACH), (e + PAIR_REACH).min(b.len()));
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut paired = 0;
    for (k, &c) in b[lo..hi].iter().enumerate() {
        let at = lo + k;
        match c {
            b'(' | b'[' | b'{' => stack.push((c, at)),
            b')' | b']' | b'}' => {
                let open = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if let Some(p) = stack.iter().rposition(|&(o, _)| o == open) {
                    let (_, from) = stack[p];
                    stack.truncate(p);
                    // written tight, as people write them: `(sifted)`, `[1..]`, `[]`
                    let tight = at == from + 1
                        || (!b[from + 1].is_ascii_whitespace() && !b[at - 1].is_ascii_whitespace());
                    // a block of settings written spaced: `{ + "Env" = "prod" }`, `{ a: 1 }`
                    let block = c == b'}'
                        && b[from + 1..at].iter().any(|&x| x == b'=' || x == b':')
                        && b[from + 1..at].contains(&b'"');
                    if !tight && !block {
                        continue;
                    }
                    // `{` counts twice in the gate (markup and code)
                    let w = |x: usize| (s..e).contains(&x) as usize * if c == b'}' { 2 } else { 1 };
                    paired += w(from) + (s..e).contains(&at) as usize;
                }
            }
            _ => {}
        }
    }
    paired
}

/// How far outside a window [`paired_brackets`] looks for a partner.
const PAIR_REACH: usize = 64;

/// The window `b[s..e]` may be flagged: ASCII prose-like text, not code, SQL, URLs, IDs or
/// encodings.
fn gate_at(b: &[u8], s: usize, e: usize) -> bool {
    let w = &b[s..e];
    // One pass for the cheap, decisive counts (most windows of ordinary text stop here).
    let (mut digits, mut code, mut exotic, mut joins) = (0usize, 0usize, 0usize, 0usize);
    // globs and escaped quotes (2026-12-07: `*.tfstate`, `secrets/*.json`, JSON inside a JSON
    // string `{\"temp_c\": 19}`), counted in the same pass
    let mut globs = 0usize;
    let mut prev = b' ';
    for &b in w {
        globs += usize::from((prev == b'*' && b == b'.') || (prev == b'\\' && b == b'"'));
        match b {
            0x80..=0xff => return false,
            b'0'..=b'9' => digits += 1,
            b';' | b'{' | b'}' | b'=' | b'<' | b'>' | b'_' | b'|' | b'$' | b'#' => code += 1,
            b'\\' | b'*' | b'[' | b']' | b'(' | b')' | b'+' | b'^' | b'~' | b'@' | b'%' | b'&'
            | b'/' | b'`' => exotic += 1,
            b'A'..=b'Z' if prev.is_ascii_lowercase() => joins += 1,
            _ => {}
        }
        prev = b;
    }
    // `{` is both: markup in token soup, a brace in code.
    exotic += w.iter().filter(|&&b| b == b'{').count();
    // Token soup, not merely rare words (names, places): markup and escape punctuation glued
    // into the text, or words joined mid-token in camel case ("similarlyNow", "giving**ONE").
    if digits >= 6 || exotic + joins < 3 {
        return false;
    }
    let has = |pat: &[u8]| w.windows(pat.len()).any(|x| x.eq_ignore_ascii_case(pat));
    if has(b"://") || has(b"www.") {
        return false;
    }
    let count = |pat: &[u8]| w.windows(pat.len()).filter(|x| *x == pat).count();
    // JSON and subscripts: every `":`, `["`, `{"`, `['` is code (2026-12-04; was `":` once);
    // so are shell / make substitutions `$(` and regex classes `\s*`, `\d+`, `\w+`
    let code = code
        + 2 * (has(b"::") as usize
            + has(b"->") as usize
            + has(b"//") as usize
            + count(b"\":")
            + count(b"[\"")
            + count(b"{\"")
            + count(b"['")
            + has(b"$(") as usize
            + regex_class(w) as usize
            + globs);
    if code >= 5 {
        return false;
    }
    let mut words = 0;
    let mut sql = 0;
    for tok in w.split(|b| b.is_ascii_whitespace()) {
        if tok.len() >= 24 {
            return false;
        }
        let letters = tok.iter().filter(|b| b.is_ascii_alphabetic()).count();
        if letters >= 3 {
            words += 1;
        }
        let core: &[u8] = {
            let s = tok
                .iter()
                .position(|b| b.is_ascii_alphabetic())
                .unwrap_or(tok.len());
            let e = tok
                .iter()
                .rposition(|b| b.is_ascii_alphabetic())
                .map_or(s, |e| e + 1);
            &tok[s..e.max(s)]
        };
        if SQL_WORDS.iter().any(|k| k.eq_ignore_ascii_case(core)) {
            sql += 1;
        }
    }
    if words < 3 || sql >= 2 {
        return false;
    }
    // Marks that belong to a token of a known shape are not soup (2026-12-04): a path
    // (`/home/user/docs`), an e-mail address, an identifier in quotes or backticks (`'myUser'`,
    // `` `users` ``), typographic quotes made of two backticks, a key chord, brackets written in
    // tight pairs. Asked last: the window has passed every cheaper test.
    let (ex, jo, camel) = shaped_marks(w);
    let ex = ex + paired_brackets(b, s, e) + glued_plus(w);
    let rest = exotic.saturating_sub(ex);
    // Bare camel-case identifiers among plain words with no markup left are names in code talk
    // ("rename usrCtxMgr -> userContextManager, pmtHdlr -> paymentHandler"); soup glues its
    // joins to markup ("similarlyNow write oppositeley.]( Me giving**ONE"), 2026-12-07.
    let jo = if rest == 0 { jo + camel } else { jo };
    rest + joins.saturating_sub(jo) >= 3
}

#[cfg(test)]
#[path = "suffix_tests.rs"]
pub(crate) mod tests;

//! The learned scorer (issue 15, item 7): a linear model over hashed word 1-2-grams and
//! character 4-grams, one score per attack kind (`sqli`, `injection`, `jailbreak`).
//!
//! The features are computed by this file both when `scripts/train` fits the model
//! (src/bin/promptgate-train-scorer.rs) and in the filter, so the two cannot drift. The weights
//! are quantised to one signed byte each and embedded as a data segment (`scorer.bin`,
//! 2^[`BITS`] buckets x [`HEADS`] bytes). docs/model.md gives the sources, their licences and the
//! leave-one-source-out measurements that decide where the score may take part in decisions
//! (`MDL-001`, `MDL-002`, with `inspection.model_decides`); otherwise it is only logged (the
//! audit event's `scorer` object).
//!
//! Cost: about two features per byte (a hash and three table loads each), over at most
//! [`MAX_BYTES`] bytes of a request's user and tool turns (the newest first), so a large body
//! costs no more than a 16 KiB one.

/// log2 of the number of hashed buckets.
pub const BITS: u32 = 15;
/// Scores per bucket: [`SQLI`], [`INJECTION`], [`JAILBREAK`].
pub const HEADS: usize = 3;
pub const SQLI: usize = 0;
pub const INJECTION: usize = 1;
pub const JAILBREAK: usize = 2;
/// Head names, in head order (the audit event's keys).
pub const HEAD_NAMES: [&str; HEADS] = ["sqli", "injection", "jailbreak"];
/// Bytes of a string scored as one window; longer strings are scored in windows of this size
/// that overlap by half, and the string's score is the highest.
pub const WINDOW: usize = 2048;
/// Most bytes of a request scored (user and tool turns, newest first).
pub const MAX_BYTES: usize = 16 * 1024;
/// With `inspection.model_decides`, where leave-one-source-out showed the model helps at <= 1 %
/// FPR (docs/model.md): an SQLi probability at or above [`BAR`] is a hit on its own
/// ([`SQLI_ID`], score 40, acts at the default threshold); an injection or jailbreak
/// probability at or above it confirms a rule hit of the same category ([`CONFIRM_ID`], score
/// 20: a weak rule signal of 20-35 then reaches the default threshold of 40).
pub const SQLI_ID: &str = "MDL-001";
pub const SQLI_SCORE: u32 = 40;
pub const CONFIRM_ID: &str = "MDL-002";
pub const CONFIRM_SCORE: u32 = 20;
pub const BAR: f32 = 0.99;
/// Header of `scorer.bin`: magic, bits, heads, version (16 bytes, NUL-padded), then per head
/// bias and scale (f32, little-endian).
pub const MAGIC: &[u8; 4] = b"PGS1";
pub const HEADER: usize = 4 + 1 + 1 + 16 + HEADS * 8;

static MODEL: &[u8] = include_bytes!("scorer.bin");

/// The folded form of each byte: ASCII lower case, digits to `0`, whitespace to one space;
/// other bytes (punctuation, UTF-8 of other scripts) as they are.
static FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'A'..=b'Z' => b | 0x20,
            b'0'..=b'9' => b'0',
            b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => b' ',
            _ => b,
        };
        i += 1;
    }
    t
};

/// Folded bytes that belong to a word: letters, `0`, and the bytes of other scripts.
static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b >= 0x80;
        i += 1;
    }
    t
};

#[inline]
fn bucket(x: u64) -> u32 {
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITS)) as u32
}

/// Calls `f` with the bucket of every feature of `text`: character 4-grams of the folded text
/// (whitespace runs folded to one space) and its words and word pairs. Returns the number of
/// features. (3- and 5-grams beside the 4-grams measured the same leave-one-source-out,
/// 0.8799 against 0.8795 recall, at three times the cost.)
pub fn features(text: &[u8], mut f: impl FnMut(u32)) -> u32 {
    let mut n = 0u32;
    // Last four folded bytes, newest in the low byte; `len` of them valid.
    let mut ring: u32 = 0;
    let mut len = 0u32;
    let mut word: u64 = 0xcbf2_9ce4_8422_2325;
    let mut in_word = false;
    let mut prev_word: u64 = 0;
    let mut last_space = true;
    for &b in text {
        let c = FOLD[b as usize];
        if c == b' ' && last_space {
            continue;
        }
        last_space = c == b' ';
        ring = (ring << 8) | c as u32;
        len += 1;
        if len >= 4 {
            f(bucket(ring as u64));
            n += 1;
        }
        if WORD[c as usize] {
            word = (word ^ c as u64).wrapping_mul(0x0100_0000_01b3);
            in_word = true;
        } else if in_word {
            n += end_word(word, &mut prev_word, &mut f);
            word = 0xcbf2_9ce4_8422_2325;
            in_word = false;
        }
    }
    if in_word {
        n += end_word(word, &mut prev_word, &mut f);
    }
    n
}

#[inline]
fn end_word(word: u64, prev: &mut u64, f: &mut impl FnMut(u32)) -> u32 {
    let w = word.rotate_left(17) ^ 0x5157_4f52_4400_0000;
    f(bucket(w));
    let mut n = 1;
    if *prev != 0 {
        f(bucket(
            prev.rotate_left(31) ^ w.wrapping_mul(3) ^ 0x4249_4752_414d,
        ));
        n += 1;
    }
    *prev = w;
    n
}

/// An embedded (or freshly trained) model.
pub struct Model<'a> {
    weights: &'a [u8],
    bias: [f32; HEADS],
    scale: [f32; HEADS],
    version: &'a str,
}

/// The model built into the module (a model of no weights if the file were malformed; a unit
/// test pins that it is not).
pub fn builtin() -> Model<'static> {
    Model::parse(MODEL).unwrap_or(Model {
        weights: &[],
        bias: [f32::NEG_INFINITY; HEADS],
        scale: [0.0; HEADS],
        version: "none",
    })
}

impl<'a> Model<'a> {
    /// Reads a `scorer.bin`; `None` if it is not one of this build's shape.
    pub fn parse(bytes: &'a [u8]) -> Option<Model<'a>> {
        if bytes.len() != HEADER + (HEADS << BITS)
            || &bytes[..4] != MAGIC
            || bytes[4] as u32 != BITS
            || bytes[5] as usize != HEADS
        {
            return None;
        }
        let version = std::str::from_utf8(&bytes[6..22])
            .ok()?
            .trim_end_matches('\0');
        let mut bias = [0f32; HEADS];
        let mut scale = [0f32; HEADS];
        for h in 0..HEADS {
            let o = 22 + h * 8;
            bias[h] = f32::from_le_bytes(bytes[o..o + 4].try_into().ok()?);
            scale[h] = f32::from_le_bytes(bytes[o + 4..o + 8].try_into().ok()?);
        }
        Some(Model {
            weights: &bytes[HEADER..],
            bias,
            scale,
            version,
        })
    }

    /// The model's version (the training date and a digest of the weights).
    pub fn version(&self) -> &'a str {
        self.version
    }

    /// Probabilities (0..1) per head of one window of text: the features are present or not
    /// (a repeated sentence weighs as much as one), scaled by 1 / sqrt(distinct features).
    pub fn score_window(&self, text: &[u8]) -> [f32; HEADS] {
        let mut sum = [0i32; HEADS];
        let (w, _) = self.weights.as_chunks::<HEADS>();
        if w.len() != 1 << BITS {
            return [0.0; HEADS];
        }
        let mut seen = [0u64; (1 << BITS) / 64];
        let mut distinct = 0u32;
        features(text, |b| {
            let (word, bit) = ((b >> 6) as usize, 1u64 << (b & 63));
            if seen[word] & bit != 0 {
                return;
            }
            seen[word] |= bit;
            distinct += 1;
            let r = w[b as usize];
            sum[0] += r[0] as i8 as i32;
            sum[1] += r[1] as i8 as i32;
            sum[2] += r[2] as i8 as i32;
        });
        let norm = if distinct == 0 {
            0.0
        } else {
            1.0 / (distinct as f32).sqrt()
        };
        let mut p = [0f32; HEADS];
        for h in 0..HEADS {
            p[h] = sigmoid(self.bias[h] + sum[h] as f32 * self.scale[h] * norm);
        }
        p
    }

    /// The highest probability per head over `text`'s windows ([`WINDOW`] bytes, overlapping by
    /// half), scoring at most `budget` bytes (decremented).
    pub fn score(&self, text: &[u8], budget: &mut usize) -> [f32; HEADS] {
        let mut best = [0f32; HEADS];
        let mut start = 0;
        while *budget > 0 && start < text.len() {
            let end = (start + WINDOW).min(text.len()).min(start + *budget);
            let p = self.score_window(&text[start..end]);
            for h in 0..HEADS {
                best[h] = best[h].max(p[h]);
            }
            *budget -= end - start;
            if end >= text.len() {
                break;
            }
            start += WINDOW / 2;
        }
        best
    }
}

#[inline]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Writes a model file (the training tool's output).
pub fn write(version: &str, bias: &[f32; HEADS], scale: &[f32; HEADS], q: &[i8]) -> Vec<u8> {
    assert_eq!(q.len(), HEADS << BITS);
    let mut out = Vec::with_capacity(HEADER + q.len());
    out.extend_from_slice(MAGIC);
    out.push(BITS as u8);
    out.push(HEADS as u8);
    let mut v = [0u8; 16];
    let vb = version.as_bytes();
    v[..vb.len().min(16)].copy_from_slice(&vb[..vb.len().min(16)]);
    out.extend_from_slice(&v);
    for h in 0..HEADS {
        out.extend_from_slice(&bias[h].to_le_bytes());
        out.extend_from_slice(&scale[h].to_le_bytes());
    }
    out.extend(q.iter().map(|&x| x as u8));
    out
}

//! The scanning engine and the stream window.
//!
//! One engine serves whole texts and streams. It walks the text left to right; at each position
//! where a detector can start it asks the detectors in a fixed order for a decision, which is a
//! function of the bytes from that position on (at most [`MAX_LOOKAHEAD`] of them) and of
//! whether the text ends there. A detector that would read past the bytes it has, before the
//! end, answers "more": the engine stops and the stream holds the text from that position back.
//! Everything before it is decided and released. A whole text is the same walk with the end
//! known, so a stream releases exactly what the scan of its whole text returns, whatever the
//! split, and never holds more than the longest lookahead.
//!
//! A hit is replaced (redact), kept (monitor) or ends the text (block). Hits whose end cannot be
//! known within the lookahead (a long key, a private-key block, a URL, a recited system prompt)
//! are decided on their head; their tail is then consumed as it arrives, byte class by byte
//! class, without holding anything.

use super::config::{Action, PiiType, MAX_LOOKAHEAD};
use super::{leakage, links, mask, pii, secrets};
use super::{CxInner, Detector, Finding, GuardInner, MaskMap};

/// A decision needs bytes that have not arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct More;
pub(crate) type R<T> = Result<T, More>;

/// The text as the engine sees it: the unconsumed bytes, whether they end the text, and the
/// byte and char consumed just before them.
#[derive(Clone, Copy)]
pub(crate) struct Src<'a> {
    pub s: &'a str,
    pub b: &'a [u8],
    pub eof: bool,
    prev_byte: u8,
    prev_ch: char,
}

impl<'a> Src<'a> {
    pub(crate) fn new(s: &'a str, eof: bool) -> Self {
        Src {
            s,
            b: s.as_bytes(),
            eof,
            prev_byte: 0,
            prev_ch: '\0',
        }
    }

    /// The byte at `i`; `None` at the end of the text; `More` past the bytes held.
    #[inline]
    pub fn at(&self, i: usize) -> R<Option<u8>> {
        if i < self.b.len() {
            Ok(Some(self.b[i]))
        } else if self.eof {
            Ok(None)
        } else {
            Err(More)
        }
    }

    /// The byte before `i` (0 at the start of the text; >= 0x80 for a non-ASCII char).
    #[inline]
    pub fn byte_before(&self, i: usize) -> u8 {
        if i > 0 {
            self.b[i - 1]
        } else {
            self.prev_byte
        }
    }

    /// The char before `i` ('\0' at the start of the text).
    pub fn char_before(&self, i: usize) -> char {
        if i > 0 {
            self.s[..i].chars().next_back().unwrap_or('\0')
        } else {
            self.prev_ch
        }
    }

    /// The char at `i` (a char boundary) and its length; `None` at the end.
    pub fn char_at(&self, i: usize) -> R<Option<char>> {
        if i < self.b.len() {
            Ok(self.s[i..].chars().next())
        } else if self.eof {
            Ok(None)
        } else {
            Err(More)
        }
    }
}

/// Byte classes a hit's tail consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cls {
    /// `[A-Za-z0-9_-]`
    KeyDash,
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_]`
    AlnumUnderscore,
    /// `[A-Za-z0-9+/=]`
    Base64,
    /// `[A-Za-z0-9_.-]` (JWT, URL-safe)
    Jwt,
}

impl Cls {
    #[inline]
    pub(crate) fn has(self, b: u8) -> bool {
        b.is_ascii_alphanumeric()
            || match self {
                Cls::KeyDash => b == b'-' || b == b'_',
                Cls::Alnum => false,
                Cls::AlnumUnderscore => b == b'_',
                Cls::Base64 => b == b'+' || b == b'/' || b == b'=',
                Cls::Jwt => b == b'-' || b == b'_' || b == b'.',
            }
    }
}

/// What follows a hit's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tail {
    None,
    /// Consume bytes of this class.
    Chars(Cls),
    /// The rest of a private-key block, through its `-----END ...-----` line.
    Pem,
    /// The rest of a URL, and its closing `)` or `>` if it has one.
    Url(u8),
    /// A recited system prompt: words while they continue known shingles.
    Leak,
}

/// A detector's hit at a position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub len: usize,
    pub det: Detector,
    pub kind: &'static str,
    pub tail: Tail,
    /// A PII hit's type (request masking).
    pub pii: Option<PiiType>,
    /// A placeholder to restore: index into the mask map.
    pub restore: Option<usize>,
}

impl Hit {
    pub(crate) fn new(len: usize, det: Detector, kind: &'static str) -> Hit {
        Hit {
            len,
            det,
            kind,
            tail: Tail::None,
            pii: None,
            restore: None,
        }
    }
    pub(crate) fn tail(mut self, t: Tail) -> Hit {
        self.tail = t;
        self
    }
}

/// Which detectors a walk runs and with which action (answers, or request masking).
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub leak: Option<Action>,
    pub secrets: Option<Action>,
    pub pii: Option<Action>,
    pub pii_types: u8,
    pub links: Option<Action>,
    /// Request side: PII hits become numbered placeholders.
    pub mask: bool,
    /// Answer side: placeholders of the request's mask map are restored.
    pub restore: bool,
    /// Per byte: could a detector start here (ignoring word boundaries).
    pub table: [u8; 256],
    /// Per byte, for the walk's fast path: [`S_ANY`], [`S_IN_WORD`], [`S_ALNUM`].
    pub skip: [u8; 256],
}

/// `skip`: nothing can start at this byte.
pub(crate) const S_ANY: u8 = 1;
/// `skip`: nothing can start at this byte after a letter or digit (`table` is 0, or the byte
/// is a letter or digit, so inside a word, and no canary starts with it).
pub(crate) const S_IN_WORD: u8 = 2;
/// `skip`: the byte is an ASCII letter or digit.
pub(crate) const S_ALNUM: u8 = 4;

pub(crate) const T_SECRET: u8 = 1;
pub(crate) const T_LINK: u8 = 2;
pub(crate) const T_PII: u8 = 4;
pub(crate) const T_WORD: u8 = 8;
pub(crate) const T_RESTORE: u8 = 16;
pub(crate) const T_CANARY: u8 = 32;

impl Profile {
    pub(crate) fn build(&mut self, canary: Option<&str>, words: bool) {
        let mut t = [0u8; 256];
        for c in 0..=255u8 {
            let mut m = 0;
            if self.secrets.is_some() && secrets::may_start(c) {
                m |= T_SECRET;
            }
            if self.links.is_some() && matches!(c, b'!' | b'[' | b'<' | b'h' | b'H') {
                m |= T_LINK;
            }
            if self.pii.is_some() && pii::may_start(c, self.pii_types) {
                m |= T_PII;
            }
            if words && (c.is_ascii_alphanumeric() || c >= 0xC0) {
                m |= T_WORD;
            }
            if self.restore && c == b'[' {
                m |= T_RESTORE;
            }
            if let Some(k) = canary {
                if c.eq_ignore_ascii_case(&k.as_bytes()[0]) {
                    m |= T_CANARY;
                }
            }
            t[c as usize] = m;
        }
        self.table = t;
        for c in 0..=255u8 {
            let m = t[c as usize];
            let alnum = c.is_ascii_alphanumeric();
            let mut f = 0;
            if m == 0 {
                f |= S_ANY | S_IN_WORD;
            }
            if alnum && m & T_CANARY == 0 {
                f |= S_IN_WORD;
            }
            if alnum {
                f |= S_ALNUM;
            }
            self.skip[c as usize] = f;
        }
    }
}

/// Everything a walk reads.
pub(crate) struct Env<'a> {
    pub g: &'a GuardInner,
    pub p: &'a Profile,
    pub cx: &'a CxInner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    Tail(Tail, Action),
    Blocked,
}

/// At most this many findings are kept per text (the count goes on in `hits`).
pub(crate) const MAX_FINDINGS: usize = 64;

/// The state of one walk (a whole text, or a stream across its pushes).
#[derive(Debug, Clone)]
pub(crate) struct Core {
    /// Absolute offset of the next unconsumed byte.
    pub off: usize,
    prev_byte: u8,
    prev_ch: char,
    mode: Mode,
    /// AWS context (an access key id or a secret-key field name) reaches this offset.
    pub aws_until: usize,
    pub findings: Vec<Finding>,
    pub hits: usize,
    /// The output differs from the input.
    pub changed: bool,
    /// A leak run: the hashes of the last `shingle_words - 1` words.
    pub ring: Vec<u64>,
    /// Private-key tail: bytes of `-----END` matched, then dashes of the closing run.
    pem: (u8, u8, u8),
    /// Private-key tail: header lines (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`, PGP
    /// `Version: ...`) — [`PEM_LINE`] bits.
    pem_hdr: u8,
    /// The absolute offset where the last walk stopped for more bytes, and the detectors
    /// (`T_*` bits) that had found nothing there.
    tried: (usize, u8),
}

/// `pem_hdr`: the current line has bytes.
const PEM_LINE: u8 = 1;
/// `pem_hdr`: the current line has a colon (a header line).
const PEM_COLON: u8 = 2;
/// `pem_hdr`: a line without a colon was seen: the headers are over.
const PEM_BODY: u8 = 4;

impl Default for Core {
    fn default() -> Self {
        Core {
            off: 0,
            prev_byte: 0,
            prev_ch: '\0',
            mode: Mode::Normal,
            aws_until: 0,
            findings: Vec::new(),
            hits: 0,
            changed: false,
            ring: Vec::new(),
            pem: (0, 0, 0),
            pem_hdr: 0,
            tried: (usize::MAX, 0),
        }
    }
}

impl Core {
    pub(crate) fn blocked(&self) -> bool {
        self.mode == Mode::Blocked
    }

    /// Walks `s` (the unconsumed text; `eof`: nothing follows it), appending what may be
    /// released to `out`; returns the bytes consumed (always a char boundary; all of `s` at
    /// the end of the text unless blocked).
    pub(crate) fn run(
        &mut self,
        env: &Env,
        mut map: Option<&mut MaskMap>,
        s: &str,
        eof: bool,
        out: &mut String,
    ) -> usize {
        let mut src = Src::new(s, eof);
        src.prev_byte = self.prev_byte;
        src.prev_ch = self.prev_ch;
        let b = src.b;
        let skip = &env.p.skip;
        let canary_first = env.g.canary.as_ref().map(|c| c[0]);
        let mut i = 0;
        let mut flushed = 0;
        'walk: while i < b.len() || (eof && matches!(self.mode, Mode::Tail(..))) {
            match self.mode {
                Mode::Blocked => break,
                Mode::Tail(t, action) => {
                    let (n, done) = match self.tail_step(env, &src, i, t) {
                        Ok(x) => x,
                        Err(More) => break 'walk,
                    };
                    if n > 0 && action == Action::Redact {
                        out.push_str(&s[flushed..i]);
                        flushed = i + n;
                    }
                    i += n;
                    if done {
                        self.mode = Mode::Normal;
                        self.pem = (0, 0, 0);
                        self.pem_hdr = 0;
                        self.ring.clear();
                    }
                }
                Mode::Normal => {
                    // The fast path: most bytes start nothing. A byte is passed when no
                    // detector starts with it, or (inside a word: after a letter or digit) when
                    // it is a letter or digit no canary starts with; one table read per byte.
                    // `w`: 1 after a letter or digit, so `S_ANY << w` is the bit to test.
                    let mut w = u8::from(src.byte_before(i).is_ascii_alphanumeric());
                    while i < b.len() {
                        let f = skip[b[i] as usize];
                        if f & (S_ANY << w) == 0 {
                            break;
                        }
                        w = (f / S_ALNUM) & 1;
                        i += 1;
                    }
                    if i >= b.len() {
                        break;
                    }
                    // A short plain word where only the secret, link and PII detectors could
                    // start: `try_at` would skip all three there, so nothing is asked.
                    let m = env.p.table[b[i] as usize];
                    if m & !(T_SECRET | T_LINK | T_PII) == 0 && short_plain_word(&src, i) {
                        i += 1;
                        continue;
                    }
                    let hit = match self.try_at(env, &src, i, canary_first) {
                        Err(More) => break 'walk,
                        Ok(None) => {
                            i += 1;
                            continue;
                        }
                        Ok(Some(h)) => h,
                    };
                    let action = if hit.restore.is_some() || (env.p.mask && hit.pii.is_some()) {
                        Action::Redact
                    } else {
                        match hit.det {
                            Detector::Leakage => env.p.leak,
                            Detector::Secret => env.p.secrets,
                            Detector::Pii => env.p.pii,
                            Detector::Link => env.p.links,
                        }
                        .unwrap_or(Action::Monitor)
                    };
                    if hit.restore.is_none() && !env.p.mask {
                        self.hits += 1;
                        if self.findings.len() < MAX_FINDINGS {
                            self.findings.push(Finding {
                                detector: hit.det,
                                kind: hit.kind,
                                action,
                                offset: self.off + i,
                            });
                        }
                    }
                    match action {
                        Action::Block => {
                            out.push_str(&s[flushed..i]);
                            self.mode = Mode::Blocked;
                            self.changed = true;
                            self.settle(s, i);
                            return i;
                        }
                        Action::Redact => {
                            out.push_str(&s[flushed..i]);
                            let matched = &s[i..i + hit.len];
                            if let Some(k) = hit.restore {
                                if let Some(e) = env.cx.mask.as_ref().and_then(|m| m.entries.get(k))
                                {
                                    out.push_str(&e.1);
                                }
                            } else if let (true, Some(t), Some(m)) =
                                (env.p.mask, hit.pii, map.as_deref_mut())
                            {
                                mask::placeholder(m, t, matched, out);
                            } else {
                                out.push_str("[REDACTED:");
                                out.push_str(hit.kind);
                                out.push(']');
                            }
                            self.changed = true;
                            flushed = i + hit.len;
                        }
                        Action::Monitor => {}
                    }
                    i += hit.len;
                    if hit.tail != Tail::None {
                        self.mode = Mode::Tail(hit.tail, action);
                    }
                }
            }
        }
        out.push_str(&s[flushed..i]);
        self.settle(s, i);
        i
    }

    fn settle(&mut self, s: &str, consumed: usize) {
        if consumed > 0 {
            self.prev_byte = s.as_bytes()[consumed - 1];
            self.prev_ch = s[..consumed].chars().next_back().unwrap_or('\0');
        }
        self.off += consumed;
    }

    /// The detectors at `i`, in order. A detector that needs bytes not yet here stops the walk
    /// at `i`; when the next push resumes there, the detectors that already found nothing at
    /// that offset (a function of the bytes from it on, which do not change) are not asked
    /// again. A leakage check that reads several words ahead would otherwise have every
    /// detector re-run at one position for each event of a stream that brings one word.
    fn try_at(
        &mut self,
        env: &Env,
        src: &Src,
        i: usize,
        canary_first: Option<u8>,
    ) -> R<Option<Hit>> {
        let c = src.b[i];
        let m = env.p.table[c as usize];
        let abs = self.off + i;
        let mut done = if self.tried.0 == abs { self.tried.1 } else { 0 };
        macro_rules! stage {
            ($bit:expr, $call:expr) => {
                if m & $bit != 0 && done & $bit == 0 {
                    match $call {
                        Err(More) => {
                            self.tried = (abs, done);
                            return Err(More);
                        }
                        Ok(Some(h)) => return Ok(Some(h)),
                        Ok(None) => done |= $bit,
                    }
                }
            };
        }
        if m & (T_SECRET | T_LINK | T_PII) != 0 && short_plain_word(src, i) {
            // Nothing but a word check or a canary can start here.
            done |= T_SECRET | T_LINK | T_PII;
        }
        stage!(T_RESTORE, mask::restore_at(env, src, i));
        if canary_first.is_some() {
            stage!(T_CANARY, leakage::canary_at(env, src, i));
        }
        stage!(T_SECRET, secrets::at(src, i, self.off, &mut self.aws_until));
        stage!(T_LINK, links::at(env, src, i));
        stage!(T_PII, pii::at(src, i, env.p.pii_types));
        if m & T_WORD != 0 && done & T_WORD == 0 {
            return leakage::words_at(env, src, i, &mut self.ring)
                .inspect_err(|_| self.tried = (abs, done));
        }
        Ok(None)
    }

    /// One step of a tail: `(bytes consumed, tail ended)`.
    fn tail_step(&mut self, env: &Env, src: &Src, i: usize, t: Tail) -> R<(usize, bool)> {
        let b = src.b;
        match t {
            Tail::None => Ok((0, true)),
            Tail::Chars(cls) => {
                let n = b[i..].iter().take_while(|&&c| cls.has(c)).count();
                Ok((n, i + n < b.len() || src.eof))
            }
            Tail::Url(closer) => {
                let n = b[i..].iter().take_while(|&&c| links::url_byte(c)).count();
                if i + n < b.len() {
                    let close = (b[i + n] == closer) as usize;
                    Ok((n + close, true))
                } else {
                    Ok((n, src.eof))
                }
            }
            Tail::Pem => {
                let mut j = i;
                while j < b.len() {
                    let c = b[j];
                    let (end, dashes, line) = &mut self.pem;
                    if *end as usize == secrets::PEM_END.len() {
                        // The END line: printable ASCII up to its closing dashes.
                        if !(c.is_ascii_graphic() || c == b' ') || *line > 64 {
                            return Ok((j - i, true));
                        }
                        *line += 1;
                        j += 1;
                        if c == b'-' {
                            *dashes += 1;
                            if *dashes == 5 {
                                return Ok((j - i, true));
                            }
                        } else {
                            *dashes = 0;
                        }
                        continue;
                    }
                    if !secrets::pem_body_byte(c) {
                        // Header lines before the base64 body: `Name: value`, where the value
                        // may hold spaces, commas and dots.
                        let h = self.pem_hdr;
                        let header = h & PEM_BODY == 0
                            && ((c == b':' && h & PEM_LINE != 0)
                                || (h & PEM_COLON != 0 && secrets::pem_header_byte(c)));
                        if !header {
                            return Ok((j - i, true));
                        }
                        if c == b':' {
                            self.pem_hdr |= PEM_COLON;
                        }
                        self.pem.0 = 0;
                        j += 1;
                        continue;
                    }
                    if matches!(c, b'\n' | b'\r' | b'\\') {
                        // A line break (`\\` starts a JSON-escaped `\n`).
                        if self.pem_hdr & (PEM_LINE | PEM_COLON) == PEM_LINE {
                            self.pem_hdr |= PEM_BODY;
                        }
                        self.pem_hdr &= !(PEM_LINE | PEM_COLON);
                    } else {
                        self.pem_hdr |= PEM_LINE;
                    }
                    let (end, _, _) = &mut self.pem;
                    *end = if c == b'-' {
                        (*end + 1).min(5)
                    } else if *end >= 5 && c == secrets::PEM_END[*end as usize] {
                        *end + 1
                    } else {
                        0
                    };
                    j += 1;
                }
                Ok((j - i, src.eof))
            }
            Tail::Leak => match leakage::extend(env, src, i, &mut self.ring)? {
                Some(n) => Ok((n, false)),
                None => Ok((0, true)),
            },
        }
    }
}

/// Is the text at `i` a short word, followed (within the bytes held) by a space, a line break,
/// a tab, `,`, `;`, `!`, `?`, or a `.` and then a space, line break or tab (a sentence's end;
/// a `.` before anything else may be inside an address or a key): 1 to 14 ASCII letters and digits that start with a letter, and
/// with a lower-case letter if there is a digit? No secret, PII value, link or placeholder
/// starts with one: each needs a symbol (`@`, `-`, `_`, `.`, `:`, `=`, `/`, `~`), a leading
/// digit, an upper-case country code before digits (IBAN), or a longer run (`secretaccesskey`,
/// the longest run of letters that means something to the secrets detector, has 15; key bodies
/// without a symbol are longer still). Most words of prose are such words, so the walk skips
/// those detectors there (`plain_word_skip_changes_nothing` checks it against each of them).
#[inline]
pub(super) fn short_plain_word(src: &Src, i: usize) -> bool {
    let b = &src.b[i..];
    if !b[0].is_ascii_alphabetic() {
        return false;
    }
    let mut digits = false;
    let mut n = 1;
    while n < b.len() && n < 15 {
        let c = b[n];
        if c.is_ascii_alphanumeric() {
            digits |= c.is_ascii_digit();
            n += 1;
            continue;
        }
        return (!digits || b[0].is_ascii_lowercase())
            && (matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b',' | b';' | b'!' | b'?')
                || (c == b'.' && matches!(b.get(n + 1), Some(b' ' | b'\n' | b'\r' | b'\t'))));
    }
    false
}

/// Most bytes any detector reads ahead of the position it decides on.
pub(crate) const LOOKAHEAD: usize = MAX_LOOKAHEAD;

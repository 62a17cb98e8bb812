//! Normalisation of prompt text before rule matching.
//!
//! One pass over the text produces two byte views of equal length plus an offset map:
//!
//! * `plain`: lower-cased; fullwidth forms, mathematical / circled letters, Latin accents and
//!   common Cyrillic / Greek homoglyphs folded to ASCII; zero-width, soft-hyphen and bidi
//!   control characters removed; control characters (NUL included) and all whitespace runs
//!   collapsed to a single space; runs of four or more spaced-out single characters
//!   ("i g n o r e") joined.
//! * `leet`: `plain` with leetspeak undone (`0→o 1→i 3→e 4→a 5→s 7→t @→a $→s`) where the
//!   character touches a letter, so `pr3v10us` reads `previous` but `1=1` and `2024` stay.
//!
//! `map[i]` is the byte offset in the original text of the character that produced normalised
//! byte `i`; [`Normalized::orig_span`] turns a normalised match back into an original span.

/// Normalised views of a text. Reusable: [`normalize_into`] clears and refills it.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    pub plain: Vec<u8>,
    pub leet: Vec<u8>,
    pub map: Vec<u32>,
}

impl Normalized {
    /// Original byte span `[start, end)` of normalised span `[s, e)` (`e > s`).
    pub fn orig_span(&self, text: &str, s: usize, e: usize) -> (usize, usize) {
        if self.map.is_empty() {
            return (0, 0);
        }
        let s = s.min(self.map.len() - 1);
        let e = e.clamp(s + 1, self.map.len());
        let start = self.map[s] as usize;
        let last = self.map[e - 1] as usize;
        let end = last + text[last..].chars().next().map_or(0, char::len_utf8);
        (start, end.max(start))
    }
}

/// Folds one non-ASCII character. `None`: drop it. `Some(c)`: emit `c` (already lower-case).
#[inline]
fn fold_char(c: char) -> Option<char> {
    let u = c as u32;
    let m = match u {
        // zero-width, joiners, bidi controls, word joiner, invisible operators, BOM, soft hyphen
        0x00AD
        | 0x034F
        | 0x061C
        | 0x115F
        | 0x1160
        | 0x17B4
        | 0x17B5
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x206F
        | 0x3164
        | 0xFE00..=0xFE0F
        | 0xFEFF
        | 0xFFA0
        | 0xE0000..=0xE007F => return None,
        // fullwidth ASCII
        0xFF01..=0xFF5E => char::from_u32(u - 0xFEE0)?,
        // mathematical alphanumeric letters (bold, italic, script, fraktur, ...)
        0x1D400..=0x1D6A3 => {
            let k = (u - 0x1D400) % 52;
            if k < 26 {
                (b'a' + k as u8) as char
            } else {
                (b'a' + (k - 26) as u8) as char
            }
        }
        0x1D7CE..=0x1D7FF => (b'0' + ((u - 0x1D7CE) % 10) as u8) as char,
        // circled and parenthesised letters
        0x24B6..=0x24CF => (b'a' + (u - 0x24B6) as u8) as char,
        0x24D0..=0x24E9 => (b'a' + (u - 0x24D0) as u8) as char,
        0x249C..=0x24B5 => (b'a' + (u - 0x249C) as u8) as char,
        // regional indicator symbols (🇦..🇿)
        0x1F1E6..=0x1F1FF => (b'a' + (u - 0x1F1E6) as u8) as char,
        // squared / negative squared latin capitals
        0x1F130..=0x1F149 => (b'a' + (u - 0x1F130) as u8) as char,
        0x1F170..=0x1F189 => (b'a' + (u - 0x1F170) as u8) as char,
        _ => match c {
            // Latin-1 / Latin Extended-A accents
            'À'..='Å' | 'à'..='å' | 'Ā' | 'ā' | 'Ă' | 'ă' | 'Ą' | 'ą' => 'a',
            'Ç' | 'ç' | 'Ć' | 'ć' | 'Č' | 'č' => 'c',
            'È'..='Ë' | 'è'..='ë' | 'Ē' | 'ē' | 'Ė' | 'ė' | 'Ę' | 'ę' | 'Ě' | 'ě' => {
                'e'
            }
            'Ì'..='Ï' | 'ì'..='ï' | 'Ī' | 'ī' | 'Į' | 'į' | 'ı' => 'i',
            'Ñ' | 'ñ' | 'Ń' | 'ń' | 'Ň' | 'ň' => 'n',
            'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'Ō' | 'ō' | 'Ő' | 'ő' => 'o',
            'Ù'..='Ü' | 'ù'..='ü' | 'Ū' | 'ū' | 'Ů' | 'ů' | 'Ű' | 'ű' => 'u',
            'Ý' | 'ý' | 'ÿ' => 'y',
            'Ś' | 'ś' | 'Š' | 'š' => 's',
            'Ź' | 'ź' | 'Ż' | 'ż' | 'Ž' | 'ž' => 'z',
            'Ł' | 'ł' => 'l',
            'ß' => 's',
            // Cyrillic homoglyphs
            'а' | 'А' => 'a',
            'В' | 'в' | 'Ь' | 'ь' => 'b',
            'е' | 'Е' | 'ё' | 'Ё' | 'є' | 'Є' => 'e',
            'К' | 'к' => 'k',
            'М' | 'м' => 'm',
            'Н' | 'н' | 'һ' | 'Һ' => 'h',
            'о' | 'О' => 'o',
            'р' | 'Р' => 'p',
            'с' | 'С' => 'c',
            'Т' | 'т' => 't',
            'у' | 'У' => 'y',
            'х' | 'Х' => 'x',
            'і' | 'І' | 'ї' | 'Ї' => 'i',
            'ј' | 'Ј' => 'j',
            'ѕ' | 'Ѕ' => 's',
            'ԁ' => 'd',
            'ԛ' => 'q',
            'ԝ' | 'Ԝ' => 'w',
            'ӏ' | 'Ӏ' => 'l',
            'п' => 'n',
            // Greek homoglyphs
            'α' | 'Α' | 'ά' => 'a',
            'β' | 'Β' => 'b',
            'ε' | 'Ε' | 'έ' => 'e',
            'Ζ' => 'z',
            'Η' | 'η' => 'n',
            'ι' | 'Ι' | 'ί' => 'i',
            'κ' | 'Κ' => 'k',
            'Μ' => 'm',
            'ν' | 'Ν' => 'v',
            'ο' | 'Ο' | 'ό' => 'o',
            'ρ' | 'Ρ' => 'p',
            'τ' | 'Τ' => 't',
            'υ' | 'Υ' | 'ύ' => 'u',
            'χ' | 'Χ' => 'x',
            // typographic punctuation to ASCII
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '\u{FF07}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            _ => {
                if c.is_whitespace() || c.is_control() {
                    ' '
                } else {
                    // single-char lower-case mapping when there is one, else unchanged
                    let mut l = c.to_lowercase();
                    match (l.next(), l.next()) {
                        (Some(x), None) => x,
                        _ => c,
                    }
                }
            }
        },
    };
    Some(m)
}

/// ASCII fast path: lower-case, controls and whitespace become a space (0 = collapse marker).
const fn ascii_table() -> [u8; 128] {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = if b.is_ascii_uppercase() {
            b + 32
        } else if b < 0x20 || b == 0x7f || b == b' ' {
            b' '
        } else {
            b
        };
        i += 1;
    }
    t
}
static ASCII: [u8; 128] = ascii_table();

#[inline]
fn leet_of(b: u8) -> u8 {
    match b {
        b'0' => b'o',
        b'1' => b'i',
        b'3' => b'e',
        b'4' => b'a',
        b'5' => b's',
        b'7' => b't',
        b'@' => b'a',
        b'$' => b's',
        _ => b,
    }
}

/// Normalises `text` into `out` (cleared first). Linear in `text.len()`.
pub fn normalize_into(text: &str, out: &mut Normalized) {
    // Work on local vectors: u8 stores through `out` would force the compiler to reload the
    // vectors' lengths after every byte (they may alias), which costs ~10x.
    let mut plain = std::mem::take(&mut out.plain);
    let mut map = std::mem::take(&mut out.map);
    let mut leet = std::mem::take(&mut out.leet);
    plain.clear();
    map.clear();
    leet.clear();
    plain.reserve(text.len() + 8);
    map.reserve(text.len() + 8);
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut last_space = true; // no leading space
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            let m = ASCII[b as usize];
            if m != b' ' || !last_space {
                plain.push(m);
                map.push(i as u32);
            }
            last_space = m == b' ';
            i += 1;
            continue;
        }
        // non-ASCII: decode one char (text is valid UTF-8)
        let ch = text[i..].chars().next().unwrap_or('\u{FFFD}');
        let len = ch.len_utf8();
        if let Some(m) = fold_char(ch).map(|m| m.to_ascii_lowercase()) {
            if m == ' ' {
                if !last_space {
                    plain.push(b' ');
                    map.push(i as u32);
                    last_space = true;
                }
            } else {
                let mut buf = [0u8; 4];
                for &x in m.encode_utf8(&mut buf).as_bytes() {
                    plain.push(x);
                    map.push(i as u32);
                }
                last_space = false;
            }
        }
        i += len;
    }
    join_spaced_letters(&mut plain, &mut map);
    // leet view
    let p = &plain[..];
    leet.reserve(p.len());
    leet.extend(p.iter().enumerate().map(|(j, &b)| {
        let l = leet_of(b);
        if l == b {
            return b;
        }
        let at = |k: usize| p.get(k).copied().unwrap_or(b' ');
        let letter = |k: usize| at(k).is_ascii_lowercase();
        let leety = |k: usize| leet_of(at(k)) != at(k);
        let prev = j > 0 && letter(j - 1);
        let next = letter(j + 1);
        // "pr3v10us": a leet char next to another leet char that touches a letter
        let next2 = leety(j + 1) && letter(j + 2);
        let prev2 = j > 1 && leety(j - 1) && letter(j - 2);
        if prev || next || next2 || prev2 {
            l
        } else {
            b
        }
    }));
    out.plain = plain;
    out.map = map;
    out.leet = leet;
}

/// Joins runs of >= 4 single alphanumeric characters separated by single spaces
/// ("i g n o r e" -> "ignore"), in place on `plain` and `map`.
fn join_spaced_letters(p: &mut Vec<u8>, map: &mut Vec<u32>) {
    let n = p.len();
    if n < 7 {
        return;
    }
    let single = |p: &[u8], j: usize| -> bool {
        // p[j] is a single-character token
        p[j] != b' '
            && p[j].is_ascii_alphanumeric()
            && (j == 0 || p[j - 1] == b' ')
            && (j + 1 == p.len() || p[j + 1] == b' ')
    };
    let mut w = 0;
    let mut j = 0;
    while j < n {
        // try to detect a run starting at j
        if single(p, j) {
            let mut k = j;
            let mut count = 1;
            while k + 2 < n && single(p, k + 2) {
                k += 2;
                count += 1;
            }
            if count >= 4 {
                // copy letters only
                let mut q = j;
                while q <= k {
                    p[w] = p[q];
                    map[w] = map[q];
                    w += 1;
                    q += 2;
                }
                j = k + 1;
                continue;
            }
            // copy the run as is
            while j <= k {
                p[w] = p[j];
                map[w] = map[j];
                w += 1;
                j += 1;
            }
            continue;
        }
        p[w] = p[j];
        map[w] = map[j];
        w += 1;
        j += 1;
    }
    p.truncate(w);
    map.truncate(w);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> (String, String) {
        let mut n = Normalized::default();
        normalize_into(s, &mut n);
        (
            String::from_utf8(n.plain).unwrap(),
            String::from_utf8(n.leet).unwrap(),
        )
    }

    #[test]
    fn folds_case_width_homoglyphs_and_invisibles() {
        assert_eq!(norm("IGNORE").0, "ignore");
        assert_eq!(norm("ＩＧＮＯＲＥ").0, "ignore");
        assert_eq!(norm("іgnоrе").0, "ignore"); // Cyrillic і о е
        assert_eq!(norm("ig\u{200B}no\u{202E}re").0, "ignore");
        assert_eq!(norm("a \t\n\u{3000} b\0c").0, "a b c");
        assert_eq!(norm("𝐢𝐠𝐧𝐨𝐫𝐞").0, "ignore");
    }

    #[test]
    fn leet_only_next_to_letters() {
        let (p, l) = norm("1gn0r3 pr3v10us 1=1 2024");
        assert_eq!(p, "1gn0r3 pr3v10us 1=1 2024");
        assert_eq!(l, "ignore previous 1=1 2024");
    }

    #[test]
    fn spaced_letters_joined() {
        assert_eq!(norm("I g n o r e  a l l").0, "ignoreall");
        assert_eq!(norm("plan a b").0, "plan a b");
    }

    #[test]
    fn offsets_map_back() {
        let t = "Ｈi ІGNORE";
        let mut n = Normalized::default();
        normalize_into(t, &mut n);
        let s = n.plain.windows(6).position(|w| w == b"ignore").unwrap();
        let (a, b) = n.orig_span(t, s, s + 6);
        assert_eq!(&t[a..b], "ІGNORE");
    }
}

#[cfg(test)]
mod speed {
    #[test]
    #[ignore]
    fn normalize_speed() {
        let s =
            "Could you help me plan a three day trip to Lisbon in early May? I like 42 museums. "
                .repeat(12_000);
        let mut n = super::Normalized::default();
        let t = std::time::Instant::now();
        for _ in 0..10 {
            super::normalize_into(&s, &mut n);
        }
        let d = t.elapsed().as_secs_f64();
        eprintln!("normalize: {:.1} MB/s", s.len() as f64 * 10.0 / d / 1e6);
        let t = std::time::Instant::now();
        for _ in 0..10 {
            crate::inspect::decode_probe(&s);
        }
        let d = t.elapsed().as_secs_f64();
        eprintln!("decode: {:.1} MB/s", s.len() as f64 * 10.0 / d / 1e6);
    }
}

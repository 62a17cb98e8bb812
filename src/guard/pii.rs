//! Personal data: email addresses, phone numbers, payment cards (Luhn and issuer prefixes),
//! IBANs (mod-97), US social security numbers (with the ranges never issued excluded), IP
//! addresses. Digit runs are read whole: a phone number is not the middle of a longer number, a
//! date (`2024-01-15`), a version (`1.2.3`) or an id.

use super::config::PiiType;
use super::util::{iban_ok, luhn};
use super::window::{Hit, Src, R};
use super::Detector;

const EMAIL: u8 = 1 << PiiType::Email as u8;
const PHONE: u8 = 1 << PiiType::Phone as u8;
const CARD: u8 = 1 << PiiType::PaymentCard as u8;
const IBAN: u8 = 1 << PiiType::Iban as u8;
const SSN: u8 = 1 << PiiType::UsSsn as u8;
const IP: u8 = 1 << PiiType::IpAddress as u8;

pub(crate) fn may_start(c: u8, types: u8) -> bool {
    (types & EMAIL != 0 && (c.is_ascii_alphanumeric() || c == b'_'))
        || (types & (PHONE | CARD | SSN | IP) != 0 && c.is_ascii_digit())
        || (types & PHONE != 0 && matches!(c, b'+' | b'('))
        || (types & IBAN != 0 && c.is_ascii_uppercase())
        || (types & IP != 0 && (c.is_ascii_hexdigit() || c == b':'))
}

fn hit(len: usize, t: PiiType) -> Option<Hit> {
    let mut h = Hit::new(len, Detector::Pii, t.kind());
    h.pii = Some(t);
    Some(h)
}

pub(crate) fn at(src: &Src, i: usize, types: u8) -> R<Option<Hit>> {
    let c = src.b[i];
    let prev = src.byte_before(i);
    if prev.is_ascii_alphanumeric() {
        return Ok(None);
    }
    if types & EMAIL != 0 && !matches!(prev, b'.' | b'%' | b'+' | b'-' | b'_' | b'@') {
        if let Some(n) = email(src, i)? {
            return Ok(hit(n, PiiType::Email));
        }
    }
    let numeric_prev = matches!(prev, b'.' | b'-' | b'+' | b'/' | b':' | b',' | b'_');
    if c.is_ascii_digit() && !numeric_prev {
        if types & SSN != 0 {
            if let Some(n) = ssn(src, i)? {
                return Ok(hit(n, PiiType::UsSsn));
            }
        }
        if types & (CARD | PHONE) != 0 {
            let g = groups(src, i, b" -.")?;
            if types & CARD != 0 && card(&g) {
                return Ok(hit(g.end - i, PiiType::PaymentCard));
            }
            if types & PHONE != 0 && national_phone(&g) {
                return Ok(hit(g.end - i, PiiType::Phone));
            }
        }
        if types & IP != 0 {
            if let Some(n) = ipv4(src, i)? {
                return Ok(hit(n, PiiType::IpAddress));
            }
        }
    }
    if types & PHONE != 0 && !numeric_prev && prev != b'(' {
        if c == b'+' {
            let g = groups(src, i + 1, b" -.()")?;
            let first = g.digits.first().copied().unwrap_or(b'0');
            if (8..=15).contains(&g.digits.len()) && first != b'0' && !g.bad_end {
                return Ok(hit(g.end - i, PiiType::Phone));
            }
        } else if c == b'(' {
            if let Some(n) = paren_phone(src, i)? {
                return Ok(hit(n, PiiType::Phone));
            }
        }
    }
    if types & IP != 0 && (c.is_ascii_hexdigit() || c == b':') && !matches!(prev, b':' | b'.') {
        if let Some(n) = ipv6(src, i)? {
            return Ok(hit(n, PiiType::IpAddress));
        }
    }
    if types & IBAN != 0 && c.is_ascii_uppercase() {
        if let Some(n) = iban(src, i)? {
            return Ok(hit(n, PiiType::Iban));
        }
    }
    Ok(None)
}

fn email(src: &Src, i: usize) -> R<Option<usize>> {
    let local = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-');
    let mut n = 0;
    loop {
        match src.at(i + n)? {
            Some(c) if local(c) && n <= 64 => n += 1,
            Some(b'@') if n > 0 && n <= 64 => break,
            _ => return Ok(None),
        }
    }
    let d0 = i + n + 1;
    let mut m = 0;
    loop {
        match src.at(d0 + m)? {
            Some(c) if (c.is_ascii_alphanumeric() || c == b'.' || c == b'-') && m <= 253 => m += 1,
            _ => break,
        }
    }
    if m > 253 {
        return Ok(None);
    }
    while m > 0 && matches!(src.b[d0 + m - 1], b'.' | b'-') {
        m -= 1;
    }
    let domain = &src.s[d0..d0 + m];
    let local_part = &src.s[i..i + n];
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return Ok(None);
    };
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-'));
    if !labels_ok || tld.len() < 2 || !tld.bytes().all(|c| c.is_ascii_alphabetic()) {
        return Ok(None);
    }
    // Reserved documentation domains (RFC 2606) and git remotes are not anyone's address.
    let d = domain.to_ascii_lowercase();
    let reserved = ["example.com", "example.org", "example.net"]
        .iter()
        .any(|r| d == *r || d.ends_with(&format!(".{r}")))
        || [".example", ".test", ".invalid", ".localhost"]
            .iter()
            .any(|r| d.ends_with(r));
    if reserved || local_part == "git" {
        return Ok(None);
    }
    Ok(Some(n + 1 + m))
}

/// A run of digit groups joined by single separators from `seps`.
struct Groups {
    digits: Vec<u8>,
    lens: Vec<usize>,
    sep: Option<u8>,
    mixed_seps: bool,
    end: usize,
    /// The run is followed by something that makes it part of a larger token.
    bad_end: bool,
}

fn groups(src: &Src, i: usize, seps: &[u8]) -> R<Groups> {
    let mut g = Groups {
        digits: Vec::new(),
        lens: Vec::new(),
        sep: None,
        mixed_seps: false,
        end: i,
        bad_end: false,
    };
    let mut p = i;
    loop {
        let mut len = 0;
        while let Some(c) = src.at(p)? {
            if !c.is_ascii_digit() || g.digits.len() > 20 {
                break;
            }
            g.digits.push(c);
            len += 1;
            p += 1;
        }
        if len == 0 {
            break;
        }
        g.lens.push(len);
        g.end = p;
        if g.digits.len() > 20 {
            g.bad_end = true;
            return Ok(g);
        }
        // Up to two separators (`) `) before the next group.
        let mut q = p;
        let mut seen = 0;
        let mut sep = None;
        while seen < 2 {
            match src.at(q)? {
                Some(c) if seps.contains(&c) => {
                    if c != b'(' && c != b')' {
                        sep = Some(c);
                    }
                    q += 1;
                    seen += 1;
                }
                _ => break,
            }
        }
        if seen == 0 || !src.at(q)?.is_some_and(|c| c.is_ascii_digit()) {
            break;
        }
        if let Some(c) = sep {
            match g.sep {
                None => g.sep = Some(c),
                Some(s) if s != c => g.mixed_seps = true,
                _ => {}
            }
        }
        p = q;
    }
    let after = src.at(g.end)?;
    let after2 = src.at(g.end + 1)?;
    g.bad_end = after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        || (matches!(after, Some(b'.' | b',' | b'-' | b'/' | b':'))
            && after2.is_some_and(|c| c.is_ascii_digit()));
    Ok(g)
}

fn card(g: &Groups) -> bool {
    let d = &g.digits;
    let n = d.len();
    if g.bad_end || g.mixed_seps || !(13..=19).contains(&n) || g.sep == Some(b'.') {
        return false;
    }
    if g.lens.len() > 1 && (g.lens[0] != 4 || g.lens.iter().any(|&l| !(3..=6).contains(&l))) {
        return false;
    }
    let p2 = (d[0] - b'0') as u32 * 10 + (d[1] - b'0') as u32;
    let p4 = p2 * 100 + (d[2] - b'0') as u32 * 10 + (d[3] - b'0') as u32;
    let iin = match d[0] {
        b'4' => matches!(n, 13 | 16 | 19),
        b'5' => (51..=55).contains(&p2) && n == 16,
        b'2' => (2221..=2720).contains(&p4) && n == 16,
        b'3' => {
            ((p2 == 34 || p2 == 37) && n == 15)
                || (p2 == 35 && (16..=19).contains(&n))
                || ((p2 == 36 || p2 == 38 || p2 == 30) && (14..=16).contains(&n))
        }
        b'6' => (p4 == 6011 || p2 == 65 || p2 == 62 || (644..=649).contains(&(p4 / 10))) && n >= 16,
        _ => false,
    };
    iin && luhn(d)
}

/// National formats: NANP `ddd-ddd-dddd` (same separator, area and exchange 2-9) and trunk-0
/// numbers in groups (`020 7946 0958`, `06-12345678`, `01 23 45 67 89`).
fn national_phone(g: &Groups) -> bool {
    if g.bad_end || g.mixed_seps || g.lens.len() < 2 {
        return false;
    }
    let d = &g.digits;
    if g.lens == [3, 3, 4] {
        return d[0] >= b'2' && d[3] >= b'2';
    }
    d[0] == b'0'
        && g.sep != Some(b'.')
        && (10..=11).contains(&d.len())
        && (2..=5).contains(&g.lens[0])
        && g.lens.iter().all(|&l| l >= 2)
}

/// `(ddd) ddd-dddd`.
fn paren_phone(src: &Src, i: usize) -> R<Option<usize>> {
    let mut p = i + 1;
    let digits = |src: &Src, p: &mut usize, n: usize| -> R<bool> {
        for _ in 0..n {
            match src.at(*p)? {
                Some(c) if c.is_ascii_digit() => *p += 1,
                _ => return Ok(false),
            }
        }
        Ok(true)
    };
    if !digits(src, &mut p, 3)? || src.at(p)? != Some(b')') || src.b[i + 1] < b'2' {
        return Ok(None);
    }
    p += 1;
    if src.at(p)? == Some(b' ') {
        p += 1;
    }
    if !digits(src, &mut p, 3)? {
        return Ok(None);
    }
    if matches!(src.at(p)?, Some(b'-' | b'.' | b' ')) {
        p += 1;
    }
    if !digits(src, &mut p, 4)? || src.at(p)?.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    Ok(Some(p - i))
}

fn ssn(src: &Src, i: usize) -> R<Option<usize>> {
    let mut d = [0u8; 9];
    let mut k = 0;
    for p in 0..11 {
        let c = src.at(i + p)?;
        let want_dash = p == 3 || p == 6;
        match c {
            Some(b'-') if want_dash => {}
            Some(c) if c.is_ascii_digit() && !want_dash => {
                d[k] = c - b'0';
                k += 1;
            }
            _ => return Ok(None),
        }
    }
    let after = src.at(i + 11)?;
    if after.is_some_and(|c| c.is_ascii_alphanumeric())
        || (after == Some(b'-') && src.at(i + 12)?.is_some_and(|c| c.is_ascii_digit()))
    {
        return Ok(None);
    }
    let area = d[0] as u32 * 100 + d[1] as u32 * 10 + d[2] as u32;
    let group = d[3] * 10 + d[4];
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + x as u32);
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return Ok(None);
    }
    Ok(Some(11))
}

fn ipv4(src: &Src, i: usize) -> R<Option<usize>> {
    let mut p = i;
    let mut oct = [0u32; 4];
    for (k, o) in oct.iter_mut().enumerate() {
        let s = p;
        while let Some(c) = src.at(p)? {
            if !c.is_ascii_digit() || p - s == 3 {
                break;
            }
            *o = *o * 10 + (c - b'0') as u32;
            p += 1;
        }
        let n = p - s;
        if n == 0 || *o > 255 || (n > 1 && src.b[s] == b'0') {
            return Ok(None);
        }
        if k < 3 {
            if src.at(p)? != Some(b'.') {
                return Ok(None);
            }
            p += 1;
        }
    }
    let after = src.at(p)?;
    if after.is_some_and(|c| c.is_ascii_alphanumeric())
        || (matches!(after, Some(b'.' | b':'))
            && src.at(p + 1)?.is_some_and(|c| c.is_ascii_digit()))
    {
        return Ok(None);
    }
    if oct[0] == 0 || oct[0] == 127 || oct == [255; 4] {
        return Ok(None);
    }
    Ok(Some(p - i))
}

fn ipv6(src: &Src, i: usize) -> R<Option<usize>> {
    let mut n = 0;
    while let Some(c) = src.at(i + n)? {
        if !(c.is_ascii_hexdigit() || c == b':' || c == b'.') || n > 45 {
            break;
        }
        n += 1;
    }
    if n > 45 {
        return Ok(None);
    }
    if src.at(i + n)?.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    while n > 0 && src.b[i + n - 1] == b'.' {
        n -= 1;
    }
    let t = &src.s[i..i + n];
    if t.bytes().filter(|&c| c == b':').count() < 2 || !t.bytes().any(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    match t.parse::<core::net::Ipv6Addr>() {
        Ok(a) if !a.is_loopback() && !a.is_unspecified() => Ok(Some(n)),
        _ => Ok(None),
    }
}

fn iban(src: &Src, i: usize) -> R<Option<usize>> {
    for k in 0..4 {
        let c = src.at(i + k)?;
        let ok = if k < 2 {
            c.is_some_and(|c| c.is_ascii_uppercase())
        } else {
            c.is_some_and(|c| c.is_ascii_digit())
        };
        if !ok {
            return Ok(None);
        }
    }
    let mut buf = [0u8; 34];
    buf[..4].copy_from_slice(&src.b[i..i + 4]);
    let mut n = 4;
    let mut p = i + 4;
    let mut spaced = false;
    let mut group = 4;
    // Where the text stood before the last group separator: the IBAN may end there.
    let mut commit: Option<(usize, usize)> = None;
    loop {
        let fallback = match src.at(p)? {
            Some(c) if c.is_ascii_uppercase() || c.is_ascii_digit() => {
                if n == 34 || (spaced && group == 4) {
                    true
                } else {
                    buf[n] = c;
                    n += 1;
                    group += 1;
                    p += 1;
                    continue;
                }
            }
            Some(b' ') if group == 4 && (n == 4 || spaced) => {
                commit = Some((p, n));
                spaced = true;
                group = 0;
                p += 1;
                continue;
            }
            Some(c) => c.is_ascii_alphanumeric() || group == 0,
            None => group == 0,
        };
        if fallback {
            match commit {
                Some((cp, cn)) => {
                    p = cp;
                    n = cn;
                }
                None => return Ok(None),
            }
        }
        break;
    }
    if !iban_ok(&buf[..n]) {
        return Ok(None);
    }
    Ok(Some(p - i))
}

//! Links to hosts outside the allowlist: markdown images (a client renders them, fetching the
//! URL with whatever the model put in it: the classic exfiltration channel), and markdown
//! links, autolinks (`<https://..>`) and bare URLs that carry data (a long query, or an
//! encoded-looking path segment or parameter). Plain links to ordinary pages pass unless
//! `flag_all_links` is set; hosts on the allowlist (and their subdomains) always pass.

use super::util::entropy;
use super::window::{Env, Hit, Src, Tail, LOOKAHEAD, R};
use super::Detector;

/// Bytes that continue a URL (ASCII only, so a tail never splits a UTF-8 char).
pub(crate) fn url_byte(c: u8) -> bool {
    c.is_ascii_graphic() && !matches!(c, b')' | b'>' | b'<' | b'"' | b'\'' | b'`' | b']' | b'\\')
}

pub(crate) fn at(env: &Env, src: &Src, i: usize) -> R<Option<Hit>> {
    let c = src.b[i];
    let (url_start, closer, image) = match c {
        b'!' => {
            if src.at(i + 1)? != Some(b'[') {
                return Ok(None);
            }
            match label(src, i + 2)? {
                Some(p) => (p, b')', true),
                None => return Ok(None),
            }
        }
        b'[' => match label(src, i + 1)? {
            Some(p) => (p, b')', false),
            None => return Ok(None),
        },
        b'<' => (i + 1, b'>', false),
        _ => {
            let prev = src.byte_before(i);
            if prev.is_ascii_alphanumeric()
                || matches!(prev, b'/' | b':' | b'@' | b'.' | b'-' | b'_' | b'=')
            {
                return Ok(None);
            }
            (i, 0, false)
        }
    };
    let budget = LOOKAHEAD - (url_start - i) - 1;
    let Some(u) = url(src, url_start, budget)? else {
        return Ok(None);
    };
    let host = &src.s[u.host.0..u.host.1];
    if allowed(&env.g.allowed_hosts, host) {
        return Ok(None);
    }
    let rest = &src.b[u.host.1..u.end];
    let kind = if image {
        "markdown_image"
    } else if u.long || carries_data(rest) {
        "link_with_data"
    } else if env.g.flag_all_links {
        "link"
    } else {
        return Ok(None);
    };
    let mut len = u.end - i;
    let mut h;
    if u.long {
        h = Hit::new(len, Detector::Link, kind).tail(Tail::Url(closer));
    } else {
        if closer != 0 && src.at(u.end)? == Some(closer) {
            len += 1;
        }
        h = Hit::new(len, Detector::Link, kind);
    }
    h.len = len;
    Ok(Some(h))
}

/// A markdown label from `p` (after `[`): up to 200 bytes, one line, then `](`. Returns where
/// the URL starts.
fn label(src: &Src, p: usize) -> R<Option<usize>> {
    let mut k = p;
    loop {
        match src.at(k)? {
            Some(b']') => break,
            Some(b'\n' | b'[') | None => return Ok(None),
            Some(_) if k - p >= 200 => return Ok(None),
            Some(_) => k += 1,
        }
    }
    if src.at(k + 1)? != Some(b'(') {
        return Ok(None);
    }
    Ok(Some(k + 2))
}

struct Url {
    host: (usize, usize),
    end: usize,
    /// The URL goes on past the bytes read.
    long: bool,
}

fn url(src: &Src, p: usize, budget: usize) -> R<Option<Url>> {
    let mut k = p;
    for want in b"http" {
        match src.at(k)? {
            Some(c) if c.eq_ignore_ascii_case(want) => k += 1,
            _ => return Ok(None),
        }
    }
    if matches!(src.at(k)?, Some(b's' | b'S')) {
        k += 1;
    }
    for want in b"://" {
        if src.at(k)? != Some(*want) {
            return Ok(None);
        }
        k += 1;
    }
    let auth = k;
    let mut host_start = k;
    let mut host_end = None;
    let limit = p + budget;
    let mut long = false;
    loop {
        if k >= limit {
            // Decide on what was read; the rest is the tail.
            long = src.at(k)?.is_some_and(url_byte);
            break;
        }
        match src.at(k)? {
            Some(c) if url_byte(c) => {
                if host_end.is_none() {
                    match c {
                        b'@' => host_start = k + 1,
                        b'/' | b'?' | b'#' | b':' => host_end = Some(k),
                        _ => {}
                    }
                }
                k += 1;
            }
            _ => break,
        }
    }
    let host_end = host_end.unwrap_or(k);
    if host_end <= host_start || host_start < auth {
        return Ok(None);
    }
    Ok(Some(Url {
        host: (host_start, host_end),
        end: k,
        long,
    }))
}

/// Is `host` on the allowlist (`name`: it and its subdomains; `=name`: only it).
pub(crate) fn allowed(list: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.');
    list.iter().any(|a| match a.strip_prefix('=') {
        Some(exact) => host.eq_ignore_ascii_case(exact),
        None => {
            host.eq_ignore_ascii_case(a)
                || (host.len() > a.len()
                    && host.as_bytes()[host.len() - a.len() - 1] == b'.'
                    && host[host.len() - a.len()..].eq_ignore_ascii_case(a))
        }
    })
}

/// Data in a URL's path and query: a query of 64+ bytes, a parameter value of 32+, or a path
/// segment or value of 24+ bytes that looks encoded (letters and digits with high entropy, or
/// percent escapes), hashes and UUIDs excepted.
pub(crate) fn carries_data(rest: &[u8]) -> bool {
    if let Some(q) = rest.iter().position(|&c| c == b'?') {
        let query = &rest[q + 1..];
        let query = &query[..query.iter().position(|&c| c == b'#').unwrap_or(query.len())];
        if query.len() >= 64 {
            return true;
        }
        for kv in query.split(|&c| c == b'&' || c == b';') {
            if let Some(e) = kv.iter().position(|&c| c == b'=') {
                if kv.len() - e > 32 {
                    return true;
                }
            }
        }
    }
    rest.split(|&c| matches!(c, b'/' | b'?' | b'&' | b'=' | b'#' | b';' | b','))
        .any(encoded)
}

fn encoded(t: &[u8]) -> bool {
    if t.len() < 24 {
        return false;
    }
    let hex = t.iter().all(|c| c.is_ascii_hexdigit());
    let uuid = t.len() == 36
        && t.iter().enumerate().all(|(k, &c)| {
            if matches!(k, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if (hex && matches!(t.len(), 32 | 40 | 64)) || uuid {
        return false;
    }
    let escapes = t
        .windows(3)
        .filter(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
        .count();
    if escapes >= 3 {
        return true;
    }
    let digits = t.iter().any(u8::is_ascii_digit);
    let letters = t.iter().any(u8::is_ascii_alphabetic);
    hex || (digits && letters && entropy(t) >= 3.5)
}

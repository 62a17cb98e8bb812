//! Request PII masking: typed placeholders (`[EMAIL_1]`) in requests, originals restored where
//! the answer repeats a placeholder (through the same window, so also across stream events).

use super::config::PiiType;
use super::window::{Env, Hit, Src, R};
use super::{Detector, MaskMap};

/// Appends the placeholder of `original` (the same value keeps its placeholder).
pub(crate) fn placeholder(map: &mut MaskMap, t: PiiType, original: &str, out: &mut String) {
    let tag = t.tag();
    let existing = map.entries.iter().find(|(p, o)| {
        o == original
            && p.len() > tag.len() + 2
            && p[1..].starts_with(tag)
            && p.as_bytes()[tag.len() + 1] == b'_'
    });
    if let Some((p, _)) = existing {
        out.push_str(p);
        return;
    }
    let n = map
        .entries
        .iter()
        .filter(|(p, _)| {
            p[1..].starts_with(tag)
                && p.as_bytes().get(tag.len() + 1) == Some(&b'_')
                && p[tag.len() + 2..p.len() - 1]
                    .bytes()
                    .all(|c| c.is_ascii_digit())
        })
        .count()
        + 1;
    let p = format!("[{tag}_{n}]");
    out.push_str(&p);
    map.entries.push((p, original.to_owned()));
}

/// A placeholder of the request's mask map at `i` (`[`): restore its original.
pub(crate) fn restore_at(env: &Env, src: &Src, i: usize) -> R<Option<Hit>> {
    let Some(map) = &env.cx.mask else {
        return Ok(None);
    };
    let mut k = i + 1;
    loop {
        match src.at(k)? {
            Some(c) if c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit() => k += 1,
            Some(b']') => break,
            _ => return Ok(None),
        }
        if k - i > 24 {
            return Ok(None);
        }
    }
    let p = &src.s[i..=k];
    Ok(map.entries.iter().position(|(q, _)| q == p).map(|idx| {
        let mut h = Hit::new(k + 1 - i, Detector::Pii, "restore");
        h.restore = Some(idx);
        h
    }))
}

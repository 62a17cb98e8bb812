//! The proxy-wasm serialised header map (`proxy_get_header_map_pairs`), decoded without trusting
//! it: the glue reads each request's header map whole, to see every value of a repeated header.
//!
//! Everything here takes bytes from the client or the host and must never panic on them.

/// Decodes a proxy-wasm serialised header map (`proxy_get_header_map_pairs`):
/// `u32 count`, then `count` × (`u32 name_len`, `u32 value_len`), then each name and value
/// followed by a NUL. Returns `None` on any inconsistency instead of panicking (the SDK's own
/// decoder unwraps, and insists on UTF-8 names).
pub fn parse_header_pairs(bytes: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let u32_at = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = u32_at(0)?;
    let mut p = count.checked_mul(8)?.checked_add(4)?;
    if p > bytes.len() {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let name_len = u32_at(4 + n * 8)?;
        let value_len = u32_at(8 + n * 8)?;
        let name = bytes.get(p..p.checked_add(name_len)?)?;
        p = p.checked_add(name_len)?.checked_add(1)?;
        let value = bytes.get(p..p.checked_add(value_len)?)?;
        p = p.checked_add(value_len)?.checked_add(1)?;
        out.push((name, value));
    }
    Some(out)
}

/// Every value of header `name` (lower-case) in `pairs`, in order.
pub fn header_values(pairs: &[(&[u8], &[u8])], name: &str) -> Vec<Vec<u8>> {
    pairs
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.to_vec())
        .collect()
}

/// Kong's ngx_wasm_module hands over at most this many pairs of a header map and drops the rest
/// (`NGX_HTTP_WASM_MAX_REQ_HEADERS`, pseudo-headers first): a map this long may lack a header the
/// host still has.
pub const MAX_MARSHALLED_PAIRS: usize = 100;

/// What a header map read whole says about one header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    /// Its value: the first one of a repeated header.
    Found(&'a [u8]),
    /// Not in the map, and the map is complete.
    Absent,
    /// The map cannot tell: ask the host for this header alone.
    Unknown,
}

/// Header `name` (lower-case) in `pairs`, as `proxy_get_header_map_value` would answer it: the
/// first value of a repeated header, which is what each host answers (Envoy `entry[0]` of
/// `HeaderMap::get`, which iterates in the same order as the map; ngx_wasm_module and
/// wasm-nginx-module the first match in the nginx header list). A pseudo-header missing from
/// the map, or a header missing from a map that may have been truncated
/// ([`MAX_MARSHALLED_PAIRS`]), is [`HeaderValue::Unknown`]: the nginx hosts synthesise
/// pseudo-headers, and only the single-header call is sure to see them.
pub fn header_value<'a>(pairs: &[(&'a [u8], &'a [u8])], name: &str) -> HeaderValue<'a> {
    if let Some((_, v)) = pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
    {
        return HeaderValue::Found(v);
    }
    if name.starts_with(':') || pairs.len() >= MAX_MARSHALLED_PAIRS {
        HeaderValue::Unknown
    } else {
        HeaderValue::Absent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serialise(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
        for (n, v) in pairs {
            out.extend((n.len() as u32).to_le_bytes());
            out.extend((v.len() as u32).to_le_bytes());
        }
        for (n, v) in pairs {
            out.extend(n.as_bytes());
            out.push(0);
            out.extend(v.as_bytes());
            out.push(0);
        }
        out
    }

    #[test]
    fn header_pairs_round_trip_with_repeats() {
        let bytes = serialise(&[
            (":method", "POST"),
            ("authorization", "Bearer a"),
            ("authorization", "Bearer b"),
        ]);
        let pairs = parse_header_pairs(&bytes).unwrap();
        assert_eq!(pairs.len(), 3);
        assert_eq!(
            header_values(&pairs, "authorization"),
            vec![b"Bearer a".to_vec(), b"Bearer b".to_vec()]
        );
        assert!(header_values(&pairs, "x-api-key").is_empty());
        assert_eq!(parse_header_pairs(b"").unwrap().len(), 0);
    }

    #[test]
    fn header_value_is_the_first_value_and_knows_what_the_map_cannot_tell() {
        let bytes = serialise(&[
            (":path", "/v1/chat/completions"),
            ("Content-Type", "application/json"),
            ("x-tag", "a"),
            ("x-tag", "b"),
            ("x-empty", ""),
        ]);
        let pairs = parse_header_pairs(&bytes).unwrap();
        assert_eq!(
            header_value(&pairs, ":path"),
            HeaderValue::Found(b"/v1/chat/completions")
        );
        assert_eq!(
            header_value(&pairs, "content-type"),
            HeaderValue::Found(b"application/json")
        );
        assert_eq!(header_value(&pairs, "x-tag"), HeaderValue::Found(b"a"));
        assert_eq!(header_value(&pairs, "x-empty"), HeaderValue::Found(b""));
        assert_eq!(header_value(&pairs, "content-length"), HeaderValue::Absent);
        assert_eq!(header_value(&pairs, ":status"), HeaderValue::Unknown);
        assert_eq!(header_value(&[], "content-length"), HeaderValue::Absent);
        // A map as long as Kong's cap may have lost headers past it.
        let names: Vec<String> = (0..MAX_MARSHALLED_PAIRS)
            .map(|i| format!("x-{i}"))
            .collect();
        let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        let bytes = serialise(&many);
        let pairs = parse_header_pairs(&bytes).unwrap();
        assert_eq!(header_value(&pairs, "x-99"), HeaderValue::Found(b"v"));
        assert_eq!(header_value(&pairs, "content-length"), HeaderValue::Unknown);
        assert_eq!(
            header_value(&pairs[..MAX_MARSHALLED_PAIRS - 1], "content-length"),
            HeaderValue::Absent
        );
    }

    #[test]
    fn broken_header_maps_are_refused_not_panicked_on() {
        let good = serialise(&[("a", "b"), ("c", "dd")]);
        for cut in 0..good.len() {
            let _ = parse_header_pairs(&good[..cut]);
        }
        assert!(parse_header_pairs(&[0xff, 0xff, 0xff, 0xff]).is_none());
        let mut lying = good.clone();
        lying[4] = 0xff; // first name length
        assert!(parse_header_pairs(&lying).is_none());
        // Non-UTF-8 names are fine (the SDK's decoder would panic on them).
        let mut odd = serialise(&[("x", "y")]);
        odd[12] = 0xff;
        assert_eq!(parse_header_pairs(&odd).unwrap()[0].0, &[0xff]);
    }
}

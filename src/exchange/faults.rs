//! The body's `content-encoding` policy, and the audit `reason` of a request that ended in a
//! fault (client abort, upstream reset, timeout, upstream error). Pure: the lifecycle passes in
//! what the host said.

use crate::outcome::Reason;

/// The codings of a request body's `content-encoding` header values, if any is not `identity`:
/// e.g. `Some("gzip")`, `Some("deflate,gzip")`. Such a body cannot be scanned as it is.
pub fn compressed_encoding(values: &[Vec<u8>]) -> Option<String> {
    let mut codings = Vec::new();
    for v in values {
        for token in v.split(|&b| b == b',') {
            let t = String::from_utf8_lossy(token).trim().to_ascii_lowercase();
            if !t.is_empty() && t != "identity" {
                codings.push(t);
            }
        }
    }
    (!codings.is_empty()).then(|| codings.join(","))
}

/// Where a request was when the host logged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The body was still being received: the filter never decided.
    Undecided,
    /// Forwarded to the upstream.
    Forwarded,
}

/// The audit `reason` of a request that ended abnormally, from the host's response code details
/// (Envoy's `%RESPONSE_CODE_DETAILS%`, property `response.code_details`) and the upstream status.
/// `None` when the request completed normally.
pub fn fault_reason(
    stage: Stage,
    code_details: &str,
    upstream_status: Option<u32>,
) -> Option<Reason> {
    let d = code_details;
    let client_gone = d.contains("downstream_remote_disconnect")
        || d.contains("downstream_local_disconnect")
        || d.contains("client_disconnected");
    // The host's own protocol checks (Envoy's HTTP/1 and HTTP/2 codecs: bad or conflicting
    // content-length, content-length with chunked, ...) answered before the filter could.
    let protocol = d.starts_with("http1.") || d.starts_with("http2.") || d.contains("codec");
    match stage {
        Stage::Undecided if protocol => Some(Reason::ProtocolError),
        Stage::Undecided if client_gone => Some(Reason::ClientAborted),
        Stage::Undecided => Some(Reason::IncompleteRequest),
        Stage::Forwarded if client_gone => Some(Reason::ClientAborted),
        Stage::Forwarded
            if d.contains("response_timeout") || d.contains("upstream_per_try_timeout") =>
        {
            Some(Reason::UpstreamTimeout)
        }
        Stage::Forwarded if d.starts_with("upstream_reset") || d.contains("upstream_reset") => {
            Some(Reason::UpstreamReset)
        }
        Stage::Forwarded if upstream_status.is_some_and(|s| s >= 500) => {
            Some(Reason::UpstreamError)
        }
        Stage::Forwarded => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_encoding_policy() {
        let v = |s: &[&str]| s.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(compressed_encoding(&v(&[])), None);
        assert_eq!(compressed_encoding(&v(&["identity"])), None);
        assert_eq!(compressed_encoding(&v(&[" Identity , "])), None);
        assert_eq!(compressed_encoding(&v(&["gzip"])), Some("gzip".into()));
        assert_eq!(
            compressed_encoding(&v(&["identity, GZIP"])),
            Some("gzip".into())
        );
        assert_eq!(
            compressed_encoding(&v(&["deflate", "br"])),
            Some("deflate,br".into())
        );
        assert_eq!(compressed_encoding(&v(&["\u{0}x"])), Some("\u{0}x".into()));
    }

    #[test]
    fn fault_reasons() {
        use Stage::*;
        assert_eq!(
            fault_reason(Undecided, "downstream_remote_disconnect", None),
            Some(Reason::ClientAborted)
        );
        assert_eq!(
            fault_reason(Undecided, "", None),
            Some(Reason::IncompleteRequest)
        );
        assert_eq!(fault_reason(Forwarded, "via_upstream", Some(200)), None);
        assert_eq!(
            fault_reason(Forwarded, "via_upstream", Some(500)),
            Some(Reason::UpstreamError)
        );
        assert_eq!(
            fault_reason(Forwarded, "response_timeout", Some(504)),
            Some(Reason::UpstreamTimeout)
        );
        assert_eq!(
            fault_reason(
                Forwarded,
                "upstream_reset_after_response_started{remote_reset}",
                Some(200)
            ),
            Some(Reason::UpstreamReset)
        );
        assert_eq!(
            fault_reason(
                Forwarded,
                "upstream_reset_before_response_started{remote_reset}",
                Some(503)
            ),
            Some(Reason::UpstreamReset)
        );
        assert_eq!(
            fault_reason(Forwarded, "downstream_remote_disconnect", Some(200)),
            Some(Reason::ClientAborted)
        );
    }
}

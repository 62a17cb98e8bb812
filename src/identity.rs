//! Consumer identity: who is this request charged to?
//!
//! The glue fetches header values and host properties through a lookup closure; this module picks
//! the first configured source that yields a value and turns it into a [`Consumer`].
//!
//! The raw value (an API key, a bearer token, an address) is never kept: the consumer id is the
//! first 16 bytes (32 hex digits) of `SHA-256(salt ‖ value)`. Operators can compute it offline:
//! `printf '%s%s' "$SALT" "$KEY" | sha256sum | cut -c1-32`.
//!
//! A consumer may also have a *name*, which override rules can match by exact value, prefix or glob:
//! - for a source marked `secret: false` (e.g. Kong's `x-consumer-username`, an Istio principal)
//!   the name is the value itself (at most 128 bytes, otherwise the source is unusable for names);
//! - for a secret source the name is the operator's label from `identity.consumers`
//!   (`{"id_sha256": "...", "name": "team-a"}`), if any. Matching a prefix or glob on a hash is
//!   meaningless, so secret consumers without a label can only be matched by exact `id`.
//!
//! Ids of non-secret values are hashed in a separate domain (`SHA-256(salt ‖ "name:" ‖ value)`),
//! so a client cannot send someone else's *name* as an API key and be charged to their bucket.
//!
//! Requests without any identity are the [`Consumer::anonymous`] consumer.

use crate::error::{hex_id, ConfigError};
use sha2::{Digest, Sha256};

/// Id of the consumer used for requests where no source yields a value.
pub const ANONYMOUS_ID: &str = "anonymous";

/// Longest non-secret value used as a consumer name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// Where consumer identity comes from and how it is labelled.
#[derive(Debug, Clone)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct IdentityConfig {
    /// Sources tried in order; the first that yields a non-empty value identifies the consumer.
    /// Default: `authorization` header with the `bearer` scheme, then the `x-api-key` header.
    pub sources: Vec<IdentitySource>,
    /// Secret mixed into every hash (prepended to the value). Changing it changes every consumer id
    /// (limits start from zero). Default: empty.
    pub salt: String,
    /// Labels for hashed consumers: `{"id_sha256": "<32 or 64 hex digits>", "name": "team-a"}`.
    /// The name is used in override matching and may be logged; the raw key never is.
    pub consumers: Vec<ConsumerLabel>,
    /// Two credentials that disagree (an identity header sent twice with different values, or
    /// two secret sources such as `authorization` and `x-api-key` with different keys):
    /// `reject` (default) answers 400 `conflicting_identity`, so a client cannot be charged to
    /// one key while the upstream authenticates another; `first` takes the first source.
    pub on_conflict: ConflictAction,
}
crate::compact_struct!(IdentityConfig {
    sources,
    salt,
    consumers,
    on_conflict
});

/// What to do when identity sources disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum ConflictAction {
    /// Refuse the request (400, reason `conflicting_identity`).
    #[default]
    Reject,
    /// Use the first source that yields a value (and the first value of a repeated header).
    First,
}
crate::compact_enum!(ConflictAction { Reject = "reject", First = "first" });

/// Identity sources disagree and `on_conflict` is `reject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityConflict;

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            sources: vec![
                IdentitySource {
                    header: Some("authorization".into()),
                    property: None,
                    scheme: Some(Scheme::Bearer),
                    secret: None,
                },
                IdentitySource {
                    header: Some("x-api-key".into()),
                    property: None,
                    scheme: None,
                    secret: None,
                },
            ],
            salt: String::new(),
            consumers: Vec::new(),
            on_conflict: ConflictAction::Reject,
        }
    }
}

/// One identity source: exactly one of `header` or `property`.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct IdentitySource {
    /// Request header name (case-insensitive; the glue lower-cases it for the host).
    pub header: Option<String>,
    /// Host property path, e.g. `["source", "address"]` (downstream address) or
    /// `["kong", "consumer", "username"]`-style paths your host exposes.
    pub property: Option<Vec<String>>,
    /// Authorization scheme to strip: `bearer` takes the token after `Bearer ` (case-insensitive);
    /// a header with another scheme does not match and the next source is tried. Default: none.
    pub scheme: Option<Scheme>,
    /// Whether the value is a credential. Secret values are only ever hashed; non-secret values also
    /// become the consumer's name. Default: `true` for headers, `false` for properties.
    pub secret: Option<bool>,
}
crate::compact_struct!(IdentitySource {
    header,
    property,
    scheme,
    secret
});

/// An authorization scheme prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum Scheme {
    /// `Authorization: Bearer <token>`.
    Bearer,
}
crate::compact_enum!(Scheme { Bearer = "bearer" });

/// Maps a hashed consumer id to a human-readable name.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct ConsumerLabel {
    /// Hex SHA-256 of `salt ‖ key`: the full 64 digits or the first 32.
    pub id_sha256: String,
    /// Name used for override matching and logs.
    pub name: String,
}
crate::compact_struct!(ConsumerLabel { id_sha256, name });

/// What the glue is asked to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// A request header, lower-case name.
    Header(&'a str),
    /// A host property path.
    Property(&'a [String]),
}

/// The identified consumer. Holds no raw credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// 32 lower-case hex digits, or [`ANONYMOUS_ID`].
    pub id: String,
    /// Non-secret value or operator label, if any.
    pub name: Option<String>,
    /// Index of the source in `identity.sources` that matched; `None` for anonymous.
    pub source: Option<usize>,
}

impl Consumer {
    /// The consumer for requests without identity.
    pub fn anonymous() -> Consumer {
        Consumer {
            id: ANONYMOUS_ID.to_string(),
            name: None,
            source: None,
        }
    }

    /// Whether this is the anonymous consumer.
    pub fn is_anonymous(&self) -> bool {
        self.source.is_none()
    }

    /// A label safe for logs: the name if known, else the hashed id.
    pub fn display(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// Validated identity configuration.
#[derive(Debug, Clone)]
pub struct Identity {
    sources: Vec<CompiledSource>,
    salt: Vec<u8>,
    labels: Vec<(String, String)>,
    on_conflict: ConflictAction,
}

#[derive(Debug, Clone)]
enum SourceKey {
    Header(String),
    Property(Vec<String>),
}

#[derive(Debug, Clone)]
struct CompiledSource {
    key: SourceKey,
    scheme: Option<Scheme>,
    secret: bool,
}

impl CompiledSource {
    /// The usable value of one raw value: trimmed, scheme stripped; `None` if empty or another
    /// scheme.
    fn value<'a>(&self, raw: &'a [u8]) -> Option<&'a [u8]> {
        let mut value = trim(raw);
        if let Some(Scheme::Bearer) = self.scheme {
            value = strip_bearer(value)?;
        }
        (!value.is_empty()).then_some(value)
    }
}

impl Identity {
    /// Compiles a validated identity configuration.
    pub fn new(config: &IdentityConfig) -> Result<Identity, ConfigError> {
        let mut sources = Vec::with_capacity(config.sources.len());
        for (i, s) in config.sources.iter().enumerate() {
            let path = format!("identity.sources[{i}]");
            let key = match (&s.header, &s.property) {
                (Some(h), None) => {
                    let h = h.trim().to_ascii_lowercase();
                    if h.is_empty() || !h.bytes().all(is_header_char) {
                        return Err(ConfigError::new(
                            format!("{path}.header"),
                            "must be a non-empty header name",
                        ));
                    }
                    SourceKey::Header(h)
                }
                (None, Some(p)) => {
                    if p.is_empty() || p.iter().any(String::is_empty) {
                        return Err(ConfigError::new(
                            format!("{path}.property"),
                            "must be a non-empty list of non-empty path segments",
                        ));
                    }
                    SourceKey::Property(p.clone())
                }
                _ => {
                    return Err(ConfigError::new(
                        path,
                        "exactly one of `header` or `property` is required",
                    ))
                }
            };
            let secret = s.secret.unwrap_or(matches!(key, SourceKey::Header(_)));
            sources.push(CompiledSource {
                key,
                scheme: s.scheme,
                secret,
            });
        }
        let mut labels = Vec::with_capacity(config.consumers.len());
        for (i, l) in config.consumers.iter().enumerate() {
            let path = format!("identity.consumers[{i}]");
            let id = hex_id(
                &l.id_sha256,
                &format!("{path}.id_sha256"),
                "SHA-256 of salt followed by the key",
            )?;
            if l.name.is_empty() || l.name.len() > MAX_NAME_BYTES {
                return Err(ConfigError::new(
                    format!("{path}.name"),
                    format!("must be 1 to {MAX_NAME_BYTES} bytes"),
                ));
            }
            if labels.iter().any(|(other, _)| *other == id) {
                return Err(ConfigError::new(
                    format!("{path}.id_sha256"),
                    "duplicate consumer id",
                ));
            }
            labels.push((id, l.name.clone()));
        }
        Ok(Identity {
            sources,
            salt: config.salt.as_bytes().to_vec(),
            labels,
            on_conflict: config.on_conflict,
        })
    }

    /// Identifies the consumer. `lookup` returns the raw header value or property bytes, or `None`.
    /// Empty (after trimming) values count as absent. Never reports a conflict (one value per
    /// source); the glue uses [`resolve_all`](Self::resolve_all).
    pub fn resolve<F>(&self, mut lookup: F) -> Consumer
    where
        F: FnMut(Lookup<'_>) -> Option<Vec<u8>>,
    {
        self.resolve_first(|l| lookup(l).into_iter().collect())
    }

    /// Identifies the consumer from every value of each source (a header may be repeated).
    /// With `on_conflict: reject`, fails when a header source has two different values, or when
    /// two secret sources yield different credentials.
    pub fn resolve_all<F>(&self, mut lookup: F) -> Result<Consumer, IdentityConflict>
    where
        F: FnMut(Lookup<'_>) -> Vec<Vec<u8>>,
    {
        if self.on_conflict == ConflictAction::First {
            return Ok(self.resolve_first(lookup));
        }
        let mut values: Vec<Vec<Vec<u8>>> = Vec::with_capacity(self.sources.len());
        let mut secret: Option<Vec<u8>> = None;
        for s in &self.sources {
            let raw = match &s.key {
                // Envoy joins a repeated header with `,` (always for inline headers such as
                // `authorization`): `Bearer a,Bearer b` is two values. Credentials never
                // contain a comma.
                SourceKey::Header(h) => split_commas(lookup(Lookup::Header(h))),
                SourceKey::Property(p) => lookup(Lookup::Property(p)),
            };
            let mut distinct: Vec<&[u8]> = Vec::new();
            for v in &raw {
                // Compare credentials, not spelling: `Bearer k` and `bearer  k` agree.
                let v = s.value(v).unwrap_or_else(|| trim(v));
                if !v.is_empty() && !distinct.contains(&v) {
                    distinct.push(v);
                }
            }
            if distinct.len() > 1 && matches!(s.key, SourceKey::Header(_)) {
                return Err(IdentityConflict);
            }
            if s.secret {
                if let Some(v) = raw.iter().find_map(|r| s.value(r)) {
                    match &secret {
                        Some(prev) if prev.as_slice() != v => return Err(IdentityConflict),
                        Some(_) => {}
                        None => secret = Some(v.to_vec()),
                    }
                }
            }
            values.push(raw);
        }
        // The agreed credential, even when it came as `Bearer k,Bearer k` (a hash of the joined
        // string would be a fresh, unlimited consumer).
        let mut it = values.into_iter();
        Ok(self.resolve_first(|_| it.next().unwrap_or_default()))
    }

    fn resolve_first<F>(&self, mut lookup: F) -> Consumer
    where
        F: FnMut(Lookup<'_>) -> Vec<Vec<u8>>,
    {
        for (i, s) in self.sources.iter().enumerate() {
            let raw = match &s.key {
                SourceKey::Header(h) => lookup(Lookup::Header(h)),
                SourceKey::Property(p) => lookup(Lookup::Property(p)),
            };
            let Some(value) = raw.iter().find_map(|r| s.value(r)) else {
                continue;
            };
            return if s.secret {
                let id = self.hash(b"", value);
                let name = self
                    .labels
                    .iter()
                    .find(|(l, _)| *l == id)
                    .map(|(_, n)| n.clone());
                Consumer {
                    id,
                    name,
                    source: Some(i),
                }
            } else {
                let name = match std::str::from_utf8(value) {
                    Ok(v) if v.len() <= MAX_NAME_BYTES => Some(v.to_string()),
                    _ => None,
                };
                Consumer {
                    id: self.hash(b"name:", value),
                    name,
                    source: Some(i),
                }
            };
        }
        Consumer::anonymous()
    }

    /// Whether source `index` of `identity.sources` carries a credential (hashed only).
    pub fn source_is_secret(&self, index: usize) -> bool {
        self.sources.get(index).is_some_and(|s| s.secret)
    }

    /// The `secret` flag of every source, in order.
    pub fn source_secrecy(&self) -> impl Iterator<Item = bool> + '_ {
        self.sources.iter().map(|s| s.secret)
    }

    /// Lower-case names of the header sources that carry credentials (for upstream key
    /// vaulting: these must not reach the upstream).
    pub fn secret_headers(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter(|s| s.secret)
            .filter_map(|s| match &s.key {
                SourceKey::Header(h) => Some(h.clone()),
                SourceKey::Property(_) => None,
            })
            .collect()
    }

    /// The consumer known by `name` (an authenticated consumer's configured id): hashed in the
    /// name domain, exactly as a non-secret source yielding `name` would be, so every key of one
    /// consumer (and the host's identity for it) shares one limits bucket.
    pub fn named(&self, name: &str, source: Option<usize>) -> Consumer {
        Consumer {
            id: self.hash(b"name:", name.as_bytes()),
            name: Some(name.to_string()),
            source,
        }
    }

    fn hash(&self, domain: &[u8], value: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update(&self.salt);
        h.update(domain);
        h.update(value);
        hex(&h.finalize()[..16])
    }
}

/// Splits comma-joined header values into their parts.
fn split_commas(values: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    if !values.iter().any(|v| v.contains(&b',')) {
        return values;
    }
    values
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::to_vec)
        .collect()
}

fn is_header_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:".contains(&b)
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end]
}

fn strip_bearer(v: &[u8]) -> Option<&[u8]> {
    if v.len() > 6 && v[..6].eq_ignore_ascii_case(b"bearer") && v[6].is_ascii_whitespace() {
        Some(trim(&v[7..]))
    } else {
        None
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Identity, ConfigError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Top {
            #[serde(default)]
            identity: IdentityConfig,
        }
        let top: Top = crate::json_path::deserialize(json.as_bytes())
            .map_err(|(path, e)| ConfigError::new(path, e.to_string()))?;
        Identity::new(&top.identity)
    }

    fn headers<'a>(h: &'a [(&'a str, &'a str)]) -> impl FnMut(Lookup<'_>) -> Option<Vec<u8>> + 'a {
        move |l| match l {
            Lookup::Header(n) => h
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.as_bytes().to_vec()),
            Lookup::Property(p) => {
                let joined = p.join(".");
                h.iter()
                    .find(|(k, _)| *k == joined)
                    .map(|(_, v)| v.as_bytes().to_vec())
            }
        }
    }

    fn sha_prefix(s: &str) -> String {
        hex(&Sha256::digest(s.as_bytes())[..16])
    }

    #[test]
    fn default_uses_bearer_then_api_key() {
        let id = parse("{}").unwrap();
        let c = id.resolve(headers(&[
            ("authorization", "Bearer sk-abc"),
            ("x-api-key", "k2"),
        ]));
        assert_eq!(c.id, sha_prefix("sk-abc"));
        assert_eq!(c.source, Some(0));
        assert_eq!(c.name, None);
        assert_eq!(c.id.len(), 32);
        let c = id.resolve(headers(&[("x-api-key", " k2 ")]));
        assert_eq!(c.id, sha_prefix("k2"));
        assert_eq!(c.source, Some(1));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_other_schemes_fall_through() {
        let id = parse("{}").unwrap();
        let a = id.resolve(headers(&[("authorization", "bEaReR   tok")]));
        assert_eq!(a.id, sha_prefix("tok"));
        let b = id.resolve(headers(&[
            ("authorization", "Basic dXNlcg=="),
            ("x-api-key", "k"),
        ]));
        assert_eq!(b.id, sha_prefix("k"));
        let c = id.resolve(headers(&[("authorization", "Bearer   ")]));
        assert!(c.is_anonymous());
        let d = id.resolve(headers(&[("authorization", "Bearertok")]));
        assert!(d.is_anonymous());
    }

    #[test]
    fn no_identity_is_anonymous() {
        let id = parse("{}").unwrap();
        let c = id.resolve(headers(&[]));
        assert_eq!(c, Consumer::anonymous());
        assert_eq!(c.id, ANONYMOUS_ID);
        assert!(id.resolve(headers(&[("x-api-key", "   ")])).is_anonymous());
    }

    #[test]
    fn salt_changes_the_id_and_matches_documented_formula() {
        let id = parse(r#"{"identity": {"salt": "pepper"}}"#).unwrap();
        let c = id.resolve(headers(&[("x-api-key", "secret")]));
        assert_eq!(c.id, sha_prefix("peppersecret"));
        assert_ne!(c.id, sha_prefix("secret"));
    }

    #[test]
    fn labels_name_secret_consumers() {
        let full = hex(&Sha256::digest(b"sk-team-a"));
        let cfg = format!(
            r#"{{"identity": {{"consumers": [{{"id_sha256": "{}", "name": "team-a"}}]}}}}"#,
            full.to_uppercase()
        );
        let id = parse(&cfg).unwrap();
        let c = id.resolve(headers(&[("authorization", "Bearer sk-team-a")]));
        assert_eq!(c.name.as_deref(), Some("team-a"));
        assert_eq!(c.display(), "team-a");
        let other = id.resolve(headers(&[("authorization", "Bearer sk-other")]));
        assert_eq!(other.name, None);
        assert_eq!(other.display(), other.id);
    }

    #[test]
    fn non_secret_sources_give_names_and_separate_hash_domain() {
        let id = parse(
            r#"{"identity": {"sources": [
                {"header": "X-Consumer-Username", "secret": false},
                {"property": ["source", "address"]},
                {"header": "x-api-key"}
            ]}}"#,
        )
        .unwrap();
        let c = id.resolve(headers(&[("x-consumer-username", "team-b")]));
        assert_eq!(c.name.as_deref(), Some("team-b"));
        assert_eq!(c.source, Some(0));
        // A client sending the same string as an API key is a different consumer.
        let k = id.resolve(headers(&[("x-api-key", "team-b")]));
        assert_ne!(k.id, c.id);
        assert_eq!(k.name, None);
        let p = id.resolve(headers(&[("source.address", "10.0.0.1:5555")]));
        assert_eq!(p.name.as_deref(), Some("10.0.0.1:5555"));
        assert_eq!(p.source, Some(1));
        // Long or non-UTF-8 values are still identified, just unnamed.
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        let l = id.resolve(headers(&[("x-consumer-username", long.as_str())]));
        assert_eq!(l.name, None);
        assert_eq!(l.id.len(), 32);
        let nb = id.resolve(|_| Some(vec![0xff, 0xfe]));
        assert_eq!(nb.name, None);
    }

    #[test]
    fn config_errors_name_fields() {
        let e = parse(r#"{"identity": {"sources": [{"header": "a"}, {}]}}"#).unwrap_err();
        assert_eq!(e.field, "identity.sources[1]");
        let e = parse(r#"{"identity": {"sources": [{"header": "a", "property": ["x"]}]}}"#)
            .unwrap_err();
        assert_eq!(e.field, "identity.sources[0]");
        let e = parse(r#"{"identity": {"sources": [{"header": "bad header"}]}}"#).unwrap_err();
        assert_eq!(e.field, "identity.sources[0].header");
        let e = parse(r#"{"identity": {"sources": [{"property": []}]}}"#).unwrap_err();
        assert_eq!(e.field, "identity.sources[0].property");
        let e = parse(r#"{"identity": {"consumers": [{"id_sha256": "xyz", "name": "a"}]}}"#)
            .unwrap_err();
        assert_eq!(e.field, "identity.consumers[0].id_sha256");
        let h = "a".repeat(32);
        let e = parse(&format!(
            r#"{{"identity": {{"consumers": [{{"id_sha256": "{h}", "name": "a"}}, {{"id_sha256": "{h}", "name": "b"}}]}}}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field, "identity.consumers[1].id_sha256");
        let e = parse(&format!(
            r#"{{"identity": {{"consumers": [{{"id_sha256": "{h}", "name": ""}}]}}}}"#
        ))
        .unwrap_err();
        assert_eq!(e.field, "identity.consumers[0].name");
        let e = parse(r#"{"identity": {"sources": [{"header": "a", "scheme": "digest"}]}}"#)
            .unwrap_err();
        assert_eq!(e.field, "identity.sources[0].scheme");
        let e = parse(r#"{"identity": {"salty": "x"}}"#).unwrap_err();
        assert_eq!(e.field, "identity.salty");
    }

    fn all<'a>(h: &'a [(&'a str, &'a str)]) -> impl FnMut(Lookup<'_>) -> Vec<Vec<u8>> + 'a {
        move |l| match l {
            Lookup::Header(n) => h
                .iter()
                .filter(|(k, _)| *k == n)
                .map(|(_, v)| v.as_bytes().to_vec())
                .collect(),
            Lookup::Property(_) => Vec::new(),
        }
    }

    #[test]
    fn repeated_identity_header_with_different_values_conflicts() {
        let id = parse("{}").unwrap();
        let two = [
            ("authorization", "Bearer sk-victim"),
            ("authorization", "Bearer sk-attacker"),
        ];
        assert_eq!(id.resolve_all(all(&two)), Err(IdentityConflict));
        // The same value twice is not a conflict.
        let same = [
            ("authorization", "Bearer k"),
            ("authorization", "Bearer  k "),
        ];
        assert_eq!(id.resolve_all(all(&same)).unwrap().id, sha_prefix("k"));
        // A repeated header conflicts even if one value is another scheme: the upstream may read it.
        let mixed = [
            ("authorization", "Bearer k"),
            ("authorization", "Basic eA=="),
        ];
        assert_eq!(id.resolve_all(all(&mixed)), Err(IdentityConflict));
    }

    #[test]
    fn disagreeing_secret_sources_conflict_agreeing_ones_do_not() {
        let id = parse("{}").unwrap();
        let h = [("authorization", "Bearer sk-a"), ("x-api-key", "sk-b")];
        assert_eq!(id.resolve_all(all(&h)), Err(IdentityConflict));
        let h = [("authorization", "Bearer sk-a"), ("x-api-key", "sk-a")];
        let c = id.resolve_all(all(&h)).unwrap();
        assert_eq!((c.id, c.source), (sha_prefix("sk-a"), Some(0)));
        // Basic auth does not yield a bearer credential: only x-api-key counts.
        let h = [("authorization", "Basic eA=="), ("x-api-key", "sk-b")];
        assert_eq!(id.resolve_all(all(&h)).unwrap().id, sha_prefix("sk-b"));
        assert!(id.resolve_all(all(&[])).unwrap().is_anonymous());
    }

    #[test]
    fn on_conflict_first_takes_the_first_source_and_value() {
        let id = parse(r#"{"identity": {"on_conflict": "first"}}"#).unwrap();
        let h = [
            ("authorization", "Bearer sk-a"),
            ("authorization", "Bearer sk-c"),
            ("x-api-key", "sk-b"),
        ];
        assert_eq!(id.resolve_all(all(&h)).unwrap().id, sha_prefix("sk-a"));
        let e = parse(r#"{"identity": {"on_conflict": "last"}}"#).unwrap_err();
        assert!(e.field.contains("on_conflict"), "{e:?}");
    }

    #[test]
    fn non_secret_sources_are_not_compared_with_credentials() {
        let id = parse(
            r#"{"identity": {"sources": [{"header": "x-consumer-username", "secret": false},
                                          {"header": "authorization", "scheme": "bearer"}]}}"#,
        )
        .unwrap();
        let h = [
            ("x-consumer-username", "team-a"),
            ("authorization", "Bearer k"),
        ];
        let c = id.resolve_all(all(&h)).unwrap();
        assert_eq!(c.name.as_deref(), Some("team-a"));
    }
}

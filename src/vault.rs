//! Upstream key vaulting: the client's credential headers are removed and the provider's key is
//! added, taken from the host environment (Envoy `vm_config.environment_variables`), never from
//! the plugin configuration. Clients never see the provider key and it never appears in a config
//! dump of the plugin configuration.
//!
//! The key is read once, when the configuration is loaded; a missing or empty variable fails the
//! load naming `upstream_key.env` (never the value). The compiled [`Vault`] prints no key in its
//! `Debug` output.

use crate::error::ConfigError;
use crate::identity::Identity;
use serde::Deserialize;
use std::fmt;

/// The `upstream_key` section.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UpstreamKeyConfig {
    /// Header the provider reads the key from. Default `authorization`.
    #[serde(default = "default_header")]
    pub header: String,
    /// Environment variable of the plugin VM holding the key (Envoy:
    /// `vm_config.environment_variables.host_env_keys` or `key_values`). Required.
    pub env: String,
    /// Header value; `{key}` is replaced by the key. Default `Bearer {key}`.
    #[serde(default = "default_format")]
    pub format: String,
    /// Client headers removed before the request goes upstream. Default `authorization`,
    /// `x-api-key`, `api-key`. The credential headers of `identity.sources` and `header` are
    /// always removed as well.
    #[serde(default = "default_remove")]
    pub remove_headers: Vec<String>,
}

fn default_header() -> String {
    "authorization".into()
}
fn default_format() -> String {
    "Bearer {key}".into()
}
fn default_remove() -> Vec<String> {
    vec!["authorization".into(), "x-api-key".into(), "api-key".into()]
}

/// A compiled vault: what to remove and what to set.
#[derive(Clone)]
pub struct Vault {
    /// Lower-case header names to remove (includes `header`).
    pub remove: Vec<String>,
    /// Lower-case header name to set.
    pub header: String,
    value: String,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("remove", &self.remove)
            .field("header", &self.header)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// Headers a key must never be written to (they change how the request is framed or routed).
const FORBIDDEN_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
];

fn header_name(v: &str, field: &str) -> Result<String, ConfigError> {
    let h = v.trim().to_ascii_lowercase();
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if h.is_empty() || !h.bytes().all(token) {
        return Err(ConfigError::new(
            field,
            "must be a header name (no pseudo-headers)",
        ));
    }
    Ok(h)
}

impl Vault {
    /// Compiles the section, reading the key through `env` (the glue passes `std::env::var`).
    pub fn new(
        cfg: &UpstreamKeyConfig,
        identity: &Identity,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vault, ConfigError> {
        let header = header_name(&cfg.header, "upstream_key.header")?;
        if FORBIDDEN_HEADERS.contains(&header.as_str()) {
            return Err(ConfigError::new(
                "upstream_key.header",
                format!("`{header}` cannot carry a key"),
            ));
        }
        if cfg.format.matches("{key}").count() != 1 {
            return Err(ConfigError::new(
                "upstream_key.format",
                "must contain `{key}` exactly once",
            ));
        }
        if cfg.format.bytes().any(|b| b.is_ascii_control()) {
            return Err(ConfigError::new(
                "upstream_key.format",
                "must not contain control characters",
            ));
        }
        let name = cfg.env.trim();
        let name_ok =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !name_ok {
            return Err(ConfigError::new(
                "upstream_key.env",
                "must be an environment variable name ([A-Za-z0-9_]+)",
            ));
        }
        let key = env(name).unwrap_or_default();
        let key = key.trim();
        if key.is_empty() {
            return Err(ConfigError::new(
                "upstream_key.env",
                format!(
                    "environment variable `{name}` is not set (or empty) in the plugin VM; \
                     pass it with vm_config.environment_variables (host_env_keys)"
                ),
            ));
        }
        // Header injection: a key must be one line of visible ASCII.
        if !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(ConfigError::new(
                "upstream_key.env",
                format!("environment variable `{name}` holds characters not allowed in a header"),
            ));
        }
        let mut remove = Vec::new();
        for (i, h) in cfg.remove_headers.iter().enumerate() {
            remove.push(header_name(
                h,
                &format!("upstream_key.remove_headers[{i}]"),
            )?);
        }
        remove.extend(identity.secret_headers());
        remove.push(header.clone());
        let mut seen = Vec::new();
        remove.retain(|h| {
            let new = !seen.contains(h);
            seen.push(h.clone());
            new
        });
        Ok(Vault {
            remove,
            header,
            value: cfg.format.replace("{key}", key),
        })
    }

    /// The header value to set upstream. Never log it.
    pub fn value(&self) -> &str {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityConfig;

    fn cfg(v: serde_json::Value) -> UpstreamKeyConfig {
        serde_json::from_value(v).unwrap()
    }

    fn env(name: &str) -> Option<String> {
        (name == "OPENAI_API_KEY").then(|| "sk-provider-123".to_string())
    }

    fn identity(json: serde_json::Value) -> Identity {
        let c: IdentityConfig = serde_json::from_value(json).unwrap();
        Identity::new(&c).unwrap()
    }

    #[test]
    fn defaults_bearer_authorization_and_remove_client_headers() {
        let id = identity(serde_json::json!({
            "sources": [{"header": "X-Team-Key"}, {"header": "x-user", "secret": false}]
        }));
        let v = Vault::new(
            &cfg(serde_json::json!({"env": "OPENAI_API_KEY"})),
            &id,
            &env,
        )
        .unwrap();
        assert_eq!(v.header, "authorization");
        assert_eq!(v.value(), "Bearer sk-provider-123");
        assert_eq!(
            v.remove,
            vec!["authorization", "x-api-key", "api-key", "x-team-key"]
        );
        let dbg = format!("{v:?}");
        assert!(!dbg.contains("sk-provider"), "{dbg}");
    }

    #[test]
    fn custom_header_and_format() {
        let id = identity(serde_json::json!({}));
        let v = Vault::new(
            &cfg(serde_json::json!({"env": "OPENAI_API_KEY", "header": "X-Api-Key", "format": "{key}"})),
            &id,
            &env,
        )
        .unwrap();
        assert_eq!(
            (v.header.as_str(), v.value()),
            ("x-api-key", "sk-provider-123")
        );
        assert!(v.remove.contains(&"x-api-key".to_string()));
    }

    #[test]
    fn errors_name_the_field_and_never_the_key() {
        let id = identity(serde_json::json!({}));
        let err = |v: serde_json::Value, env: &dyn Fn(&str) -> Option<String>| {
            Vault::new(&cfg(v), &id, env).unwrap_err()
        };
        let e = err(serde_json::json!({"env": "MISSING"}), &env);
        assert_eq!(e.field, "upstream_key.env");
        assert!(e.message.contains("MISSING"), "{e}");
        let e = err(serde_json::json!({"env": "A B"}), &env);
        assert_eq!(e.field, "upstream_key.env");
        let e = err(
            serde_json::json!({"env": "OPENAI_API_KEY", "format": "Bearer"}),
            &env,
        );
        assert_eq!(e.field, "upstream_key.format");
        let e = err(
            serde_json::json!({"env": "OPENAI_API_KEY", "header": ":authority"}),
            &env,
        );
        assert_eq!(e.field, "upstream_key.header");
        let e = err(
            serde_json::json!({"env": "OPENAI_API_KEY", "header": "Host"}),
            &env,
        );
        assert_eq!(e.field, "upstream_key.header");
        let crlf = |_: &str| Some("sk-1\r\nx-evil: 1".to_string());
        let e = err(serde_json::json!({"env": "K"}), &crlf);
        assert_eq!(e.field, "upstream_key.env");
        assert!(!e.to_string().contains("sk-1"), "{e}");
        let e = err(
            serde_json::json!({"env": "OPENAI_API_KEY", "remove_headers": ["ok", ""]}),
            &env,
        );
        assert_eq!(e.field, "upstream_key.remove_headers[1]");
    }
}

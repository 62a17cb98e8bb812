//! The compiled plugin: a validated configuration plus the engines built from it.
//! Built once per `on_configure`; everything per request borrows it.

use crate::config::{Config, ConfigError};
use crate::identity::Identity;
use crate::inspect::Inspector;
use crate::limits::Limiter;

pub struct Plugin {
    pub config: Config,
    pub inspector: Inspector,
    pub identity: Identity,
    pub limiter: Limiter,
}

impl Plugin {
    /// Parses, validates and compiles a plugin configuration. Every error names its field.
    pub fn from_json(bytes: &[u8]) -> Result<Plugin, ConfigError> {
        let config = Config::parse(bytes)?;
        let inspector = Inspector::new(&config.inspection)?;
        let identity = Identity::new(&config.identity)?;
        let limiter = Limiter::new(&config.limits)?;
        Ok(Plugin {
            config,
            inspector,
            identity,
            limiter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_compile() {
        assert!(Plugin::from_json(b"{}").is_ok());
    }

    #[test]
    fn bad_regex_names_the_nested_field() {
        let e = Plugin::from_json(
            br#"{"inspection": {"custom_rules": [{"id": "X-1", "pattern": "(unclosed"}]}}"#,
        )
        .err()
        .unwrap();
        assert!(e.field.starts_with("inspection.custom_rules[0]"), "{e}");
    }

    #[test]
    fn limits_errors_name_the_field() {
        let e = Plugin::from_json(br#"{"limits": {"default": {"requests_per_minute": "lots"}}}"#)
            .err()
            .unwrap();
        assert!(e.field.starts_with("limits.default"), "{e}");
        let e = Plugin::from_json(br#"{"limits": {"default": {"cost_per_day": 5}}}"#)
            .err()
            .unwrap();
        assert!(e.field.starts_with("limits"), "{e}");
    }

    #[test]
    fn unknown_nested_field_names_its_path() {
        let e = Plugin::from_json(br#"{"inspection": {"treshold": 10}}"#)
            .err()
            .unwrap();
        assert!(e.to_string().contains("treshold"), "{e}");
        assert!(e.field.starts_with("inspection"), "{e}");
    }
}

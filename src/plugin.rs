//! The compiled plugin: a validated configuration plus the engines built from it.
//! Built once per `on_configure`; everything per request borrows it.

use crate::config::{Config, ConfigError};
use crate::inspect::Inspector;

pub struct Plugin {
    pub config: Config,
    pub inspector: Inspector,
}

impl Plugin {
    /// Parses, validates and compiles a plugin configuration. Every error names its field.
    pub fn from_json(bytes: &[u8]) -> Result<Plugin, ConfigError> {
        let config = Config::parse(bytes)?;
        let inspector = Inspector::new(&config.inspection)?;
        Ok(Plugin { config, inspector })
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
    fn unknown_nested_field_names_its_path() {
        let e = Plugin::from_json(br#"{"inspection": {"treshold": 10}}"#)
            .err()
            .unwrap();
        assert!(e.to_string().contains("treshold"), "{e}");
        assert!(e.field.starts_with("inspection"), "{e}");
    }
}

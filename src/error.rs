//! Configuration errors and the validators more than one section shares. A leaf: it imports
//! nothing from the crate, so every section can use it without pointing back up at `config`.

use std::fmt;

/// A configuration error: the JSON path of the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() || self.field == "." {
            write!(f, "invalid configuration: {}", self.message)
        } else {
            write!(
                f,
                "invalid configuration: field `{}`: {}",
                self.field, self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

/// A hashed consumer id as configured (32 hex digits, or the full 64-digit SHA-256; case and
/// surrounding space ignored), reduced to the 32 lower-case digits the filter compares.
/// `what` says what the hash is of, for the message.
pub(crate) fn hex_id(value: &str, field: &str, what: &str) -> Result<String, ConfigError> {
    let id = value.trim().to_ascii_lowercase();
    if !(id.len() == 32 || id.len() == 64) || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConfigError::new(
            field,
            format!("must be 32 or 64 hex digits ({what})"),
        ));
    }
    Ok(id[..32].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_field_unless_there_is_none() {
        assert_eq!(
            ConfigError::new("a.b[0]", "bad").to_string(),
            "invalid configuration: field `a.b[0]`: bad"
        );
        assert_eq!(
            ConfigError::new("", "bad").to_string(),
            "invalid configuration: bad"
        );
        assert_eq!(
            ConfigError::new(".", "bad").to_string(),
            "invalid configuration: bad"
        );
    }

    #[test]
    fn hex_ids_are_normalised_to_32_digits() {
        let full = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
        assert_eq!(
            hex_id(&format!("  {full} "), "f", "x").unwrap(),
            "abcdef0123456789abcdef0123456789"
        );
        assert_eq!(
            hex_id(&full[..32], "f", "x").unwrap(),
            "abcdef0123456789abcdef0123456789"
        );
        for bad in [
            "",
            "abc",
            &full[..33],
            &full[..63],
            &format!("{}g", &full[..31]),
        ] {
            let e = hex_id(bad, "a.id", "hash of it").unwrap_err();
            assert_eq!(e.field, "a.id");
            assert_eq!(e.message, "must be 32 or 64 hex digits (hash of it)");
        }
    }
}

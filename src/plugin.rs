//! The compiled plugin: a validated configuration plus the engines built from it.
//! Built once per `on_configure`; everything per request borrows it.

use crate::access::Access;
use crate::config::Config;
use crate::error::ConfigError;
use crate::identity::Identity;
use crate::inspect::Inspector;
use crate::limits::Limiter;
use crate::vault::Vault;

pub struct Plugin {
    pub config: Config,
    pub inspector: Inspector,
    pub identity: Identity,
    pub limiter: Limiter,
    pub access: Access,
    /// Upstream key vaulting, when `upstream_key` is configured.
    pub vault: Option<Vault>,
    /// The audit event's keyed prompt hash (key derived from `identity.salt` once).
    pub prompt_hasher: crate::audit::PromptHasher,
    /// The output guard, when `response_guard` is configured (docs/output-guard.md).
    pub guard: Option<crate::guard::Guard>,
}

impl Plugin {
    /// Parses, validates and compiles a plugin configuration. Every error names its field.
    /// The provider key of `upstream_key` is read from the process (VM) environment.
    pub fn from_json(bytes: &[u8]) -> Result<Plugin, ConfigError> {
        Plugin::from_json_with_env(bytes, &|name| std::env::var(name).ok())
    }

    /// [`from_json`](Self::from_json) with the environment given as a lookup (for tests).
    pub fn from_json_with_env(
        bytes: &[u8],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Plugin, ConfigError> {
        let config = Config::parse(bytes)?;
        let inspector = Inspector::new(&config.inspection)?;
        let identity = Identity::new(&config.identity)?;
        let limiter = Limiter::new(&config.limits)?;
        let access = Access::new(
            &config.access,
            &config.contract,
            &config.inspection,
            &identity,
        )?;
        let vault = match &config.upstream_key {
            Some(v) => Some(Vault::new(v, &identity, env)?),
            None => None,
        };
        let prompt_hasher = crate::audit::PromptHasher::new(&config.identity.salt);
        let guard = match &config.response_guard {
            Some(g) => Some(crate::guard::Guard::new(g)?),
            None => None,
        };
        Ok(Plugin {
            config,
            inspector,
            identity,
            limiter,
            access,
            vault,
            prompt_hasher,
            guard,
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
    fn access_contract_and_vault_errors_name_the_field() {
        let env = |n: &str| (n == "K").then(|| "sk-provider".to_string());
        let e = Plugin::from_json_with_env(br#"{"contract": {"max_tokens": "lots"}}"#, &env)
            .err()
            .unwrap();
        assert_eq!(e.field, "contract.max_tokens");
        let e = Plugin::from_json_with_env(
            br#"{"access": {"consumers": [{"id": "a", "modles": []}]}}"#,
            &env,
        )
        .err()
        .unwrap();
        assert_eq!(e.field, "access.consumers[0].modles");
        let e = Plugin::from_json_with_env(br#"{"upstream_key": {"env": "NOPE"}}"#, &env)
            .err()
            .unwrap();
        assert_eq!(e.field, "upstream_key.env");
        let e = Plugin::from_json_with_env(br#"{"upstream_key": {}}"#, &env)
            .err()
            .unwrap();
        assert!(e.message.contains("missing field `env`"), "{e}");
        let p = Plugin::from_json_with_env(br#"{"upstream_key": {"env": "K"}}"#, &env).unwrap();
        assert_eq!(p.vault.unwrap().value(), "Bearer sk-provider");
        let p = Plugin::from_json_with_env(b"{}", &env).unwrap();
        assert!(p.vault.is_none());
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

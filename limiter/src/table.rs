//! The limits the service enforces, generated from the promptgate configuration (one source of
//! truth): one entry per (rule, kind) that is on. Rule names and kind names are the ones the filter
//! sends in its descriptors (`promptgate_rule`, `promptgate_limit`), see
//! docs/distributed-limits.md.

use promptgate::config::Config;
use promptgate::limits::config::{LimitSet, LimitValue};
use std::collections::BTreeMap;

/// `RateLimitResponse.RateLimit.Unit` values (envoy.service.ratelimit.v3).
pub mod unit {
    pub const SECOND: i32 = 1;
    pub const MINUTE: i32 = 2;
    pub const HOUR: i32 = 3;
    pub const DAY: i32 = 4;
    pub const MONTH: i32 = 5;
}

/// What a limit counts (decides how the configured amount becomes an integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    Requests,
    Tokens,
    /// Micro-units of `limits.pricing.currency`.
    CostMicros,
}

/// One per-consumer kind: its name (the config field and descriptor value), what it counts, its
/// window in seconds and its unit.
pub struct Kind {
    pub name: &'static str,
    pub counts: Counts,
    pub seconds: u64,
    pub unit: i32,
    field: fn(&LimitSet) -> Option<LimitValue>,
}

const DAY: u64 = 86_400;
/// limitador windows are fixed lengths in seconds; a calendar month is taken as 30 days.
pub const MONTH_SECS: u64 = 30 * DAY;

/// Every windowed per-consumer kind, in the filter's table order (src/limits/kinds.rs).
pub const KINDS: [Kind; 8] = [
    Kind {
        name: "requests_per_second",
        counts: Counts::Requests,
        seconds: 1,
        unit: unit::SECOND,
        field: |s| s.requests_per_second,
    },
    Kind {
        name: "requests_per_minute",
        counts: Counts::Requests,
        seconds: 60,
        unit: unit::MINUTE,
        field: |s| s.requests_per_minute,
    },
    Kind {
        name: "requests_per_hour",
        counts: Counts::Requests,
        seconds: 3600,
        unit: unit::HOUR,
        field: |s| s.requests_per_hour,
    },
    Kind {
        name: "requests_per_day",
        counts: Counts::Requests,
        seconds: DAY,
        unit: unit::DAY,
        field: |s| s.requests_per_day,
    },
    Kind {
        name: "tokens_per_minute",
        counts: Counts::Tokens,
        seconds: 60,
        unit: unit::MINUTE,
        field: |s| s.tokens_per_minute,
    },
    Kind {
        name: "tokens_per_day",
        counts: Counts::Tokens,
        seconds: DAY,
        unit: unit::DAY,
        field: |s| s.tokens_per_day,
    },
    Kind {
        name: "cost_per_day",
        counts: Counts::CostMicros,
        seconds: DAY,
        unit: unit::DAY,
        field: |s| s.cost_per_day,
    },
    Kind {
        name: "cost_per_month",
        counts: Counts::CostMicros,
        seconds: MONTH_SECS,
        unit: unit::MONTH,
        field: |s| s.cost_per_month,
    },
];

/// The global budget's kind name (the filter's `LimitKind::GlobalCostPerDay.name()`).
pub const GLOBAL_KIND: &str = "global_budget";
/// The rule name of the global budget.
pub const GLOBAL_RULE: &str = "global";

/// One limit the service enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitDef {
    pub rule: String,
    pub kind: &'static str,
    /// Requests, tokens or micro-units per window.
    pub max: u64,
    pub seconds: u64,
    pub unit: i32,
    /// Counted per `consumer` entry (false only for the global budget).
    pub per_consumer: bool,
}

/// Every limit, by (rule, kind).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub domain: String,
    pub limits: BTreeMap<(String, String), LimitDef>,
}

impl Table {
    pub fn get(&self, rule: &str, kind: &str) -> Option<&LimitDef> {
        self.limits.get(&(rule.to_string(), kind.to_string()))
    }
}

/// Builds the table from a whole promptgate configuration file. The file is first validated by
/// promptgate itself (`Plugin::from_json_with_env`, as the filter does at load), so a config the filter
/// rejects is rejected here with the same message naming the field. `domain`: the `--domain`
/// flag; else `limits.store.domain`; else "promptgate".
pub fn from_config(bytes: &[u8], domain: Option<&str>) -> Result<Table, String> {
    // The provider key of `upstream_key` is the filter's business, not the limiter's: any value
    // lets the rest of the file be validated.
    promptgate::plugin::Plugin::from_json_with_env(bytes, &|_| Some("unused".into()))
        .map_err(|e| format!("config: {e}"))?;
    let config = Config::parse(bytes).map_err(|e| format!("config: {e}"))?;
    let raw: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(bytes).map_err(|e| format!("config: {e}"))?
    };
    let from_file = raw
        .pointer("/limits/store/domain")
        .and_then(|d| d.as_str())
        .map(str::to_string);
    let domain = domain
        .map(str::to_string)
        .or(from_file)
        .unwrap_or_else(|| "promptgate".to_string());
    if domain.is_empty() {
        return Err("domain: must not be empty".into());
    }
    let l = &config.limits;
    let mut rules: Vec<(String, LimitSet)> = vec![("default".into(), l.default.clone())];
    let inherit = |s: &Option<LimitSet>| match s {
        Some(s) => l.default.merged(s),
        None => l.default.clone(),
    };
    rules.push(("anonymous".into(), inherit(&l.anonymous)));
    rules.push(("overflow".into(), inherit(&l.overflow)));
    for (i, o) in l.overrides.iter().enumerate() {
        rules.push((format!("override:{i}"), l.default.merged(&o.limits)));
    }
    let mut table = Table {
        domain,
        limits: BTreeMap::new(),
    };
    for (rule, set) in rules {
        for k in &KINDS {
            let Some(LimitValue::On { limit, .. }) = (k.field)(&set) else {
                continue;
            };
            let max = amount(limit, k.counts);
            table.limits.insert(
                (rule.clone(), k.name.to_string()),
                LimitDef {
                    rule: rule.clone(),
                    kind: k.name,
                    max,
                    seconds: k.seconds,
                    unit: k.unit,
                    per_consumer: true,
                },
            );
        }
    }
    if let Some(v) = l.global_budget.cost_per_day {
        table.limits.insert(
            (GLOBAL_RULE.to_string(), GLOBAL_KIND.to_string()),
            LimitDef {
                rule: GLOBAL_RULE.into(),
                kind: GLOBAL_KIND,
                max: amount(v, Counts::CostMicros),
                seconds: DAY,
                unit: unit::DAY,
                per_consumer: false,
            },
        );
    }
    Ok(table)
}

/// The configured amount as the integer the filter counts in (promptgate validated it already:
/// whole numbers for requests and tokens; money rounded to micro-units as
/// `limits::config::money_micros` does).
fn amount(v: f64, counts: Counts) -> u64 {
    match counts {
        Counts::CostMicros => (v * 1_000_000.0).round() as u64,
        _ => v as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_merge_over_default_like_the_filter() {
        let t = from_config(
            br#"{"limits": {
                "default": {"requests_per_minute": 100, "tokens_per_day": 5000, "cost_per_month": 2.5},
                "anonymous": {"requests_per_minute": 10},
                "overrides": [
                    {"match": {"name": "vip"}, "limits": {"requests_per_minute": 1000, "tokens_per_day": "off"}},
                    {"match": {"name_prefix": "batch-"}, "limits": {"requests_per_second": {"limit": 3, "window": "fixed"}}}
                ],
                "global_budget": {"cost_per_day": 12.345678},
                "pricing": {"default": {"input": 1, "output": 2}}
            }}"#,
            None,
        )
        .unwrap();
        assert_eq!(t.domain, "promptgate");
        let max = |r: &str, k: &str| t.get(r, k).map(|d| d.max);
        assert_eq!(max("default", "requests_per_minute"), Some(100));
        assert_eq!(max("default", "tokens_per_day"), Some(5000));
        assert_eq!(max("default", "cost_per_month"), Some(2_500_000));
        assert_eq!(max("anonymous", "requests_per_minute"), Some(10));
        assert_eq!(max("anonymous", "tokens_per_day"), Some(5000));
        assert_eq!(max("overflow", "requests_per_minute"), Some(100));
        assert_eq!(max("override:0", "requests_per_minute"), Some(1000));
        assert_eq!(
            max("override:0", "tokens_per_day"),
            None,
            "\"off\" removes it"
        );
        assert_eq!(max("override:1", "requests_per_second"), Some(3));
        assert_eq!(max("override:1", "requests_per_minute"), Some(100));
        assert_eq!(max("global", "global_budget"), Some(12_345_678));
        assert!(!t.get("global", "global_budget").unwrap().per_consumer);
        assert_eq!(
            t.get("default", "cost_per_month").unwrap().seconds,
            MONTH_SECS
        );
        assert_eq!(
            t.get("default", "cost_per_month").unwrap().unit,
            unit::MONTH
        );
        // 3 defaults x 3 inheriting rules + override:0 (rpm, cost) + override:1 (rps + 3) + global.
        assert_eq!(t.limits.len(), 3 * 3 + 2 + 4 + 1);
    }

    #[test]
    fn a_config_the_filter_rejects_is_rejected_with_the_field() {
        let e = from_config(
            br#"{"limits": {"default": {"requests_per_minute": 1.5}}}"#,
            None,
        )
        .unwrap_err();
        assert!(e.contains("limits.default.requests_per_minute"), "{e}");
        let e = from_config(br#"{"limits": {"defaults": {}}}"#, None).unwrap_err();
        assert!(e.contains("limits"), "{e}");
    }

    #[test]
    fn domain_from_flag_or_default() {
        let t = from_config(b"{}", Some("ai")).unwrap();
        assert_eq!(t.domain, "ai");
        assert!(t.limits.is_empty());
        assert!(from_config(b"{}", Some("")).is_err());
    }

    /// The kind table here is the filter's: every name is a `LimitSet` field and sets exactly the
    /// field this table reads.
    #[test]
    fn kinds_are_the_limit_set_fields() {
        for k in &KINDS {
            let set: LimitSet = serde_json::from_str(&format!(r#"{{"{}": 7}}"#, k.name)).unwrap();
            assert_eq!(
                (k.field)(&set),
                Some(LimitValue::On {
                    limit: 7.0,
                    window: None
                }),
                "{}",
                k.name
            );
            for other in &KINDS {
                if other.name != k.name {
                    assert_eq!((other.field)(&set), None);
                }
            }
        }
    }
}

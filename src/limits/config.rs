//! `limits` configuration: what the operator writes, and its validation into compiled rules.
//!
//! `{}` means no limits at all: the limiter never touches shared data and allows everything.

use super::window::Period;
use crate::config::ConfigError;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// How a limit's window moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// Weighted two-window approximation: `current + previous × (unelapsed fraction of current)`.
    #[default]
    Sliding,
    /// Counter reset at each window boundary (UTC-aligned: second, minute, hour, day, month).
    Fixed,
}

/// One limit in the configuration: a number, `"off"`, or `{"limit": number, "window": ...}`.
///
/// Requests and tokens are whole numbers; costs are amounts of `pricing.currency` (decimals allowed,
/// stored as integer micro-units). `0` is a real limit (nothing allowed); `"off"` removes a limit
/// inherited from `default` in an override.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LimitValue {
    /// No limit (used in overrides to cancel a default).
    Off,
    /// A limit.
    On {
        /// The amount per window.
        limit: f64,
        /// Window kind; `None` means sliding.
        window: Option<WindowKind>,
    },
}

impl<'de> Deserialize<'de> for LimitValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            limit: f64,
            #[serde(default)]
            window: Option<WindowKind>,
        }
        impl<'de> Visitor<'de> for V {
            type Value = LimitValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    r#"a non-negative number, "off", or {"limit": n, "window": "sliding"|"fixed"}"#,
                )
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LimitValue, E> {
                Ok(LimitValue::On {
                    limit: v as f64,
                    window: None,
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LimitValue, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LimitValue, E> {
                Ok(LimitValue::On {
                    limit: v,
                    window: None,
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LimitValue, E> {
                if v == "off" {
                    Ok(LimitValue::Off)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LimitValue, A::Error> {
                let f = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(LimitValue::On {
                    limit: f.limit,
                    window: f.window,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Which tokens a token limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenCount {
    /// Prompt (input) tokens, cached ones included.
    Prompt,
    /// Completion (output) tokens, reasoning included.
    Completion,
    /// Prompt plus completion.
    #[default]
    Total,
}

/// A set of per-consumer limits. Every field is optional; absent means "inherit" in an override
/// and "no limit" in `default`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSet {
    /// Requests per second.
    pub requests_per_second: Option<LimitValue>,
    /// Requests per minute.
    pub requests_per_minute: Option<LimitValue>,
    /// Requests per hour.
    pub requests_per_hour: Option<LimitValue>,
    /// Requests per day (UTC days).
    pub requests_per_day: Option<LimitValue>,
    /// Tokens per minute (see `token_count`).
    pub tokens_per_minute: Option<LimitValue>,
    /// Tokens per day (see `token_count`).
    pub tokens_per_day: Option<LimitValue>,
    /// Which tokens the token limits count: `prompt`, `completion` or `total`. Default `total`.
    pub token_count: Option<TokenCount>,
    /// Spend per UTC day, in `pricing.currency`.
    pub cost_per_day: Option<LimitValue>,
    /// Spend per UTC calendar month, in `pricing.currency`.
    pub cost_per_month: Option<LimitValue>,
    /// Requests in flight at once (a plain number; no window).
    pub concurrent_requests: Option<LimitValue>,
}

impl LimitSet {
    /// `over`'s fields where present, `self`'s otherwise.
    pub fn merged(&self, over: &LimitSet) -> LimitSet {
        LimitSet {
            requests_per_second: over.requests_per_second.or(self.requests_per_second),
            requests_per_minute: over.requests_per_minute.or(self.requests_per_minute),
            requests_per_hour: over.requests_per_hour.or(self.requests_per_hour),
            requests_per_day: over.requests_per_day.or(self.requests_per_day),
            tokens_per_minute: over.tokens_per_minute.or(self.tokens_per_minute),
            tokens_per_day: over.tokens_per_day.or(self.tokens_per_day),
            token_count: over.token_count.or(self.token_count),
            cost_per_day: over.cost_per_day.or(self.cost_per_day),
            cost_per_month: over.cost_per_month.or(self.cost_per_month),
            concurrent_requests: over.concurrent_requests.or(self.concurrent_requests),
        }
    }
}

/// Which consumers an override applies to: exactly one field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsumerMatch {
    /// Exact hashed consumer id (32 hex digits, or the full 64-digit SHA-256). Works for every
    /// source, secret or not.
    pub id: Option<String>,
    /// Exact consumer name (a non-secret source's value, or a label from `identity.consumers`).
    pub name: Option<String>,
    /// Name prefix.
    pub name_prefix: Option<String>,
    /// Name glob: `*` any run of characters, `?` one character.
    pub name_glob: Option<String>,
}

/// Limits for the consumers an override matches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Override {
    /// The consumers this applies to.
    #[serde(rename = "match")]
    pub matches: ConsumerMatch,
    /// Limits merged over `default` (field by field; `"off"` removes one).
    pub limits: LimitSet,
}

/// Price of one model, in `pricing.currency` per million tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// Price per million input (prompt) tokens.
    pub input: f64,
    /// Price per million output (completion) tokens.
    pub output: f64,
    /// Price per million cached input tokens; default: `input`.
    #[serde(default)]
    pub cached_input: Option<f64>,
}

/// Price table for cost limits and the global budget.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pricing {
    /// Currency label (informational; amounts are kept in integer micro-units of it). Default `USD`.
    pub currency: String,
    /// Prices by model name. A key ending in `*` is a prefix (`"gpt-4o*"`); exact keys win, then the
    /// longest prefix. The response's `model` is priced when known, else the request's.
    pub models: BTreeMap<String, ModelPrice>,
    /// Price for models not in `models`. Default: none (unknown models cost 0).
    pub default: Option<ModelPrice>,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            currency: "USD".into(),
            models: BTreeMap::new(),
            default: None,
        }
    }
}

/// The global circuit breaker.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalBudget {
    /// Spend per UTC day across all consumers, in `pricing.currency`. Once reached, every request
    /// is rejected (`budget_exceeded`) until 00:00 UTC. Default: none.
    pub cost_per_day: Option<f64>,
}

/// How reservations are estimated before the response is known.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Estimate {
    /// Prompt tokens are estimated as `prompt_bytes / bytes_per_token` (rounded up). Default 4.
    pub bytes_per_token: u64,
    /// Completion tokens reserved when the request has no `max_tokens`. Default 1024.
    pub default_completion_tokens: u64,
}

impl Default for Estimate {
    fn default() -> Self {
        Estimate {
            bytes_per_token: 4,
            default_completion_tokens: 1024,
        }
    }
}

/// What to do with a new consumer when `max_consumers` are already tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Charge it to the shared `overflow` bucket (limits from `overflow`, else `default`).
    #[default]
    Overflow,
    /// Reject it with 429 `too_many_consumers`.
    Deny,
}

/// What to do when shared data fails or compare-and-swap keeps losing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// Let the request through (marked `degraded`).
    #[default]
    Allow,
    /// Reject it with 503 `limiter_unavailable`.
    Deny,
}

/// The `limits` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Limits for every consumer without a matching override. Default: none.
    pub default: LimitSet,
    /// Limits for requests without identity, merged over `default`. Default: same as `default`.
    pub anonymous: Option<LimitSet>,
    /// Limits for the shared bucket of consumers beyond `max_consumers` (`when_full: overflow`),
    /// merged over `default`. Default: same as `default`.
    pub overflow: Option<LimitSet>,
    /// Per-consumer overrides; the first match wins.
    pub overrides: Vec<Override>,
    /// Global daily budget (circuit breaker).
    pub global_budget: GlobalBudget,
    /// Model price table.
    pub pricing: Pricing,
    /// Reservation estimates.
    pub estimate: Estimate,
    /// Most consumers tracked in shared data (slots). Default 10000.
    pub max_consumers: u32,
    /// Answer for a new consumer when all its candidate slots are taken. Default `overflow`.
    pub when_full: WhenFull,
    /// Answer when shared data is unavailable or CAS retries run out. Default `allow`.
    pub failure_mode: FailureMode,
    /// Compare-and-swap attempts per operation before giving up. Default 16.
    pub cas_retries: u32,
    /// Prefix of every shared-data key. Change it to start from clean state. Default
    /// `promptgate/limits/v1/`.
    pub key_prefix: String,
    /// An in-flight count untouched for this long is presumed leaked (e.g. a worker died between
    /// acquire and release) and reset to 0. Default 900.
    pub concurrency_lease_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            default: LimitSet::default(),
            anonymous: None,
            overflow: None,
            overrides: Vec::new(),
            global_budget: GlobalBudget::default(),
            pricing: Pricing::default(),
            estimate: Estimate::default(),
            max_consumers: 10_000,
            when_full: WhenFull::Overflow,
            failure_mode: FailureMode::Allow,
            cas_retries: 16,
            key_prefix: "promptgate/limits/v1/".into(),
            concurrency_lease_secs: 900,
        }
    }
}

impl LimitsConfig {
    /// Validates the section; errors name the field under `limits.`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        super::Limiter::new(self).map(|_| ())
    }
}

// ---------------------------------------------------------------------------------------------
// Compiled form.

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metric {
    Requests,
    Tokens,
    Cost,
}

/// Every windowed limit, with a stable code used in the stored encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// `requests_per_second`.
    RequestsPerSecond,
    /// `requests_per_minute`.
    RequestsPerMinute,
    /// `requests_per_hour`.
    RequestsPerHour,
    /// `requests_per_day`.
    RequestsPerDay,
    /// `tokens_per_minute`.
    TokensPerMinute,
    /// `tokens_per_day`.
    TokensPerDay,
    /// `cost_per_day`.
    CostPerDay,
    /// `cost_per_month`.
    CostPerMonth,
    /// The global budget (only in the global key).
    GlobalCostPerDay,
}

impl LimitKind {
    pub(crate) const PER_CONSUMER: [LimitKind; 8] = [
        LimitKind::RequestsPerSecond,
        LimitKind::RequestsPerMinute,
        LimitKind::RequestsPerHour,
        LimitKind::RequestsPerDay,
        LimitKind::TokensPerMinute,
        LimitKind::TokensPerDay,
        LimitKind::CostPerDay,
        LimitKind::CostPerMonth,
    ];

    /// Config field name, also the name reported in denials.
    pub fn name(self) -> &'static str {
        match self {
            LimitKind::RequestsPerSecond => "requests_per_second",
            LimitKind::RequestsPerMinute => "requests_per_minute",
            LimitKind::RequestsPerHour => "requests_per_hour",
            LimitKind::RequestsPerDay => "requests_per_day",
            LimitKind::TokensPerMinute => "tokens_per_minute",
            LimitKind::TokensPerDay => "tokens_per_day",
            LimitKind::CostPerDay => "cost_per_day",
            LimitKind::CostPerMonth => "cost_per_month",
            LimitKind::GlobalCostPerDay => "global_budget",
        }
    }

    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_code(c: u8) -> Option<LimitKind> {
        LimitKind::PER_CONSUMER
            .iter()
            .chain(std::iter::once(&LimitKind::GlobalCostPerDay))
            .copied()
            .find(|k| k.code() == c)
    }

    pub(crate) fn metric(self) -> Metric {
        match self {
            LimitKind::RequestsPerSecond
            | LimitKind::RequestsPerMinute
            | LimitKind::RequestsPerHour
            | LimitKind::RequestsPerDay => Metric::Requests,
            LimitKind::TokensPerMinute | LimitKind::TokensPerDay => Metric::Tokens,
            _ => Metric::Cost,
        }
    }

    pub(crate) fn period(self) -> Period {
        match self {
            LimitKind::RequestsPerSecond => Period::Second,
            LimitKind::RequestsPerMinute | LimitKind::TokensPerMinute => Period::Minute,
            LimitKind::RequestsPerHour => Period::Hour,
            LimitKind::RequestsPerDay
            | LimitKind::TokensPerDay
            | LimitKind::CostPerDay
            | LimitKind::GlobalCostPerDay => Period::Day,
            LimitKind::CostPerMonth => Period::Month,
        }
    }

    fn field(self, s: &LimitSet) -> Option<LimitValue> {
        match self {
            LimitKind::RequestsPerSecond => s.requests_per_second,
            LimitKind::RequestsPerMinute => s.requests_per_minute,
            LimitKind::RequestsPerHour => s.requests_per_hour,
            LimitKind::RequestsPerDay => s.requests_per_day,
            LimitKind::TokensPerMinute => s.tokens_per_minute,
            LimitKind::TokensPerDay => s.tokens_per_day,
            LimitKind::CostPerDay => s.cost_per_day,
            LimitKind::CostPerMonth => s.cost_per_month,
            LimitKind::GlobalCostPerDay => None,
        }
    }
}

/// One active windowed limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    pub kind: LimitKind,
    /// Requests, tokens, or micro-units.
    pub amount: u64,
    pub window: WindowKind,
}

/// A compiled limit set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rules {
    pub limits: Vec<Limit>,
    pub token_count: TokenCount,
    pub concurrency: Option<u64>,
}

impl Rules {
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty() && self.concurrency.is_none()
    }

    pub fn compile(set: &LimitSet, path: &str) -> Result<Rules, ConfigError> {
        let mut rules = Rules {
            token_count: set.token_count.unwrap_or_default(),
            ..Rules::default()
        };
        for kind in LimitKind::PER_CONSUMER {
            let Some(LimitValue::On { limit, window }) = kind.field(set) else {
                continue;
            };
            let field = format!("{path}.{}", kind.name());
            let amount = match kind.metric() {
                Metric::Cost => money_micros(limit, &field)?,
                _ => whole(limit, &field)?,
            };
            rules.limits.push(Limit {
                kind,
                amount,
                window: window.unwrap_or_default(),
            });
        }
        match set.concurrent_requests {
            Some(LimitValue::On { limit, window }) => {
                let field = format!("{path}.concurrent_requests");
                if window.is_some() {
                    return Err(ConfigError::new(
                        field,
                        "has no window; give a plain number",
                    ));
                }
                let n = whole(limit, &field)?;
                if n > u32::MAX as u64 {
                    return Err(ConfigError::new(field, "is too large"));
                }
                rules.concurrency = Some(n);
            }
            Some(LimitValue::Off) | None => {}
        }
        Ok(rules)
    }
}

/// Largest whole-number limit (exactly representable in the JSON number).
const MAX_WHOLE: f64 = 9_007_199_254_740_992.0;
/// Largest amount of money accepted anywhere (10^12 currency units).
const MAX_MONEY: f64 = 1e12;

fn whole(v: f64, field: &str) -> Result<u64, ConfigError> {
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > MAX_WHOLE {
        return Err(ConfigError::new(
            field,
            "must be a non-negative whole number",
        ));
    }
    Ok(v as u64)
}

/// Currency units → micro-units, rounded to the nearest micro-unit.
pub(crate) fn money_micros(v: f64, field: &str) -> Result<u64, ConfigError> {
    if !v.is_finite() || !(0.0..=MAX_MONEY).contains(&v) {
        return Err(ConfigError::new(
            field,
            "must be a non-negative amount of at most 1e12",
        ));
    }
    Ok((v * 1_000_000.0).round() as u64)
}

/// A compiled override matcher.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    Id(String),
    Name(String),
    Prefix(String),
    Glob(String),
}

impl Matcher {
    pub fn compile(m: &ConsumerMatch, path: &str) -> Result<Matcher, ConfigError> {
        let given = [&m.id, &m.name, &m.name_prefix, &m.name_glob]
            .iter()
            .filter(|f| f.is_some())
            .count();
        if given != 1 {
            return Err(ConfigError::new(
                path,
                "exactly one of `id`, `name`, `name_prefix`, `name_glob` is required",
            ));
        }
        if let Some(id) = &m.id {
            let id = id.trim().to_ascii_lowercase();
            if !(id.len() == 32 || id.len() == 64) || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ConfigError::new(
                    format!("{path}.id"),
                    "must be 32 or 64 hex digits (hashed consumer id)",
                ));
            }
            return Ok(Matcher::Id(id[..32].to_string()));
        }
        let (field, v, make): (&str, &String, fn(String) -> Matcher) = if let Some(v) = &m.name {
            ("name", v, Matcher::Name)
        } else if let Some(v) = &m.name_prefix {
            ("name_prefix", v, Matcher::Prefix)
        } else {
            (
                "name_glob",
                m.name_glob.as_ref().expect("counted above"),
                Matcher::Glob,
            )
        };
        if v.is_empty() {
            return Err(ConfigError::new(
                format!("{path}.{field}"),
                "must not be empty",
            ));
        }
        Ok(make(v.clone()))
    }

    pub fn matches(&self, id: &str, name: Option<&str>) -> bool {
        match self {
            Matcher::Id(i) => i == id,
            Matcher::Name(n) => name == Some(n.as_str()),
            Matcher::Prefix(p) => name.is_some_and(|n| n.starts_with(p.as_str())),
            Matcher::Glob(g) => name.is_some_and(|n| glob(g.as_bytes(), n.as_bytes())),
        }
    }
}

/// `*` matches any run, `?` one byte. Iterative with single backtrack point: O(n·m) worst case.
pub(crate) fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

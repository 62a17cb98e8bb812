//! Denial-of-Wallet limits: per-consumer request/token/cost/concurrency limits and a global daily
//! budget, kept in proxy-wasm shared data with compare-and-swap. Host-free: the glue passes a
//! [`SharedStore`] and the current time. Design: `docs/limits.md`.
//!
//! Per request:
//! 1. request headers (+ body for `model`, `max_tokens`, size): [`Limiter::check`] → [`Admission`];
//!    if denied, answer with [`Denial::status`] and the decision's headers; keep the
//!    [`Reservation`] in the HTTP context either way (a denied one holds nothing).
//! 2. response: feed the body to [`crate::usage`]; at end of stream [`Limiter::settle`] with the
//!    usage (or `None`).
//! 3. `on_log`/`on_done`: [`Limiter::settle`] with `None` (no-op if already settled) and
//!    [`Limiter::release`]. Both are idempotent per reservation.

pub mod config;
mod kinds;
pub mod pricing;
pub mod remote;
mod state;
pub mod store;
pub mod window;

#[cfg(test)]
mod tests;

pub use config::{
    FailureMode, LimitKind, LimitSet, LimitValue, LimitsConfig, RlsProtocol, StoreConfig,
    StoreType, TokenCount, WhenFull, WindowKind,
};
pub use remote::{Fault, Remote};
pub use store::{SharedStore, StoreError};

use crate::error::ConfigError;
use crate::identity::Consumer;
use crate::usage::Usage;
use config::{Limit, Matcher, Metric, Rules};
use pricing::PriceTable;
use state::{Bucket, Entry};
use window::{Period, WindowState};

/// Candidate slots probed for a consumer (linear probing from the id's hash).
pub const SLOT_PROBES: u32 = 8;

const GLOBAL_OWNER: &str = "global";
const OVERFLOW_OWNER: &str = "overflow";

/// What the limiter needs to know about a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// Requested `model`, if known.
    pub model: Option<&'a str>,
    /// Size of the prompt text in bytes (the prompt estimate is `prompt_bytes / bytes_per_token`):
    /// the extracted text the audit event's `prompt_bytes` and hash describe, or the body's size
    /// when it was forwarded unread (compressed).
    pub prompt_bytes: u64,
    /// `max_tokens` / `max_completion_tokens` / `max_output_tokens` of the request, if present.
    pub max_tokens: Option<u64>,
    /// The request cannot produce completion tokens (no body, e.g. `GET /v1/models`; embeddings):
    /// nothing is reserved for a completion (`default_completion_tokens` applies only to requests
    /// that can have one).
    pub no_completion: bool,
}

/// What kind of limit refused a request (`outcome::Refusal` turns it into the answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialKind {
    /// A per-consumer limit (429 `rate_limit_exceeded`).
    RateLimit,
    /// The global budget (429 `budget_exceeded`).
    BudgetExceeded,
    /// No slot for a new consumer (429 `too_many_consumers`).
    TooManyConsumers,
    /// Shared data failed and `failure_mode` is `deny` (503 `limiter_unavailable`).
    LimiterUnavailable,
    /// The rate-limit service (`store: rls`) failed and its `failure_mode` is `deny` (503
    /// `limiter_unavailable`).
    StoreUnavailable(Fault),
}

/// Why a request is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub kind: DenialKind,
    /// Which limit: a config field name (`requests_per_minute`, `concurrent_requests`, ...),
    /// `global_budget`, `max_consumers` or `shared_data`.
    pub limit: &'static str,
    /// Seconds until a retry can succeed (absent traffic from others); `None` if it never can
    /// (the request alone exceeds the limit) or it is unknown.
    pub retry_after_secs: Option<u64>,
}

/// The answer to [`Limiter::check`]: admitted or denied, and what was reserved.
#[derive(Debug)]
pub struct Admission {
    /// `None` if allowed.
    pub denial: Option<Denial>,
    /// Shared data failed and `failure_mode: allow` let the request through unlimited (or partly).
    pub degraded: bool,
    /// `store: rls`: the service failed this way and `failure_mode: allow` let the request in.
    pub store_fault: Option<Fault>,
    /// Response headers to add (on the 429 and, if wanted, on the upstream response):
    /// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, and `retry-after` on denials.
    pub headers: Vec<(&'static str, String)>,
    /// What was charged; pass to `settle`/`release`.
    pub reservation: Reservation,
}

impl Admission {
    /// Whether the request may proceed.
    pub fn is_allowed(&self) -> bool {
        self.denial.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum BucketRef {
    Anonymous,
    Overflow,
    Consumer(String),
}

/// What a request holds until it is settled and released. Not `Clone`: one per request.
#[derive(Debug, Default)]
pub struct Reservation {
    /// Bucket charged and the key it was found under.
    bucket: Option<(BucketRef, String)>,
    at_ms: u64,
    token_count: TokenCount,
    tokens: u64,
    cost_micros: u64,
    /// Token and cost limits that hold the reservation.
    kinds: Vec<LimitKind>,
    concurrency: bool,
    global: bool,
    request_model: Option<String>,
    settled: bool,
    released: bool,
    /// `store: rls`: the token, cost and global-budget descriptors the admission call charged,
    /// for a settlement call.
    remote: Vec<remote::Descriptor>,
}

impl Reservation {
    /// Tokens reserved (counted per the consumer's `token_count`).
    pub fn reserved_tokens(&self) -> u64 {
        self.tokens
    }
    /// Cost reserved, micro-units.
    pub fn reserved_cost_micros(&self) -> u64 {
        self.cost_micros
    }
    /// Whether a concurrency slot is held (until `release`).
    pub fn holds_concurrency(&self) -> bool {
        self.concurrency && !self.released
    }
    /// Whether `settle` has run.
    pub fn is_settled(&self) -> bool {
        self.settled
    }
}

/// The result of [`Limiter::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// No usage arrived: the reservation stands as the charge.
    pub estimated: bool,
    /// Tokens charged (per `token_count`).
    pub tokens: u64,
    /// Cost charged, micro-units.
    pub cost_micros: u64,
    /// `tokens − reserved`.
    pub token_delta: i64,
    /// `cost − reserved`.
    pub cost_delta: i64,
    /// A store failure while applying the adjustment (the adjustment is then lost).
    pub error: Option<StoreError>,
}

#[derive(Debug)]
enum Fail {
    Store(StoreError),
    Exhausted,
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// The compiled limits.
#[derive(Debug, Clone)]
pub struct Limiter {
    default: Rules,
    anonymous: Rules,
    overflow: Rules,
    overrides: Vec<(Matcher, Rules)>,
    global_budget: Option<u64>,
    prices: PriceTable,
    bytes_per_token: u64,
    default_completion: u64,
    max_consumers: u32,
    when_full: WhenFull,
    failure_mode: FailureMode,
    cas_retries: u32,
    prefix: String,
    lease_ms: u64,
    /// `store: rls`: the rate-limit service.
    remote: Option<Remote>,
    /// `store: rls`: the same limits with the windowed ones and the global budget left out:
    /// what stays in shared data (`concurrent_requests`).
    concurrency_only: Option<Box<Limiter>>,
}

struct Located {
    key: String,
    bucket: Bucket,
    cas: Option<u32>,
}

enum Found {
    Here(Located),
    Full,
}

impl Limiter {
    /// Validates and compiles the `limits` section. Errors name fields under `limits.`.
    pub fn new(c: &LimitsConfig) -> Result<Limiter, ConfigError> {
        let default = Rules::compile(&c.default, "limits.default")?;
        let merged = |set: &Option<LimitSet>, path: &str| -> Result<Rules, ConfigError> {
            match set {
                Some(s) => {
                    Rules::compile(s, path)?;
                    Rules::compile(&c.default.merged(s), path)
                }
                None => Ok(default.clone()),
            }
        };
        let anonymous = merged(&c.anonymous, "limits.anonymous")?;
        let overflow = merged(&c.overflow, "limits.overflow")?;
        let mut overrides = Vec::with_capacity(c.overrides.len());
        for (i, o) in c.overrides.iter().enumerate() {
            let path = format!("limits.overrides[{i}]");
            let m = Matcher::compile(&o.matches, &format!("{path}.match"))?;
            let lp = format!("{path}.limits");
            Rules::compile(&o.limits, &lp)?;
            overrides.push((m, Rules::compile(&c.default.merged(&o.limits), &lp)?));
        }
        let global_budget = match c.global_budget.cost_per_day {
            Some(v) => Some(config::money_micros(
                v,
                "limits.global_budget.cost_per_day",
            )?),
            None => None,
        };
        let prices = PriceTable::compile(&c.pricing)?;
        let uses_cost = global_budget.is_some()
            || [&default, &anonymous, &overflow]
                .into_iter()
                .chain(overrides.iter().map(|(_, r)| r))
                .any(|r| r.limits.iter().any(|l| l.kind.metric() == Metric::Cost));
        if uses_cost && prices.is_empty() {
            return Err(ConfigError::new(
                "limits.pricing",
                "cost limits and the global budget need prices: set `models` or `default`",
            ));
        }
        if c.max_consumers == 0 || c.max_consumers > 1_000_000 {
            return Err(ConfigError::new(
                "limits.max_consumers",
                "must be between 1 and 1000000",
            ));
        }
        if c.cas_retries == 0 || c.cas_retries > 1000 {
            return Err(ConfigError::new(
                "limits.cas_retries",
                "must be between 1 and 1000",
            ));
        }
        if c.key_prefix.is_empty() || c.key_prefix.len() > 128 {
            return Err(ConfigError::new(
                "limits.key_prefix",
                "must be 1 to 128 bytes",
            ));
        }
        if c.estimate.bytes_per_token == 0 {
            return Err(ConfigError::new(
                "limits.estimate.bytes_per_token",
                "must be greater than 0",
            ));
        }
        if c.concurrency_lease_secs == 0 {
            return Err(ConfigError::new(
                "limits.concurrency_lease_secs",
                "must be greater than 0",
            ));
        }
        let mut limiter = Limiter {
            default,
            anonymous,
            overflow,
            overrides,
            global_budget,
            prices,
            bytes_per_token: c.estimate.bytes_per_token,
            default_completion: c.estimate.default_completion_tokens,
            max_consumers: c.max_consumers,
            when_full: c.when_full,
            failure_mode: c.failure_mode,
            cas_retries: c.cas_retries,
            prefix: c.key_prefix.clone(),
            lease_ms: c.concurrency_lease_secs.saturating_mul(1000),
            remote: None,
            concurrency_only: None,
        };
        if let Some(remote) = Remote::compile(&c.store, c.failure_mode)? {
            let mut local = limiter.clone();
            for r in [
                &mut local.default,
                &mut local.anonymous,
                &mut local.overflow,
            ]
            .into_iter()
            .chain(local.overrides.iter_mut().map(|(_, r)| r))
            {
                r.limits.clear();
            }
            local.global_budget = None;
            limiter.concurrency_only = Some(Box::new(local));
            limiter.remote = Some(remote);
        }
        Ok(limiter)
    }

    /// Whether any limit or budget is configured (if not, `check` never touches shared data).
    pub fn is_active(&self) -> bool {
        self.global_budget.is_some()
            || !self.default.is_empty()
            || !self.anonymous.is_empty()
            || !self.overflow.is_empty()
            || self.overrides.iter().any(|(_, r)| !r.is_empty())
    }

    /// The rule a consumer's limits come from, named as the rate-limit service knows it:
    /// `anonymous`, `override:<index>` or `default`.
    fn rule_for(&self, c: &Consumer) -> (String, &Rules) {
        if c.is_anonymous() {
            return ("anonymous".into(), &self.anonymous);
        }
        match self
            .overrides
            .iter()
            .position(|(m, _)| m.matches(&c.id, c.name.as_deref()))
        {
            Some(i) => (format!("override:{i}"), &self.overrides[i].1),
            None => ("default".into(), &self.default),
        }
    }

    fn rules_for(&self, c: &Consumer) -> (BucketRef, &Rules) {
        if c.is_anonymous() {
            return (BucketRef::Anonymous, &self.anonymous);
        }
        let rules = self
            .overrides
            .iter()
            .find(|(m, _)| m.matches(&c.id, c.name.as_deref()))
            .map_or(&self.default, |(_, r)| r);
        (BucketRef::Consumer(c.id.clone()), rules)
    }

    /// The key of slot `i`.
    pub fn slot_key(&self, i: u32) -> String {
        let mut key = String::with_capacity(self.prefix.len() + 16);
        key.push_str(&self.prefix);
        key.push_str("slot/");
        key.push_str(&i.to_string());
        key
    }

    fn fixed_key(&self, name: &str) -> String {
        [self.prefix.as_str(), name].concat()
    }

    fn home_slot(&self, id: &str) -> u32 {
        let h = id
            .get(..8)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .unwrap_or_else(|| {
                id.bytes()
                    .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32))
            });
        h % self.max_consumers
    }

    /// Finds the bucket's key and current value. For a consumer: its own slot among the probed
    /// ones, else (if `claim`) the first empty or idle one, else `Full`.
    fn locate<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        b: &BucketRef,
        hint: Option<&str>,
        now: u64,
        claim: bool,
    ) -> Result<Found, StoreError> {
        let (owner, fixed) = match b {
            BucketRef::Anonymous => (crate::identity::ANONYMOUS_ID, Some("anonymous")),
            BucketRef::Overflow => (OVERFLOW_OWNER, Some("overflow")),
            BucketRef::Consumer(id) => (id.as_str(), None),
        };
        if let Some(name) = fixed {
            let key = self.fixed_key(name);
            return Ok(Found::Here(self.read_fixed(store, key, owner)?));
        }
        if let Some(key) = hint {
            if let Some((v, cas)) = store.get(key)? {
                if let Some(bucket) = Bucket::decode(&v).filter(|x| x.owner == owner) {
                    return Ok(Found::Here(Located {
                        key: key.to_string(),
                        bucket,
                        cas: Some(cas),
                    }));
                }
            }
        }
        let home = self.home_slot(owner);
        let mut free: Option<Located> = None;
        for p in 0..SLOT_PROBES.min(self.max_consumers) {
            let key = self.slot_key((home + p) % self.max_consumers);
            match store.get(&key)? {
                None => {
                    if free.is_none() {
                        free = Some(Located {
                            key,
                            bucket: Bucket::new(owner),
                            cas: None,
                        });
                    }
                }
                Some((v, cas)) => match Bucket::decode(&v) {
                    Some(bucket) if bucket.owner == owner => {
                        return Ok(Found::Here(Located {
                            key,
                            bucket,
                            cas: Some(cas),
                        }))
                    }
                    Some(bucket) if free.is_none() && bucket.is_idle(now, self.lease_ms) => {
                        free = Some(Located {
                            key,
                            bucket: Bucket::new(owner),
                            cas: Some(cas),
                        });
                    }
                    _ => {}
                },
            }
        }
        Ok(match free {
            Some(l) if claim => Found::Here(l),
            _ => Found::Full,
        })
    }

    fn read_fixed<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        key: String,
        owner: &str,
    ) -> Result<Located, StoreError> {
        Ok(match store.get(&key)? {
            None => Located {
                key,
                bucket: Bucket::new(owner),
                cas: None,
            },
            Some((v, cas)) => Located {
                key,
                // Undecodable (aliased or from another version): start over, via CAS.
                bucket: Bucket::decode(&v)
                    .filter(|b| b.owner == owner)
                    .unwrap_or_else(|| Bucket::new(owner)),
                cas: Some(cas),
            },
        })
    }

    fn write<S: SharedStore + ?Sized>(store: &S, l: &Located) -> Result<(), StoreError> {
        let v = l.bucket.encode();
        match l.cas {
            Some(cas) => store.set(&l.key, &v, cas),
            None => store::create(store, &l.key, &v),
        }
    }

    fn estimate(&self, facts: &RequestFacts, count: TokenCount) -> (u64, u64) {
        let prompt = facts.prompt_bytes.div_ceil(self.bytes_per_token);
        let completion = match facts.no_completion {
            true => 0,
            false => facts.max_tokens.unwrap_or(self.default_completion),
        };
        let tokens = count_tokens(count, prompt, completion);
        let cost = self
            .prices
            .price(None, facts.model)
            .map_or(0, |p| p.cost(prompt, 0, completion));
        (tokens, cost)
    }

    /// Checks every limit for a request and, if allowed, reserves: one request, the estimated
    /// tokens and cost, one concurrency slot, and the estimated cost in the global budget.
    pub fn check<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        consumer: &Consumer,
        now_ms: u64,
        facts: &RequestFacts,
    ) -> Admission {
        let (mut bref, mut rules) = self.rules_for(consumer);
        let (mut tokens, mut cost) = self.estimate(facts, rules.token_count);
        let mut res = Reservation {
            at_ms: now_ms,
            token_count: rules.token_count,
            request_model: facts.model.map(str::to_string),
            ..Reservation::default()
        };
        let mut degraded = false;

        // 1. The global breaker (read only: it trips once spend reaches the budget).
        if let Some(budget) = self.global_budget {
            match self.read_fixed(store, self.fixed_key(GLOBAL_OWNER), GLOBAL_OWNER) {
                Ok(l) => {
                    let spent = global_spent(&l.bucket, now_ms);
                    if spent >= budget {
                        let day = Period::Day.start(now_ms);
                        let wait = Period::Day.end(day) - now_ms;
                        return deny(
                            res,
                            Denial {
                                kind: DenialKind::BudgetExceeded,
                                limit: "global_budget",
                                retry_after_secs: Some(secs_ceil(wait)),
                            },
                            Vec::new(),
                        );
                    }
                }
                Err(_) => match self.failure_mode {
                    FailureMode::Deny => return self.unavailable(res),
                    FailureMode::Allow => degraded = true,
                },
            }
        }

        // 2. The consumer's limits: check all, then commit all in one CAS.
        let mut headers = Vec::new();
        let mut attempts = 0;
        let outcome: Result<(), Fail> = loop {
            if rules.is_empty() {
                break Ok(());
            }
            if attempts >= self.cas_retries {
                break Err(Fail::Exhausted);
            }
            attempts += 1;
            let mut loc = match self.locate(store, &bref, None, now_ms, true) {
                Ok(Found::Here(l)) => l,
                Ok(Found::Full) => match self.when_full {
                    WhenFull::Deny => {
                        return deny(
                            res,
                            Denial {
                                kind: DenialKind::TooManyConsumers,
                                limit: "max_consumers",
                                retry_after_secs: None,
                            },
                            Vec::new(),
                        )
                    }
                    WhenFull::Overflow => {
                        bref = BucketRef::Overflow;
                        rules = &self.overflow;
                        (tokens, cost) = self.estimate(facts, rules.token_count);
                        res.token_count = rules.token_count;
                        attempts -= 1;
                        continue;
                    }
                },
                Err(e) => break Err(Fail::Store(e)),
            };
            sync_entries(&mut loc.bucket, rules);
            loc.bucket.roll(now_ms, self.lease_ms);
            if let Some((denial, h)) = evaluate(&loc.bucket, rules, now_ms, tokens, cost) {
                return deny(res, denial, h);
            }
            for e in &mut loc.bucket.entries {
                let need = need_for(e.kind, tokens, cost);
                e.w.cur = e.w.cur.saturating_add(need);
            }
            if rules.concurrency.is_some() {
                loc.bucket.inflight = loc.bucket.inflight.saturating_add(1);
                loc.bucket.inflight_ms = now_ms;
            }
            match Self::write(store, &loc) {
                Ok(()) => {
                    headers = rate_headers(&loc.bucket, rules, now_ms);
                    res.kinds = rules
                        .limits
                        .iter()
                        .filter(|l| l.kind.metric() != Metric::Requests)
                        .map(|l| l.kind)
                        .collect();
                    res.concurrency = rules.concurrency.is_some();
                    res.bucket = Some((bref.clone(), loc.key));
                    break Ok(());
                }
                Err(StoreError::CasMismatch) => continue,
                Err(e) => break Err(Fail::Store(e)),
            }
        };
        res.tokens = tokens;
        res.cost_micros = cost;
        if let Err(f) = outcome {
            log::warn!("limits: consumer check failed: {f:?}");
            match self.failure_mode {
                FailureMode::Deny => {
                    res.tokens = 0;
                    res.cost_micros = 0;
                    return self.unavailable(res);
                }
                FailureMode::Allow => degraded = true,
            }
        }

        // 3. Reserve the estimate in the global budget (never denies: the breaker is step 1).
        // `res.global` records that settlement must correct the global spend (also when nothing
        // was reserved, e.g. an unpriced request model, so the response's actual cost is charged).
        if self.global_budget.is_some() {
            match self.adjust_global(store, now_ms, now_ms, cost as i64) {
                Ok(()) => res.global = true,
                Err(_) => degraded = true,
            }
        }
        Admission {
            denial: None,
            degraded,
            store_fault: None,
            headers,
            reservation: res,
        }
    }

    fn unavailable(&self, res: Reservation) -> Admission {
        deny(
            res,
            Denial {
                kind: DenialKind::LimiterUnavailable,
                limit: "shared_data",
                retry_after_secs: Some(1),
            },
            Vec::new(),
        )
    }

    /// Adds `delta` micro-units (may be negative) to the global spend of the day of `at_ms`.
    fn adjust_global<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        at_ms: u64,
        now_ms: u64,
        delta: i64,
    ) -> Result<(), Fail> {
        for _ in 0..self.cas_retries {
            let mut l = self.read_fixed(store, self.fixed_key(GLOBAL_OWNER), GLOBAL_OWNER)?;
            if l.bucket.entries.is_empty() {
                l.bucket.entries.push(Entry {
                    kind: LimitKind::GlobalCostPerDay,
                    window: WindowKind::Fixed,
                    w: WindowState::default(),
                });
            }
            let e = &mut l.bucket.entries[0];
            if !apply_delta(&mut e.w, Period::Day, at_ms, now_ms, delta) {
                return Ok(());
            }
            match Self::write(store, &l) {
                Ok(()) => return Ok(()),
                Err(StoreError::CasMismatch) => continue,
                Err(e) => return Err(Fail::Store(e)),
            }
        }
        Err(Fail::Exhausted)
    }

    /// Today's global spend in micro-units (for metrics).
    pub fn global_spent_micros<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        now_ms: u64,
    ) -> Result<u64, StoreError> {
        let l = self.read_fixed(store, self.fixed_key(GLOBAL_OWNER), GLOBAL_OWNER)?;
        Ok(global_spent(&l.bucket, now_ms))
    }

    /// Replaces the reservation with the actual usage (`None`: usage never arrived, the estimate
    /// stands and `estimated` is set). Returns `None` if the reservation was already settled.
    pub fn settle<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        res: &mut Reservation,
        usage: Option<&Usage>,
        now_ms: u64,
    ) -> Option<Settlement> {
        self.settle_inner(store, res, usage, now_ms, false)
    }

    /// [`settle`](Self::settle), then [`release`](Self::release): what the end of a request
    /// does. When both change the consumer's bucket they do it in one read and one
    /// compare-and-swap write instead of two of each (issue 16); the bucket ends the same.
    pub fn settle_and_release<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        res: &mut Reservation,
        usage: Option<&Usage>,
        now_ms: u64,
    ) -> Option<Settlement> {
        let settlement = self.settle_inner(store, res, usage, now_ms, true);
        self.release(store, res, now_ms);
        settlement
    }

    /// `release_too`: a bucket update of the settlement also gives back the concurrency slot
    /// (and marks it released).
    fn settle_inner<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        res: &mut Reservation,
        usage: Option<&Usage>,
        now_ms: u64,
        release_too: bool,
    ) -> Option<Settlement> {
        if res.settled {
            return None;
        }
        res.settled = true;
        let Some(u) = usage else {
            return Some(Settlement {
                estimated: true,
                tokens: res.tokens,
                cost_micros: res.cost_micros,
                token_delta: 0,
                cost_delta: 0,
                error: None,
            });
        };
        let tokens = count_tokens(res.token_count, u.input_tokens, u.output_tokens);
        let cost = self
            .prices
            .price(u.model.as_deref(), res.request_model.as_deref())
            .map_or(0, |p| p.usage_cost(u));
        let token_delta = signed_delta(tokens, res.tokens);
        let cost_delta = signed_delta(cost, res.cost_micros);
        let mut error = None;
        if !res.kinds.is_empty() && (token_delta != 0 || cost_delta != 0) {
            if let Some((bref, key)) = &res.bucket {
                let release = release_too && res.concurrency && !res.released;
                let r = self.update_bucket(store, bref, key, now_ms, |b| {
                    let mut changed = false;
                    for e in b.entries.iter_mut().filter(|e| res.kinds.contains(&e.kind)) {
                        let d = match e.kind.metric() {
                            Metric::Tokens => token_delta,
                            _ => cost_delta,
                        };
                        changed |= apply_delta(&mut e.w, e.kind.period(), res.at_ms, now_ms, d);
                    }
                    // `release`'s own change, on the same reading.
                    if release && b.inflight > 0 {
                        b.inflight -= 1;
                        b.inflight_ms = now_ms;
                        changed = true;
                    }
                    changed
                });
                match r {
                    // Written (or nothing to write, as `release` would have found): released.
                    // A failed write wrote neither: `release` tries on its own.
                    Ok(_) => res.released |= release,
                    Err(f) => error = Some(fail_error(f)),
                }
            }
        }
        if res.global && cost_delta != 0 {
            if let Err(f) = self.adjust_global(store, res.at_ms, now_ms, cost_delta) {
                error = error.or(Some(fail_error(f)));
            }
        }
        if let Some(e) = error {
            log::warn!("limits: settlement not recorded: {e:?}");
        }
        Some(Settlement {
            estimated: false,
            tokens,
            cost_micros: cost,
            token_delta,
            cost_delta,
            error,
        })
    }

    /// Gives back the concurrency slot. Idempotent: returns `true` only the first time it actually
    /// releases one. Call from `on_done`/`on_log` whatever happened (abort, upstream error).
    pub fn release<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        res: &mut Reservation,
        now_ms: u64,
    ) -> bool {
        if !res.concurrency || res.released {
            return false;
        }
        res.released = true;
        let Some((bref, key)) = &res.bucket else {
            return false;
        };
        let r = self.update_bucket(store, bref, key, now_ms, |b| {
            if b.inflight == 0 {
                return false;
            }
            b.inflight -= 1;
            b.inflight_ms = now_ms;
            true
        });
        match r {
            Ok(done) => done,
            Err(f) => {
                log::warn!("limits: release not recorded: {f:?}");
                false
            }
        }
    }

    /// CAS loop over an existing bucket (never claims a slot). `f` returns whether it changed it.
    fn update_bucket<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        bref: &BucketRef,
        hint: &str,
        now_ms: u64,
        mut f: impl FnMut(&mut Bucket) -> bool,
    ) -> Result<bool, Fail> {
        for _ in 0..self.cas_retries {
            let mut l = match self.locate(store, bref, Some(hint), now_ms, false)? {
                Found::Here(l) => l,
                Found::Full => return Ok(false), // slot lost (reclaimed/evicted): nothing to undo
            };
            if l.cas.is_none() {
                return Ok(false); // fixed bucket evicted
            }
            if !f(&mut l.bucket) {
                return Ok(false);
            }
            match Self::write(store, &l) {
                Ok(()) => return Ok(true),
                Err(StoreError::CasMismatch) => continue,
                Err(e) => return Err(Fail::Store(e)),
            }
        }
        Err(Fail::Exhausted)
    }
}

fn fail_error(f: Fail) -> StoreError {
    match f {
        Fail::Store(e) => e,
        Fail::Exhausted => StoreError::CasMismatch,
    }
}

fn deny(
    mut res: Reservation,
    denial: Denial,
    mut headers: Vec<(&'static str, String)>,
) -> Admission {
    res.tokens = 0;
    res.cost_micros = 0;
    res.settled = true;
    res.released = true;
    if let Some(s) = denial.retry_after_secs {
        headers.push(("retry-after", s.to_string()));
    }
    Admission {
        degraded: denial_is_degraded(&denial),
        store_fault: None,
        denial: Some(denial),
        headers,
        reservation: res,
    }
}

fn denial_is_degraded(d: &Denial) -> bool {
    matches!(
        d.kind,
        DenialKind::LimiterUnavailable | DenialKind::StoreUnavailable(_)
    )
}

fn global_spent(b: &Bucket, now: u64) -> u64 {
    b.entries.first().map_or(0, |e| {
        let mut w = e.w;
        w.roll(Period::Day, now);
        w.cur
    })
}

fn count_tokens(c: TokenCount, input: u64, output: u64) -> u64 {
    match c {
        TokenCount::Prompt => input,
        TokenCount::Completion => output,
        TokenCount::Total => input.saturating_add(output),
    }
}

fn signed_delta(actual: u64, reserved: u64) -> i64 {
    let d = actual as i128 - reserved as i128;
    d.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn need_for(kind: LimitKind, tokens: u64, cost: u64) -> u64 {
    match kind.metric() {
        Metric::Requests => 1,
        Metric::Tokens => tokens,
        Metric::Cost => cost,
    }
}

/// Keeps exactly one entry per configured limit; an entry whose window kind changed starts over.
fn sync_entries(b: &mut Bucket, rules: &Rules) {
    let old = std::mem::take(&mut b.entries);
    for l in &rules.limits {
        let e = old
            .iter()
            .find(|e| e.kind == l.kind && e.window == l.window)
            .copied()
            .unwrap_or(Entry {
                kind: l.kind,
                window: l.window,
                w: WindowState::default(),
            });
        b.entries.push(e);
    }
}

/// Applies a settlement delta to the window the reservation was made in: the current one or the
/// previous one if it is still tracked. A positive delta whose window is gone is charged to the
/// current window; a negative one is dropped. Returns whether anything changed.
fn apply_delta(w: &mut WindowState, period: Period, at_ms: u64, now_ms: u64, delta: i64) -> bool {
    if delta == 0 {
        return false;
    }
    w.roll(period, now_ms);
    let at = period.start(at_ms);
    let slot = if at == w.start {
        &mut w.cur
    } else if at == period.prev_start(w.start) {
        &mut w.prev
    } else if delta > 0 {
        &mut w.cur
    } else {
        return false;
    };
    *slot = if delta > 0 {
        slot.saturating_add(delta as u64)
    } else {
        slot.saturating_sub(delta.unsigned_abs())
    };
    true
}

fn find_limit(rules: &Rules, kind: LimitKind) -> Option<&Limit> {
    rules.limits.iter().find(|l| l.kind == kind)
}

/// The denial (longest wait wins; "never" beats any wait) if any limit is exceeded.
fn evaluate(
    b: &Bucket,
    rules: &Rules,
    now: u64,
    tokens: u64,
    cost: u64,
) -> Option<(Denial, Vec<(&'static str, String)>)> {
    // (limit name, wait ms or None for never)
    let mut worst: Option<(&'static str, Option<u64>)> = None;
    let mut consider = |name: &'static str, wait: Option<u64>| {
        let worse = match (&worst, wait) {
            (None, _) => true,
            (Some((_, None)), _) => false,
            (Some(_), None) => true,
            (Some((_, Some(a))), Some(b)) => b > *a,
        };
        if worse {
            worst = Some((name, wait));
        }
    };
    for e in &b.entries {
        let Some(l) = find_limit(rules, e.kind) else {
            continue;
        };
        let period = e.kind.period();
        let need = need_for(e.kind, tokens, cost);
        if e.w.used(period, e.window, now).saturating_add(need) > l.amount {
            consider(
                e.kind.name(),
                e.w.wait_ms(period, e.window, now, l.amount, need),
            );
        }
    }
    if let Some(max) = rules.concurrency {
        if b.inflight as u64 >= max {
            consider(
                "concurrent_requests",
                if max == 0 { None } else { Some(1000) },
            );
        }
    }
    let (limit, wait) = worst?;
    Some((
        Denial {
            kind: DenialKind::RateLimit,
            limit,
            retry_after_secs: wait.map(secs_ceil),
        },
        rate_headers(b, rules, now),
    ))
}

/// OpenAI-style rate-limit headers from the most constraining request and token limits.
fn rate_headers(b: &Bucket, rules: &Rules, now: u64) -> Vec<(&'static str, String)> {
    let mut h = Vec::new();
    for (metric, names) in [
        (
            Metric::Requests,
            [
                "x-ratelimit-limit-requests",
                "x-ratelimit-remaining-requests",
                "x-ratelimit-reset-requests",
            ],
        ),
        (
            Metric::Tokens,
            [
                "x-ratelimit-limit-tokens",
                "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-tokens",
            ],
        ),
    ] {
        // (remaining, limit, reset ms), least remaining wins.
        let best = b
            .entries
            .iter()
            .filter(|e| e.kind.metric() == metric)
            .filter_map(|e| {
                let l = find_limit(rules, e.kind)?;
                let used = e.w.used(e.kind.period(), e.window, now);
                Some((
                    l.amount.saturating_sub(used),
                    l.amount,
                    e.w.reset_ms(e.kind.period(), now),
                ))
            })
            .min_by_key(|&(rem, _, reset)| (rem, reset));
        if let Some((rem, limit, reset)) = best {
            h.push((names[0], limit.to_string()));
            h.push((names[1], rem.to_string()));
            h.push((names[2], duration(reset)));
        }
    }
    // Concurrency has no reset time: the limit and the slots left (after this request's own).
    if let Some(max) = rules.concurrency {
        h.push(("x-ratelimit-limit-concurrent-requests", max.to_string()));
        let left = max.saturating_sub(u64::from(b.inflight));
        h.push((
            "x-ratelimit-remaining-concurrent-requests",
            left.to_string(),
        ));
    }
    h
}

/// Milliseconds → whole seconds, rounded up, at least 1.
fn secs_ceil(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

/// OpenAI's reset format: `20ms`, `1s`, `6m0s`, `1h2m3s`.
pub fn duration(ms: u64) -> String {
    // Pieces pushed, not `format!` (issue 16: this runs for every limited request).
    if ms < 1000 {
        return ms.to_string() + "ms";
    }
    let s = ms.div_ceil(1000);
    let (h, m, s) = (s / 3600, s % 3600 / 60, s % 60);
    let mut out = String::with_capacity(12);
    if h > 0 {
        out.push_str(&h.to_string());
        out.push('h');
    }
    if h > 0 || m > 0 {
        out.push_str(&m.to_string());
        out.push('m');
    }
    out.push_str(&s.to_string());
    out.push('s');
    out
}

//! ShouldRateLimit on limitador: descriptors -> limitador namespaces/contexts, all-or-nothing
//! admission, settlement that always counts.
//!
//! Atomicity: limitador 0.14's `AsyncRedisStorage::check_and_update` reads the counters in one
//! round trip and increments them in a second one, so two concurrent calls for the same counter
//! can both pass the read. The service therefore serialises the check and the increment of the
//! same counter behind a striped lock (keyed by namespace and consumer): with one limiter in
//! front of a Redis, request limits are exact. Several limiter processes sharing one Redis would
//! each be exact on their own but could together admit up to (processes - 1) extra requests per
//! race; docs/distributed-limits.md says so.

use crate::table::{LimitDef, Table};
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::{
    Code, DescriptorStatus, RateLimit,
};
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use limitador::counter::Counter;
use limitador::limit::{Context, Expression, Limit, Namespace};
use limitador::storage::redis::AsyncRedisStorage;
use limitador::{AsyncRateLimiter, CheckResult, RateLimiter};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

pub const ENTRY_LIMIT: &str = "promptgate_limit";
pub const ENTRY_RULE: &str = "promptgate_rule";
pub const ENTRY_CONSUMER: &str = "consumer";
pub const ENTRY_PHASE: &str = "promptgate_phase";
const STRIPES: usize = 1024;

/// Why a call failed.
#[derive(Debug)]
pub enum Error {
    /// The request is malformed (gRPC INVALID_ARGUMENT, HTTP 400).
    Invalid(String),
    /// The store failed or did not answer in time (gRPC UNAVAILABLE, HTTP 503).
    Store(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Invalid(m) => write!(f, "invalid request: {m}"),
            Error::Store(m) => write!(f, "store unavailable: {m}"),
        }
    }
}

enum Backend {
    Redis(AsyncRateLimiter),
    Memory(RateLimiter),
}

pub struct Service {
    table: Table,
    /// Replaced by a fresh connection when Redis failed (see `reconnect`).
    backend: Arc<std::sync::RwLock<Arc<Backend>>>,
    /// `Some(url)` for Redis.
    redis_url: Option<String>,
    reconnecting: Arc<AtomicBool>,
    stripes: Vec<Mutex<()>>,
    store_timeout: Duration,
}

/// One descriptor, resolved.
struct Item<'a> {
    def: Option<&'a LimitDef>,
    consumer: Option<String>,
    hits: u64,
    settle: bool,
}

impl Service {
    /// A service over Redis (`redis://host:port`). Fails if Redis cannot be reached now.
    pub async fn redis(
        table: Table,
        url: &str,
        store_timeout: Duration,
    ) -> Result<Service, String> {
        let backend = connect(&table, url, store_timeout).await?;
        let mut s = Service::with(table, backend, store_timeout);
        s.redis_url = Some(url.to_string());
        Ok(s)
    }

    /// A service whose counters live in this process only (tests without Redis; counters are
    /// lost on restart).
    pub fn memory(table: Table) -> Service {
        Service::with(
            table,
            Backend::Memory(RateLimiter::new(100_000)),
            Duration::from_secs(1),
        )
    }

    fn with(table: Table, backend: Backend, store_timeout: Duration) -> Service {
        add_limits(&table, &backend);
        Service {
            table,
            backend: Arc::new(std::sync::RwLock::new(Arc::new(backend))),
            redis_url: None,
            reconnecting: Arc::new(AtomicBool::new(false)),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            store_timeout,
        }
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    pub async fn should_rate_limit(
        &self,
        req: &RateLimitRequest,
    ) -> Result<RateLimitResponse, Error> {
        if req.domain.is_empty() {
            return Err(Error::Invalid("domain is empty".into()));
        }
        if req.domain != self.table.domain {
            return Err(Error::Invalid(format!(
                "domain {:?} is not served here (this limiter serves {:?})",
                req.domain, self.table.domain
            )));
        }
        let mut items = Vec::with_capacity(req.descriptors.len());
        for (i, d) in req.descriptors.iter().enumerate() {
            items.push(self.resolve(i, d, req.hits_addend)?);
        }
        let backend = self
            .backend
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let r = match tokio::time::timeout(self.store_timeout, self.run(&backend, &items)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Store(format!(
                "no answer within {} ms",
                self.store_timeout.as_millis()
            ))),
        };
        if matches!(r, Err(Error::Store(_))) {
            self.reconnect();
        }
        r
    }

    /// After a store failure: connect afresh in the background (one attempt at a time, every
    /// 250 ms until Redis answers) and swap the new connection in. redis-rs's connection manager
    /// does not always come back by itself after Redis was restarted.
    fn reconnect(&self) {
        let Some(url) = self.redis_url.clone() else {
            return;
        };
        if self.reconnecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let flag = self.reconnecting.clone();
        let slot = self.backend.clone();
        let table = self.table.clone();
        let timeout = self.store_timeout;
        tokio::spawn(async move {
            loop {
                if let Ok(b) = connect(&table, &url, timeout).await {
                    *slot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(b);
                    flag.store(false, Ordering::Release);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
    }

    fn resolve<'a>(
        &'a self,
        i: usize,
        d: &RateLimitDescriptor,
        request_hits: u32,
    ) -> Result<Item<'a>, Error> {
        if d.entries.is_empty() {
            return Err(Error::Invalid(format!("descriptors[{i}] has no entries")));
        }
        let get = |k: &str| {
            d.entries
                .iter()
                .find(|e| e.key == k)
                .map(|e| e.value.as_str())
        };
        let hits = match &d.hits_addend {
            Some(h) => h.value,
            None if request_hits > 0 => u64::from(request_hits),
            None => 1,
        };
        let settle = match get(ENTRY_PHASE) {
            None => false,
            Some("settle") => true,
            Some(other) => {
                return Err(Error::Invalid(format!(
                    "descriptors[{i}]: unknown {ENTRY_PHASE} {other:?} (only \"settle\")"
                )))
            }
        };
        let def = match (get(ENTRY_RULE), get(ENTRY_LIMIT)) {
            (Some(rule), Some(kind)) => self.table.get(rule, kind),
            _ => None,
        };
        let consumer = get(ENTRY_CONSUMER).map(str::to_string);
        if let Some(def) = def {
            if def.per_consumer && consumer.is_none() {
                return Err(Error::Invalid(format!(
                    "descriptors[{i}]: {}/{} is counted per consumer but has no {ENTRY_CONSUMER:?} entry",
                    def.rule, def.kind
                )));
            }
        }
        Ok(Item {
            def,
            consumer,
            hits,
            settle,
        })
    }

    async fn run(&self, backend: &Backend, items: &[Item<'_>]) -> Result<RateLimitResponse, Error> {
        // Locks for every counter this call checks, in stripe order (no deadlock).
        let mut stripes: Vec<usize> = items
            .iter()
            .filter(|it| it.def.is_some() && !it.settle)
            .map(|it| self.stripe(it))
            .collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for s in stripes {
            guards.push(self.stripes[s].lock().await);
        }

        let mut statuses: Vec<DescriptorStatus> = Vec::with_capacity(items.len());
        let mut over = false;
        for it in items {
            let Some(def) = it.def else {
                statuses.push(DescriptorStatus {
                    code: Code::Ok as i32,
                    ..Default::default()
                });
                continue;
            };
            if it.settle {
                statuses.push(status(def, Code::Ok, None));
                continue;
            }
            let r = self.check(backend, def, it).await?;
            let counter = r.counters.first();
            let code = if r.limited { Code::OverLimit } else { Code::Ok };
            over |= r.limited;
            statuses.push(status(def, code, counter));
        }
        if !over {
            for (it, st) in items.iter().zip(statuses.iter_mut()) {
                let Some(def) = it.def else { continue };
                self.update(backend, def, it).await?;
                if !it.settle {
                    st.limit_remaining = st
                        .limit_remaining
                        .saturating_sub(it.hits.min(u64::from(u32::MAX)) as u32);
                }
            }
        } else {
            // Settlement is never refused: the tokens were spent.
            for it in items.iter().filter(|it| it.settle) {
                if let Some(def) = it.def {
                    self.update(backend, def, it).await?;
                }
            }
        }
        drop(guards);
        Ok(RateLimitResponse {
            overall_code: if over { Code::OverLimit } else { Code::Ok } as i32,
            statuses,
            ..Default::default()
        })
    }

    fn stripe(&self, it: &Item<'_>) -> usize {
        let mut h = DefaultHasher::new();
        if let Some(d) = it.def {
            d.rule.hash(&mut h);
            d.kind.hash(&mut h);
        }
        it.consumer.hash(&mut h);
        (h.finish() as usize) % STRIPES
    }

    async fn check(
        &self,
        backend: &Backend,
        def: &LimitDef,
        it: &Item<'_>,
    ) -> Result<CheckResult, Error> {
        let ns = namespace(&self.table.domain, def);
        let ctx = context(it);
        let r = match backend {
            Backend::Redis(l) => l.is_rate_limited(&ns, &ctx, it.hits).await,
            Backend::Memory(l) => l.is_rate_limited(&ns, &ctx, it.hits),
        };
        r.map_err(|e| Error::Store(e.to_string()))
    }

    async fn update(&self, backend: &Backend, def: &LimitDef, it: &Item<'_>) -> Result<(), Error> {
        let ns = namespace(&self.table.domain, def);
        let ctx = context(it);
        let r = match backend {
            Backend::Redis(l) => l.update_counters(&ns, &ctx, it.hits).await,
            Backend::Memory(l) => l.update_counters(&ns, &ctx, it.hits),
        };
        r.map_err(|e| Error::Store(e.to_string()))
    }
}

async fn connect(table: &Table, url: &str, timeout: Duration) -> Result<Backend, String> {
    let storage = tokio::time::timeout(timeout.max(Duration::from_secs(2)), async {
        AsyncRedisStorage::new(url).await
    })
    .await
    .map_err(|_| format!("redis at {url}: no answer"))?
    .map_err(|e| format!("redis at {url}: {e}"))?;
    let b = Backend::Redis(AsyncRateLimiter::new_with_storage(Box::new(storage)));
    add_limits(table, &b);
    Ok(b)
}

fn add_limits(table: &Table, backend: &Backend) {
    for def in table.limits.values() {
        let limit = limit_for(&table.domain, def);
        match backend {
            Backend::Redis(l) => l.add_limit(limit),
            Backend::Memory(l) => l.add_limit(limit),
        };
    }
}

/// One limitador namespace per (domain, rule, kind): a lookup touches exactly one limit.
fn namespace(domain: &str, def: &LimitDef) -> Namespace {
    Namespace::from(format!("{domain}/{}/{}", def.rule, def.kind))
}

fn limit_for(domain: &str, def: &LimitDef) -> Limit {
    let vars = if def.per_consumer {
        vec![Expression::parse(ENTRY_CONSUMER).expect("a plain identifier is CEL")]
    } else {
        vec![]
    };
    let mut l = Limit::new(namespace(domain, def), def.max, def.seconds, vec![], vars);
    l.set_name(format!("{}/{}", def.rule, def.kind));
    l
}

fn context(it: &Item<'_>) -> Context<'static> {
    let mut m = HashMap::new();
    if let Some(c) = &it.consumer {
        m.insert(ENTRY_CONSUMER.to_string(), c.clone());
    }
    Context::from(m)
}

fn status(def: &LimitDef, code: Code, counter: Option<&Counter>) -> DescriptorStatus {
    let sat = |v: u64| v.min(u64::from(u32::MAX)) as u32;
    let remaining = counter.and_then(|c| c.remaining()).unwrap_or(def.max);
    let reset = counter
        .and_then(|c| c.expires_in())
        .unwrap_or(Duration::from_secs(def.seconds));
    DescriptorStatus {
        code: code as i32,
        current_limit: Some(RateLimit {
            name: format!("{}/{}", def.rule, def.kind),
            requests_per_unit: sat(def.max),
            unit: def.unit,
        }),
        limit_remaining: sat(remaining),
        duration_until_reset: Some(envoy_types::pb::google::protobuf::Duration {
            // Rounded up: "retry after 0 s" while the window is still open would be wrong.
            seconds: reset.as_secs() as i64 + i64::from(reset.subsec_nanos() > 0),
            nanos: 0,
        }),
        ..Default::default()
    }
}

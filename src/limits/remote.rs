//! The remote store (`limits.store.type: rls`, issue 18): the windowed limits and the global
//! budget are counted by a rate-limit service speaking Envoy's `RateLimitService` v3 API, so
//! every replica shares one set of counters. Host-free: this module builds the call and reads
//! the answer; the exchange dispatches it through the `Host` and waits.
//!
//! Wire formats, both hand-written for exactly these messages (a general protobuf crate would
//! add tens of KB to the .wasm for four small messages; the native tests check both directions
//! against `envoy-types`' prost types, unknown fields included):
//! - gRPC: `RateLimitRequest` / `RateLimitResponse` protobuf.
//! - HTTP: `POST <path>` with the same messages in the proto3 JSON mapping (envoyproxy/ratelimit's
//!   `/json` endpoint), for Kong and APISIX, which have no gRPC calls.
//!
//! Descriptor mapping (`docs/distributed-limits.md`): one descriptor per windowed limit,
//! `[promptgate_limit=<kind>, promptgate_rule=<rule>, consumer=<hashed id>]`, `hits_addend` =
//! requests, estimated tokens or micro-units; the global budget is
//! `[promptgate_limit=global_budget, promptgate_rule=global]`; a settlement appends
//! `promptgate_phase=settle`.

use super::config::{FailureMode, Metric, RlsProtocol, StoreConfig, StoreType};
use super::{
    count_tokens, need_for, Admission, Denial, DenialKind, LimitKind, Limiter, RequestFacts,
    Reservation, SharedStore,
};
use crate::error::ConfigError;
use crate::identity::Consumer;
use crate::usage::Usage;

/// The gRPC service and method.
pub const SERVICE: &str = "envoy.service.ratelimit.v3.RateLimitService";
pub const METHOD: &str = "ShouldRateLimit";

/// The compiled `limits.store` of type `rls`.
#[derive(Debug, Clone, PartialEq)]
pub struct Remote {
    pub protocol: RlsProtocol,
    /// The cluster (Envoy) or `host:port` (Kong, APISIX) the call goes to.
    pub cluster: String,
    /// `http`: the `:authority` of the call.
    pub authority: String,
    /// `http`: the JSON endpoint's path.
    pub path: String,
    pub domain: String,
    pub timeout_ms: u32,
    pub failure_mode: FailureMode,
    /// `gRPC`: the serialised `envoy.config.core.v3.GrpcService` naming the cluster (Envoy also
    /// takes a bare cluster name, but only after failing to parse it as this message).
    pub grpc_service: Vec<u8>,
}

impl Remote {
    /// `None` for `type: local`. Errors name fields under `limits.store`.
    pub fn compile(c: &StoreConfig, fallback: FailureMode) -> Result<Option<Remote>, ConfigError> {
        let field = |f: &str| format!("limits.store.{f}");
        if c.kind == StoreType::Local {
            return Ok(None);
        }
        let cluster = match c.cluster.as_deref().map(str::trim) {
            Some(v) if !v.is_empty() => v.to_string(),
            _ => {
                return Err(ConfigError::new(
                    field("cluster"),
                    "is required with `type: rls` (the upstream of the rate-limit service)",
                ))
            }
        };
        let printable =
            |v: &str| !v.is_empty() && v.len() <= 256 && v.bytes().all(|b| b > 0x20 && b < 0x7f);
        // At most 120 bytes: the serialised `GrpcService` then has one-byte lengths and stays
        // ASCII (the SDK's call takes it as a `&str`).
        if cluster.len() > 120 || !printable(&cluster) {
            return Err(ConfigError::new(
                field("cluster"),
                "must be 1 to 120 printable ASCII characters without spaces",
            ));
        }
        let authority = c.authority.clone().unwrap_or_else(|| cluster.clone());
        if !printable(&authority) {
            return Err(ConfigError::new(
                field("authority"),
                "must be 1 to 256 printable ASCII characters without spaces",
            ));
        }
        if !c.path.starts_with('/') || !printable(&c.path) {
            return Err(ConfigError::new(
                field("path"),
                "must start with `/` and be printable ASCII without spaces",
            ));
        }
        if c.domain.is_empty() || c.domain.len() > 256 {
            return Err(ConfigError::new(field("domain"), "must be 1 to 256 bytes"));
        }
        if c.timeout_ms == 0 || c.timeout_ms > 60_000 {
            return Err(ConfigError::new(
                field("timeout_ms"),
                "must be between 1 and 60000",
            ));
        }
        let mut envoy_grpc = Vec::new();
        put_str(&mut envoy_grpc, 1, &cluster);
        let mut grpc_service = Vec::new();
        put_bytes(&mut grpc_service, 1, &envoy_grpc);
        Ok(Some(Remote {
            protocol: c.protocol,
            cluster,
            authority,
            path: c.path.clone(),
            domain: c.domain.clone(),
            timeout_ms: c.timeout_ms as u32,
            failure_mode: c.failure_mode.unwrap_or(fallback),
            grpc_service,
        }))
    }

    /// The call's message in this store's protocol.
    pub fn encode(&self, descriptors: &[Descriptor], settle: bool) -> Vec<u8> {
        match self.protocol {
            RlsProtocol::Grpc => encode_request(&self.domain, descriptors, settle),
            RlsProtocol::Http => encode_json(&self.domain, descriptors, settle),
        }
    }
}

/// One descriptor of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub kind: LimitKind,
    /// `default`, `anonymous`, `override:<i>`, `overflow` or `global`.
    pub rule: String,
    /// The hashed consumer id; `None` for the global budget.
    pub consumer: Option<String>,
    pub hits: u64,
    /// The configured amount (not sent: the service has its own copy of the configuration);
    /// for the `x-ratelimit-limit-*` headers when the answer carries no `current_limit`.
    pub limit: u64,
}

/// Why a call gave no usable answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The host's call timeout (`timeout_ms`) passed.
    Timeout,
    /// Unreachable, an error status, or an answer that does not decode.
    Error,
    /// The host cannot make this kind of call (gRPC on Kong or APISIX).
    Unsupported,
}

/// A descriptor status's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Code {
    #[default]
    Unknown,
    Ok,
    OverLimit,
}

impl Code {
    fn from_number(n: u64) -> Code {
        match n {
            1 => Code::Ok,
            2 => Code::OverLimit,
            _ => Code::Unknown,
        }
    }

    fn from_name(s: &str) -> Code {
        match s {
            "OK" => Code::Ok,
            "OVER_LIMIT" => Code::OverLimit,
            _ => Code::Unknown,
        }
    }
}

/// One descriptor's status in the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    pub code: Code,
    /// `current_limit.requests_per_unit`, when the service sent a current limit.
    pub limit: Option<u64>,
    pub remaining: u64,
    /// `duration_until_reset` in ms, when sent.
    pub reset_ms: Option<u64>,
}

/// The decoded `RateLimitResponse` (the fields the filter uses).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub overall: Code,
    pub statuses: Vec<Status>,
}

// ---------------------------------------------------------------------------------------------
// The limiter's side: what to send, and what the answer means.

/// [`Limiter::check_remote`]'s result: the local part's admission and, if it admitted, the
/// descriptors the service must count (empty: nothing to ask, the admission is final).
#[derive(Debug)]
pub struct RemoteCheck {
    pub admission: Admission,
    pub descriptors: Vec<Descriptor>,
}

impl Limiter {
    /// The rate-limit service, with `store: rls`.
    pub fn remote(&self) -> Option<&Remote> {
        self.remote.as_ref()
    }

    /// `store: rls`, step 1: the concurrency limit (shared data, per process), then the
    /// descriptors of every windowed limit and the global budget, with the estimate reserved.
    pub fn check_remote<S: SharedStore + ?Sized>(
        &self,
        store: &S,
        consumer: &Consumer,
        now_ms: u64,
        facts: &RequestFacts,
    ) -> RemoteCheck {
        let (rule, rules) = self.rule_for(consumer);
        let (tokens, cost) = self.estimate(facts, rules.token_count);
        let mut admission = match self.concurrency_only.as_deref() {
            Some(local) if local.is_active() => local.check(store, consumer, now_ms, facts),
            _ => Admission {
                denial: None,
                degraded: false,
                store_fault: None,
                headers: Vec::new(),
                reservation: Reservation::default(),
            },
        };
        if admission.denial.is_some() {
            return RemoteCheck {
                admission,
                descriptors: Vec::new(),
            };
        }
        let res = &mut admission.reservation;
        res.at_ms = now_ms;
        res.token_count = rules.token_count;
        res.request_model = facts.model.map(str::to_string);
        res.tokens = tokens;
        res.cost_micros = cost;
        let mut descriptors: Vec<Descriptor> = rules
            .limits
            .iter()
            .map(|l| Descriptor {
                kind: l.kind,
                rule: rule.clone(),
                consumer: Some(consumer.id.clone()),
                hits: need_for(l.kind, tokens, cost),
                limit: l.amount,
            })
            .collect();
        if let Some(budget) = self.global_budget {
            descriptors.push(Descriptor {
                kind: LimitKind::GlobalCostPerDay,
                rule: "global".into(),
                consumer: None,
                hits: cost,
                limit: budget,
            });
        }
        res.remote = descriptors
            .iter()
            .filter(|d| d.kind.metric() != Metric::Requests)
            .cloned()
            .collect();
        RemoteCheck {
            admission,
            descriptors,
        }
    }

    /// `store: rls`, step 2: the service's answer (or why there is none) onto the admission.
    /// `OVER_LIMIT` answers like a local limit (429, `retry-after`, `x-ratelimit-*`); a fault
    /// answers per `limits.store.failure_mode`.
    pub fn remote_answer(
        &self,
        mut admission: Admission,
        descriptors: &[Descriptor],
        answer: Result<Answer, Fault>,
    ) -> Admission {
        let failure_mode = self
            .remote
            .as_ref()
            .map_or(self.failure_mode, |r| r.failure_mode);
        let answer = match answer {
            Ok(a) if a.overall != Code::Unknown => a,
            Ok(_) => return store_failed(admission, Fault::Error, failure_mode),
            Err(f) => return store_failed(admission, f, failure_mode),
        };
        // Rate-limit headers: per metric, the least remaining wins.
        let mut best: [Option<(u64, u64, Option<u64>)>; 2] = [None, None];
        let mut worst: Option<(&Descriptor, Option<u64>)> = None;
        for (d, s) in descriptors.iter().zip(&answer.statuses) {
            let slot = match d.kind.metric() {
                Metric::Requests => Some(0),
                Metric::Tokens => Some(1),
                Metric::Cost => None,
            };
            if let Some(i) = slot {
                let v = (s.remaining, s.limit.unwrap_or(d.limit), s.reset_ms);
                if best[i].is_none_or(|b| (v.0, v.2) < (b.0, b.2)) {
                    best[i] = Some(v);
                }
            }
            if s.code == Code::OverLimit {
                // The longest wait wins; an unknown reset counts as the longest.
                let longer = match (&worst, s.reset_ms) {
                    (None, _) => true,
                    (Some((_, None)), _) => false,
                    (Some(_), None) => true,
                    (Some((_, Some(a))), Some(b)) => b > *a,
                };
                if longer {
                    worst = Some((d, s.reset_ms));
                }
            }
        }
        let mut headers = Vec::new();
        for (i, names) in [
            [
                "x-ratelimit-limit-requests",
                "x-ratelimit-remaining-requests",
                "x-ratelimit-reset-requests",
            ],
            [
                "x-ratelimit-limit-tokens",
                "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-tokens",
            ],
        ]
        .into_iter()
        .enumerate()
        {
            if let Some((remaining, limit, reset)) = best[i] {
                headers.push((names[0], limit.to_string()));
                headers.push((names[1], remaining.to_string()));
                if let Some(ms) = reset {
                    headers.push((names[2], super::duration(ms)));
                }
            }
        }
        // The local part's headers (concurrency) after the service's.
        headers.append(&mut admission.headers);
        admission.headers = headers;
        if answer.overall == Code::OverLimit && worst.is_none() {
            // OVER_LIMIT without a status saying which: blame the first descriptor.
            worst = descriptors.first().map(|d| (d, None));
        }
        if answer.overall != Code::OverLimit {
            return admission;
        }
        let (kind, wait) = match worst {
            Some((d, wait)) => (d.kind, wait),
            None => return store_failed(admission, Fault::Error, failure_mode),
        };
        let denial = Denial {
            kind: if kind == LimitKind::GlobalCostPerDay {
                DenialKind::BudgetExceeded
            } else {
                DenialKind::RateLimit
            },
            limit: kind.name(),
            retry_after_secs: wait.map(super::secs_ceil),
        };
        refuse(admission, denial)
    }

    /// `store: rls`, after the response: the settlement call's descriptors (usage above the
    /// reservation: the difference, for the token and cost limits and the global budget).
    /// Empty when nothing is owed (usage at or below the estimate keeps the reservation).
    pub fn remote_settlement(&self, res: &Reservation, usage: &Usage) -> Vec<Descriptor> {
        if res.remote.is_empty() {
            return Vec::new();
        }
        let tokens = count_tokens(res.token_count, usage.input_tokens, usage.output_tokens);
        let cost = self
            .prices
            .price(usage.model.as_deref(), res.request_model.as_deref())
            .map_or(0, |p| p.usage_cost(usage));
        let extra_tokens = tokens.saturating_sub(res.tokens);
        let extra_cost = cost.saturating_sub(res.cost_micros);
        res.remote
            .iter()
            .filter_map(|d| {
                let hits = match d.kind.metric() {
                    Metric::Tokens => extra_tokens,
                    _ => extra_cost,
                };
                (hits > 0).then(|| Descriptor { hits, ..d.clone() })
            })
            .collect()
    }
}

/// A refusal after the local part admitted: the concurrency slot stays held until `release`.
fn refuse(mut admission: Admission, denial: Denial) -> Admission {
    let res = &mut admission.reservation;
    res.tokens = 0;
    res.cost_micros = 0;
    res.settled = true;
    res.remote.clear();
    if let Some(s) = denial.retry_after_secs {
        admission.headers.push(("retry-after", s.to_string()));
    }
    admission.degraded = matches!(denial.kind, DenialKind::StoreUnavailable(_));
    admission.denial = Some(denial);
    admission
}

fn store_failed(mut admission: Admission, fault: Fault, mode: FailureMode) -> Admission {
    match mode {
        FailureMode::Allow => {
            // Forwarded uncounted: nothing to settle with the service.
            admission.degraded = true;
            admission.store_fault = Some(fault);
            admission.reservation.remote.clear();
            admission
        }
        FailureMode::Deny => {
            admission.headers.clear();
            let denial = Denial {
                kind: DenialKind::StoreUnavailable(fault),
                limit: "limit_store",
                retry_after_secs: Some(1),
            };
            refuse(admission, denial)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Protobuf.

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire));
}

fn put_bytes(out: &mut Vec<u8>, field: u32, v: &[u8]) {
    put_key(out, field, 2);
    put_varint(out, v.len() as u64);
    out.extend_from_slice(v);
}

fn put_str(out: &mut Vec<u8>, field: u32, v: &str) {
    put_bytes(out, field, v.as_bytes());
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn str_field_len(field_key_len: usize, v: &str) -> usize {
    field_key_len + varint_len(v.len() as u64) + v.len()
}

/// The entries of a descriptor, in order.
fn entries(d: &Descriptor, settle: bool) -> impl Iterator<Item = (&'static str, &str)> {
    [
        Some(("promptgate_limit", d.kind.name())),
        Some(("promptgate_rule", d.rule.as_str())),
        d.consumer.as_deref().map(|c| ("consumer", c)),
        settle.then_some(("promptgate_phase", "settle")),
    ]
    .into_iter()
    .flatten()
}

/// `RateLimitRequest{domain, descriptors}` (`hits_addend` per descriptor, as a
/// `google.protobuf.UInt64Value`; the request-level one unset).
pub fn encode_request(domain: &str, descriptors: &[Descriptor], settle: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + descriptors.len() * 96);
    put_str(&mut out, 1, domain);
    for d in descriptors {
        // Sizes first, so each nested message is written straight into `out`.
        let entry_len = |k: &str, v: &str| str_field_len(1, k) + str_field_len(1, v);
        let entries_len: usize = entries(d, settle)
            .map(|(k, v)| {
                let n = entry_len(k, v);
                1 + varint_len(n as u64) + n
            })
            .sum();
        // proto3: a zero `value` is left out of the wrapper (present and empty = 0 hits).
        let hits_len = if d.hits == 0 {
            0
        } else {
            1 + varint_len(d.hits)
        };
        let desc_len = entries_len + 1 + varint_len(hits_len as u64) + hits_len;
        put_key(&mut out, 2, 2);
        put_varint(&mut out, desc_len as u64);
        for (k, v) in entries(d, settle) {
            put_key(&mut out, 1, 2);
            put_varint(&mut out, entry_len(k, v) as u64);
            put_str(&mut out, 1, k);
            put_str(&mut out, 2, v);
        }
        put_key(&mut out, 3, 2);
        put_varint(&mut out, hits_len as u64);
        if d.hits != 0 {
            put_key(&mut out, 1, 0);
            put_varint(&mut out, d.hits);
        }
    }
    out
}

/// Why an answer does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError;

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&byte, rest) = self.b.split_first().ok_or(DecodeError)?;
            self.b = rest;
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err(DecodeError)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| DecodeError)?;
        if n > self.b.len() {
            return Err(DecodeError);
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    /// The next field: number, and its value (a varint, or the bytes of a length-delimited or
    /// fixed field). Groups are refused.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, DecodeError> {
        if self.b.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => Value::Bytes(self.take(8)?),
            2 => {
                let n = self.varint()?;
                Value::Bytes(self.take(n)?)
            }
            5 => Value::Bytes(self.take(4)?),
            _ => return Err(DecodeError),
        };
        Ok(Some((key >> 3, value)))
    }
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn varint_of(v: Value) -> Result<u64, DecodeError> {
    match v {
        Value::Varint(n) => Ok(n),
        Value::Bytes(_) => Err(DecodeError),
    }
}

fn bytes_of(v: Value<'_>) -> Result<&[u8], DecodeError> {
    match v {
        Value::Bytes(b) => Ok(b),
        Value::Varint(_) => Err(DecodeError),
    }
}

/// Reads a `RateLimitResponse`; unknown fields are skipped.
pub fn decode_response(b: &[u8]) -> Result<Answer, DecodeError> {
    let mut r = Reader { b };
    let mut a = Answer::default();
    while let Some((field, v)) = r.field()? {
        match field {
            1 => a.overall = Code::from_number(varint_of(v)?),
            2 => a.statuses.push(decode_status(bytes_of(v)?)?),
            _ => {}
        }
    }
    Ok(a)
}

fn decode_status(b: &[u8]) -> Result<Status, DecodeError> {
    let mut r = Reader { b };
    let mut s = Status::default();
    while let Some((field, v)) = r.field()? {
        match field {
            1 => s.code = Code::from_number(varint_of(v)?),
            2 => {
                let mut l = Reader { b: bytes_of(v)? };
                let mut per_unit = 0;
                while let Some((f, v)) = l.field()? {
                    if f == 1 {
                        per_unit = varint_of(v)? & u64::from(u32::MAX);
                    }
                }
                s.limit = Some(per_unit);
            }
            3 => s.remaining = varint_of(v)? & u64::from(u32::MAX),
            4 => {
                let mut d = Reader { b: bytes_of(v)? };
                let (mut secs, mut nanos) = (0i64, 0i64);
                while let Some((f, v)) = d.field()? {
                    match f {
                        1 => secs = varint_of(v)? as i64,
                        2 => nanos = i64::from(varint_of(v)? as i32),
                        _ => {}
                    }
                }
                let ms = secs.max(0).saturating_mul(1000) + nanos.max(0) / 1_000_000;
                s.reset_ms = Some(ms as u64);
            }
            _ => {}
        }
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// proto3 JSON.

// Typed (derived) serde, not `serde_json::Value`: the filter links no `Value` (~50 KB of wasm).

#[derive(serde::Serialize)]
struct JsonRequest<'a> {
    domain: &'a str,
    descriptors: Vec<JsonDescriptor<'a>>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonDescriptor<'a> {
    entries: Vec<JsonEntry<'a>>,
    /// uint64: a string in proto3 JSON.
    hits_addend: String,
}

#[derive(serde::Serialize)]
struct JsonEntry<'a> {
    key: &'a str,
    value: &'a str,
}

/// The request in the proto3 JSON mapping (uint64 as strings).
pub fn encode_json(domain: &str, descriptors: &[Descriptor], settle: bool) -> Vec<u8> {
    let req = JsonRequest {
        domain,
        descriptors: descriptors
            .iter()
            .map(|d| JsonDescriptor {
                entries: entries(d, settle)
                    .map(|(key, value)| JsonEntry { key, value })
                    .collect(),
                hits_addend: d.hits.to_string(),
            })
            .collect(),
    };
    serde_json::to_vec(&req).unwrap_or_default()
}

#[derive(serde::Deserialize)]
struct JsonAnswer {
    #[serde(default, rename = "overallCode", alias = "overall_code")]
    overall_code: Option<JsonCode>,
    #[serde(default)]
    statuses: Option<Vec<JsonStatus>>,
}

#[derive(serde::Deserialize)]
struct JsonStatus {
    #[serde(default)]
    code: Option<JsonCode>,
    #[serde(default, rename = "currentLimit", alias = "current_limit")]
    current_limit: Option<JsonLimit>,
    #[serde(default, rename = "limitRemaining", alias = "limit_remaining")]
    limit_remaining: Option<JsonU64>,
    #[serde(default, rename = "durationUntilReset", alias = "duration_until_reset")]
    duration_until_reset: Option<JsonDuration>,
}

#[derive(serde::Deserialize)]
struct JsonLimit {
    #[serde(default, rename = "requestsPerUnit", alias = "requests_per_unit")]
    requests_per_unit: Option<JsonU64>,
}

/// An enum: its name or its number.
struct JsonCode(Code);
/// A 64-bit number: a string or a number.
struct JsonU64(u64);
/// A `Duration`: `"12s"`, `"1.500s"`, in ms.
struct JsonDuration(u64);

impl<'de> serde::Deserialize<'de> for JsonCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match scalar(d, true)? {
            Scalar::Code(c) => Ok(JsonCode(c)),
            Scalar::U64(n) => Ok(JsonCode(Code::from_number(n))),
        }
    }
}

impl<'de> serde::Deserialize<'de> for JsonU64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match scalar(d, false)? {
            Scalar::U64(n) => Ok(JsonU64(n)),
            Scalar::Code(_) => unreachable!("a code only when asked for"),
        }
    }
}

/// What [`scalar`] read.
enum Scalar {
    Code(Code),
    U64(u64),
}

/// An enum (`code`: its name or number) or a 64-bit number (a number or a string): one
/// `deserialize_any` for both, which is most of their code.
fn scalar<'de, D: serde::Deserializer<'de>>(d: D, code: bool) -> Result<Scalar, D::Error> {
    struct V(bool);
    impl serde::de::Visitor<'_> for V {
        type Value = Scalar;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(if self.0 {
                "an enum name or number"
            } else {
                "a non-negative integer, as a number or a string"
            })
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
            if self.0 {
                return Ok(Scalar::Code(Code::from_name(v)));
            }
            v.parse()
                .map(Scalar::U64)
                .map_err(|_| E::custom("not an integer"))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
            Ok(Scalar::U64(v))
        }
    }
    d.deserialize_any(V(code))
}

impl<'de> serde::Deserialize<'de> for JsonDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = JsonDuration;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration such as \"12s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<JsonDuration, E> {
                duration_ms(v)
                    .map(JsonDuration)
                    .ok_or_else(|| E::custom("not a duration"))
            }
        }
        d.deserialize_str(V)
    }
}

/// A proto3 JSON `Duration` string in ms: `"12s"`, `"1.500s"`.
fn duration_ms(v: &str) -> Option<u64> {
    let s = v.strip_suffix('s')?;
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: u64 = whole.parse().ok()?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u64, |a, b| a * 10 + u64::from(b - b'0'));
    Some(secs.saturating_mul(1000).saturating_add(ms))
}

/// Reads a `RateLimitResponse` in proto3 JSON (field names in lowerCamelCase or as in the
/// .proto; 64-bit numbers as strings or numbers; enums as names or numbers; unknown fields
/// ignored).
pub fn decode_json(b: &[u8]) -> Result<Answer, DecodeError> {
    let a: JsonAnswer = serde_json::from_slice(b).map_err(|_| DecodeError)?;
    Ok(Answer {
        overall: a.overall_code.map_or(Code::Unknown, |c| c.0),
        statuses: a
            .statuses
            .unwrap_or_default()
            .into_iter()
            .map(|s| Status {
                code: s.code.map_or(Code::Unknown, |c| c.0),
                limit: s
                    .current_limit
                    .map(|l| l.requests_per_unit.map_or(0, |n| n.0)),
                remaining: s.limit_remaining.map_or(0, |n| n.0),
                reset_ms: s.duration_until_reset.map(|d| d.0),
            })
            .collect(),
    })
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;

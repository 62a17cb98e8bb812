//! Native tests of the limiter against both hosts' shared-data semantics.

use super::state::Bucket;
use super::store::{AlwaysLosingStore, MemoryStore, RacingStore, Semantics, UnavailableStore};
use super::*;
use crate::identity::hex;
use sha2::{Digest, Sha256};
use std::sync::Arc;

const BOTH: [Semantics; 2] = [Semantics::Envoy, Semantics::Kong];
const DAY: u64 = 86_400_000;
/// 2024-03-10T00:00:00Z, a day (and minute, hour) boundary.
const DAY0: u64 = 1_710_028_800_000;

fn parse(json: &str) -> Result<Limiter, ConfigError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Top {
        #[serde(default)]
        limits: LimitsConfig,
    }
    let top: Top = crate::json_path::deserialize(json.as_bytes())
        .map_err(|(path, e)| ConfigError::new(path, e.to_string()))?;
    Limiter::new(&top.limits)
}

fn lim(limits_json: &str) -> Limiter {
    parse(&format!(r#"{{"limits": {limits_json}}}"#)).unwrap_or_else(|e| panic!("{e}"))
}

fn consumer(name: &str) -> Consumer {
    Consumer {
        id: hex(&Sha256::digest(name.as_bytes())[..16]),
        name: Some(name.to_string()),
        source: Some(0),
    }
}

fn req() -> RequestFacts<'static> {
    RequestFacts {
        model: Some("m"),
        prompt_bytes: 400,
        max_tokens: Some(100),
        no_completion: false,
    }
}

fn header<'a>(d: &'a Admission, name: &str) -> Option<&'a str> {
    d.headers
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

fn allowed_count(l: &Limiter, s: &dyn SharedStore, c: &Consumer, now: u64, n: usize) -> usize {
    (0..n)
        .filter(|_| l.check(s, c, now, &req()).is_allowed())
        .count()
}

/// The bucket a consumer is stored in (decoded), for exactness checks.
fn bucket_of(l: &Limiter, s: &MemoryStore, c: &Consumer) -> Bucket {
    for k in s.keys() {
        if let Some(b) = Bucket::decode(&s.raw(&k).unwrap()) {
            if b.owner == c.id && k.starts_with(&l.prefix) {
                return b;
            }
        }
    }
    panic!("no bucket for {}", c.id);
}

fn cur(b: &Bucket, kind: LimitKind) -> u64 {
    b.entries.iter().find(|e| e.kind == kind).unwrap().w.cur
}

#[test]
fn empty_config_never_touches_the_store() {
    let l = lim("{}");
    assert!(!l.is_active());
    let d = l.check(&UnavailableStore, &consumer("a"), DAY0, &req());
    assert!(d.is_allowed());
    assert!(!d.degraded);
    assert!(d.headers.is_empty());
    let mut r = d.reservation;
    assert!(!l.release(&UnavailableStore, &mut r, DAY0));
    let s = l.settle(&UnavailableStore, &mut r, None, DAY0).unwrap();
    assert!(s.estimated);
}

#[test]
fn fixed_requests_per_minute() {
    for sem in BOTH {
        let s = MemoryStore::new(sem);
        let l = lim(r#"{"default": {"requests_per_minute": {"limit": 3, "window": "fixed"}}}"#);
        let a = consumer("a");
        let t = DAY0 + 10_000;
        for i in 0..3 {
            let d = l.check(&s, &a, t, &req());
            assert!(d.is_allowed());
            assert_eq!(header(&d, "x-ratelimit-limit-requests"), Some("3"));
            assert_eq!(
                header(&d, "x-ratelimit-remaining-requests"),
                Some((2 - i).to_string().as_str())
            );
            assert_eq!(header(&d, "x-ratelimit-reset-requests"), Some("50s"));
        }
        let d = l.check(&s, &a, t + 5_000, &req());
        let den = d.denial.clone().unwrap();
        assert_eq!(
            (den.kind, den.limit),
            (DenialKind::RateLimit, "requests_per_minute")
        );
        assert_eq!(den.retry_after_secs, Some(45));
        assert_eq!(header(&d, "retry-after"), Some("45"));
        assert_eq!(header(&d, "x-ratelimit-remaining-requests"), Some("0"));
        // Denied requests are not counted; another consumer is unaffected.
        assert_eq!(cur(&bucket_of(&l, &s, &a), LimitKind::RequestsPerMinute), 3);
        assert!(l.check(&s, &consumer("b"), t, &req()).is_allowed());
        // Last millisecond of the window: still denied; boundary: allowed again.
        assert!(!l.check(&s, &a, DAY0 + 59_999, &req()).is_allowed());
        assert_eq!(allowed_count(&l, &s, &a, DAY0 + 60_000, 5), 3);
    }
}

#[test]
fn sliding_requests_per_minute_uses_weighted_previous_window() {
    let s = MemoryStore::new(Semantics::Kong);
    let l = lim(r#"{"default": {"requests_per_minute": 10}}"#);
    let a = consumer("a");
    assert_eq!(allowed_count(&l, &s, &a, DAY0 + 59_000, 15), 10);
    // 15 s into the next window the previous 10 weigh 7.5, rounded up (a limit is a ceiling)
    // to 8: two more fit.
    assert_eq!(allowed_count(&l, &s, &a, DAY0 + 75_000, 5), 2);
    let d = l.check(&s, &a, DAY0 + 75_000, &req());
    let den = d.denial.unwrap();
    // used + 1 ≤ 10 needs ⌈10 × rem / 60000⌉ ≤ 7: rem ≤ 42000 ms, i.e. from +78000 ms (3 s).
    assert_eq!(den.retry_after_secs, Some(3));
    assert!(!l.check(&s, &a, DAY0 + 77_999, &req()).is_allowed());
    assert!(l.check(&s, &a, DAY0 + 78_000, &req()).is_allowed());
    // Two windows later nothing weighs.
    assert_eq!(allowed_count(&l, &s, &a, DAY0 + 180_000, 12), 10);
}

#[test]
fn every_request_period() {
    for (field, len) in [
        ("requests_per_second", 1_000u64),
        ("requests_per_minute", 60_000),
        ("requests_per_hour", 3_600_000),
        ("requests_per_day", DAY),
    ] {
        for window in ["fixed", "sliding"] {
            let s = MemoryStore::new(Semantics::Envoy);
            let l = lim(&format!(
                r#"{{"default": {{"{field}": {{"limit": 2, "window": "{window}"}}}}}}"#
            ));
            let a = consumer("a");
            assert_eq!(
                allowed_count(&l, &s, &a, DAY0 + len - 1, 3),
                2,
                "{field} {window}"
            );
            let d = l.check(&s, &a, DAY0 + len - 1, &req());
            assert_eq!(d.denial.unwrap().limit, field);
            let next = allowed_count(&l, &s, &a, DAY0 + len, 3);
            assert_eq!(
                next,
                if window == "fixed" { 2 } else { 0 },
                "{field} {window}"
            );
            assert_eq!(allowed_count(&l, &s, &a, DAY0 + 2 * len, 3), 2);
        }
    }
}

#[test]
fn token_reservation_and_settlement() {
    let s = MemoryStore::new(Semantics::Kong);
    let l = lim(r#"{"default": {"tokens_per_minute": {"limit": 1000, "window": "fixed"}}}"#);
    let a = consumer("a");
    let t = DAY0 + 1_000;
    // Estimate: 400 bytes / 4 + 100 max_tokens = 200.
    let mut d1 = l.check(&s, &a, t, &req());
    assert_eq!(d1.reservation.reserved_tokens(), 200);
    assert_eq!(header(&d1, "x-ratelimit-remaining-tokens"), Some("800"));
    assert_eq!(header(&d1, "x-ratelimit-limit-tokens"), Some("1000"));
    let mut others: Vec<Admission> = (0..4).map(|_| l.check(&s, &a, t, &req())).collect();
    assert!(others.iter().all(Admission::is_allowed));
    // 1000 reserved: a fifth is denied.
    let d = l.check(&s, &a, t, &req());
    assert_eq!(d.denial.as_ref().unwrap().limit, "tokens_per_minute");
    // Actual usage 50 (−150): room for another request.
    let u = Usage {
        input_tokens: 30,
        output_tokens: 20,
        total_tokens: 50,
        ..Usage::default()
    };
    let st = l.settle(&s, &mut d1.reservation, Some(&u), t + 10).unwrap();
    assert_eq!((st.estimated, st.tokens, st.token_delta), (false, 50, -150));
    assert_eq!(
        l.settle(&s, &mut d1.reservation, Some(&u), t + 10),
        None,
        "settle is idempotent"
    );
    assert_eq!(cur(&bucket_of(&l, &s, &a), LimitKind::TokensPerMinute), 850);
    assert!(!l.check(&s, &a, t, &req()).is_allowed());
    let smaller = RequestFacts {
        max_tokens: Some(50),
        ..req()
    };
    assert!(l.check(&s, &a, t, &smaller).is_allowed());
    assert_eq!(
        cur(&bucket_of(&l, &s, &a), LimitKind::TokensPerMinute),
        1000
    );
    // Positive adjustment: usage above the estimate.
    let big = Usage {
        input_tokens: 100,
        output_tokens: 400,
        ..Usage::default()
    };
    let st = l
        .settle(&s, &mut others[0].reservation, Some(&big), t + 20)
        .unwrap();
    assert_eq!(st.token_delta, 300);
    assert_eq!(
        cur(&bucket_of(&l, &s, &a), LimitKind::TokensPerMinute),
        1300
    );
    // No usage: the estimate stands.
    let st = l
        .settle(&s, &mut others[1].reservation, None, t + 30)
        .unwrap();
    assert!(st.estimated);
    assert_eq!((st.tokens, st.token_delta), (200, 0));
    assert_eq!(
        cur(&bucket_of(&l, &s, &a), LimitKind::TokensPerMinute),
        1300
    );
    // A request alone bigger than the limit can never pass.
    let huge = RequestFacts {
        model: None,
        prompt_bytes: 0,
        max_tokens: Some(5000),
        no_completion: false,
    };
    let d = l.check(&s, &a, t + 120_000, &huge);
    assert_eq!(d.denial.unwrap().retry_after_secs, None);
    assert!(header(
        &l.check(&s, &a, t + 120_000, &req()),
        "x-ratelimit-remaining-tokens"
    )
    .is_some());
}

#[test]
fn settlement_after_window_rolled() {
    let s = MemoryStore::new(Semantics::Envoy);
    let l = lim(r#"{"default": {"tokens_per_minute": 1000}}"#);
    let a = consumer("a");
    let mut d = l.check(&s, &a, DAY0 + 50_000, &req());
    // Settled in the next window: the previous window's count is corrected.
    let u = Usage {
        input_tokens: 10,
        ..Usage::default()
    };
    l.settle(&s, &mut d.reservation, Some(&u), DAY0 + 70_000)
        .unwrap();
    let b = bucket_of(&l, &s, &a);
    let e = b.entries[0];
    assert_eq!((e.w.start, e.w.cur, e.w.prev), (DAY0 + 60_000, 0, 10));
    // Settled two windows later: a refund is dropped, an extra charge lands in the current window.
    let mut d = l.check(&s, &a, DAY0 + 70_000, &req());
    let mut d2 = l.check(&s, &a, DAY0 + 70_000, &req());
    l.settle(&s, &mut d.reservation, Some(&u), DAY0 + 190_000)
        .unwrap();
    let big = Usage {
        input_tokens: 500,
        ..Usage::default()
    };
    l.settle(&s, &mut d2.reservation, Some(&big), DAY0 + 190_000)
        .unwrap();
    let e = bucket_of(&l, &s, &a).entries[0];
    assert_eq!((e.w.start, e.w.cur, e.w.prev), (DAY0 + 180_000, 300, 0));
}

#[test]
fn token_count_modes() {
    for (mode, reserved, actual) in [
        ("prompt", 100, 30),
        ("completion", 100, 20),
        ("total", 200, 50),
    ] {
        let s = MemoryStore::new(Semantics::Kong);
        let l = lim(&format!(
            r#"{{"default": {{"tokens_per_day": 100000, "token_count": "{mode}"}}}}"#
        ));
        let a = consumer("a");
        let mut d = l.check(&s, &a, DAY0, &req());
        assert_eq!(d.reservation.reserved_tokens(), reserved, "{mode}");
        let u = Usage {
            input_tokens: 30,
            output_tokens: 20,
            ..Usage::default()
        };
        let st = l.settle(&s, &mut d.reservation, Some(&u), DAY0).unwrap();
        assert_eq!(st.tokens, actual, "{mode}");
        assert_eq!(cur(&bucket_of(&l, &s, &a), LimitKind::TokensPerDay), actual);
    }
}

#[test]
fn default_completion_estimate_without_max_tokens() {
    let s = MemoryStore::new(Semantics::Kong);
    let l = lim(
        r#"{"default": {"tokens_per_day": 100000}, "estimate": {"default_completion_tokens": 300, "bytes_per_token": 3}}"#,
    );
    let f = RequestFacts {
        model: None,
        prompt_bytes: 10,
        max_tokens: None,
        no_completion: false,
    };
    let d = l.check(&s, &consumer("a"), DAY0, &f);
    assert_eq!(d.reservation.reserved_tokens(), 4 + 300);
}

/// A request without a body (`GET /v1/models`) or an embeddings request cannot produce completion
/// tokens: nothing is reserved for one, and a request without usage in its answer (the model
/// list) is charged nothing but the request itself.
#[test]
fn no_completion_reserves_no_completion_tokens() {
    let s = MemoryStore::new(Semantics::Envoy);
    let l = lim(
        r#"{"default": {"tokens_per_minute": 5000, "requests_per_minute": 100, "cost_per_day": 10},
            "pricing": {"default": {"input": 1000, "output": 1000}}}"#,
    );
    let a = consumer("a");
    let models = RequestFacts {
        no_completion: true,
        ..RequestFacts::default()
    };
    for i in 0..3u64 {
        let mut d = l.check(&s, &a, DAY0 + i, &models);
        assert!(d.is_allowed());
        assert_eq!(d.reservation.reserved_tokens(), 0);
        assert_eq!(d.reservation.reserved_cost_micros(), 0);
        assert_eq!(header(&d, "x-ratelimit-remaining-tokens"), Some("5000"));
        let st = l.settle(&s, &mut d.reservation, None, DAY0 + i).unwrap();
        assert!(st.estimated);
        assert_eq!((st.tokens, st.cost_micros), (0, 0));
    }
    let b = bucket_of(&l, &s, &a);
    assert_eq!(cur(&b, LimitKind::TokensPerMinute), 0);
    assert_eq!(cur(&b, LimitKind::RequestsPerMinute), 3);
    // Embeddings: the prompt estimate only, even with a `max_tokens` in the body.
    let embed = RequestFacts {
        model: None,
        prompt_bytes: 40,
        max_tokens: Some(500),
        no_completion: true,
    };
    let d = l.check(&s, &a, DAY0 + 10, &embed);
    assert_eq!(d.reservation.reserved_tokens(), 10);
    // The same prompt that can have a completion reserves `max_tokens` (or the default) too.
    let chat = RequestFacts {
        no_completion: false,
        max_tokens: None,
        ..embed
    };
    assert_eq!(
        l.check(&s, &a, DAY0 + 11, &chat)
            .reservation
            .reserved_tokens(),
        10 + 1024
    );
}

const PRICED: &str = r#""pricing": {"models": {"m": {"input": 2.0, "output": 10.0, "cached_input": 1.0}},
    "default": {"input": 1.0, "output": 1.0}}"#;

#[test]
fn cost_per_day_with_price_table() {
    let s = MemoryStore::new(Semantics::Envoy);
    // 0.01 units a day = 10000 micro.
    let l = lim(&format!(
        r#"{{"default": {{"cost_per_day": 0.01}}, {PRICED}}}"#
    ));
    let a = consumer("a");
    // Estimate: 100 prompt × 2 + 100 completion × 10 = 1200 per M → 1200 micro.
    let mut d = l.check(&s, &a, DAY0 + 5, &req());
    assert_eq!(d.reservation.reserved_cost_micros(), 1200);
    // Actual: 1000 input of which 400 cached, 50 output, response model priced.
    let u = Usage {
        input_tokens: 1000,
        cached_input_tokens: 400,
        output_tokens: 50,
        model: Some("m-2024".into()),
        ..Usage::default()
    };
    // "m-2024" is not listed → request model "m": 600×2 + 400×1 + 50×10 = 2100 micro.
    let st = l
        .settle(&s, &mut d.reservation, Some(&u), DAY0 + 10)
        .unwrap();
    assert_eq!((st.cost_micros, st.cost_delta), (2100, 900));
    // 2100 spent; 6 more reservations of 1200 fit (9300), the 7th does not.
    assert_eq!(allowed_count(&l, &s, &a, DAY0 + 20, 10), 6);
    let d = l.check(&s, &a, DAY0 + 20, &req());
    let den = d.denial.unwrap();
    assert_eq!(den.limit, "cost_per_day");
    // Sliding day: 9300 must decay to ≤ 8800 in the next day, the weight rounded up:
    // ≈ 86400 + 86400 × 500/9300 s.
    let wait = den.retry_after_secs.unwrap();
    assert!((86_400 + 4_640..86_400 + 4_650).contains(&wait), "{wait}");
    // Unknown model: default price.
    let f = RequestFacts {
        model: Some("other"),
        prompt_bytes: 4,
        max_tokens: Some(1),
        no_completion: false,
    };
    let d = l.check(&s, &consumer("b"), DAY0, &f);
    assert_eq!(d.reservation.reserved_cost_micros(), 2);
}

#[test]
fn cost_per_month_uses_calendar_months() {
    let s = MemoryStore::new(Semantics::Kong);
    let l = lim(&format!(
        r#"{{"default": {{"cost_per_month": {{"limit": 0.0024, "window": "fixed"}}}}, {PRICED}}}"#
    ));
    let a = consumer("a");
    // 2024-03-10: two 1200-micro reservations fit in March.
    assert_eq!(allowed_count(&l, &s, &a, DAY0, 3), 2);
    assert_eq!(allowed_count(&l, &s, &a, DAY0 + 21 * DAY, 1), 0); // 2024-03-31
    let april = DAY0 + 22 * DAY; // 2024-04-01
    let d = l.check(&s, &a, april - 1, &req());
    assert_eq!(d.denial.unwrap().retry_after_secs, Some(1));
    assert_eq!(allowed_count(&l, &s, &a, april, 3), 2);
}

#[test]
fn concurrency_acquire_release_idempotent() {
    for sem in BOTH {
        let s = MemoryStore::new(sem);
        let l = lim(r#"{"default": {"concurrent_requests": 2}}"#);
        let a = consumer("a");
        let mut r1 = l.check(&s, &a, DAY0, &req()).reservation;
        let mut r2 = l.check(&s, &a, DAY0, &req()).reservation;
        assert!(r1.holds_concurrency() && r2.holds_concurrency());
        let mut d3 = l.check(&s, &a, DAY0, &req());
        let den = d3.denial.clone().unwrap();
        assert_eq!(
            (den.limit, den.retry_after_secs),
            ("concurrent_requests", Some(1))
        );
        // Releasing a denied reservation does nothing.
        assert!(!l.release(&s, &mut d3.reservation, DAY0));
        assert!(l.release(&s, &mut r1, DAY0 + 1));
        assert!(
            !l.release(&s, &mut r1, DAY0 + 2),
            "second release is a no-op"
        );
        assert!(!r1.holds_concurrency());
        assert_eq!(bucket_of(&l, &s, &a).inflight, 1);
        let mut r4 = l.check(&s, &a, DAY0, &req()).reservation;
        assert!(!l.check(&s, &a, DAY0, &req()).is_allowed());
        // Settling does not release; release after settle does.
        l.settle(&s, &mut r2, None, DAY0);
        assert_eq!(bucket_of(&l, &s, &a).inflight, 2);
        assert!(l.release(&s, &mut r2, DAY0));
        assert!(l.release(&s, &mut r4, DAY0));
        assert_eq!(bucket_of(&l, &s, &a).inflight, 0);
    }
}

/// A consumer limited only by concurrency gets rate-limit headers too: on its 429 (0 left) and on
/// each admitted request (slots left after its own).
#[test]
fn concurrency_only_consumer_gets_headers() {
    let s = MemoryStore::new(Semantics::Envoy);
    let l = lim(r#"{"default": {"concurrent_requests": 2}}"#);
    let a = consumer("a");
    let d1 = l.check(&s, &a, DAY0, &req());
    assert_eq!(
        header(&d1, "x-ratelimit-limit-concurrent-requests"),
        Some("2")
    );
    assert_eq!(
        header(&d1, "x-ratelimit-remaining-concurrent-requests"),
        Some("1")
    );
    let d2 = l.check(&s, &a, DAY0, &req());
    assert_eq!(
        header(&d2, "x-ratelimit-remaining-concurrent-requests"),
        Some("0")
    );
    let d3 = l.check(&s, &a, DAY0, &req());
    assert_eq!(d3.denial.as_ref().unwrap().limit, "concurrent_requests");
    assert_eq!(
        header(&d3, "x-ratelimit-limit-concurrent-requests"),
        Some("2")
    );
    assert_eq!(
        header(&d3, "x-ratelimit-remaining-concurrent-requests"),
        Some("0")
    );
    assert_eq!(header(&d3, "retry-after"), Some("1"));
    // No request or token limit: none of those headers.
    assert_eq!(header(&d3, "x-ratelimit-limit-requests"), None);
    assert_eq!(header(&d3, "x-ratelimit-limit-tokens"), None);
}

#[test]
fn concurrency_zero_denies_forever_and_leaked_leases_expire() {
    let s = MemoryStore::new(Semantics::Kong);
    let l = lim(r#"{"default": {"concurrent_requests": 1}, "concurrency_lease_secs": 60}"#);
    let a = consumer("a");
    let _leaked = l.check(&s, &a, DAY0, &req()); // never released
    assert!(!l.check(&s, &a, DAY0 + 59_999, &req()).is_allowed());
    assert!(l.check(&s, &a, DAY0 + 60_000, &req()).is_allowed());
    let l0 = lim(r#"{"default": {"concurrent_requests": 0}}"#);
    let d = l0.check(&s, &consumer("z"), DAY0, &req());
    assert_eq!(d.denial.unwrap().retry_after_secs, None);
}

#[test]
fn global_budget_trips_and_resets_at_utc_midnight() {
    for sem in BOTH {
        let s = MemoryStore::new(sem);
        let l = lim(&format!(
            r#"{{"global_budget": {{"cost_per_day": 0.005}}, {PRICED}}}"#
        ));
        assert!(l.is_active());
        let t = DAY0 + 23 * 3_600_000; // 23:00 UTC
                                       // Reservations of 1200 micro: spend 0, 1200, 2400, 3600, 4800 → all five admitted.
        let mut rs: Vec<Reservation> = (0..5)
            .map(|i| {
                let d = l.check(&s, &consumer(&format!("c{i}")), t, &req());
                assert!(d.is_allowed());
                d.reservation
            })
            .collect();
        assert_eq!(l.global_spent_micros(&s, t).unwrap(), 6000);
        let d = l.check(&s, &consumer("fresh"), t, &req());
        let den = d.denial.clone().unwrap();
        assert_eq!(
            (den.kind, den.limit),
            (DenialKind::BudgetExceeded, "global_budget")
        );
        assert_eq!(den.retry_after_secs, Some(3600));
        assert_eq!(header(&d, "retry-after"), Some("3600"));
        // Refunds below the budget re-close the breaker the same day.
        let small = Usage {
            input_tokens: 1,
            ..Usage::default()
        };
        for r in rs.iter_mut().take(2) {
            l.settle(&s, r, Some(&small), t + 1).unwrap();
        }
        assert_eq!(l.global_spent_micros(&s, t).unwrap(), 6000 - 2 * 1198);
        // 3604 → 4804 → 6004: two more admitted, then tripped again.
        assert!(l.check(&s, &consumer("fresh"), t + 2, &req()).is_allowed());
        assert!(l.check(&s, &consumer("fresh"), t + 3, &req()).is_allowed());
        assert!(!l.check(&s, &consumer("fresh"), t + 4, &req()).is_allowed());
        // Midnight: reset.
        assert!(l
            .check(&s, &consumer("fresh"), DAY0 + DAY, &req())
            .is_allowed());
        assert_eq!(l.global_spent_micros(&s, DAY0 + DAY).unwrap(), 1200);
        // A settlement of yesterday's request does not refund today's spend.
        l.settle(&s, &mut rs[3], Some(&small), DAY0 + DAY + 1)
            .unwrap();
        assert_eq!(l.global_spent_micros(&s, DAY0 + DAY).unwrap(), 1200);
    }
}

#[test]
fn overrides_precedence_and_anonymous() {
    let team_a = consumer("team-a");
    let cfg = format!(
        r#"{{
        "default": {{"requests_per_minute": 2, "tokens_per_day": 100000}},
        "anonymous": {{"requests_per_minute": 1}},
        "overrides": [
            {{"match": {{"id": "{}"}}, "limits": {{"requests_per_minute": 5}}}},
            {{"match": {{"name": "team-a"}}, "limits": {{"requests_per_minute": 50}}}},
            {{"match": {{"name_prefix": "batch-"}}, "limits": {{"requests_per_minute": "off"}}}},
            {{"match": {{"name_glob": "svc-*-prod"}}, "limits": {{"requests_per_minute": 3, "tokens_per_day": "off"}}}}
        ]}}"#,
        team_a.id
    );
    let l = lim(&cfg);
    let s = MemoryStore::new(Semantics::Kong);
    // id match comes first.
    assert_eq!(allowed_count(&l, &s, &team_a, DAY0, 10), 5);
    assert_eq!(allowed_count(&l, &s, &consumer("batch-1"), DAY0, 30), 30);
    assert_eq!(allowed_count(&l, &s, &consumer("svc-x-prod"), DAY0, 10), 3);
    assert_eq!(allowed_count(&l, &s, &consumer("svc-x-dev"), DAY0, 10), 2);
    // Unnamed (secret, unlabelled) consumer: only id matches apply.
    let unnamed = Consumer {
        name: None,
        ..consumer("batch-2")
    };
    assert_eq!(allowed_count(&l, &s, &unnamed, DAY0, 10), 2);
    // Anonymous: own bucket and limits (merged over default).
    let anon = Consumer::anonymous();
    assert_eq!(allowed_count(&l, &s, &anon, DAY0, 10), 1);
    let d = l.check(&s, &anon, DAY0 + 180_000, &req());
    assert_eq!(d.reservation.reserved_tokens(), 200);
    assert!(s.keys().iter().any(|k| k.ends_with("/anonymous")));
    // svc-*-prod removed the token limit: no token reservation.
    let d = l.check(&s, &consumer("svc-y-prod"), DAY0, &req());
    assert!(header(&d, "x-ratelimit-limit-tokens").is_none());
}

#[test]
fn consumer_cap_overflow_and_slot_reuse() {
    let s = MemoryStore::new(Semantics::Envoy);
    let l = lim(
        r#"{"default": {"requests_per_minute": 2}, "overflow": {"requests_per_minute": 3}, "max_consumers": 4}"#,
    );
    // Fill the four slots.
    for i in 0..4 {
        assert!(l
            .check(&s, &consumer(&format!("c{i}")), DAY0, &req())
            .is_allowed());
    }
    // Newcomers share the overflow bucket with its own limit.
    let mut ok = 0;
    for i in 4..10 {
        ok += usize::from(
            l.check(&s, &consumer(&format!("c{i}")), DAY0, &req())
                .is_allowed(),
        );
    }
    assert_eq!(ok, 3);
    assert_eq!(s.len(), 5, "{:?}", s.keys());
    // Tracked consumers keep their own bucket.
    assert!(l.check(&s, &consumer("c0"), DAY0, &req()).is_allowed());
    assert!(!l.check(&s, &consumer("c0"), DAY0, &req()).is_allowed());
    // Two minutes later every slot is idle and reusable; keys stay bounded.
    for i in 10..14 {
        assert!(l
            .check(&s, &consumer(&format!("c{i}")), DAY0 + 120_000, &req())
            .is_allowed());
    }
    assert_eq!(s.len(), 5);
    for i in 10..14 {
        let b = bucket_of(&l, &s, &consumer(&format!("c{i}")));
        assert_eq!(b.entries[0].w.cur, 1);
    }
    let deny =
        lim(r#"{"default": {"requests_per_minute": 2}, "max_consumers": 1, "when_full": "deny"}"#);
    let s = MemoryStore::new(Semantics::Kong);
    assert!(deny.check(&s, &consumer("a"), DAY0, &req()).is_allowed());
    let d = deny.check(&s, &consumer("b"), DAY0, &req());
    let den = d.denial.unwrap();
    assert_eq!(
        (den.kind, den.limit),
        (DenialKind::TooManyConsumers, "max_consumers")
    );
    // A consumer with in-flight requests keeps its slot even when its windows are idle.
    let c =
        lim(r#"{"default": {"concurrent_requests": 5}, "max_consumers": 1, "when_full": "deny"}"#);
    let s = MemoryStore::new(Semantics::Kong);
    let mut r = c.check(&s, &consumer("a"), DAY0, &req()).reservation;
    assert!(!c
        .check(&s, &consumer("b"), DAY0 + 100_000, &req())
        .is_allowed());
    assert!(c.release(&s, &mut r, DAY0 + 100_000));
    assert!(c
        .check(&s, &consumer("b"), DAY0 + 100_001, &req())
        .is_allowed());
}

#[test]
fn foreign_or_aliased_values_are_never_claimed_and_eviction_is_survived() {
    let s = MemoryStore::new(Semantics::Kong);
    let l =
        lim(r#"{"default": {"requests_per_minute": 2}, "max_consumers": 1, "when_full": "deny"}"#);
    s.set(&l.slot_key(0), b"someone else's data", 0).unwrap();
    assert!(!l.check(&s, &consumer("a"), DAY0, &req()).is_allowed());
    assert_eq!(s.raw(&l.slot_key(0)).unwrap(), b"someone else's data");
    // Eviction (Kong): state is lost, counting restarts; release of a lost slot is a no-op.
    let l = lim(r#"{"default": {"requests_per_minute": 2, "concurrent_requests": 1}}"#);
    let a = consumer("a");
    let mut r = l.check(&s, &a, DAY0, &req()).reservation;
    for k in s.keys() {
        s.evict(&k);
    }
    assert!(!l.release(&s, &mut r, DAY0));
    assert_eq!(allowed_count(&l, &s, &a, DAY0, 3), 1);
}

#[test]
fn failure_modes() {
    let allow = lim(&format!(
        r#"{{"default": {{"requests_per_minute": 1}}, "global_budget": {{"cost_per_day": 1}}, {PRICED}}}"#
    ));
    let deny = lim(&format!(
        r#"{{"default": {{"requests_per_minute": 1}}, "global_budget": {{"cost_per_day": 1}}, "failure_mode": "deny", {PRICED}}}"#
    ));
    let mem = MemoryStore::new(Semantics::Envoy);
    let losing = AlwaysLosingStore(&mem);
    for store in [&UnavailableStore as &dyn SharedStore, &losing] {
        let d = allow.check(store, &consumer("a"), DAY0, &req());
        assert!(d.is_allowed() && d.degraded);
        let mut r = d.reservation;
        assert!(!allow.release(store, &mut r, DAY0));
        let d = deny.check(store, &consumer("a"), DAY0, &req());
        let den = d.denial.clone().unwrap();
        assert_eq!(
            (den.kind, den.limit),
            (DenialKind::LimiterUnavailable, "shared_data")
        );
        assert!(d.degraded);
    }
    // CAS never winning uses exactly cas_retries attempts.
    let l =
        lim(r#"{"default": {"requests_per_minute": 1}, "cas_retries": 5, "failure_mode": "deny"}"#);
    let mem = MemoryStore::new(Semantics::Kong);
    let before = mem.op_counts().0;
    assert!(!l
        .check(&AlwaysLosingStore(&mem), &consumer("a"), DAY0, &req())
        .is_allowed());
    // Each attempt probes the 8 candidate slots (all absent) then tries to create (1 get).
    assert_eq!(mem.op_counts().0 - before, 5 * (8 + 1));
    // Settling against a dead store reports the error and does not panic.
    let s = MemoryStore::new(Semantics::Kong);
    let t = lim(r#"{"default": {"tokens_per_day": 1000}}"#);
    let mut r = t.check(&s, &consumer("a"), DAY0, &req()).reservation;
    let st = t
        .settle(&UnavailableStore, &mut r, Some(&Usage::default()), DAY0)
        .unwrap();
    assert_eq!(st.error, Some(StoreError::Unavailable));
}

/// Another worker runs a full `check` (and sometimes a release) between our get and set.
#[test]
fn cas_exact_under_injected_races() {
    for sem in BOTH {
        for window in ["fixed", "sliding"] {
            let mem = MemoryStore::new(sem);
            let l = lim(&format!(
                r#"{{"default": {{"requests_per_minute": {{"limit": 1000000, "window": "{window}"}},
                    "tokens_per_minute": 100000000, "concurrent_requests": 100000}}}}"#
            ));
            let a = consumer("a");
            let other_allowed = std::sync::atomic::AtomicU64::new(0);
            let racing = RacingStore::new(&mem, |inner: &MemoryStore, _key: &str, n| {
                // Race on two of every three writes, including the very first (key creation).
                if n % 3 != 2 {
                    let d = l.check(inner, &a, DAY0 + 1, &req());
                    assert!(d.is_allowed());
                    other_allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
            let mut mine = Vec::new();
            for _ in 0..100 {
                let d = l.check(&racing, &a, DAY0 + 1, &req());
                assert!(d.is_allowed() && !d.degraded);
                mine.push(d.reservation);
            }
            let others = other_allowed.load(std::sync::atomic::Ordering::Relaxed);
            let b = bucket_of(&l, &mem, &a);
            assert_eq!(
                cur(&b, LimitKind::RequestsPerMinute),
                100 + others,
                "{sem:?}"
            );
            assert_eq!(cur(&b, LimitKind::TokensPerMinute), (100 + others) * 200);
            assert_eq!(b.inflight as u64, 100 + others);
            // Racing releases and settlements are exact too.
            let u = Usage {
                input_tokens: 50,
                ..Usage::default()
            };
            for r in &mut mine {
                l.settle(&racing, r, Some(&u), DAY0 + 2).unwrap();
                assert!(l.release(&racing, r, DAY0 + 2));
            }
            let others2 = other_allowed.load(std::sync::atomic::Ordering::Relaxed);
            let b = bucket_of(&l, &mem, &a);
            assert_eq!(cur(&b, LimitKind::RequestsPerMinute), 100 + others2);
            assert_eq!(
                cur(&b, LimitKind::TokensPerMinute),
                100 * 50 + others2 * 200
            );
            assert_eq!(b.inflight as u64, others2);
        }
    }
}

/// Simulated workers interleaving get/set step by step on one store.
#[test]
fn interleaved_workers_never_over_admit() {
    for sem in BOTH {
        let mem = MemoryStore::new(sem);
        let l = lim(
            r#"{"default": {"requests_per_minute": {"limit": 50, "window": "fixed"}}, "cas_retries": 1000}"#,
        );
        let a = consumer("a");
        // Each "worker" checks; a racing wrapper lets worker k+1 run before worker k's write.
        let admitted = std::sync::atomic::AtomicU64::new(0);
        let nested = RacingStore::new(&mem, |inner: &MemoryStore, _: &str, n| {
            if n % 2 == 0 && l.check(inner, &a, DAY0, &req()).is_allowed() {
                admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        for _ in 0..200 {
            if l.check(&nested, &a, DAY0, &req()).is_allowed() {
                admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        assert_eq!(
            admitted.load(std::sync::atomic::Ordering::Relaxed),
            50,
            "{sem:?}"
        );
        assert_eq!(
            cur(&bucket_of(&l, &mem, &a), LimitKind::RequestsPerMinute),
            50
        );
    }
}

#[test]
fn threads_over_a_mutex_store_are_exact() {
    for sem in BOTH {
        let mem = Arc::new(MemoryStore::new(sem));
        let l = Arc::new(lim(&format!(
            r#"{{"default": {{"requests_per_minute": {{"limit": 300, "window": "fixed"}},
                "tokens_per_day": 100000000, "concurrent_requests": 1000}},
                "global_budget": {{"cost_per_day": 1000}}, "cas_retries": 1000, {PRICED}}}"#
        )));
        let a = consumer("shared");
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (mem, l, a) = (mem.clone(), l.clone(), a.clone());
                std::thread::spawn(move || {
                    let mut admitted = 0u64;
                    for _ in 0..150 {
                        let mut d = l.check(&*mem, &a, DAY0 + 5, &req());
                        if d.is_allowed() {
                            admitted += 1;
                            let u = Usage {
                                input_tokens: 7,
                                output_tokens: 3,
                                ..Usage::default()
                            };
                            let st = l.settle(&*mem, &mut d.reservation, Some(&u), DAY0 + 6);
                            assert_eq!(st.unwrap().error, None);
                            assert!(l.release(&*mem, &mut d.reservation, DAY0 + 6));
                        }
                    }
                    admitted
                })
            })
            .collect();
        let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(total, 300, "{sem:?}");
        let b = bucket_of(&l, &mem, &a);
        assert_eq!(cur(&b, LimitKind::RequestsPerMinute), 300);
        assert_eq!(cur(&b, LimitKind::TokensPerDay), 300 * 10);
        assert_eq!(b.inflight, 0);
        // Each admitted request settles at 7 × 2 + 3 × 10 = 44 micro-units.
        assert_eq!(
            l.global_spent_micros(&*mem, DAY0 + 6).unwrap(),
            300 * 44,
            "{sem:?}"
        );
    }
}

#[test]
fn threads_many_consumers_bounded_keys() {
    let mem = Arc::new(MemoryStore::new(Semantics::Envoy));
    let l = Arc::new(lim(
        r#"{"default": {"requests_per_hour": 3}, "max_consumers": 16, "cas_retries": 1000}"#,
    ));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (mem, l) = (mem.clone(), l.clone());
            std::thread::spawn(move || {
                for i in 0..200 {
                    l.check(
                        &*mem,
                        &consumer(&format!("c{}", (i * 7 + t) % 40)),
                        DAY0,
                        &req(),
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(mem.len() <= 17, "{}", mem.len());
    // No consumer got more than its limit in any bucket.
    for k in mem.keys() {
        let b = Bucket::decode(&mem.raw(&k).unwrap()).unwrap();
        if b.owner != "overflow" {
            assert!(b.entries[0].w.cur <= 3, "{k}: {}", b.entries[0].w.cur);
        }
    }
}

#[test]
fn config_errors_name_fields() {
    let err = |j: &str| parse(&format!(r#"{{"limits": {j}}}"#)).unwrap_err();
    let e = err(r#"{"overrides": [{"match": {"name": "a"}}, {"match": {}}]}"#);
    assert_eq!(e.field, "limits.overrides[1].match");
    let e = err(r#"{"overrides": [{"match": {"name": "a", "id": "x"}}]}"#);
    assert_eq!(e.field, "limits.overrides[0].match");
    let e = err(r#"{"overrides": [{"match": {"id": "nothex"}}]}"#);
    assert_eq!(e.field, "limits.overrides[0].match.id");
    let e = err(r#"{"overrides": [{"match": {"name_glob": ""}}]}"#);
    assert_eq!(e.field, "limits.overrides[0].match.name_glob");
    let e =
        err(r#"{"overrides": [{"match": {"name": "a"}, "limits": {"requests_per_minute": 1.5}}]}"#);
    assert_eq!(e.field, "limits.overrides[0].limits.requests_per_minute");
    let e = err(r#"{"default": {"requests_per_hour": -1}}"#);
    assert_eq!(e.field, "limits.default.requests_per_hour");
    let e = err(r#"{"default": {"tokens_per_minute": "lots"}}"#);
    assert_eq!(e.field, "limits.default.tokens_per_minute");
    let e = err(r#"{"default": {"tokens_per_minute": {"limit": 5, "window": "rolling"}}}"#);
    assert_eq!(e.field, "limits.default.tokens_per_minute.window");
    let e = err(r#"{"default": {"tokens_per_minute": {"limit": 5, "windw": "fixed"}}}"#);
    assert_eq!(e.field, "limits.default.tokens_per_minute.windw");
    let e = err(r#"{"default": {"concurrent_requests": {"limit": 5, "window": "fixed"}}}"#);
    assert_eq!(e.field, "limits.default.concurrent_requests");
    let e = err(r#"{"default": {"cost_per_day": 5}}"#);
    assert_eq!(e.field, "limits.pricing");
    let e = err(r#"{"global_budget": {"cost_per_day": 5}}"#);
    assert_eq!(e.field, "limits.pricing");
    let e = err(r#"{"anonymous": {"cost_per_month": -5}}"#);
    assert_eq!(e.field, "limits.anonymous.cost_per_month");
    let e = err(r#"{"max_consumers": 0}"#);
    assert_eq!(e.field, "limits.max_consumers");
    let e = err(r#"{"cas_retries": 0}"#);
    assert_eq!(e.field, "limits.cas_retries");
    let e = err(r#"{"key_prefix": ""}"#);
    assert_eq!(e.field, "limits.key_prefix");
    let e = err(r#"{"estimate": {"bytes_per_token": 0}}"#);
    assert_eq!(e.field, "limits.estimate.bytes_per_token");
    let e = err(r#"{"failure_mode": "panic"}"#);
    assert_eq!(e.field, "limits.failure_mode");
    let e = err(r#"{"defaults": {}}"#);
    assert_eq!(e.field, "limits.defaults");
    let e = err(r#"{"pricing": {"models": {"gpt": {"input": 1}}}}"#);
    assert_eq!(e.field, "limits.pricing.models.gpt");
    // Valid: numbers, objects, "off".
    parse(r#"{"limits": {"default": {"requests_per_minute": {"limit": 5}, "tokens_per_day": "off"}}}"#).unwrap();
    assert!(Limiter::new(&LimitsConfig::default()).is_ok());
}

#[test]
fn duration_format() {
    assert_eq!(duration(20), "20ms");
    assert_eq!(duration(0), "0ms");
    assert_eq!(duration(3_600_000), "1h0m0s");
    assert_eq!(duration(1000), "1s");
    assert_eq!(duration(1001), "2s");
    assert_eq!(duration(360_000), "6m0s");
    assert_eq!(duration(3_723_000), "1h2m3s");
}

/// Fails every operation on keys ending in `suffix`.
struct FailKeys<'a>(&'a MemoryStore, &'static str);

impl SharedStore for FailKeys<'_> {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        if key.ends_with(self.1) {
            return Err(StoreError::Unavailable);
        }
        self.0.get(key)
    }
    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        if key.ends_with(self.1) {
            return Err(StoreError::Unavailable);
        }
        self.0.set(key, value, cas)
    }
}

#[test]
fn global_budget_pricing_sources_and_partial_failures() {
    let mem = MemoryStore::new(Semantics::Kong);
    let l = lim(
        r#"{"global_budget": {"cost_per_day": 100}, "default": {"cost_per_day": 100},
            "pricing": {"models": {"gpt-4o*": {"input": 1, "output": 1}, "big": {"input": 1000, "output": 1000}}}}"#,
    );
    let a = consumer("a");
    // Unpriced request model and no default: nothing reserved, the response's model is charged.
    let f = RequestFacts {
        model: Some("alias"),
        prompt_bytes: 4000,
        max_tokens: Some(10),
        no_completion: false,
    };
    let mut d = l.check(&mem, &a, DAY0, &f);
    assert_eq!(d.reservation.reserved_cost_micros(), 0);
    let u = Usage {
        input_tokens: 1000,
        output_tokens: 1000,
        model: Some("big".into()),
        ..Usage::default()
    };
    let st = l.settle(&mem, &mut d.reservation, Some(&u), DAY0).unwrap();
    assert_eq!(st.cost_micros, 2_000_000);
    assert_eq!(l.global_spent_micros(&mem, DAY0).unwrap(), 2_000_000);
    assert_eq!(
        cur(&bucket_of(&l, &mem, &a), LimitKind::CostPerDay),
        2_000_000
    );
    // Global key failing: admitted (degraded), and settlement does not refund what was never
    // reserved there.
    let broken = FailKeys(&mem, "global");
    let f = RequestFacts {
        model: Some("gpt-4o-mini"),
        prompt_bytes: 4_000_000,
        max_tokens: Some(0),
        no_completion: false,
    };
    let mut d = l.check(&broken, &a, DAY0, &f);
    assert!(d.is_allowed() && d.degraded);
    assert_eq!(d.reservation.reserved_cost_micros(), 1_000_000);
    l.settle(&mem, &mut d.reservation, Some(&Usage::default()), DAY0)
        .unwrap();
    assert_eq!(l.global_spent_micros(&mem, DAY0).unwrap(), 2_000_000);
    assert_eq!(
        cur(&bucket_of(&l, &mem, &a), LimitKind::CostPerDay),
        2_000_000
    );
}

/// Issue 16: `settle_and_release` (the end of a request) leaves every bucket exactly as
/// `settle` then `release` do, in one read and one write of the consumer's bucket instead of two
/// of each when both change it; and it still releases when the settlement writes nothing.
#[test]
fn settle_and_release_is_settle_then_release_in_one_write() {
    let usage = Usage {
        input_tokens: 30,
        output_tokens: 7,
        total_tokens: 37,
        model: Some("m".into()),
        ..Usage::default()
    };
    let config = r#"{"default": {"requests_per_minute": 100, "tokens_per_minute": 100000,
        "tokens_per_day": 1000000, "concurrent_requests": 5}}"#;
    for sem in BOTH {
        for usage in [Some(&usage), None] {
            let (two, one) = (MemoryStore::new(sem), MemoryStore::new(sem));
            let l = lim(config);
            let a = consumer("a");
            let mut r_two = l.check(&two, &a, DAY0, &req()).reservation;
            let mut r_one = l.check(&one, &a, DAY0, &req()).reservation;
            let (two_before, one_before) = (two.op_counts(), one.op_counts());
            let s_two = l.settle(&two, &mut r_two, usage, DAY0 + 500);
            assert!(l.release(&two, &mut r_two, DAY0 + 500));
            let s_one = l.settle_and_release(&one, &mut r_one, usage, DAY0 + 500);
            assert_eq!(s_one, s_two);
            assert!(!r_one.holds_concurrency() && r_one.is_settled());
            assert_eq!(bucket_of(&l, &one, &a), bucket_of(&l, &two, &a));
            assert_eq!(bucket_of(&l, &one, &a).inflight, 0);
            let ops =
                |after: (u64, u64), before: (u64, u64)| (after.0 - before.0, after.1 - before.1);
            let (o2, o1) = (
                ops(two.op_counts(), two_before),
                ops(one.op_counts(), one_before),
            );
            match usage {
                // The usage corrects the estimate: both change the bucket.
                Some(_) => assert_eq!((o1.0 * 2, o1.1 * 2), o2, "{sem:?}"),
                // Estimate stands: only the release writes.
                None => assert_eq!(o1, o2, "{sem:?}"),
            }
            // Idempotent, as each half is.
            assert_eq!(
                l.settle_and_release(&one, &mut r_one, usage, DAY0 + 600),
                None
            );
            assert!(!l.release(&one, &mut r_one, DAY0 + 600));
        }
    }
}

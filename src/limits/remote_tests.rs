//! The hand-written wire formats against `envoy-types`' prost types (both directions, unknown
//! fields included), the config's validation, and the answer's meaning.

use super::*;
use crate::limits::{Limiter, LimitsConfig};
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::service::ratelimit::v3 as pb;
use pb::rate_limit_response::{rate_limit::Unit, Code as PbCode, DescriptorStatus, RateLimit};
use prost::Message;

fn desc(kind: LimitKind, rule: &str, consumer: Option<&str>, hits: u64) -> Descriptor {
    Descriptor {
        kind,
        rule: rule.into(),
        consumer: consumer.map(str::to_string),
        hits,
        limit: 100,
    }
}

fn entries_of(
    d: &envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor,
) -> Vec<(String, String)> {
    d.entries
        .iter()
        .map(|Entry { key, value }| (key.clone(), value.clone()))
        .collect()
}

#[test]
fn our_request_decodes_with_prost() {
    let descs = vec![
        desc(LimitKind::RequestsPerMinute, "default", Some("ab12"), 1),
        desc(
            LimitKind::TokensPerMinute,
            "override:3",
            Some("ab12"),
            300_000,
        ),
        desc(LimitKind::TokensPerDay, "default", Some("ab12"), 0),
        desc(LimitKind::GlobalCostPerDay, "global", None, u64::MAX),
    ];
    for settle in [false, true] {
        let bytes = encode_request("promptgate", &descs, settle);
        let got = pb::RateLimitRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(got.domain, "promptgate");
        assert_eq!(got.hits_addend, 0);
        assert_eq!(got.descriptors.len(), 4);
        let phase = |mut v: Vec<(String, String)>| {
            if settle {
                v.push(("promptgate_phase".into(), "settle".into()));
            }
            v
        };
        let e = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            entries_of(&got.descriptors[0]),
            phase(vec![
                e("promptgate_limit", "requests_per_minute"),
                e("promptgate_rule", "default"),
                e("consumer", "ab12"),
            ])
        );
        assert_eq!(
            entries_of(&got.descriptors[3]),
            phase(vec![
                e("promptgate_limit", "global_budget"),
                e("promptgate_rule", "global"),
            ])
        );
        let hits: Vec<Option<u64>> = got
            .descriptors
            .iter()
            .map(|d| d.hits_addend.map(|h| h.value))
            .collect();
        assert_eq!(hits, [Some(1), Some(300_000), Some(0), Some(u64::MAX)]);
        assert!(got
            .descriptors
            .iter()
            .all(|d| d.limit.is_none() && !d.is_negative_hits));
        // Byte for byte what prost writes for the same message.
        assert_eq!(got.encode_to_vec(), bytes, "settle={settle}");
    }
}

fn status(
    code: PbCode,
    per_unit: Option<u32>,
    remaining: u32,
    reset: Option<(i64, i32)>,
) -> DescriptorStatus {
    DescriptorStatus {
        code: code as i32,
        current_limit: per_unit.map(|n| RateLimit {
            name: "x".into(),
            requests_per_unit: n,
            unit: Unit::Minute as i32,
        }),
        limit_remaining: remaining,
        duration_until_reset: reset
            .map(|(seconds, nanos)| envoy_types::pb::google::protobuf::Duration { seconds, nanos }),
        quota: None,
    }
}

#[test]
fn prost_response_decodes_with_ours() {
    let msg = pb::RateLimitResponse {
        overall_code: PbCode::OverLimit as i32,
        statuses: vec![
            status(PbCode::Ok, Some(100), 99, Some((30, 500_000_000))),
            status(PbCode::OverLimit, Some(u32::MAX), 0, None),
            status(PbCode::Unknown, None, 0, Some((0, 0))),
        ],
        raw_body: b"ignored".to_vec(),
        ..Default::default()
    };
    let a = decode_response(&msg.encode_to_vec()).unwrap();
    assert_eq!(a.overall, Code::OverLimit);
    assert_eq!(
        a.statuses,
        [
            Status {
                code: Code::Ok,
                limit: Some(100),
                remaining: 99,
                reset_ms: Some(30_500),
            },
            Status {
                code: Code::OverLimit,
                limit: Some(u64::from(u32::MAX)),
                remaining: 0,
                reset_ms: None,
            },
            Status {
                code: Code::Unknown,
                limit: None,
                remaining: 0,
                reset_ms: Some(0),
            },
        ]
    );
    // Empty: every field at its default.
    assert_eq!(decode_response(&[]).unwrap(), Answer::default());
}

#[test]
fn unknown_fields_are_skipped_in_both_directions() {
    // Ours with fields this filter does not know (every wire type but groups) → ours.
    let mut bytes = pb::RateLimitResponse {
        overall_code: PbCode::Ok as i32,
        statuses: vec![status(PbCode::Ok, Some(5), 4, Some((1, 0)))],
        ..Default::default()
    }
    .encode_to_vec();
    bytes.extend_from_slice(&[0x48, 0x96, 0x01]); // field 9 varint
    bytes.extend_from_slice(&[0x51, 1, 2, 3, 4, 5, 6, 7, 8]); // field 10 fixed64
    bytes.extend_from_slice(&[0x5a, 3, b'a', b'b', b'c']); // field 11 bytes
    bytes.extend_from_slice(&[0x65, 1, 2, 3, 4]); // field 12 fixed32
    let a = decode_response(&bytes).unwrap();
    assert_eq!(a.overall, Code::Ok);
    assert_eq!(a.statuses.len(), 1);
    assert_eq!(a.statuses[0].remaining, 4);
    // And prost reads our request followed by fields it does not know.
    let mut req = encode_request(
        "d",
        &[desc(LimitKind::RequestsPerDay, "anonymous", Some("c"), 1)],
        false,
    );
    req.extend_from_slice(&[0x78, 0x01]); // field 15 varint
    let got = pb::RateLimitRequest::decode(req.as_slice()).unwrap();
    assert_eq!(got.descriptors.len(), 1);
}

#[test]
fn garbage_never_panics_and_is_an_error() {
    for bad in [
        &[0x0a][..],                   // truncated key/length
        &[0x12, 0x05, 0x08][..],       // length beyond the end
        &[0x08][..],                   // varint missing
        &[0x0b, 0x0c][..],             // group
        &[0xff; 11][..],               // varint too long
        &[0x12, 0x02, 0x08, 0x80][..], // truncated varint inside a status
    ] {
        assert_eq!(decode_response(bad), Err(DecodeError), "{bad:?}");
    }
    // Arbitrary bytes: an error or an answer, never a panic.
    let mut x: u32 = 12345;
    for _ in 0..2000 {
        let n = (x % 40) as usize;
        let mut b = Vec::with_capacity(n);
        for _ in 0..n {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            b.push((x >> 16) as u8);
        }
        let _ = decode_response(&b);
        let _ = decode_json(&b);
    }
    for bad in [
        &b"not json"[..],
        br#"[]"#,
        br#"{"overallCode": {}}"#,
        br#"{"statuses": {}}"#,
        br#"{"statuses": [{"limitRemaining": -1}]}"#,
        br#"{"statuses": [{"durationUntilReset": 12}]}"#,
        br#"{"statuses": [{"durationUntilReset": "12"}]}"#,
    ] {
        // An error, or (`[]`, which serde reads as an empty struct) an answer with no verdict:
        // either way a fault for the exchange.
        let r = decode_json(bad);
        assert!(
            !matches!(&r, Ok(a) if a.overall != Code::Unknown || !a.statuses.is_empty()),
            "{}: {r:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn json_forms_round_trip() {
    let descs = [
        desc(
            LimitKind::CostPerDay,
            "default",
            Some("ab"),
            123_456_789_012,
        ),
        desc(LimitKind::RequestsPerSecond, "default", Some("ab"), 1),
    ];
    let v: serde_json::Value = serde_json::from_slice(&encode_json("dom", &descs, true)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"domain": "dom", "descriptors": [
            {"entries": [
                {"key": "promptgate_limit", "value": "cost_per_day"},
                {"key": "promptgate_rule", "value": "default"},
                {"key": "consumer", "value": "ab"},
                {"key": "promptgate_phase", "value": "settle"}],
             "hitsAddend": "123456789012"},
            {"entries": [
                {"key": "promptgate_limit", "value": "requests_per_second"},
                {"key": "promptgate_rule", "value": "default"},
                {"key": "consumer", "value": "ab"},
                {"key": "promptgate_phase", "value": "settle"}],
             "hitsAddend": "1"}]})
    );
    let a = decode_json(
        br#"{"overallCode": "OVER_LIMIT", "statuses": [
            {"code": "OK", "currentLimit": {"requestsPerUnit": "100", "unit": "MINUTE"},
             "limitRemaining": 7, "durationUntilReset": "12.25s"},
            {"code": 2, "current_limit": {"requests_per_unit": 5}, "limit_remaining": "0",
             "duration_until_reset": "3s", "somethingNew": true}],
            "responseHeadersToAdd": []}"#,
    )
    .unwrap();
    assert_eq!(a.overall, Code::OverLimit);
    assert_eq!(
        a.statuses,
        [
            Status {
                code: Code::Ok,
                limit: Some(100),
                remaining: 7,
                reset_ms: Some(12_250),
            },
            Status {
                code: Code::OverLimit,
                limit: Some(5),
                remaining: 0,
                reset_ms: Some(3_000),
            },
        ]
    );
}

fn limits(json: &str) -> Result<Limiter, crate::error::ConfigError> {
    let c: LimitsConfig = serde_json::from_str(json).unwrap();
    Limiter::new(&c)
}

#[test]
fn store_config_is_validated_naming_the_field() {
    let field = |json: &str| limits(json).unwrap_err().field;
    assert_eq!(
        field(r#"{"store": {"type": "rls"}}"#),
        "limits.store.cluster"
    );
    assert_eq!(
        field(r#"{"store": {"type": "rls", "cluster": " "}}"#),
        "limits.store.cluster"
    );
    assert_eq!(
        field(&format!(
            r#"{{"store": {{"type": "rls", "cluster": "{}"}}}}"#,
            "c".repeat(121)
        )),
        "limits.store.cluster"
    );
    assert_eq!(
        field(r#"{"store": {"type": "rls", "cluster": "rl", "timeout_ms": 0}}"#),
        "limits.store.timeout_ms"
    );
    assert_eq!(
        field(r#"{"store": {"type": "rls", "cluster": "rl", "path": "json"}}"#),
        "limits.store.path"
    );
    assert_eq!(
        field(r#"{"store": {"type": "rls", "cluster": "rl", "domain": ""}}"#),
        "limits.store.domain"
    );
    assert_eq!(
        field(r#"{"store": {"type": "rls", "cluster": "rl", "authority": "a b"}}"#),
        "limits.store.authority"
    );
    // Defaults, and failure_mode inherited from limits.failure_mode.
    let l =
        limits(r#"{"failure_mode": "deny", "store": {"type": "rls", "cluster": "rl"}}"#).unwrap();
    let r = l.remote().unwrap();
    assert_eq!(
        (
            r.protocol,
            r.domain.as_str(),
            r.timeout_ms,
            r.failure_mode,
            r.path.as_str(),
            r.authority.as_str()
        ),
        (
            RlsProtocol::Grpc,
            "promptgate",
            200,
            FailureMode::Deny,
            "/json",
            "rl"
        )
    );
    let l = limits(r#"{"failure_mode": "deny", "store": {"type": "rls", "cluster": "rl", "failure_mode": "allow"}}"#).unwrap();
    assert_eq!(l.remote().unwrap().failure_mode, FailureMode::Allow);
    assert!(limits(r#"{"store": {"type": "local"}}"#)
        .unwrap()
        .remote()
        .is_none());
    assert!(limits("{}").unwrap().remote().is_none());
    // The GrpcService names the cluster (Envoy parses it as envoy.config.core.v3.GrpcService).
    let l = limits(r#"{"store": {"type": "rls", "cluster": "promptgate_limiter"}}"#).unwrap();
    let g = envoy_types::pb::envoy::config::core::v3::GrpcService::decode(
        l.remote().unwrap().grpc_service.as_slice(),
    )
    .unwrap();
    match g.target_specifier {
        Some(
            envoy_types::pb::envoy::config::core::v3::grpc_service::TargetSpecifier::EnvoyGrpc(e),
        ) => {
            assert_eq!(e.cluster_name, "promptgate_limiter")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_store_fields_are_refused() {
    let e = serde_json::from_str::<LimitsConfig>(r#"{"store": {"type": "rls", "clusterr": "x"}}"#);
    assert!(e.is_err());
    let e = serde_json::from_str::<LimitsConfig>(r#"{"store": {"type": "redis"}}"#);
    assert!(e.is_err());
    // The string form is `"local"` only; the object form needs `type`.
    for bad in [r#""rls""#, r#"{"cluster": "x"}"#, "3", "[]"] {
        let json = format!(r#"{{"store": {bad}}}"#);
        assert!(
            serde_json::from_str::<LimitsConfig>(&json).is_err(),
            "{json}"
        );
    }
    for local in [r#""local""#, r#"{"type": "local"}"#] {
        let json = format!(r#"{{"store": {local}}}"#);
        let c: LimitsConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(c.store, StoreConfig::default(), "{json}");
    }
    // Through the plugin: errors name the field.
    for (json, field) in [
        (
            r#"{"limits": {"store": {"type": "rls", "cluster": "c", "timeout_ms": "soon"}}}"#,
            "limits.store.timeout_ms",
        ),
        (
            r#"{"limits": {"store": {"type": "rls", "clster": "c"}}}"#,
            "limits.store",
        ),
        (
            r#"{"limits": {"store": {"type": "rls"}}}"#,
            "limits.store.cluster",
        ),
    ] {
        let Err(e) = crate::plugin::Plugin::from_json(json.as_bytes()) else {
            panic!("{json} accepted")
        };
        assert!(e.field.starts_with(field), "{json}: {e}");
    }
}

/// The hand-written parser and the schema (derived from `StoreFields`) know the same fields.
#[test]
fn store_schema_and_parser_agree() {
    let schema = crate::schema::config_schema();
    let text = schema.to_string();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let object = &v["properties"]["limits"]["properties"]["store"]["anyOf"][1];
    let mut props: Vec<String> = object["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    props.sort();
    assert_eq!(
        props,
        [
            "authority",
            "cluster",
            "domain",
            "failure_mode",
            "path",
            "protocol",
            "timeout_ms",
            "type"
        ]
    );
    for (field, value) in [
        ("authority", r#""a""#),
        ("cluster", r#""c""#),
        ("domain", r#""d""#),
        ("failure_mode", r#""deny""#),
        ("path", r#""/p""#),
        ("protocol", r#""http""#),
        ("timeout_ms", "5"),
    ] {
        let json = format!(r#"{{"store": {{"type": "rls", "{field}": {value}}}}}"#);
        assert!(
            serde_json::from_str::<LimitsConfig>(&json).is_ok(),
            "{json}"
        );
    }
    assert_eq!(object["required"], serde_json::json!(["type"]));
}

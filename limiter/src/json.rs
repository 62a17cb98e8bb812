//! The HTTP/JSON form of ShouldRateLimit (`POST /json`, as envoyproxy/ratelimit serves it): the
//! RateLimitRequest and RateLimitResponse in the proto3 JSON mapping. Requests accept camelCase
//! and snake_case names, and 64-bit integers as numbers or strings.

use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use envoy_types::pb::google::protobuf::UInt64Value;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRequest {
    domain: String,
    #[serde(default)]
    descriptors: Vec<JsonDescriptor>,
    #[serde(
        default,
        alias = "hits_addend",
        rename = "hitsAddend",
        deserialize_with = "uint"
    )]
    hits_addend: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDescriptor {
    #[serde(default)]
    entries: Vec<JsonEntry>,
    #[serde(
        default,
        alias = "hits_addend",
        rename = "hitsAddend",
        deserialize_with = "uint"
    )]
    hits_addend: Option<u64>,
    /// Accepted and ignored (the service's limits come from its configuration).
    #[serde(default)]
    #[allow(dead_code)]
    limit: Option<Value>,
    #[serde(default, alias = "is_negative_hits", rename = "isNegativeHits")]
    is_negative_hits: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEntry {
    key: String,
    #[serde(default)]
    value: String,
}

/// A uint64 as a JSON number or a decimal string (proto3 JSON writes 64-bit integers as strings).
fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("{n} is not a non-negative integer"))),
        Some(Value::String(s)) => s
            .parse::<u64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{s:?} is not a non-negative integer"))),
        Some(other) => Err(de::Error::custom(format!(
            "{other} is not a non-negative integer"
        ))),
    }
}

/// Parses a `/json` body into the protobuf request.
pub fn parse_request(body: &[u8]) -> Result<RateLimitRequest, String> {
    let r: JsonRequest = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let hits_addend = match r.hits_addend {
        None => 0,
        Some(v) => u32::try_from(v).map_err(|_| "hitsAddend: above 4294967295 (a uint32)")?,
    };
    let mut descriptors = Vec::with_capacity(r.descriptors.len());
    for d in r.descriptors {
        descriptors.push(RateLimitDescriptor {
            entries: d
                .entries
                .into_iter()
                .map(|e| Entry {
                    key: e.key,
                    value: e.value,
                })
                .collect(),
            limit: None,
            hits_addend: d.hits_addend.map(|value| UInt64Value { value }),
            is_negative_hits: d.is_negative_hits,
        });
    }
    Ok(RateLimitRequest {
        domain: r.domain,
        descriptors,
        hits_addend,
    })
}

fn code_name(c: i32) -> &'static str {
    match Code::try_from(c) {
        Ok(Code::Ok) => "OK",
        Ok(Code::OverLimit) => "OVER_LIMIT",
        _ => "UNKNOWN",
    }
}

fn unit_name(u: i32) -> &'static str {
    match u {
        1 => "SECOND",
        2 => "MINUTE",
        3 => "HOUR",
        4 => "DAY",
        5 => "MONTH",
        6 => "YEAR",
        7 => "WEEK",
        _ => "UNKNOWN",
    }
}

/// The protobuf response in the proto3 JSON mapping.
pub fn render_response(r: &RateLimitResponse) -> Value {
    let statuses: Vec<Value> = r
        .statuses
        .iter()
        .map(|s| {
            let mut o = json!({"code": code_name(s.code), "limitRemaining": s.limit_remaining});
            if let Some(l) = &s.current_limit {
                o["currentLimit"] = json!({
                    "name": l.name,
                    "requestsPerUnit": l.requests_per_unit,
                    "unit": unit_name(l.unit),
                });
            }
            if let Some(d) = &s.duration_until_reset {
                o["durationUntilReset"] = json!(format!("{}s", d.seconds));
            }
            o
        })
        .collect();
    json!({"overallCode": code_name(r.overall_code), "statuses": statuses})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_camel_and_snake_case_and_string_integers() {
        let r = parse_request(
            br#"{"domain": "promptgate", "descriptors": [
                {"entries": [{"key": "promptgate_limit", "value": "tokens_per_minute"}], "hitsAddend": "1234"},
                {"entries": [{"key": "a", "value": "b"}], "hits_addend": 5},
                {"entries": [{"key": "a", "value": "c"}]}
            ], "hitsAddend": 2}"#,
        )
        .unwrap();
        assert_eq!(r.domain, "promptgate");
        assert_eq!(r.hits_addend, 2);
        assert_eq!(
            r.descriptors[0].hits_addend,
            Some(UInt64Value { value: 1234 })
        );
        assert_eq!(r.descriptors[0].entries[0].value, "tokens_per_minute");
        assert_eq!(r.descriptors[1].hits_addend, Some(UInt64Value { value: 5 }));
        assert_eq!(r.descriptors[2].hits_addend, None);
    }

    #[test]
    fn rejects_malformed_requests_with_a_reason() {
        for (body, want) in [
            (&br#"{"descriptors": []}"#[..], "domain"),
            (
                br#"{"domain": "x", "descriptors": [{"entries": [], "hitsAddend": -1}]}"#,
                "non-negative",
            ),
            (
                br#"{"domain": "x", "descriptors": [{"entries": [], "hitsAddend": "1e3"}]}"#,
                "non-negative",
            ),
            (br#"{"domain": "x", "hitsAddend": 5000000000}"#, "uint32"),
            (br#"{"domain": "x", "bogus": 1}"#, "bogus"),
            (b"not json", "expected"),
        ] {
            let e = parse_request(body).unwrap_err();
            assert!(e.contains(want), "{}: {e}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn renders_proto3_json() {
        use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::{
            DescriptorStatus, RateLimit,
        };
        let r = RateLimitResponse {
            overall_code: Code::OverLimit as i32,
            statuses: vec![DescriptorStatus {
                code: Code::OverLimit as i32,
                current_limit: Some(RateLimit {
                    name: "default/requests_per_minute".into(),
                    requests_per_unit: 100,
                    unit: 2,
                }),
                limit_remaining: 0,
                duration_until_reset: Some(envoy_types::pb::google::protobuf::Duration {
                    seconds: 12,
                    nanos: 0,
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            render_response(&r),
            json!({"overallCode": "OVER_LIMIT", "statuses": [{
                "code": "OVER_LIMIT", "limitRemaining": 0, "durationUntilReset": "12s",
                "currentLimit": {"name": "default/requests_per_minute", "requestsPerUnit": 100, "unit": "MINUTE"}
            }]})
        );
    }
}

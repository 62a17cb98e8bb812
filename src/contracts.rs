//! Request contracts: what a request may ask of the model, checked before it goes upstream.
//!
//! A contract bounds `max_tokens` / `max_completion_tokens` / `max_output_tokens` (reject, or
//! clamp to the limit), the number of messages, the total prompt characters, `temperature` and
//! `n`, whether `stream` is allowed and whether `model` is required; and it injects a default
//! output-token limit when the request has none, so the limits reservation (and the upstream's
//! answer) is bounded. A violation names the field and the limit (400, `invalid_request_error`,
//! `param` = the field).
//!
//! Host-agnostic: it works on the parsed JSON object of the body. Request data never panics it:
//! a field of the wrong type is a violation (when that field is under contract) or is left alone.

use crate::error::ConfigError;
use crate::extract::ApiShape;
use serde_json::{Map, Value};

/// What to do with an output-token limit above `max_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum OverLimit {
    /// Answer 400 naming the field and the limit.
    #[default]
    Reject,
    /// Lower the field to the limit and forward (audit `rewrites`: `clamped:<field>`).
    Clamp,
}
crate::compact_enum!(OverLimit { Reject = "reject", Clamp = "clamp" });

/// The field `default_max_tokens` is injected as in OpenAI chat requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "snake_case"))]
pub enum ChatTokensField {
    /// `max_tokens`: understood by every OpenAI-compatible server.
    #[default]
    MaxTokens,
    /// `max_completion_tokens`: what OpenAI's reasoning models require.
    MaxCompletionTokens,
}
crate::compact_enum!(ChatTokensField { MaxTokens = "max_tokens", MaxCompletionTokens = "max_completion_tokens" });

/// An inclusive numeric range; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
}
crate::compact_struct!(Range { min, max });

/// The `contract` section (and a consumer's `contract` override). `{}` checks nothing.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct ContractConfig {
    /// Largest `max_tokens` / `max_completion_tokens` / `max_output_tokens` a request may ask for.
    pub max_tokens: Option<u64>,
    /// Above `max_tokens`: `reject` (400, default) or `clamp` (lowered to the limit).
    pub on_max_tokens: OverLimit,
    /// Injected when the request sets no output-token limit (chat, completions, responses,
    /// Anthropic messages), so the reservation and the answer are bounded.
    pub default_max_tokens: Option<u64>,
    /// Field injected into chat requests: `max_tokens` (default) or `max_completion_tokens`.
    pub chat_max_tokens_field: ChatTokensField,
    /// Largest number of `messages` (or Responses `input` items).
    pub max_messages: Option<u64>,
    /// Largest total prompt size in characters (every string the model reads, all roles).
    pub max_prompt_chars: Option<u64>,
    /// `model` must be present (a non-empty string).
    pub require_model: bool,
    /// Allowed `temperature` range.
    pub temperature: Option<Range>,
    /// Allowed `n` range (integers).
    pub n: Option<Range>,
    /// Whether `stream: true` is allowed. Default `true`.
    pub allow_stream: bool,
}
crate::compact_struct!(ContractConfig {
    max_tokens,
    on_max_tokens,
    default_max_tokens,
    chat_max_tokens_field,
    max_messages,
    max_prompt_chars,
    require_model,
    temperature,
    n,
    allow_stream
});

impl Default for ContractConfig {
    fn default() -> Self {
        ContractConfig {
            max_tokens: None,
            on_max_tokens: OverLimit::Reject,
            default_max_tokens: None,
            chat_max_tokens_field: ChatTokensField::MaxTokens,
            max_messages: None,
            max_prompt_chars: None,
            require_model: false,
            temperature: None,
            n: None,
            allow_stream: true,
        }
    }
}

/// A broken contract: the field, an OpenAI-style code and a message naming field and limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub param: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl Violation {
    fn new(param: &'static str, code: &'static str, message: String) -> Violation {
        Violation {
            param,
            code,
            message,
        }
    }

    fn invalid_type(param: &'static str, what: &str) -> Violation {
        Violation::new(param, "invalid_type", format!("`{param}` must be {what}."))
    }
}

/// The output-token fields, in the order the limiter reads them.
pub const TOKEN_FIELDS: [&str; 3] = ["max_tokens", "max_completion_tokens", "max_output_tokens"];

/// A validated contract.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contract {
    cfg: ContractConfig,
}

impl Contract {
    /// Validates `cfg`; errors name fields under `path` (e.g. `contract` or
    /// `access.consumers[1].contract`).
    pub fn new(cfg: &ContractConfig, path: &str) -> Result<Contract, ConfigError> {
        let f = |k: &str| format!("{path}.{k}");
        if let (Some(d), Some(m)) = (cfg.default_max_tokens, cfg.max_tokens) {
            if d > m {
                return Err(ConfigError::new(
                    f("default_max_tokens"),
                    format!("must not exceed max_tokens ({m})"),
                ));
            }
        }
        if cfg.default_max_tokens == Some(0) {
            return Err(ConfigError::new(
                f("default_max_tokens"),
                "must be at least 1",
            ));
        }
        for (name, r) in [("temperature", &cfg.temperature), ("n", &cfg.n)] {
            let Some(r) = r else { continue };
            for (end, v) in [("min", r.min), ("max", r.max)] {
                if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
                    return Err(ConfigError::new(
                        format!("{path}.{name}.{end}"),
                        "must be a finite number, at least 0",
                    ));
                }
            }
            if let (Some(lo), Some(hi)) = (r.min, r.max) {
                if lo > hi {
                    return Err(ConfigError::new(
                        format!("{path}.{name}"),
                        "min must not exceed max",
                    ));
                }
            }
        }
        Ok(Contract { cfg: cfg.clone() })
    }

    /// Whether the contract checks or changes anything.
    pub fn is_active(&self) -> bool {
        *self != Contract::default()
    }

    /// Checks one request object and applies clamps and defaults in place. Returns what it
    /// changed (`clamped:<field>`, `defaulted:<field>`), or the first violation.
    /// `prompt_chars` is the number of characters of prompt text the model reads.
    pub fn apply(
        &self,
        obj: &mut Map<String, Value>,
        shape: ApiShape,
        prompt_chars: u64,
    ) -> Result<Vec<String>, Violation> {
        let c = &self.cfg;
        let mut rewrites = Vec::new();
        if c.require_model {
            match obj.get("model") {
                None | Some(Value::Null) => {
                    return Err(Violation::new(
                        "model",
                        "missing_required_parameter",
                        "`model` is required.".into(),
                    ))
                }
                Some(Value::String(s)) if !s.trim().is_empty() => {}
                Some(_) => return Err(Violation::invalid_type("model", "a non-empty string")),
            }
        }
        if !c.allow_stream {
            match obj.get("stream") {
                None | Some(Value::Null) | Some(Value::Bool(false)) => {}
                Some(Value::Bool(true)) => {
                    return Err(Violation::new(
                        "stream",
                        "unsupported_value",
                        "Streaming is not allowed by this gateway: `stream` must be false.".into(),
                    ))
                }
                Some(_) => return Err(Violation::invalid_type("stream", "a boolean")),
            }
        }
        let token_rule = c.max_tokens.is_some() || c.default_max_tokens.is_some();
        let mut has_limit = false;
        for field in TOKEN_FIELDS {
            let v = match obj.get(field) {
                None | Some(Value::Null) => continue,
                Some(v) => v,
            };
            if !token_rule {
                has_limit = true;
                continue;
            }
            let Some(n) = v.as_u64() else {
                return Err(Violation::invalid_type(field, "a non-negative integer"));
            };
            has_limit = true;
            if let Some(max) = c.max_tokens.filter(|m| n > *m) {
                match c.on_max_tokens {
                    OverLimit::Reject => {
                        return Err(Violation::new(
                            field,
                            "integer_above_max_value",
                            format!("`{field}` is {n}, above this gateway's limit of {max}."),
                        ))
                    }
                    OverLimit::Clamp => {
                        obj.insert(field.to_string(), Value::from(max));
                        rewrites.push(format!("clamped:{field}"));
                    }
                }
            }
        }
        if let Some(r) = &c.temperature {
            if let Some(v) = obj.get("temperature").filter(|v| !v.is_null()) {
                let Some(t) = v.as_f64() else {
                    return Err(Violation::invalid_type("temperature", "a number"));
                };
                check_range("temperature", t, r, false)?;
            }
        }
        if let Some(r) = &c.n {
            if let Some(v) = obj.get("n").filter(|v| !v.is_null()) {
                let n = match v {
                    Value::Number(n) if n.is_u64() || n.is_i64() => n.as_f64().unwrap_or(0.0),
                    _ => return Err(Violation::invalid_type("n", "an integer")),
                };
                check_range("n", n, r, true)?;
            }
        }
        if let Some(max) = c.max_messages {
            let (param, list) = match shape {
                ApiShape::Responses => ("input", obj.get("input")),
                _ => ("messages", obj.get("messages")),
            };
            if let Some(Value::Array(items)) = list {
                let n = items.len() as u64;
                if n > max {
                    return Err(Violation::new(
                        param,
                        "array_above_max_length",
                        format!(
                            "The request has {n} {param} items, above this gateway's limit of {max}."
                        ),
                    ));
                }
            }
        }
        if let Some(max) = c.max_prompt_chars.filter(|m| prompt_chars > *m) {
            let param = match shape {
                ApiShape::Completions => "prompt",
                ApiShape::Responses | ApiShape::Embeddings => "input",
                _ => "messages",
            };
            return Err(Violation::new(
                param,
                "string_above_max_length",
                format!(
                    "The prompt has {prompt_chars} characters, above this gateway's limit of {max}."
                ),
            ));
        }
        if let (Some(d), false) = (c.default_max_tokens, has_limit) {
            let field = match shape {
                ApiShape::Chat => match c.chat_max_tokens_field {
                    ChatTokensField::MaxTokens => Some("max_tokens"),
                    ChatTokensField::MaxCompletionTokens => Some("max_completion_tokens"),
                },
                ApiShape::Completions | ApiShape::AnthropicMessages => Some("max_tokens"),
                ApiShape::Responses => Some("max_output_tokens"),
                _ => None,
            };
            if let Some(field) = field {
                obj.insert(field.to_string(), Value::from(d));
                rewrites.push(format!("defaulted:{field}"));
            }
        }
        Ok(rewrites)
    }
}

fn check_range(param: &'static str, v: f64, r: &Range, integer: bool) -> Result<(), Violation> {
    let show = |x: f64| {
        if integer {
            format!("{}", x as i64)
        } else {
            format!("{x}")
        }
    };
    let kind = if integer { "integer" } else { "decimal" };
    if let Some(lo) = r.min.filter(|lo| v < *lo) {
        return Err(Violation::new(
            param,
            if integer {
                "integer_below_min_value"
            } else {
                "decimal_below_min_value"
            },
            format!(
                "`{param}` is {}, below this gateway's minimum of {} ({kind}).",
                show(v),
                show(lo)
            ),
        ));
    }
    if let Some(hi) = r.max.filter(|hi| v > *hi) {
        return Err(Violation::new(
            param,
            if integer {
                "integer_above_max_value"
            } else {
                "decimal_above_max_value"
            },
            format!(
                "`{param}` is {}, above this gateway's maximum of {} ({kind}).",
                show(v),
                show(hi)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract(cfg: Value) -> Contract {
        let cfg: ContractConfig = serde_json::from_value(cfg).unwrap();
        Contract::new(&cfg, "contract").unwrap()
    }

    fn run(c: &Contract, body: Value, shape: ApiShape) -> Result<(Value, Vec<String>), Violation> {
        let Value::Object(mut o) = body else {
            panic!("object")
        };
        let r = c.apply(&mut o, shape, 0)?;
        Ok((Value::Object(o), r))
    }

    #[test]
    fn empty_contract_is_inactive_and_changes_nothing() {
        let c = contract(json!({}));
        assert!(!c.is_active());
        let body = json!({"max_tokens": 1_000_000, "stream": true, "temperature": "hot"});
        let (out, r) = run(&c, body.clone(), ApiShape::Chat).unwrap();
        assert_eq!(out, body);
        assert!(r.is_empty());
    }

    #[test]
    fn max_tokens_reject_names_field_and_limit() {
        let c = contract(json!({"max_tokens": 100}));
        assert!(c.is_active());
        let e = run(&c, json!({"max_completion_tokens": 101}), ApiShape::Chat).unwrap_err();
        assert_eq!(e.param, "max_completion_tokens");
        assert_eq!(e.code, "integer_above_max_value");
        assert!(
            e.message.contains("101") && e.message.contains("100"),
            "{e:?}"
        );
        assert!(run(&c, json!({"max_tokens": 100}), ApiShape::Chat).is_ok());
        let e = run(&c, json!({"max_output_tokens": 500}), ApiShape::Responses).unwrap_err();
        assert_eq!(e.param, "max_output_tokens");
    }

    #[test]
    fn max_tokens_clamp_rewrites_every_field_above() {
        let c = contract(json!({"max_tokens": 100, "on_max_tokens": "clamp"}));
        let (out, r) = run(
            &c,
            json!({"max_tokens": 500, "max_completion_tokens": 50}),
            ApiShape::Chat,
        )
        .unwrap();
        assert_eq!(out["max_tokens"], 100);
        assert_eq!(out["max_completion_tokens"], 50);
        assert_eq!(r, vec!["clamped:max_tokens".to_string()]);
    }

    #[test]
    fn wrong_types_are_violations_only_under_contract() {
        let c = contract(json!({"max_tokens": 100}));
        for bad in [json!("100"), json!(-1), json!(1.5), json!([1]), json!({})] {
            let e = run(&c, json!({"max_tokens": bad}), ApiShape::Chat).unwrap_err();
            assert_eq!((e.param, e.code), ("max_tokens", "invalid_type"));
        }
        // null counts as absent.
        assert!(run(&c, json!({"max_tokens": null}), ApiShape::Chat).is_ok());
        let c = contract(json!({"temperature": {"max": 1}}));
        let e = run(&c, json!({"temperature": "1"}), ApiShape::Chat).unwrap_err();
        assert_eq!((e.param, e.code), ("temperature", "invalid_type"));
        // Not under contract: left alone for the upstream to judge.
        assert!(run(&c, json!({"n": "x", "max_tokens": "y"}), ApiShape::Chat).is_ok());
    }

    #[test]
    fn default_max_tokens_is_injected_per_shape() {
        let c = contract(json!({"default_max_tokens": 256}));
        let cases = [
            (ApiShape::Chat, Some("max_tokens")),
            (ApiShape::Completions, Some("max_tokens")),
            (ApiShape::AnthropicMessages, Some("max_tokens")),
            (ApiShape::Responses, Some("max_output_tokens")),
            (ApiShape::Embeddings, None),
            (ApiShape::OtherJson, None),
        ];
        for (shape, field) in cases {
            let (out, r) = run(&c, json!({"model": "m"}), shape).unwrap();
            match field {
                Some(f) => {
                    assert_eq!(out[f], 256, "{shape:?}");
                    assert_eq!(r, vec![format!("defaulted:{f}")]);
                }
                None => assert!(r.is_empty() && out == json!({"model": "m"}), "{shape:?}"),
            }
        }
        // Present (even if only as max_completion_tokens): nothing injected.
        let (out, r) = run(&c, json!({"max_completion_tokens": 9}), ApiShape::Chat).unwrap();
        assert!(r.is_empty() && out.get("max_tokens").is_none());
        // null is replaced.
        let (out, _) = run(&c, json!({"max_tokens": null}), ApiShape::Chat).unwrap();
        assert_eq!(out["max_tokens"], 256);
        let c = contract(
            json!({"default_max_tokens": 8, "chat_max_tokens_field": "max_completion_tokens"}),
        );
        let (out, _) = run(&c, json!({}), ApiShape::Chat).unwrap();
        assert_eq!(out["max_completion_tokens"], 8);
    }

    #[test]
    fn messages_prompt_model_stream_temperature_n() {
        let c = contract(json!({
            "max_messages": 2, "max_prompt_chars": 5, "require_model": true,
            "allow_stream": false, "temperature": {"min": 0, "max": 1}, "n": {"max": 1}
        }));
        let ok = json!({"model": "m", "messages": [1, 2], "temperature": 0.5, "n": 1});
        let Value::Object(mut o) = ok else { panic!() };
        assert!(c.apply(&mut o, ApiShape::Chat, 5).is_ok());
        let e = c.apply(&mut o, ApiShape::Chat, 6).unwrap_err();
        assert_eq!((e.param, e.code), ("messages", "string_above_max_length"));
        assert!(e.message.contains('6') && e.message.contains('5'));
        let cases = [
            (
                json!({"messages": []}),
                "model",
                "missing_required_parameter",
            ),
            (json!({"model": ""}), "model", "invalid_type"),
            (json!({"model": 3}), "model", "invalid_type"),
            (
                json!({"model": "m", "stream": true}),
                "stream",
                "unsupported_value",
            ),
            (
                json!({"model": "m", "stream": "yes"}),
                "stream",
                "invalid_type",
            ),
            (
                json!({"model": "m", "messages": [1, 2, 3]}),
                "messages",
                "array_above_max_length",
            ),
            (
                json!({"model": "m", "temperature": 1.5}),
                "temperature",
                "decimal_above_max_value",
            ),
            (
                json!({"model": "m", "temperature": -0.1}),
                "temperature",
                "decimal_below_min_value",
            ),
            (
                json!({"model": "m", "n": 2}),
                "n",
                "integer_above_max_value",
            ),
            (json!({"model": "m", "n": 1.0}), "n", "invalid_type"),
        ];
        for (body, param, code) in cases {
            let e = run(&c, body.clone(), ApiShape::Chat).unwrap_err();
            assert_eq!((e.param, e.code), (param, code), "{body}");
        }
        let e = run(
            &c,
            json!({"model": "m", "input": [1, 2, 3]}),
            ApiShape::Responses,
        )
        .unwrap_err();
        assert_eq!(e.param, "input");
        assert!(run(&c, json!({"model": "m", "stream": false}), ApiShape::Chat).is_ok());
    }

    #[test]
    fn config_errors_name_fields() {
        let bad = |v: Value| {
            let cfg: ContractConfig = serde_json::from_value(v).unwrap();
            Contract::new(&cfg, "contract").unwrap_err().field
        };
        assert_eq!(
            bad(json!({"max_tokens": 10, "default_max_tokens": 11})),
            "contract.default_max_tokens"
        );
        assert_eq!(
            bad(json!({"default_max_tokens": 0})),
            "contract.default_max_tokens"
        );
        assert_eq!(
            bad(json!({"temperature": {"min": 2, "max": 1}})),
            "contract.temperature"
        );
        assert_eq!(bad(json!({"n": {"min": -1}})), "contract.n.min");
    }
}

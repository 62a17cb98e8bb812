//! Model prices and cost arithmetic in integer micro-units.
//!
//! Prices are held as micro-units per million tokens (`2.50 USD/M` → `2_500_000`). A request's
//! cost is computed exactly in `u128`:
//! `(uncached_input × input + cached_input × cached + output × output) / 1_000_000`,
//! then rounded **up** once to a whole micro-unit (never under-charges; at most 1 micro-unit over).

use super::config::{money_micros, ModelPrice, Pricing};
use crate::error::ConfigError;
use crate::usage::Usage;
use std::collections::HashMap;

/// One model's price in micro-units per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// Per million input tokens.
    pub input: u64,
    /// Per million output tokens.
    pub output: u64,
    /// Per million cached input tokens.
    pub cached_input: u64,
}

impl Price {
    fn compile(p: &ModelPrice, path: &str) -> Result<Price, ConfigError> {
        let input = money_micros(p.input, &format!("{path}.input"))?;
        Ok(Price {
            input,
            output: money_micros(p.output, &format!("{path}.output"))?,
            cached_input: match p.cached_input {
                Some(c) => money_micros(c, &format!("{path}.cached_input"))?,
                None => input,
            },
        })
    }

    /// Cost in micro-units, rounded up.
    pub fn cost(&self, input_tokens: u64, cached_input_tokens: u64, output_tokens: u64) -> u64 {
        let cached = cached_input_tokens.min(input_tokens) as u128;
        let uncached = input_tokens as u128 - cached;
        let n = uncached * self.input as u128
            + cached * self.cached_input as u128
            + output_tokens as u128 * self.output as u128;
        let c = n.div_ceil(1_000_000);
        c.min(u64::MAX as u128) as u64
    }

    /// Cost of reported usage.
    pub fn usage_cost(&self, u: &Usage) -> u64 {
        self.cost(u.input_tokens, u.cached_input_tokens, u.output_tokens)
    }
}

/// The compiled price table.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    exact: HashMap<String, Price>,
    /// Longest prefix first.
    prefixes: Vec<(String, Price)>,
    default: Option<Price>,
}

impl PriceTable {
    pub(crate) fn compile(p: &Pricing) -> Result<PriceTable, ConfigError> {
        let mut t = PriceTable::default();
        for (model, price) in &p.models {
            let path = format!("limits.pricing.models.{model}");
            let price = Price::compile(price, &path)?;
            match model.strip_suffix('*') {
                Some(prefix) => t.prefixes.push((prefix.to_string(), price)),
                None => {
                    if model.is_empty() {
                        return Err(ConfigError::new(path, "model name must not be empty"));
                    }
                    t.exact.insert(model.clone(), price);
                }
            }
        }
        // Longest prefix first, ties in configuration order: a stable sort, written out as an
        // insertion sort (a few entries, once at load) instead of linking a copy of the
        // standard library's stable sort for this one type (issue 15: module size).
        for i in 1..t.prefixes.len() {
            let mut j = i;
            while j > 0 && t.prefixes[j - 1].0.len() < t.prefixes[j].0.len() {
                t.prefixes.swap(j - 1, j);
                j -= 1;
            }
        }
        if let Some(d) = &p.default {
            t.default = Some(Price::compile(d, "limits.pricing.default")?);
        }
        Ok(t)
    }

    /// Whether any price is configured.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty() && self.default.is_none()
    }

    /// The price of `model` from `models` (exact, then longest prefix), not the default.
    pub fn listed(&self, model: &str) -> Option<Price> {
        self.exact.get(model).copied().or_else(|| {
            self.prefixes
                .iter()
                .find(|(p, _)| model.starts_with(p.as_str()))
                .map(|(_, price)| *price)
        })
    }

    /// The price for a response: the response's model if listed, else the request's model if
    /// listed, else the default. `None` if nothing applies (cost 0).
    pub fn price(
        &self,
        response_model: Option<&str>,
        request_model: Option<&str>,
    ) -> Option<Price> {
        response_model
            .and_then(|m| self.listed(m))
            .or_else(|| request_model.and_then(|m| self.listed(m)))
            .or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(json: &str) -> Result<PriceTable, ConfigError> {
        let p: Pricing = serde_json::from_str(json).unwrap();
        PriceTable::compile(&p)
    }

    #[test]
    fn lookup_order() {
        let t = table(
            r#"{"models": {"gpt-4o": {"input": 2.5, "output": 10},
                "gpt-4o*": {"input": 3, "output": 12},
                "gpt-4o-mini*": {"input": 0.15, "output": 0.6}},
               "default": {"input": 1, "output": 1}}"#,
        )
        .unwrap();
        assert_eq!(t.listed("gpt-4o").unwrap().input, 2_500_000);
        assert_eq!(t.listed("gpt-4o-2024-08-06").unwrap().input, 3_000_000);
        assert_eq!(t.listed("gpt-4o-mini-2024").unwrap().input, 150_000);
        assert_eq!(t.listed("claude"), None);
        assert_eq!(
            t.price(Some("claude"), Some("gpt-4o")).unwrap().input,
            2_500_000
        );
        assert_eq!(
            t.price(Some("gpt-4o-mini"), Some("gpt-4o")).unwrap().input,
            150_000
        );
        assert_eq!(t.price(None, None).unwrap().input, 1_000_000);
        assert!(table("{}").unwrap().price(Some("x"), None).is_none());
    }

    #[test]
    fn prefixes_longest_first_ties_in_order() {
        let names = ["a*", "bb*", "c*", "ddd*", "ee*", "f*", "gggg*", "hh*", "*"];
        let models: Vec<String> = names
            .iter()
            .map(|n| format!(r#""{n}": {{"input": 1, "output": 1}}"#))
            .collect();
        let t = table(&format!(r#"{{"models": {{{}}}}}"#, models.join(", "))).unwrap();
        let got: Vec<&str> = t.prefixes.iter().map(|(p, _)| p.as_str()).collect();
        // What the standard library's stable sort gives (the models map iterates sorted).
        let mut want: Vec<&str> = names.iter().map(|n| n.trim_end_matches('*')).collect();
        want.sort();
        want.sort_by_key(|p| std::cmp::Reverse(p.len()));
        assert_eq!(got, want);
    }

    #[test]
    fn cost_rounds_up_once() {
        let p = Price {
            input: 2_500_000,
            output: 10_000_000,
            cached_input: 1_250_000,
        };
        // 1 input token at 2.5/M = 2.5 micro → 3.
        assert_eq!(p.cost(1, 0, 0), 3);
        // 1M input, 1M output: 2.5 + 10 units.
        assert_eq!(p.cost(1_000_000, 0, 1_000_000), 12_500_000);
        // Cached tokens at the cached price; cached capped at input.
        assert_eq!(p.cost(1_000_000, 400_000, 0), 1_500_000 + 500_000);
        assert_eq!(p.cost(10, 50, 0), p.cost(10, 10, 0));
        // 3 tokens at 0.15/M: 0.45 micro → 1 (not 3 × ceil(0.15) = 3).
        let cheap = Price {
            input: 150_000,
            output: 600_000,
            cached_input: 150_000,
        };
        assert_eq!(cheap.cost(3, 0, 0), 1);
        assert_eq!(cheap.cost(0, 0, 0), 0);
        // No overflow on absurd numbers.
        assert_eq!(p.cost(u64::MAX, 0, u64::MAX), u64::MAX);
    }

    #[test]
    fn errors_name_fields() {
        let e = table(r#"{"models": {"m": {"input": -1, "output": 1}}}"#).unwrap_err();
        assert_eq!(e.field, "limits.pricing.models.m.input");
        let e =
            table(r#"{"default": {"input": 1, "output": 1, "cached_input": 1e13}}"#).unwrap_err();
        assert_eq!(e.field, "limits.pricing.default.cached_input");
    }
}

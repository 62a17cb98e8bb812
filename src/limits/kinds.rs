//! Every windowed limit kind, one row each: its stored code, its config field, what it counts
//! and its window. Adding a kind is one row here and one field in `LimitSet` (a test checks the
//! pair).
//!
//! **The code is a stored format.** It is written into every bucket in shared data
//! (`state.rs`), which outlives a plugin reload and is read by other workers that may run an
//! older or newer module during a rolling upgrade. Never renumber or reuse a code; a new kind
//! takes the next free one. `state::tests::encoding_is_pinned` fails if a code moves.

use super::config::{LimitSet, LimitValue};
use super::window::Period;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metric {
    Requests,
    Tokens,
    Cost,
}

macro_rules! limit_kinds {
    (
        per_consumer { $( $kind:ident = $code:literal => $field:ident, $metric:ident, $period:ident; )* }
        global { $( $(#[$gdoc:meta])* $gkind:ident = $gcode:literal => $gname:literal, $gmetric:ident, $gperiod:ident; )* }
    ) => {
        /// Every windowed limit, with the stable code used in the stored encoding.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum LimitKind {
            $( #[doc = concat!("`", stringify!($field), "`.")] $kind = $code, )*
            $( $(#[$gdoc])* $gkind = $gcode, )*
        }

        impl LimitKind {
            /// The kinds a `LimitSet` can set, in table order.
            pub(crate) const PER_CONSUMER: [LimitKind; [$($code),*].len()] = [$(LimitKind::$kind),*];

            /// Every kind, in table order.
            #[cfg(test)]
            pub(crate) const ALL: [LimitKind; [$($code),* $(, $gcode)*].len()] =
                [$(LimitKind::$kind,)* $(LimitKind::$gkind),*];

            /// Config field name, also the name reported in denials.
            pub fn name(self) -> &'static str {
                match self {
                    $( LimitKind::$kind => stringify!($field), )*
                    $( LimitKind::$gkind => $gname, )*
                }
            }

            /// The code stored in shared data (see the module comment).
            pub(crate) fn code(self) -> u8 {
                self as u8
            }

            pub(crate) fn from_code(c: u8) -> Option<LimitKind> {
                match c {
                    $( $code => Some(LimitKind::$kind), )*
                    $( $gcode => Some(LimitKind::$gkind), )*
                    _ => None,
                }
            }

            pub(crate) fn metric(self) -> Metric {
                match self {
                    $( LimitKind::$kind => Metric::$metric, )*
                    $( LimitKind::$gkind => Metric::$gmetric, )*
                }
            }

            pub(crate) fn period(self) -> Period {
                match self {
                    $( LimitKind::$kind => Period::$period, )*
                    $( LimitKind::$gkind => Period::$gperiod, )*
                }
            }

            /// This kind's value in a set (`None` for the global kinds, which no set holds).
            pub(crate) fn field(self, s: &LimitSet) -> Option<LimitValue> {
                match self {
                    $( LimitKind::$kind => s.$field, )*
                    $( LimitKind::$gkind => None, )*
                }
            }

            /// This kind's slot in a set (`None` for the global kinds).
            pub(crate) fn field_mut(self, s: &mut LimitSet) -> Option<&mut Option<LimitValue>> {
                match self {
                    $( LimitKind::$kind => Some(&mut s.$field), )*
                    $( LimitKind::$gkind => None, )*
                }
            }
        }
    };
}

limit_kinds! {
    per_consumer {
    //  kind              code    config field          counts    window
        RequestsPerSecond   = 0 => requests_per_second, Requests, Second;
        RequestsPerMinute   = 1 => requests_per_minute, Requests, Minute;
        RequestsPerHour     = 2 => requests_per_hour,   Requests, Hour;
        RequestsPerDay      = 3 => requests_per_day,    Requests, Day;
        TokensPerMinute     = 4 => tokens_per_minute,   Tokens,   Minute;
        TokensPerDay        = 5 => tokens_per_day,      Tokens,   Day;
        CostPerDay          = 6 => cost_per_day,        Cost,     Day;
        CostPerMonth        = 7 => cost_per_month,      Cost,     Month;
    }
    global {
        /// The global budget (only in the global key).
        GlobalCostPerDay    = 8 => "global_budget",     Cost,     Day;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, k) in LimitKind::ALL.iter().enumerate() {
            assert_eq!(LimitKind::from_code(k.code()), Some(*k));
            for other in &LimitKind::ALL[..i] {
                assert_ne!(other.code(), k.code(), "{k:?} and {other:?}");
            }
        }
        assert_eq!(LimitKind::from_code(9), None);
        assert_eq!(LimitKind::from_code(255), None);
    }

    /// Each per-consumer kind's name is the `LimitSet` field it reads and writes.
    #[test]
    fn every_per_consumer_kind_is_its_limit_set_field() {
        for (n, k) in LimitKind::PER_CONSUMER.iter().enumerate() {
            let json = format!(r#"{{"{}": {}}}"#, k.name(), n + 1);
            let mut set: LimitSet = serde_json::from_str(&json).unwrap();
            let want = LimitValue::On {
                limit: (n + 1) as f64,
                window: None,
            };
            assert_eq!(k.field(&set), Some(want), "{json}");
            for other in LimitKind::PER_CONSUMER {
                if other != *k {
                    assert_eq!(other.field(&set), None, "{json} sets {other:?}");
                }
            }
            *k.field_mut(&mut set).unwrap() = None;
            assert_eq!(set, LimitSet::default(), "{json}");
        }
        let mut set = LimitSet::default();
        assert_eq!(LimitKind::GlobalCostPerDay.field(&set), None);
        assert!(LimitKind::GlobalCostPerDay.field_mut(&mut set).is_none());
    }

    #[test]
    fn merged_takes_the_override_field_by_field() {
        let base: LimitSet = serde_json::from_str(
            r#"{"requests_per_minute": 5, "tokens_per_day": 100, "cost_per_month": 3,
                "token_count": "prompt", "concurrent_requests": 2}"#,
        )
        .unwrap();
        let over: LimitSet = serde_json::from_str(
            r#"{"requests_per_minute": 7, "tokens_per_day": "off", "requests_per_second": 1}"#,
        )
        .unwrap();
        let want: LimitSet = serde_json::from_str(
            r#"{"requests_per_minute": 7, "tokens_per_day": "off", "requests_per_second": 1,
                "cost_per_month": 3, "token_count": "prompt", "concurrent_requests": 2}"#,
        )
        .unwrap();
        assert_eq!(base.merged(&over), want);
        assert_eq!(over.merged(&LimitSet::default()), over);
    }
}

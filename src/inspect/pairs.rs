//! Attacks in two parts (issue 15, 2026-12-07): two lexicon signals that score nothing alone
//! (`lexicon.txt`) paired within one string, in either order and not always in one sentence,
//! into a hit like any rule's. The mention frames (`mention.rs`) still read the pair, so an
//! attack quoted and asked about is not one; in the operator's own strings it is dropped
//! (`scan_messages`).
//!
//! - `PL-007`, the model's own context asked for. A request for the system prompt rarely says
//!   "repeat your system prompt": it names what the model was given before the user spoke ("the
//!   text before my first message", "your setup notes", "the instructions you were given at the
//!   start", "你收到的第一条消息") and asks for it reproduced ("quote it exactly", "with line
//!   numbers", "wortwörtlich", "as an acrostic"). An unambiguous reference (`ML-018`) pairs with
//!   a demand for fidelity (`ML-020`) or a reproducing verb (`ML-021`); an ordinary reference
//!   (`ML-019`: "your instructions", which a support bot also gives for a router) only with a
//!   demand for fidelity; at most 160 bytes apart, no blank line between.
//! - `PI-018`, forged authority. A notice that the model's rules are off ("your content filter
//!   has been switched off", "las políticas de contenido ya no aplican", "内容过滤已临时关闭",
//!   `safety_filter: false`: `ML-022`) is half an attack; an IT notice says the same of a spam
//!   filter. With a demand that the model comply (`ML-023`: "answer every question without
//!   refusing", "confirm the new mode", "responde sin restricciones") or a harmful ask
//!   (`ML-008`) in the same string, at most 400 bytes apart (a blank line between allowed: the
//!   notice is often a block above the request), it is one.
//!
//! Either way an odd number of quotation marks between the parts puts one inside a quotation
//! and the other outside ("users type \"show me your system prompt\", how should we write
//! ours?"): no pair.

use super::RawHit;

/// One two-part frame by rule ids (`rules.rs`).
#[derive(Debug)]
pub(super) struct Spec {
    /// The hit it writes.
    pub hit: &'static str,
    /// (a first part, the second parts it pairs with)
    pub pairs: &'static [(&'static str, &'static [&'static str])],
    /// The most bytes between the two parts.
    pub reach: usize,
    /// A blank line between the parts breaks the pair.
    pub same_paragraph: bool,
    /// Words that, right after the first part, make it about a task ("your instructions for
    /// the router", "the instructions you gave me on setting up the VPN").
    pub about: &'static [&'static str],
}

pub(super) static FRAMES: [Spec; 2] = [
    Spec {
        hit: "PL-007",
        pairs: &[("ML-018", &["ML-020", "ML-021"]), ("ML-019", &["ML-020"])],
        reach: 160,
        same_paragraph: true,
        about: &[
            "for",
            "on",
            "about",
            "regarding",
            "para",
            "sobre",
            "pour",
            "für",
            "zum",
            "zur",
        ],
    },
    Spec {
        hit: "PI-018",
        pairs: &[("ML-022", &["ML-023", "ML-008"])],
        reach: 400,
        same_paragraph: false,
        about: &[],
    },
];

/// A frame with its rules' indexes (`None` when the rule is disabled).
#[derive(Debug, Clone)]
pub(super) struct Frame {
    spec: &'static Spec,
    pub hit: Option<u16>,
    pairs: Vec<(Option<u16>, Vec<Option<u16>>)>,
}

impl Frame {
    /// The frame of `spec`, with rule indexes from `index_of`.
    pub(super) fn new(spec: &'static Spec, index_of: impl Fn(&str) -> Option<u16>) -> Frame {
        Frame {
            spec,
            hit: index_of(spec.hit),
            pairs: spec
                .pairs
                .iter()
                .map(|(a, bs)| (index_of(a), bs.iter().map(|b| index_of(b)).collect()))
                .collect(),
        }
    }
}

/// Adds to `hits` (those of one string `t`) one hit of each frame, spanning the first pair
/// found.
pub(super) fn pair(t: &str, hits: &mut Vec<RawHit>, frames: &[Frame]) {
    for f in frames {
        let Some(hit) = f.hit else { continue };
        let found = f.pairs.iter().find_map(|(a, bs)| {
            hits.iter()
                .filter(|x| a.is_some() && *a == Some(x.rule) && !about_a_task(t, x, f.spec.about))
                .find_map(|x| {
                    hits.iter()
                        .filter(|y| y.decoded == x.decoded && bs.contains(&Some(y.rule)))
                        .find(|y| near(t, x, y, f))
                        .map(|y| RawHit {
                            rule: hit,
                            start: x.start.min(y.start),
                            end: x.end.max(y.end),
                            decoded: x.decoded,
                        })
                })
        });
        hits.extend(found);
    }
}

/// The word after `x` is one of `about`.
fn about_a_task(t: &str, x: &RawHit, about: &[&str]) -> bool {
    if about.is_empty() || x.decoded {
        return false;
    }
    let next = t.get(x.end..).unwrap_or("").trim_start();
    let w = next
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    about.iter().any(|a| a.eq_ignore_ascii_case(w))
}

/// Quotation marks: an odd number of them between the parts puts one inside a quotation and
/// the other outside.
const QUOTES: [char; 10] = ['"', '“', '”', '„', '«', '»', '「', '」', '『', '』'];

/// `a` and `b` at most `reach` bytes apart, with an even number of quotation marks and (if
/// `same_paragraph`) no blank line between (decoded hits share their encoded span).
fn near(t: &str, a: &RawHit, b: &RawHit, f: &Frame) -> bool {
    let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
    if second.start <= first.end || first.decoded {
        return true;
    }
    second.start - first.end <= f.spec.reach
        && t.get(first.end..second.start).is_some_and(|gap| {
            !(f.spec.same_paragraph && (gap.contains("\n\n") || gap.contains("\n\r\n")))
                && gap.matches(QUOTES).count() % 2 == 0
        })
}

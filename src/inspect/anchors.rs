//! The inspector's one Aho-Corasick pass: the rule anchors, the lexicon's ASCII terms and the
//! encoding probes in one automaton, determinised on demand.
//!
//! A full DFA of these patterns (9,781 distinct ones on 2026-12-06) is a 16-19 MB transition
//! table, and building it was most of configuring a VM (1,291 M wasm operators in
//! `tests/wasm_cost.rs` `configure_cost`, 2026-12-06), paid by every worker at plugin start,
//! most of it for states that ordinary traffic never visits. Here the trie with its failure
//! links (aho-corasick's non-contiguous NFA) is built at configuration, and a DFA row is made
//! for a state the first time a walk enters it; each transition is computed from the NFA the
//! first time it is taken and kept. A warm walk is the full DFA's walk (one table load and one
//! bit test per byte); the table holds the rows traffic has visited, at most the full DFA's
//! size (every state, once), whatever the input (issue 16).
//!
//! Bytes that occur in no pattern all lead where the start state's own loop leads, so they
//! share one column; every other byte has its own.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::noncontiguous::NFA;
use aho_corasick::{Anchored, MatchKind, PatternID};
use std::cell::RefCell;
use std::sync::Mutex;

/// A table entry: the target row's offset in [`Table::rows`], with [`FLAG`] set when the target
/// state reports matches. [`UNKNOWN`] (the reserved row 0, flagged) is a transition not computed
/// yet. Both exceptions share the one flag, so a walk tests one bit per byte.
type Entry = u32;

const FLAG: Entry = 1 << 31;
const UNKNOWN: Entry = FLAG;

/// Side-by-side walks of [`Anchors::hits`], and the shortest text it splits among them.
const LANES: usize = 4;
const LANE_MIN: usize = 256;

/// The patterns' automaton (see the module documentation).
pub(super) struct Anchors {
    nfa: NFA,
    /// Byte -> column, each below `width`.
    columns: [u8; 256],
    /// Columns per row.
    width: usize,
    /// The start state's entry.
    start: Entry,
    table: Mutex<Table>,
}

/// The rows made so far. One lock per walk: a VM runs one request at a time, and natively
/// (the eval tool, tests) the walks of several threads take turns.
///
/// Invariant: every entry is [`UNKNOWN`] or the offset of a made row (optionally flagged), and
/// every row offset plus `width` is at most `rows.len()`.
struct Table {
    /// `width` entries per row; row 0 is reserved (never entered).
    rows: Vec<Entry>,
    /// Per row: its NFA state.
    state: Vec<StateID>,
    /// Per NFA state: its row's offset, 0 while it has none.
    row_of: Vec<u32>,
    /// Per row: its matches, a range of `matched`.
    matches: Vec<(u32, u32)>,
    matched: Vec<PatternID>,
}

thread_local! {
    /// [`Anchors::hits`]' matches of lanes after the first, kept across calls.
    static LANE_HITS: RefCell<Vec<(u8, u32, PatternID)>> = const { RefCell::new(Vec::new()) };
}

impl Anchors {
    /// The automaton of `patterns` (overlapping matches, `MatchKind::Standard`); `None` when
    /// there are none or the trie does not fit aho-corasick's limits.
    pub(super) fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Option<Anchors> {
        if patterns.is_empty() {
            return None;
        }
        let nfa = NFA::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)
            .ok()?;
        let mut used = [false; 256];
        for p in patterns {
            for &b in p.as_ref() {
                used[usize::from(b)] = true;
            }
        }
        // column 0: every byte in no pattern (from any state it leads where the start state's
        // own loop leads); one column for each other byte. When all 256 bytes occur, one column
        // each and none shared.
        let shared = usize::from(!used.iter().all(|u| *u));
        let mut columns = [0u8; 256];
        let mut width = shared;
        for (b, u) in used.iter().enumerate() {
            if *u {
                columns[b] = width as u8;
                width += 1;
            }
        }
        let start = nfa.start_state(Anchored::No).ok()?;
        let mut table = Table {
            rows: vec![UNKNOWN; width],
            state: vec![start],
            row_of: Vec::new(),
            matches: vec![(0, 0)],
            matched: Vec::new(),
        };
        let start = row_for(&nfa, width, &mut table, start);
        Some(Anchors {
            nfa,
            columns,
            width,
            start,
            table: Mutex::new(table),
        })
    }

    /// The length of pattern `pat`.
    pub(super) fn pattern_len(&self, pat: PatternID) -> usize {
        self.nfa.pattern_len(pat)
    }

    /// Rows made so far (the reserved row not counted): the states walks have entered.
    #[cfg(test)]
    pub(super) fn rows_made(&self) -> usize {
        self.lock().state.len() - 1
    }

    /// The NFA the rows are made from.
    #[cfg(test)]
    pub(super) fn nfa(&self) -> &NFA {
        &self.nfa
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the transition from `from` on byte `b` is kept, and what it holds.
    #[inline(always)]
    fn step(&self, t: &Table, from: Entry, b: u8) -> (usize, Entry) {
        let at = (from & !FLAG) as usize + usize::from(self.columns[usize::from(b)]);
        debug_assert!(at < t.rows.len());
        // SAFETY: `from` is the start entry or an entry read from the table, neither UNKNOWN
        // (a walk resolves that before its next step), so by `Table`'s invariant its offset
        // plus `width` is within `rows`; `columns` are below `width`.
        (at, unsafe { *t.rows.get_unchecked(at) })
    }

    /// The flagged entry `e` at `at` (reached on byte `b`) resolved: computed if UNKNOWN, its
    /// matches reported (ending at `end`) if it has any.
    #[inline(always)]
    fn resolve(
        &self,
        t: &mut Table,
        at: usize,
        mut e: Entry,
        b: u8,
        end: usize,
        f: &mut impl FnMut(usize, PatternID),
    ) -> Entry {
        if e == UNKNOWN {
            e = self.fill(t, at, b);
            if e & FLAG == 0 {
                return e;
            }
        }
        let (a, z) = t.matches[(e & !FLAG) as usize / self.width];
        for &p in &t.matched[a as usize..z as usize] {
            f(end, p);
        }
        e
    }

    /// One step of one walk from `s` on byte `b`, its matches (ending at `end`) reported.
    #[inline(always)]
    fn advance(
        &self,
        t: &mut Table,
        s: Entry,
        b: u8,
        end: usize,
        f: &mut impl FnMut(usize, PatternID),
    ) -> Entry {
        let (at, e) = self.step(t, s, b);
        if e & FLAG != 0 {
            self.resolve(t, at, e, b, end, f)
        } else {
            e
        }
    }

    /// The entry at `at` (in the row of some state, the column of byte `b`) computed from the
    /// NFA and kept, the target's row made if it has none.
    #[cold]
    #[inline(never)]
    fn fill(&self, t: &mut Table, at: usize, b: u8) -> Entry {
        let sid = t.state[at / self.width];
        let next = self.nfa.next_state(Anchored::No, sid, b);
        let e = row_for(&self.nfa, self.width, t, next);
        t.rows[at] = e;
        e
    }

    /// One walk over `bytes` (a single lane), feeding the end offset of each position where
    /// some pattern ends to `f` until it returns false. `f` must not walk this automaton.
    pub(super) fn ends(&self, bytes: impl Iterator<Item = u8>, mut f: impl FnMut(usize) -> bool) {
        let mut guard = self.lock();
        let t = &mut *guard;
        let mut s = self.start;
        for (i, b) in bytes.enumerate() {
            let mut ended = false;
            s = self.advance(t, s, b, i + 1, &mut |_, _| ended = true);
            if ended && !f(i + 1) {
                return;
            }
        }
    }

    /// Every pattern occurrence in `hay` (overlapping), as (end offset, pattern), in end
    /// order: the matches of `AhoCorasick::find_overlapping_iter` with `MatchKind::Standard`.
    /// `f` must not walk this automaton (the table is locked meanwhile).
    ///
    /// One walk is a chain of dependent loads (each state is read from the one before), so its
    /// speed is the memory latency of the table, not the instruction count. A text of
    /// [`LANE_MIN`] bytes or more is therefore cut into [`LANES`] pieces walked side by side,
    /// the chains independent of each other (natively ~3x faster on prose, 2026-12-04, issue
    /// 16). An Aho-Corasick state is the longest suffix of the bytes read that begins some
    /// pattern, so a lane that starts `max_pattern_len` bytes before its piece reaches the
    /// piece in the state one walk from the start would have; the matches each lane finds in
    /// its piece are reported after those of the pieces before it.
    pub(super) fn hits(&self, hay: &[u8], mut f: impl FnMut(usize, PatternID)) {
        let mut guard = self.lock();
        let t = &mut *guard;
        if hay.len() < LANE_MIN {
            let mut s = self.start;
            for (i, &b) in hay.iter().enumerate() {
                s = self.advance(t, s, b, i + 1, &mut f);
            }
            return;
        }
        let len = hay.len() / LANES;
        let (p0, rest) = hay.split_at(len);
        let (p1, rest) = rest.split_at(len);
        let (p2, p3) = rest.split_at(len);
        // lane 3 also takes the bytes left over by the division
        let (p3, tail) = p3.split_at(len);
        let warm = self.nfa.max_pattern_len();
        let warm_up = |t: &mut Table, at: usize| {
            let mut s = self.start;
            for &b in &hay[at.saturating_sub(warm)..at] {
                s = self.advance(t, s, b, 0, &mut |_, _| {});
            }
            s
        };
        // four locals, not an array: the states stay in registers (wasm locals)
        let (s1, s2, s3) = (warm_up(t, len), warm_up(t, 2 * len), warm_up(t, 3 * len));
        let (mut s0, mut s1, mut s2, mut s3) = (self.start, s1, s2, s3);
        let mut later = LANE_HITS.with(|h| std::mem::take(&mut *h.borrow_mut()));
        later.clear();
        for (i, (((&b0, &b1), &b2), &b3)) in p0.iter().zip(p1).zip(p2).zip(p3).enumerate() {
            let (a0, e0) = self.step(t, s0, b0);
            let (a1, e1) = self.step(t, s1, b1);
            let (a2, e2) = self.step(t, s2, b2);
            let (a3, e3) = self.step(t, s3, b3);
            (s0, s1, s2, s3) = (e0, e1, e2, e3);
            if (e0 | e1 | e2 | e3) & FLAG != 0 {
                if e0 & FLAG != 0 {
                    s0 = self.resolve(t, a0, e0, b0, i + 1, &mut f);
                }
                let push = |w: u8| {
                    let end = (usize::from(w) * len + i + 1) as u32;
                    move |_: usize, p: PatternID| (w, end, p)
                };
                if e1 & FLAG != 0 {
                    let g = push(1);
                    s1 = self.resolve(t, a1, e1, b1, 0, &mut |x, p| later.push(g(x, p)));
                }
                if e2 & FLAG != 0 {
                    let g = push(2);
                    s2 = self.resolve(t, a2, e2, b2, 0, &mut |x, p| later.push(g(x, p)));
                }
                if e3 & FLAG != 0 {
                    let g = push(3);
                    s3 = self.resolve(t, a3, e3, b3, 0, &mut |x, p| later.push(g(x, p)));
                }
            }
        }
        for (i, &b) in tail.iter().enumerate() {
            let end = (4 * len + i + 1) as u32;
            s3 = self.advance(t, s3, b, 0, &mut |_, p| later.push((3, end, p)));
        }
        drop(guard);
        // by lane, then in the order found (ends ascending within a lane)
        for w in 1..LANES as u8 {
            for &(_, end, pat) in later.iter().filter(|h| h.0 == w) {
                f(end as usize, pat);
            }
        }
        LANE_HITS.with(|h| *h.borrow_mut() = later);
    }
}

/// The entry of NFA state `sid`, its row made if it has none.
fn row_for(nfa: &NFA, width: usize, t: &mut Table, sid: StateID) -> Entry {
    let i = sid.as_usize();
    if t.row_of.len() <= i {
        t.row_of.resize(i + 1, 0);
    }
    let mut off = t.row_of[i];
    if off == 0 {
        off = t.rows.len() as u32;
        t.rows.resize(t.rows.len() + width, UNKNOWN);
        t.state.push(sid);
        let from = t.matched.len() as u32;
        for k in 0..nfa.match_len(sid) {
            t.matched.push(nfa.match_pattern(sid, k));
        }
        t.matches.push((from, t.matched.len() as u32));
        t.row_of[i] = off;
    }
    if nfa.is_match(sid) {
        off | FLAG
    } else {
        off
    }
}

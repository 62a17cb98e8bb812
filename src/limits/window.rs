//! Window arithmetic. All times are milliseconds since the Unix epoch, UTC.
//!
//! Windows are aligned to UTC: seconds, minutes, hours and days on multiples of their length since
//! the epoch (days start at 00:00 UTC), months on the first of the calendar month.
//!
//! A window state keeps the start of the current window, its count and the previous window's count.
//! - `fixed`: used = current count; resets at the boundary.
//! - `sliding`: used = current + ⌈previous × (end − now) / length⌉, the weighted two-window
//!   approximation of a true sliding window (exact if the previous window's traffic was uniform).
//!   The weight rounds up: a limit is a ceiling, so while any of the previous window still
//!   weighs it counts as at least one (with `requests_per_minute: 1`, a request at 12:00:59.9
//!   keeps the next one out until 12:02:00, never lets one in at 12:01:00.1).

use super::config::WindowKind;

/// A window length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// One second.
    Second,
    /// One minute.
    Minute,
    /// One hour.
    Hour,
    /// One UTC day.
    Day,
    /// One UTC calendar month.
    Month,
}

const DAY_MS: u64 = 86_400_000;

impl Period {
    fn fixed_len(self) -> Option<u64> {
        match self {
            Period::Second => Some(1_000),
            Period::Minute => Some(60_000),
            Period::Hour => Some(3_600_000),
            Period::Day => Some(DAY_MS),
            Period::Month => None,
        }
    }

    /// Start of the window containing `now`.
    pub fn start(self, now: u64) -> u64 {
        match self.fixed_len() {
            Some(len) => now - now % len,
            None => {
                let (y, m, _) = civil_from_days((now / DAY_MS) as i64);
                days_from_civil(y, m, 1) as u64 * DAY_MS
            }
        }
    }

    /// End (exclusive) of the window starting at `start`.
    pub fn end(self, start: u64) -> u64 {
        match self.fixed_len() {
            Some(len) => start.saturating_add(len),
            None => {
                let (y, m, _) = civil_from_days((start / DAY_MS) as i64);
                let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                days_from_civil(y, m, 1) as u64 * DAY_MS
            }
        }
    }

    /// Start of the window before the one starting at `start`.
    pub fn prev_start(self, start: u64) -> u64 {
        match self.fixed_len() {
            Some(len) => start.saturating_sub(len),
            None => self.start(start.saturating_sub(1)),
        }
    }
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31). Howard Hinnant's algorithm.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Counts of one limit's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowState {
    /// Start of the current window (ms).
    pub start: u64,
    /// Amount counted in the current window.
    pub cur: u64,
    /// Amount counted in the previous window.
    pub prev: u64,
}

impl WindowState {
    /// Moves the state to the window containing `now`. A clock going backwards (another worker's
    /// clock slightly behind) never rewinds the state: the newer window is kept.
    pub fn roll(&mut self, period: Period, now: u64) {
        let s = period.start(now);
        if s <= self.start {
            return;
        }
        if period.prev_start(s) == self.start {
            self.prev = self.cur;
        } else {
            self.prev = 0;
        }
        self.cur = 0;
        self.start = s;
    }

    /// Amount used as of `now` (state already rolled to `now`'s window).
    pub fn used(&self, period: Period, kind: WindowKind, now: u64) -> u64 {
        match kind {
            WindowKind::Fixed => self.cur,
            WindowKind::Sliding => self.cur.saturating_add(self.weighted_prev(period, now)),
        }
    }

    fn weighted_prev(&self, period: Period, now: u64) -> u64 {
        let end = period.end(self.start);
        let len = end - self.start;
        let remaining = end.saturating_sub(now).min(len);
        (self.prev as u128 * remaining as u128).div_ceil(len as u128) as u64
    }

    /// Whether nothing counted remains relevant at `now` (state rolled to `now`).
    pub fn is_idle(&self, kind: WindowKind) -> bool {
        match kind {
            WindowKind::Fixed => self.cur == 0,
            WindowKind::Sliding => self.cur == 0 && self.prev == 0,
        }
    }

    /// Milliseconds from `now` until `need` more fits under `limit`, assuming no other traffic.
    /// `None` if it never fits (`need > limit`).
    pub fn wait_ms(
        &self,
        period: Period,
        kind: WindowKind,
        now: u64,
        limit: u64,
        need: u64,
    ) -> Option<u64> {
        if need > limit {
            return None;
        }
        let end = period.end(self.start);
        if self.used(period, kind, now).saturating_add(need) <= limit {
            return Some(0);
        }
        let to_end = end.saturating_sub(now);
        if kind == WindowKind::Fixed {
            return Some(to_end);
        }
        let budget = limit - need;
        if self.cur <= budget {
            // Fits once the previous window's weight decays: prev × rem / len ≤ budget − cur.
            let len = (end - self.start) as u128;
            let allowed = (budget - self.cur) as u128;
            // Largest remaining r with ⌈prev·r/len⌉ ≤ allowed  ⇔  prev·r ≤ allowed·len.
            let max_rem = ((allowed * len) / (self.prev.max(1) as u128)).min(len) as u64;
            return Some(to_end.saturating_sub(max_rem));
        }
        // Fits some time into the next window, where the current count becomes the previous one.
        let next_len = (period.end(end) - end) as u128;
        // Largest remaining r there with ⌈cur·r/next_len⌉ ≤ budget  ⇔  cur·r ≤ budget·next_len.
        let max_rem = (budget as u128 * next_len) / (self.cur as u128);
        Some(to_end + (next_len as u64).saturating_sub(max_rem.min(next_len) as u64))
    }

    /// Milliseconds from `now` to the end of the current window.
    pub fn reset_ms(&self, period: Period, now: u64) -> u64 {
        period.end(self.start).saturating_sub(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn civil_round_trip() {
        for d in [
            -1000i64, 0, 59, 60, 365, 10_957, 11_016, 19_675, 20_000, 100_000,
        ] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn alignment() {
        assert_eq!(Period::Minute.start(T0), T0 - T0 % 60_000);
        assert_eq!(Period::Day.start(T0) % DAY_MS, 0);
        assert_eq!(
            Period::Day.end(Period::Day.start(T0)) - Period::Day.start(T0),
            DAY_MS
        );
        // 2024-02-15 → month Feb 2024 (29 days).
        let feb15 = days_from_civil(2024, 2, 15) as u64 * DAY_MS + 123;
        let s = Period::Month.start(feb15);
        assert_eq!(s, days_from_civil(2024, 2, 1) as u64 * DAY_MS);
        assert_eq!(
            Period::Month.end(s),
            days_from_civil(2024, 3, 1) as u64 * DAY_MS
        );
        assert_eq!(
            Period::Month.prev_start(s),
            days_from_civil(2024, 1, 1) as u64 * DAY_MS
        );
        let dec = days_from_civil(2023, 12, 31) as u64 * DAY_MS;
        assert_eq!(
            Period::Month.end(Period::Month.start(dec)),
            days_from_civil(2024, 1, 1) as u64 * DAY_MS
        );
    }

    #[test]
    fn fixed_window_boundaries() {
        let p = Period::Minute;
        let s0 = p.start(T0);
        let mut w = WindowState::default();
        w.roll(p, s0);
        w.cur = 10;
        w.roll(p, s0 + 59_999);
        assert_eq!(w.used(p, WindowKind::Fixed, s0 + 59_999), 10);
        w.roll(p, s0 + 60_000);
        assert_eq!(w.used(p, WindowKind::Fixed, s0 + 60_000), 0);
        assert_eq!((w.prev, w.start), (10, s0 + 60_000));
        // Skipping a whole window drops the previous count too.
        w.cur = 3;
        w.roll(p, s0 + 180_000);
        assert_eq!((w.cur, w.prev), (0, 0));
    }

    #[test]
    fn sliding_weighted_approximation() {
        let p = Period::Minute;
        let s0 = p.start(T0);
        let mut w = WindowState {
            start: s0,
            cur: 60,
            prev: 0,
        };
        w.roll(p, s0 + 60_000);
        // At the start of the next window the whole previous count weighs.
        assert_eq!(w.used(p, WindowKind::Sliding, s0 + 60_000), 60);
        // A quarter in: 3/4 of it.
        assert_eq!(w.used(p, WindowKind::Sliding, s0 + 75_000), 45);
        w.cur = 5;
        assert_eq!(w.used(p, WindowKind::Sliding, s0 + 90_000), 35);
        // Ceiling: 60 × 1/60000 remaining ms still weighs one.
        assert_eq!(w.used(p, WindowKind::Sliding, s0 + 119_999), 6);
        w.roll(p, s0 + 120_000);
        assert_eq!(w.used(p, WindowKind::Sliding, s0 + 120_000), 5);
    }

    /// With a limit of 1 per minute, a request just before a UTC minute boundary keeps every
    /// further one out for at least 60 s (the previous minute's weight rounds up, never down to
    /// zero while any of it remains), and `wait_ms` agrees with `used` to the millisecond.
    #[test]
    fn one_per_minute_never_twice_within_sixty_seconds() {
        let p = Period::Minute;
        let s0 = p.start(T0);
        for first in [s0 + 59_999, s0 + 59_900, s0 + 30_000, s0 + 1, s0] {
            let mut w = WindowState::default();
            w.roll(p, first);
            w.cur = 1;
            // Every later millisecond of the next 60 s refuses a second request; sampled densely
            // around the boundary and at every 97 ms elsewhere.
            let probes = (1..2_000u64)
                .chain((2_000..60_000).step_by(97))
                .chain([59_999]);
            for dt in probes {
                let now = first + dt;
                let mut at = w;
                at.roll(p, now);
                assert!(
                    at.used(p, WindowKind::Sliding, now) + 1 > 1,
                    "first at +{} ms, second admitted {dt} ms later",
                    first - s0
                );
                let wait = at.wait_ms(p, WindowKind::Sliding, now, 1, 1).unwrap();
                assert!(dt + wait >= 60_000, "wait {wait} at +{dt}");
                // The wait is exact: at its end the request fits, one ms before it does not.
                let mut then = w;
                then.roll(p, now + wait);
                assert_eq!(then.used(p, WindowKind::Sliding, now + wait), 0);
                let mut before = w;
                before.roll(p, now + wait - 1);
                assert_eq!(before.used(p, WindowKind::Sliding, now + wait - 1), 1);
            }
        }
    }

    #[test]
    fn clock_skew_never_rewinds() {
        let p = Period::Second;
        let mut w = WindowState {
            start: 5_000,
            cur: 2,
            prev: 1,
        };
        w.roll(p, 4_500);
        assert_eq!(
            w,
            WindowState {
                start: 5_000,
                cur: 2,
                prev: 1
            }
        );
    }

    #[test]
    fn wait_times() {
        let p = Period::Minute;
        let s0 = p.start(T0);
        let w = WindowState {
            start: s0,
            cur: 10,
            prev: 0,
        };
        assert_eq!(
            w.wait_ms(p, WindowKind::Fixed, s0 + 1_000, 10, 1),
            Some(59_000)
        );
        assert_eq!(w.wait_ms(p, WindowKind::Fixed, s0 + 1_000, 11, 1), Some(0));
        assert_eq!(w.wait_ms(p, WindowKind::Fixed, s0, 10, 11), None);
        // Sliding, current full: next window at 1/10 elapsed the weight drops to 9.
        let wait = w
            .wait_ms(p, WindowKind::Sliding, s0 + 1_000, 10, 1)
            .unwrap();
        let mut later = w;
        later.roll(p, s0 + 1_000 + wait);
        assert!(later.used(p, WindowKind::Sliding, s0 + 1_000 + wait) < 10);
        later = w;
        later.roll(p, s0 + wait);
        assert_eq!(later.used(p, WindowKind::Sliding, s0 + wait), 10);
        // Previous window weight decaying.
        let w = WindowState {
            start: s0,
            cur: 2,
            prev: 20,
        };
        let now = s0 + 30_000; // used = 2 + 10 = 12
        let wait = w.wait_ms(p, WindowKind::Sliding, now, 10, 1).unwrap();
        assert!(w.used(p, WindowKind::Sliding, now + wait) < 10);
        assert!(w.used(p, WindowKind::Sliding, now + wait - 1) >= 10);
    }
}

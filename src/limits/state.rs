//! The value stored under one bucket key, and its binary encoding.
//!
//! ```text
//! "PG" version=1 | owner_len u8 | owner bytes | inflight u32 | inflight_ms u64 | n u8 |
//! n × ( kind u8 (its code in kinds.rs) | window u8 (0 sliding, 1 fixed) | start u64 | cur u64 | prev u64 )
//! ```
//! Little-endian. A consumer bucket with every limit is 33 + 32 + 8 × 26 = 273 bytes.

use super::config::{LimitKind, WindowKind};
use super::window::WindowState;

const MAGIC: &[u8; 3] = b"PG\x01";

/// One limit's window in a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub kind: LimitKind,
    pub window: WindowKind,
    pub w: WindowState,
}

/// Everything counted for one consumer (or the anonymous/overflow/global bucket).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Bucket {
    /// Consumer id owning the slot (or `anonymous`, `overflow`, `global`).
    pub owner: String,
    pub inflight: u32,
    /// Last change of `inflight`.
    pub inflight_ms: u64,
    pub entries: Vec<Entry>,
}

impl Bucket {
    pub fn new(owner: &str) -> Bucket {
        Bucket {
            owner: owner.to_string(),
            ..Bucket::default()
        }
    }

    /// Rolls every window to `now` and expires a leaked in-flight count.
    pub fn roll(&mut self, now: u64, lease_ms: u64) {
        for e in &mut self.entries {
            e.w.roll(e.kind.period(), now);
        }
        if self.inflight > 0 && now.saturating_sub(self.inflight_ms) >= lease_ms {
            self.inflight = 0;
        }
    }

    /// Whether nothing in it matters any more at `now`: the slot may be given to another consumer.
    pub fn is_idle(&self, now: u64, lease_ms: u64) -> bool {
        let mut b = self.clone();
        b.roll(now, lease_ms);
        b.inflight == 0 && b.entries.iter().all(|e| e.w.is_idle(e.window))
    }

    pub fn encode(&self) -> Vec<u8> {
        let owner = &self.owner.as_bytes()[..self.owner.len().min(255)];
        let n = self.entries.len().min(255);
        let mut v = Vec::with_capacity(3 + 1 + owner.len() + 12 + 1 + n * 26);
        v.extend_from_slice(MAGIC);
        v.push(owner.len() as u8);
        v.extend_from_slice(owner);
        v.extend_from_slice(&self.inflight.to_le_bytes());
        v.extend_from_slice(&self.inflight_ms.to_le_bytes());
        v.push(n as u8);
        for e in &self.entries[..n] {
            v.push(e.kind.code());
            v.push(match e.window {
                WindowKind::Sliding => 0,
                WindowKind::Fixed => 1,
            });
            v.extend_from_slice(&e.w.start.to_le_bytes());
            v.extend_from_slice(&e.w.cur.to_le_bytes());
            v.extend_from_slice(&e.w.prev.to_le_bytes());
        }
        v
    }

    /// `None` for anything that is not a well-formed bucket (foreign or aliased keys included).
    pub fn decode(b: &[u8]) -> Option<Bucket> {
        let mut r = Reader(b);
        if r.take(3)? != MAGIC {
            return None;
        }
        let len = r.u8()? as usize;
        let owner = std::str::from_utf8(r.take(len)?).ok()?.to_string();
        let inflight = u32::from_le_bytes(r.take(4)?.try_into().ok()?);
        let inflight_ms = r.u64()?;
        let n = r.u8()?;
        let mut entries = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let kind = LimitKind::from_code(r.u8()?)?;
            let window = match r.u8()? {
                0 => WindowKind::Sliding,
                1 => WindowKind::Fixed,
                _ => return None,
            };
            let w = WindowState {
                start: r.u64()?,
                cur: r.u64()?,
                prev: r.u64()?,
            };
            entries.push(Entry { kind, window, w });
        }
        if !r.0.is_empty() {
            return None;
        }
        Some(Bucket {
            owner,
            inflight,
            inflight_ms,
            entries,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let mut b = Bucket::new("0123456789abcdef0123456789abcdef");
        b.inflight = 3;
        b.inflight_ms = 42;
        for (i, kind) in LimitKind::PER_CONSUMER.iter().enumerate() {
            b.entries.push(Entry {
                kind: *kind,
                window: if i % 2 == 0 {
                    WindowKind::Sliding
                } else {
                    WindowKind::Fixed
                },
                w: WindowState {
                    start: i as u64 * 1000,
                    cur: u64::MAX - i as u64,
                    prev: 7,
                },
            });
        }
        let enc = b.encode();
        assert_eq!(enc.len(), 3 + 1 + 32 + 12 + 1 + 8 * 26);
        assert_eq!(Bucket::decode(&enc), Some(b.clone()));
        for cut in 0..enc.len() {
            assert_eq!(Bucket::decode(&enc[..cut]), None);
        }
        let mut extra = enc.clone();
        extra.push(0);
        assert_eq!(Bucket::decode(&extra), None);
        let mut bad = enc.clone();
        bad[3 + 1 + 32 + 12 + 1] = 200; // unknown kind
        assert_eq!(Bucket::decode(&bad), None);
        assert_eq!(Bucket::decode(b"hello"), None);
    }

    /// The bytes of a bucket holding every kind, pinned: they are what other workers (possibly
    /// running another version of the module) read from shared data. If this fails, a stored
    /// code or the layout moved; see `kinds.rs` before changing the expectation.
    #[test]
    fn encoding_is_pinned() {
        use LimitKind::*;
        let kinds = [
            RequestsPerSecond,
            RequestsPerMinute,
            RequestsPerHour,
            RequestsPerDay,
            TokensPerMinute,
            TokensPerDay,
            CostPerDay,
            CostPerMonth,
            GlobalCostPerDay,
        ];
        assert_eq!(kinds.len(), LimitKind::ALL.len(), "pin the new kind here");
        let mut b = Bucket::new("0123456789abcdef0123456789abcdef");
        b.inflight = 3;
        b.inflight_ms = 0x0102_0304_0506_0708;
        for (i, kind) in kinds.into_iter().enumerate() {
            let i = i as u64;
            b.entries.push(Entry {
                kind,
                window: if i.is_multiple_of(2) {
                    WindowKind::Sliding
                } else {
                    WindowKind::Fixed
                },
                w: WindowState {
                    start: 1_700_000_000_000 + i,
                    cur: 10 * i + 1,
                    prev: 0xFFFF_0000 + i,
                },
            });
        }
        let want: String = [
            // "PG" v1, owner length 32, owner, inflight 3, inflight_ms, 9 entries
            "50470120",
            "3031323334353637383961626364656630313233343536373839616263646566",
            "03000000",
            "0807060504030201",
            "09",
            // requests_per_second: code 0, sliding
            "0000",
            "0068e5cf8b010000",
            "0100000000000000",
            "0000ffff00000000",
            // requests_per_minute: code 1, fixed
            "0101",
            "0168e5cf8b010000",
            "0b00000000000000",
            "0100ffff00000000",
            // requests_per_hour: code 2, sliding
            "0200",
            "0268e5cf8b010000",
            "1500000000000000",
            "0200ffff00000000",
            // requests_per_day: code 3, fixed
            "0301",
            "0368e5cf8b010000",
            "1f00000000000000",
            "0300ffff00000000",
            // tokens_per_minute: code 4, sliding
            "0400",
            "0468e5cf8b010000",
            "2900000000000000",
            "0400ffff00000000",
            // tokens_per_day: code 5, fixed
            "0501",
            "0568e5cf8b010000",
            "3300000000000000",
            "0500ffff00000000",
            // cost_per_day: code 6, sliding
            "0600",
            "0668e5cf8b010000",
            "3d00000000000000",
            "0600ffff00000000",
            // cost_per_month: code 7, fixed
            "0701",
            "0768e5cf8b010000",
            "4700000000000000",
            "0700ffff00000000",
            // global_budget: code 8, sliding
            "0800",
            "0868e5cf8b010000",
            "5100000000000000",
            "0800ffff00000000",
        ]
        .concat();
        let got: String = b.encode().iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(got, want);
        assert_eq!(Bucket::decode(&b.encode()), Some(b));
    }
}

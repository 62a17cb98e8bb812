//! Per-message result cache (issue 16).
//!
//! Chat clients resend the whole history on every turn. Inspection scans each extracted string
//! (a message's content, a content block, a tool result, ...) on its own, plus a short window
//! around each boundary between consecutive strings (a rule match may span two messages); those
//! per-unit results are pure functions of the unit's bytes and of the compiled configuration, so
//! they can be kept and reused: only new messages are scanned. The decision still combines every
//! unit's result with the whole-request checks (context, allow rules, scoring, strictness), which
//! run fresh on every request. With and without the cache the decision is the same function of
//! the same unit results (`inspect::tests` and the `msgcache` fuzz target check it).
//!
//! - **Key**: the 128-bit SipHash-1-3 (since 2026-12-05; keyed BLAKE3 before, which on ~2 KiB
//!   messages, too short for its SIMD path, was most of a long conversation's cost) keyed with
//!   128 bits of a per-VM random key (WASI `random_get`, which every supported host implements;
//!   the clock and the salt-free address space when it fails), over a
//!   domain tag, the window geometry for boundaries, and the unit's bytes. An attacker who does
//!   not know the key cannot make a malicious message collide with a cached benign one, and the
//!   key never leaves the VM. The role is not in the key because the cached result does not
//!   depend on it: role-dependent checks (context, suffix on user turns only) are decided fresh.
//!   The configuration is not in the key either: each compiled configuration (`Inspector`) owns
//!   its cache, so a new configuration starts empty.
//! - **Bounds**: at most `entries` entries and `max_bytes` bytes of accounted memory (an
//!   entry's fixed cost plus its hits), kept as two generations: new entries go into the young
//!   one, a hit in the old one moves the entry to the young one, and when the young generation
//!   reaches half the bounds the old one is dropped and the young one becomes old. O(1) per
//!   lookup, no per-entry bookkeeping, and a conversation's history, read on every turn, stays.
//! - **Per worker**: the cache is VM-local memory (no shared data): each Envoy worker warms its
//!   own.

use super::context::UnitFlag;
use std::hash::{BuildHasher, Hasher};

/// `inspection.cache`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(schemars::JsonSchema))]
#[cfg_attr(not(target_arch = "wasm32"), serde(deny_unknown_fields, default))]
pub struct CacheConfig {
    /// Keep per-message scan results and reuse them when the same message comes again (chat
    /// clients resend the history on every turn). Never changes a decision. Default `true`.
    pub enabled: bool,
    /// At most this many cached results per worker (2 .. 1048576). Default 4096.
    pub entries: u32,
    /// At most this many bytes of cached results per worker (65536 .. 268435456): each entry
    /// counts 64 bytes plus 32 per rule hit it holds; the message text is not kept. Default
    /// 1048576 (1 MiB).
    pub max_bytes: u64,
}
crate::compact_struct!(CacheConfig {
    enabled,
    entries,
    max_bytes
});

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            entries: 4096,
            max_bytes: 1 << 20,
        }
    }
}

impl CacheConfig {
    pub(super) fn validate(&self) -> Result<(), crate::error::ConfigError> {
        use crate::error::ConfigError;
        if !(2..=1 << 20).contains(&self.entries) {
            return Err(ConfigError::new(
                "inspection.cache.entries",
                "must be between 2 and 1048576",
            ));
        }
        if !(1 << 16..=1 << 28).contains(&self.max_bytes) {
            return Err(ConfigError::new(
                "inspection.cache.max_bytes",
                "must be between 65536 and 268435456",
            ));
        }
        Ok(())
    }
}

/// Accounted size of an entry (its map slot and vector header) and of each hit it holds.
pub(super) const ENTRY_BYTES: usize = 64;
pub(super) const HIT_BYTES: usize = 32;

/// A cache key: the 128-bit keyed SipHash-1-3 of the unit.
pub(super) type Key = u128;

/// What a unit's scan found, offsets relative to the unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct UnitScan {
    /// Rule hits after the unit's own span allow rules: (rule, start, end, decoded).
    pub hits: Vec<(u16, u32, u32, bool)>,
    /// A request-scope allow rule matched in the unit: every hit of the request is dropped.
    pub allow_all: bool,
    /// The adversarial-suffix verdict on the unit, once a user turn asked for it.
    pub suffix: Option<bool>,
    /// Whether the unit holds a constraint cue (`context::constraint_cue`), once a user turn
    /// under a constraining system prompt asked for it.
    pub cue: Option<bool>,
}

impl UnitScan {
    /// A verdict on the unit's text alone, once a user turn asked for it.
    pub(super) fn flag(&self, which: UnitFlag) -> Option<bool> {
        match which {
            UnitFlag::Suffix => self.suffix,
            UnitFlag::Cue => self.cue,
        }
    }

    fn bytes(&self) -> usize {
        ENTRY_BYTES + HIT_BYTES * self.hits.len()
    }
}

/// The map's hasher: the keys are already uniformly random (keyed BLAKE3), so the low 64 bits
/// are the hash.
#[derive(Default, Clone, Copy)]
pub(super) struct KeyHash(u64);

impl Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, k: u128) {
        self.0 = k as u64;
    }
}

impl BuildHasher for KeyHash {
    type Hasher = KeyHash;
    fn build_hasher(&self) -> KeyHash {
        KeyHash(0)
    }
}

type Map = hashbrown::HashMap<Key, UnitScan, KeyHash>;

/// Hit and miss counts since the cache was built (for tests and the audit's per-request count).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// The bounded two-generation cache of one compiled configuration on one worker.
pub(super) struct MsgCache {
    key: [u8; 32],
    /// Half of the bounds: the young generation's limits.
    half_entries: usize,
    half_bytes: usize,
    young: Map,
    young_bytes: usize,
    old: Map,
    old_bytes: usize,
    pub stats: CacheStats,
}

impl MsgCache {
    pub(super) fn new(cfg: &CacheConfig) -> MsgCache {
        MsgCache::with_key(cfg, *vm_key())
    }

    pub(super) fn with_key(cfg: &CacheConfig, key: [u8; 32]) -> MsgCache {
        MsgCache {
            key,
            half_entries: (cfg.entries as usize / 2).max(1),
            half_bytes: (cfg.max_bytes as usize / 2).max(ENTRY_BYTES),
            young: Map::default(),
            young_bytes: 0,
            old: Map::default(),
            old_bytes: 0,
            stats: CacheStats::default(),
        }
    }

    /// The key of a unit: `tag` separates whole strings from boundary windows, `geometry` is the
    /// window's layout (boundaries) so equal bytes cut differently do not share a result.
    pub(super) fn key(&self, tag: u8, geometry: [u32; 2], bytes: &[u8]) -> Key {
        use core::hash::Hasher;
        use siphasher::sip128::Hasher128;
        let half = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.key[at..at + 8]);
            u64::from_le_bytes(w)
        };
        // SipHash-1-3 (keyed with 128 of the VM key's random bits, 128-bit output) since
        // 2026-12-05: BLAKE3 was the larger part of a long conversation's cost.
        let mut h = siphasher::sip128::SipHasher13::new_with_keys(half(0), half(8));
        let mut head = [0u8; 9];
        head[0] = tag;
        head[1..5].copy_from_slice(&geometry[0].to_le_bytes());
        head[5..9].copy_from_slice(&geometry[1].to_le_bytes());
        h.write(&head);
        h.write(bytes);
        h.finish128().as_u128()
    }

    /// The cached result of `k`, moved to the young generation when it was in the old one.
    pub(super) fn get(&mut self, k: Key) -> Option<&mut UnitScan> {
        if self.young.contains_key(&k) {
            self.stats.hits += 1;
            return self.young.get_mut(&k);
        }
        let Some(v) = self.old.remove(&k) else {
            self.stats.misses += 1;
            return None;
        };
        self.stats.hits += 1;
        self.old_bytes -= v.bytes();
        self.put(k, v);
        self.young.get_mut(&k)
    }

    /// Looks `k` up without counting or moving it.
    pub(super) fn peek(&self, k: Key) -> Option<&UnitScan> {
        self.young.get(&k).or_else(|| self.old.get(&k))
    }

    /// Stores a result (a result larger than half the byte bound is not kept).
    pub(super) fn insert(&mut self, k: Key, v: UnitScan) {
        if let Some(prev) = self.young.remove(&k) {
            self.young_bytes -= prev.bytes();
        }
        if let Some(prev) = self.old.remove(&k) {
            self.old_bytes -= prev.bytes();
        }
        self.put(k, v);
    }

    fn put(&mut self, k: Key, v: UnitScan) {
        let b = v.bytes();
        if b > self.half_bytes {
            return;
        }
        if self.young.len() >= self.half_entries || self.young_bytes + b > self.half_bytes {
            self.stats.evictions += self.old.len() as u64;
            self.old = std::mem::take(&mut self.young);
            self.old_bytes = std::mem::take(&mut self.young_bytes);
        }
        self.young_bytes += b;
        self.young.insert(k, v);
    }

    /// Records a verdict on a cached unit's text (`UnitScan::flag`).
    pub(super) fn set_flag(&mut self, k: Key, which: UnitFlag, flag: bool) {
        if let Some(v) = self.young.get_mut(&k).or_else(|| self.old.get_mut(&k)) {
            match which {
                UnitFlag::Suffix => v.suffix = Some(flag),
                UnitFlag::Cue => v.cue = Some(flag),
            }
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.young_bytes + self.old_bytes
    }
}

/// The VM's cache key: 32 random bytes, drawn once per VM.
pub(super) fn vm_key() -> &'static [u8; 32] {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let mut k = [0u8; 32];
        if !random_bytes(&mut k) {
            // No randomness from the host: the clock and an address, stretched. Weaker (a local
            // observer could narrow it down), still unknown to a remote client.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let mut h = blake3::Hasher::new_derive_key("promptgate 2026-12 message cache key");
            h.update(&now.to_le_bytes());
            h.update(&(&k as *const _ as usize).to_le_bytes());
            k = *h.finalize().as_bytes();
        }
        k
    })
}

#[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
fn random_bytes(buf: &mut [u8]) -> bool {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn random_get(buf: *mut u8, len: usize) -> u16;
    }
    // SAFETY: `buf` is a valid, writable region of `buf.len()` bytes; WASI writes at most that.
    unsafe { random_get(buf.as_mut_ptr(), buf.len()) == 0 }
}

#[cfg(not(all(target_arch = "wasm32", target_os = "wasi")))]
fn random_bytes(buf: &mut [u8]) -> bool {
    // std's per-process random hash keys (the OS's randomness).
    let s = std::collections::hash_map::RandomState::new();
    for (i, c) in buf.chunks_mut(8).enumerate() {
        let v = s.hash_one(i as u64 ^ 0x6d73_6763_6163_6865);
        c.copy_from_slice(&v.to_le_bytes()[..c.len()]);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(entries: u32, max_bytes: u64) -> CacheConfig {
        CacheConfig {
            enabled: true,
            entries,
            max_bytes,
        }
    }

    fn scan(n: usize) -> UnitScan {
        UnitScan {
            hits: (0..n).map(|i| (i as u16, 0, 1, false)).collect(),
            allow_all: false,
            suffix: None,
            cue: None,
        }
    }

    #[test]
    fn miss_then_hit() {
        let mut c = MsgCache::with_key(&cfg(8, 1 << 16), [7; 32]);
        let k = c.key(b'S', [0, 0], b"hello there");
        assert!(c.get(k).is_none());
        c.insert(k, scan(2));
        assert_eq!(c.get(k).map(|v| v.hits.len()), Some(2));
        assert_eq!(
            c.stats,
            CacheStats {
                hits: 1,
                misses: 1,
                evictions: 0
            }
        );
    }

    #[test]
    fn keys_separate_tag_geometry_bytes_and_vm_key() {
        let c = MsgCache::with_key(&cfg(8, 1 << 16), [7; 32]);
        let d = MsgCache::with_key(&cfg(8, 1 << 16), [8; 32]);
        let k = c.key(b'S', [0, 0], b"abc");
        assert_ne!(k, c.key(b'B', [0, 0], b"abc"));
        assert_ne!(k, c.key(b'S', [1, 0], b"abc"));
        assert_ne!(k, c.key(b'S', [0, 1], b"abc"));
        assert_ne!(k, c.key(b'S', [0, 0], b"abd"));
        assert_ne!(k, d.key(b'S', [0, 0], b"abc"));
        assert_eq!(k, c.key(b'S', [0, 0], b"abc"));
    }

    #[test]
    fn entry_bound_evicts_the_old_generation() {
        let mut c = MsgCache::with_key(&cfg(4, 1 << 16), [1; 32]);
        let keys: Vec<Key> = (0..10u8).map(|i| c.key(b'S', [0, 0], &[i])).collect();
        for (i, &k) in keys.iter().enumerate() {
            c.insert(k, scan(0));
            assert!(c.len() <= 4, "after {i}: {} entries", c.len());
        }
        // the two newest are young, the two before them old, the rest gone
        assert!(c.peek(keys[9]).is_some() && c.peek(keys[8]).is_some());
        assert!(c.peek(keys[0]).is_none() && c.peek(keys[5]).is_none());
        assert!(c.stats.evictions >= 6);
    }

    #[test]
    fn a_hit_keeps_an_entry_alive() {
        let mut c = MsgCache::with_key(&cfg(4, 1 << 16), [1; 32]);
        let hot = c.key(b'S', [0, 0], b"system prompt");
        c.insert(hot, scan(1));
        for i in 0..50u8 {
            let k = c.key(b'S', [0, 0], &[i]);
            c.insert(k, scan(0));
            assert!(c.get(hot).is_some(), "evicted at {i}");
        }
    }

    #[test]
    fn byte_bound_holds_and_oversized_results_are_not_kept() {
        let max = 1 << 16;
        let mut c = MsgCache::with_key(&cfg(1 << 20, max), [2; 32]);
        for i in 0..2000u32 {
            let k = c.key(b'S', [i, 0], b"x");
            c.insert(k, scan((i % 40) as usize));
            assert!(c.bytes() <= max as usize, "{} bytes", c.bytes());
        }
        let big = c.key(b'S', [0, 0], b"big");
        c.insert(big, scan(max as usize / HIT_BYTES));
        assert!(c.peek(big).is_none());
    }

    #[test]
    fn reinserting_a_key_replaces_it() {
        let mut c = MsgCache::with_key(&cfg(8, 1 << 16), [3; 32]);
        let k = c.key(b'S', [0, 0], b"a");
        c.insert(k, scan(3));
        c.insert(k, scan(1));
        assert_eq!(c.len(), 1);
        assert_eq!(c.bytes(), ENTRY_BYTES + HIT_BYTES);
    }

    #[test]
    fn suffix_verdict_is_kept() {
        let mut c = MsgCache::with_key(&cfg(8, 1 << 16), [3; 32]);
        let k = c.key(b'S', [0, 0], b"a");
        c.insert(k, scan(0));
        c.set_flag(k, UnitFlag::Suffix, true);
        assert_eq!(c.get(k).and_then(|v| v.flag(UnitFlag::Suffix)), Some(true));
        assert_eq!(c.get(k).and_then(|v| v.flag(UnitFlag::Cue)), None);
        c.set_flag(k, UnitFlag::Cue, false);
        assert_eq!(c.get(k).and_then(|v| v.flag(UnitFlag::Cue)), Some(false));
        assert_eq!(c.get(k).and_then(|v| v.flag(UnitFlag::Suffix)), Some(true));
    }

    #[test]
    fn config_bounds_name_the_field() {
        assert!(CacheConfig::default().validate().is_ok());
        let e = cfg(1, 1 << 20).validate().unwrap_err();
        assert_eq!(e.field, "inspection.cache.entries");
        let e = cfg(16, 1024).validate().unwrap_err();
        assert_eq!(e.field, "inspection.cache.max_bytes");
    }

    #[test]
    fn vm_key_is_random_and_stable() {
        assert_eq!(vm_key(), vm_key());
        assert_ne!(vm_key(), &[0u8; 32]);
    }
}

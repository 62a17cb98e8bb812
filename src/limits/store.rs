//! The shared-data abstraction and in-memory fakes of both hosts' semantics.
//!
//! The glue implements [`SharedStore`] over `proxy_wasm::hostcalls::{get,set}_shared_data`,
//! passing `cas` straight through (no translation per host): this module's callers only ever
//! write with the cas a `get` returned, or through [`create`], which is exact on both hosts.

use std::collections::HashMap;
use std::sync::Mutex;

/// Why a shared-data operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The key changed (or appeared) since the `get` whose cas was passed.
    CasMismatch,
    /// The host refused or failed (no memory, not supported, ...).
    Unavailable,
}

/// Shared key/value data with compare-and-swap, as the proxy-wasm hosts offer it.
///
/// `get` returns the value and its cas, `None` if absent. `set` passes `cas` to the host as is;
/// hosts differ for `cas == 0` and for absent keys (see `docs/limits.md`), and this module copes
/// with both.
pub trait SharedStore {
    /// Current value and cas of `key`, or `None` if absent.
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError>;
    /// Writes `value` if the host accepts `cas`.
    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError>;
}

impl<S: SharedStore + ?Sized> SharedStore for &S {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        (**self).get(key)
    }
    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        (**self).set(key, value, cas)
    }
}

/// The cas used to create a key on a host where absent keys accept any cas (Envoy): it cannot
/// match an existing key's cas unless that cas is exactly this value (1 in 2³² per racing create).
pub const CREATE_CAS: u32 = u32::MAX;

/// Writes `value` only if `key` is absent: `Ok(())` if created, `Err(CasMismatch)` if the key
/// exists. Exact on both hosts without knowing which one runs:
/// 1. `set(cas = u32::MAX)`: Envoy creates an absent key whatever the cas, and rejects it on an
///    existing key (cas ≠ u32::MAX); Kong rejects it (absent keys need cas 0).
/// 2. On mismatch, `get`: present → the key exists. Absent → this is a Kong-like host (Envoy
///    would have created it and never deletes), so `set(cas = 0)`, which Kong accepts only while
///    the key is still absent.
///
/// A blind `set(cas = 0)` is never sent to a key that might exist on Envoy, where it would be an
/// unconditional overwrite.
pub fn create<S: SharedStore + ?Sized>(
    store: &S,
    key: &str,
    value: &[u8],
) -> Result<(), StoreError> {
    match store.set(key, value, CREATE_CAS) {
        Err(StoreError::CasMismatch) => {}
        other => return other,
    }
    match store.get(key)? {
        Some(_) => Err(StoreError::CasMismatch),
        None => store.set(key, value, 0),
    }
}

/// Which host's shared-data semantics a fake follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semantics {
    /// `cas == 0` is an unconditional write; a write to an absent key always succeeds; cas values
    /// come from one global counter; nothing is ever evicted.
    Envoy,
    /// A write succeeds only if `cas == (absent ? 0 : current cas)`; cas is per key.
    Kong,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, (Vec<u8>, u32)>,
    next_cas: u32,
    sets: u64,
    gets: u64,
}

/// An in-memory store with Envoy or Kong semantics. Thread-safe (a `Mutex`, like Envoy's).
#[derive(Debug)]
pub struct MemoryStore {
    semantics: Semantics,
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new(semantics: Semantics) -> Self {
        MemoryStore {
            semantics,
            inner: Mutex::new(Inner {
                next_cas: 1,
                ..Inner::default()
            }),
        }
    }

    /// Number of keys (to check key counts stay bounded).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no key exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self.lock().map.keys().cloned().collect();
        k.sort();
        k
    }

    /// Raw value of a key.
    pub fn raw(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().map.get(key).map(|(v, _)| v.clone())
    }

    /// Simulates Kong's eviction of a key.
    pub fn evict(&self, key: &str) {
        self.lock().map.remove(key);
    }

    /// (gets, successful sets) so far.
    pub fn op_counts(&self) -> (u64, u64) {
        let i = self.lock();
        (i.gets, i.sets)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SharedStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        let mut i = self.lock();
        i.gets += 1;
        Ok(i.map.get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        let mut i = self.lock();
        let current = i.map.get(key).map(|(_, c)| *c);
        let new_cas = match self.semantics {
            Semantics::Envoy => {
                if let Some(c) = current {
                    if cas != 0 && cas != c {
                        return Err(StoreError::CasMismatch);
                    }
                }
                let c = i.next_cas;
                i.next_cas = i.next_cas.wrapping_add(1).max(1);
                c
            }
            Semantics::Kong => {
                if cas != current.unwrap_or(0) {
                    return Err(StoreError::CasMismatch);
                }
                current.unwrap_or(0).wrapping_add(1).max(1)
            }
        };
        i.map.insert(key.to_string(), (value.to_vec(), new_cas));
        i.sets += 1;
        Ok(())
    }
}

/// A store that is always unavailable.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnavailableStore;

impl SharedStore for UnavailableStore {
    fn get(&self, _: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        Err(StoreError::Unavailable)
    }
    fn set(&self, _: &str, _: &[u8], _: u32) -> Result<(), StoreError> {
        Err(StoreError::Unavailable)
    }
}

/// Wraps a store and runs `interloper` against the inner store just before selected `set` calls,
/// like another worker writing between our `get` and `set`.
pub struct RacingStore<'a, S: SharedStore> {
    inner: &'a S,
    /// Called with (inner store, key, index of this set call); return value ignored.
    #[allow(clippy::type_complexity)]
    interloper: Mutex<Box<dyn FnMut(&S, &str, u64) + Send + 'a>>,
    calls: Mutex<u64>,
}

impl<'a, S: SharedStore> RacingStore<'a, S> {
    /// `interloper` runs before every `set` on `inner`.
    pub fn new(inner: &'a S, interloper: impl FnMut(&S, &str, u64) + Send + 'a) -> Self {
        RacingStore {
            inner,
            interloper: Mutex::new(Box::new(interloper)),
            calls: Mutex::new(0),
        }
    }
}

impl<S: SharedStore> SharedStore for RacingStore<'_, S> {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        let n = {
            let mut c = self.calls.lock().unwrap_or_else(|e| e.into_inner());
            *c += 1;
            *c - 1
        };
        (self.interloper.lock().unwrap_or_else(|e| e.into_inner()))(self.inner, key, n);
        self.inner.set(key, value, cas)
    }
}

/// A store whose every write loses a CAS race (another writer always gets there first).
pub struct AlwaysLosingStore<'a, S: SharedStore>(pub &'a S);

impl<S: SharedStore> SharedStore for AlwaysLosingStore<'_, S> {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        self.0.get(key)
    }
    fn set(&self, _: &str, _: &[u8], _: u32) -> Result<(), StoreError> {
        Err(StoreError::CasMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_semantics() {
        let s = MemoryStore::new(Semantics::Envoy);
        // Absent: any cas creates.
        s.set("a", b"1", 12345).unwrap();
        let (_, c) = s.get("a").unwrap().unwrap();
        assert_eq!(s.set("a", b"2", c + 1), Err(StoreError::CasMismatch));
        s.set("a", b"2", c).unwrap();
        assert_eq!(s.set("a", b"3", c), Err(StoreError::CasMismatch));
        // cas 0: unconditional.
        s.set("a", b"4", 0).unwrap();
        assert_eq!(s.raw("a").unwrap(), b"4");
    }

    #[test]
    fn kong_semantics() {
        let s = MemoryStore::new(Semantics::Kong);
        assert_eq!(s.set("a", b"1", 7), Err(StoreError::CasMismatch));
        s.set("a", b"1", 0).unwrap();
        assert_eq!(s.set("a", b"2", 0), Err(StoreError::CasMismatch));
        let (_, c) = s.get("a").unwrap().unwrap();
        s.set("a", b"2", c).unwrap();
        assert_eq!(s.set("a", b"3", c), Err(StoreError::CasMismatch));
    }

    #[test]
    fn create_is_exact_on_both_hosts() {
        for sem in [Semantics::Envoy, Semantics::Kong] {
            let s = MemoryStore::new(sem);
            create(&s, "k", b"first").unwrap();
            assert_eq!(create(&s, "k", b"second"), Err(StoreError::CasMismatch));
            assert_eq!(s.raw("k").unwrap(), b"first");
            // A racing creator between our get and set: ours must fail, theirs survives.
            let racing = RacingStore::new(&s, |inner: &MemoryStore, key: &str, n| {
                if n == 0 {
                    inner.set(key, b"theirs", 0).ok();
                }
            });
            assert_eq!(
                create(&racing, "r", b"ours"),
                Err(StoreError::CasMismatch),
                "{sem:?}"
            );
            assert_eq!(s.raw("r").unwrap(), b"theirs");
            assert_eq!(
                create(&UnavailableStore, "x", b""),
                Err(StoreError::Unavailable)
            );
        }
    }
}

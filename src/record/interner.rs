//! Dense IDs for distinct values: the dictionaries every identifier, name,
//! city and address key is stored in once.
//!
//! Each value is stored once: the hash table holds IDs only and finds
//! values through `values` (a map keyed by the values would hold every
//! string twice — at 10M records, hundreds of megabytes).
//!
//! The table is a flat array of 8-byte slots probed linearly, so that a
//! caller interning a batch can ask for the slot of a value some steps
//! ahead ([`Interner::prefetch`]) and find it in the cache when it gets
//! there: at millions of distinct values every lookup is otherwise a cache
//! miss, and the lookups were the largest sequential part of reading.

use std::fmt;
use std::hash::Hash;

use super::dataset::{NONE, check_len, gather};
use crate::error::Result;
use crate::prefetch::prefetch;

/// Dense IDs for distinct values, in first-seen order.
#[derive(Clone)]
pub(crate) struct Interner<K> {
    /// A power of two many slots, or none: 0 is an empty slot, anything
    /// else a value's [`short_hash`] in the high half and its ID + 1 in the
    /// low half. A value sits at or after (wrapping) its home slot, with no
    /// empty slot in between.
    slots: Vec<u64>,
    values: Vec<K>,
}

impl<K> fmt::Debug for Interner<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interner")
            .field("values", &self.values.len())
            .finish()
    }
}

impl<K> Default for Interner<K> {
    fn default() -> Self {
        Interner {
            slots: Vec::new(),
            values: Vec::new(),
        }
    }
}

/// A value's 32-bit hash: the high half of its 64-bit hash times an odd
/// constant, so every bit of the hash reaches it.
fn short_hash<Q: Hash + ?Sized>(key: &Q) -> u32 {
    use std::hash::BuildHasher;
    let h = rustc_hash::FxBuildHasher.hash_one(key);
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

/// The home slot of short hash `h` among `len` slots (a power of two): its
/// top bits, which keeps each value's place across growth in order.
fn home(h: u32, len: usize) -> usize {
    // The product is below `len` · 2³², so the shifted value is below `len`.
    ((u64::from(h) * len as u64) >> 32) as usize
}

/// Slots in use at most, per 8 slots. Linear probing at seven eighths full
/// walks a few cache lines for an absent value, and a table just grown is
/// less than half full; 8 bytes per slot at this load take about what
/// `hashbrown`'s 5 bytes per slot at its own took.
const LOAD_PER_8: usize = 7;

/// The fewest slots a table that holds anything has.
const MIN_SLOTS: usize = 16;

/// The slots `values` distinct values need (a power of two), or `None`
/// where that overflows.
fn slots_for(values: usize) -> Option<usize> {
    let wanted = values.checked_mul(8)? / LOAD_PER_8 + 1;
    wanted.max(MIN_SLOTS).checked_next_power_of_two()
}

impl<K: Hash + Eq> Interner<K> {
    /// The ID of `key`, added as the next ID when new.
    pub(crate) fn intern(&mut self, key: K) -> Result<u32> {
        let h = short_hash(&key);
        match self.find(h, &key) {
            Ok(id) => Ok(id),
            Err(at) => self.insert(h, at, key),
        }
    }

    /// As [`Interner::intern`], allocating the owned key only for a new value.
    pub(crate) fn intern_ref<Q>(&mut self, key: &Q) -> Result<u32>
    where
        K: std::borrow::Borrow<Q> + for<'q> From<&'q Q>,
        Q: Hash + Eq + ?Sized,
    {
        // `Borrow` promises equal hashes for the owned and borrowed forms.
        let h = short_hash(key);
        match self.find(h, key) {
            Ok(id) => Ok(id),
            Err(at) => self.insert(h, at, K::from(key)),
        }
    }

    /// Starts loading the slot where `key` would be found or added: a hint
    /// for a caller that will intern it some steps later. Changes nothing.
    #[inline]
    pub(crate) fn prefetch<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + ?Sized,
    {
        if let Some(s) = self.slots.get(home(short_hash(key), self.slots.len())) {
            prefetch(s);
        }
    }

    /// `Ok(id)` of `key`, or `Err(slot)`: the empty slot it would go in
    /// (`usize::MAX` when the table has no slots).
    fn find<Q>(&self, h: u32, key: &Q) -> std::result::Result<u32, usize>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let len = self.slots.len();
        if len == 0 {
            return Err(usize::MAX);
        }
        let mask = len - 1;
        let mut at = home(h, len);
        // The table is never full (at most seven eighths), so the walk
        // meets an empty slot.
        loop {
            let s = self.slots[at];
            if s == 0 {
                return Err(at);
            }
            if (s >> 32) as u32 == h {
                let id = (s as u32).wrapping_sub(1);
                if self
                    .values
                    .get(id as usize)
                    .is_some_and(|v| v.borrow() == key)
                {
                    return Ok(id);
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `key` (not held; `find` gave `at`) as the next ID.
    fn insert(&mut self, h: u32, mut at: usize, key: K) -> Result<u32> {
        check_len(self.values.len(), "distinct values")?;
        // `check_len` bounds the length below u32::MAX, so the ID + 1 fits.
        let id = self.values.len() as u32;
        if at == usize::MAX || (self.values.len() + 1) * 8 > self.slots.len() * LOAD_PER_8 {
            let grown = slots_for(self.values.len() + 1)
                .unwrap_or(MIN_SLOTS)
                .max(self.slots.len() * 2);
            self.rebuild(vec![0; grown], |id| id);
            at = self.empty_slot(h);
        }
        self.values.push(key);
        self.slots[at] = (u64::from(h) << 32) | u64::from(id + 1);
        Ok(id)
    }

    /// The first empty slot from `h`'s home on (the table has one).
    fn empty_slot(&self, h: u32) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = home(h, self.slots.len());
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        at
    }

    /// Moves every slot into `slots` (empty slots, a power of two many, more
    /// than the values), its ID renumbered by `renumber` (a slot whose new
    /// ID is [`NONE`] is left out). Reads the slots only, never a value.
    fn rebuild(&mut self, slots: Vec<u64>, renumber: impl Fn(u32) -> u32) {
        let old = std::mem::replace(&mut self.slots, slots);
        for s in old.into_iter().filter(|&s| s != 0) {
            let h = (s >> 32) as u32;
            let id = renumber((s as u32).wrapping_sub(1));
            if id != NONE {
                let at = self.empty_slot(h);
                self.slots[at] = (u64::from(h) << 32) | u64::from(id + 1);
            }
        }
    }

    /// Room for `additional` more distinct values without growing, when
    /// the memory can be had (a hint: a failed reservation is skipped).
    pub(crate) fn reserve(&mut self, additional: usize) {
        let Some(total) = self.values.len().checked_add(additional) else {
            return;
        };
        let Some(len) = slots_for(total) else {
            return;
        };
        if len <= self.slots.len() || self.values.try_reserve(additional).is_err() {
            return;
        }
        let mut slots = Vec::new();
        if slots.try_reserve_exact(len).is_ok() {
            slots.extend(std::iter::repeat_n(0, len));
            self.rebuild(slots, |id| id);
        }
    }

    pub(crate) fn value(&self, id: u32) -> Option<&K> {
        self.values.get(id as usize)
    }

    /// Keeps the values `order` lists (old IDs, each once), renumbered by
    /// their position in it; `new_id` maps every old ID to its new one, or
    /// [`NONE`] for a value no longer held.
    pub(crate) fn reorder(&mut self, order: &[u32], new_id: &[u32]) {
        let renumber = |id: u32| new_id.get(id as usize).copied().unwrap_or(NONE);
        if order.len() == self.values.len() {
            // Every value kept: each slot keeps its place.
            for s in self.slots.iter_mut().filter(|s| **s != 0) {
                let id = renumber((*s as u32).wrapping_sub(1));
                *s = (*s & !0xFFFF_FFFF) | u64::from(id.wrapping_add(1));
            }
        } else {
            // Dropped values would leave holes in the probe runs.
            self.rebuild(vec![0; self.slots.len()], renumber);
        }
        // A gather (independent loads), not an in-place cycle walk (a chain
        // of dependent cache misses: seconds at millions of values).
        self.values = gather(std::mem::take(&mut self.values), order);
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The table gives each distinct value the next ID on first sight
        /// and that ID after, through every growth, like a map would.
        #[test]
        fn ids_are_first_sightings(keys in proptest::collection::vec(0u16..400, 0..2_000)) {
            let mut t: Interner<u64> = Interner::default();
            let mut seen = std::collections::HashMap::new();
            for k in keys {
                let want = seen.len() as u32;
                let want = *seen.entry(k).or_insert(want);
                t.prefetch(&u64::from(k));
                prop_assert_eq!(t.intern(u64::from(k)).unwrap(), want);
            }
            prop_assert_eq!(t.len(), seen.len());
            prop_assert!(t.values.len() * 8 <= t.slots.len() * LOAD_PER_8);
        }

        /// Reordering keeps exactly the listed values, under their new IDs,
        /// and later lookups and additions agree with that.
        #[test]
        fn reorder_keeps_the_listed_values(
            n in 0usize..300,
            keep_all in any::<bool>(),
            keep in proptest::collection::vec(any::<bool>(), 300),
            more in proptest::collection::vec(0u32..600, 0..100),
        ) {
            let mut t: Interner<Box<str>> = Interner::default();
            for k in 0..n {
                t.intern(k.to_string().into()).unwrap();
            }
            // Kept values, in reverse: new ID = position in `order`.
            // (All kept takes the path that renumbers slots in place.)
            let order: Vec<u32> =
                (0..n as u32).rev().filter(|&k| keep_all || keep[k as usize]).collect();
            let mut new_id = vec![NONE; n];
            for (new, &old) in order.iter().enumerate() {
                new_id[old as usize] = new as u32;
            }
            t.reorder(&order, &new_id);
            prop_assert_eq!(t.len(), order.len());
            let mut want: std::collections::HashMap<String, u32> = order
                .iter()
                .enumerate()
                .map(|(new, &old)| (old.to_string(), new as u32))
                .collect();
            for (new, &old) in order.iter().enumerate() {
                let old = old.to_string();
                prop_assert_eq!(t.value(new as u32).map(|v| &**v), Some(old.as_str()));
            }
            for k in more {
                let s = k.to_string();
                let next = want.len() as u32;
                let id = *want.entry(s.clone()).or_insert(next);
                prop_assert_eq!(t.intern_ref(s.as_str()).unwrap(), id);
            }
        }
    }

    #[test]
    fn reserve_keeps_ids_and_makes_room() {
        let mut t: Interner<Box<str>> = Interner::default();
        assert_eq!(t.intern_ref("a").unwrap(), 0);
        t.reserve(1_000);
        let slots = t.slots.len();
        assert!(slots * LOAD_PER_8 >= 1_000 * 8);
        for k in 1..1_000u32 {
            assert_eq!(t.intern(k.to_string().into()).unwrap(), k);
        }
        assert_eq!(t.slots.len(), slots, "no growth after the reservation");
        assert_eq!(t.intern_ref("a").unwrap(), 0);
        // Far too much is skipped, not a failure.
        t.reserve(usize::MAX);
        assert_eq!(t.len(), 1_000);
    }
}

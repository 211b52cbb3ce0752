//! Disjoint sets over dense indices: one arena, union by size, path halving,
//! no recursion (a chain of millions of elements is fine); and a shared
//! variant that threads merge into at once.

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

/// Disjoint sets over `0..n`.
///
/// # Example
/// ```
/// use idstitch::UnionFind;
///
/// let mut uf = UnionFind::new(4);
/// assert!(uf.union(0, 1));
/// assert!(uf.union(2, 3));
/// assert!(!uf.union(1, 0));
/// assert_eq!(uf.find(1), uf.find(0));
/// assert_ne!(uf.find(1), uf.find(2));
/// assert_eq!(uf.set_size(3), 2);
/// assert_eq!(uf.sets(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
    sets: usize,
}

impl UnionFind {
    /// `n` singleton sets. `n` must fit in `u32`; larger values are capped.
    pub fn new(n: usize) -> UnionFind {
        let n = n.min(u32::MAX as usize);
        UnionFind {
            // `n` is capped to u32::MAX just above.
            parent: (0..n as u32).collect(),
            size: vec![1; n],
            sets: n,
        }
    }

    /// Back to `n` singleton sets, keeping the allocations.
    pub(crate) fn reset(&mut self, n: usize) {
        let n = n.min(u32::MAX as usize);
        self.parent.clear();
        // `n` is capped to u32::MAX just above.
        self.parent.extend(0..n as u32);
        self.size.clear();
        self.size.resize(n, 1);
        self.sets = n;
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The number of disjoint sets.
    pub fn sets(&self) -> usize {
        self.sets
    }

    /// The representative of `x`'s set (halving the path on the way).
    /// Out-of-range elements are their own representative.
    #[inline]
    pub fn find(&mut self, mut x: u32) -> u32 {
        if x as usize >= self.parent.len() {
            return x;
        }
        loop {
            let p = self.parent[x as usize];
            if p == x {
                return x;
            }
            let gp = self.parent[p as usize];
            self.parent[x as usize] = gp;
            x = gp;
        }
    }

    /// The representative of `x`'s set, without changing the structure.
    pub fn find_const(&self, mut x: u32) -> u32 {
        if x as usize >= self.parent.len() {
            return x;
        }
        while self.parent[x as usize] != x {
            x = self.parent[x as usize];
        }
        x
    }

    /// Merges the sets of `a` and `b`; false if they were already one set
    /// (or either is out of range).
    #[inline]
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        self.union_roots(a, b).is_some()
    }

    /// Merges the sets of `a` and `b`, returning `(kept root, absorbed root)`,
    /// or `None` if they were already one set (or either is out of range).
    #[inline]
    pub fn union_roots(&mut self, a: u32, b: u32) -> Option<(u32, u32)> {
        let n = self.parent.len();
        if a as usize >= n || b as usize >= n {
            return None;
        }
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return None;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        self.sets -= 1;
        Some((big, small))
    }

    /// The size of the set whose root is `root` (1 for an index out of
    /// range; meaningless for an element that is not a root).
    #[inline]
    pub(crate) fn root_size(&self, root: u32) -> u32 {
        self.size.get(root as usize).copied().unwrap_or(1)
    }

    /// The size of `x`'s set.
    pub fn set_size(&mut self, x: u32) -> u32 {
        let r = self.find(x);
        self.size.get(r as usize).copied().unwrap_or(1)
    }

    /// Dense set labels `0..sets()`, numbered in order of each set's smallest
    /// element, so the labelling depends only on the partition.
    pub fn labels(&mut self) -> Vec<u32> {
        let n = self.parent.len();
        let mut label_of_root = vec![u32::MAX; n];
        let mut out = Vec::with_capacity(n);
        let mut next = 0u32;
        for x in 0..n as u32 {
            let r = self.find(x) as usize;
            if label_of_root[r] == u32::MAX {
                label_of_root[r] = next;
                next += 1;
            }
            out.push(label_of_root[r]);
        }
        out
    }
}

/// Disjoint sets over `0..n` that threads may merge at once: a root is
/// linked under a smaller root by one compare-and-swap, paths are halved
/// the same way, and a parent is never larger than its child, so the
/// forest has no cycle whatever the interleaving. The sets at the end are
/// the connected components of the unions made, in any order on any thread
/// count, and each set's root is its smallest element (nothing smaller in
/// the set could take it as a child), so [`SharedUnionFind::roots`] does
/// not depend on the interleaving either.
pub(crate) struct SharedUnionFind {
    parent: Vec<AtomicU32>,
}

impl SharedUnionFind {
    /// `n` singleton sets (`n` below `u32::MAX`: record indices).
    pub(crate) fn new(n: usize) -> SharedUnionFind {
        let n = n.min(u32::MAX as usize);
        SharedUnionFind {
            // `n` is capped to u32::MAX just above.
            parent: (0..n as u32).map(AtomicU32::new).collect(),
        }
    }

    /// The root of `x`'s set as of now (`x` itself when out of range).
    #[inline]
    fn find(&self, mut x: u32) -> u32 {
        loop {
            let Some(p) = self
                .parent
                .get(x as usize)
                .map(|p| p.load(Ordering::Relaxed))
            else {
                return x;
            };
            if p == x {
                return x;
            }
            // `p < x`: in range, as `x` was.
            let gp = self.parent[p as usize].load(Ordering::Relaxed);
            if gp != p {
                // Halving: a lost race leaves a longer, still valid path.
                let _ = self.parent[x as usize].compare_exchange(
                    p,
                    gp,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
            x = gp;
        }
    }

    /// Merges the sets of `a` and `b` (either out of range: nothing).
    #[inline]
    pub(crate) fn union(&self, a: u32, b: u32) {
        let n = self.parent.len();
        if a as usize >= n || b as usize >= n {
            return;
        }
        let (mut a, mut b) = (a, b);
        loop {
            (a, b) = (self.find(a), self.find(b));
            if a == b {
                return;
            }
            let (low, high) = (a.min(b), a.max(b));
            // Linked only while still a root; else another thread linked
            // it first, and the new roots are found again.
            if self.parent[high as usize]
                .compare_exchange(high, low, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Starts loading `x`'s parent (see [`crate::prefetch`]): for loops
    /// that union pairs in random order, a few pairs ahead.
    #[inline]
    pub(crate) fn prefetch(&self, x: u32) {
        if let Some(p) = self.parent.get(x as usize) {
            crate::prefetch::prefetch(p);
        }
    }

    /// Starts loading the parent of `x`'s parent: half as far ahead as
    /// [`SharedUnionFind::prefetch`] asked for `x`'s own.
    #[inline]
    pub(crate) fn prefetch_parent(&self, x: u32) {
        if let Some(p) = self.parent.get(x as usize) {
            self.prefetch(p.load(Ordering::Relaxed));
        }
    }

    /// Each element's root, found in parallel once no union is running.
    pub(crate) fn roots(self) -> Vec<u32> {
        let parent: Vec<u32> = self.parent.into_iter().map(AtomicU32::into_inner).collect();
        (0..parent.len() as u32)
            .into_par_iter()
            .map(|mut x| {
                // Parents only decrease along a path, so the walk ends.
                while let Some(&p) = parent.get(x as usize) {
                    if p == x {
                        break;
                    }
                    x = p;
                }
                x
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Unions made from many threads at once give the partition of the
        /// same unions made in turn, each set rooted at its smallest
        /// element.
        #[test]
        fn shared_unions_give_the_sequential_partition(
            n in 1usize..400,
            edges in proptest::collection::vec((0u32..420, 0u32..420), 0..600),
        ) {
            let shared = SharedUnionFind::new(n);
            edges.par_iter().with_max_len(1).for_each(|&(a, b)| shared.union(a, b));
            let roots = shared.roots();
            let mut seq = UnionFind::new(n);
            for &(a, b) in &edges {
                seq.union(a, b);
            }
            for x in 0..n as u32 {
                // The same set, and its smallest element as the root.
                let smallest = (0..n as u32).find(|&y| seq.find(y) == seq.find(x));
                proptest::prop_assert_eq!(Some(roots[x as usize]), smallest);
            }
        }
    }

    #[test]
    fn a_long_chain_needs_no_recursion() {
        let n = 1_000_000u32;
        let mut uf = UnionFind::new(n as usize);
        for i in 1..n {
            assert!(uf.union(i - 1, i));
        }
        assert_eq!(uf.sets(), 1);
        assert_eq!(uf.set_size(0), n);
        assert_eq!(uf.find(n - 1), uf.find(0));
    }

    #[test]
    fn labels_follow_smallest_elements() {
        let mut uf = UnionFind::new(6);
        uf.union(5, 2);
        uf.union(4, 0);
        assert_eq!(uf.labels(), [0, 1, 2, 3, 0, 2]);
        assert!(!uf.union(9, 1));
        assert_eq!(uf.find(9), 9);
        assert_eq!(uf.find_const(5), uf.find(2));
    }
}

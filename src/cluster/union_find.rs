//! Disjoint sets over dense indices: one arena, union by size, path halving,
//! no recursion (a chain of millions of elements is fine).

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

    /// Starts loading `x`'s parent and size (see [`crate::prefetch`]): for
    /// loops that union pairs in random order, a few pairs ahead.
    #[inline]
    pub(crate) fn prefetch(&self, x: u32) {
        if let (Some(p), Some(s)) = (self.parent.get(x as usize), self.size.get(x as usize)) {
            crate::prefetch::prefetch(p);
            crate::prefetch::prefetch(s);
        }
    }

    /// Starts loading the parent and size of `x`'s parent: for the same
    /// loops, half as far ahead as [`UnionFind::prefetch`] asked for `x`'s
    /// own (reads `x`'s parent, which that brought in). After path halving
    /// the parent is often the root.
    #[inline]
    pub(crate) fn prefetch_parent(&self, x: u32) {
        if let Some(&p) = self.parent.get(x as usize) {
            self.prefetch(p);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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

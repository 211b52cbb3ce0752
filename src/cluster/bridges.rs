//! Weak bridges: links whose removal splits an identity in two substantial
//! parts and whose evidence is weak. Found by an iterative (stack-based)
//! Tarjan bridge search, so identities of any size are fine.

use super::Link;
use super::union_find::UnionFind;

/// The links to cut: bridges below `strong` whose two sides both hold at
/// least `min_side` records. Repeats on what remains until nothing more is
/// cut (a cut can leave a smaller identity with its own weak bridge).
pub(crate) fn weak_bridges(n: usize, links: &[Link], strong: f32, min_side: usize) -> Vec<Link> {
    let mut cut = vec![false; links.len()];
    let mut out = Vec::new();
    loop {
        let found = pass(n, links, &cut, strong, min_side);
        if found.is_empty() {
            break;
        }
        for e in found {
            cut[e] = true;
            out.push(links[e]);
        }
    }
    out.sort_unstable_by_key(|l| (l.a, l.b));
    out
}

/// One search over the links not yet cut; returns edge indices to cut.
///
/// Only identities holding a weak link and enough records for two sides
/// are searched: most hold neither, and skipping them keeps the pass
/// proportional to the doubtful part of the graph.
fn pass(n: usize, links: &[Link], cut: &[bool], strong: f32, min_side: usize) -> Vec<usize> {
    let live = |e: usize| !cut[e] && links[e].a != links[e].b;
    let mut uf = UnionFind::new(n);
    for (e, l) in links.iter().enumerate() {
        if live(e) {
            uf.union(l.a, l.b);
        }
    }
    let mut searched = vec![false; n];
    let mut any = false;
    for (e, l) in links.iter().enumerate() {
        if live(e) && l.probability < strong {
            let root = uf.find(l.a);
            if uf.set_size(root) as usize >= 2 * min_side {
                searched[root as usize] = true;
                any = true;
            }
        }
    }
    if !any {
        return Vec::new();
    }
    let keep: Vec<bool> = (0..links.len())
        .map(|e| live(e) && searched[uf.find(links[e].a) as usize])
        .collect();
    // Adjacency in CSR form: (neighbour, edge index).
    let mut degree = vec![0u32; n + 1];
    for (e, l) in links.iter().enumerate() {
        if keep[e] {
            degree[l.a as usize] += 1;
            degree[l.b as usize] += 1;
        }
    }
    let mut start = vec![0usize; n + 1];
    for v in 0..n {
        start[v + 1] = start[v] + degree[v] as usize;
    }
    let mut fill = start.clone();
    let mut adj = vec![(0u32, 0usize); start[n]];
    for (e, l) in links.iter().enumerate() {
        if keep[e] {
            adj[fill[l.a as usize]] = (l.b, e);
            fill[l.a as usize] += 1;
            adj[fill[l.b as usize]] = (l.a, e);
            fill[l.b as usize] += 1;
        }
    }
    let mut disc = vec![0u32; n];
    let mut low = vec![0u32; n];
    let mut size = vec![0u32; n];
    let mut time = 0u32;
    let mut to_cut = Vec::new();
    // (vertex, edge to parent or usize::MAX, next adjacency position)
    let mut stack: Vec<(u32, usize, usize)> = Vec::new();
    let mut bridges: Vec<(usize, u32)> = Vec::new();
    for root in 0..n {
        if disc[root] != 0 || start[root] == start[root + 1] {
            continue;
        }
        time += 1;
        disc[root] = time;
        low[root] = time;
        size[root] = 1;
        // Vertex indices fit u32 (record indices).
        stack.push((root as u32, usize::MAX, start[root]));
        bridges.clear();
        while let Some(top) = stack.last_mut() {
            let v = top.0 as usize;
            if top.2 < start[v + 1] {
                let (w, e) = adj[top.2];
                top.2 += 1;
                if e == top.1 {
                    continue;
                }
                let w = w as usize;
                if disc[w] == 0 {
                    time += 1;
                    disc[w] = time;
                    low[w] = time;
                    size[w] = 1;
                    stack.push((w as u32, e, start[w]));
                } else {
                    low[v] = low[v].min(disc[w]);
                }
            } else {
                let (v, parent_edge, _) = (top.0 as usize, top.1, top.2);
                stack.pop();
                if let Some(parent) = stack.last() {
                    let p = parent.0 as usize;
                    low[p] = low[p].min(low[v]);
                    size[p] += size[v];
                    if low[v] > disc[p] {
                        bridges.push((parent_edge, size[v]));
                    }
                }
            }
        }
        let total = size[root];
        for &(e, child) in &bridges {
            let other = total - child;
            if links[e].probability < strong
                && child as usize >= min_side
                && other as usize >= min_side
            {
                to_cut.push(e);
            }
        }
    }
    to_cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: u32, b: u32, p: f32) -> Link {
        Link {
            a,
            b,
            probability: p,
            rule: None,
        }
    }

    #[test]
    fn a_weak_link_between_two_groups_is_cut() {
        // 0-1-2 triangle, 3-4-5 triangle, joined by a weak 2-3.
        let links = [
            link(0, 1, 0.99),
            link(1, 2, 0.99),
            link(0, 2, 0.99),
            link(3, 4, 0.99),
            link(4, 5, 0.99),
            link(3, 5, 0.99),
            link(2, 3, 0.6),
        ];
        assert_eq!(weak_bridges(6, &links, 0.9, 2), [link(2, 3, 0.6)]);
        // Strong evidence is kept.
        let mut strong = links;
        strong[6].probability = 0.95;
        assert!(weak_bridges(6, &strong, 0.9, 2).is_empty());
        // A weak leaf is not a chain between two people.
        let leaf: Vec<Link> = links[..6]
            .iter()
            .copied()
            .chain([link(5, 6, 0.6)])
            .collect();
        assert!(weak_bridges(7, &leaf, 0.9, 2).is_empty());
    }

    #[test]
    fn cycles_are_not_bridges_and_long_chains_need_no_recursion() {
        let ring: Vec<Link> = (0..10u32).map(|i| link(i, (i + 1) % 10, 0.6)).collect();
        assert!(weak_bridges(10, &ring, 0.9, 2).is_empty());
        let n = 300_000u32;
        let chain: Vec<Link> = (1..n).map(|i| link(i - 1, i, 0.99)).collect();
        assert!(weak_bridges(n as usize, &chain, 0.9, 2).is_empty());
        let mut weak_chain = chain;
        weak_chain[150_000].probability = 0.5;
        assert_eq!(weak_bridges(n as usize, &weak_chain, 0.9, 2).len(), 1);
    }
}

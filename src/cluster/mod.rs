//! Clustering: scored pairs → identities, without chaining people together.
//!
//! Links at or above the threshold are applied strongest first (ties broken
//! by record index, so the result depends only on the records, not their
//! order), links found only through a shared device after all others. A union is refused when the merged identity would break a
//! constraint:
//!
//! - **cardinality**: at most N distinct values of a type per identity
//!   ([`ClusterConfig::limit`]; 10 e-mails, 10 phones, 10 loyalty cards,
//!   20 devices, 20 customer IDs by default);
//! - **cannot-link**: two different customer IDs of a system declared
//!   single-valued ([`ClusterConfig::single_valued_system`]), or birth dates
//!   of which none on one side is explained by one on the other (equal,
//!   day/month swapped, or one digit apart) — unless the link's own two
//!   records carry the conflicting dates, which their score already weighed:
//!   the constraint guards against what a pair cannot see, transitive chains;
//!   likewise first names none of which explains one on the other side
//!   (nickname, transliteration or typo), unless the link's records both
//!   have first names — a family tablet or a recycled phone seen only by
//!   nameless app and messenger records must not join Михаил and Timur.
//!
//! Records sharing a customer ID of a trusted system
//! ([`ClusterConfig::trusted_system`]) are merged first, whatever their score
//! (must-link). Then **weak bridges** are cut: an accepted link whose removal
//! would split an identity into two parts of at least
//! [`min_bridge_side`](ClusterConfig::min_bridge_side) records each, and
//! whose probability is below [`strong_link`](ClusterConfig::strong_link), is
//! removed and reported. Finally identities that share a phone, device or
//! address are grouped into **households** (linked, not merged).

mod bridges;
mod explain;
mod union_find;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

pub use explain::{GraphEdge, GraphNode, IdentityExplanation, Membership, Step};
use union_find::SharedUnionFind;
pub use union_find::UnionFind;

use crate::block::{BlockingRule, GenericValues};
use crate::compare::DateLevel;
use crate::error::{Error, Result};
use crate::normalize::IdKind;
use crate::prefetch::{AHEAD, prefetch};
use crate::record::{Dataset, ID_SLOTS, NONE, NameRole, RecordIx, slot};
use crate::score::ScoredPair;

/// Clustering settings.
///
/// # Example
/// ```
/// use idstitch::{ClusterConfig, IdKind};
///
/// let cfg = ClusterConfig::new()
///     .threshold(0.8)
///     .limit(IdKind::Phone, Some(5))
///     .single_valued_system("crm")
///     .trusted_system("loyalty_app");
/// assert_eq!(cfg.get_limit(IdKind::Phone), Some(5));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterConfig {
    threshold: f32,
    limits: [Option<usize>; 5],
    dob_cannot_link: bool,
    first_name_cannot_link: bool,
    single_valued_systems: Vec<String>,
    trusted_systems: Vec<String>,
    strong_link: f32,
    min_bridge_side: usize,
    max_household: usize,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            threshold: 0.5,
            limits: [Some(10), Some(10), Some(10), Some(20), Some(20)],
            dob_cannot_link: true,
            first_name_cannot_link: true,
            single_valued_systems: Vec::new(),
            trusted_systems: Vec::new(),
            strong_link: 0.75,
            min_bridge_side: 2,
            max_household: 8,
        }
    }
}

impl ClusterConfig {
    /// Threshold 0.5; limits of 10 e-mails, phones and loyalty cards and 20
    /// devices and customer IDs; birth dates cannot-link; bridges below 0.75
    /// between parts of 2+ records cut; households of up to 8 identities.
    pub fn new() -> ClusterConfig {
        ClusterConfig::default()
    }

    /// Links below this probability are not applied.
    #[must_use]
    pub fn threshold(mut self, p: f32) -> ClusterConfig {
        self.threshold = p;
        self
    }

    /// The most distinct values of `kind` one identity may hold (`None`: no
    /// limit). Names and birth dates have no limit.
    #[must_use]
    pub fn limit(mut self, kind: IdKind, max: Option<usize>) -> ClusterConfig {
        if let Some(s) = slot(kind) {
            self.limits[s] = max;
        }
        self
    }

    /// The probability at which a scored pair becomes a link.
    pub(crate) fn link_threshold(&self) -> f32 {
        self.threshold
    }

    /// Whether some system's customer IDs are trusted must-links.
    pub(crate) fn has_trusted_systems(&self) -> bool {
        !self.trusted_systems.is_empty()
    }

    /// The limit for `kind`.
    pub fn get_limit(&self, kind: IdKind) -> Option<usize> {
        slot(kind).and_then(|s| self.limits[s])
    }

    /// Whether two clearly different birth dates refuse a merge (default on).
    #[must_use]
    pub fn birth_dates_cannot_link(mut self, yes: bool) -> ClusterConfig {
        self.dob_cannot_link = yes;
        self
    }

    /// Whether two identities whose first names are all clearly different
    /// (no nickname, transliteration or typo explains one by another) refuse
    /// a merge through a link that did not compare them (default on): a
    /// family tablet or a recycled phone must not make Анна and Борис one
    /// person.
    #[must_use]
    pub fn first_names_cannot_link(mut self, yes: bool) -> ClusterConfig {
        self.first_name_cannot_link = yes;
        self
    }

    /// Declares that one person has at most one customer ID in `system`.
    #[must_use]
    pub fn single_valued_system(mut self, system: impl Into<String>) -> ClusterConfig {
        self.single_valued_systems
            .push(system.into().to_lowercase());
        self
    }

    /// Declares `system`'s customer IDs verified: records sharing one are
    /// merged whatever their score.
    #[must_use]
    pub fn trusted_system(mut self, system: impl Into<String>) -> ClusterConfig {
        self.trusted_systems.push(system.into().to_lowercase());
        self
    }

    /// Links at or above this probability are never cut as weak bridges.
    #[must_use]
    pub fn strong_link(mut self, p: f32) -> ClusterConfig {
        self.strong_link = p;
        self
    }

    /// A bridge is cut only if both parts hold at least this many records.
    #[must_use]
    pub fn min_bridge_side(mut self, n: usize) -> ClusterConfig {
        self.min_bridge_side = n;
        self
    }

    /// A phone, device or address shared by more identities than this is
    /// not a household key.
    #[must_use]
    pub fn max_household(mut self, n: usize) -> ClusterConfig {
        self.max_household = n;
        self
    }

    fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::config("threshold", "must be in (0, 1]"));
        }
        if !(0.0..=1.0).contains(&self.strong_link) {
            return Err(Error::config("strong_link", "must be in [0, 1]"));
        }
        if self.limits.contains(&Some(0)) {
            return Err(Error::config("limit", "must be at least 1"));
        }
        if self.min_bridge_side == 0 {
            return Err(Error::config("min_bridge_side", "must be at least 1"));
        }
        if self.max_household < 2 {
            return Err(Error::config("max_household", "must be at least 2"));
        }
        Ok(())
    }
}

/// Why a link was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "kind")]
pub enum Refusal {
    /// The identity would hold more values of this type than allowed.
    CardinalityLimit(IdKind),
    /// The identity would hold two IDs of a single-valued system.
    SingleValued(IdKind),
    /// The identity would hold two clearly different birth dates.
    ConflictingBirthDates,
    /// The identity would hold first names none of which explains another.
    ConflictingFirstNames,
}

impl Refusal {
    /// A stable snake-case code.
    pub const fn code(self) -> &'static str {
        match self {
            Refusal::CardinalityLimit(_) => "cardinality_limit",
            Refusal::SingleValued(_) => "single_valued",
            Refusal::ConflictingBirthDates => "conflicting_birth_dates",
            Refusal::ConflictingFirstNames => "conflicting_first_names",
        }
    }
}

/// A link between two records inside one identity: the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// One record.
    pub a: RecordIx,
    /// The other record.
    pub b: RecordIx,
    /// The match probability (1 for a trusted key).
    pub probability: f32,
    /// The blocking rule that found the pair (`None` for a trusted key).
    pub rule: Option<BlockingRule>,
}

/// A link that was not applied, and why.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RefusedLink {
    /// The link.
    pub link: Link,
    /// Why.
    pub reason: Refusal,
}

/// A type of value that groups identities into households.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdKey {
    /// A shared phone (a landline, a family mobile).
    Phone,
    /// A shared device.
    Device,
    /// A shared street address.
    Address,
}

/// Identities that share a phone, device or address: one household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    /// The identities, ascending.
    pub identities: Vec<u32>,
    /// The shared values (interned IDs; addresses in the dataset's address table).
    pub shared: Vec<(HouseholdKey, u32)>,
}

/// Summary figures of a clustering.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Records clustered.
    pub records: u64,
    /// Identities.
    pub identities: u64,
    /// Identities of one record.
    pub singletons: u64,
    /// Records in the largest identity.
    pub largest: u64,
    /// Identities per size.
    pub size_histogram: BTreeMap<u64, u64>,
    /// Scored links at or above the threshold.
    pub links_considered: u64,
    /// Links that merged two identities.
    pub links_applied: u64,
    /// Merges made by trusted keys.
    pub trusted_merges: u64,
    /// Refused links per reason code.
    pub refused: BTreeMap<String, u64>,
    /// Weak bridges cut.
    pub bridges_cut: u64,
    /// Households found.
    pub households: u64,
}

/// The result of clustering: one identity per record and what happened on
/// the way.
///
/// # Example
/// ```
/// use idstitch::{BlockingConfig, Candidates, ClusterConfig, Clusters, Comparator, CompareConfig, Dataset, Model, Record};
///
/// let ds = Dataset::build(vec![
///     Record::new("1", "crm").phone("+79123456789").first_name("Анна").birth_date("01.02.1990"),
///     Record::new("2", "telegram").phone("89123456789"),
///     Record::new("3", "crm").email("boris@mail.ru").first_name("Борис"),
/// ])?;
/// let cands = Candidates::find(&ds, &BlockingConfig::new())?;
/// let cmp = Comparator::new(&ds, cands.generic(), CompareConfig::new())?;
/// let scored = Model::default().score(&cmp, &cands)?;
/// let clusters = Clusters::build(&ds, &scored, cands.rules(), cands.generic(), &ClusterConfig::new())?;
/// assert_eq!(clusters.identity(0), clusters.identity(1));
/// assert_ne!(clusters.identity(0), clusters.identity(2));
/// assert_eq!(clusters.stats().identities, 2);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Clusters {
    labels: Vec<u32>,
    identities: u32,
    links: Vec<Link>,
    refused: Vec<RefusedLink>,
    cuts: Vec<Link>,
    households: Vec<Household>,
    stats: ClusterStats,
}

/// The values a merged identity holds, for constraint checks: the five
/// identifier slots, birth dates and first-name IDs, each sorted and
/// distinct, in one allocation.
#[derive(Debug, Clone, Default)]
struct Holdings {
    /// End of each part in `data`.
    ends: [u32; 7],
    data: Vec<u32>,
}

/// What an identity holds, borrowed: from a [`Holdings`], or straight from
/// the dataset for a single record (no allocation for the common case).
#[derive(Debug, Clone, Copy)]
struct View<'a> {
    values: [&'a [u32]; 5],
    dobs: &'a [u32],
    first_names: &'a [u32],
}

impl View<'_> {
    fn part(&self, i: usize) -> &[u32] {
        match i {
            0..5 => self.values[i],
            5 => self.dobs,
            _ => self.first_names,
        }
    }
}

impl Holdings {
    fn view(&self) -> View<'_> {
        let part = |i: usize| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
            &self.data[start..self.ends[i] as usize]
        };
        View {
            values: [part(0), part(1), part(2), part(3), part(4)],
            dobs: part(5),
            first_names: part(6),
        }
    }

    /// The union of two views, into `self` (its allocation reused).
    fn merge_into(&mut self, a: View<'_>, b: View<'_>) {
        self.data.clear();
        for i in 0..7 {
            sorted_union_into(a.part(i), b.part(i), &mut self.data);
            // An identity holds fewer values than records × 255 × 7, far
            // below u32::MAX for any dataset (`Dataset` bounds both).
            self.ends[i] = self.data.len() as u32;
        }
    }
}

/// Merged identities' holdings by root: a slab with a free list, and the
/// slot of each root (a lone record has none: it is its own root).
struct Held {
    slot_of: Vec<u32>,
    slab: Vec<Holdings>,
    free: Vec<u32>,
}

impl Held {
    fn new(n: usize) -> Held {
        Held {
            slot_of: vec![NONE; n],
            slab: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Empty again, for `n` records, keeping the allocations.
    fn reset(&mut self, n: usize) {
        self.slot_of.clear();
        self.slot_of.resize(n, NONE);
        self.free.clear();
        // Every slab entry is free again; their allocations are reused.
        // Slab indices fit u32 (fewer identities than records).
        self.free.extend((0..self.slab.len() as u32).rev());
    }

    fn get(&self, root: u32) -> Option<&Holdings> {
        match self.slot_of[root as usize] {
            NONE => None,
            s => self.slab.get(s as usize),
        }
    }

    /// Frees `root`'s slot, if any, for reuse.
    fn release(&mut self, root: u32) {
        let s = std::mem::replace(&mut self.slot_of[root as usize], NONE);
        if s != NONE {
            self.free.push(s);
        }
    }
}

/// What the identity rooted at local index `root` holds: its merged
/// holdings, or the record itself when it is alone (a lone record is its
/// own root). `members` maps local indices to records.
fn view_of<'a>(ds: &'a Dataset, members: &[RecordIx], held: &'a Held, root: u32) -> View<'a> {
    held.get(root)
        .map_or_else(|| record_view(ds, members[root as usize]), Holdings::view)
}

fn record_view(ds: &Dataset, r: RecordIx) -> View<'_> {
    let row = &ds.rows[r as usize];
    fn one(v: &u32) -> &[u32] {
        if *v == NONE {
            &[]
        } else {
            std::slice::from_ref(v)
        }
    }
    View {
        values: ds.all_slot_values(r),
        dobs: one(&row.dob),
        first_names: one(&row.names[NameRole::First as usize]),
    }
}

/// Unions two roots and stores the merged holdings under the new root.
fn merge_roots(
    ds: &Dataset,
    members: &[RecordIx],
    uf: &mut UnionFind,
    held: &mut Held,
    ra: u32,
    rb: u32,
) {
    // The union goes into a spare slot's allocation when there is one; the
    // spare and the two old slots are free again after.
    let spare = held.free.pop();
    let mut merged = spare
        .map(|s| std::mem::take(&mut held.slab[s as usize]))
        .unwrap_or_default();
    merged.merge_into(
        view_of(ds, members, held, ra),
        view_of(ds, members, held, rb),
    );
    held.release(ra);
    held.release(rb);
    held.free.extend(spare);
    if let Some((root, _)) = uf.union_roots(ra, rb) {
        let s = match held.free.pop() {
            Some(s) => {
                held.slab[s as usize] = merged;
                s
            }
            None => {
                // Fewer merged identities than records, which fit u32.
                held.slab.push(merged);
                (held.slab.len() - 1) as u32
            }
        };
        held.slot_of[root as usize] = s;
    }
}

/// What clustering one component produced.
#[derive(Default)]
struct Outcome {
    /// Applied links and links inside an identity already, in order, less
    /// the weak bridges cut.
    links: Vec<Link>,
    /// Weak bridges cut.
    cuts: Vec<Link>,
    /// Each member's identity as its smallest record, members of the
    /// components in order.
    reps: Vec<RecordIx>,
    /// Refused links with their scored-pair index.
    refused: Vec<(u32, RefusedLink)>,
    links_applied: u64,
    trusted_merges: u64,
}

/// The components of the link graph with two records or more: their
/// members (ascending) and each record's index within its component.
struct Components {
    /// Component of each record, or [`NONE`] for a record no link touches.
    of: Vec<u32>,
    /// Members of component `c`: `members[starts[c]..starts[c + 1]]`.
    starts: Vec<u32>,
    members: Vec<RecordIx>,
    /// Each record's position in its component's members.
    local: Vec<u32>,
}

impl Components {
    /// `roots`: each record's root in a union-find over the links (its
    /// own index for a record no link touches).
    fn new(mut roots: Vec<u32>) -> Components {
        let n = roots.len();
        // A root with a member besides itself: a component of two or more
        // (the flags set in parallel, in any order: the same flags).
        let shared: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
        roots.par_iter().enumerate().for_each(|(r, &root)| {
            if root as usize != r
                && let Some(flag) = shared.get(root as usize)
            {
                flag.store(true, Ordering::Relaxed);
            }
        });
        roots.par_iter_mut().enumerate().for_each(|(r, root)| {
            if *root as usize == r && !shared[r].load(Ordering::Relaxed) {
                *root = NONE;
            }
        });
        drop(shared);
        let mut of = vec![NONE; n];
        // Component by root, then (reused) by record.
        let mut root_comp = vec![NONE; n];
        let mut sizes: Vec<u32> = Vec::new();
        for (r, &root) in roots.iter().enumerate() {
            if let Some(&ahead) = roots.get(r + AHEAD)
                && let Some(slot) = root_comp.get(ahead as usize)
            {
                prefetch(slot);
            }
            if root == NONE {
                continue;
            }
            let root = root as usize;
            if root_comp[root] == NONE {
                // Fewer components than records.
                root_comp[root] = sizes.len() as u32;
                sizes.push(0);
            }
            let c = root_comp[root];
            of[r] = c;
            sizes[c as usize] += 1;
        }
        drop(root_comp);
        let mut starts = Vec::with_capacity(sizes.len() + 1);
        let mut total = 0u32;
        starts.push(0);
        for &s in &sizes {
            total += s;
            starts.push(total);
        }
        let mut fill: Vec<u32> = starts[..sizes.len()].to_vec();
        let mut members = vec![0; total as usize];
        let mut local = vec![NONE; n];
        for r in 0..n as u32 {
            let c = of[r as usize];
            if c != NONE {
                let at = &mut fill[c as usize];
                members[*at as usize] = r;
                local[r as usize] = *at - starts[c as usize];
                *at += 1;
            }
        }
        Components {
            of,
            starts,
            members,
            local,
        }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn members(&self, c: usize) -> &[RecordIx] {
        &self.members[self.starts[c] as usize..self.starts[c + 1] as usize]
    }

    /// Contiguous ranges of components, about `count` of them, of similar
    /// total membership.
    fn runs(&self, count: usize) -> Vec<std::ops::Range<usize>> {
        let target = (self.members.len() / count.max(1)).max(1);
        let mut out = Vec::new();
        let mut start = 0;
        for c in 0..self.len() {
            if (self.starts[c + 1] - self.starts[start]) as usize >= target {
                out.push(start..c + 1);
                start = c + 1;
            }
        }
        if start < self.len() {
            out.push(start..self.len());
        }
        out
    }

    /// The positions of `items` grouped by the component of the record
    /// `record_of` names, each group in the items' order.
    fn bucket<T>(&self, items: &[T], record_of: impl Fn(&T) -> u32) -> Buckets {
        // Items name records in random order: each pass asks for the
        // component of the item `AHEAD` on.
        let prefetch = |i: usize| {
            if let Some(c) = items
                .get(i + AHEAD)
                .and_then(|ahead| self.of.get(record_of(ahead) as usize))
            {
                prefetch(c);
            }
        };
        let mut starts = vec![0u32; self.len() + 1];
        for (i, it) in items.iter().enumerate() {
            prefetch(i);
            starts[self.of[record_of(it) as usize] as usize + 1] += 1;
        }
        for c in 0..self.len() {
            starts[c + 1] += starts[c];
        }
        let mut fill = starts.clone();
        let mut positions = vec![0u32; items.len()];
        for (i, it) in items.iter().enumerate() {
            prefetch(i);
            let c = self.of[record_of(it) as usize] as usize;
            // Fewer items than u32::MAX (links of a dataset that fits u32).
            positions[fill[c] as usize] = i as u32;
            fill[c] += 1;
        }
        Buckets { starts, positions }
    }
}

/// Positions of items grouped by component.
struct Buckets {
    starts: Vec<u32>,
    positions: Vec<u32>,
}

impl Buckets {
    /// The positions of the items of components `cs`, in order.
    fn span(&self, cs: std::ops::Range<usize>) -> &[u32] {
        &self.positions[self.starts[cs.start] as usize..self.starts[cs.end] as usize]
    }

    /// The items of component `c`, in order.
    fn get<'a, T>(&'a self, c: usize, items: &'a [T]) -> impl Iterator<Item = &'a T> + 'a {
        self.positions[self.starts[c] as usize..self.starts[c + 1] as usize]
            .iter()
            .map(move |&i| &items[i as usize])
    }
}

/// Links ordered by (identity, a, b): counted into one run per identity
/// (labels are dense), each run then sorted alone — linear in the links,
/// where a comparison sort would look up two labels per comparison.
fn sort_by_identity(links: Vec<Link>, labels: &[u32], identities: u32) -> Vec<Link> {
    // Each link's identity first, by independent loads in parallel (a
    // link's records are anywhere among millions), then a counting sort.
    let of: Vec<u32> = links
        .par_iter()
        .map(|l| labels.get(l.a as usize).copied().unwrap_or(0))
        .collect();
    let mut start = vec![0usize; identities as usize + 1];
    for &i in &of {
        start[i as usize + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut next = start.clone();
    let mut out = vec![
        Link {
            a: 0,
            b: 0,
            probability: 0.0,
            rule: None,
        };
        links.len()
    ];
    for (l, &i) in links.into_iter().zip(&of) {
        let at = &mut next[i as usize];
        out[*at] = l;
        *at += 1;
    }
    for w in start.windows(2) {
        if w[1] - w[0] > 1 {
            out[w[0]..w[1]].sort_unstable_by_key(|l| (l.a, l.b));
        }
    }
    out
}

/// Appends the sorted union of two sorted, distinct lists to `out`.
fn sorted_union_into(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

fn union_len(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
        n += 1;
    }
    n + (a.len() - i) + (b.len() - j)
}

/// Two birth dates no typo explains: the comparison levels that say so
/// (not equal, not day/month swapped, more than one digit apart).
fn clearly_different(a: u32, b: u32) -> bool {
    let level = crate::compare::date(a, b);
    level == DateLevel::SameYear as u8 || level == DateLevel::Different as u8
}

/// Jaro–Winkler similarity of transliteration keys at which two first names
/// may be one person's in the first-name cannot-link: lenient, because a
/// refusal costs a true link and the constraint is there for clearly
/// different people (`Михаил` / `Timur`).
const SAME_FIRST_NAME_JW: f64 = 0.75;

struct Constraints<'a> {
    ds: &'a Dataset,
    cfg: &'a ClusterConfig,
    /// Per source ID: whether its customer IDs are single-valued.
    single_valued: Vec<bool>,
}

/// What a link's own two records compared, so the score already weighed it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Clearly different birth dates.
    dob_conflict: bool,
    /// First names on both records.
    first_names: bool,
}

impl Constraints<'_> {
    /// Whether two first names may be one person's: equal, the same
    /// transliteration key, nickname-equivalent, or Jaro–Winkler ≥
    /// [`SAME_FIRST_NAME_JW`] between their keys (a typo, or a typo of a
    /// nickname outside the table: `Андюрша` / `Андрей`).
    fn same_first_name(&self, x: u32, y: u32) -> bool {
        if x == y {
            return true;
        }
        let info = &self.ds.name_info;
        let (Some(a), Some(b)) = (info.get(x as usize), info.get(y as usize)) else {
            return true;
        };
        if a.key == b.key || a.groups.iter().any(|g| b.groups.binary_search(g).is_ok()) {
            return true;
        }
        let keys = &self.ds.name_keys;
        match (keys.value(a.key), keys.value(b.key)) {
            (Some(p), Some(q)) => crate::compare::jaro_winkler_reaches(p, q, SAME_FIRST_NAME_JW),
            _ => true,
        }
    }

    fn check(&self, a: View<'_>, b: View<'_>, seen: Seen) -> Option<Refusal> {
        for (s, kind) in ID_SLOTS.iter().enumerate() {
            if let Some(max) = self.cfg.limits[s]
                && union_len(a.values[s], b.values[s]) > max
            {
                return Some(Refusal::CardinalityLimit(*kind));
            }
        }
        if self.single_valued.iter().any(|&x| x) {
            let system = |id: &u32| {
                self.ds
                    .customer_system
                    .get(*id as usize)
                    .copied()
                    .unwrap_or(NONE)
            };
            for x in a.values[4] {
                let sx = system(x);
                if !self
                    .single_valued
                    .get(sx as usize)
                    .copied()
                    .unwrap_or(false)
                {
                    continue;
                }
                if b.values[4].iter().any(|y| y != x && system(y) == sx) {
                    return Some(Refusal::SingleValued(IdKind::CustomerId));
                }
            }
        }
        // Two identities conflict when no birth date of one is explained by
        // one of the other (as equal, swapped or a one-digit typo).
        if self.cfg.dob_cannot_link
            && !seen.dob_conflict
            && !a.dobs.is_empty()
            && !b.dobs.is_empty()
            && a.dobs
                .iter()
                .all(|&x| b.dobs.iter().all(|&y| clearly_different(x, y)))
        {
            return Some(Refusal::ConflictingBirthDates);
        }
        // Likewise first names, unless the link's records compared theirs.
        if self.cfg.first_name_cannot_link
            && !seen.first_names
            && !a.first_names.is_empty()
            && !b.first_names.is_empty()
            && a.first_names
                .iter()
                .all(|&x| b.first_names.iter().all(|&y| !self.same_first_name(x, y)))
        {
            return Some(Refusal::ConflictingFirstNames);
        }
        None
    }
}

impl Clusters {
    /// Clusters a dataset's scored pairs.
    ///
    /// `rules` are the rules the pairs' `rule` indices refer to
    /// ([`Candidates::rules`](crate::Candidates::rules)); `generic` the
    /// generic values, which never make households.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for settings out of
    /// range; [`ErrorKind::RecordIndex`](crate::ErrorKind::RecordIndex) for a
    /// pair naming a record the dataset does not hold.
    pub fn build(
        ds: &Dataset,
        scored: &[ScoredPair],
        rules: &[BlockingRule],
        generic: &GenericValues,
        cfg: &ClusterConfig,
    ) -> Result<Clusters> {
        cfg.validate()?;
        let n = ds.len();
        if let Some(bad) = scored
            .iter()
            .find(|p| p.a as usize >= n || p.b as usize >= n)
        {
            return Err(crate::ErrorKind::RecordIndex {
                index: bad.a.max(bad.b),
                len: n,
            }
            .into());
        }
        let mut stats = ClusterStats {
            records: n as u64,
            ..ClusterStats::default()
        };
        let flag_systems = |names: &[String]| -> Vec<bool> {
            (0..ds.sources.len() as u32)
                .map(|id| {
                    ds.sources
                        .value(id)
                        .is_some_and(|s| names.iter().any(|n| **n == **s))
                })
                .collect()
        };
        let constraints = Constraints {
            ds,
            cfg,
            single_valued: flag_systems(&cfg.single_valued_systems),
        };
        let trusted = flag_systems(&cfg.trusted_systems);

        // Must-links: records sharing a trusted customer ID, in record order.
        let mut must: Vec<(RecordIx, RecordIx)> = Vec::new();
        if trusted.iter().any(|&t| t) {
            let mut by_value: FxHashMap<u32, RecordIx> = FxHashMap::default();
            for r in 0..n as u32 {
                for &v in ds.slot_values(r, 4) {
                    let system = ds.customer_system.get(v as usize).copied().unwrap_or(NONE);
                    if !trusted.get(system as usize).copied().unwrap_or(false) {
                        continue;
                    }
                    match by_value.get(&v) {
                        None => {
                            by_value.insert(v, r);
                        }
                        Some(&first) => must.push((first, r)),
                    }
                }
            }
        }

        // Scored links, strongest first; ties by record indices. Links found
        // only through a shared device come last: a family tablet is shared
        // more often than a phone or an e-mail is, so a record that shares a
        // contact with one person and a tablet with another joins the first,
        // and the tablet link then meets the constraints between two formed
        // identities. Sorted on packed keys: (device last, probability
        // descending) then (a, b), with the pair's index.
        let device_rule = rules.iter().position(|&r| r == BlockingRule::Device);
        let mut order: Vec<(u64, u64, u32)> = scored
            .par_iter()
            .enumerate()
            .filter(|(_, p)| p.probability >= cfg.threshold)
            .map(|(i, p)| {
                let last = u64::from(Some(usize::from(p.rule)) == device_rule);
                // Probabilities here are positive, so their bit patterns
                // order as the values do; inverted, the strongest come first.
                let strength = u64::from(!p.probability.to_bits());
                let (a, b) = (p.a.min(p.b), p.a.max(p.b));
                // Fewer scored pairs than u32::MAX (record pairs of a dataset
                // of fewer than u32::MAX records would not fit in memory).
                (
                    last << 32 | strength,
                    u64::from(a) << 32 | u64::from(b),
                    i as u32,
                )
            })
            .collect();
        order.par_sort_unstable();
        stats.links_considered = order.len() as u64;

        // The constrained merges only ever join records a link chain
        // connects: each component of the link graph is clustered on its
        // own, in parallel, with the same order of links — the same result
        // as one pass over all of them.
        // The components are merged from both threads at once: they are
        // the link graph's connected components whatever the order.
        let comp = SharedUnionFind::new(n);
        for &(a, b) in &must {
            comp.union(a, b);
        }
        order.par_chunks(1 << 14).for_each(|links| {
            for (k, &(_, ab, _)) in links.iter().enumerate() {
                if let Some(&(_, ahead, _)) = links.get(k + AHEAD) {
                    comp.prefetch((ahead >> 32) as u32);
                    comp.prefetch(ahead as u32);
                }
                if let Some(&(_, ahead, _)) = links.get(k + AHEAD / 2) {
                    comp.prefetch_parent((ahead >> 32) as u32);
                    comp.prefetch_parent(ahead as u32);
                }
                comp.union((ab >> 32) as u32, ab as u32);
            }
        });
        let parts = Components::new(comp.roots());
        let must_by = parts.bucket(&must, |&(a, _)| a);
        let order_by = parts.bucket(&order, |&(_, ab, _)| (ab >> 32) as u32);
        // Components in contiguous runs of similar total size, one run per
        // task, so small components share a task's buffers.
        let runs = parts.runs(rayon::current_num_threads() * 16);
        let outcomes: Vec<Outcome> = runs
            .into_par_iter()
            .map(|run| {
                let mut out = Outcome::default();
                let mut uf = UnionFind::new(0);
                let mut held = Held::new(0);
                let mut first_of_root: Vec<u32> = Vec::new();
                // The run's links are one stretch of `order_by`: each step
                // asks for the link `AHEAD` on, and for the rows, local
                // indices and scored pair of the link half as far.
                let links_ahead = order_by.span(run.clone());
                let mut step = 0usize;
                let mut ahead = || {
                    if let Some(&pos) = links_ahead.get(step + AHEAD) {
                        prefetch(&order[pos as usize]);
                    }
                    if let Some(&(_, ab, i)) = links_ahead
                        .get(step + AHEAD / 2)
                        .and_then(|&pos| order.get(pos as usize))
                    {
                        for r in [(ab >> 32) as u32, ab as u32] {
                            ds.prefetch_row(r);
                            if let Some(l) = parts.local.get(r as usize) {
                                prefetch(l);
                            }
                        }
                        if let Some(p) = scored.get(i as usize) {
                            prefetch(p);
                        }
                    }
                    step += 1;
                };
                for c in run {
                    let members = parts.members(c);
                    let local = |r: RecordIx| parts.local[r as usize];
                    uf.reset(members.len());
                    held.reset(members.len());
                    let component_start = out.links.len();
                    for &(a, b) in must_by.get(c, &must) {
                        let (ra, rb) = (uf.find(local(a)), uf.find(local(b)));
                        if ra != rb {
                            merge_roots(ds, members, &mut uf, &mut held, ra, rb);
                            out.trusted_merges += 1;
                        }
                        out.links.push(Link {
                            a,
                            b,
                            probability: 1.0,
                            rule: None,
                        });
                    }
                    for &(_, _, i) in order_by.get(c, &order) {
                        ahead();
                        let p = &scored[i as usize];
                        let link = Link {
                            a: p.a.min(p.b),
                            b: p.a.max(p.b),
                            probability: p.probability,
                            rule: rules.get(p.rule as usize).copied(),
                        };
                        let (ra, rb) = (uf.find(local(link.a)), uf.find(local(link.b)));
                        if ra == rb {
                            out.links.push(link);
                            continue;
                        }
                        let refusal = {
                            let va = view_of(ds, members, &held, ra);
                            let vb = view_of(ds, members, &held, rb);
                            let (xa, xb) = (&ds.rows[link.a as usize], &ds.rows[link.b as usize]);
                            let (da, db) = (xa.dob, xb.dob);
                            let first = NameRole::First as usize;
                            let seen = Seen {
                                dob_conflict: da != NONE && db != NONE && clearly_different(da, db),
                                first_names: xa.names[first] != NONE && xb.names[first] != NONE,
                            };
                            constraints.check(va, vb, seen)
                        };
                        match refusal {
                            Some(reason) => out.refused.push((i, RefusedLink { link, reason })),
                            None => {
                                merge_roots(ds, members, &mut uf, &mut held, ra, rb);
                                out.links_applied += 1;
                                out.links.push(link);
                            }
                        }
                    }
                    // Weak bridges, within the component (an identity never
                    // spans two), where one could be: a weak link and room
                    // for two sides.
                    let mine = &out.links[component_start..];
                    let doubtful = members.len() >= 2 * cfg.min_bridge_side
                        && mine.iter().any(|l| l.probability < cfg.strong_link);
                    if doubtful {
                        let local_links: Vec<Link> = mine
                            .iter()
                            .map(|l| Link {
                                a: local(l.a),
                                b: local(l.b),
                                ..*l
                            })
                            .collect();
                        let cuts = bridges::weak_bridges(
                            members.len(),
                            &local_links,
                            cfg.strong_link,
                            cfg.min_bridge_side,
                        );
                        if !cuts.is_empty() {
                            let cut: FxHashSet<(u32, u32)> =
                                cuts.iter().map(|l| (l.a, l.b)).collect();
                            uf.reset(members.len());
                            let mut kept = component_start;
                            for (k, ll) in local_links.iter().enumerate() {
                                if !cut.contains(&(ll.a, ll.b)) {
                                    uf.union(ll.a, ll.b);
                                    out.links[kept] = out.links[component_start + k];
                                    kept += 1;
                                }
                            }
                            out.links.truncate(kept);
                            out.cuts.extend(cuts.iter().map(|l| Link {
                                a: members[l.a as usize],
                                b: members[l.b as usize],
                                ..*l
                            }));
                        }
                    }
                    // Each member's identity, named by its smallest record
                    // (the members are ascending, so the first seen of each
                    // root).
                    first_of_root.clear();
                    first_of_root.resize(members.len(), NONE);
                    for i in 0..members.len() as u32 {
                        let root = uf.find(i) as usize;
                        if first_of_root[root] == NONE {
                            first_of_root[root] = members[i as usize];
                        }
                        out.reps.push(first_of_root[root]);
                    }
                }
                out
            })
            .collect();
        drop((order, order_by, must_by));
        let mut links: Vec<Link> = Vec::with_capacity(outcomes.iter().map(|o| o.links.len()).sum());
        let mut refused: Vec<(u32, RefusedLink)> = Vec::new();
        let mut cuts: Vec<Link> = Vec::new();
        // Each record's identity as its smallest record; alone, itself.
        let mut rep: Vec<RecordIx> = (0..n as u32).collect();
        // The runs cover the components in order, and so their members.
        let mut members = parts.members.iter();
        for o in outcomes {
            stats.trusted_merges += o.trusted_merges;
            stats.links_applied += o.links_applied;
            links.extend(o.links);
            refused.extend(o.refused);
            cuts.extend(o.cuts);
            // `o.reps` first: a zip that pulled a member past the run's end
            // would lose it.
            for (first, &r) in o.reps.into_iter().zip(members.by_ref()) {
                rep[r as usize] = first;
            }
        }
        drop(parts);
        cuts.sort_unstable_by_key(|l| (l.a, l.b));
        // Refusals in the order the links were weighed.
        refused.par_sort_unstable_by_key(|&(i, _)| {
            // Every refused pair was scored, so it has a place in `order`.
            scored.get(i as usize).map(|p| {
                let last = u64::from(Some(usize::from(p.rule)) == device_rule);
                (
                    last << 32 | u64::from(!p.probability.to_bits()),
                    p.a.min(p.b),
                    p.a.max(p.b),
                )
            })
        });
        let refused: Vec<RefusedLink> = refused.into_iter().map(|(_, r)| r).collect();
        for r in &refused {
            *stats.refused.entry(r.reason.code().to_owned()).or_default() += 1;
        }
        stats.bridges_cut = cuts.len() as u64;
        // Dense labels in order of each identity's smallest record: a
        // record's representative is never after it, so is labelled first.
        let mut labels = vec![0u32; n];
        let mut identities = 0u32;
        for r in 0..n {
            let first = rep[r] as usize;
            if first == r {
                labels[r] = identities;
                identities += 1;
            } else {
                labels[r] = labels[first];
            }
        }
        // Both read the labels alone: the links' (mostly sequential) sort
        // runs beside the households' search.
        let (links, households) = rayon::join(
            || sort_by_identity(links, &labels, identities),
            || households(ds, &labels, generic, cfg),
        );

        let mut sizes = vec![0u64; identities as usize];
        for &l in &labels {
            sizes[l as usize] += 1;
        }
        for &s in &sizes {
            *stats.size_histogram.entry(s).or_default() += 1;
        }
        stats.identities = u64::from(identities);
        stats.singletons = sizes.iter().filter(|&&s| s == 1).count() as u64;
        stats.largest = sizes.iter().copied().max().unwrap_or(0);

        stats.households = households.len() as u64;
        Ok(Clusters {
            labels,
            identities,
            links,
            refused,
            cuts,
            households,
            stats,
        })
    }

    /// The identity of a record (dense, numbered by each identity's
    /// smallest record index), or `None` out of range.
    pub fn identity(&self, record: RecordIx) -> Option<u32> {
        self.labels.get(record as usize).copied()
    }

    /// Identity per record, in record-index order.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The number of identities.
    pub fn len(&self) -> usize {
        self.identities as usize
    }

    /// Whether there are no identities.
    pub fn is_empty(&self) -> bool {
        self.identities == 0
    }

    /// The records of every identity, by identity, ascending.
    pub fn members(&self) -> Vec<Vec<RecordIx>> {
        let mut out = vec![Vec::new(); self.identities as usize];
        for (r, &l) in self.labels.iter().enumerate() {
            // Record indices fit u32 (the dataset's invariant).
            out[l as usize].push(r as u32);
        }
        out
    }

    /// The links inside identities (the evidence), grouped by identity.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// Links refused by a constraint.
    pub fn refused(&self) -> &[RefusedLink] {
        &self.refused
    }

    /// Weak bridges that were cut.
    pub fn cuts(&self) -> &[Link] {
        &self.cuts
    }

    /// Households: identities sharing a phone, device or address.
    pub fn households(&self) -> &[Household] {
        &self.households
    }

    /// Summary figures.
    pub fn stats(&self) -> &ClusterStats {
        &self.stats
    }
}

fn households(
    ds: &Dataset,
    labels: &[u32],
    generic: &GenericValues,
    cfg: &ClusterConfig,
) -> Vec<Household> {
    let identities = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut address_freq = vec![0u32; ds.address_keys.len()];
    for row in &ds.rows {
        if let Some(f) = address_freq.get_mut(row.address as usize) {
            *f += 1;
        }
    }
    // (key, value, identity) for values held by two records or more: only
    // those can be shared.
    const CHUNK: usize = 1 << 16;
    let parts: Vec<Vec<(HouseholdKey, u32, u32)>> = labels
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut held = Vec::new();
            for (k, &label) in chunk.iter().enumerate() {
                // Record indices fit u32.
                let r = (c * CHUNK + k) as u32;
                for (key, s) in [(HouseholdKey::Phone, 1usize), (HouseholdKey::Device, 3)] {
                    for &v in ds.slot_values(r, s) {
                        if ds.value_freq[s][v as usize] >= 2 && !generic.is_generic_slot(s, v) {
                            held.push((key, v, label));
                        }
                    }
                }
                let address = ds.rows[r as usize].address;
                if address_freq.get(address as usize).is_some_and(|&f| f >= 2) {
                    held.push((HouseholdKey::Address, address, label));
                }
            }
            held
        })
        .collect();
    let mut held = parts.concat();
    drop(parts);
    held.par_sort_unstable();
    held.dedup();
    let mut uf = UnionFind::new(identities);
    let mut shared: Vec<((HouseholdKey, u32), u32)> = Vec::new();
    for group in held.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        if group.len() < 2 || group.len() > cfg.max_household {
            continue;
        }
        for w in group.windows(2) {
            uf.union(w[0].2, w[1].2);
        }
        shared.push(((group[0].0, group[0].1), group[0].2));
    }
    let mut groups: BTreeMap<u32, Household> = BTreeMap::new();
    for &((key, value), identity) in &shared {
        let root = uf.find(identity);
        groups
            .entry(root)
            .or_insert_with(|| Household {
                identities: Vec::new(),
                shared: Vec::new(),
            })
            .shared
            .push((key, value));
    }
    for i in 0..identities as u32 {
        // An identity in a household was joined with another.
        let root = uf.find(i);
        if uf.root_size(root) < 2 {
            continue;
        }
        if let Some(h) = groups.get_mut(&root) {
            h.identities.push(i);
        }
    }
    let mut out: Vec<Household> = groups.into_values().collect();
    out.sort_by(|a, b| a.identities.cmp(&b.identities));
    out
}

#[cfg(test)]
mod tests;

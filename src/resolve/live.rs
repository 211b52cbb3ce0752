//! The incremental side of an [`IdentityStore`](super::IdentityStore): what a
//! batch run knows, kept so one more record costs work near that record only.
//!
//! A batch run's partition is a function of facts that are each local:
//! a pair's score depends on its two records alone (term frequencies are
//! frozen in the model, [`Model::with_frequencies_of`]); the pairs a block
//! yields depend on its members alone; whether a value is generic depends on
//! its holders alone; the identities of a component of the link graph depend
//! on that component alone. A new record changes only the blocks it joins,
//! the verdicts of the values it holds, and so the pairs of those blocks and
//! the components their links touch. [`Live::add`] re-forms exactly those,
//! with the batch code run on a small dataset of the records involved, and
//! reports anything it cannot do that way (a value turning generic or
//! ceasing to be, a record ID already held) so the store runs the batch
//! instead. The result is the batch run's partition either way — the
//! store's sequence-neutrality proptests check it.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::block::{
    BlockingRule, CandidatePair, Evidence, GenericConfig, GenericValues, block_pairs, judge_value,
    key_ranks, person_key, rule_key_texts, verdict, window_pairs,
};
use crate::cluster::Clusters;
use crate::compare::Comparator;
use crate::error::Result;
use crate::record::{Dataset, ID_SLOTS, NONE, NameRole, Record, RecordId, RecordIx, slot};
use crate::score::{Model, ScoredPair};

use super::{Resolution, Resolver};

/// Rules a pair can be found by (every rule at most once).
const MAX_RULES: usize = BlockingRule::ALL.len();

/// A candidate pair: how many blocks of each rule yield it, its score and
/// the rule it is credited to (the first with a block).
#[derive(Debug, Clone, Copy)]
struct PairState {
    counts: [u8; MAX_RULES],
    probability: f32,
    rule: u8,
}

fn credited(counts: &[u8; MAX_RULES]) -> Option<u8> {
    // At most MAX_RULES (11) positions: fits u8.
    counts.iter().position(|&c| c > 0).map(|i| i as u8)
}

fn pack(a: u32, b: u32) -> u64 {
    u64::from(a.min(b)) << 32 | u64::from(a.max(b))
}

fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// What a key groups records by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// Value `value` of identifier slot `slot` (in the dataset the key came from).
    Value { slot: usize, value: u32 },
    /// A key of the name-based rule at this index.
    Rule(usize),
}

/// What a windowed block sorts its members by (then by record ID): the
/// surname and first-name keys (absent last) and the packed birth date —
/// the order of [`block_pairs`]' sorted neighbourhood, by text rather than
/// by a dataset's ranks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SortKey {
    surname: Option<Box<str>>,
    first: Option<Box<str>>,
    dob: u32,
}

impl SortKey {
    fn of(ds: &Dataset, r: RecordIx) -> SortKey {
        let row = &ds.rows[r as usize];
        let key = |role: NameRole| {
            ds.name_info
                .get(row.names[role as usize] as usize)
                .and_then(|e| ds.name_keys.value(e.key))
                .cloned()
        };
        SortKey {
            surname: key(NameRole::Surname),
            first: key(NameRole::First),
            dob: row.dob,
        }
    }

    /// Absent keys after present ones, as a missing rank sorts last.
    fn cmp(&self, other: &SortKey) -> Ordering {
        fn rank(k: &SortKey) -> (bool, Option<&str>, bool, Option<&str>, u32) {
            (
                k.surname.is_none(),
                k.surname.as_deref(),
                k.first.is_none(),
                k.first.as_deref(),
                k.dob,
            )
        }
        rank(self).cmp(&rank(other))
    }
}

/// The holders' evidence on a generic value ([`verdict`]'s input), kept so
/// a new holder is judged without re-reading the others: name keys and
/// other contacts numbered here (nickname groups keep their own numbers,
/// high bit set).
#[derive(Debug, Clone, Default)]
struct Summary {
    holders: usize,
    names: Vec<u32>,
    dates: Vec<u32>,
    others: Vec<u32>,
    with_others: usize,
    texts: Vec<Box<str>>,
    text_id: FxHashMap<Box<str>, u32>,
    other_id: FxHashMap<Box<str>, u32>,
}

impl Summary {
    /// Adds record `r` of `ds` as a holder of a value of slot `own`.
    fn add(&mut self, ds: &Dataset, r: RecordIx, own: usize) {
        self.holders += 1;
        let mut any = false;
        for s in [0usize, 1] {
            if s == own {
                continue;
            }
            for &v in ds.slot_values(r, s) {
                any = true;
                if let Some(t) = value_key(ds, s, v) {
                    // Fewer other contacts than u32::MAX (one per holder's value).
                    let next = self.other_id.len() as u32;
                    let id = *self.other_id.entry(t.into_boxed_str()).or_insert(next);
                    self.others.push(id);
                }
            }
        }
        self.with_others += usize::from(any);
        let k = person_key(ds, r);
        if k != NONE {
            let id = if k & 0x8000_0000 != 0 {
                k
            } else {
                let text: Box<str> = ds.name_keys.value(k).cloned().unwrap_or_default();
                let next = self.texts.len() as u32;
                let id = *self.text_id.entry(text.clone()).or_insert(next);
                if id == next {
                    self.texts.push(text);
                }
                id
            };
            self.names.push(id);
        }
        let d = ds.rows[r as usize].dob;
        if d != NONE {
            self.dates.push(d);
        }
    }

    fn is_generic(&self, cfg: &GenericConfig) -> bool {
        let texts = &self.texts;
        let name_text = |k: u32| {
            (k & 0x8000_0000 == 0)
                .then(|| texts.get(k as usize).map(|t| &**t))
                .flatten()
        };
        verdict(
            cfg,
            Evidence {
                holders: self.holders,
                names: self.names.clone(),
                dates: self.dates.clone(),
                others: self.others.clone(),
                with_others: self.with_others,
                name_text: &name_text,
            },
        )
        .is_some()
    }
}

/// How a new record's block is re-formed.
#[derive(Debug, Clone)]
enum Plan {
    /// With every member (a small block, or a value whose holders decide
    /// its generic verdict).
    Whole,
    /// A block past its bound before and after: only the members within a
    /// window of the new record's place `at` in sort order matter —
    /// `members[range]`, contiguous in that order.
    Window {
        at: usize,
        range: std::ops::Range<usize>,
        w: usize,
    },
}

/// One block a new record joins: its rule, and its members (local indices)
/// before and after the record, in the order pairs are formed from.
struct Reformed {
    rule: usize,
    /// `None`: pairs as [`block_pairs`] forms them from the whole block;
    /// `Some(w)`: a window of `w` over the given contiguous stretch of sort
    /// order.
    window: Option<usize>,
    before: Vec<RecordIx>,
    after: Vec<RecordIx>,
}

/// A value's key text, equal across datasets: the slot, then the canonical value.
pub(crate) fn value_key(ds: &Dataset, slot: usize, id: u32) -> Option<String> {
    let text = match slot {
        0 => ds.emails.value(id).map(|v| v.to_string()),
        1 => ds.phones.value(id).map(|v| v.to_string()),
        2 => ds.loyalty.value(id).map(|v| v.to_string()),
        3 => ds.devices.value(id).map(ToString::to_string),
        _ => ds
            .customer_ids
            .value(id)
            .map(|(s, v)| format!("{s}\u{1f}{v}")),
    }?;
    Some(format!("{slot}\u{1e}{text}"))
}

/// Generic-value flags for `ds` from a verdict made elsewhere, by value key
/// text (`generic(key)`): how a dataset of part of the records learns what
/// was judged over all of them.
pub(crate) fn flags_by_key(ds: &Dataset, generic: impl Fn(&str) -> bool) -> GenericValues {
    GenericValues::from_flags(ds, |s, v| value_key(ds, s, v).is_some_and(|t| generic(&t)))
}

/// Every key of record `r`: its identifier values (all slots, for the
/// generic verdicts, whether or not a rule blocks on them) and its keys
/// under the name-based rules among `rules`.
pub(crate) fn record_keys(ds: &Dataset, rules: &[BlockingRule], r: RecordIx) -> Vec<(String, Use)> {
    let mut out = Vec::new();
    for slot in 0..ID_SLOTS.len() {
        for &value in ds.slot_values(r, slot) {
            if let Some(text) = value_key(ds, slot, value) {
                out.push((text, Use::Value { slot, value }));
            }
        }
    }
    for (i, &rule) in rules.iter().enumerate() {
        if rule.kind().is_none() {
            rule_key_texts(ds, rule, r, |t| out.push((t, Use::Rule(i))));
        }
    }
    // A record can spell one key twice (an address number repeated).
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The rule index blocking on a key, if any rule does.
pub(crate) fn rule_of(rules: &[BlockingRule], u: Use) -> Option<usize> {
    match u {
        Use::Rule(i) => Some(i),
        Use::Value { slot: s, .. } => rules
            .iter()
            .position(|r| r.kind().and_then(slot) == Some(s)),
    }
}

/// The incremental index: record handles (the batch run's record indices,
/// then one per record added), keys and their holders, every candidate pair
/// with its per-rule block counts and score, the link graph and the
/// identities.
#[derive(Debug)]
pub(crate) struct Live {
    rules: Vec<BlockingRule>,
    ids: Vec<RecordId>,
    handle_of: FxHashMap<RecordId, u32>,
    key_of: FxHashMap<Box<str>, u32>,
    /// Holders per key; in sort order where `sorted` says so.
    members: Vec<Vec<u32>>,
    sorted: Vec<bool>,
    generic: Vec<bool>,
    /// Per generic value key, its holders' evidence.
    summaries: FxHashMap<u32, Summary>,
    sort_keys: Vec<SortKey>,
    pairs: FxHashMap<u64, PairState>,
    links: Vec<Vec<u32>>,
    cluster_of: Vec<u32>,
    clusters: FxHashMap<u32, Vec<u32>>,
    next_cluster: u32,
    /// A one-thread pool the small per-record work runs in: the batch code
    /// it reuses is parallel, and from outside a pool every parallel step
    /// would be a round trip to the global pool's threads.
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
}

impl Live {
    /// The index of a batch run made with `resolver`; `None` when the
    /// settings need what the index does not keep (trusted must-links), or
    /// when it does not reproduce the run's candidate pairs exactly (two
    /// keys' 64-bit hashes colliding in the batch run).
    pub(crate) fn build(res: &Resolution, resolver: &Resolver) -> Option<Live> {
        if resolver.cluster_config().has_trusted_systems() {
            return None;
        }
        let rules = res.candidates().rules().to_vec();
        if rules.len() > MAX_RULES {
            return None;
        }
        let ds = res.dataset();
        let n = ds.len();
        let mut live = Live {
            rules,
            ids: ds.record_ids().to_vec(),
            handle_of: FxHashMap::default(),
            key_of: FxHashMap::default(),
            members: Vec::new(),
            sorted: Vec::new(),
            generic: Vec::new(),
            summaries: FxHashMap::default(),
            sort_keys: (0..n as u32).map(|r| SortKey::of(ds, r)).collect(),
            pairs: FxHashMap::default(),
            links: vec![Vec::new(); n],
            cluster_of: res.clusters().labels().to_vec(),
            clusters: FxHashMap::default(),
            next_cluster: 0,
            pool: rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "idstitch-live".into())
                .build()
                .ok()
                .map(std::sync::Arc::new),
        };
        live.handle_of = live
            .ids
            .iter()
            .enumerate()
            .map(|(h, id)| (id.clone(), h as u32))
            .collect();
        let mut uses: Vec<Use> = Vec::new();
        let generic = res.candidates().generic();
        for r in 0..n as u32 {
            for (text, u) in record_keys(ds, &live.rules, r) {
                let k = live.intern(text);
                if k as usize == uses.len() {
                    uses.push(u);
                }
                live.members[k as usize].push(r);
                if let Use::Value { slot, value } = u {
                    live.generic[k as usize] = generic.is_generic_slot(slot, value);
                }
            }
        }
        for (k, u) in uses.iter().enumerate() {
            if let (Use::Value { slot, .. }, true) = (u, live.generic[k]) {
                let mut sum = Summary::default();
                for &r in &live.members[k] {
                    sum.add(ds, r, *slot);
                }
                live.summaries.insert(k as u32, sum);
            }
        }
        // Every block as the batch run formed it, counted per rule.
        let cfg = resolver.blocking_config();
        let ranks = key_ranks(ds);
        let mut buf = Vec::new();
        for (k, members) in live.members.iter().enumerate() {
            if members.len() < 2 || live.generic[k] {
                continue;
            }
            let Some(i) = rule_of(&live.rules, uses[k]) else {
                continue;
            };
            buf.clear();
            block_pairs(
                ds,
                cfg,
                &ranks,
                live.rules[i].partial_name(),
                members,
                &mut buf,
            );
            for &p in &buf {
                let st = live.pairs.entry(p).or_insert(PairState {
                    counts: [0; MAX_RULES],
                    probability: f32::NAN,
                    rule: u8::MAX,
                });
                st.counts[i] = st.counts[i].checked_add(1)?;
            }
        }
        let threshold = resolver.cluster_config().link_threshold();
        if res.scored().len() != live.pairs.len() {
            return None;
        }
        for p in res.scored() {
            let st = live.pairs.get_mut(&pack(p.a, p.b))?;
            if credited(&st.counts) != Some(p.rule) {
                return None;
            }
            st.probability = p.probability;
            st.rule = p.rule;
            if p.probability >= threshold {
                live.links[p.a as usize].push(p.b);
                live.links[p.b as usize].push(p.a);
            }
        }
        // Room to grow before a reallocation (each one copies the whole
        // vector or rehashes the whole map: a latency spike).
        let room = n / 4 + 1024;
        live.ids.reserve(room);
        live.links.reserve(room);
        live.cluster_of.reserve(room);
        live.sort_keys.reserve(room);
        live.pairs.reserve(live.pairs.len() / 4 + 1024);
        live.key_of.reserve(live.key_of.len() / 4 + 1024);
        live.handle_of.reserve(room);
        for (h, &c) in live.cluster_of.iter().enumerate() {
            live.clusters.entry(c).or_default().push(h as u32);
            live.next_cluster = live.next_cluster.max(c + 1);
        }
        Some(live)
    }

    fn intern(&mut self, text: String) -> u32 {
        let next = self.members.len() as u32;
        let k = *self.key_of.entry(text.into_boxed_str()).or_insert(next);
        if k == next {
            self.members.push(Vec::new());
            self.sorted.push(false);
            self.generic.push(false);
        }
        k
    }

    /// The handle of each record of `ds` (`unknown` for a record the index
    /// does not hold yet), and the record index of each handle.
    fn handles_in(&self, ds: &Dataset, unknown: u32) -> (Vec<u32>, FxHashMap<u32, RecordIx>) {
        let handles: Vec<u32> = ds
            .record_ids()
            .iter()
            .map(|rid| self.handle_of.get(rid).copied().unwrap_or(unknown))
            .collect();
        // Fewer records than u32::MAX (`Dataset` bound).
        let local = handles
            .iter()
            .enumerate()
            .map(|(l, &h)| (h, l as u32))
            .collect();
        (handles, local)
    }

    /// Whether the value with key text `text` is generic (as last judged).
    fn is_generic_key(&self, text: &str) -> bool {
        self.key_of
            .get(text)
            .is_some_and(|&k| self.generic[k as usize])
    }

    /// Handle `a` against the record `(key, id)` in sort order.
    fn order(&self, a: u32, key: &SortKey, id: &RecordId) -> Ordering {
        self.sort_keys[a as usize]
            .cmp(key)
            .then_with(|| self.ids[a as usize].cmp(id))
    }

    /// Where a record `(key, id)` goes among key `k`'s sorted members.
    fn place(&self, k: usize, key: &SortKey, id: &RecordId) -> usize {
        self.members[k].partition_point(|&h| self.order(h, key, id).is_lt())
    }

    /// Puts key `k`'s members in sort order (once; insertions keep it).
    fn sort_members(&mut self, k: usize) {
        if self.sorted[k] {
            return;
        }
        let mut m = std::mem::take(&mut self.members[k]);
        m.sort_by(|&a, &b| self.order(a, &self.sort_keys[b as usize], &self.ids[b as usize]));
        self.members[k] = m;
        self.sorted[k] = true;
    }

    /// Every candidate pair as `(lower ID, higher ID, rule index,
    /// probability)`, sorted: for tests comparing the index with a batch run.
    pub(crate) fn pairs(&self) -> Vec<(RecordId, RecordId, u8, f32)> {
        let mut out: Vec<_> = self
            .pairs
            .iter()
            .map(|(&p, st)| {
                let (a, b) = unpack(p);
                let (x, y) = (&self.ids[a as usize], &self.ids[b as usize]);
                let (x, y) = if x < y { (x, y) } else { (y, x) };
                (x.clone(), y.clone(), st.rule, st.probability)
            })
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        out
    }

    /// The identities (as record IDs) of the records with these handles.
    pub(crate) fn group(&self, handles: &[u32]) -> Vec<Vec<RecordId>> {
        let mut seen = FxHashSet::default();
        let mut out = Vec::new();
        for &h in handles {
            let c = self.cluster_of[h as usize];
            if seen.insert(c)
                && let Some(m) = self.clusters.get(&c)
            {
                out.push(m.iter().map(|&x| self.ids[x as usize].clone()).collect());
            }
        }
        out
    }

    /// Adds one record (its ID not held yet) to the index and re-forms the
    /// identities it touches. `records` are the store's records before it,
    /// `resolver` its settings (suppression list included), `model` its
    /// model with frozen frequencies.
    ///
    /// Returns the handles whose identities were re-formed, or `None` when
    /// the change is not local (the store then runs the batch and rebuilds
    /// the index). An error leaves the index inconsistent: drop it.
    pub(crate) fn add(
        &mut self,
        record: &Record,
        records: &BTreeMap<RecordId, Record>,
        resolver: &Resolver,
        model: &Model,
    ) -> Result<Option<Vec<u32>>> {
        match self.pool.clone() {
            Some(pool) => pool.install(|| self.add_here(record, records, resolver, model)),
            None => self.add_here(record, records, resolver, model),
        }
    }

    fn add_here(
        &mut self,
        record: &Record,
        records: &BTreeMap<RecordId, Record>,
        resolver: &Resolver,
        model: &Model,
    ) -> Result<Option<Vec<u32>>> {
        let id = record.id();
        if self.handle_of.contains_key(&id) || !model.has_frozen_frequencies() {
            return Ok(None);
        }
        let builder = resolver.dataset_builder();
        let gcfg = resolver.blocking_config().generic_config();
        let Ok(one) = builder.build(vec![record.clone()]) else {
            return Ok(None);
        };
        if one.len() != 1 {
            return Ok(None);
        }
        // The records sharing a key with it: every member of its blocks and
        // every holder of its values — but a value held by so many records
        // that it stays generic needs none of them.
        let mut involved: FxHashSet<u32> = FxHashSet::default();
        // Generic values, judged again from their evidence with this holder.
        let mut saturated: FxHashMap<u32, Summary> = FxHashMap::default();
        let mut plans: FxHashMap<String, Plan> = FxHashMap::default();
        let my_key = SortKey::of(&one, 0);
        let bcfg = resolver.blocking_config();
        for (text, u) in record_keys(&one, &self.rules, 0) {
            let Some(&k) = self.key_of.get(text.as_str()) else {
                continue;
            };
            let n = self.members[k as usize].len();
            let plan = match u {
                Use::Value { slot, .. } if self.generic[k as usize] => {
                    let Some(mut sum) = self.summaries.get(&k).cloned() else {
                        return Ok(None);
                    };
                    sum.add(&one, 0, slot);
                    if !sum.is_generic(gcfg) {
                        // No longer generic: not a local change.
                        return Ok(None);
                    }
                    saturated.insert(k, sum);
                    continue;
                }
                Use::Rule(i) => {
                    let (limit, w) = bcfg.block_bounds(self.rules[i].partial_name());
                    if n > limit {
                        self.sort_members(k as usize);
                        let at = self.place(k as usize, &my_key, &id);
                        let range = at.saturating_sub(w)..(at + w).min(n);
                        Plan::Window { at, range, w }
                    } else {
                        Plan::Whole
                    }
                }
                Use::Value { .. } => Plan::Whole,
            };
            let m = &self.members[k as usize];
            match &plan {
                Plan::Whole => involved.extend(m.iter().copied()),
                Plan::Window { range, .. } => involved.extend(m[range.clone()].iter().copied()),
            }
            plans.insert(text, plan);
        }
        let mut batch: Vec<Record> = Vec::with_capacity(involved.len() + 1);
        for &h in &involved {
            match records.get(&self.ids[h as usize]) {
                Some(r) => batch.push(r.clone()),
                None => return Ok(None),
            }
        }
        batch.push(record.clone());
        let Ok(local) = builder.build(batch) else {
            return Ok(None);
        };
        let new_handle = self.ids.len() as u32;
        let (handle_of_local, local_of) = self.handles_in(&local, new_handle);
        let Some(&me) = local_of.get(&new_handle) else {
            return Ok(None);
        };

        // Its keys, the blocks as they are and as they will be, and the
        // verdicts on its values.
        let keys = record_keys(&local, &self.rules, me);
        let generic_before = |text: &str| self.is_generic_key(text);
        let mut blocks: Vec<Reformed> = Vec::new();
        let local_member = |h: &u32| local_of.get(h).copied();
        for (text, u) in &keys {
            let k = self.key_of.get(text.as_str()).copied();
            let plan = plans.get(text.as_str()).cloned().unwrap_or(Plan::Whole);
            let (before, after, window) = match (&plan, k) {
                (_, Some(k)) if saturated.contains_key(&k) => (Vec::new(), Vec::new(), None),
                (Plan::Window { at, range, w }, Some(k)) => {
                    let stretch = &self.members[k as usize][range.clone()];
                    let Some(before) = stretch.iter().map(local_member).collect::<Option<Vec<_>>>()
                    else {
                        return Ok(None);
                    };
                    let mut after = before.clone();
                    after.insert(at - range.start, me);
                    (before, after, Some(*w))
                }
                (_, Some(k)) => {
                    let Some(mut before) = self.members[k as usize]
                        .iter()
                        .map(local_member)
                        .collect::<Option<Vec<_>>>()
                    else {
                        return Ok(None);
                    };
                    before.sort_unstable();
                    let mut after = before.clone();
                    after.push(me);
                    after.sort_unstable();
                    (before, after, None)
                }
                (_, None) => (Vec::new(), vec![me], None),
            };
            let is_generic = match (*u, k) {
                (Use::Value { .. }, Some(k)) if saturated.contains_key(&k) => true,
                (Use::Value { slot, value }, _) => {
                    let verdict = judge_value(&local, gcfg, slot, value, &after);
                    if verdict != generic_before(text) {
                        return Ok(None);
                    }
                    verdict
                }
                (Use::Rule(_), _) => false,
            };
            if let Some(i) = rule_of(&self.rules, *u)
                && !is_generic
            {
                blocks.push(Reformed {
                    rule: i,
                    window,
                    before,
                    after,
                });
            }
        }
        let generic_local = flags_by_key(&local, generic_before);

        // Per pair, how many blocks of each rule yield it, after minus before.
        let ranks = key_ranks(&local);
        let mut delta: FxHashMap<u64, [i16; MAX_RULES]> = FxHashMap::default();
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for Reformed {
            rule: i,
            window,
            before: without,
            after: members,
        } in &blocks
        {
            before.clear();
            after.clear();
            match window {
                Some(w) => {
                    window_pairs(without, *w, &mut before);
                    window_pairs(members, *w, &mut after);
                }
                None => {
                    let partial = self.rules[*i].partial_name();
                    block_pairs(&local, bcfg, &ranks, partial, without, &mut before);
                    block_pairs(&local, bcfg, &ranks, partial, members, &mut after);
                }
            }
            for &p in &before {
                delta.entry(p).or_default()[*i] -= 1;
            }
            for &p in &after {
                delta.entry(p).or_default()[*i] += 1;
            }
        }

        // The pairs whose counts change, and those to score again: new ones
        // and those now credited to another rule.
        struct Change {
            key: u64,
            local: (RecordIx, RecordIx),
            old: Option<PairState>,
            new: Option<PairState>,
        }
        let mut changes: Vec<Change> = Vec::new();
        let mut to_score: Vec<CandidatePair> = Vec::new();
        for (&lp, d) in &delta {
            if d.iter().all(|&x| x == 0) {
                continue;
            }
            let (la, lb) = unpack(lp);
            let key = pack(handle_of_local[la as usize], handle_of_local[lb as usize]);
            let old = self.pairs.get(&key).copied();
            let mut counts = old.map_or([0; MAX_RULES], |o| o.counts);
            for (c, &dx) in counts.iter_mut().zip(d) {
                let v = i16::from(*c) + dx;
                match u8::try_from(v) {
                    Ok(v) => *c = v,
                    // The index disagrees with the blocks: not incremental.
                    Err(_) => return Ok(None),
                }
            }
            let new = credited(&counts).map(|rule| PairState {
                counts,
                probability: old.map_or(f32::NAN, |o| o.probability),
                rule,
            });
            if let Some(st) = &new
                && old.is_none_or(|o| o.rule != st.rule)
            {
                to_score.push(CandidatePair {
                    a: la,
                    b: lb,
                    rule: st.rule,
                });
            }
            changes.push(Change {
                key,
                local: (la, lb),
                old,
                new,
            });
        }
        to_score.sort_unstable();
        let cmp = Comparator::new(&local, &generic_local, resolver.compare_config())?;
        let scored = model.score_pairs(&cmp, &self.rules, &to_score)?;
        let score_of: FxHashMap<(u32, u32), f32> =
            scored.iter().map(|p| ((p.a, p.b), p.probability)).collect();

        // Commit: the record, its keys, the pairs and the links.
        let threshold = resolver.cluster_config().link_threshold();
        let mut dirty: Vec<u32> = vec![new_handle];
        self.ids.push(id.clone());
        self.handle_of.insert(id, new_handle);
        self.links.push(Vec::new());
        self.cluster_of.push(NONE);
        self.sort_keys.push(my_key);
        for (k, sum) in saturated {
            self.summaries.insert(k, sum);
        }
        for (text, _) in keys {
            let k = self.intern(text) as usize;
            if self.sorted[k] {
                let at = self.place(
                    k,
                    &self.sort_keys[new_handle as usize],
                    &self.ids[new_handle as usize],
                );
                self.members[k].insert(at, new_handle);
            } else {
                self.members[k].push(new_handle);
            }
        }
        for mut ch in changes {
            if let Some(st) = &mut ch.new
                && let Some(&p) = score_of.get(&ch.local)
            {
                st.probability = p;
            }
            let is_link = |s: &Option<PairState>| s.is_some_and(|s| s.probability >= threshold);
            let (was, is) = (is_link(&ch.old), is_link(&ch.new));
            let moved = match (&ch.old, &ch.new) {
                (Some(o), Some(n)) => {
                    o.probability.to_bits() != n.probability.to_bits() || o.rule != n.rule
                }
                _ => true,
            };
            let (a, b) = unpack(ch.key);
            if was != is || (is && moved) {
                dirty.extend([a, b]);
            }
            if was && !is {
                self.links[a as usize].retain(|&x| x != b);
                self.links[b as usize].retain(|&x| x != a);
            } else if is && !was {
                self.links[a as usize].push(b);
                self.links[b as usize].push(a);
            }
            match ch.new {
                Some(st) => {
                    self.pairs.insert(ch.key, st);
                }
                None => {
                    self.pairs.remove(&ch.key);
                }
            }
        }
        self.recluster(&dirty, record, records, resolver).map(Some)
    }

    /// Clusters again the components of the link graph holding `dirty`,
    /// with the batch clusterer on a dataset of their records; returns
    /// their handles.
    fn recluster(
        &mut self,
        dirty: &[u32],
        record: &Record,
        records: &BTreeMap<RecordId, Record>,
        resolver: &Resolver,
    ) -> Result<Vec<u32>> {
        let mut seen: FxHashSet<u32> = dirty.iter().copied().collect();
        let mut component: Vec<u32> = seen.iter().copied().collect();
        let mut i = 0;
        while i < component.len() {
            let h = component[i];
            for &o in &self.links[h as usize] {
                if seen.insert(o) {
                    component.push(o);
                }
            }
            i += 1;
        }
        for &h in &component {
            let c = self.cluster_of[h as usize];
            if c != NONE {
                self.clusters.remove(&c);
            }
        }
        let groups: Vec<Vec<u32>> = if component.len() == 1 {
            vec![component.clone()]
        } else {
            let id = record.id();
            let batch: Vec<Record> = component
                .iter()
                .filter_map(|&h| {
                    let rid = &self.ids[h as usize];
                    if *rid == id {
                        Some(record.clone())
                    } else {
                        records.get(rid).cloned()
                    }
                })
                .collect();
            if batch.len() != component.len() {
                return Err(crate::Error::config("store", "index and records disagree"));
            }
            let ds = resolver.dataset_builder().build(batch)?;
            let (handle, local) = self.handles_in(&ds, NONE);
            let mut scored = Vec::new();
            for (la, &h) in handle.iter().enumerate() {
                for &o in self.links.get(h as usize).map_or(&[][..], |v| &v[..]) {
                    let (Some(&lb), Some(st)) = (local.get(&o), self.pairs.get(&pack(h, o))) else {
                        continue;
                    };
                    if (la as u32) < lb {
                        scored.push(ScoredPair {
                            a: la as u32,
                            b: lb,
                            rule: st.rule,
                            weight: 0.0,
                            probability: st.probability,
                        });
                    }
                }
            }
            let generic = flags_by_key(&ds, |t| self.is_generic_key(t));
            let clusters = Clusters::build(
                &ds,
                &scored,
                &self.rules,
                &generic,
                resolver.cluster_config(),
            )?;
            clusters
                .members()
                .into_iter()
                .map(|m| m.into_iter().map(|l| handle[l as usize]).collect())
                .collect()
        };
        for g in groups {
            let c = self.next_cluster;
            self.next_cluster = c
                .checked_add(1)
                .ok_or_else(|| crate::Error::config("store", "too many identity changes"))?;
            for &h in &g {
                self.cluster_of[h as usize] = c;
            }
            self.clusters.insert(c, g);
        }
        Ok(component)
    }
}

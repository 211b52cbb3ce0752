//! Training: u from random record pairs, m and the priors by
//! expectation–maximisation over the candidate pairs' comparison vectors.
//!
//! EM runs on [`Patterns`] — distinct (rule, comparison vector) pairs with
//! counts — not on pairs, so an iteration costs microseconds however many
//! pairs there are, and patterns computed on several machines merge by adding
//! counts.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{
    Model, PriorMode, ln_ratio, not_exact_m, not_exact_weight, rule_masks, trainable_codes,
};
use crate::block::{BlockingRule, CandidatePair, Candidates};
use crate::compare::{Comparator, ComparisonVector, FIELDS, Field, LEVEL_CODES, Level};
use crate::error::{Error, Result};

/// Distinct comparison vectors per blocking rule, with counts: what EM trains on.
///
/// # Example
/// ```
/// use idstitch::{BlockingRule, ComparisonVector, Field, Level, PhoneLevel, Patterns};
///
/// let mut v = ComparisonVector::default();
/// v.set(Field::Phone, Level::Phone(PhoneLevel::Exact))?;
/// let mut a = Patterns::default();
/// a.add(BlockingRule::Phone, v, 3);
/// let mut b = Patterns::default();
/// b.add(BlockingRule::Phone, v, 2);
/// a.merge(&b);
/// assert_eq!(a.pairs(), 5);
/// assert_eq!(a.len(), 1);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patterns {
    /// Rules in priority order: a pair credited to a rule was not found by
    /// the rules before it, which scoring takes into account.
    rules: Vec<BlockingRule>,
    counts: BTreeMap<(BlockingRule, ComparisonVector), u64>,
}

impl Patterns {
    /// Compares every candidate pair (in parallel) and counts the vectors.
    pub fn from_candidates(cmp: &Comparator<'_>, candidates: &Candidates) -> Patterns {
        let compared = candidates
            .pairs()
            .par_iter()
            .with_min_len(4096)
            .map(|p| (p.rule, cmp.compare(p.a, p.b)));
        Patterns::count(candidates.rules(), compared)
    }

    /// Counts from pairs compared already ([`Comparator::compare_pairs`]),
    /// `vectors[i]` being the comparison of `pairs[i]`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the lengths differ.
    pub fn from_vectors(
        rules: &[BlockingRule],
        pairs: &[CandidatePair],
        vectors: &[ComparisonVector],
    ) -> Result<Patterns> {
        if pairs.len() != vectors.len() {
            return Err(Error::config(
                "vectors",
                "must hold one comparison per candidate pair",
            ));
        }
        let compared = pairs
            .par_iter()
            .zip(vectors)
            .with_min_len(4096)
            .map(|(p, v)| (p.rule, *v));
        Ok(Patterns::count(rules, compared))
    }

    /// Counts `(rule index, vector)` items in parallel.
    fn count(
        rules: &[BlockingRule],
        compared: impl ParallelIterator<Item = (u8, ComparisonVector)>,
    ) -> Patterns {
        let map = compared
            .fold(
                FxHashMap::default,
                |mut m: FxHashMap<(u8, ComparisonVector), u64>, key| {
                    *m.entry(key).or_default() += 1;
                    m
                },
            )
            .reduce(FxHashMap::default, |mut a, b| {
                for (k, v) in b {
                    *a.entry(k).or_default() += v;
                }
                a
            });
        let mut out = Patterns::with_rules(rules.iter().copied());
        for ((rule, v), n) in map {
            if let Some(&r) = rules.get(rule as usize) {
                out.add(r, v, n);
            }
        }
        out
    }

    /// No counts yet, for pairs blocked by `rules` in this priority order
    /// (as [`Candidates::rules`]).
    pub fn with_rules(rules: impl IntoIterator<Item = BlockingRule>) -> Patterns {
        let mut out = Patterns::default();
        for r in rules {
            if !out.rules.contains(&r) {
                out.rules.push(r);
            }
        }
        out
    }

    /// Adds `count` pairs with vector `v` credited to `rule` (a rule not in
    /// the priority list joins it last).
    pub fn add(&mut self, rule: BlockingRule, v: ComparisonVector, count: u64) {
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
        *self.counts.entry((rule, v)).or_default() += count;
    }

    /// Adds another set of counts (from another partition or machine).
    pub fn merge(&mut self, other: &Patterns) {
        for &r in &other.rules {
            if !self.rules.contains(&r) {
                self.rules.push(r);
            }
        }
        for (&(r, v), &n) in &other.counts {
            self.add(r, v, n);
        }
    }

    /// The rules, in priority order.
    pub fn rules(&self) -> &[BlockingRule] {
        &self.rules
    }

    /// Distinct (rule, vector) patterns.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Total pairs counted.
    pub fn pairs(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The patterns, ordered by rule and vector.
    pub fn iter(&self) -> impl Iterator<Item = (BlockingRule, ComparisonVector, u64)> + '_ {
        self.counts.iter().map(|(&(r, v), &n)| (r, v, n))
    }
}

/// Level counts over random record pairs: the u estimate.
///
/// # Example
/// ```
/// use idstitch::{Comparator, CompareConfig, Dataset, GenericValues, Record, UCounts};
///
/// let records = (0..100).map(|i| Record::new(i.to_string(), "crm").first_name(["Анна", "Иван", "Олег"][i % 3])).collect();
/// let ds = Dataset::build(records)?;
/// let generic = GenericValues::default();
/// let cmp = Comparator::new(&ds, &generic, CompareConfig::new())?;
/// let u = UCounts::sample(&cmp, 10_000, 7);
/// assert_eq!(u.pairs(), 10_000);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UCounts {
    counts: Vec<[u64; LEVEL_CODES]>,
    pairs: u64,
}

impl Default for UCounts {
    fn default() -> Self {
        UCounts {
            counts: vec![[0; LEVEL_CODES]; FIELDS],
            pairs: 0,
        }
    }
}

impl UCounts {
    /// Compares `pairs` uniformly random distinct record pairs (seeded: the
    /// same seed gives the same sample whatever the thread count).
    pub fn sample(cmp: &Comparator<'_>, pairs: u64, seed: u64) -> UCounts {
        let n = cmp.dataset().len() as u64;
        if n < 2 {
            return UCounts::default();
        }
        const CHUNK: u64 = 1 << 14;
        let chunks = pairs.div_ceil(CHUNK);
        (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut rng = SplitMix64(seed ^ c.wrapping_mul(0xA076_1D64_78BD_642F));
                let draws: Vec<(u32, u32)> = (0..CHUNK.min(pairs - c * CHUNK))
                    .map(|_| {
                        let a = below(rng.next(), n);
                        let mut b = below(rng.next(), n - 1);
                        if b >= a {
                            b += 1;
                        }
                        // Both are below the record count, which fits u32.
                        (a as u32, b as u32)
                    })
                    .collect();
                // Every code counted as it comes, without a branch; which
                // codes count is settled once per chunk (`from_codes`).
                let mut codes = [[0u64; LEVEL_CODES]; FIELDS];
                cmp.compare_each(
                    &draws,
                    |&ab| ab,
                    |_, v| {
                        for (row, &c) in codes.iter_mut().zip(&v.0) {
                            if let Some(n) = row.get_mut(usize::from(c)) {
                                *n += 1;
                            }
                        }
                    },
                );
                UCounts::from_codes(&codes, draws.len() as u64)
            })
            .reduce(UCounts::default, |mut a, b| {
                a.merge(&b);
                a
            })
    }

    /// Counts `pairs` compared pairs from how many of them had each code
    /// per field, as [`UCounts::add`] would have counted their vectors.
    fn from_codes(codes: &[[u64; LEVEL_CODES]; FIELDS], pairs: u64) -> UCounts {
        let mut out = UCounts::default();
        for (f, row) in Field::ALL.into_iter().zip(codes) {
            for (code, &n) in (0u8..).zip(row) {
                out.count(Level::from_code(f, code), f, n);
            }
        }
        out.pairs = pairs;
        out
    }

    /// Counts one comparison vector.
    pub fn add(&mut self, v: &ComparisonVector) {
        for f in Field::ALL {
            self.count(v.level(f), f, 1);
        }
        self.pairs += 1;
    }

    /// Counts `n` pairs at level `l` of field `f`, if that level counts:
    /// evidence levels for u, and missing (code 0) for presence.
    fn count(&mut self, l: Level, f: Field, n: u64) {
        if !l.is_neutral() || l == Level::Missing {
            self.counts[f as usize][usize::from(l.code())] += n;
        }
    }

    /// Adds another sample's counts.
    pub fn merge(&mut self, other: &UCounts) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.pairs += other.pairs;
    }

    /// Pairs counted.
    pub fn pairs(&self) -> u64 {
        self.pairs
    }

    /// Sets `u` from the counts of a sample over `records` records.
    ///
    /// The counts weigh as many pairs as the dataset has distinct pairs at
    /// most (a million draws from 3 records are 3 pairs of evidence), plus
    /// [`U_PRIOR_PAIRS`] pseudo-pairs at the current values and half a pair
    /// per level, so small datasets keep sensible u values and no level's u
    /// is ever 0.
    /// Sets each field's presence: the share of sampled pairs where both
    /// records hold it (unchanged without a sample).
    fn apply_presence(&self, presence: &mut [f64; FIELDS]) {
        if self.pairs == 0 {
            return;
        }
        for f in Field::ALL {
            let missing = self.counts[f as usize][0] as f64 / self.pairs as f64;
            presence[f as usize] = (1.0 - missing).clamp(1e-6, 1.0);
        }
    }

    fn apply(&self, u: &mut [[f64; LEVEL_CODES]; FIELDS], records: u64) {
        if self.pairs == 0 {
            return;
        }
        let distinct = records as f64 * records.saturating_sub(1) as f64 / 2.0;
        let scale = (distinct / self.pairs as f64).min(1.0);
        for f in Field::ALL {
            let codes: Vec<usize> = trainable_codes(f).collect();
            let row = &self.counts[f as usize];
            let total: u64 = codes.iter().map(|&c| row[c]).sum();
            let denom = total as f64 * scale + U_PRIOR_PAIRS + 0.5 * codes.len() as f64;
            let start = u[f as usize];
            for c in codes {
                u[f as usize][c] = (row[c] as f64 * scale + U_PRIOR_PAIRS * start[c] + 0.5) / denom;
            }
        }
    }
}

/// Expected matches a field must be seen in among shared-value rules' pairs
/// for its m to be learnt from those pairs alone.
const MIN_ID_GROUP_MASS: f64 = 50.0;

/// Pseudo-pairs the default u values count for when u is estimated.
pub const U_PRIOR_PAIRS: f64 = 1_000.0;

/// Training settings.
///
/// # Example
/// ```
/// use idstitch::{PriorMode, TrainConfig};
///
/// let cfg = TrainConfig::new().u_sample_pairs(200_000).seed(42).mode(PriorMode::PerRule);
/// assert_eq!(cfg.get_seed(), 42);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    u_sample_pairs: u64,
    seed: u64,
    max_iterations: u32,
    tolerance: f64,
    estimate_u: bool,
    mode: PriorMode,
    m_pseudo_pairs: f64,
    prior_pseudo_pairs: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            u_sample_pairs: 1_000_000,
            seed: 0x1D57_17C4,
            max_iterations: 1_000,
            tolerance: 1e-6,
            estimate_u: false,
            mode: PriorMode::PerRule,
            m_pseudo_pairs: 10.0,
            prior_pseudo_pairs: 100.0,
        }
    }
}

impl TrainConfig {
    /// 1,000,000 random pairs for u, up to 1,000 EM iterations, tolerance 1e-6,
    /// u fixed during EM, per-rule priors.
    pub fn new() -> TrainConfig {
        TrainConfig::default()
    }

    /// Random record pairs compared to estimate u.
    #[must_use]
    pub fn u_sample_pairs(mut self, n: u64) -> TrainConfig {
        self.u_sample_pairs = n;
        self
    }

    /// The sampling seed.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> TrainConfig {
        self.seed = seed;
        self
    }

    /// The sampling seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// EM stops after this many iterations…
    #[must_use]
    pub fn max_iterations(mut self, n: u32) -> TrainConfig {
        self.max_iterations = n;
        self
    }

    /// …or once no parameter moves by more than this.
    #[must_use]
    pub fn tolerance(mut self, t: f64) -> TrainConfig {
        self.tolerance = t;
        self
    }

    /// Lets EM re-estimate u as well (classic Fellegi–Sunter EM). Off by
    /// default: u from random pairs is better anchored.
    #[must_use]
    pub fn estimate_u(mut self, yes: bool) -> TrainConfig {
        self.estimate_u = yes;
        self
    }

    /// How many pseudo-pairs the starting m values count for (default 10).
    ///
    /// EM here is maximum a posteriori: m starts from [`Model::default`]'s
    /// values and each rule's prior from [`BlockingRule::default_prior`],
    /// counted as this many (and [`prior_pseudo_pairs`](TrainConfig::prior_pseudo_pairs))
    /// pairs. With thousands of informative pairs the data decide; a level
    /// barely seen keeps a sensible m. 0 gives plain maximum-likelihood EM.
    #[must_use]
    pub fn m_pseudo_pairs(mut self, pairs: f64) -> TrainConfig {
        self.m_pseudo_pairs = pairs;
        self
    }

    /// How many pseudo-pairs each rule's default prior counts for (default 100).
    ///
    /// Most pairs a shared identifier finds carry no other evidence (an
    /// e-mail campaign contact holds only the address): their share of
    /// matches is set by the few pairs that do, and weak evidence there
    /// (different phones among people who share a loyalty card) would drag
    /// the prior far on its own. A hundred pseudo-pairs keep it where the
    /// evidence does not clearly say otherwise.
    #[must_use]
    pub fn prior_pseudo_pairs(mut self, pairs: f64) -> TrainConfig {
        self.prior_pseudo_pairs = pairs;
        self
    }

    /// Which prior the trained model uses.
    #[must_use]
    pub fn mode(mut self, mode: PriorMode) -> TrainConfig {
        self.mode = mode;
        self
    }

    fn validate(&self) -> Result<()> {
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return Err(Error::config("tolerance", "must be in (0, 1)"));
        }
        for (field, v) in [
            ("m_pseudo_pairs", self.m_pseudo_pairs),
            ("prior_pseudo_pairs", self.prior_pseudo_pairs),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(Error::config(field, "must be a finite number >= 0"));
            }
        }
        if self.max_iterations == 0 {
            return Err(Error::config("max_iterations", "must be at least 1"));
        }
        Ok(())
    }
}

/// What training did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Random pairs compared for u.
    pub u_pairs: u64,
    /// Candidate pairs EM trained on.
    pub em_pairs: u64,
    /// Distinct (rule, vector) patterns.
    pub patterns: u64,
    /// EM iterations run.
    pub iterations: u32,
    /// Whether EM met the tolerance.
    pub converged: bool,
    /// Learnt prior per rule, with the pairs it was learnt from.
    pub priors: Vec<(BlockingRule, f64, u64)>,
    /// The prior over all record pairs.
    pub global_prior: f64,
}

impl Model {
    /// Trains a model on a blocked dataset: u from random pairs, then m and
    /// the priors by EM on the candidate pairs.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for settings out of range.
    pub fn train(
        cmp: &Comparator<'_>,
        candidates: &Candidates,
        cfg: &TrainConfig,
    ) -> Result<(Model, TrainReport)> {
        cfg.validate()?;
        let u = UCounts::sample(cmp, cfg.u_sample_pairs, cfg.seed);
        let patterns = Patterns::from_candidates(cmp, candidates);
        Model::fit(&patterns, &u, cmp.dataset().len() as u64, cfg)
    }

    /// As [`Model::train`], from the candidates' comparisons computed once
    /// ([`Comparator::compare_pairs`]) and kept for
    /// [`Model::score_vectors`]: the same model, each pair compared once.
    ///
    /// # Errors
    /// As [`Model::train`]; [`ErrorKind::Config`](crate::ErrorKind::Config)
    /// when `vectors` does not hold one comparison per candidate pair.
    pub fn train_with_vectors(
        cmp: &Comparator<'_>,
        candidates: &Candidates,
        vectors: &[ComparisonVector],
        cfg: &TrainConfig,
    ) -> Result<(Model, TrainReport)> {
        cfg.validate()?;
        let patterns = Patterns::from_vectors(candidates.rules(), candidates.pairs(), vectors)?;
        let u = UCounts::sample(cmp, cfg.u_sample_pairs, cfg.seed);
        Model::fit(&patterns, &u, cmp.dataset().len() as u64, cfg)
    }

    /// Trains from precomputed counts (e.g. gathered from a cluster):
    /// `records` is the dataset size, for the global prior.
    ///
    /// # Errors
    /// As [`Model::train`].
    pub fn fit(
        patterns: &Patterns,
        u: &UCounts,
        records: u64,
        cfg: &TrainConfig,
    ) -> Result<(Model, TrainReport)> {
        cfg.validate()?;
        let mut model = Model::default();
        u.apply(&mut model.u, records);
        u.apply_presence(&mut model.presence);
        model.mode = cfg.mode;
        // Groups: one per rule, or one for everything in global mode.
        let rules = patterns.rules();
        let global = cfg.mode == PriorMode::Global;
        let groups = if global { 1 } else { rules.len() };
        let (masks, not_exact): (Vec<u16>, Vec<u16>) = if global {
            (vec![0], vec![0])
        } else {
            (0..rules.len()).map(|i| rule_masks(rules, i)).unzip()
        };
        let rows: Vec<(usize, ComparisonVector, f64)> = patterns
            .iter()
            .map(|(r, v, n)| {
                let g = if global {
                    0
                } else {
                    rules.iter().position(|x| *x == r).unwrap_or(0)
                };
                (g, v, n as f64)
            })
            .collect();
        let mut trainable = [[false; LEVEL_CODES]; FIELDS];
        for f in Field::ALL {
            for c in trainable_codes(f) {
                trainable[f as usize][c] = true;
            }
        }
        let start = Model::default();
        let kappa = cfg.m_pseudo_pairs;
        let kappa_prior = cfg.prior_pseudo_pairs;
        let lambda0: Vec<f64> = if global {
            vec![0.5]
        } else {
            rules.iter().map(|r| r.default_prior()).collect()
        };
        let mut lambda = lambda0.clone();
        // Groups of shared-value rules: their pairs are mostly one person, so
        // they pin m down; name-key groups, mostly different people with one
        // or two free fields, would let EM invent a class of "matches" out of
        // small departures from u (a same-year birth date, say).
        let identifier_group: Vec<bool> = if global {
            vec![false]
        } else {
            rules.iter().map(|r| r.kind().is_some()).collect()
        };
        // Per group, the learnt distribution of each not-exact field over
        // missing and the non-exact levels (`P(level | match, not found by
        // an earlier identifier rule)`): pairs a name rule finds after the
        // phone rule did not are exactly the ones whose phones differ or are
        // missing, in proportions no shared `m` can know.
        let mut ne_m: Vec<[[f64; LEVEL_CODES]; FIELDS]> = (0..groups)
            .map(|_| {
                let mut t = [[0.0; LEVEL_CODES]; FIELDS];
                for f in Field::ALL {
                    t[f as usize] =
                        not_exact_m(&model.m[f as usize], model.presence[f as usize], f);
                }
                t
            })
            .collect();
        let (mut iterations, mut converged) = (0, false);
        // Each group's patterns (their positions and pair counts), in
        // pattern order: the bisection below sums over them every step.
        let mut group_pairs = vec![0.0f64; groups];
        let mut members: Vec<Vec<(usize, f64)>> = vec![Vec::new(); groups];
        for (i, &(g, _, n)) in rows.iter().enumerate() {
            group_pairs[g] += n;
            members[g].push((i, n));
        }
        while iterations < cfg.max_iterations && !rows.is_empty() {
            iterations += 1;
            let mut lw = [[0.0f64; LEVEL_CODES]; FIELDS];
            for f in 0..FIELDS {
                for c in 0..LEVEL_CODES {
                    if trainable[f][c] {
                        lw[f][c] = ln_ratio(model.m[f][c], model.u[f][c]);
                    }
                }
            }
            let lw_ne: Vec<[[f64; LEVEL_CODES]; FIELDS]> = (0..groups)
                .map(|g| {
                    let mut t = [[0.0; LEVEL_CODES]; FIELDS];
                    for f in Field::ALL {
                        let fi = f as usize;
                        if not_exact[g] & (1 << fi) == 0 {
                            continue;
                        }
                        for c in 0..LEVEL_CODES {
                            if c == 0 || trainable[fi][c] {
                                t[fi][c] = not_exact_weight(&model, Some(&ne_m[g][fi]), f, c);
                            }
                        }
                    }
                    t
                })
                .collect();
            let mut acc_ne = vec![[[0.0f64; LEVEL_CODES]; FIELDS]; groups];
            // m is learnt from the pairs of shared-value rules when they
            // observe the field enough (`acc_m_id`), else from every group.
            let mut acc_m_id = [[0.0f64; LEVEL_CODES]; FIELDS];
            let mut acc_m = [[0.0f64; LEVEL_CODES]; FIELDS];
            let mut acc_u = [[0.0f64; LEVEL_CODES]; FIELDS];
            // Evidence of each pattern given m and u (the prior aside).
            let evidence: Vec<f64> = rows
                .iter()
                .map(|&(g, v, _)| {
                    let mut e = 0.0;
                    for f in 0..FIELDS {
                        let c = usize::from(v.code(f));
                        let free = masks[g] & (1 << f) == 0;
                        if not_exact[g] & (1 << f) != 0 {
                            if free && (c == 0 || trainable[f][c]) {
                                e += lw_ne[g][f][c];
                            }
                        } else if trainable[f][c] && free {
                            e += lw[f][c];
                        }
                    }
                    e
                })
                .collect();
            // Each rule's prior solved exactly for these m and u (a 1-D fixed
            // point, by bisection): plain EM creeps along this direction for
            // thousands of iterations when most pairs carry no evidence.
            // The posterior of a pattern is 1 / (1 + e^-logit e^-evidence):
            // e^-evidence is taken once per pattern here, so each of the
            // bisection's 60 steps takes one exponential, not one per
            // pattern (fit 8.5 -> 3.0 ms at 99k records, 32 -> 11 ms at
            // 1M). Each group's patterns are summed in their order either
            // way.
            let odds_against: Vec<f64> = evidence.iter().map(|e| (-e).exp()).collect();
            let mut delta = 0.0f64;
            for g in 0..groups {
                if group_pairs[g] == 0.0 {
                    continue;
                }
                let excess = |lam: f64| {
                    let prior_against = (-ln_ratio(lam, 1.0 - lam)).exp();
                    let mut sum = kappa_prior * lambda0[g];
                    for &(i, n) in &members[g] {
                        // `members` holds positions in `rows`, which
                        // `odds_against` follows one for one.
                        sum += n / (1.0 + prior_against * odds_against[i]);
                    }
                    sum / (group_pairs[g] + kappa_prior) - lam
                };
                let (mut lo, mut hi) = (1e-6, 1.0 - 1e-6);
                for _ in 0..60 {
                    let mid = 0.5 * (lo + hi);
                    if excess(mid) > 0.0 {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let new = 0.5 * (lo + hi);
                delta = delta.max((new - lambda[g]).abs());
                lambda[g] = new;
            }
            for (&(g, v, n), &e) in rows.iter().zip(&evidence) {
                let lam = lambda[g];
                let lo = ln_ratio(lam, 1.0 - lam) + e;
                let post = 1.0 / (1.0 + (-lo).exp());
                for f in 0..FIELDS {
                    let c = usize::from(v.code(f));
                    // Fields truncated to "not exact" would bias m: they
                    // are learnt from the groups where they are free.
                    if not_exact[g] & (1 << f) != 0
                        && masks[g] & (1 << f) == 0
                        && c != 1
                        && (c == 0 || trainable[f][c])
                    {
                        acc_ne[g][f][c] += post * n;
                    }
                    if trainable[f][c] && (masks[g] | not_exact[g]) & (1 << f) == 0 {
                        acc_m[f][c] += post * n;
                        acc_u[f][c] += (1.0 - post) * n;
                        if identifier_group[g] {
                            acc_m_id[f][c] += post * n;
                        }
                    }
                }
            }
            for f in 0..FIELDS {
                if acc_m_id[f].iter().sum::<f64>() >= MIN_ID_GROUP_MASS {
                    acc_m[f] = acc_m_id[f];
                }
                let tm: f64 = acc_m[f].iter().sum();
                let tu: f64 = acc_u[f].iter().sum();
                for c in 0..LEVEL_CODES {
                    if !trainable[f][c] {
                        continue;
                    }
                    if tm > 0.0 {
                        let new =
                            ((acc_m[f][c] + kappa * start.m[f][c]) / (tm + kappa)).clamp(1e-9, 1.0);
                        delta = delta.max((new - model.m[f][c]).abs());
                        model.m[f][c] = new;
                    }
                    if cfg.estimate_u && tu > 0.0 {
                        let new =
                            ((acc_u[f][c] + kappa * start.u[f][c]) / (tu + kappa)).clamp(1e-9, 1.0);
                        delta = delta.max((new - model.u[f][c]).abs());
                        model.u[f][c] = new;
                    }
                }
            }
            // Each group's not-exact distributions, shrunk towards what the
            // shared m and the field's presence imply.
            for g in 0..groups {
                for f in Field::ALL {
                    let fi = f as usize;
                    if not_exact[g] & (1 << fi) == 0 {
                        continue;
                    }
                    let prior = not_exact_m(&model.m[fi], model.presence[fi], f);
                    let total: f64 = acc_ne[g][fi].iter().sum();
                    for c in 0..LEVEL_CODES {
                        if c == 1 || !(c == 0 || trainable[fi][c]) {
                            continue;
                        }
                        let new = ((acc_ne[g][fi][c] + kappa * prior[c]) / (total + kappa))
                            .clamp(1e-9, 1.0);
                        delta = delta.max((new - ne_m[g][fi][c]).abs());
                        ne_m[g][fi][c] = new;
                    }
                }
            }
            if delta < cfg.tolerance {
                converged = true;
                break;
            }
        }
        if !global {
            model.not_exact_m.clear();
            for (g, &r) in rules.iter().enumerate() {
                if group_pairs[g] == 0.0 {
                    continue;
                }
                for f in Field::ALL {
                    if not_exact[g] & (1 << f as usize) != 0 {
                        model.not_exact_m.push((r, f, ne_m[g][f as usize]));
                    }
                }
            }
        }
        let all_pairs = (records as f64) * (records.saturating_sub(1) as f64) / 2.0;
        let expected_matches: f64 = lambda.iter().zip(&group_pairs).map(|(l, n)| l * n).sum();
        model.global_prior = if all_pairs > 0.0 {
            (expected_matches / all_pairs).clamp(1e-12, 1.0 - 1e-6)
        } else {
            1e-6
        };
        let mut report_priors = Vec::new();
        if !global {
            for (g, &r) in rules.iter().enumerate() {
                if group_pairs[g] == 0.0 {
                    continue;
                }
                report_priors.push((r, lambda[g], group_pairs[g] as u64));
                if let Some(p) = model.priors.iter_mut().find(|(x, _)| *x == r) {
                    p.1 = lambda[g];
                }
            }
        }
        let report = TrainReport {
            u_pairs: u.pairs(),
            em_pairs: patterns.pairs(),
            patterns: patterns.len() as u64,
            iterations,
            converged,
            priors: report_priors,
            global_prior: model.global_prior,
        };
        Ok((model, report))
    }
}

/// SplitMix64: a small, fast, seedable generator (sampling needs no more).
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A uniform value below `n` from 64 random bits (multiply-shift).
fn below(x: u64, n: u64) -> u64 {
    ((u128::from(x) * u128::from(n)) >> 64) as u64
}

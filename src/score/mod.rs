//! Fellegi–Sunter scoring: match weights from m/u probabilities, priors
//! conditioned on how a pair was found, term-frequency adjustments, and an
//! explanation (waterfall) for every score.
//!
//! A pair found by rule `r` scores
//!
//! ```text
//! weight = log2(λr / (1 − λr))                       prior of rule r
//!        + Σ over fields f not implied by r:  log2(m[f][level] / u[f][level])
//!        + Σ over name and city fields agreeing on value v:  log2(Σk tf(k)² / tf(v))
//! probability = 2^weight / (1 + 2^weight)
//! ```
//!
//! `λr` is the share of true matches among the pairs rule `r` finds, learnt by
//! EM. The fields the rule implies (a shared phone for the phone rule) are
//! already in `λr`, so they are not counted again. This is what keeps a pair
//! that shares only a valid, non-generic phone a confident match when nothing
//! contradicts it — with one global prior over all record pairs, as in Splink,
//! such a pair scores about 0.5 (see [`PriorMode::Global`], kept for comparison).
//!
//! Fields of *earlier* shared-value rules are known not to agree exactly (else
//! the earlier rule would have found the pair): their m and u are renormalised
//! over the other levels, so "different phone" among people who share a
//! loyalty card is not held against them as if the phone could have matched.
//!
//! Missing fields and agreement on generic values weigh 0. Agreement on a
//! field the rule does not imply never weighs below 0, however common the
//! value; on the rule's own fields the frequency adjustment may (a shared
//! surname Иванов says less than the average surname).

mod em;
mod frequencies;
mod model_file;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use em::{Patterns, TrainConfig, TrainReport, U_PRIOR_PAIRS, UCounts};

use crate::block::{BlockingRule, CandidatePair, Candidates};
use crate::compare::LEVEL_CODES;
use crate::compare::{Comparator, ComparisonVector, FIELDS, Field, Level};
use crate::error::{Error, Result};
use crate::record::{NONE, NameRole, RecordId, RecordIx};

/// The model format version written by [`Model::to_json`].
pub const MODEL_FORMAT_VERSION: u32 = 2;

/// How the prior match probability is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PriorMode {
    /// One prior per blocking rule, with the rule's fields conditioned on (the default).
    #[default]
    PerRule,
    /// One prior over all record pairs and every field counted, as Splink
    /// does: for comparison only; it drops most single-identifier links.
    Global,
}

/// Trained Fellegi–Sunter parameters.
///
/// # Example
/// ```
/// use idstitch::{Model, Field, Level, PhoneLevel};
///
/// let model = Model::default();
/// let w = model.level_weight(Field::Phone, Level::Phone(PhoneLevel::Exact));
/// assert!(w > 10.0);
/// let again = Model::from_json(&model.to_json())?;
/// assert_eq!(again, model);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) m: [[f64; LEVEL_CODES]; FIELDS],
    pub(crate) u: [[f64; LEVEL_CODES]; FIELDS],
    pub(crate) priors: Vec<(BlockingRule, f64)>,
    pub(crate) global_prior: f64,
    pub(crate) mode: PriorMode,
    pub(crate) tf_fields: Vec<Field>,
    pub(crate) tf_min: f64,
    /// Per field, the share of record pairs where both records have it
    /// (from the random pairs u is learnt on; 1 until trained).
    pub(crate) presence: [f64; FIELDS],
    /// Per rule and field known not to agree exactly for that rule's pairs:
    /// the learnt `P(level | same person, not found earlier)` over missing
    /// (code 0) and the non-exact levels. Absent: derived from `m` and
    /// `presence` ([`not_exact_m`]).
    pub(crate) not_exact_m: Vec<(BlockingRule, Field, [f64; LEVEL_CODES])>,
    /// Term frequencies frozen from a dataset ([`Model::with_frequencies_of`]);
    /// `None`: counted on each dataset scored.
    pub(crate) frequencies: Option<Vec<frequencies::FieldFrequencies>>,
}

impl Default for Model {
    /// Hand-set starting values: usable before training, and EM's start.
    fn default() -> Self {
        let mut m = [[0.0; LEVEL_CODES]; FIELDS];
        let mut u = [[0.0; LEVEL_CODES]; FIELDS];
        for f in Field::ALL {
            let (mm, uu): (&[f64], &[f64]) = match f {
                Field::FirstName | Field::MiddleName | Field::Surname => (
                    &[0.80, 0.06, 0.04, 0.02, 0.04, 0.02, 0.02],
                    &[0.01, 0.002, 0.004, 0.002, 0.01, 0.02, 0.952],
                ),
                Field::BirthDate => (
                    &[0.90, 0.02, 0.03, 0.01, 0.04],
                    &[0.0002, 0.0001, 0.0015, 0.02, 0.9782],
                ),
                Field::Email | Field::Phone => {
                    (&[0.60, 0.05, 0.0, 0.35], &[1e-6, 1e-4, 0.0, 0.999_899])
                }
                Field::Loyalty | Field::Device => (&[0.60, 0.0, 0.40], &[1e-6, 0.0, 0.999_999]),
                Field::CustomerId => (&[0.50, 0.0, 0.05, 0.45], &[1e-6, 0.0, 1e-4, 0.999_899]),
                Field::City => (&[0.85, 0.15], &[0.05, 0.95]),
                Field::Address => (&[0.70, 0.10, 0.10, 0.10], &[1e-5, 1e-5, 1e-3, 0.998_98]),
            };
            for (i, (&a, &b)) in mm.iter().zip(uu).enumerate() {
                m[f as usize][i + 1] = a;
                u[f as usize][i + 1] = b;
            }
        }
        Model {
            m,
            u,
            priors: BlockingRule::ALL
                .iter()
                .map(|&r| (r, r.default_prior()))
                .collect(),
            global_prior: 1e-6,
            mode: PriorMode::PerRule,
            tf_fields: vec![Field::FirstName, Field::Surname, Field::City],
            tf_min: 1e-6,
            presence: [1.0; FIELDS],
            not_exact_m: Vec::new(),
            frequencies: None,
        }
    }
}

impl Model {
    /// The m probability of a level: P(level | same person).
    pub fn m(&self, field: Field, level: Level) -> Option<f64> {
        let code = level.code_for(field)?;
        (!level.is_neutral()).then(|| self.m[field as usize][usize::from(code)])
    }

    /// The u probability of a level: P(level | different people).
    pub fn u(&self, field: Field, level: Level) -> Option<f64> {
        let code = level.code_for(field)?;
        (!level.is_neutral()).then(|| self.u[field as usize][usize::from(code)])
    }

    /// The match weight `log2(m/u)` of a level (0 for neutral levels and
    /// levels of another field).
    pub fn level_weight(&self, field: Field, level: Level) -> f64 {
        match (self.m(field, level), self.u(field, level)) {
            (Some(m), Some(u)) => ln_ratio(m, u) / std::f64::consts::LN_2,
            _ => 0.0,
        }
    }

    /// The prior match probability for pairs a rule finds ([`PriorMode::PerRule`]).
    pub fn prior(&self, rule: BlockingRule) -> Option<f64> {
        self.priors
            .iter()
            .find(|(r, _)| *r == rule)
            .map(|(_, p)| *p)
    }

    /// The prior over all record pairs ([`PriorMode::Global`]).
    pub fn global_prior(&self) -> f64 {
        self.global_prior
    }

    /// How the prior is set.
    pub fn mode(&self) -> PriorMode {
        self.mode
    }

    /// Switches the prior mode (both priors are estimated by training).
    #[must_use]
    pub fn with_mode(mut self, mode: PriorMode) -> Model {
        self.mode = mode;
        self
    }

    /// Sets the fields that get term-frequency adjustments (name parts and city).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a field that has no
    /// frequency table (identifiers, birth date).
    pub fn with_tf_fields(mut self, fields: impl IntoIterator<Item = Field>) -> Result<Model> {
        let fields: Vec<Field> = fields.into_iter().collect();
        if fields.iter().any(|f| tf_role(*f).is_none()) {
            return Err(Error::config(
                "tf_fields",
                "only name parts and city have frequencies",
            ));
        }
        self.tf_fields = fields;
        Ok(self)
    }

    /// Sets m from labelled true matches (each level's share among them,
    /// lightly smoothed), leaving u and the priors as they are.
    ///
    /// # Example
    /// ```
    /// use idstitch::{Comparator, CompareConfig, Dataset, Field, GenericValues, Level, Model, NameLevel, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "crm").first_name("Анна").birth_date("01.02.1990"),
    ///     Record::new("2", "web").first_name("Anna").birth_date("1990-02-01"),
    /// ])?;
    /// let generic = GenericValues::default();
    /// let cmp = Comparator::new(&ds, &generic, CompareConfig::new())?;
    /// let mut model = Model::default();
    /// model.fit_labels(&cmp, &[(0, 1)]);
    /// assert!(model.m(Field::FirstName, Level::Name(NameLevel::Translit)).unwrap() > 0.5);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn fit_labels(&mut self, cmp: &Comparator<'_>, matches: &[(RecordIx, RecordIx)]) {
        let mut counts = [[0.0f64; LEVEL_CODES]; FIELDS];
        for &(a, b) in matches {
            let v = cmp.compare(a, b);
            for f in Field::ALL {
                let l = v.level(f);
                if !l.is_neutral() {
                    counts[f as usize][usize::from(l.code())] += 1.0;
                }
            }
        }
        for f in Field::ALL {
            let trainable: Vec<usize> = trainable_codes(f).collect();
            let total: f64 = trainable.iter().map(|&c| counts[f as usize][c]).sum();
            if total == 0.0 {
                continue;
            }
            let smooth = 0.1;
            let denom = total + smooth * trainable.len() as f64;
            for c in trainable {
                self.m[f as usize][c] = (counts[f as usize][c] + smooth) / denom;
            }
        }
    }

    /// Scores every candidate pair in parallel; the result is in candidate
    /// order and identical whatever the thread count.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the model has no
    /// prior for one of the candidates' rules.
    ///
    /// # Example
    /// ```
    /// use idstitch::{BlockingConfig, Candidates, Comparator, CompareConfig, Dataset, Model, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "telegram").phone("+7 912 345-67-89"),
    ///     Record::new("2", "crm").phone("8 912 345 67 89").first_name("Ольга"),
    /// ])?;
    /// let c = Candidates::find(&ds, &BlockingConfig::new())?;
    /// let cmp = Comparator::new(&ds, c.generic(), CompareConfig::new())?;
    /// let model = Model::default();
    /// let scored = model.score(&cmp, &c)?;
    /// assert_eq!(scored.len(), 1);
    /// // Untrained, a shared phone and nothing against it scores the rule's
    /// // default prior; training learns how trustworthy a shared phone is.
    /// assert!((scored[0].probability - 0.9).abs() < 1e-6);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn score(&self, cmp: &Comparator<'_>, candidates: &Candidates) -> Result<Vec<ScoredPair>> {
        self.score_pairs(cmp, candidates.rules(), candidates.pairs())
    }

    /// Scores pairs produced elsewhere (another blocker, a distributed
    /// engine's partition), each tagged with its index in `rules` — the
    /// rules in the priority order that credited pairs. Parallel; the result
    /// is in input order and identical whatever the thread count.
    ///
    /// # Errors
    /// As [`Model::score`].
    ///
    /// # Example
    /// ```
    /// use idstitch::{BlockingRule, CandidatePair, Comparator, CompareConfig, Dataset, GenericValues, Model, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "email").email("anna@mail.ru"),
    ///     Record::new("2", "web").email("Anna@Mail.ru").birth_date("01.02.1990"),
    /// ])?;
    /// let generic = GenericValues::default();
    /// let cmp = Comparator::new(&ds, &generic, CompareConfig::new())?;
    /// let pairs = [CandidatePair { a: 0, b: 1, rule: 0 }];
    /// let scored = Model::default().score_pairs(&cmp, &[BlockingRule::Email], &pairs)?;
    /// assert!(scored[0].probability > 0.85);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn score_pairs(
        &self,
        cmp: &Comparator<'_>,
        rules: &[BlockingRule],
        pairs: &[CandidatePair],
    ) -> Result<Vec<ScoredPair>> {
        let scorer = Scorer::new(self, cmp, rules)?;
        Ok(pairs
            .par_iter()
            .with_min_len(4096)
            .map(|p| scorer.score(p))
            .collect())
    }

    /// As [`Model::score_pairs`], from comparisons computed already
    /// ([`Comparator::compare_pairs`]): `vectors[i]` compares `pairs[i]`.
    ///
    /// # Errors
    /// As [`Model::score`]; [`ErrorKind::Config`](crate::ErrorKind::Config)
    /// when the lengths differ.
    ///
    /// # Example
    /// ```
    /// use idstitch::{BlockingConfig, Candidates, Comparator, CompareConfig, Dataset, Model, Record, TrainConfig};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "crm").first_name("Анна").phone("+79123456789"),
    ///     Record::new("2", "app").first_name("Anna").phone("89123456789"),
    /// ])?;
    /// let c = Candidates::find(&ds, &BlockingConfig::new())?;
    /// let cmp = Comparator::new(&ds, c.generic(), CompareConfig::new())?;
    /// let vectors = cmp.compare_pairs(c.pairs());
    /// let (model, _) = Model::train_with_vectors(&cmp, &c, &vectors, &TrainConfig::new())?;
    /// let once = model.score_vectors(&cmp, c.rules(), c.pairs(), &vectors)?;
    /// assert_eq!(once, model.score(&cmp, &c)?);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn score_vectors(
        &self,
        cmp: &Comparator<'_>,
        rules: &[BlockingRule],
        pairs: &[CandidatePair],
        vectors: &[ComparisonVector],
    ) -> Result<Vec<ScoredPair>> {
        if pairs.len() != vectors.len() {
            return Err(Error::config(
                "vectors",
                "must hold one comparison per candidate pair",
            ));
        }
        let scorer = Scorer::new(self, cmp, rules)?;
        Ok(pairs
            .par_iter()
            .zip(vectors)
            .with_min_len(4096)
            .map(|(p, v)| scorer.score_vector(p, v))
            .collect())
    }

    /// Scores one pair of records as if `rule` had found it (the arguments
    /// may come in either order: scores are symmetric).
    ///
    /// # Errors
    /// As [`Model::score`].
    pub fn score_records(
        &self,
        cmp: &Comparator<'_>,
        a: RecordIx,
        b: RecordIx,
        rule: BlockingRule,
    ) -> Result<ScoredPair> {
        let scorer = Scorer::new(self, cmp, &[rule])?;
        Ok(scorer.score(&CandidatePair { a, b, rule: 0 }))
    }

    /// The full explanation of a candidate pair's score, in the context it
    /// was scored in: the prior and every field's contribution, summing to
    /// the weight [`Model::score`] gave it.
    ///
    /// # Errors
    /// As [`Model::score`], and [`ErrorKind::RecordIndex`](crate::ErrorKind::RecordIndex)
    /// for an index out of range.
    ///
    /// # Example
    /// ```
    /// use idstitch::{BlockingConfig, Candidates, Comparator, CompareConfig, Dataset, Model, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "crm").phone("+79123456789").first_name("Ольга").birth_date("1990-05-01"),
    ///     Record::new("2", "pos").phone("89123456789").first_name("Olga"),
    /// ])?;
    /// let c = Candidates::find(&ds, &BlockingConfig::new())?;
    /// let cmp = Comparator::new(&ds, c.generic(), CompareConfig::new())?;
    /// let model = Model::default();
    /// let e = model.explain(&cmp, &c, &c.pairs()[0])?;
    /// let total: f64 = e.prior_weight + e.contributions.iter().map(|c| c.weight).sum::<f64>();
    /// assert!((total - e.weight).abs() < 1e-9);
    /// assert!((e.weight as f32 - model.score(&cmp, &c)?[0].weight).abs() < 1e-4);
    /// let json = serde_json::to_string(&e).unwrap();
    /// assert!(json.contains("\"field\":\"first_name\""));
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn explain(
        &self,
        cmp: &Comparator<'_>,
        candidates: &Candidates,
        pair: &CandidatePair,
    ) -> Result<Explanation> {
        self.explain_in(
            cmp,
            candidates.rules(),
            usize::from(pair.rule),
            pair.a,
            pair.b,
        )
    }

    /// Explains a pair of records as if `rule` had found it (first).
    ///
    /// # Errors
    /// As [`Model::explain`].
    pub fn explain_records(
        &self,
        cmp: &Comparator<'_>,
        a: RecordIx,
        b: RecordIx,
        rule: BlockingRule,
    ) -> Result<Explanation> {
        self.explain_in(cmp, &[rule], 0, a, b)
    }

    fn explain_in(
        &self,
        cmp: &Comparator<'_>,
        rules: &[BlockingRule],
        rule_ix: usize,
        a: RecordIx,
        b: RecordIx,
    ) -> Result<Explanation> {
        let ds = cmp.dataset();
        let ida = ds.record(a)?.id().clone();
        let idb = ds.record(b)?.id().clone();
        let rule = *rules.get(rule_ix).ok_or_else(|| {
            Error::config("rule", "the pair's rule index is not in the rule list")
        })?;
        let scorer = Scorer::new(self, cmp, rules)?;
        let v = cmp.compare(a, b);
        let table = &scorer.rules[rule_ix];
        let mut contributions = Vec::with_capacity(FIELDS);
        let mut weight = table.prior_weight;
        for f in Field::ALL {
            let level = v.level(f);
            let bit = 1u16 << f as u16;
            let (conditioned, not_exact) =
                (table.conditioned & bit != 0, table.not_exact & bit != 0);
            let (base, tf) = scorer.field_weight(
                a.min(b),
                f,
                level.code(),
                conditioned,
                not_exact.then_some(&table.ne),
            );
            let w = base + tf;
            weight += w;
            contributions.push(Contribution {
                field: f,
                level,
                m: self.m(f, level),
                u: self.u(f, level),
                conditioned,
                not_exact: not_exact && !level.is_exact(),
                tf_adjustment: tf,
                weight: w,
            });
        }
        Ok(Explanation {
            a: ida,
            b: idb,
            rule,
            prior_weight: table.prior_weight,
            contributions,
            weight,
            probability: probability(weight),
        })
    }
}

/// One scored candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoredPair {
    /// The lower record index.
    pub a: RecordIx,
    /// The higher record index.
    pub b: RecordIx,
    /// Index of the rule that found the pair (see [`Candidates::rules`]).
    pub rule: u8,
    /// The match weight, log2 of the posterior odds.
    pub weight: f32,
    /// The match probability.
    pub probability: f32,
}

/// Why a pair scored what it did: the prior and each field's weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The first record.
    pub a: RecordId,
    /// The second record.
    pub b: RecordId,
    /// The rule the pair is scored under.
    pub rule: BlockingRule,
    /// log2 prior odds.
    pub prior_weight: f64,
    /// One entry per field, in [`Field::ALL`] order.
    pub contributions: Vec<Contribution>,
    /// Total weight: the prior plus every contribution.
    pub weight: f64,
    /// The match probability.
    pub probability: f64,
}

/// One field's part in an [`Explanation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The field.
    pub field: Field,
    /// Its comparison level.
    pub level: Level,
    /// P(level | match), for non-neutral levels.
    pub m: Option<f64>,
    /// P(level | non-match), for non-neutral levels.
    pub u: Option<f64>,
    /// Whether the rule implies this field (its m/u weight is in the prior).
    pub conditioned: bool,
    /// Whether an earlier rule's not finding the pair implies this field does
    /// not agree exactly: its m and u are then renormalised over the other
    /// levels (a shared phone would have made it a phone-rule pair).
    pub not_exact: bool,
    /// The term-frequency adjustment included in `weight`.
    pub tf_adjustment: f64,
    /// The weight this field adds (log2).
    pub weight: f64,
}

pub(crate) fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// `ln(a / b)`, finite for any probabilities (zeros are floored).
pub(crate) fn ln_ratio(a: f64, b: f64) -> f64 {
    a.max(1e-12).ln() - b.max(1e-12).ln()
}

/// Level codes that carry evidence in a field.
pub(crate) fn trainable_codes(f: Field) -> impl Iterator<Item = usize> {
    f.levels()
        .iter()
        .filter(|l| !l.is_neutral())
        .map(|l| usize::from(l.code()))
}

fn tf_role(f: Field) -> Option<Option<NameRole>> {
    match f {
        Field::FirstName => Some(Some(NameRole::First)),
        Field::MiddleName => Some(Some(NameRole::Middle)),
        Field::Surname => Some(Some(NameRole::Surname)),
        Field::City => Some(None),
        _ => None,
    }
}

struct RuleTable {
    prior_weight: f64,
    conditioned: u16,
    not_exact: u16,
    /// Weights (bits) of the not-exact fields' levels for this rule's pairs.
    ne: [[f64; LEVEL_CODES]; FIELDS],
}

/// Even odds, nothing conditioned: for a rule index the scorer does not know.
const NO_RULE: RuleTable = RuleTable {
    prior_weight: 0.0,
    conditioned: 0,
    not_exact: 0,
    ne: [[0.0; LEVEL_CODES]; FIELDS],
};

/// For the pairs credited to `rules[i]`: the fields the rule implies, and the
/// fields that cannot agree exactly because an earlier shared-value rule did
/// not find the pair.
pub(crate) fn rule_masks(rules: &[BlockingRule], i: usize) -> (u16, u16) {
    let bits = |r: &BlockingRule| {
        r.conditioned_fields()
            .iter()
            .fold(0u16, |m, f| m | 1 << *f as u16)
    };
    let conditioned = rules.get(i).map_or(0, bits);
    let not_exact = rules[..i.min(rules.len())]
        .iter()
        .filter(|r| r.kind().is_some())
        .fold(0u16, |m, r| m | bits(r));
    (conditioned, not_exact & !conditioned)
}

/// `ln(m/u)` of a level given that the field does not agree exactly.
/// `P(level | same person, not exact)` for a field from its `m` and
/// presence (the default when no rule-specific value was learnt): missing
/// `(1 − p) / (1 − p·m₁)`, a non-exact level `p·m_c / (1 − p·m₁)`. The same
/// formula over `u` gives the non-matches' side.
pub(crate) fn not_exact_m(m: &[f64; LEVEL_CODES], presence: f64, f: Field) -> [f64; LEVEL_CODES] {
    let p = presence.clamp(0.0, 1.0);
    let denom = (1.0 - p * m[1]).max(1e-12);
    let mut out = [0.0; LEVEL_CODES];
    out[0] = (1.0 - p) / denom;
    for c in trainable_codes(f).filter(|&c| c != 1) {
        out[c] = p * m[c] / denom;
    }
    out
}

/// `ln(m'/u')` of level `c` of a not-exact field: the rule's learnt `m'`
/// when there is one, else [`ln_ratio_not_exact`].
pub(crate) fn not_exact_weight(
    model: &Model,
    learnt: Option<&[f64; LEVEL_CODES]>,
    f: Field,
    c: usize,
) -> f64 {
    let fi = f as usize;
    let p = model.presence[fi];
    match learnt {
        Some(mp) if c != 1 => {
            if c == 0 && p >= 1.0 {
                return 0.0;
            }
            let up = not_exact_m(&model.u[fi], p, f);
            ln_ratio(mp[c], up[c])
        }
        _ => ln_ratio_not_exact(&model.m[fi], &model.u[fi], p, c),
    }
}

/// The log-likelihood ratio of level `c` for a field known not to agree
/// exactly (an earlier shared-value rule would have found the pair), where
/// both records hold the field with probability `presence` whatever the
/// truth: `P(c | not exact) = P(c) / (1 − presence · P(exact | present))`.
///
/// So a missing field (`c` = 0) is mild evidence *for* a match — it explains
/// why the identifier rule did not find the pair — and two different values
/// are strong evidence against one, as strong as they are rare among
/// matches. With `presence` = 1 (an untrained model) missing carries no
/// weight.
pub(crate) fn ln_ratio_not_exact(
    m: &[f64; LEVEL_CODES],
    u: &[f64; LEVEL_CODES],
    presence: f64,
    c: usize,
) -> f64 {
    let p = presence.clamp(0.0, 1.0);
    let not_exact = ln_ratio(1.0 - p * m[1], 1.0 - p * u[1]);
    if c == 0 {
        if p >= 1.0 { 0.0 } else { -not_exact }
    } else {
        ln_ratio(m[c], u[c]) - not_exact
    }
}

struct TfTable {
    /// `-log2(max(tf, tf_min))` per key ID.
    neg_log2_tf: Vec<f32>,
    /// `log2(Σ tf²)`: the chance two random records agree on this field's
    /// key, so a value of average frequency gets no adjustment.
    log2_agree: f64,
    role: Option<NameRole>,
}

/// Precomputed weights for the hot loop.
struct Scorer<'a> {
    cmp: Comparator<'a>,
    weights: [[f64; LEVEL_CODES]; FIELDS],
    rules: Vec<RuleTable>,
    tf: [Option<TfTable>; FIELDS],
}

impl<'a> Scorer<'a> {
    fn new(model: &Model, cmp: &Comparator<'a>, rules: &[BlockingRule]) -> Result<Scorer<'a>> {
        let mut weights = [[0.0; LEVEL_CODES]; FIELDS];
        for f in Field::ALL {
            let (m, u) = (&model.m[f as usize], &model.u[f as usize]);
            for c in trainable_codes(f) {
                weights[f as usize][c] = ln_ratio(m[c], u[c]) / std::f64::consts::LN_2;
            }
        }
        let ne_for = |rule: BlockingRule, bits: u16| {
            let mut ne = [[0.0; LEVEL_CODES]; FIELDS];
            for f in Field::ALL {
                if bits & (1 << f as u16) == 0 {
                    continue;
                }
                let learnt = model
                    .not_exact_m
                    .iter()
                    .find(|(r, g, _)| *r == rule && *g == f)
                    .map(|(_, _, m)| m);
                for c in std::iter::once(0).chain(trainable_codes(f)) {
                    ne[f as usize][c] = if c == 1 {
                        weights[f as usize][c]
                    } else {
                        not_exact_weight(model, learnt, f, c) / std::f64::consts::LN_2
                    };
                }
            }
            ne
        };
        let rule_list = rules;
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, &r)| match model.mode {
                PriorMode::PerRule => {
                    let p = model.prior(r).ok_or_else(|| {
                        Error::config(
                            "rules",
                            format!("the model has no prior for rule {}", r.as_str()),
                        )
                    })?;
                    let (conditioned, not_exact) = rule_masks(rule_list, i);
                    Ok(RuleTable {
                        prior_weight: ln_ratio(p, 1.0 - p) / std::f64::consts::LN_2,
                        conditioned,
                        not_exact,
                        ne: ne_for(r, not_exact),
                    })
                }
                PriorMode::Global => Ok(RuleTable {
                    prior_weight: ln_ratio(model.global_prior, 1.0 - model.global_prior)
                        / std::f64::consts::LN_2,
                    conditioned: 0,
                    not_exact: 0,
                    ne: [[0.0; LEVEL_CODES]; FIELDS],
                }),
            })
            .collect::<Result<Vec<_>>>()?;
        let ds = cmp.dataset();
        let mut tf: [Option<TfTable>; FIELDS] = Default::default();
        for &f in &model.tf_fields {
            let Some(role) = tf_role(f) else { continue };
            let freq = frequencies::key_counts(ds, role);
            let neg_log2 = |count: u32, total: f64| -> f32 {
                -((f64::from(count) / total).max(model.tf_min).log2()) as f32
            };
            let frozen = model
                .frequencies
                .as_ref()
                .and_then(|all| all.iter().find(|ff| ff.field == f));
            let (neg_log2_tf, agree) = match frozen {
                Some(ff) => {
                    let lookup = |k: usize| {
                        frequencies::key_text(ds, role, k as u32)
                            .and_then(|t| ff.counts.get(t).copied())
                            .unwrap_or(0)
                            .max(1)
                    };
                    let tfs = (0..freq.len()).map(|k| neg_log2(lookup(k), ff.total));
                    (tfs.collect(), ff.agree)
                }
                None => {
                    let (total, agree) = frequencies::totals(freq.iter().copied());
                    (freq.iter().map(|&c| neg_log2(c, total)).collect(), agree)
                }
            };
            tf[f as usize] = Some(TfTable {
                neg_log2_tf,
                log2_agree: agree.max(model.tf_min).log2(),
                role,
            });
        }
        Ok(Scorer {
            cmp: *cmp,
            weights,
            rules,
            tf,
        })
    }

    /// A field's (m/u weight, term-frequency adjustment) for record `a`'s value.
    #[inline]
    fn field_weight(
        &self,
        a: RecordIx,
        f: Field,
        code: u8,
        conditioned: bool,
        not_exact: Option<&[[f64; LEVEL_CODES]; FIELDS]>,
    ) -> (f64, f64) {
        let (fi, c) = (f as usize, usize::from(code));
        let base = if conditioned {
            0.0
        } else if let Some(ne) = not_exact {
            ne[fi][c]
        } else {
            self.weights[fi][c]
        };
        let mut tf = 0.0;
        if let Some(t) = &self.tf[fi] {
            // Exact and same-key agreement (codes 1 and 2 for names, 1 for city).
            let agrees = c == 1 || (c == 2 && t.role.is_some());
            if agrees {
                let row = &self.cmp.ds.rows[a as usize];
                let key = match t.role {
                    Some(r) => self
                        .cmp
                        .ds
                        .name_info
                        .get(row.names[r as usize] as usize)
                        .map_or(NONE, |e| e.key),
                    None => row.city,
                };
                if let Some(&n) = t.neg_log2_tf.get(key as usize) {
                    tf = t.log2_agree + f64::from(n);
                }
            }
        }
        // Agreement is never evidence against a match.
        if !conditioned && self.weights[fi][c] > 0.0 && base + tf < 0.0 {
            tf = -base;
        }
        (base, tf)
    }

    #[inline]
    fn vector_weight(&self, a: RecordIx, v: &ComparisonVector, table: &RuleTable) -> f64 {
        let mut w = table.prior_weight;
        for f in Field::ALL {
            let code = v.code(f as usize);
            let bit = 1u16 << f as u16;
            if code == 0 && table.not_exact & bit == 0 {
                continue;
            }
            let (base, tf) = self.field_weight(
                a,
                f,
                code,
                table.conditioned & bit != 0,
                (table.not_exact & bit != 0).then_some(&table.ne),
            );
            w += base + tf;
        }
        w
    }

    fn score(&self, p: &CandidatePair) -> ScoredPair {
        self.score_vector(p, &self.cmp.compare(p.a, p.b))
    }

    fn score_vector(&self, p: &CandidatePair, v: &ComparisonVector) -> ScoredPair {
        let table = self.rules.get(p.rule as usize).unwrap_or(&NO_RULE);
        let w = self.vector_weight(p.a.min(p.b), v, table);
        ScoredPair {
            a: p.a.min(p.b),
            b: p.a.max(p.b),
            rule: p.rule,
            weight: w as f32,
            probability: probability(w) as f32,
        }
    }
}

#[cfg(test)]
mod tests;

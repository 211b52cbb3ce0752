//! The whole pipeline in one call: records → dataset → candidates → model →
//! scored pairs → identities.

use crate::block::{BlockingConfig, BlockingRule, Candidates};
use crate::cluster::{ClusterConfig, Clusters};
use crate::compare::{Comparator, CompareConfig};
use crate::error::Result;
use crate::record::{Dataset, DatasetBuilder, Record, RecordId};
use crate::score::{Explanation, Model, ScoredPair, TrainConfig, TrainReport};

use super::{GoldenProfile, ProfileConfig};

/// Settings of every stage, for [`Resolver::resolve`].
///
/// # Example
/// ```
/// use idstitch::{BlockingConfig, ClusterConfig, Record, Resolver};
///
/// let resolver = Resolver::new()
///     .blocking(BlockingConfig::new().max_block_size(30))
///     .cluster(ClusterConfig::new().threshold(0.8));
/// let run = resolver.resolve(vec![
///     Record::new("tg:1", "telegram").phone("+7 912 345-67-89").first_name("Саша"),
///     Record::new("crm:7", "crm").phone("8 (912) 345-67-89").first_name("Александр"),
///     Record::new("web:3", "web").email("olga@mail.ru"),
/// ])?;
/// let labels = run.labels_in_input_order();
/// assert_eq!(labels[0], labels[1]);
/// assert_ne!(labels[0], labels[2]);
/// let why = run.explain(&"tg:1".into(), &"crm:7".into())?.expect("a candidate pair");
/// assert!(why.probability > 0.8);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Resolver {
    dataset: DatasetBuilder,
    blocking: BlockingConfig,
    compare: CompareConfig,
    train: TrainConfig,
    cluster: ClusterConfig,
    profile: ProfileConfig,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver {
            dataset: DatasetBuilder::new(),
            blocking: BlockingConfig::new(),
            compare: CompareConfig::new(),
            train: TrainConfig::new(),
            cluster: ClusterConfig::new(),
            profile: ProfileConfig::new(),
        }
    }
}

impl Resolver {
    /// Every stage at its defaults.
    pub fn new() -> Resolver {
        Resolver::default()
    }

    /// Normalisation settings (default region, loyalty scheme, date order…).
    #[must_use]
    pub fn dataset(mut self, cfg: DatasetBuilder) -> Resolver {
        self.dataset = cfg;
        self
    }

    /// Blocking settings.
    #[must_use]
    pub fn blocking(mut self, cfg: BlockingConfig) -> Resolver {
        self.blocking = cfg;
        self
    }

    /// Comparison thresholds.
    #[must_use]
    pub fn compare(mut self, cfg: CompareConfig) -> Resolver {
        self.compare = cfg;
        self
    }

    /// Training settings.
    #[must_use]
    pub fn train(mut self, cfg: TrainConfig) -> Resolver {
        self.train = cfg;
        self
    }

    /// Clustering settings.
    #[must_use]
    pub fn cluster(mut self, cfg: ClusterConfig) -> Resolver {
        self.cluster = cfg;
        self
    }

    /// Survivorship settings for [`Resolution::profiles`].
    #[must_use]
    pub fn profile(mut self, cfg: ProfileConfig) -> Resolver {
        self.profile = cfg;
        self
    }

    /// The same settings with `keys` added to the suppression list
    /// ([`DatasetBuilder::suppress`]).
    #[must_use]
    pub fn suppressing(&self, keys: impl IntoIterator<Item = [u8; 32]>) -> Resolver {
        let mut r = self.clone();
        r.dataset = r.dataset.suppress(keys);
        r
    }

    /// The blocking rules, in the order rule indices
    /// ([`CandidatePair::rule`](crate::CandidatePair::rule),
    /// [`RecordKey::rule`](crate::RecordKey::rule)) refer to.
    ///
    /// # Example
    /// ```
    /// use idstitch::{BlockingRule, Resolver};
    ///
    /// assert_eq!(Resolver::new().blocking_rules(), BlockingRule::DEFAULT);
    /// ```
    pub fn blocking_rules(&self) -> &[BlockingRule] {
        self.blocking.get_rules()
    }

    pub(crate) fn dataset_builder(&self) -> &DatasetBuilder {
        &self.dataset
    }

    /// The blocking settings.
    ///
    /// # Example
    /// ```
    /// use idstitch::{BlockingConfig, Resolver};
    ///
    /// let r = Resolver::new().blocking(BlockingConfig::new().window(4));
    /// assert_eq!(r.blocking_config().block_bounds(false), (50, 4));
    /// ```
    pub fn blocking_config(&self) -> &BlockingConfig {
        &self.blocking
    }

    pub(crate) fn compare_config(&self) -> CompareConfig {
        self.compare
    }

    pub(crate) fn cluster_config(&self) -> &ClusterConfig {
        &self.cluster
    }

    /// Resolves `records`, training a model on them (u from random pairs,
    /// m and priors by EM).
    ///
    /// # Errors
    /// Any stage's error: duplicate record IDs, settings out of range, too
    /// many records or values.
    pub fn resolve(&self, records: Vec<Record>) -> Result<Resolution> {
        self.run(records, None)
    }

    /// Resolves `records` with a model trained before (saved with
    /// [`Model::to_json`]): no training, the same weights for every batch.
    ///
    /// # Errors
    /// As [`Resolver::resolve`], and a model that lacks a prior for one of
    /// the blocking rules.
    pub fn resolve_with(&self, records: Vec<Record>, model: &Model) -> Result<Resolution> {
        self.run(records, Some(model))
    }

    fn run(&self, records: Vec<Record>, model: Option<&Model>) -> Result<Resolution> {
        // On a thread of the pool, each stage's parallel steps fork and join
        // in place instead of being handed to the pool one by one while the
        // caller's thread sleeps (the `dedup` binary: 3 % of a 99k run).
        rayon::scope(|_| self.stages(records, model))
    }

    fn stages(&self, records: Vec<Record>, model: Option<&Model>) -> Result<Resolution> {
        let dataset = self.dataset.build(records)?;
        let candidates = Candidates::find(&dataset, &self.blocking)?;
        let cmp = Comparator::new(&dataset, candidates.generic(), self.compare)?;
        // Each pair is compared once, for training and scoring both.
        let vectors = cmp.compare_pairs(candidates.pairs());
        let (model, report) = match model {
            Some(m) => (m.clone(), None),
            None => {
                let (m, r) = Model::train_with_vectors(&cmp, &candidates, &vectors, &self.train)?;
                (m, Some(r))
            }
        };
        let scored = model.score_vectors(&cmp, candidates.rules(), candidates.pairs(), &vectors)?;
        drop(vectors);
        let clusters = Clusters::build(
            &dataset,
            &scored,
            candidates.rules(),
            candidates.generic(),
            &self.cluster,
        )?;
        Ok(Resolution {
            dataset,
            candidates,
            compare: self.compare,
            model,
            report,
            scored,
            clusters,
            profile: self.profile.clone(),
        })
    }
}

/// The outcome of [`Resolver::resolve`]: every stage's result, kept for
/// explanations and profiles.
#[derive(Debug)]
pub struct Resolution {
    dataset: Dataset,
    candidates: Candidates,
    compare: CompareConfig,
    model: Model,
    report: Option<TrainReport>,
    scored: Vec<ScoredPair>,
    clusters: Clusters,
    profile: ProfileConfig,
}

impl Resolution {
    /// The normalised records.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The candidate pairs and generic values.
    pub fn candidates(&self) -> &Candidates {
        &self.candidates
    }

    /// The model used (trained on these records, or given).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// What training did (`None` when a model was given).
    pub fn report(&self) -> Option<&TrainReport> {
        self.report.as_ref()
    }

    /// Every scored candidate pair.
    pub fn scored(&self) -> &[ScoredPair] {
        &self.scored
    }

    /// The identities.
    pub fn clusters(&self) -> &Clusters {
        &self.clusters
    }

    /// The identity of each record, in the order the records were given.
    pub fn labels_in_input_order(&self) -> Vec<u32> {
        let labels = self.clusters.labels();
        self.dataset
            .input_order()
            .iter()
            .map(|&ix| labels[ix as usize])
            .collect()
    }

    /// Why two records were (or were not) linked: the prior and every
    /// field's contribution, as scored. `None` when no blocking rule found
    /// the pair, so the records were never compared.
    ///
    /// # Errors
    /// [`ErrorKind::UnknownRecord`](crate::ErrorKind::UnknownRecord) for an
    /// ID not in the dataset.
    pub fn explain(&self, a: &RecordId, b: &RecordId) -> Result<Option<Explanation>> {
        let find = |id: &RecordId| -> Result<u32> {
            self.dataset
                .index_of(id)
                .ok_or_else(|| crate::ErrorKind::UnknownRecord { id: id.clone() }.into())
        };
        let (x, y) = (find(a)?, find(b)?);
        let (lo, hi) = (x.min(y), x.max(y));
        let pairs = self.candidates.pairs();
        let Ok(i) = pairs.binary_search_by(|p| (p.a, p.b).cmp(&(lo, hi))) else {
            return Ok(None);
        };
        let cmp = Comparator::new(&self.dataset, self.candidates.generic(), self.compare)?;
        self.model
            .explain(&cmp, &self.candidates, &pairs[i])
            .map(Some)
    }

    /// Every identity's golden profile, under the resolver's survivorship
    /// settings.
    ///
    /// # Errors
    /// None in practice (the clusters belong to this dataset).
    pub fn profiles(&self) -> Result<Vec<GoldenProfile>> {
        self.clusters.profiles(&self.dataset, &self.profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn never_compared_pairs_and_unknown_ids_are_told_apart() {
        let run = Resolver::new()
            .resolve(vec![
                Record::new("b", "web").email("olga@mail.ru"),
                Record::new("a", "crm").phone("+79123456789"),
                Record::new("c", "app").phone("89123456789"),
            ])
            .unwrap();
        assert_eq!(run.labels_in_input_order(), [1, 0, 0]);
        assert!(run.explain(&"a".into(), &"b".into()).unwrap().is_none());
        assert!(run.explain(&"c".into(), &"a".into()).unwrap().is_some());
        let err = run.explain(&"a".into(), &"zz".into()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::UnknownRecord { .. }));
        assert_eq!(run.profiles().unwrap().len(), 2);
        // A saved model gives the same result without training.
        let model = Model::from_json(&run.model().to_json()).unwrap();
        let again = Resolver::new()
            .resolve_with(
                vec![
                    Record::new("b", "web").email("olga@mail.ru"),
                    Record::new("a", "crm").phone("+79123456789"),
                    Record::new("c", "app").phone("89123456789"),
                ],
                &model,
            )
            .unwrap();
        assert!(again.report().is_none());
        assert_eq!(again.labels_in_input_order(), run.labels_in_input_order());
    }
}

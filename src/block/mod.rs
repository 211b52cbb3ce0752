//! Blocking: the candidate pairs worth comparing, with a hard bound on their
//! number.
//!
//! Each [`BlockingRule`] groups records by a key — a shared identifier value,
//! or a name-based key such as transliterated surname + birth date. Records
//! sharing a key form a block:
//!
//! - a block whose key is a [generic value](GenericValues) yields no pairs;
//! - a block of at most [`max_block_size`](BlockingConfig::max_block_size)
//!   records yields all its pairs;
//! - a larger block is sorted by name (alphabetical rank of the surname and
//!   first-name keys) and birth date and each record is paired with the next
//!   [`window`](BlockingConfig::window) records only (a sorted
//!   neighbourhood), which still chains one person's many records together;
//! - rules keyed on less than a whole name ([`BlockingRule::partial_name`])
//!   use tighter bounds of their own
//!   ([`partial_max_block_size`](BlockingConfig::partial_max_block_size) 8,
//!   [`partial_window`](BlockingConfig::partial_window) 3): at millions of
//!   records their blocks are strangers sharing a popular first name and
//!   birthday, whose pairs would otherwise grow with the square of the data.
//!
//! So a record yields at most `K = max(max_block_size − 1, 2 · window)` pairs
//! per key it holds, and a rule at most `n · V · K / 2` pairs over `n` records
//! holding `V` keys each (`V` ≤ [`DatasetBuilder::max_values_per_kind`](crate::DatasetBuilder::max_values_per_kind)),
//! whatever the data: 100,000 records sharing one junk value cost
//! `100,000 · window` pairs at most, or none once the value is generic. Every
//! pair skipped is counted in [`BlockingStats`]. A pair found by several rules
//! is kept once, tagged with the first rule that found it.

mod generic;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub(crate) use generic::{Evidence, judge_value, person_key, verdict};
pub use generic::{GenericConfig, GenericReason, GenericValue, GenericValues};

use crate::compare::Field;
use crate::error::{Error, Result};
use crate::normalize::IdKind;
use crate::record::{Dataset, ID_SLOTS, NONE, NameRole, RecordIx, slot};

/// A way of finding candidate pairs.
///
/// # Example
/// ```
/// use idstitch::BlockingRule;
///
/// assert_eq!("surname_birth_date".parse::<BlockingRule>()?, BlockingRule::SurnameBirthDate);
/// assert_eq!(BlockingRule::Phone.as_str(), "phone");
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockingRule {
    /// A shared canonical e-mail address.
    Email,
    /// A shared E.164 phone number.
    Phone,
    /// A shared loyalty card.
    Loyalty,
    /// A shared advertising/device ID.
    Device,
    /// A shared source-scoped customer ID.
    CustomerId,
    /// Same transliterated surname and birth date.
    SurnameBirthDate,
    /// Same first name (nickname-equivalent) and birth date: finds people
    /// whose surname changed.
    FirstNameBirthDate,
    /// Same first name (nickname-equivalent) and transliterated surname:
    /// finds records whose birth date or contacts disagree by a typo.
    FirstNameSurname,
    /// Same first name (nickname-equivalent), surname phonetic key and city.
    NamePhoneticCity,
    /// Same surname phonetic key and a number of the street address (house,
    /// flat or postcode): finds people whose names, dates and contacts all
    /// carry typos but who live at one address.
    SurnameAddress,
    /// Same birth date alone: for registries whose names and IDs all carry
    /// typos (FEBRL). Blocks grow with the data (windowed beyond
    /// `max_block_size`), so it is not a default rule.
    BirthDate,
}

impl BlockingRule {
    /// The default rule list, strongest first: every rule but
    /// [`FirstNameSurname`](BlockingRule::FirstNameSurname) and
    /// [`BirthDate`](BlockingRule::BirthDate), which on retail data with
    /// common names add more doubtful pairs than they find (opt in for
    /// registries such as FEBRL, where every field carries typos).
    pub const DEFAULT: [BlockingRule; 9] = [
        BlockingRule::CustomerId,
        BlockingRule::Device,
        BlockingRule::Phone,
        BlockingRule::Email,
        BlockingRule::Loyalty,
        BlockingRule::SurnameBirthDate,
        BlockingRule::FirstNameBirthDate,
        BlockingRule::NamePhoneticCity,
        BlockingRule::SurnameAddress,
    ];

    /// Every rule.
    pub const ALL: [BlockingRule; 11] = [
        BlockingRule::CustomerId,
        BlockingRule::Device,
        BlockingRule::Phone,
        BlockingRule::Email,
        BlockingRule::Loyalty,
        BlockingRule::SurnameBirthDate,
        BlockingRule::FirstNameBirthDate,
        BlockingRule::FirstNameSurname,
        BlockingRule::NamePhoneticCity,
        BlockingRule::SurnameAddress,
        BlockingRule::BirthDate,
    ];

    /// The stable snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            BlockingRule::Email => "email",
            BlockingRule::Phone => "phone",
            BlockingRule::Loyalty => "loyalty",
            BlockingRule::Device => "device",
            BlockingRule::CustomerId => "customer_id",
            BlockingRule::SurnameBirthDate => "surname_birth_date",
            BlockingRule::FirstNameBirthDate => "first_name_birth_date",
            BlockingRule::FirstNameSurname => "first_name_surname",
            BlockingRule::NamePhoneticCity => "name_phonetic_city",
            BlockingRule::SurnameAddress => "surname_address",
            BlockingRule::BirthDate => "birth_date",
        }
    }

    /// The identifier type a shared-value rule blocks on.
    pub const fn kind(self) -> Option<IdKind> {
        match self {
            BlockingRule::Email => Some(IdKind::Email),
            BlockingRule::Phone => Some(IdKind::Phone),
            BlockingRule::Loyalty => Some(IdKind::Loyalty),
            BlockingRule::Device => Some(IdKind::Device),
            BlockingRule::CustomerId => Some(IdKind::CustomerId),
            _ => None,
        }
    }

    /// Whether this rule is keyed on less than a whole name (first name +
    /// birth date, phonetic code + city, address number, birth date alone).
    /// At millions of records their blocks fill with strangers who share a
    /// popular first name and birthday, so blocks over
    /// [`BlockingConfig::partial_max_block_size`] are paired by a narrower
    /// window ([`BlockingConfig::partial_window`]). Rules keyed on a whole
    /// name (surname + birth date, first name + surname) and on identifiers
    /// keep the general bounds.
    ///
    /// # Example
    /// ```
    /// use idstitch::BlockingRule;
    ///
    /// assert!(BlockingRule::FirstNameBirthDate.partial_name());
    /// assert!(!BlockingRule::SurnameBirthDate.partial_name());
    /// assert!(!BlockingRule::Phone.partial_name());
    /// ```
    pub const fn partial_name(self) -> bool {
        matches!(
            self,
            BlockingRule::FirstNameBirthDate
                | BlockingRule::NamePhoneticCity
                | BlockingRule::SurnameAddress
                | BlockingRule::BirthDate
        )
    }

    /// The prior match probability assumed for this rule's pairs before
    /// training, and the value training shrinks towards when the pairs carry
    /// little other evidence: 0.9 for a shared identifier, 0.5 for name keys.
    pub const fn default_prior(self) -> f64 {
        if self.kind().is_some() { 0.9 } else { 0.5 }
    }

    /// The fields every pair this rule finds agrees on. Scoring conditions on
    /// them: their evidence is in the rule's prior, not counted again.
    pub const fn conditioned_fields(self) -> &'static [Field] {
        match self {
            BlockingRule::Email => &[Field::Email],
            BlockingRule::Phone => &[Field::Phone],
            BlockingRule::Loyalty => &[Field::Loyalty],
            BlockingRule::Device => &[Field::Device],
            BlockingRule::CustomerId => &[Field::CustomerId],
            BlockingRule::SurnameBirthDate => &[Field::Surname, Field::BirthDate],
            BlockingRule::FirstNameBirthDate => &[Field::FirstName, Field::BirthDate],
            BlockingRule::FirstNameSurname => &[Field::FirstName, Field::Surname],
            BlockingRule::NamePhoneticCity => &[Field::FirstName, Field::Surname, Field::City],
            BlockingRule::SurnameAddress => &[Field::Surname],
            BlockingRule::BirthDate => &[Field::BirthDate],
        }
    }
}

impl std::str::FromStr for BlockingRule {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        BlockingRule::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Error::unknown_name(
                    "blocking rule",
                    "email, phone, loyalty, device, customer_id, surname_birth_date, \
                 first_name_birth_date, first_name_surname, name_phonetic_city, surname_address, \
                 birth_date",
                )
            })
    }
}

/// Blocking settings.
///
/// # Example
/// ```
/// use idstitch::{BlockingConfig, BlockingRule};
///
/// let cfg = BlockingConfig::new()
///     .rules([BlockingRule::Phone, BlockingRule::Email])
///     .max_block_size(30)
///     .window(5);
/// assert_eq!(cfg.get_rules(), [BlockingRule::Phone, BlockingRule::Email]);
/// assert_eq!(cfg.pair_bound_per_key(), 29);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingConfig {
    rules: Vec<BlockingRule>,
    max_block_size: usize,
    window: usize,
    generic: GenericConfig,
    #[serde(default = "default_partial_max_block_size")]
    partial_max_block_size: usize,
    #[serde(default = "default_partial_window")]
    partial_window: usize,
}

fn default_partial_max_block_size() -> usize {
    BlockingConfig::default().partial_max_block_size
}

fn default_partial_window() -> usize {
    BlockingConfig::default().partial_window
}

impl Default for BlockingConfig {
    fn default() -> Self {
        BlockingConfig {
            rules: BlockingRule::DEFAULT.to_vec(),
            max_block_size: 50,
            window: 10,
            generic: GenericConfig::default(),
            partial_max_block_size: 8,
            partial_window: 3,
        }
    }
}

impl BlockingConfig {
    /// The default rules ([`BlockingRule::DEFAULT`]), blocks of up to 50 records in full,
    /// a window of 10 beyond, default [`GenericConfig`].
    pub fn new() -> BlockingConfig {
        BlockingConfig::default()
    }

    /// The rules, in priority order (a pair is credited to the first that finds it).
    #[must_use]
    pub fn rules(mut self, rules: impl IntoIterator<Item = BlockingRule>) -> BlockingConfig {
        self.rules = rules.into_iter().collect();
        self
    }

    /// Blocks up to this size yield all their pairs.
    #[must_use]
    pub fn max_block_size(mut self, n: usize) -> BlockingConfig {
        self.max_block_size = n;
        self
    }

    /// In larger blocks each record is paired with this many sorted neighbours.
    #[must_use]
    pub fn window(mut self, n: usize) -> BlockingConfig {
        self.window = n;
        self
    }

    /// Blocks of a [partial-name rule](BlockingRule::partial_name) up to
    /// this size yield all their pairs (default 8): every block of a
    /// registry of thousands, most of a million customers'.
    #[must_use]
    pub fn partial_max_block_size(mut self, n: usize) -> BlockingConfig {
        self.partial_max_block_size = n;
        self
    }

    /// In larger blocks of a partial-name rule each record is paired with
    /// this many sorted neighbours (default 3). Such blocks are mostly
    /// strangers: with the general window, their pairs grew with the square
    /// of the data (10M records: 45.2M candidate pairs instead of 24.6M, the
    /// same accuracy; `docs/PERFORMANCE.md`).
    #[must_use]
    pub fn partial_window(mut self, n: usize) -> BlockingConfig {
        self.partial_window = n;
        self
    }

    /// Generic-value thresholds.
    #[must_use]
    pub fn generic(mut self, generic: GenericConfig) -> BlockingConfig {
        self.generic = generic;
        self
    }

    /// The rules.
    pub fn get_rules(&self) -> &[BlockingRule] {
        &self.rules
    }

    /// `(largest block paired whole, window)` for a rule (`partial`: a
    /// partial-name rule's bounds). A block of at most that many records
    /// yields all its pairs; a larger one, each record with the next
    /// `window` in sorted-neighbourhood order.
    ///
    /// # Example
    /// ```
    /// use idstitch::BlockingConfig;
    ///
    /// assert_eq!(BlockingConfig::new().block_bounds(false), (50, 10));
    /// assert_eq!(BlockingConfig::new().block_bounds(true), (8, 3));
    /// ```
    pub fn block_bounds(&self, partial: bool) -> (usize, usize) {
        if partial {
            (self.partial_max_block_size, self.partial_window)
        } else {
            (self.max_block_size, self.window)
        }
    }

    /// The generic-value settings.
    pub fn generic_config(&self) -> &GenericConfig {
        &self.generic
    }

    /// `K`: the most pairs one record gets from one key it holds (the
    /// larger of the general and the partial-name bounds).
    pub fn pair_bound_per_key(&self) -> usize {
        let general = self.max_block_size.saturating_sub(1).max(2 * self.window);
        let partial = self
            .partial_max_block_size
            .saturating_sub(1)
            .max(2 * self.partial_window);
        general.max(partial)
    }

    fn validate(&self) -> Result<()> {
        if self.rules.is_empty() || self.rules.len() > 255 {
            return Err(Error::config("rules", "must hold 1 to 255 rules"));
        }
        let mut seen = self.rules.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != self.rules.len() {
            return Err(Error::config("rules", "a rule is listed twice"));
        }
        if !(2..=10_000).contains(&self.max_block_size) {
            return Err(Error::config("max_block_size", "must be in 2..=10000"));
        }
        if !(1..=1_000).contains(&self.window) {
            return Err(Error::config("window", "must be in 1..=1000"));
        }
        if !(2..=10_000).contains(&self.partial_max_block_size) {
            return Err(Error::config(
                "partial_max_block_size",
                "must be in 2..=10000",
            ));
        }
        if !(1..=1_000).contains(&self.partial_window) {
            return Err(Error::config("partial_window", "must be in 1..=1000"));
        }
        self.generic.validate()
    }
}

/// Two records to compare, and the first rule that found them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CandidatePair {
    /// The lower record index.
    pub a: RecordIx,
    /// The higher record index.
    pub b: RecordIx,
    /// Index of the rule in [`Candidates::rules`].
    pub rule: u8,
}

/// What one rule did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleStats {
    /// The rule.
    pub rule: Option<BlockingRule>,
    /// Keys shared by two or more records.
    pub blocks: u64,
    /// Records in the largest block.
    pub largest_block: u64,
    /// Blocks larger than `max_block_size`, paired by window.
    pub windowed_blocks: u64,
    /// Pairs the windows left out.
    pub pairs_skipped_by_window: u64,
    /// Blocks whose key is a generic value.
    pub generic_blocks: u64,
    /// Pairs left out because their only shared key was generic.
    pub pairs_skipped_generic: u64,
    /// Distinct pairs this rule found.
    pub pairs: u64,
    /// Of those, pairs no earlier rule had found.
    pub new_pairs: u64,
}

/// Run statistics for blocking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockingStats {
    /// Records blocked.
    pub records: u64,
    /// Per rule, in priority order.
    pub rules: Vec<RuleStats>,
    /// Distinct candidate pairs.
    pub pairs: u64,
    /// The documented per-key bound `K`.
    pub pair_bound_per_key: u64,
    /// Generic values found, by type.
    pub generic_values: std::collections::BTreeMap<IdKind, u64>,
}

/// The result of blocking: distinct candidate pairs sorted by `(a, b)`, the
/// generic values and the statistics.
///
/// # Example
/// ```
/// use idstitch::{BlockingConfig, BlockingRule, Candidates, Dataset, Record};
///
/// let ds = Dataset::build(vec![
///     Record::new("1", "web").email("anna@mail.ru").phone("+79123456789"),
///     Record::new("2", "app").phone("8 912 345-67-89"),
///     Record::new("3", "pos").email("anna@mail.ru").phone("89123456789"),
/// ])?;
/// let c = Candidates::find(&ds, &BlockingConfig::new())?;
/// assert_eq!(c.pairs().len(), 3);
/// assert!(c.pairs().iter().all(|p| c.rule(p) == Some(BlockingRule::Phone)));
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Candidates {
    rules: Vec<BlockingRule>,
    pairs: Vec<CandidatePair>,
    generic: GenericValues,
    stats: BlockingStats,
}

impl Candidates {
    /// Blocks a dataset.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for settings out of range.
    pub fn find(ds: &Dataset, cfg: &BlockingConfig) -> Result<Candidates> {
        cfg.validate()?;
        // The name keys' ranks need no index: found beside it.
        let ((index, generic), ranks) = rayon::join(
            || {
                let index: Vec<Inverted> = (0..ID_SLOTS.len())
                    .into_par_iter()
                    .map(|s| Inverted::build(ds, s))
                    .collect();
                let generic = GenericValues::detect_in(ds, &cfg.generic, &index);
                (index, generic)
            },
            || key_ranks(ds),
        );
        let mut stats = BlockingStats {
            records: ds.len() as u64,
            pair_bound_per_key: cfg.pair_bound_per_key() as u64,
            ..BlockingStats::default()
        };
        for g in generic.values() {
            *stats.generic_values.entry(g.kind).or_default() += 1;
        }
        // Every rule's pairs side by side (a small rule alone would leave a
        // core idle), then merged: a pair found by several rules keeps the
        // first of them.
        let found: Vec<(Vec<u64>, RuleStats)> = cfg
            .rules
            .par_iter()
            .map(|&rule| {
                let (found, mut rs) = match rule.kind().and_then(slot) {
                    Some(s) => block_values(ds, cfg, &ranks, &index[s], &generic, s),
                    None => block_keys(ds, cfg, &ranks, rule),
                };
                rs.rule = Some(rule);
                rs.pairs = found.len() as u64;
                (found, rs)
            })
            .collect();
        let mut lists = Vec::with_capacity(found.len());
        for (index_of_rule, (found, rs)) in found.into_iter().enumerate() {
            stats.rules.push(rs);
            // At most 255 rules (validated).
            lists.push((index_of_rule as u8, found));
        }
        let pairs = merge_first(lists);
        for p in &pairs {
            stats.rules[usize::from(p.rule)].new_pairs += 1;
        }
        stats.pairs = pairs.len() as u64;
        Ok(Candidates {
            rules: cfg.rules.clone(),
            pairs,
            generic,
            stats,
        })
    }

    /// Candidate pairs, sorted by `(a, b)`, each once.
    pub fn pairs(&self) -> &[CandidatePair] {
        &self.pairs
    }

    /// Moves the pairs out (leaving none), keeping the rules, generic values
    /// and statistics: once the pairs are scored, clustering needs only
    /// those, and at millions of records the list is hundreds of megabytes.
    ///
    /// # Example
    /// ```
    /// use idstitch::{BlockingConfig, Candidates, Dataset, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "web").email("anna@mail.ru"),
    ///     Record::new("2", "app").email("Anna@Mail.ru"),
    /// ])?;
    /// let mut c = Candidates::find(&ds, &BlockingConfig::new())?;
    /// assert_eq!(c.take_pairs().len(), 1);
    /// assert!(c.pairs().is_empty());
    /// assert_eq!(c.stats().pairs, 1);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn take_pairs(&mut self) -> Vec<CandidatePair> {
        std::mem::take(&mut self.pairs)
    }

    /// The rules, in the order [`CandidatePair::rule`] indexes.
    pub fn rules(&self) -> &[BlockingRule] {
        &self.rules
    }

    /// The rule that found a pair.
    pub fn rule(&self, pair: &CandidatePair) -> Option<BlockingRule> {
        self.rules.get(pair.rule as usize).copied()
    }

    /// The generic values found.
    pub fn generic(&self) -> &GenericValues {
        &self.generic
    }

    /// Run statistics.
    pub fn stats(&self) -> &BlockingStats {
        &self.stats
    }
}

/// Records per value of one identifier slot (values → record lists, CSR).
#[derive(Debug, Clone)]
pub(crate) struct Inverted {
    offsets: Vec<u32>,
    members: Vec<RecordIx>,
}

impl Inverted {
    pub(crate) fn build(ds: &Dataset, slot: usize) -> Inverted {
        let freq = &ds.value_freq[slot];
        let mut offsets = Vec::with_capacity(freq.len() + 1);
        let mut total = 0u32;
        offsets.push(0);
        for &f in freq {
            total += f;
            offsets.push(total);
        }
        let mut cursor: Vec<u32> = offsets[..freq.len()].to_vec();
        let mut members = vec![0; total as usize];
        for r in 0..ds.len() as u32 {
            for &v in ds.slot_values(r, slot) {
                let c = &mut cursor[v as usize];
                members[*c as usize] = r;
                *c += 1;
            }
        }
        Inverted { offsets, members }
    }

    pub(crate) fn values(&self) -> u32 {
        // One offset per value plus one; values are u32 IDs.
        (self.offsets.len() - 1) as u32
    }

    /// The records holding value `v`, ascending.
    pub(crate) fn members(&self, v: u32) -> &[RecordIx] {
        let (s, e) = (self.offsets[v as usize], self.offsets[v as usize + 1]);
        &self.members[s as usize..e as usize]
    }
}

fn block_values(
    ds: &Dataset,
    cfg: &BlockingConfig,
    ranks: &[u32],
    inv: &Inverted,
    generic: &GenericValues,
    slot: usize,
) -> (Vec<u64>, RuleStats) {
    let (mut pairs, stats) = (0..inv.values())
        .into_par_iter()
        .fold(
            || (Vec::new(), RuleStats::default()),
            |(mut out, mut st), v| {
                let m = inv.members(v);
                if m.len() >= 2 {
                    if generic.is_generic_slot(slot, v) {
                        st.generic_blocks += 1;
                        st.pairs_skipped_generic += all_pairs(m.len());
                        st.blocks += 1;
                        st.largest_block = st.largest_block.max(m.len() as u64);
                    } else {
                        let block = Block {
                            ds,
                            cfg,
                            ranks,
                            partial: false,
                        };
                        block.emit(m, &mut out, &mut st);
                    }
                }
                (out, st)
            },
        )
        .reduce(|| (Vec::new(), RuleStats::default()), merge);
    pairs.par_sort_unstable();
    pairs.dedup();
    (pairs, stats)
}

fn block_keys(
    ds: &Dataset,
    cfg: &BlockingConfig,
    ranks: &[u32],
    rule: BlockingRule,
) -> (Vec<u64>, RuleStats) {
    let block = Block {
        ds,
        cfg,
        ranks,
        partial: rule.partial_name(),
    };
    let mut keyed: Vec<(u64, RecordIx)> = (0..ds.len() as u32)
        .into_par_iter()
        .fold(Vec::new, |mut out, r| {
            rule_keys(ds, rule, r, |k| out.push((k, r)));
            out
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    keyed.par_sort_unstable();
    keyed.dedup();
    let mut starts: Vec<usize> = Vec::new();
    for i in 0..keyed.len() {
        if i == 0 || keyed[i].0 != keyed[i - 1].0 {
            starts.push(i);
        }
    }
    starts.push(keyed.len());
    let (mut pairs, stats) = starts
        .par_windows(2)
        .fold(
            || (Vec::new(), RuleStats::default(), Vec::new()),
            |(mut out, mut st, mut members), w| {
                if w[1] - w[0] >= 2 {
                    members.clear();
                    members.extend(keyed[w[0]..w[1]].iter().map(|&(_, r)| r));
                    block.emit(&members, &mut out, &mut st);
                }
                (out, st, members)
            },
        )
        .map(|(out, st, _)| (out, st))
        .reduce(|| (Vec::new(), RuleStats::default()), merge);
    pairs.par_sort_unstable();
    pairs.dedup();
    (pairs, stats)
}

/// One part of a name-based blocking key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeyPart<'a> {
    /// A name key ID (in `name_keys`), or a nickname group with the high bit set.
    Name(u32),
    /// A packed birth date.
    Dob(u32),
    /// A city ID.
    City(u32),
    /// An address token.
    Token(&'a str),
}

/// The name-based keys of one record under `rule`, as their parts (none
/// when a part is missing). Batch blocking hashes them ([`rule_keys`]); the
/// incremental store spells them out ([`rule_key_texts`]), so both group
/// records alike.
fn rule_parts(ds: &Dataset, rule: BlockingRule, r: RecordIx, mut emit: impl FnMut(&[KeyPart<'_>])) {
    use KeyPart::{City, Dob, Name, Token};
    let row = &ds.rows[r as usize];
    let entry = |role: NameRole| ds.name_info.get(row.names[role as usize] as usize);
    let first_keys = |emit: &mut dyn FnMut(u32)| {
        if let Some(e) = entry(NameRole::First) {
            e.first_name_keys().for_each(&mut *emit);
        }
    };
    match rule {
        BlockingRule::SurnameBirthDate => {
            if let Some(s) = entry(NameRole::Surname)
                && row.dob != NONE
            {
                emit(&[Name(s.key), Dob(row.dob)]);
            }
        }
        BlockingRule::FirstNameBirthDate if row.dob != NONE => {
            first_keys(&mut |k| emit(&[Name(k), Dob(row.dob)]));
        }
        BlockingRule::BirthDate if row.dob != NONE => emit(&[Dob(row.dob)]),
        BlockingRule::FirstNameSurname => {
            if let Some(s) = entry(NameRole::Surname) {
                first_keys(&mut |k| emit(&[Name(k), Name(s.key)]));
            }
        }
        BlockingRule::NamePhoneticCity => {
            if let Some(s) = entry(NameRole::Surname)
                && row.city != NONE
            {
                first_keys(&mut |k| emit(&[Name(k), Name(s.phonetic), City(row.city)]));
            }
        }
        BlockingRule::SurnameAddress => {
            let key = ds.address_keys.value(row.address);
            if let (Some(s), Some(key)) = (entry(NameRole::Surname), key) {
                // Address keys are at most 512 bytes; four numbers suffice.
                let numbers = key
                    .split(' ')
                    .filter(|t| t.bytes().any(|c| c.is_ascii_digit()));
                for t in numbers.take(4) {
                    emit(&[Name(s.phonetic), Token(t)]);
                }
            }
        }
        _ => {}
    }
}

/// The name-based keys of one record under `rule`, hashed.
fn rule_keys(ds: &Dataset, rule: BlockingRule, r: RecordIx, mut emit: impl FnMut(u64)) {
    let word = |p: &KeyPart<'_>| match *p {
        KeyPart::Name(x) | KeyPart::Dob(x) | KeyPart::City(x) => u64::from(x),
        KeyPart::Token(t) => fnv1a(t.as_bytes()),
    };
    rule_parts(ds, rule, r, |parts| {
        let w = |i: usize| parts.get(i).map_or(0, word);
        emit(match rule {
            BlockingRule::SurnameBirthDate => mix(1, w(0) << 32 | w(1)),
            BlockingRule::FirstNameBirthDate => mix(2, w(0) << 32 | w(1)),
            BlockingRule::BirthDate => mix(5, w(0)),
            BlockingRule::FirstNameSurname => mix(4, w(0) << 32 | w(1)),
            BlockingRule::NamePhoneticCity => mix(w(0) | 3 << 40, w(1) << 32 | w(2)),
            BlockingRule::SurnameAddress => mix(6 << 40 | w(0), w(1)),
            _ => return,
        });
    });
}

/// The name-based keys of one record under `rule`, spelt out: equal texts
/// in any two datasets mean the same key (IDs are per dataset).
pub(crate) fn rule_key_texts(
    ds: &Dataset,
    rule: BlockingRule,
    r: RecordIx,
    mut emit: impl FnMut(String),
) {
    use std::fmt::Write;
    rule_parts(ds, rule, r, |parts| {
        let mut text = String::from(rule.as_str());
        for p in parts {
            text.push('\u{1f}');
            // Writing to a String cannot fail.
            let _ = match *p {
                KeyPart::Name(k) if k & 0x8000_0000 != 0 => write!(text, "g{}", k & 0x7FFF_FFFF),
                KeyPart::Name(k) => write!(text, "k{}", ds.name_keys.value(k).map_or("", |v| &**v)),
                KeyPart::Dob(d) => write!(text, "{d}"),
                KeyPart::City(c) => write!(text, "{}", ds.cities.value(c).map_or("", |v| &**v)),
                KeyPart::Token(t) => write!(text, "{t}"),
            };
        }
        emit(text);
    });
}

/// FNV-1a over bytes: a cheap 64-bit hash for short tokens.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// A 64-bit key from two words (SplitMix64 finaliser over their combination).
/// A collision only adds a candidate pair; scoring judges it.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn all_pairs(n: usize) -> u64 {
    let n = n as u64;
    n * n.saturating_sub(1) / 2
}

/// The alphabetical rank of every name key, so a sorted neighbourhood puts
/// similar spellings side by side (key IDs are first-seen order).
pub(crate) fn key_ranks(ds: &Dataset) -> Vec<u32> {
    // Fewer keys than u32::MAX (`Dataset` invariant).
    let mut ids: Vec<u32> = (0..ds.name_keys.len() as u32).collect();
    ids.par_sort_unstable_by(|&x, &y| ds.name_keys.value(x).cmp(&ds.name_keys.value(y)));
    let mut ranks = vec![0u32; ids.len()];
    for (rank, &id) in ids.iter().enumerate() {
        ranks[id as usize] = rank as u32;
    }
    ranks
}

/// How one rule's blocks become pairs.
struct Block<'a> {
    ds: &'a Dataset,
    cfg: &'a BlockingConfig,
    ranks: &'a [u32],
    /// Whether the rule is a partial-name one (its own bounds).
    partial: bool,
}

impl Block<'_> {
    /// Pairs from one block of distinct, ascending record indices.
    fn emit(&self, members: &[RecordIx], out: &mut Vec<u64>, st: &mut RuleStats) {
        let (ds, cfg) = (self.ds, self.cfg);
        let n = members.len();
        st.blocks += 1;
        st.largest_block = st.largest_block.max(n as u64);
        let (limit, w) = cfg.block_bounds(self.partial);
        if n <= limit {
            for (i, &a) in members.iter().enumerate() {
                for &b in &members[i + 1..] {
                    out.push(pack(a, b));
                }
            }
            return;
        }
        // Sorted neighbourhood: similar records end up next to each other.
        let rank = |k: u32| self.ranks.get(k as usize).copied().unwrap_or(NONE);
        let mut sorted: Vec<(u32, u32, u32, RecordIx)> = members
            .iter()
            .map(|&r| {
                let row = &ds.rows[r as usize];
                let key = |role: NameRole| {
                    ds.name_info
                        .get(row.names[role as usize] as usize)
                        .map_or(NONE, |e| rank(e.key))
                };
                (key(NameRole::Surname), key(NameRole::First), row.dob, r)
            })
            .collect();
        sorted.sort_unstable();
        let order: Vec<RecordIx> = sorted.iter().map(|s| s.3).collect();
        let before = out.len();
        window_pairs(&order, w, out);
        let emitted = (out.len() - before) as u64;
        st.windowed_blocks += 1;
        st.pairs_skipped_by_window += all_pairs(n) - emitted;
    }
}

/// The pairs (packed `a << 32 | b`, `a < b`) one block of distinct,
/// ascending record indices yields under a rule's bounds (`partial`: a
/// partial-name rule's), exactly as [`Candidates::find`] forms them; `ranks`
/// from [`key_ranks`] of the same dataset. For the incremental store, which
/// re-forms the blocks a new record joins.
pub(crate) fn block_pairs(
    ds: &Dataset,
    cfg: &BlockingConfig,
    ranks: &[u32],
    partial: bool,
    members: &[RecordIx],
    out: &mut Vec<u64>,
) {
    if members.len() < 2 {
        return;
    }
    let block = Block {
        ds,
        cfg,
        ranks,
        partial,
    };
    block.emit(members, out, &mut RuleStats::default());
}

/// The sorted-neighbourhood pairs of records in `order`: each with the next
/// `w` (packed, lower index first).
pub(crate) fn window_pairs(order: &[RecordIx], w: usize, out: &mut Vec<u64>) {
    let n = order.len();
    for i in 0..n {
        for j in i + 1..(i + 1 + w).min(n) {
            let (a, b) = (order[i], order[j]);
            out.push(pack(a.min(b), a.max(b)));
        }
    }
}

fn pack(a: RecordIx, b: RecordIx) -> u64 {
    u64::from(a) << 32 | u64::from(b)
}

fn merge(mut x: (Vec<u64>, RuleStats), mut y: (Vec<u64>, RuleStats)) -> (Vec<u64>, RuleStats) {
    x.0.append(&mut y.0);
    let (a, b) = (&mut x.1, y.1);
    a.blocks += b.blocks;
    a.largest_block = a.largest_block.max(b.largest_block);
    a.windowed_blocks += b.windowed_blocks;
    a.pairs_skipped_by_window += b.pairs_skipped_by_window;
    a.generic_blocks += b.generic_blocks;
    a.pairs_skipped_generic += b.pairs_skipped_generic;
    x
}

/// Rules' sorted, distinct packed pairs merged into one sorted list, each
/// pair tagged with the first rule (in `lists` order) that found it.
fn merge_first(lists: Vec<(u8, Vec<u64>)>) -> Vec<CandidatePair> {
    merge_first_in(lists, MERGE_PART)
}

/// Pairs per part of the key range [`merge_first`] merges on its own.
const MERGE_PART: usize = 1 << 16;

/// [`merge_first`] with the key range cut into parts of about `part` pairs
/// of the longest list: each part's slices of every list are merged in one
/// walk, the parts side by side, and the parts' results laid end to end.
fn merge_first_in(lists: Vec<(u8, Vec<u64>)>, part: usize) -> Vec<CandidatePair> {
    let longest = lists
        .iter()
        .map(|(_, l)| l.as_slice())
        .max_by_key(|l| l.len())
        .unwrap_or_default();
    let parts = longest.len().div_ceil(part.max(1)).max(1);
    // Part `p` holds the keys in `bounds[p - 1]..bounds[p]` (open-ended
    // at both ends); distinct bounds, so no part is empty by construction.
    let mut bounds: Vec<u64> = (1..parts)
        .map(|k| longest[k * longest.len() / parts])
        .collect();
    bounds.dedup();
    let pieces: Vec<Vec<CandidatePair>> = (0..=bounds.len())
        .into_par_iter()
        .map(|p| {
            let lo = p.checked_sub(1).map(|q| bounds[q]);
            let hi = bounds.get(p).copied();
            let slices: Vec<(u8, &[u64])> = lists
                .iter()
                .map(|(rule, l)| {
                    let start = lo.map_or(0, |lo| l.partition_point(|&x| x < lo));
                    let end = hi.map_or(l.len(), |hi| l.partition_point(|&x| x < hi));
                    (*rule, &l[start..end])
                })
                .collect();
            merge_walk(&slices)
        })
        .collect();
    // The rules' lists are merged: freed before the result is allocated.
    drop(lists);
    let total: usize = pieces.iter().map(Vec::len).sum();
    let mut out = vec![
        CandidatePair {
            a: 0,
            b: 0,
            rule: 0
        };
        total
    ];
    let mut rest: &mut [CandidatePair] = &mut out;
    let mut jobs = Vec::with_capacity(pieces.len());
    for piece in &pieces {
        let (head, tail) = rest.split_at_mut(piece.len());
        jobs.push((head, piece));
        rest = tail;
    }
    jobs.into_par_iter()
        .for_each(|(head, piece)| head.copy_from_slice(piece));
    out
}

/// One walk over sorted, distinct lists: every key once, ascending, with
/// the rule of the first list holding it.
fn merge_walk(lists: &[(u8, &[u64])]) -> Vec<CandidatePair> {
    let mut at = vec![0usize; lists.len()];
    let mut out = Vec::with_capacity(lists.iter().map(|(_, l)| l.len()).max().unwrap_or(0));
    loop {
        // The smallest head, and the first list holding it.
        let mut best: Option<(u64, u8)> = None;
        for ((rule, l), &i) in lists.iter().zip(&at) {
            if let Some(&x) = l.get(i)
                && best.is_none_or(|(b, _)| x < b)
            {
                best = Some((x, *rule));
            }
        }
        let Some((key, rule)) = best else {
            return out;
        };
        for ((_, l), i) in lists.iter().zip(at.iter_mut()) {
            if l.get(*i) == Some(&key) {
                *i += 1;
            }
        }
        out.push(CandidatePair {
            a: (key >> 32) as u32,
            b: key as u32,
            rule,
        });
    }
}

#[cfg(test)]
mod tests;

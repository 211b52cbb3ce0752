//! Generic values: identifiers shared by many records that are not one person
//! (a store's default loyalty card, a call-centre phone, `noemail@mail.ru`).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Inverted;
use crate::error::{Error, Result};
use crate::normalize::IdKind;
use crate::record::{Dataset, ID_SLOTS, NONE, NameRole, RecordIx};

/// Thresholds for calling a shared identifier value generic.
///
/// A value held by at least [`min_records`](GenericConfig::min_records)
/// records is generic when those records name at least
/// [`min_distinct_people`](GenericConfig::min_distinct_people) different
/// first names (nickname-equivalent names count as one), birth dates or other
/// contacts (phones for an e-mail or a card, e-mails for a phone), and no
/// one of them covers more than [`max_top_share`](GenericConfig::max_top_share)
/// of the records that have one — one person's records with a few spelling
/// variants do not qualify (their commonest spelling dominates), a
/// call-centre number typed for hundreds of callers does. A value held by [`max_records`](GenericConfig::max_records)
/// or more records is generic whatever they hold.
///
/// # Example
/// ```
/// use idstitch::GenericConfig;
///
/// let cfg = GenericConfig::new().min_distinct_people(4).max_records(500);
/// assert_eq!(cfg.get_max_records(), 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GenericConfig {
    min_records: usize,
    min_distinct_people: usize,
    max_top_share: f64,
    max_records: usize,
}

impl Default for GenericConfig {
    fn default() -> Self {
        GenericConfig {
            min_records: 5,
            min_distinct_people: 5,
            max_top_share: 0.5,
            max_records: 2_000,
        }
    }
}

impl GenericConfig {
    /// The defaults: 5 records, 5 distinct first names or birth dates of
    /// which none covers more than half the records, or 2,000 records
    /// whatever they hold.
    pub fn new() -> GenericConfig {
        GenericConfig::default()
    }

    /// Values held by fewer records are never generic.
    #[must_use]
    pub fn min_records(mut self, n: usize) -> GenericConfig {
        self.min_records = n;
        self
    }

    /// Distinct first names or birth dates that make a value generic.
    #[must_use]
    pub fn min_distinct_people(mut self, n: usize) -> GenericConfig {
        self.min_distinct_people = n;
        self
    }

    /// The largest share (0–1) of the records with a first name (or birth
    /// date) that the commonest one may cover for the value to be generic.
    #[must_use]
    pub fn max_top_share(mut self, share: f64) -> GenericConfig {
        self.max_top_share = share;
        self
    }

    /// Values held by this many records or more are generic outright.
    #[must_use]
    pub fn max_records(mut self, n: usize) -> GenericConfig {
        self.max_records = n;
        self
    }

    /// The outright-generic record count.
    pub fn get_max_records(&self) -> usize {
        self.max_records
    }

    /// The fewest holders a generic value has: a value held by fewer is
    /// never generic, so a distributed engine need not judge it.
    ///
    /// # Example
    /// ```
    /// use idstitch::GenericConfig;
    ///
    /// assert_eq!(GenericConfig::new().min_records(3).get_min_records(), 3);
    /// ```
    pub fn get_min_records(&self) -> usize {
        self.min_records
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.min_records < 2 {
            return Err(Error::config("generic.min_records", "must be at least 2"));
        }
        if self.min_distinct_people < 2 {
            return Err(Error::config(
                "generic.min_distinct_people",
                "must be at least 2",
            ));
        }
        if !(0.0..=1.0).contains(&self.max_top_share) {
            return Err(Error::config("generic.max_top_share", "must be in [0, 1]"));
        }
        if self.max_records < self.min_records {
            return Err(Error::config(
                "generic.max_records",
                "must be at least min_records",
            ));
        }
        Ok(())
    }
}

/// Why a value was judged generic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenericReason {
    /// Its records name many different people.
    ConflictingNames,
    /// Its records carry many different birth dates.
    ConflictingBirthDates,
    /// Its records carry many different other contacts (phones, e-mails).
    ConflictingIdentifiers,
    /// More records hold it than one person plausibly has.
    TooManyRecords,
}

/// One generic value, for run statistics. The value itself is an interned ID
/// ([`Dataset::value_text`] prints it, for callers that choose to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericValue {
    /// The identifier type.
    pub kind: IdKind,
    /// The interned value ID.
    pub value: u32,
    /// Records holding it.
    pub records: u32,
    /// Distinct first names among them.
    pub distinct_first_names: u32,
    /// Distinct birth dates among them.
    pub distinct_birth_dates: u32,
    /// Why it is generic.
    pub reason: GenericReason,
}

/// The generic values of a dataset: kept out of blocking, neutral as evidence.
///
/// # Example
/// ```
/// use idstitch::{Dataset, GenericConfig, GenericValues, IdKind, Record};
///
/// let names = ["Анна", "Борис", "Вера", "Глеб", "Дина", "Егор"];
/// let records = names
///     .iter()
///     .enumerate()
///     .map(|(i, n)| Record::new(i.to_string(), "call").phone("+7 495 123-45-67").first_name(*n))
///     .collect();
/// let ds = Dataset::build(records)?;
/// let generic = GenericValues::detect(&ds, &GenericConfig::new())?;
/// assert_eq!(generic.values().len(), 1);
/// assert_eq!(generic.values()[0].kind, IdKind::Phone);
/// assert_eq!(generic.values()[0].records, 6);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct GenericValues {
    flags: [Bits; 5],
    list: Vec<GenericValue>,
}

/// One bit per value ID, set for generic values; empty where none is.
///
/// The comparison loop asks about the e-mails and phones of nearly every
/// pair: a bit per value keeps millions of values' flags in the caches,
/// where a byte per value made each question a cache miss at 10M records.
#[derive(Debug, Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    /// The bits of value IDs `0..len` for which `set` holds.
    fn from_fn(len: u32, mut set: impl FnMut(u32) -> bool) -> Bits {
        let mut bits = Bits::default();
        for v in (0..len).filter(|&v| set(v)) {
            bits.set(v);
        }
        bits
    }

    fn set(&mut self, v: u32) {
        let word = v as usize / 64;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (v % 64);
    }

    #[inline]
    fn get(&self, v: u32) -> bool {
        self.0
            .get(v as usize / 64)
            .is_some_and(|w| (w >> (v % 64)) & 1 != 0)
    }
}

impl GenericValues {
    /// Examines every identifier value of every type.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for thresholds out of range.
    pub fn detect(ds: &Dataset, cfg: &GenericConfig) -> Result<GenericValues> {
        cfg.validate()?;
        let index: Vec<Inverted> = (0..ID_SLOTS.len())
            .map(|s| Inverted::build(ds, s))
            .collect();
        Ok(Self::detect_in(ds, cfg, &index))
    }

    pub(crate) fn detect_in(
        ds: &Dataset,
        cfg: &GenericConfig,
        index: &[Inverted],
    ) -> GenericValues {
        let mut out = GenericValues::default();
        for (slot, inv) in index.iter().enumerate() {
            let found: Vec<GenericValue> = (0..inv.values())
                .into_par_iter()
                .filter_map(|v| {
                    let members = inv.members(v);
                    (members.len() >= cfg.min_records)
                        .then(|| judge(ds, cfg, ID_SLOTS[slot], v, members))
                        .flatten()
                })
                .collect();
            for g in &found {
                out.flags[slot].set(g.value);
            }
            out.list.extend(found);
        }
        out
    }

    /// Whether a value is generic.
    pub fn is_generic(&self, kind: IdKind, value: u32) -> bool {
        crate::record::slot(kind).is_some_and(|s| self.is_generic_slot(s, value))
    }

    #[inline]
    pub(crate) fn is_generic_slot(&self, slot: usize, value: u32) -> bool {
        self.flags.get(slot).is_some_and(|f| f.get(value))
    }

    /// Every generic value, by type then value ID.
    pub fn values(&self) -> &[GenericValue] {
        &self.list
    }

    /// Flags for the values of `ds` that `generic(slot, value)` names:
    /// facts judged over a larger set of records, carried to a dataset
    /// holding part of them. The list of [`values`](GenericValues::values)
    /// stays empty (the counts behind each verdict are not known here).
    pub(crate) fn from_flags(ds: &Dataset, mut generic: impl FnMut(usize, u32) -> bool) -> Self {
        let mut out = GenericValues::default();
        for (slot, flags) in out.flags.iter_mut().enumerate() {
            let values = ds.value_freq[slot].len() as u32;
            *flags = Bits::from_fn(values, |v| generic(slot, v));
        }
        out
    }
}

/// Whether value `value` of `slot`, held by `members` (every holder), is
/// generic under `cfg`: the verdict [`GenericValues::detect`] gives.
pub(crate) fn judge_value(
    ds: &Dataset,
    cfg: &GenericConfig,
    slot: usize,
    value: u32,
    members: &[RecordIx],
) -> bool {
    members.len() >= cfg.min_records && judge(ds, cfg, ID_SLOTS[slot], value, members).is_some()
}

/// The first-name key people are told apart by: the smallest nickname group,
/// or the transliteration key for names outside the table.
pub(crate) fn person_key(ds: &Dataset, r: RecordIx) -> u32 {
    let id = ds.rows[r as usize].names[NameRole::First as usize];
    ds.name_info
        .get(id as usize)
        .and_then(|e| e.first_name_keys().next())
        .unwrap_or(NONE)
}

/// Jaro–Winkler similarity at which two first-name keys are one person's
/// spelling variants when counting the people behind a value.
const SAME_NAME_JW: f64 = 0.85;

/// Above this many distinct values, variants are not grouped (the value is
/// spread over that many people whatever their spelling).
const MAX_GROUPED: usize = 256;

/// `(groups, records in the largest group)` of a list of values, where values
/// `similar` to a larger group's first value join it (greedy, commonest first).
///
/// Ties in count are broken by `order`, which must not depend on how a
/// dataset numbered its values: the same holders then give the same verdict
/// in any dataset that holds them (the incremental store and a batch run
/// judge a value alike).
fn spread(
    v: &mut [u32],
    similar: impl Fn(u32, u32) -> bool,
    order: impl Fn(u32, u32) -> std::cmp::Ordering,
) -> (usize, usize) {
    v.sort_unstable();
    let mut counts: Vec<(usize, u32)> = Vec::new();
    for (i, &x) in v.iter().enumerate() {
        match counts.last_mut() {
            Some(last) if i > 0 && v[i - 1] == x => last.0 += 1,
            _ => counts.push((1, x)),
        }
    }
    if counts.len() > MAX_GROUPED {
        let top = counts.iter().map(|c| c.0).max().unwrap_or(0);
        return (counts.len(), top);
    }
    // Commonest first, ties in `order`: deterministic.
    counts.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| order(a.1, b.1)));
    let mut groups: Vec<(usize, u32)> = Vec::new();
    for (n, x) in counts {
        match groups.iter_mut().find(|g| similar(g.1, x)) {
            Some(g) => g.0 += n,
            None => groups.push((n, x)),
        }
    }
    let top = groups.iter().map(|g| g.0).max().unwrap_or(0);
    (groups.len(), top)
}

/// What the holders of one value say about who they are: their first-name
/// person keys, birth dates and other contact identifiers (each a `u32`
/// whose meaning the gatherer chooses; only equality, `name_text` and
/// `name_order` matter).
pub(crate) struct Evidence<'a> {
    pub(crate) holders: usize,
    pub(crate) names: Vec<u32>,
    pub(crate) dates: Vec<u32>,
    pub(crate) others: Vec<u32>,
    /// Holders with at least one other contact identifier.
    pub(crate) with_others: usize,
    /// The text of a name key, `None` for a nickname group (high bit set).
    pub(crate) name_text: &'a dyn Fn(u32) -> Option<&'a str>,
}

/// The verdict on a value from its holders' evidence: `(reason, distinct
/// first names, distinct birth dates)` when generic.
pub(crate) fn verdict(
    cfg: &GenericConfig,
    mut ev: Evidence<'_>,
) -> Option<(GenericReason, usize, usize)> {
    if ev.holders < cfg.min_records {
        return None;
    }
    let (with_names, with_dates) = (ev.names.len(), ev.dates.len());
    // Spelling variants of one name (`alexa-rose` / `alexa-rxose`) and typos
    // of one date (`19160822` / `19160882`) are one person, not several.
    let text = ev.name_text;
    let similar_names = |a: u32, b: u32| match (text(a), text(b)) {
        (Some(x), Some(y)) => crate::compare::jaro_winkler_reaches(x, y, SAME_NAME_JW),
        _ => false,
    };
    let similar_dates =
        |a: u32, b: u32| crate::compare::date(a, b) <= crate::compare::DateLevel::OneDigit as u8;
    // Nickname groups (high bit) by group number, then other keys by text:
    // neither depends on how the keys were numbered. Dates are packed values;
    // other identifiers are never grouped, so their order does not matter.
    let name_order = |a: u32, b: u32| {
        let rank = |k: u32| {
            let group = k & 0x8000_0000 != 0;
            (!group, if group { k } else { 0 }, text(k))
        };
        rank(a).cmp(&rank(b)).then(a.cmp(&b))
    };
    let (n_names, top_name) = spread(&mut ev.names, similar_names, name_order);
    let (n_dates, top_date) = spread(&mut ev.dates, similar_dates, |a: u32, b: u32| a.cmp(&b));
    let (n_others, top_other) = spread(&mut ev.others, |_, _| false, |a: u32, b: u32| a.cmp(&b));
    let conflicting = |n: usize, top: usize, with: usize| {
        n >= cfg.min_distinct_people && top as f64 <= cfg.max_top_share * with as f64
    };
    let reason = if conflicting(n_names, top_name, with_names) {
        GenericReason::ConflictingNames
    } else if conflicting(n_dates, top_date, with_dates) {
        GenericReason::ConflictingBirthDates
    } else if conflicting(n_others, top_other, ev.with_others) {
        GenericReason::ConflictingIdentifiers
    } else if ev.holders >= cfg.max_records {
        GenericReason::TooManyRecords
    } else {
        return None;
    };
    Some((reason, n_names, n_dates))
}

fn judge(
    ds: &Dataset,
    cfg: &GenericConfig,
    kind: IdKind,
    value: u32,
    members: &[RecordIx],
) -> Option<GenericValue> {
    let mut names: Vec<u32> = Vec::new();
    let mut dates: Vec<u32> = Vec::new();
    // Other contact identifiers of the holders (phones for an e-mail or a
    // card, e-mails for a phone): one person has a few, a shop's card
    // collects hundreds.
    let own = crate::record::slot(kind);
    let (mut others, mut with_others) = (Vec::new(), 0usize);
    for &r in members {
        for s in [0usize, 1] {
            if own == Some(s) {
                continue;
            }
            let v = ds.slot_values(r, s);
            if !v.is_empty() {
                with_others += 1;
                // Tag the slot so e-mail and phone IDs never collide.
                others.extend(v.iter().map(|&x| (x << 1) | s as u32));
            }
        }
        let k = person_key(ds, r);
        if k != NONE {
            names.push(k);
        }
        let d = ds.rows[r as usize].dob;
        if d != NONE {
            dates.push(d);
        }
    }
    let keys = &ds.name_keys;
    let name_text = |k: u32| {
        (k & 0x8000_0000 == 0)
            .then(|| keys.value(k).map(|t| &**t))
            .flatten()
    };
    let (reason, n_names, n_dates) = verdict(
        cfg,
        Evidence {
            holders: members.len(),
            names,
            dates,
            others,
            with_others,
            name_text: &name_text,
        },
    )?;
    // Counts are bounded by the number of records, below u32::MAX.
    Some(GenericValue {
        kind,
        value,
        records: members.len() as u32,
        distinct_first_names: n_names as u32,
        distinct_birth_dates: n_dates as u32,
        reason,
    })
}

//! Golden profiles: one identity's best name, birth date, contacts and
//! consent, chosen by survivorship rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cluster::Clusters;
use crate::error::{Error, Result};
use crate::normalize::IdKind;
use crate::record::{Channel, Consent, Dataset, ID_SLOTS, NONE, NameRole, RecordId, RecordIx};

/// One survivorship criterion: how candidate values of a profile field are
/// ranked. [`ProfileConfig::order`] lists them, first deciding.
///
/// # Example
/// ```
/// use idstitch::Survivorship;
///
/// assert_eq!("most_recent".parse::<Survivorship>()?, Survivorship::MostRecent);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Survivorship {
    /// The value given by the highest-priority source
    /// ([`ProfileConfig::source_priority`]; unlisted sources rank last).
    SourcePriority,
    /// The value seen most recently (records without a last-seen time rank last).
    MostRecent,
    /// The value most records hold.
    MostFrequent,
}

impl Survivorship {
    /// The stable snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Survivorship::SourcePriority => "source_priority",
            Survivorship::MostRecent => "most_recent",
            Survivorship::MostFrequent => "most_frequent",
        }
    }
}

impl std::str::FromStr for Survivorship {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [
            Survivorship::SourcePriority,
            Survivorship::MostRecent,
            Survivorship::MostFrequent,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
        .ok_or_else(|| {
            Error::unknown_name(
                "survivorship rule",
                "source_priority, most_recent, most_frequent",
            )
        })
    }
}

/// Survivorship settings for [`GoldenProfile`]s.
///
/// Only valid values compete (values a normaliser rejected stay out of the
/// profile; the record keeps them as [`RejectedValue`](crate::RejectedValue)s).
/// Ties after every criterion go to the smaller value, so a profile depends
/// only on the records.
///
/// # Example
/// ```
/// use idstitch::{ProfileConfig, Survivorship};
///
/// let cfg = ProfileConfig::new()
///     .source_priority(["crm", "loyalty", "web"])
///     .order([Survivorship::SourcePriority, Survivorship::MostRecent]);
/// assert_eq!(cfg.get_order(), [Survivorship::SourcePriority, Survivorship::MostRecent]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileConfig {
    source_priority: Vec<String>,
    order: Vec<Survivorship>,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            source_priority: Vec::new(),
            order: vec![
                Survivorship::SourcePriority,
                Survivorship::MostRecent,
                Survivorship::MostFrequent,
            ],
        }
    }
}

impl ProfileConfig {
    /// No source priority; ranking by source priority, then most recent,
    /// then most frequent.
    pub fn new() -> ProfileConfig {
        ProfileConfig::default()
    }

    /// Sources from most to least trusted (compared case-insensitively).
    #[must_use]
    pub fn source_priority<S: Into<String>>(
        mut self,
        sources: impl IntoIterator<Item = S>,
    ) -> ProfileConfig {
        self.source_priority = sources
            .into_iter()
            .map(|s| s.into().to_lowercase())
            .collect();
        self
    }

    /// The survivorship criteria, first deciding.
    #[must_use]
    pub fn order(mut self, order: impl IntoIterator<Item = Survivorship>) -> ProfileConfig {
        self.order = order.into_iter().collect();
        self
    }

    /// The criteria.
    pub fn get_order(&self) -> &[Survivorship] {
        &self.order
    }
}

/// One value of a profile field with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileValue {
    /// The canonical value (E.164 phone, canonical e-mail, `system:id`…).
    pub value: String,
    /// Records holding it.
    pub records: u32,
    /// Sources that gave it, sorted.
    pub sources: Vec<String>,
    /// Earliest first-seen time of those records (seconds since the epoch).
    pub first_seen: Option<i64>,
    /// Latest last-seen time of those records.
    pub last_seen: Option<i64>,
}

/// The consent of an identity on one channel, the most restrictive answer
/// of its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// A record agreed and none refused.
    Granted,
    /// A record refused.
    Refused,
}

/// One identity's golden profile: every field's values ranked best first by
/// the survivorship rules, each with its sources and first/last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenProfile {
    /// The identity ([`Clusters::identity`]).
    pub identity: u32,
    /// Its records, by record ID.
    pub records: Vec<RecordId>,
    /// First names, best first (canonical, title-cased).
    pub first_names: Vec<ProfileValue>,
    /// Middle names or patronymics, best first.
    pub middle_names: Vec<ProfileValue>,
    /// Surnames, best first.
    pub surnames: Vec<ProfileValue>,
    /// Birth dates (`YYYY-MM-DD`), best first.
    pub birth_dates: Vec<ProfileValue>,
    /// E-mail addresses, best first.
    pub emails: Vec<ProfileValue>,
    /// Phones (E.164), best first.
    pub phones: Vec<ProfileValue>,
    /// Loyalty cards, best first.
    pub loyalty_cards: Vec<ProfileValue>,
    /// Device IDs, best first.
    pub devices: Vec<ProfileValue>,
    /// Customer IDs (`system:id`), best first.
    pub customer_ids: Vec<ProfileValue>,
    /// Cities, best first.
    pub cities: Vec<ProfileValue>,
    /// Street addresses as given, best first.
    pub addresses: Vec<ProfileValue>,
    /// Per channel with any answer: granted or refused.
    pub consent: BTreeMap<Channel, ConsentState>,
    /// Earliest first-seen time of the identity's records.
    pub first_seen: Option<i64>,
    /// Latest last-seen time of the identity's records.
    pub last_seen: Option<i64>,
}

impl GoldenProfile {
    /// The best first name, if any.
    pub fn first_name(&self) -> Option<&str> {
        self.first_names.first().map(|v| v.value.as_str())
    }

    /// The best surname, if any.
    pub fn surname(&self) -> Option<&str> {
        self.surnames.first().map(|v| v.value.as_str())
    }

    /// The best birth date (`YYYY-MM-DD`), if any.
    pub fn birth_date(&self) -> Option<&str> {
        self.birth_dates.first().map(|v| v.value.as_str())
    }
}

/// Accumulates one field's candidate values over an identity's records.
#[derive(Default)]
struct Tally {
    // key → (records, best source rank, sources, first seen, last seen)
    by_value: BTreeMap<String, Acc>,
}

#[derive(Default)]
struct Acc {
    records: u32,
    best_source: usize,
    sources: Vec<String>,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
}

impl Tally {
    fn add(&mut self, value: String, source: &str, rank: usize, seen: (Option<i64>, Option<i64>)) {
        let acc = self.by_value.entry(value).or_insert_with(|| Acc {
            best_source: usize::MAX,
            ..Acc::default()
        });
        acc.records = acc.records.saturating_add(1);
        acc.best_source = acc.best_source.min(rank);
        if let Err(i) = acc.sources.binary_search_by(|s| s.as_str().cmp(source)) {
            acc.sources.insert(i, source.to_owned());
        }
        acc.first_seen = match (acc.first_seen, seen.0) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        acc.last_seen = acc.last_seen.max(seen.1);
    }

    fn ranked(self, order: &[Survivorship]) -> Vec<ProfileValue> {
        let mut items: Vec<(String, Acc)> = self.by_value.into_iter().collect();
        items.sort_by(|(va, a), (vb, b)| {
            for c in order {
                let o = match c {
                    Survivorship::SourcePriority => a.best_source.cmp(&b.best_source),
                    Survivorship::MostRecent => b.last_seen.cmp(&a.last_seen),
                    Survivorship::MostFrequent => b.records.cmp(&a.records),
                };
                if o.is_ne() {
                    return o;
                }
            }
            va.cmp(vb)
        });
        items
            .into_iter()
            .map(|(value, a)| ProfileValue {
                value,
                records: a.records,
                sources: a.sources,
                first_seen: a.first_seen,
                last_seen: a.last_seen,
            })
            .collect()
    }
}

/// `иван петров-водкин` → `Иван Петров-Водкин`.
fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}

impl Clusters {
    /// The golden profile of one identity.
    ///
    /// # Errors
    /// [`ErrorKind::RecordIndex`](crate::ErrorKind::RecordIndex) when the
    /// identity does not exist (or `ds` is not the clustered dataset).
    ///
    /// # Example
    /// ```
    /// use idstitch::{Clusters, ClusterConfig, Dataset, ProfileConfig, Record, ScoredPair};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "web").first_name("саша").phone("+79123456789").seen(100, 200),
    ///     Record::new("2", "crm").first_name("Александр").last_name("Иванов")
    ///         .phone("8 912 345-67-89").email("ivanov@mail.ru").seen(50, 150),
    /// ])?;
    /// let pair = ScoredPair { a: 0, b: 1, rule: 0, weight: 6.6, probability: 0.99 };
    /// let clusters = Clusters::build(&ds, &[pair], &[idstitch::BlockingRule::Phone],
    ///     &Default::default(), &ClusterConfig::new())?;
    /// let cfg = ProfileConfig::new().source_priority(["crm"]);
    /// let p = clusters.profile(&ds, 0, &cfg)?;
    /// assert_eq!(p.first_name(), Some("Александр"));
    /// assert_eq!(p.surname(), Some("Иванов"));
    /// assert_eq!(p.phones[0].value, "+79123456789");
    /// assert_eq!(p.phones[0].sources, ["crm", "web"]);
    /// assert_eq!((p.first_seen, p.last_seen), (Some(50), Some(200)));
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn profile(
        &self,
        ds: &Dataset,
        identity: u32,
        cfg: &ProfileConfig,
    ) -> Result<GoldenProfile> {
        let members: Vec<RecordIx> = self
            .labels()
            .iter()
            .enumerate()
            .filter(|&(_, &l)| l == identity)
            // Record indices fit u32 (the dataset's invariant).
            .map(|(r, _)| r as RecordIx)
            .collect();
        if members.is_empty() {
            return Err(crate::ErrorKind::RecordIndex {
                index: identity,
                len: self.len(),
            }
            .into());
        }
        profile_of(ds, identity, &members, cfg)
    }

    /// Every identity's golden profile, in identity order (parallel).
    ///
    /// # Errors
    /// As [`Clusters::profile`], when `ds` is not the clustered dataset.
    pub fn profiles(&self, ds: &Dataset, cfg: &ProfileConfig) -> Result<Vec<GoldenProfile>> {
        use rayon::prelude::*;
        if ds.len() != self.labels().len() {
            return Err(Error::config(
                "dataset",
                "is not the dataset these clusters were built from",
            ));
        }
        self.members()
            .par_iter()
            .enumerate()
            // Identities are numbered densely below u32::MAX.
            .map(|(i, m)| profile_of(ds, i as u32, m, cfg))
            .collect()
    }
}

fn profile_of(
    ds: &Dataset,
    identity: u32,
    members: &[RecordIx],
    cfg: &ProfileConfig,
) -> Result<GoldenProfile> {
    let rank_of = |source: &str| {
        cfg.source_priority
            .iter()
            .position(|s| s.as_str() == source.to_lowercase())
            .unwrap_or(cfg.source_priority.len())
    };
    let mut names: [Tally; 3] = Default::default();
    let (mut dobs, mut cities, mut addresses) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut ids: [Tally; 5] = Default::default();
    let mut consent = Consent::default();
    let (mut first_seen, mut last_seen): (Option<i64>, Option<i64>) = (None, None);
    let mut records = Vec::with_capacity(members.len());
    for &r in members {
        let view = ds.record(r)?;
        records.push(view.id().clone());
        let source = view.source();
        let rank = rank_of(source);
        let seen = view.seen();
        first_seen = match (first_seen, seen.0) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        last_seen = last_seen.max(seen.1);
        consent = consent.most_restrictive(view.consent());
        for role in [NameRole::First, NameRole::Middle, NameRole::Surname] {
            if let Some(n) = view.name(role) {
                names[role as usize].add(title_case(n), source, rank, seen);
            }
        }
        if let Some(d) = view.birth_date() {
            dobs.add(d.to_string(), source, rank, seen);
        }
        let row = &ds.rows[r as usize];
        if row.city != NONE
            && let Some(c) = ds.cities.value(row.city)
        {
            cities.add(title_case(c), source, rank, seen);
        }
        if let Some(a) = view.address() {
            addresses.add(a.trim().to_owned(), source, rank, seen);
        }
        for (s, kind) in ID_SLOTS.iter().enumerate() {
            for &v in ds.slot_values(r, s) {
                if let Some(text) = ds.value_text(*kind, v) {
                    ids[s].add(text, source, rank, seen);
                }
            }
        }
    }
    let order = &cfg.order;
    let [first, middle, surname] = names.map(|t| t.ranked(order));
    let [emails, phones, loyalty, devices, customer_ids] = ids.map(|t| t.ranked(order));
    debug_assert_eq!(
        ID_SLOTS,
        [
            IdKind::Email,
            IdKind::Phone,
            IdKind::Loyalty,
            IdKind::Device,
            IdKind::CustomerId
        ]
    );
    let consent = Channel::ALL
        .into_iter()
        .filter_map(|c| {
            if consent.refuses(c) {
                Some((c, ConsentState::Refused))
            } else if consent.allows(c) {
                Some((c, ConsentState::Granted))
            } else {
                None
            }
        })
        .collect();
    Ok(GoldenProfile {
        identity,
        records,
        first_names: first,
        middle_names: middle,
        surnames: surname,
        birth_dates: dobs.ranked(order),
        emails,
        phones,
        loyalty_cards: loyalty,
        devices,
        customer_ids,
        cities: cities.ranked(order),
        addresses: addresses.ranked(order),
        consent,
        first_seen,
        last_seen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{BlockingRule, GenericValues};
    use crate::cluster::ClusterConfig;
    use crate::record::Record;
    use crate::score::ScoredPair;

    fn one_identity(records: Vec<Record>) -> (Dataset, Clusters) {
        let ds = Dataset::build(records).unwrap();
        let n = ds.len() as u32;
        let pairs: Vec<ScoredPair> = (1..n)
            .map(|b| ScoredPair {
                a: 0,
                b,
                rule: 0,
                weight: 10.0,
                probability: 0.999,
            })
            .collect();
        let c = Clusters::build(
            &ds,
            &pairs,
            &[BlockingRule::Phone],
            &GenericValues::default(),
            &ClusterConfig::new().first_names_cannot_link(false),
        )
        .unwrap();
        assert_eq!(c.len(), 1);
        (ds, c)
    }

    #[test]
    fn survivorship_order_decides_and_ties_go_to_the_smaller_value() {
        let (ds, c) = one_identity(vec![
            Record::new("1", "web")
                .phone("+79120000001")
                .email("new@mail.ru")
                .seen(0, 300),
            Record::new("2", "crm")
                .phone("+79120000002")
                .email("old@mail.ru")
                .seen(0, 100),
            Record::new("3", "app")
                .phone("+79120000002")
                .email("new@mail.ru")
                .seen(0, 200),
        ]);
        let best = |cfg: &ProfileConfig| {
            let p = c.profile(&ds, 0, cfg).unwrap();
            (p.phones[0].value.clone(), p.emails[0].value.clone())
        };
        // Default: no priorities, so most recent decides.
        assert_eq!(
            best(&ProfileConfig::new()),
            ("+79120000001".into(), "new@mail.ru".into())
        );
        assert_eq!(
            best(&ProfileConfig::new().source_priority(["CRM"])),
            ("+79120000002".into(), "old@mail.ru".into())
        );
        assert_eq!(
            best(&ProfileConfig::new().order([Survivorship::MostFrequent])),
            ("+79120000002".into(), "new@mail.ru".into())
        );
        let p = c.profile(&ds, 0, &ProfileConfig::new()).unwrap();
        let second = &p.phones[1];
        assert_eq!(second.records, 2);
        assert_eq!(second.sources, ["app", "crm"]);
        assert_eq!((second.first_seen, second.last_seen), (Some(0), Some(200)));
        assert!(c.profile(&ds, 1, &ProfileConfig::new()).is_err());
    }

    #[test]
    fn consent_is_the_most_restrictive_and_invalid_values_stay_out() {
        let (ds, c) = one_identity(vec![
            Record::new("1", "web")
                .consent(Channel::Email)
                .consent(Channel::Sms)
                .email("noreply@shop.ru")
                .birth_date("31.02.1990"),
            Record::new("2", "crm")
                .refuse(Channel::Sms)
                .birth_date("12.03.1990")
                .first_name("мария-луиза"),
        ]);
        let p = c.profile(&ds, 0, &ProfileConfig::new()).unwrap();
        assert_eq!(p.consent[&Channel::Email], ConsentState::Granted);
        assert_eq!(p.consent[&Channel::Sms], ConsentState::Refused);
        assert!(!p.consent.contains_key(&Channel::Call));
        assert!(p.emails.is_empty());
        assert_eq!(p.birth_date(), Some("1990-03-12"));
        assert_eq!(p.birth_dates.len(), 1);
        assert_eq!(p.first_name(), Some("Мария Луиза"));
    }

    #[test]
    fn every_record_is_in_exactly_one_profile() {
        let records: Vec<Record> = (0..50)
            .map(|i| {
                Record::new(format!("r{i}"), "web").phone(format!("+7912345{:04}", 1000 + i / 3))
            })
            .collect();
        let ds = Dataset::build(records).unwrap();
        let cands = crate::Candidates::find(&ds, &crate::BlockingConfig::new()).unwrap();
        let pairs: Vec<ScoredPair> = cands
            .pairs()
            .iter()
            .map(|p| ScoredPair {
                a: p.a,
                b: p.b,
                rule: p.rule,
                weight: 10.0,
                probability: 0.999,
            })
            .collect();
        let c = Clusters::build(
            &ds,
            &pairs,
            cands.rules(),
            cands.generic(),
            &ClusterConfig::new(),
        )
        .unwrap();
        let profiles = c.profiles(&ds, &ProfileConfig::new()).unwrap();
        assert_eq!(profiles.len(), 17);
        let mut seen: Vec<&RecordId> = profiles.iter().flat_map(|p| &p.records).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 50);
        assert!(profiles.iter().all(|p| p.phones.len() == 1));
    }
}

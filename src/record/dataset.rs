//! The interned, normalised, read-only store of records the matching stages use.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::interner::Interner;
use super::row::RawView;
use super::stream::DatasetStream;
use super::{Consent, InputField, Record, RecordId, RowRef};
use crate::compare::Shape;
use crate::error::{Error, ErrorKind, Result};
use crate::normalize::{
    BirthDate, CheckDigit, CustomerId, DateOrder, DeviceId, Email, IdKind, Identifier, LoyaltyId,
    PersonName, Phone, Region, Rejection, SurnameGender, Ymd, usable,
};
use crate::prefetch::{AHEAD, prefetch, prefetch_whole};

/// A record's dense index in a [`Dataset`] (its rank by [`RecordId`]).
pub type RecordIx = u32;

/// The "no value" marker in dense ID columns.
pub const NONE: u32 = u32::MAX;

/// The identifier kinds stored as multi-valued integer columns, in storage order.
pub(crate) const ID_SLOTS: [IdKind; 5] = [
    IdKind::Email,
    IdKind::Phone,
    IdKind::Loyalty,
    IdKind::Device,
    IdKind::CustomerId,
];

/// The storage slot of a multi-valued identifier kind.
pub(crate) const fn slot(kind: IdKind) -> Option<usize> {
    match kind {
        IdKind::Email => Some(0),
        IdKind::Phone => Some(1),
        IdKind::Loyalty => Some(2),
        IdKind::Device => Some(3),
        IdKind::CustomerId => Some(4),
        IdKind::Name | IdKind::Dob => None,
    }
}

/// Which part of a person's name.
///
/// # Example
/// ```
/// use idstitch::NameRole;
///
/// assert_eq!(NameRole::Surname.as_str(), "surname");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameRole {
    /// The given name.
    First,
    /// The middle name or patronymic.
    Middle,
    /// The family name.
    Surname,
}

impl NameRole {
    /// Every role, in storage order.
    pub const ALL: [NameRole; 3] = [NameRole::First, NameRole::Middle, NameRole::Surname];

    /// The stable snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            NameRole::First => "first",
            NameRole::Middle => "middle",
            NameRole::Surname => "surname",
        }
    }
}

/// Why a raw value on a record takes no part in matching.
///
/// # Example
/// ```
/// use idstitch::{Excluded, Flag, Rejection};
///
/// assert_eq!(Excluded::Rejected(Rejection::Flagged(Flag::Placeholder)).code(), "placeholder");
/// assert_eq!(Excluded::OverCap.code(), "over_cap");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Excluded {
    /// The normaliser refused or flagged it.
    Rejected(Rejection),
    /// The record already holds the maximum number of values of this kind
    /// ([`DatasetBuilder::max_values_per_kind`]).
    OverCap,
    /// On the suppression list ([`DatasetBuilder::suppress`]): an identifier
    /// erased on request must never link anyone again.
    Suppressed,
}

impl Excluded {
    /// A stable snake-case code.
    pub const fn code(self) -> &'static str {
        match self {
            Excluded::Rejected(r) => r.code(),
            Excluded::OverCap => "over_cap",
            Excluded::Suppressed => "suppressed",
        }
    }
}

/// The key a canonical identifier value is suppressed by: SHA-256 of
/// `kind:value`, so a suppression list holds no raw e-mails or phones (an
/// unkeyed hash of a phone is enumerable: keep the list as private as the
/// data it protects).
///
/// # Example
/// ```
/// use idstitch::{IdKind, suppression_key};
///
/// assert_ne!(suppression_key(IdKind::Email, "a@b.ru"), suppression_key(IdKind::Phone, "a@b.ru"));
/// ```
pub fn suppression_key(kind: IdKind, canonical: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(kind.as_str().as_bytes());
    h.update(b":");
    h.update(canonical.as_bytes());
    h.finalize().into()
}

/// A raw value kept on its record but out of matching, with the reason.
///
/// `Debug` hides the value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedValue {
    /// The identifier type.
    pub kind: IdKind,
    /// The value exactly as given.
    pub raw: Box<str>,
    /// Why it is not used.
    pub reason: Excluded,
}

impl fmt::Debug for RejectedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RejectedValue")
            .field("kind", &self.kind)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// Counts from building a dataset: values accepted and excluded, per type.
///
/// # Example
/// ```
/// use idstitch::{Dataset, IdKind, Record};
///
/// let ds = Dataset::build(vec![
///     Record::new("1", "web").email("a@b.ru").email("test@test.ru"),
/// ])?;
/// let stats = ds.stats();
/// assert_eq!(stats.records, 1);
/// assert_eq!(stats.accepted[&IdKind::Email], 1);
/// assert_eq!(stats.excluded[&IdKind::Email]["placeholder"], 1);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildStats {
    /// Records in the dataset.
    pub records: u64,
    /// Usable values per identifier type (name parts count one each).
    pub accepted: BTreeMap<IdKind, u64>,
    /// Excluded values per identifier type and reason code.
    pub excluded: BTreeMap<IdKind, BTreeMap<String, u64>>,
    /// Distinct usable values per identifier type (for names: distinct name parts).
    pub distinct: BTreeMap<IdKind, u64>,
}

/// Settings for turning [`Record`]s into a [`Dataset`].
///
/// # Example
/// ```
/// use idstitch::{CheckDigit, DatasetBuilder, Record, Region};
///
/// let ds = DatasetBuilder::new()
///     .region(Region::KZ)
///     .loyalty_scheme(CheckDigit::Ean13)
///     .build(vec![Record::new("1", "pos").phone("8 701 123 45 67")])?;
/// assert_eq!(ds.record(0)?.phones().next(), Some(77011234567));
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DatasetBuilder {
    region: Region,
    loyalty_scheme: CheckDigit,
    date_order: DateOrder,
    today: Option<Ymd>,
    max_values: usize,
    suppressed: std::sync::Arc<std::collections::BTreeSet<[u8; 32]>>,
}

impl Default for DatasetBuilder {
    fn default() -> Self {
        DatasetBuilder {
            region: Region::RU,
            loyalty_scheme: CheckDigit::None,
            date_order: DateOrder::Dmy,
            today: None,
            max_values: 16,
            suppressed: Default::default(),
        }
    }
}

impl DatasetBuilder {
    /// The defaults: region RU, no loyalty check digit, day-first dates, 16
    /// values per identifier type per record.
    pub fn new() -> DatasetBuilder {
        DatasetBuilder::default()
    }

    /// The region phones are read in when a record names none.
    #[must_use]
    pub fn region(mut self, region: Region) -> DatasetBuilder {
        self.region = region;
        self
    }

    /// The check-digit scheme loyalty cards must pass.
    #[must_use]
    pub fn loyalty_scheme(mut self, scheme: CheckDigit) -> DatasetBuilder {
        self.loyalty_scheme = scheme;
        self
    }

    /// How ambiguous numeric dates (`03/04/1990`) are read.
    #[must_use]
    pub fn date_order(mut self, order: DateOrder) -> DatasetBuilder {
        self.date_order = order;
        self
    }

    /// "Today" for birth-date plausibility checks (default: the clock), so a
    /// run can be reproduced exactly.
    #[must_use]
    pub fn today(mut self, today: Ymd) -> DatasetBuilder {
        self.today = Some(today);
        self
    }

    /// The most values of one identifier type a record may contribute
    /// (1–255); further values are kept as [`Excluded::OverCap`]. This bounds
    /// the work one record can cause in blocking and comparison.
    #[must_use]
    pub fn max_values_per_kind(mut self, n: usize) -> DatasetBuilder {
        self.max_values = n;
        self
    }

    /// Identifiers never to use: [`suppression_key`]s of canonical values
    /// (an erased customer's e-mail, say). A suppressed value stays on its
    /// record as [`Excluded::Suppressed`] and takes no part in matching.
    ///
    /// # Example
    /// ```
    /// use idstitch::{DatasetBuilder, IdKind, Record, suppression_key};
    ///
    /// let ds = DatasetBuilder::new()
    ///     .suppress([suppression_key(IdKind::Email, "anna@mail.ru")])
    ///     .build(vec![Record::new("1", "web").email("Anna@Mail.ru").phone("+79123456789")])?;
    /// assert_eq!(ds.record(0)?.emails().count(), 0);
    /// assert_eq!(ds.record(0)?.rejected().next().unwrap().reason.code(), "suppressed");
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    #[must_use]
    pub fn suppress(mut self, keys: impl IntoIterator<Item = [u8; 32]>) -> DatasetBuilder {
        let mut set = (*self.suppressed).clone();
        set.extend(keys);
        self.suppressed = std::sync::Arc::new(set);
        self
    }

    /// Normalises and interns the records.
    ///
    /// Records are ordered by ID, so the result does not depend on input order.
    /// For input that should not be held in memory all at once, feed it in
    /// batches through [`DatasetBuilder::stream`]: the result is the same.
    ///
    /// # Errors
    /// [`ErrorKind::DuplicateRecordId`], [`ErrorKind::TooMany`] (over
    /// 4,294,967,294 records or distinct values), [`ErrorKind::Config`] for a
    /// value cap outside 1–255.
    pub fn build(&self, records: Vec<Record>) -> Result<Dataset> {
        let mut stream = self.stream()?;
        stream.push_last(records)?;
        stream.finish()
    }

    /// A dataset built from batches of records: each batch is normalised in
    /// parallel and interned, then dropped, so the raw records of the whole
    /// input never exist at once. [`DatasetStream::finish`] orders the
    /// records by ID; the dataset equals [`DatasetBuilder::build`] over all
    /// the batches' records, whatever the batches and their order.
    ///
    /// # Example
    /// ```
    /// use idstitch::{DatasetBuilder, Record};
    ///
    /// let mut stream = DatasetBuilder::new().stream()?;
    /// stream.push(vec![Record::new("b", "app").phone("+7 912 345 67 89")])?;
    /// stream.push(vec![Record::new("a", "crm").phone("8 (912) 345-67-89")])?;
    /// let ds = stream.finish()?;
    /// assert_eq!(ds.record_ids()[0].as_str(), "a");
    /// assert_eq!(ds.input_order(), [1, 0]);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a value cap outside 1–255.
    pub fn stream(&self) -> Result<DatasetStream> {
        if !(1..=255).contains(&self.max_values) {
            return Err(Error::config("max_values_per_kind", "must be in 1..=255"));
        }
        let today = self.today.unwrap_or_else(Ymd::today);
        Ok(DatasetStream::new(self.clone(), today))
    }

    /// Normalises one record into interning-ready values, taking what the
    /// dataset keeps out of it (its ID and address, off the sequential
    /// path) and borrowing the rest.
    pub(super) fn parse_record(
        &self,
        r: &mut Record,
        today: Ymd,
        cache: &RawCache,
        learn: bool,
    ) -> Parsed {
        let id = std::mem::take(&mut r.id).into_boxed_str();
        let address = r.address.take().map(String::into_boxed_str);
        let r: &Record = r;
        let mut p = self.parse_view(RawView::Record(r), today, cache, learn);
        p.address_key = address.as_deref().and_then(address_key);
        p.id = id;
        p.address = address;
        p
    }

    /// Normalises one borrowed row into interning-ready values.
    pub(super) fn parse_row(
        &self,
        r: &RowRef<'_>,
        today: Ymd,
        cache: &RawCache,
        learn: bool,
    ) -> Parsed {
        let view = RawView::Row(r);
        let mut p = self.parse_view(view, today, cache, learn);
        let address = view.single(InputField::Address);
        p.address_key = address.and_then(address_key);
        p.id = r.id().into();
        p.address = address.map(Into::into);
        p
    }

    /// With `learn`, the raw texts the cache lacks are kept for it (a
    /// chunk whose texts will not be learned copies none).
    fn parse_view(&self, r: RawView<'_>, today: Ymd, cache: &RawCache, learn: bool) -> Parsed {
        let mut p = Parsed {
            source: match cache.sources.get(r.source()) {
                Some(&id) => Source::Known(id),
                None => Source::new(r.source()),
            },
            seen: {
                let (first, last) = r.seen();
                [pack_seen(first), pack_seen(last)]
            },
            consent: r.consent(),
            name_ids: [NONE; 3],
            city_id: NONE,
            ..Parsed::default()
        };
        let region = r.region().unwrap_or(self.region);
        let cap = self.max_values;
        let sup = &*self.suppressed;
        r.values(InputField::Email, |s| {
            collect(&mut p.rejected, &mut p.emails, s, cap, sup, |s| {
                usable(Email::parse(s))
            });
        });
        r.values(InputField::Phone, |s| {
            collect(&mut p.rejected, &mut p.phones, s, cap, sup, |s| {
                usable(Phone::parse(s, region))
            });
        });
        r.values(InputField::LoyaltyId, |s| {
            collect(&mut p.rejected, &mut p.loyalty, s, cap, sup, |s| {
                usable(LoyaltyId::parse(s, self.loyalty_scheme))
            });
        });
        r.values(InputField::DeviceId, |s| {
            collect(&mut p.rejected, &mut p.devices, s, cap, sup, |s| {
                usable(DeviceId::parse(s))
            });
        });
        r.customer_ids(|system, raw| {
            let system = if system.is_empty() {
                r.source()
            } else {
                system
            };
            match usable(CustomerId::parse(system, raw)) {
                Ok(v)
                    if !sup.is_empty()
                        && sup.contains(&suppression_key(IdKind::CustomerId, &v.to_string())) =>
                {
                    p.reject(IdKind::CustomerId, raw, Excluded::Suppressed)
                }
                Ok(v) if p.customer_ids.len() < cap => p.customer_ids.push(v),
                Ok(_) => p.reject(IdKind::CustomerId, raw, Excluded::OverCap),
                Err(e) => p.reject(IdKind::CustomerId, raw, Excluded::Rejected(e)),
            }
        });
        let parts = [
            InputField::FirstName,
            InputField::MiddleName,
            InputField::LastName,
        ];
        for (slot, field) in parts.into_iter().enumerate() {
            if let Some(raw) = r.single(field) {
                if let Some(&id) = cache.names.get(raw) {
                    p.name_ids[slot] = id;
                    continue;
                }
                match usable(PersonName::parse(raw)) {
                    Ok(n) => {
                        p.names[slot] = Some(ParsedName::new(n));
                        if learn && RawCache::room(&cache.names) {
                            p.raw_texts().names[slot] = Some(raw.into());
                        }
                    }
                    Err(e) => p.reject(IdKind::Name, raw, Excluded::Rejected(e)),
                }
            }
        }
        if let Some(full) = r.single(InputField::FullName)
            && p.names.iter().all(Option::is_none)
            && p.name_ids == [NONE; 3]
        {
            if let Some(&ids) = cache.full_names.get(full) {
                p.name_ids = ids;
            } else {
                match usable(PersonName::parse(full)) {
                    Ok(n) => {
                        p.names = split_full_name(&n).map(|n| n.map(ParsedName::new));
                        if learn && RawCache::room(&cache.full_names) {
                            p.raw_texts().full = Some(full.into());
                        }
                    }
                    Err(e) => p.reject(IdKind::Name, full, Excluded::Rejected(e)),
                }
            }
        }
        if let Some(raw) = r.single(InputField::Dob) {
            match usable(BirthDate::parse_at(raw, self.date_order, today)) {
                Ok(d) => p.dob = pack_date(d.date()),
                Err(e) => p.reject(IdKind::Dob, raw, Excluded::Rejected(e)),
            }
        }
        if let Some(city) = r.single(InputField::City) {
            if let Some(&id) = cache.cities.get(city) {
                p.city_id = id;
            } else if let Ok(c) = PersonName::parse(city) {
                p.city = Some(c.translit_key());
                if learn && RawCache::room(&cache.cities) {
                    p.raw_texts().city = Some(city.into());
                }
            }
        }
        p
    }
}

fn collect<T>(
    rejected: &mut Vec<RejectedValue>,
    out: &mut Values<T>,
    raw: &str,
    cap: usize,
    suppressed: &std::collections::BTreeSet<[u8; 32]>,
    parse: impl Fn(&str) -> std::result::Result<T, Rejection>,
) where
    T: Identifier,
{
    let reason = match parse(raw) {
        Ok(v)
            if !suppressed.is_empty()
                && suppressed.contains(&suppression_key(T::KIND, &v.to_string())) =>
        {
            Excluded::Suppressed
        }
        Ok(v) if out.len() < cap => {
            out.push(v);
            return;
        }
        Ok(_) => Excluded::OverCap,
        Err(e) => Excluded::Rejected(e),
    };
    rejected.push(RejectedValue {
        kind: T::KIND,
        raw: raw.into(),
        reason,
    });
}

pub(super) fn check_len(n: usize, what: &'static str) -> Result<()> {
    if n >= NONE as usize {
        return Err(ErrorKind::TooMany {
            what,
            max: u64::from(NONE - 1),
        }
        .into());
    }
    Ok(())
}

/// `yyyymmdd` as one integer: equal dates are equal integers.
fn pack_date(d: Ymd) -> u32 {
    u32::from(d.year()) * 10_000 + u32::from(d.month()) * 100 + u32::from(d.day())
}

pub(crate) fn unpack_date(v: u32) -> Option<Ymd> {
    if v == NONE {
        return None;
    }
    let year = u16::try_from(v / 10_000).ok()?;
    // Both are below 100 by construction of `v % 10_000`.
    let month = u8::try_from(v / 100 % 100).ok()?;
    let day = u8::try_from(v % 100).ok()?;
    Ymd::new(year, month, day)
}

/// Splits one full-name field into first, middle and surname.
///
/// A patronymic is recognised by its ending, a first name by the nickname
/// table; the remaining token is the surname. With no known first name, a
/// two-word Cyrillic name is read surname-first (the Russian document order)
/// and a Latin one first-name-first.
fn split_full_name(name: &PersonName) -> [Option<PersonName>; 3] {
    let tokens = name.tokens();
    let mut roles: Vec<Option<usize>> = vec![None; tokens.len()];
    if tokens.len() >= 3 {
        for (i, t) in tokens.iter().enumerate() {
            if is_patronymic(t.translit_key()) && roles[i].is_none() {
                roles[i] = Some(1);
                break;
            }
        }
    }
    if let Some(i) =
        (0..tokens.len()).find(|&i| roles[i].is_none() && !tokens[i].nickname_groups().is_empty())
    {
        roles[i] = Some(0);
    }
    let cyrillic = tokens.first().is_some_and(|t| {
        t.as_str()
            .chars()
            .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
    });
    if !roles.contains(&Some(0)) {
        // No known first name: position decides.
        let free: Vec<usize> = (0..tokens.len()).filter(|&i| roles[i].is_none()).collect();
        match free.as_slice() {
            [] => {}
            [only] => roles[*only] = Some(2),
            [a, b, ..] => {
                let (first, surname) = if cyrillic { (*b, *a) } else { (*a, *b) };
                roles[first] = Some(0);
                roles[surname] = Some(2);
            }
        }
    }
    let mut parts: [Vec<&str>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (i, t) in tokens.iter().enumerate() {
        parts[roles[i].unwrap_or(2)].push(t.as_str());
    }
    parts.map(|words| {
        if words.is_empty() {
            None
        } else {
            PersonName::parse(&words.join(" ")).ok()
        }
    })
}

/// Words of an address that say what a part is, not which: street,
/// house, flat, building, town and region markers, Russian and English.
fn is_address_noise(word: &str) -> bool {
    matches!(
        word,
        "ул" | "улица"
            | "д"
            | "дом"
            | "кв"
            | "квартира"
            | "корп"
            | "корпус"
            | "к"
            | "стр"
            | "строение"
            | "пр"
            | "пр-т"
            | "проспект"
            | "пер"
            | "переулок"
            | "г"
            | "город"
            | "обл"
            | "область"
            | "р-н"
            | "street"
            | "st"
            | "str"
            | "apt"
            | "apartment"
            | "flat"
            | "house"
            | "building"
            | "bld"
            | "city"
            | "avenue"
            | "ave"
            | "road"
            | "rd"
    )
}

/// A comparable form of a street address: its lower-case letter/digit tokens
/// (`ё` as `е`) without the common address words (`ул`, `д`, `кв`, `street`…),
/// sorted so word order does not matter, joined by one space. `None` unless
/// it holds a digit and a word — a bare city or street is no household key.
pub(crate) fn address_key(raw: &str) -> Option<String> {
    if raw.len() > 512 {
        return None;
    }
    let mut tokens: Vec<String> = raw
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .flat_map(char::to_lowercase)
                .map(|c| if c == 'ё' { 'е' } else { c })
                .collect::<String>()
        })
        .filter(|w| !is_address_noise(w))
        .collect();
    let has_digit = tokens.iter().any(|t| t.chars().any(|c| c.is_ascii_digit()));
    let has_word = tokens.iter().any(|t| t.chars().any(char::is_alphabetic));
    if !(has_digit && has_word) {
        return None;
    }
    tokens.sort_unstable();
    Some(tokens.join(" "))
}

/// A token hash's flag: the token holds a digit.
pub(crate) const TOKEN_NUMBER: u64 = 1;
/// A token hash's flag: a word of four letters or more (may match fuzzily).
pub(crate) const TOKEN_FUZZY: u64 = 2;

/// Appends the sorted token hashes of an address key (at most 32): FNV-1a of
/// the token with the low two bits replaced by [`TOKEN_NUMBER`] and
/// [`TOKEN_FUZZY`].
pub(crate) fn address_token_hashes(key: &str, out: &mut Vec<u64>) {
    let start = out.len();
    for t in key.split(' ').filter(|t| !t.is_empty()).take(32) {
        let h = t.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        });
        let flags = if t.bytes().any(|c| c.is_ascii_digit()) {
            TOKEN_NUMBER
        } else if t.chars().nth(3).is_some() {
            TOKEN_FUZZY
        } else {
            0
        };
        out.push(h & !3 | flags);
    }
    out[start..].sort_unstable();
}

/// Reorders `items` so that `items[i]` becomes the old `items[order[i]]`
/// (`order` a permutation), by following its cycles with swaps.
/// The items at positions `order` (each at most once), in that order; the
/// others are dropped.
pub(super) fn gather<T>(items: Vec<T>, order: &[u32]) -> Vec<T> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order
        .iter()
        .enumerate()
        .filter_map(|(k, &i)| {
            if let Some(ahead) = order.get(k + AHEAD).and_then(|&j| slots.get(j as usize)) {
                prefetch(ahead);
            }
            slots.get_mut(i as usize).and_then(Option::take)
        })
        .collect()
}

/// The first eight bytes of an ID as a big-endian integer (zero-padded), so
/// integer order agrees with byte-string order wherever the prefixes differ.
pub(super) fn id_prefix(id: &str) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(id.as_bytes()) {
        *d = *s;
    }
    u64::from_be_bytes(b)
}

fn is_patronymic(key: &str) -> bool {
    ["vich", "vna", "ichna", "ogly", "kyzy", "oglu"]
        .iter()
        .any(|s| key.len() > s.len() + 2 && key.ends_with(s))
}

/// One record's normalised values, ready to intern. Owns what it holds,
/// so a chunk's values can be interned after the rows they were parsed
/// from are gone (while the next chunk is parsed).
#[derive(Default)]
pub(super) struct Parsed {
    id: Box<str>,
    source: Source,
    address: Option<Box<str>>,
    address_key: Option<String>,
    /// First and last seen, packed ([`pack_seen`]).
    seen: [i64; 2],
    consent: Consent,
    emails: Values<Email>,
    phones: Values<Phone>,
    loyalty: Values<LoyaltyId>,
    devices: Values<DeviceId>,
    customer_ids: Values<CustomerId>,
    /// Name parts parsed here (most come from the [`RawCache`] instead,
    /// so a parsed one is boxed: the record stays small).
    names: [Option<Box<ParsedName>>; 3],
    /// Name IDs found in the [`RawCache`] ([`NONE`]: parsed into `names`,
    /// or absent).
    name_ids: [u32; 3],
    dob: u32,
    city: Option<String>,
    /// The city's ID from the [`RawCache`] ([`NONE`]: parsed into `city`,
    /// or absent).
    city_id: u32,
    /// The raw texts parsed here, for the cache while it has room (none
    /// once a record's texts are all cached).
    raw: Option<Box<RawTexts>>,
    rejected: Vec<RejectedValue>,
}

/// A parsed name part and its canonical text.
struct ParsedName {
    name: PersonName,
    text: String,
}

impl ParsedName {
    fn new(name: PersonName) -> Box<ParsedName> {
        let text = name.to_string();
        Box::new(ParsedName { name, text })
    }
}

/// The raw texts a record's parsed values came from.
#[derive(Default)]
struct RawTexts {
    /// Name parts parsed alone (not cached, not split from a full name).
    names: [Option<Box<str>>; 3],
    /// A full name split into the parts.
    full: Option<Box<str>>,
    city: Option<Box<str>>,
}

/// One record's values of one kind: most records hold at most one, kept
/// inline (a vector per kind per record was an allocation each).
type Values<T> = smallvec::SmallVec<[T; 1]>;

/// A record's source as parsed: its ID when an interned chunk had it
/// already (nearly always: sources are few), else its text, inline when
/// short (a new stream's first chunks, or a small build, would otherwise
/// allocate per record).
enum Source {
    Known(u32),
    Short(u8, [u8; 22]),
    Long(Box<str>),
}

impl Source {
    fn new(text: &str) -> Source {
        let mut bytes = [0u8; 22];
        match bytes.get_mut(..text.len()) {
            Some(b) => {
                b.copy_from_slice(text.as_bytes());
                // At most 22 bytes: the slice above exists.
                Source::Short(text.len() as u8, bytes)
            }
            None => Source::Long(text.into()),
        }
    }

    /// The text of a source no interned chunk had.
    fn text(&self) -> Option<&str> {
        match self {
            Source::Known(_) => None,
            // `new` copied a whole `str` there: the bytes are UTF-8.
            Source::Short(len, bytes) => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok()),
            Source::Long(text) => Some(text),
        }
    }
}

impl Default for Source {
    fn default() -> Source {
        Source::Short(0, [0; 22])
    }
}

/// Name parts, full names and cities already interned while staging, by
/// raw text, and the staged sources.
///
/// Most name parts and cities repeat (at 1M generated records, 1,432
/// distinct first names in 487,673), and parsing one is the costliest step
/// of normalising a record; a repeat is looked up here instead. Full names
/// repeat less (75,513 distinct in 151,774) but cost a parse and a split.
/// Parsing is a pure function of the raw text, so a cached ID is the ID a
/// parse would have interned. Bounded: past [`RawCache::MAX`] entries per
/// map new texts are parsed every time.
#[derive(Default)]
pub(super) struct RawCache {
    names: hashbrown::HashMap<Box<str>, u32, rustc_hash::FxBuildHasher>,
    /// The name-part IDs (or [`NONE`]) a full name was split into.
    full_names: hashbrown::HashMap<Box<str>, [u32; 3], rustc_hash::FxBuildHasher>,
    /// Source IDs, as the staged dataset numbers them.
    sources: hashbrown::HashMap<Box<str>, u32, rustc_hash::FxBuildHasher>,
    cities: hashbrown::HashMap<Box<str>, u32, rustc_hash::FxBuildHasher>,
}

/// Counts only: the keys are personal data.
impl fmt::Debug for RawCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawCache")
            .field("names", &self.names.len())
            .field("full_names", &self.full_names.len())
            .field("sources", &self.sources.len())
            .field("cities", &self.cities.len())
            .finish()
    }
}

impl RawCache {
    /// Entries per map; beyond it, a hostile input of distinct names costs
    /// parsing, not memory.
    const MAX: usize = 1 << 20;

    /// Remembers the raw texts `parsed` interned into `rows` (the rows
    /// [`Dataset::push_staged`] appended for them, in order).
    pub(super) fn learn(&mut self, parsed: &[Parsed], rows: &[Row]) {
        for (p, row) in parsed.iter().zip(rows) {
            let Some(raw) = &p.raw else { continue };
            for (text, &id) in raw.names.iter().zip(&row.names) {
                RawCache::remember(&mut self.names, text.as_deref(), id);
            }
            RawCache::remember(&mut self.cities, raw.city.as_deref(), row.city);
            // Every part the split gave is in `row.names`; a part it did not
            // give is NONE there, as a parse would leave it.
            if let Some(raw) = raw.full.as_deref() {
                RawCache::keep(&mut self.full_names, raw, row.names);
            }
        }
    }

    /// Remembers the sources (and customer-ID systems) `staged` interned
    /// since the last call, as long as the map has room.
    pub(super) fn learn_sources(&mut self, staged: &Dataset) {
        // Interned IDs are below u32::MAX.
        let from = self.sources.len() as u32;
        for id in from..staged.sources.len() as u32 {
            match staged.sources.value(id) {
                Some(s) if RawCache::room(&self.sources) => {
                    self.sources.insert(s.clone(), id);
                }
                _ => break,
            }
        }
    }

    /// Whether `map` takes more entries: parsing keeps a raw text for
    /// [`RawCache::learn`] only then.
    fn room<V>(map: &hashbrown::HashMap<Box<str>, V, rustc_hash::FxBuildHasher>) -> bool {
        map.len() < RawCache::MAX
    }

    /// Remembers `raw` → `id` unless `id` is [`NONE`] (nothing was interned).
    fn remember(
        map: &mut hashbrown::HashMap<Box<str>, u32, rustc_hash::FxBuildHasher>,
        raw: Option<&str>,
        id: u32,
    ) {
        if let Some(raw) = raw
            && id != NONE
        {
            RawCache::keep(map, raw, id);
        }
    }

    /// Adds `raw` → `value` if the map has room and lacks `raw`.
    fn keep<V>(
        map: &mut hashbrown::HashMap<Box<str>, V, rustc_hash::FxBuildHasher>,
        raw: &str,
        value: V,
    ) {
        if RawCache::room(map)
            && let hashbrown::hash_map::EntryRef::Vacant(slot) = map.entry_ref(raw)
        {
            slot.insert(value);
        }
    }
}

impl Parsed {
    fn raw_texts(&mut self) -> &mut RawTexts {
        self.raw.get_or_insert_default()
    }
    fn reject(&mut self, kind: IdKind, raw: &str, reason: Excluded) {
        self.rejected.push(RejectedValue {
            kind,
            raw: raw.into(),
            reason,
        });
    }
}

/// The stored "not seen" time.
pub(crate) const UNSEEN: i64 = i64::MIN;

fn pack_seen(t: Option<i64>) -> i64 {
    t.unwrap_or(UNSEEN)
}

/// One record's fixed-size matching data: 36 bytes, so a comparison touches
/// one cache line per side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Row {
    /// Name-part IDs ([`NameRole`] order) into the name dictionary, or [`NONE`].
    pub(crate) names: [u32; 3],
    /// Birth date as `yyyymmdd`, or [`NONE`].
    pub(crate) dob: u32,
    /// City key ID, or [`NONE`].
    pub(crate) city: u32,
    /// Address key ID, or [`NONE`].
    pub(crate) address: u32,
    /// Start of this record's identifier IDs in [`Dataset::values`].
    pub(crate) ids_start: u32,
    /// Number of identifier IDs per slot ([`ID_SLOTS`] order), each sorted.
    pub(crate) ids_len: [u8; 5],
    /// Source ID.
    pub(crate) source: u16,
}

/// What the matching stages need to know about one distinct name part.
#[derive(Debug, Clone)]
pub(crate) struct NameEntry {
    /// The canonical text (tokens joined by a space).
    pub(crate) text: Box<str>,
    /// Transliteration key ID (in `name_keys`).
    pub(crate) key: u32,
    /// Masculine surname stem key ID (in `name_keys`).
    pub(crate) stem: u32,
    /// Phonetic key ID (in `name_keys`).
    pub(crate) phonetic: u32,
    /// Nickname groups of the first token.
    pub(crate) groups: &'static [u16],
    /// Gender of the surname ending.
    pub(crate) gender: SurnameGender,
    /// The transliteration key's shape, for a similarity bound that needs
    /// no key text.
    pub(crate) shape: Shape,
}

impl NameEntry {
    /// The keys a first name is grouped by: one per nickname group (high bit
    /// set), or its transliteration key for names outside the table. The
    /// first is the name's canonical person key.
    pub(crate) fn first_name_keys(&self) -> impl Iterator<Item = u32> + '_ {
        let own = self.groups.is_empty().then_some(self.key & 0x7FFF_FFFF);
        own.into_iter()
            .chain(self.groups.iter().map(|&g| 0x8000_0000 | u32::from(g)))
    }
}

/// Normalised, interned records: the input of blocking, comparison and scoring.
///
/// Records are held in [`RecordId`] order and addressed by a dense
/// [`RecordIx`]; every identifier value is a dense integer per type, so the
/// later stages work on integers, not strings. `Debug` shows sizes only.
///
/// # Example
/// ```
/// use idstitch::{Dataset, Record};
///
/// let ds = Dataset::build(vec![
///     Record::new("b", "app").phone("+7 912 345 67 89"),
///     Record::new("a", "crm").phone("8 (912) 345-67-89").email("Ivan@Mail.ru"),
/// ])?;
/// assert_eq!(ds.len(), 2);
/// let a = ds.record(0)?;
/// assert_eq!(a.id().as_str(), "a");
/// assert_eq!(a.emails().collect::<Vec<_>>(), ["ivan@mail.ru"]);
/// assert_eq!(a.phones().collect::<Vec<_>>(), ds.record(1)?.phones().collect::<Vec<_>>());
/// # Ok::<(), idstitch::Error>(())
/// ```
pub struct Dataset {
    pub(crate) ids: Vec<RecordId>,
    /// The record index of each record in the order `build` received them.
    pub(crate) input_index: Vec<RecordIx>,
    pub(crate) rows: Vec<Row>,
    pub(crate) values: Vec<u32>,
    /// First and last seen per record; [`UNSEEN`] for unknown (16 bytes,
    /// not the 32 of two `Option<i64>`).
    pub(crate) seen: Vec<[i64; 2]>,
    pub(crate) consent: Vec<Consent>,
    pub(crate) addresses: Vec<Option<Box<str>>>,
    /// Excluded raw values, with the record they belong to.
    pub(crate) rejected: Vec<(RecordIx, RejectedValue)>,
    pub(crate) sources: Interner<Box<str>>,
    pub(crate) emails: Interner<Box<str>>,
    /// Local-part ID (in `email_locals`) per e-mail ID.
    pub(crate) email_local: Vec<u32>,
    pub(crate) email_locals: Interner<Box<str>>,
    pub(crate) phones: Interner<u64>,
    pub(crate) loyalty: Interner<Box<str>>,
    pub(crate) devices: Interner<DeviceId>,
    pub(crate) customer_ids: Interner<(Box<str>, Box<str>)>,
    /// System ID (in `sources`) per customer-ID ID.
    pub(crate) customer_system: Vec<u32>,
    pub(crate) names: Interner<Box<str>>,
    pub(crate) name_info: Vec<NameEntry>,
    pub(crate) name_keys: Interner<Box<str>>,
    pub(crate) cities: Interner<Box<str>>,
    /// Normalised address keys.
    pub(crate) address_keys: Interner<Box<str>>,
    /// Token hashes of each address key ([`address_token_hashes`]), flat.
    pub(crate) address_tokens: Vec<u64>,
    /// End of each address key's hashes in `address_tokens`, by key ID.
    pub(crate) address_token_ends: Vec<u32>,
    /// Records holding each value, per identifier slot.
    pub(crate) value_freq: [Vec<u32>; 5],
    /// Records per name key ID, per [`NameRole`].
    pub(crate) key_freq: [Vec<u32>; 3],
    /// Records per city ID.
    pub(crate) city_freq: Vec<u32>,
    pub(crate) stats: BuildStats,
}

impl fmt::Debug for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dataset")
            .field("records", &self.rows.len())
            .field("values", &self.values.len())
            .field("rejected", &self.rejected.len())
            .finish_non_exhaustive()
    }
}

impl Dataset {
    /// Starts loading the row of record `ix`.
    #[inline]
    pub(crate) fn prefetch_row(&self, ix: RecordIx) {
        if let Some(r) = self.rows.get(ix as usize) {
            prefetch_whole(r);
        }
    }

    /// Starts loading the identifier IDs of record `ix` (reads its row:
    /// best once [`Dataset::prefetch_row`] has brought it in).
    #[inline]
    pub(crate) fn prefetch_values(&self, ix: RecordIx) {
        if let Some(v) = self
            .rows
            .get(ix as usize)
            .and_then(|r| self.values.get(r.ids_start as usize))
        {
            prefetch(v);
        }
    }

    /// For step `k` of a walk over records `order`: the rows
    /// [`AHEAD`] steps ahead, the identifier IDs half as far.
    #[inline]
    pub(crate) fn prefetch_walk(&self, order: &[RecordIx], k: usize) {
        if let Some(&ix) = order.get(k + AHEAD) {
            self.prefetch_row(ix);
        }
        if let Some(&ix) = order.get(k + AHEAD / 2) {
            self.prefetch_values(ix);
        }
    }

    /// The sorted token hashes of address key `id` (empty for an unknown ID).
    pub(crate) fn address_hashes(&self, id: u32) -> &[u64] {
        let i = id as usize;
        let end = self.address_token_ends.get(i).copied().unwrap_or(0);
        let start = match i.checked_sub(1) {
            Some(p) => self.address_token_ends.get(p).copied().unwrap_or(end),
            None => 0,
        };
        self.address_tokens
            .get(start as usize..end as usize)
            .unwrap_or(&[])
    }

    /// Builds a dataset with the default [`DatasetBuilder`] settings.
    ///
    /// # Errors
    /// As [`DatasetBuilder::build`].
    pub fn build(records: Vec<Record>) -> Result<Dataset> {
        DatasetBuilder::new().build(records)
    }

    pub(super) fn empty() -> Dataset {
        Dataset {
            ids: Vec::new(),
            input_index: Vec::new(),
            rows: Vec::new(),
            values: Vec::new(),
            seen: Vec::new(),
            consent: Vec::new(),
            addresses: Vec::new(),
            rejected: Vec::new(),
            sources: Interner::default(),
            emails: Interner::default(),
            email_local: Vec::new(),
            email_locals: Interner::default(),
            phones: Interner::default(),
            loyalty: Interner::default(),
            devices: Interner::default(),
            customer_ids: Interner::default(),
            customer_system: Vec::new(),
            names: Interner::default(),
            name_info: Vec::new(),
            name_keys: Interner::default(),
            cities: Interner::default(),
            address_keys: Interner::default(),
            address_tokens: Vec::new(),
            address_token_ends: Vec::new(),
            value_freq: Default::default(),
            key_freq: Default::default(),
            city_freq: Vec::new(),
            stats: BuildStats::default(),
        }
    }

    /// Room for `additional` more staged records, each table sized by what
    /// the records staged so far needed per record.
    ///
    /// A hint, so never an error: `additional` is capped at 1,024 times the
    /// records staged so far and at what a dataset can hold, and a
    /// reservation the allocator refuses is skipped. An estimate too high
    /// (a first batch unlike the rest) reserves address space, not memory,
    /// beyond the hash tables' control bytes: a byte per slot.
    pub(super) fn reserve_staged(&mut self, additional: usize) {
        let n = self.rows.len().max(1);
        let additional = additional
            .min(n.saturating_mul(1024))
            .min((NONE as usize).saturating_sub(n));
        let scale = |held: usize| held.saturating_mul(additional) / n;
        fn hint<T>(v: &mut Vec<T>, additional: usize) {
            // A hint: a refused reservation changes nothing.
            let _ = v.try_reserve(additional);
        }
        hint(&mut self.rows, additional);
        hint(&mut self.ids, additional);
        hint(&mut self.seen, additional);
        hint(&mut self.consent, additional);
        hint(&mut self.addresses, additional);
        let len = (self.values.len(), self.email_local.len());
        hint(&mut self.values, scale(len.0));
        hint(&mut self.email_local, scale(len.1));
        let len = (self.name_info.len(), self.customer_system.len());
        hint(&mut self.name_info, scale(len.0));
        hint(&mut self.customer_system, scale(len.1));
        // Half the scaled count for the dictionaries: a first batch holds
        // mostly first sightings (a person's records are spread through a
        // file), so scaling it overestimates, and a table's slots are all
        // touched once values land in them; growing past a short estimate
        // moves slots, never rehashes a value.
        let half = |held: usize| scale(held) / 2;
        for interner in [
            &mut self.emails,
            &mut self.email_locals,
            &mut self.loyalty,
            &mut self.names,
            &mut self.name_keys,
            &mut self.address_keys,
        ] {
            interner.reserve(half(interner.len()));
        }
        self.phones.reserve(half(self.phones.len()));
        self.devices.reserve(half(self.devices.len()));
        self.customer_ids.reserve(half(self.customer_ids.len()));
    }

    /// Interns a batch of parsed records at the end, in arrival order (the
    /// staging step of [`DatasetStream`]): identifier IDs per slot are kept
    /// distinct in first-seen order, and no frequencies or statistics are
    /// counted — [`DatasetStream::finish`] renumbers everything in record-ID
    /// order and counts them there, so the staged numbering is free to come
    /// from two interning tasks running side by side. The records' IDs,
    /// addresses and rejected values are moved out of `parsed`.
    pub(super) fn push_staged(&mut self, parsed: &mut [Parsed]) -> Result<()> {
        let shared: &[Parsed] = parsed;
        // Two tasks over disjoint dictionaries; each writes, per record, its
        // IDs with a count before every multi-valued slot.
        let (contacts, names) = rayon::join(
            || -> Result<Vec<u32>> {
                let mut out = Vec::with_capacity(shared.len() * 6);
                for (k, p) in shared.iter().enumerate() {
                    if let Some(ahead) = shared.get(k + AHEAD) {
                        for e in &ahead.emails {
                            self.emails.prefetch(e.as_str());
                        }
                        for d in &ahead.devices {
                            self.devices.prefetch(d);
                        }
                    }
                    out.push(match &p.source {
                        Source::Known(id) => *id,
                        new => self.sources.intern_ref(new.text().unwrap_or_default())?,
                    });
                    let at = open_slot(&mut out);
                    for e in &p.emails {
                        let id = self.emails.intern_ref(e.as_str())?;
                        if id as usize == self.email_local.len() {
                            let local = self.email_locals.intern_ref(e.local())?;
                            self.email_local.push(local);
                        }
                        push_distinct(&mut out, at, id);
                    }
                    close_slot(&mut out, at);
                    let at = open_slot(&mut out);
                    for d in &p.devices {
                        push_distinct(&mut out, at, self.devices.intern(*d)?);
                    }
                    close_slot(&mut out, at);
                    let at = open_slot(&mut out);
                    for c in &p.customer_ids {
                        let id = self
                            .customer_ids
                            .intern((c.system().into(), c.id().into()))?;
                        if id as usize == self.customer_system.len() {
                            let system = self.sources.intern_ref(c.system())?;
                            self.customer_system.push(system);
                        }
                        push_distinct(&mut out, at, id);
                    }
                    close_slot(&mut out, at);
                }
                Ok(out)
            },
            || -> Result<Vec<u32>> {
                let mut out = Vec::with_capacity(shared.len() * 10);
                for (k, p) in shared.iter().enumerate() {
                    if let Some(ahead) = shared.get(k + AHEAD) {
                        for ph in &ahead.phones {
                            self.phones.prefetch(&ph.e164());
                        }
                        for l in &ahead.loyalty {
                            self.loyalty.prefetch(l.as_str());
                        }
                        for n in ahead.names.iter().flatten() {
                            self.names.prefetch(n.text.as_str());
                        }
                        if let Some(k) = &ahead.address_key {
                            self.address_keys.prefetch(k.as_str());
                        }
                    }
                    let at = open_slot(&mut out);
                    for ph in &p.phones {
                        push_distinct(&mut out, at, self.phones.intern(ph.e164())?);
                    }
                    close_slot(&mut out, at);
                    let at = open_slot(&mut out);
                    for l in &p.loyalty {
                        push_distinct(&mut out, at, self.loyalty.intern_ref(l.as_str())?);
                    }
                    close_slot(&mut out, at);
                    for (name, &cached) in p.names.iter().zip(&p.name_ids) {
                        out.push(match name {
                            Some(n) => intern_name(
                                &mut self.names,
                                &mut self.name_keys,
                                &mut self.name_info,
                                &n.name,
                                &n.text,
                            )?,
                            None => cached,
                        });
                    }
                    out.push(match &p.city {
                        Some(c) => self.cities.intern_ref(c.as_str())?,
                        None => p.city_id,
                    });
                    out.push(match &p.address_key {
                        Some(k) => {
                            let id = self.address_keys.intern_ref(k.as_str())?;
                            if id as usize == self.address_token_ends.len() {
                                address_token_hashes(k, &mut self.address_tokens);
                                // At most 32 hashes per key, and `check_len`
                                // bounds the number of keys: the total stays
                                // far below u32::MAX.
                                self.address_token_ends
                                    .push(self.address_tokens.len() as u32);
                            }
                            id
                        }
                        None => NONE,
                    });
                }
                Ok(out)
            },
        );
        let (contacts, names) = (contacts?, names?);
        let (mut i, mut j) = (0usize, 0usize);
        for p in parsed.iter_mut() {
            // `DatasetStream::push` checked the record count fits below u32::MAX.
            let ix = self.rows.len() as u32;
            let source = u16::try_from(contacts[i]).map_err(|_| ErrorKind::TooMany {
                what: "sources",
                max: u64::from(u16::MAX),
            })?;
            i += 1;
            let ids_start = u32::try_from(self.values.len()).map_err(|_| ErrorKind::TooMany {
                what: "identifier values",
                max: u64::from(u32::MAX),
            })?;
            let mut ids_len = [0u8; 5];
            // Slots in storage order: e-mail, device and customer ID from
            // the first task, phone and loyalty card from the second (the
            // split that balances the two at 1M generated records).
            let mut take = |from: &[u32], at: &mut usize, slot: usize| {
                let n = from[*at] as usize;
                self.values.extend_from_slice(&from[*at + 1..*at + 1 + n]);
                // The builder caps values per kind at 255.
                ids_len[slot] = n as u8;
                *at += 1 + n;
            };
            take(&contacts, &mut i, 0);
            take(&names, &mut j, 1);
            take(&names, &mut j, 2);
            take(&contacts, &mut i, 3);
            take(&contacts, &mut i, 4);
            check_len(self.values.len(), "identifier values")?;
            let row_names = [names[j], names[j + 1], names[j + 2]];
            let (city, address) = (names[j + 3], names[j + 4]);
            j += 5;
            self.rejected
                .extend(std::mem::take(&mut p.rejected).into_iter().map(|r| (ix, r)));
            self.rows.push(Row {
                names: row_names,
                dob: if p.dob == 0 { NONE } else { p.dob },
                city,
                address,
                ids_start,
                ids_len,
                source,
            });
            self.ids.push(RecordId(std::mem::take(&mut p.id)));
            self.seen.push(p.seen);
            self.consent.push(p.consent);
            self.addresses.push(p.address.take());
        }
        Ok(())
    }
}

/// Starts a count-prefixed slot in an interning task's output.
fn open_slot(out: &mut Vec<u32>) -> usize {
    out.push(0);
    out.len() - 1
}

/// Appends `id` to the slot opened at `at` unless it holds it already.
fn push_distinct(out: &mut Vec<u32>, at: usize, id: u32) {
    if !out[at + 1..].contains(&id) {
        out.push(id);
    }
}

/// Writes the count of the slot opened at `at`.
fn close_slot(out: &mut [u32], at: usize) {
    // At most 255 values per kind (the builder's cap).
    out[at] = (out.len() - at - 1) as u32;
}

/// Interns a name part and, when new, its keys and side-table entry.
fn intern_name(
    names: &mut Interner<Box<str>>,
    name_keys: &mut Interner<Box<str>>,
    name_info: &mut Vec<NameEntry>,
    n: &PersonName,
    text: &str,
) -> Result<u32> {
    let id = names.intern_ref(text)?;
    if id as usize == name_info.len() {
        let first = n.tokens().first();
        let key_text = n.translit_key();
        let shape = Shape::of(&key_text);
        let key = name_keys.intern(key_text.into_boxed_str())?;
        let stem = name_keys.intern(
            first
                .map(|t| t.surname_stem())
                .unwrap_or_default()
                .into_boxed_str(),
        )?;
        let phonetic = name_keys.intern(
            first
                .map(|t| t.phonetic_key())
                .unwrap_or_default()
                .into_boxed_str(),
        )?;
        name_info.push(NameEntry {
            text: text.into(),
            key,
            stem,
            phonetic,
            groups: first.map_or(&[], |t| t.nickname_groups()),
            gender: first.map_or(SurnameGender::Unknown, |t| t.surname_gender()),
            shape,
        });
    }
    Ok(id)
}

impl Dataset {
    /// The number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the dataset holds no records.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Counts of accepted and excluded values.
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }

    /// The record index of each record in the order they were given to
    /// [`DatasetBuilder::build`]: `input_order()[i]` is the `i`-th input
    /// record. Writing results in input order needs no ID lookups.
    ///
    /// # Example
    /// ```
    /// use idstitch::{Dataset, Record};
    ///
    /// let ds = Dataset::build(vec![Record::new("b", "web"), Record::new("a", "web")])?;
    /// assert_eq!(ds.input_order(), [1, 0]);
    /// assert_eq!(ds.record_ids()[ds.input_order()[0] as usize].as_str(), "b");
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn input_order(&self) -> &[RecordIx] {
        &self.input_index
    }

    /// The index of the record with this ID (a binary search: for many
    /// lookups in input order, [`Dataset::input_order`] is faster).
    pub fn index_of(&self, id: &RecordId) -> Option<RecordIx> {
        // Records are sorted by ID and there are fewer than u32::MAX of them.
        self.ids.binary_search(id).ok().map(|i| i as u32)
    }

    /// One record's normalised contents.
    ///
    /// # Errors
    /// [`ErrorKind::RecordIndex`] when `ix` is out of range.
    pub fn record(&self, ix: RecordIx) -> Result<RecordView<'_>> {
        if ix as usize >= self.rows.len() {
            return Err(ErrorKind::RecordIndex {
                index: ix,
                len: self.rows.len(),
            }
            .into());
        }
        Ok(RecordView { ds: self, ix })
    }

    /// Every record ID, in index order.
    pub fn record_ids(&self) -> &[RecordId] {
        &self.ids
    }

    /// The source system name of a record.
    pub(crate) fn source_of(&self, r: RecordIx) -> &str {
        self.rows
            .get(r as usize)
            .and_then(|row| self.sources.value(u32::from(row.source)))
            .map_or("", |s| s)
    }

    /// The identifier IDs of one slot for one record (sorted, distinct).
    #[inline]
    pub(crate) fn slot_values(&self, ix: RecordIx, slot: usize) -> &[u32] {
        let row = &self.rows[ix as usize];
        let before: usize = row.ids_len[..slot].iter().map(|&l| l as usize).sum();
        let start = row.ids_start as usize + before;
        &self.values[start..start + row.ids_len[slot] as usize]
    }

    /// All five identifier slots of a record ([`ID_SLOTS`] order), from one
    /// read of its row.
    pub(crate) fn all_slot_values(&self, ix: RecordIx) -> [&[u32]; 5] {
        let row = &self.rows[ix as usize];
        let mut start = row.ids_start as usize;
        row.ids_len.map(|len| {
            let values = &self.values[start..start + len as usize];
            start += len as usize;
            values
        })
    }

    /// A printable form of an interned identifier value (personal data: for
    /// callers that decided to show it, never for logs).
    pub fn value_text(&self, kind: IdKind, id: u32) -> Option<String> {
        match kind {
            IdKind::Email => self.emails.value(id).map(|v| v.to_string()),
            IdKind::Phone => self.phones.value(id).map(|v| format!("+{v}")),
            IdKind::Loyalty => self.loyalty.value(id).map(|v| v.to_string()),
            IdKind::Device => self.devices.value(id).map(ToString::to_string),
            IdKind::CustomerId => self.customer_ids.value(id).map(|(s, v)| format!("{s}:{v}")),
            IdKind::Name => self.names.value(id).map(|v| v.to_string()),
            IdKind::Dob => unpack_date(id).map(|d| d.to_string()),
        }
    }
}

/// A read-only view of one record in a [`Dataset`]. `Debug` hides values.
#[derive(Clone, Copy)]
pub struct RecordView<'a> {
    ds: &'a Dataset,
    ix: RecordIx,
}

impl fmt::Debug for RecordView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordView")
            .field("ix", &self.ix)
            .field("id", self.id())
            .finish_non_exhaustive()
    }
}

impl<'a> RecordView<'a> {
    fn row(&self) -> &'a Row {
        &self.ds.rows[self.ix as usize]
    }

    /// The dense index.
    pub fn index(&self) -> RecordIx {
        self.ix
    }

    /// The record's ID.
    pub fn id(&self) -> &'a RecordId {
        &self.ds.ids[self.ix as usize]
    }

    /// The source system.
    pub fn source(&self) -> &'a str {
        self.ds.source_of(self.ix)
    }

    /// Canonical e-mail addresses, sorted by interned ID.
    pub fn emails(&self) -> impl Iterator<Item = &'a str> + 'a {
        let ds = self.ds;
        ds.slot_values(self.ix, 0)
            .iter()
            .filter_map(move |&id| ds.emails.value(id).map(|s| &**s))
    }

    /// Phones as E.164 digits (`79123456789`).
    pub fn phones(&self) -> impl Iterator<Item = u64> + 'a {
        let ds = self.ds;
        ds.slot_values(self.ix, 1)
            .iter()
            .filter_map(move |&id| ds.phones.value(id).copied())
    }

    /// Interned identifier IDs of one type (empty for names and dates).
    pub fn value_ids(&self, kind: IdKind) -> &'a [u32] {
        slot(kind).map_or(&[], |s| self.ds.slot_values(self.ix, s))
    }

    /// A canonical name part.
    pub fn name(&self, role: NameRole) -> Option<&'a str> {
        let id = self.row().names[role as usize];
        self.ds.name_info.get(id as usize).map(|e| &*e.text)
    }

    /// The date of birth.
    pub fn birth_date(&self) -> Option<Ymd> {
        unpack_date(self.row().dob)
    }

    /// The street address as given.
    pub fn address(&self) -> Option<&'a str> {
        self.ds.addresses[self.ix as usize].as_deref()
    }

    /// First and last seen (Unix seconds; `i64::MIN` reads as unknown).
    pub fn seen(&self) -> (Option<i64>, Option<i64>) {
        let [first, last] = self.ds.seen[self.ix as usize];
        let open = |t: i64| (t != UNSEEN).then_some(t);
        (open(first), open(last))
    }

    /// Consent flags.
    pub fn consent(&self) -> Consent {
        self.ds.consent[self.ix as usize]
    }

    /// Raw values kept out of matching, with reasons.
    pub fn rejected(&self) -> impl Iterator<Item = &'a RejectedValue> + 'a {
        let ix = self.ix;
        let all = &self.ds.rejected;
        let start = all.partition_point(|(r, _)| *r < ix);
        all[start..]
            .iter()
            .take_while(move |(r, _)| *r == ix)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Flag;

    fn ds(records: Vec<Record>) -> Dataset {
        DatasetBuilder::new()
            .today(Ymd::new(2026, 1, 1).unwrap())
            .build(records)
            .unwrap()
    }

    #[test]
    fn input_order_does_not_change_indices_or_ids() {
        let recs = vec![
            Record::new("c", "web").email("x@y.ru"),
            Record::new("a", "web").email("z@y.ru").phone("89123456789"),
            Record::new("b", "app").email("x@y.ru"),
        ];
        let mut rev = recs.clone();
        rev.reverse();
        let (d1, d2) = (ds(recs), ds(rev));
        for ix in 0..3 {
            assert_eq!(d1.record(ix).unwrap().id(), d2.record(ix).unwrap().id());
            assert_eq!(
                d1.record(ix).unwrap().value_ids(IdKind::Email),
                d2.record(ix).unwrap().value_ids(IdKind::Email)
            );
        }
        assert_eq!(d1.value_freq[0], vec![1, 2]);
    }

    #[test]
    fn duplicate_ids_are_an_error() {
        let err = DatasetBuilder::new()
            .build(vec![Record::new("a", "x"), Record::new("a", "y")])
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::DuplicateRecordId { .. }));
        assert_eq!(err.to_string(), "duplicate record id a");
    }

    #[test]
    fn unusable_values_stay_on_the_record_with_a_reason() {
        let d = ds(vec![
            Record::new("a", "pos")
                .phone("+7 999 999-99-99")
                .phone("8 912 345 67 89")
                .email("not an email")
                .first_name("test")
                .birth_date("31.02.1990"),
        ]);
        let r = d.record(0).unwrap();
        assert_eq!(r.phones().count(), 1);
        let reasons: Vec<_> = r.rejected().map(|v| (v.kind, v.reason.code())).collect();
        assert_eq!(
            reasons,
            [
                (IdKind::Email, "syntax"),
                (IdKind::Phone, "placeholder"),
                (IdKind::Name, "placeholder"),
                (IdKind::Dob, "impossible_date"),
            ]
        );
        let phone = r.rejected().nth(1).unwrap();
        assert_eq!(
            phone.reason,
            Excluded::Rejected(Rejection::Flagged(Flag::Placeholder))
        );
        assert_eq!(&*phone.raw, "+7 999 999-99-99");
        assert!(!format!("{phone:?}").contains("999"));
        assert_eq!(d.stats().excluded[&IdKind::Phone]["placeholder"], 1);
    }

    #[test]
    fn values_over_the_cap_are_kept_as_over_cap() {
        let mut r = Record::new("a", "crm");
        for i in 0..5 {
            r = r.email(format!("user{i}@corp.ru"));
        }
        let d = DatasetBuilder::new()
            .max_values_per_kind(3)
            .build(vec![r])
            .unwrap();
        let v = d.record(0).unwrap();
        assert_eq!(v.emails().count(), 3);
        assert_eq!(
            v.rejected()
                .filter(|r| r.reason == Excluded::OverCap)
                .count(),
            2
        );
        assert!(
            DatasetBuilder::new()
                .max_values_per_kind(0)
                .build(vec![])
                .is_err()
        );
    }

    #[test]
    fn equal_values_in_other_formats_share_one_id() {
        let d = ds(vec![
            Record::new("a", "web")
                .phone("+7 (912) 345-67-89")
                .email("I.Van@gmail.com"),
            Record::new("b", "app")
                .phone("8 912 3456789")
                .email("ivan+x@googlemail.com"),
        ]);
        let (a, b) = (d.record(0).unwrap(), d.record(1).unwrap());
        assert_eq!(a.value_ids(IdKind::Phone), b.value_ids(IdKind::Phone));
        assert_eq!(a.value_ids(IdKind::Email), b.value_ids(IdKind::Email));
        assert_eq!(a.value_ids(IdKind::Name), &[] as &[u32]);
    }

    #[test]
    fn full_names_are_split_into_parts() {
        let cases = [
            ("Иванов Иван Иванович", ["иван", "иванович", "иванов"]),
            ("Ivan Petrov", ["ivan", "", "petrov"]),
            ("Петрова Ольга", ["ольга", "", "петрова"]),
            ("Щукина Юлия", ["юлия", "", "щукина"]),
            ("Кузнецов", ["", "", "кузнецов"]),
            ("Smith John", ["john", "", "smith"]),
        ];
        for (raw, want) in cases {
            let d = ds(vec![Record::new("a", "crm").full_name(raw)]);
            let r = d.record(0).unwrap();
            let got = NameRole::ALL.map(|role| r.name(role).unwrap_or(""));
            assert_eq!(got, want, "{raw}");
        }
        // Separate parts win over a full name.
        let d = ds(vec![
            Record::new("a", "crm")
                .full_name("Петров Пётр")
                .first_name("Иван"),
        ]);
        assert_eq!(d.record(0).unwrap().name(NameRole::First), Some("иван"));
        assert_eq!(d.record(0).unwrap().name(NameRole::Surname), None);
    }

    #[test]
    fn rows_stay_small_and_addresses_have_keys() {
        assert_eq!(std::mem::size_of::<Row>(), 36);
        let key = address_key("ул. Ленина, д. 5, кв. 12");
        assert_eq!(key.as_deref(), Some("12 5 ленина"));
        assert_eq!(address_key("Ленина 5-12"), key);
        assert_eq!(address_key("УЛ. ЛЕНИНА, 5, 12"), key);
        assert_eq!(address_key("Москва"), None);
        assert_eq!(address_key("ул. Лесная"), None);
        assert_eq!(address_key("д. 5, кв. 12"), None);
    }

    #[test]
    fn dates_pack_and_unpack() {
        let d = Ymd::new(1990, 12, 31).unwrap();
        assert_eq!(pack_date(d), 19_901_231);
        assert_eq!(unpack_date(19_901_231), Some(d));
        assert_eq!(unpack_date(NONE), None);
    }

    #[test]
    fn record_index_out_of_range_is_an_error() {
        let d = ds(vec![]);
        assert!(d.is_empty());
        assert!(matches!(
            d.record(0).unwrap_err().kind(),
            ErrorKind::RecordIndex { .. }
        ));
    }
}

//! Comparison: how two records agree, field by field, as small enums.
//!
//! [`Comparator::compare`] turns a record pair into a [`ComparisonVector`]:
//! one [`Level`] per [`Field`]. A field missing on either side is
//! [`Level::Missing`] (neutral). Multi-valued identifiers take the best level
//! over all value pairs; agreement only on a [generic value](crate::GenericValues)
//! is its own, neutral level.

mod jaro;
mod levels;

use serde::{Deserialize, Serialize};

pub(crate) use jaro::{Shape, jaro_winkler_reaches};
use jaro::{jaro_winkler_from, settles_below};
pub(crate) use levels::LEVEL_CODES;
pub use levels::{
    AddressLevel, CityLevel, CustomerIdLevel, DateLevel, EmailLevel, IdLevel, Level, NameLevel,
    PhoneLevel,
};

use crate::block::{CandidatePair, GenericValues};
use crate::error::{Error, Result};
use crate::prefetch::{AHEAD, PREFETCH_FROM_RECORDS, PREFETCH_ROWS_FROM_RECORDS, prefetch};
use crate::record::{Dataset, NONE, NameRole, RecordIx, TOKEN_FUZZY, TOKEN_NUMBER, unpack_date};

/// A compared field.
///
/// # Example
/// ```
/// use idstitch::Field;
///
/// assert_eq!(Field::Surname.as_str(), "surname");
/// assert_eq!("birth_date".parse::<Field>()?, Field::BirthDate);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Given name.
    FirstName,
    /// Middle name or patronymic.
    MiddleName,
    /// Family name.
    Surname,
    /// Date of birth.
    BirthDate,
    /// E-mail addresses.
    Email,
    /// Phone numbers.
    Phone,
    /// Loyalty cards.
    Loyalty,
    /// Advertising/device IDs.
    Device,
    /// Source-scoped customer IDs.
    CustomerId,
    /// City.
    City,
    /// Street address.
    Address,
}

/// The number of compared fields.
pub const FIELDS: usize = 11;

impl Field {
    /// Every field, in vector order.
    pub const ALL: [Field; FIELDS] = [
        Field::FirstName,
        Field::MiddleName,
        Field::Surname,
        Field::BirthDate,
        Field::Email,
        Field::Phone,
        Field::Loyalty,
        Field::Device,
        Field::CustomerId,
        Field::City,
        Field::Address,
    ];

    /// The stable snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::MiddleName => "middle_name",
            Field::Surname => "surname",
            Field::BirthDate => "birth_date",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Loyalty => "loyalty",
            Field::Device => "device",
            Field::CustomerId => "customer_id",
            Field::City => "city",
            Field::Address => "address",
        }
    }

    /// The levels this field can take, best agreement first, `Missing` excluded.
    pub fn levels(self) -> &'static [Level] {
        levels::levels_of(self)
    }
}

impl std::str::FromStr for Field {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Field::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                Error::unknown_name(
                    "field",
                    "first_name, middle_name, surname, birth_date, email, phone, loyalty, device, \
                 customer_id, city, address",
                )
            })
    }
}

/// One level per field: how a pair of records agrees.
///
/// Stored as one byte per field (the level's code), so a vector is 10 bytes
/// and vectors group cheaply for training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ComparisonVector(pub(crate) [u8; FIELDS]);

impl ComparisonVector {
    /// The level of one field.
    pub fn level(&self, field: Field) -> Level {
        Level::from_code(field, self.0[field as usize])
    }

    /// Sets the level of one field.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the level does not belong to the field.
    pub fn set(&mut self, field: Field, level: Level) -> Result<()> {
        self.0[field as usize] = level
            .code_for(field)
            .ok_or_else(|| Error::config("level", "does not belong to this field"))?;
        Ok(())
    }

    pub(crate) fn code(&self, field: usize) -> u8 {
        self.0[field]
    }
}

/// Comparison thresholds.
///
/// # Example
/// ```
/// use idstitch::CompareConfig;
///
/// let cfg = CompareConfig::new().jaro_winkler(0.94, 0.88);
/// assert_eq!(cfg.thresholds(), (0.94, 0.88));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompareConfig {
    jw_high: f64,
    jw_low: f64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            jw_high: 0.92,
            jw_low: 0.85,
        }
    }
}

impl CompareConfig {
    /// Jaro–Winkler thresholds 0.92 and 0.85.
    pub fn new() -> CompareConfig {
        CompareConfig::default()
    }

    /// The two Jaro–Winkler similarity thresholds for names (high, low).
    #[must_use]
    pub fn jaro_winkler(mut self, high: f64, low: f64) -> CompareConfig {
        self.jw_high = high;
        self.jw_low = low;
        self
    }

    /// The thresholds (high, low).
    pub fn thresholds(&self) -> (f64, f64) {
        (self.jw_high, self.jw_low)
    }

    fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.jw_low) || !(self.jw_low..=1.0).contains(&self.jw_high) {
            return Err(Error::config("jaro_winkler", "need 0 <= low <= high <= 1"));
        }
        Ok(())
    }
}

/// Compares records of one dataset.
///
/// # Example
/// ```
/// use idstitch::{Comparator, CompareConfig, Dataset, Field, GenericValues, Level, NameLevel, Record};
///
/// let ds = Dataset::build(vec![
///     Record::new("1", "crm").first_name("Александр").last_name("Иванов"),
///     Record::new("2", "app").first_name("Sasha").last_name("Ivanov"),
/// ])?;
/// let generic = GenericValues::default();
/// let cmp = Comparator::new(&ds, &generic, CompareConfig::new())?;
/// let v = cmp.compare(0, 1);
/// assert_eq!(v.level(Field::FirstName), Level::Name(NameLevel::Nickname));
/// assert_eq!(v.level(Field::Surname), Level::Name(NameLevel::Translit));
/// assert_eq!(v.level(Field::Email), Level::Missing);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Comparator<'a> {
    pub(crate) ds: &'a Dataset,
    generic: &'a GenericValues,
    cfg: CompareConfig,
    /// What the comparison loop asks for of the pairs ahead, by the
    /// dataset's size.
    prefetch: Prefetch,
}

/// What the comparison loop asks for ahead (see [`crate::prefetch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prefetch {
    /// Nothing: under [`PREFETCH_ROWS_FROM_RECORDS`] records, the rows
    /// sit in the caches.
    Off,
    /// The rows and their identifier IDs: what else the rows point to is
    /// small enough to sit in the caches, the rows are not (up to
    /// [`PREFETCH_FROM_RECORDS`]).
    Rows,
    /// The rows, then what they point to, in stages.
    Full,
}

impl Prefetch {
    fn for_records(n: usize) -> Prefetch {
        if n >= PREFETCH_FROM_RECORDS {
            Prefetch::Full
        } else if n >= PREFETCH_ROWS_FROM_RECORDS {
            Prefetch::Rows
        } else {
            Prefetch::Off
        }
    }
}

impl<'a> Comparator<'a> {
    /// A comparator over `ds`, treating `generic` values as no evidence.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for thresholds out of range.
    pub fn new(
        ds: &'a Dataset,
        generic: &'a GenericValues,
        cfg: CompareConfig,
    ) -> Result<Comparator<'a>> {
        cfg.validate()?;
        Ok(Comparator {
            ds,
            generic,
            cfg,
            prefetch: Prefetch::for_records(ds.len()),
        })
    }

    /// The dataset compared.
    pub fn dataset(&self) -> &'a Dataset {
        self.ds
    }

    /// Compares every pair, in parallel; the vectors come in pair order.
    /// Computed once, they serve both training
    /// ([`Model::train_with_vectors`](crate::Model::train_with_vectors)) and
    /// scoring ([`Model::score_vectors`](crate::Model::score_vectors)), which
    /// would otherwise compare every pair twice.
    ///
    /// # Example
    /// ```
    /// use idstitch::{CandidatePair, Comparator, CompareConfig, Dataset, Field, GenericValues, Level, NameLevel, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "crm").first_name("Иван").phone("+79123456789"),
    ///     Record::new("2", "app").first_name("Ivan").phone("89123456789"),
    /// ])?;
    /// let generic = GenericValues::default();
    /// let cmp = Comparator::new(&ds, &generic, CompareConfig::new())?;
    /// let v = cmp.compare_pairs(&[CandidatePair { a: 0, b: 1, rule: 0 }]);
    /// assert_eq!(v[0], cmp.compare(0, 1));
    /// assert_eq!(v[0].level(Field::FirstName), Level::Name(NameLevel::Translit));
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn compare_pairs(&self, pairs: &[CandidatePair]) -> Vec<ComparisonVector> {
        use rayon::prelude::*;
        const CHUNK: usize = 4096;
        let mut out = vec![ComparisonVector::default(); pairs.len()];
        out.par_chunks_mut(CHUNK)
            .zip(pairs.par_chunks(CHUNK))
            .for_each(|(out, pairs)| {
                self.compare_each(pairs, |p| (p.a, p.b), |k, v| out[k] = v);
            });
        out
    }

    /// Compares the records of each of `pairs` (`ends` names them) and
    /// hands `each` the pair's position and vector, asking for the records
    /// of pairs ahead as it goes (see [`crate::prefetch`]): rows
    /// [`AHEAD`] pairs ahead, identifier IDs and name entries half as far,
    /// local parts and phone numbers a quarter as far. Under
    /// [`PREFETCH_FROM_RECORDS`] records only the rows (half as far ahead)
    /// and their identifier IDs (a quarter as far) are asked for; under
    /// [`PREFETCH_ROWS_FROM_RECORDS`] nothing.
    pub(crate) fn compare_each<P>(
        &self,
        pairs: &[P],
        ends: impl Fn(&P) -> (RecordIx, RecordIx),
        mut each: impl FnMut(usize, ComparisonVector),
    ) {
        for (k, p) in pairs.iter().enumerate() {
            match self.prefetch {
                Prefetch::Full => self.prefetch_ahead(pairs, k, &ends),
                Prefetch::Rows => {
                    both(pairs, k + AHEAD / 2, &ends, |r| self.ds.prefetch_row(r));
                    both(pairs, k + AHEAD / 4, &ends, |r| self.ds.prefetch_values(r));
                }
                Prefetch::Off => {}
            }
            let (a, b) = ends(p);
            each(k, self.compare(a, b));
        }
    }

    /// For step `k` of a loop over `pairs`: the rows of the pair [`AHEAD`]
    /// steps on, the identifier IDs and name entries of the pair half as
    /// far, the local parts and phone numbers of the pair a quarter as far
    /// (each stage reads what the one before brought in).
    #[inline]
    fn prefetch_ahead<P>(&self, pairs: &[P], k: usize, ends: &impl Fn(&P) -> (RecordIx, RecordIx)) {
        both(pairs, k + AHEAD, ends, |r| self.ds.prefetch_row(r));
        both(pairs, k + AHEAD / 2, ends, |r| self.prefetch_entries(r));
        both(pairs, k + AHEAD / 4, ends, |r| self.prefetch_contacts(r));
    }

    /// Starts loading what comparing a record's e-mails and phones reads
    /// past its identifier IDs when the other record shares none of them:
    /// the e-mails' local-part IDs and the phone numbers (reads its
    /// identifier IDs: best once [`Comparator::prefetch_entries`] has
    /// brought them in).
    #[inline]
    fn prefetch_contacts(&self, ix: RecordIx) {
        let ds = self.ds;
        if ds.rows.get(ix as usize).is_none() {
            return;
        }
        let [emails, phones, ..] = ds.all_slot_values(ix);
        for &e in emails {
            if let Some(l) = ds.email_local.get(e as usize) {
                prefetch(l);
            }
        }
        for &p in phones {
            if let Some(v) = ds.phones.value(p) {
                prefetch(v);
            }
        }
    }

    /// The same comparator prefetching as `mode` says whatever the
    /// dataset's size (tests of the prefetching loops on small data).
    #[cfg(test)]
    pub(crate) fn prefetching(mut self, mode: Prefetch) -> Self {
        self.prefetch = mode;
        self
    }

    /// Starts loading what comparing a record reads after its row: its
    /// identifier IDs and first-name and surname entries.
    #[inline]
    fn prefetch_entries(&self, ix: RecordIx) {
        let ds = self.ds;
        ds.prefetch_values(ix);
        if let Some(r) = ds.rows.get(ix as usize) {
            for n in [r.names[0], r.names[2]] {
                if let Some(e) = ds.name_info.get(n as usize) {
                    prefetch(e);
                }
            }
        }
    }

    /// Compares two records (indices out of range compare as all-missing).
    pub fn compare(&self, a: RecordIx, b: RecordIx) -> ComparisonVector {
        // One orientation for both argument orders: swapped names are read
        // from the lower record's side, so the vector is symmetric.
        let (a, b) = (a.min(b), a.max(b));
        let ds = self.ds;
        let (Some(ra), Some(rb)) = (ds.rows.get(a as usize), ds.rows.get(b as usize)) else {
            return ComparisonVector::default();
        };
        let mut v = [0u8; FIELDS];
        let (first, surname) = self.first_and_surname(ra.names, rb.names);
        v[Field::FirstName as usize] = first;
        v[Field::MiddleName as usize] = self.name(ra.names[1], rb.names[1], NameRole::Middle);
        v[Field::Surname as usize] = surname;
        v[Field::BirthDate as usize] = date(ra.dob, rb.dob);
        let (sa, sb) = (ds.all_slot_values(a), ds.all_slot_values(b));
        v[Field::Email as usize] = self.emails(sa[0], sb[0]);
        v[Field::Phone as usize] = self.phones(sa[1], sb[1]);
        v[Field::Loyalty as usize] = self.ids(sa[2], sb[2], 2);
        v[Field::Device as usize] = self.ids(sa[3], sb[3], 3);
        v[Field::CustomerId as usize] = self.customer_ids(sa[4], sb[4]);
        v[Field::City as usize] = if ra.city == NONE || rb.city == NONE {
            0
        } else if ra.city == rb.city {
            CityLevel::Exact as u8
        } else {
            CityLevel::Different as u8
        };
        v[Field::Address as usize] = self.address(ra.address, rb.address);
        ComparisonVector(v)
    }

    /// First-name and surname levels; when both disagree and one name
    /// equals the other record's other name, the names swapped on one side
    /// (first name typed in the surname field) are compared instead, and
    /// taken when both then agree at least loosely.
    fn first_and_surname(&self, a: [u32; 3], b: [u32; 3]) -> (u8, u8) {
        let (f, s) = (NameRole::First as usize, NameRole::Surname as usize);
        let first = self.name(a[f], b[f], NameRole::First);
        let surname = self.name(a[s], b[s], NameRole::Surname);
        let different = NameLevel::Different as u8;
        if first != different || surname != different {
            return (first, surname);
        }
        // Both names are present on both sides here (missing would be 0).
        // A swap needs one crossed pair equal up to transliteration: an
        // integer test first, so unrelated pairs cost no string similarity.
        let key = |id: u32| self.ds.name_info.get(id as usize).map(|e| e.key);
        if key(a[f]) != key(b[s]) && key(a[s]) != key(b[f]) {
            return (first, surname);
        }
        let cross_first = self.name(a[f], b[s], NameRole::Middle);
        let cross_surname = self.name(a[s], b[f], NameRole::Middle);
        if cross_first != different && cross_surname != different {
            (cross_first, cross_surname)
        } else {
            (first, surname)
        }
    }

    fn name(&self, a: u32, b: u32, role: NameRole) -> u8 {
        if a == NONE || b == NONE {
            return 0;
        }
        if a == b {
            return NameLevel::Exact as u8;
        }
        let info = &self.ds.name_info;
        let (Some(x), Some(y)) = (info.get(a as usize), info.get(b as usize)) else {
            return 0;
        };
        if x.key == y.key {
            return NameLevel::Translit as u8;
        }
        if role == NameRole::First && x.groups.iter().any(|g| y.groups.binary_search(g).is_ok()) {
            return NameLevel::Nickname as u8;
        }
        if role == NameRole::Surname && x.stem == y.stem && x.gender != y.gender {
            return NameLevel::GenderForm as u8;
        }
        // Far-apart keys are settled by their shapes, without reading them.
        if settles_below(x.shape.bound(y.shape), self.cfg.jw_low) {
            return NameLevel::Different as u8;
        }
        let keys = &self.ds.name_keys;
        let (Some(kx), Some(ky)) = (keys.value(x.key), keys.value(y.key)) else {
            return NameLevel::Different as u8;
        };
        // Exact from the low threshold up, which is all the levels ask.
        let sim = jaro_winkler_from(kx, ky, self.cfg.jw_low);
        if sim >= self.cfg.jw_high {
            NameLevel::JaroWinklerHigh as u8
        } else if sim >= self.cfg.jw_low {
            NameLevel::JaroWinklerLow as u8
        } else {
            NameLevel::Different as u8
        }
    }

    fn address(&self, a: u32, b: u32) -> u8 {
        if a == NONE || b == NONE {
            return 0;
        }
        if a == b {
            return AddressLevel::Exact as u8;
        }
        if !address_could_agree(self.ds.address_hashes(a), self.ds.address_hashes(b)) {
            return AddressLevel::Different as u8;
        }
        let keys = &self.ds.address_keys;
        let (Some(x), Some(y)) = (keys.value(a), keys.value(b)) else {
            return 0;
        };
        address_level(x, y)
    }

    fn shared(&self, x: &[u32], y: &[u32], slot: usize) -> (bool, bool) {
        // Both lists are sorted and distinct: one merge walk. Each side
        // steps by the comparison's result rather than a branch on it (a
        // random pair's order is a coin toss the predictor would miss).
        let (mut i, mut j) = (0, 0);
        let (mut real, mut generic) = (false, false);
        while let (Some(&p), Some(&q)) = (x.get(i), y.get(j)) {
            if p == q {
                if self.generic.is_generic_slot(slot, p) {
                    generic = true;
                } else {
                    real = true;
                }
            }
            i += usize::from(p <= q);
            j += usize::from(q <= p);
        }
        (real, generic)
    }

    fn emails(&self, x: &[u32], y: &[u32]) -> u8 {
        if x.is_empty() || y.is_empty() {
            return 0;
        }
        let (real, generic) = self.shared(x, y, 0);
        if real {
            return EmailLevel::Exact as u8;
        }
        let local = |e: u32| self.ds.email_local.get(e as usize);
        let personal = |e: &&u32| !self.generic.is_generic_slot(0, **e);
        let same_local = x.iter().filter(personal).any(|&e| {
            y.iter()
                .filter(personal)
                .any(|&f| e != f && local(e) == local(f))
        });
        if same_local {
            EmailLevel::SameLocalPart as u8
        } else if generic {
            EmailLevel::Generic as u8
        } else {
            EmailLevel::Different as u8
        }
    }

    fn phones(&self, x: &[u32], y: &[u32]) -> u8 {
        if x.is_empty() || y.is_empty() {
            return 0;
        }
        let (real, generic) = self.shared(x, y, 1);
        if real {
            return PhoneLevel::Exact as u8;
        }
        let last7 = |id: u32| self.ds.phones.value(id).map(|v| v % 10_000_000);
        let close = x.iter().any(|&p| {
            !self.generic.is_generic_slot(1, p)
                && y.iter()
                    .any(|&q| p != q && !self.generic.is_generic_slot(1, q) && last7(p) == last7(q))
        });
        if close {
            PhoneLevel::SameLast7 as u8
        } else if generic {
            PhoneLevel::Generic as u8
        } else {
            PhoneLevel::Different as u8
        }
    }

    fn ids(&self, x: &[u32], y: &[u32], slot: usize) -> u8 {
        if x.is_empty() || y.is_empty() {
            return 0;
        }
        match self.shared(x, y, slot) {
            (true, _) => IdLevel::Exact as u8,
            (false, true) => IdLevel::Generic as u8,
            (false, false) => IdLevel::Different as u8,
        }
    }

    fn customer_ids(&self, x: &[u32], y: &[u32]) -> u8 {
        if x.is_empty() || y.is_empty() {
            return 0;
        }
        match self.shared(x, y, 4) {
            (true, _) => CustomerIdLevel::Exact as u8,
            (false, true) => CustomerIdLevel::Generic as u8,
            (false, false) => {
                let ids = &self.ds.customer_ids;
                let (mut same_system, mut one_edit) = (false, false);
                for &p in x {
                    for &q in y {
                        if self.ds.customer_system.get(p as usize)
                            != self.ds.customer_system.get(q as usize)
                        {
                            continue;
                        }
                        same_system = true;
                        if let (Some((_, u)), Some((_, v))) = (ids.value(p), ids.value(q)) {
                            one_edit |= one_edit_apart(u.as_bytes(), v.as_bytes());
                        }
                    }
                }
                if one_edit {
                    CustomerIdLevel::OneEdit as u8
                } else if same_system {
                    CustomerIdLevel::DifferentSameSystem as u8
                } else {
                    0
                }
            }
        }
    }
}

/// Whether two addresses' sorted token hashes leave any level better than
/// `Different` possible, from upper bounds of [`address_level`]'s rules computed on
/// integers (a shared token is required), so most pairs never touch the strings.
fn address_could_agree(x: &[u64], y: &[u64]) -> bool {
    let flag = |h: u64, f: u64| h & f != 0;
    let (mut i, mut j) = (0, 0);
    let (mut exact_words, mut exact_numbers) = (0usize, 0usize);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                if flag(x[i], TOKEN_NUMBER) {
                    exact_numbers += 1;
                } else {
                    exact_words += 1;
                }
                i += 1;
                j += 1;
            }
        }
    }
    let count = |v: &[u64], f: u64| v.iter().filter(|&&h| flag(h, f)).count();
    let (numbers_x, numbers_y) = (count(x, TOKEN_NUMBER), count(y, TOKEN_NUMBER));
    let words = x.len() + y.len() - numbers_x - numbers_y;
    let total = x.len() + y.len();
    // Unmatched fuzzy-eligible words: at most as many fuzzy matches as the
    // smaller side has (exact matches of such words are counted out).
    let fuzzy = count(x, TOKEN_FUZZY).min(count(y, TOKEN_FUZZY));
    let numbers_equal = exact_numbers == numbers_x && exact_numbers == numbers_y;
    let could_same = numbers_equal && 4 * (exact_words + fuzzy) >= words;
    let could_similar = exact_words + exact_numbers > 0
        && exact_words + fuzzy > 0
        && 4 * (exact_words + exact_numbers + fuzzy) >= total;
    could_same || could_similar
}

/// The level of two different address keys (sorted tokens joined by one
/// space, as [`address_key`](crate::record) writes them).
///
/// Numbers match only exactly; words exactly or, at four letters or more, at
/// Jaro–Winkler 0.9 or above, each token once. Exact matches come from one
/// merge walk of the sorted tokens. Called only for pairs
/// [`address_could_agree`] lets through, which holds the bounds that spare
/// most random pairs any string similarity.
fn address_level(x: &str, y: &str) -> u8 {
    // Keys are at most 512 bytes; tokens past 32 per side are ignored.
    const MAX: usize = 32;
    let different = AddressLevel::Different as u8;
    let (mut xs, mut ys) = ([""; MAX], [""; MAX]);
    fn fill<'k>(key: &'k str, out: &mut [&'k str; MAX]) -> usize {
        let mut n = 0;
        for (slot, t) in out.iter_mut().zip(key.split(' ')) {
            *slot = t;
            n += 1;
        }
        n
    }
    let (nx, ny) = (fill(x, &mut xs), fill(y, &mut ys));
    let (xs, ys) = (&xs[..nx], &ys[..ny]);
    let is_number = |t: &str| t.bytes().any(|c| c.is_ascii_digit());
    // Exact matches: both token lists are sorted.
    let (mut used_x, mut used_y) = (0u32, 0u32);
    let (mut i, mut j) = (0, 0);
    while i < nx && j < ny {
        match xs[i].cmp(ys[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                used_x |= 1 << i;
                used_y |= 1 << j;
                i += 1;
                j += 1;
            }
        }
    }
    let count = |ts: &[&str], used: u32, number: bool, matched: bool| {
        ts.iter()
            .enumerate()
            .filter(|&(k, t)| is_number(t) == number && (used & (1 << k) != 0) == matched)
            .count()
    };
    let words = count(xs, !0, false, true) + count(ys, !0, false, true);
    let exact_words = count(xs, used_x, false, true);
    let exact_numbers = count(xs, used_x, true, true);
    let numbers_equal = count(xs, used_x, true, false) == 0 && count(ys, used_y, true, false) == 0;
    let fuzzy_ok = |t: &str| t.chars().nth(3).is_some();
    let total = nx + ny;
    let mut fuzzy = 0;
    for (a, t) in xs.iter().enumerate() {
        if used_x & (1 << a) != 0 || is_number(t) || !fuzzy_ok(t) {
            continue;
        }
        let hit = ys.iter().enumerate().position(|(b, u)| {
            used_y & (1 << b) == 0
                && !is_number(u)
                && fuzzy_ok(u)
                && jaro_winkler_reaches(t, u, 0.9)
        });
        if let Some(b) = hit {
            used_y |= 1 << b;
            fuzzy += 1;
        }
    }
    let alike_words = exact_words + fuzzy;
    // Dice coefficients 2·matched / (tokens of both) of at least 0.5.
    if numbers_equal && 4 * alike_words >= words {
        AddressLevel::SameNumbers as u8
    } else if alike_words > 0
        // At least one token in common exactly: a pair with every token
        // mistyped is past saving. Numbers alone (house 5, flat 12 on another
        // street) are a coincidence.
        && exact_words + exact_numbers > 0
        && 4 * (alike_words + exact_numbers) >= total
    {
        AddressLevel::Similar as u8
    } else {
        different
    }
}

/// Whether two IDs of equal length (at least five bytes) differ by one
/// substituted byte or one swap of adjacent bytes.
fn one_edit_apart(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.len() < 5 {
        return false;
    }
    let mut diff = a.iter().zip(b).enumerate().filter(|(_, (x, y))| x != y);
    match (diff.next(), diff.next(), diff.next()) {
        (Some(_), None, None) => true,
        (Some((i, _)), Some((j, _)), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
        _ => false,
    }
}

/// The birth-date level code of two packed dates (shared with the
/// clustering's birth-date constraint).
pub(crate) fn date(a: u32, b: u32) -> u8 {
    if a == NONE || b == NONE {
        return 0;
    }
    if a == b {
        return DateLevel::Exact as u8;
    }
    let (Some(x), Some(y)) = (unpack_date(a), unpack_date(b)) else {
        return 0;
    };
    if x.year() == y.year() && x.month() == y.day() && x.day() == y.month() {
        DateLevel::DayMonthSwapped as u8
    } else if digits_apart(a, b) == 1 {
        DateLevel::OneDigit as u8
    } else if x.year() == y.year() {
        DateLevel::SameYear as u8
    } else {
        DateLevel::Different as u8
    }
}

/// How many of the eight decimal digits of two `yyyymmdd` dates differ.
fn digits_apart(mut a: u32, mut b: u32) -> u32 {
    let mut diff = 0;
    for _ in 0..8 {
        diff += u32::from(a % 10 != b % 10);
        a /= 10;
        b /= 10;
    }
    diff
}

/// Calls `f` on both records of `pairs[i]`, if there is such a pair.
#[inline(always)]
fn both<P>(
    pairs: &[P],
    i: usize,
    ends: &impl Fn(&P) -> (RecordIx, RecordIx),
    f: impl Fn(RecordIx),
) {
    if let Some(pair) = pairs.get(i) {
        let (a, b) = ends(pair);
        f(a);
        f(b);
    }
}

#[cfg(test)]
mod tests;

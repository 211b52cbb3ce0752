//! Rows read straight from a table's cells, without an owned [`Record`].
//!
//! A [`Record`] owns a string per value. Building one per CSV row, only to
//! normalise it and drop it, cost the batch job a fifth of its reading time
//! at millions of rows. A [`RowRef`] borrows the row's cells instead, and
//! [`DatasetStream::push_rows`](super::DatasetStream::push_rows) normalises
//! them where they lie. Each cell reads as [`InputField::apply`] reads it,
//! so a row and the record `apply` builds from it give the same dataset.

use std::borrow::Cow;
use std::fmt;

use super::fields::cell_values;
use super::{Consent, InputField, Record};
use crate::error::{Error, ErrorKind, Result};
use crate::normalize::{Region, text};

/// Identifier cells a row holds in place; more go to the heap.
const INLINE: usize = 8;

/// One input row borrowed from a table (a CSV row, an Arrow row): each cell
/// read as the [`InputField`] of its column, without copying the values.
///
/// The record ID comes from the `record_id` column, the source from the
/// `source` column (`input` where it is absent or empty; it also scopes
/// customer IDs), and every other cell as [`InputField::apply`] reads it:
/// `;`-separated, trimmed values, the last one for single-valued fields.
/// Times, consents and hashed identifiers are checked here, so a row that
/// [`RowRef::new`] accepts normalises without error. `Debug` shows the ID,
/// the source and the number of identifier cells, never their values.
///
/// # Example
/// ```
/// use idstitch::{DatasetBuilder, InputField, RowRef};
///
/// let fields = [Some(InputField::RecordId), Some(InputField::Phone), None];
/// let row = RowRef::new(&fields, ["crm:7", "8 (912) 345-67-89; +7 495 123-45-67", "x"], String::new)?;
/// assert_eq!(row.id(), "crm:7");
/// assert_eq!(row.source(), "input");
///
/// let mut stream = DatasetBuilder::new().stream()?;
/// stream.push_rows(&[row])?;
/// let ds = stream.finish()?;
/// assert_eq!(ds.record(0)?.phones().count(), 2);
///
/// // No record_id column: the caller names the row.
/// let fields = [Some(InputField::Email)];
/// let row = RowRef::new(&fields, ["a@b.ru"], || "line2".to_owned())?;
/// assert_eq!(row.id(), "line2");
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Clone)]
pub struct RowRef<'a> {
    id: Cow<'a, str>,
    source: &'a str,
    /// Cells of identifier and name fields with at least one value, in
    /// column order: the first [`INLINE`] here, the rest in `spill`.
    inline: [(InputField, &'a str); INLINE],
    len: usize,
    spill: Vec<(InputField, &'a str)>,
    /// Which fields the held cells are of ([`bit`]), so a field the row
    /// lacks is answered without walking its cells.
    fields: u32,
    seen: (Option<i64>, Option<i64>),
    consent: Consent,
}

impl<'a> RowRef<'a> {
    /// Reads one row: `cells[i]` is the column `fields[i]` names (`None`:
    /// ignored). `default_id` names the row when no column is its
    /// `record_id` (a row number, say); it is not called otherwise.
    ///
    /// # Errors
    /// [`ErrorKind::Cell`] when there are more or fewer cells than fields,
    /// when the `record_id` cell is empty, or when a time, a consent
    /// channel or a hashed identifier cannot be read (naming the field,
    /// never the value).
    pub fn new<I>(
        fields: &[Option<InputField>],
        cells: I,
        default_id: impl FnOnce() -> String,
    ) -> Result<RowRef<'a>>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut row = RowRef {
            id: Cow::Borrowed(""),
            source: "input",
            inline: [(InputField::RecordId, ""); INLINE],
            len: 0,
            spill: Vec::new(),
            fields: 0,
            seen: (None, None),
            consent: Consent::default(),
        };
        let mut id = None;
        // The first bad cell, reported after the ID is checked (as a
        // record built cell by cell would).
        let mut failed: Option<Error> = None;
        let mut cells = cells.into_iter();
        for &field in fields {
            let Some(cell) = cells.next() else {
                return Err(wrong_count());
            };
            let Some(field) = field else { continue };
            match field {
                InputField::RecordId => id = Some(cell.trim()),
                InputField::Source => {
                    let s = cell.trim();
                    if !s.is_empty() {
                        row.source = s;
                    }
                }
                InputField::FirstSeen | InputField::LastSeen => {
                    for v in cell_values(cell) {
                        let (first, last) = &mut row.seen;
                        if let Err(e) = field.see(v, first, last) {
                            failed.get_or_insert(e);
                        }
                    }
                }
                InputField::Consent | InputField::OptOut => {
                    for v in cell_values(cell) {
                        match field.consent_to(v, row.consent) {
                            Ok(c) => row.consent = c,
                            Err(e) => {
                                failed.get_or_insert(e);
                            }
                        }
                    }
                }
                // Empty cells are skipped (a cell of separators or spaces
                // only is held, and reads as no value).
                _ if cell.is_empty() => {}
                InputField::EmailHash | InputField::PhoneHash => {
                    if let Some(e) = cell_values(cell).find_map(|v| field.hash_system(v).err()) {
                        failed.get_or_insert(e);
                    }
                    row.hold(field, cell);
                }
                _ => row.hold(field, cell),
            }
        }
        if cells.next().is_some() {
            return Err(wrong_count());
        }
        row.id = match id {
            Some("") => {
                return Err(ErrorKind::Cell {
                    field: "record_id",
                    reason: "is empty",
                }
                .into());
            }
            Some(id) => Cow::Borrowed(id),
            None => Cow::Owned(default_id()),
        };
        match failed {
            Some(e) => Err(e),
            None => Ok(row),
        }
    }

    fn hold(&mut self, field: InputField, cell: &'a str) {
        self.fields |= bit(field);
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = (field, cell);
                self.len += 1;
            }
            None => self.spill.push((field, cell)),
        }
    }

    /// The record ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The source system (`input` when the row names none).
    pub fn source(&self) -> &'a str {
        self.source
    }

    /// The row as an owned [`Record`], built cell by cell with
    /// [`InputField::apply`] (for callers that need one, such as
    /// [`Record::hash_identifiers`]).
    ///
    /// # Example
    /// ```
    /// use idstitch::{InputField, RowRef};
    ///
    /// let fields = [Some(InputField::RecordId), Some(InputField::Source), Some(InputField::Email)];
    /// let r = RowRef::new(&fields, ["7", "shop", "A@B.ru; c@d.ru"], String::new)?.to_record();
    /// assert_eq!((r.id().as_str(), r.source(), r.emails().len()), ("7", "shop", 2));
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn to_record(&self) -> Record {
        let mut r = Record::new(self.id.as_ref(), self.source);
        for &(field, cell) in self.cells() {
            // Cannot fail: `new` checked every held cell `apply` could
            // refuse (the hashes; times and consents are not held).
            let _ = field.apply(&mut r, self.source, cell);
        }
        r.first_seen = self.seen.0;
        r.last_seen = self.seen.1;
        r.consent = self.consent;
        r
    }

    /// The held cells, in column order.
    fn cells(&self) -> impl DoubleEndedIterator<Item = &(InputField, &'a str)> {
        self.inline.iter().take(self.len).chain(&self.spill)
    }

    /// Whether a cell of `field` is held.
    fn holds(&self, field: InputField) -> bool {
        self.fields & bit(field) != 0
    }
}

/// A field's bit in [`RowRef`]'s set of held fields. Were there more than
/// 32 fields, two would share a bit: a lookup would then walk the cells
/// (which compare the field itself), never miss one.
fn bit(field: InputField) -> u32 {
    1 << (field as u32 % 32)
}

fn wrong_count() -> Error {
    ErrorKind::Cell {
        field: "row",
        reason: "has more or fewer cells than fields",
    }
    .into()
}

/// The last of a cell's values ([`cell_values`]), found from the end (a
/// byte search: `;` is ASCII, so each cut falls between characters).
fn last_value(cell: &str) -> Option<&str> {
    let mut end = cell.len();
    loop {
        let head = cell.as_bytes().get(..end)?;
        let start = head.iter().rposition(|&b| b == b';').map_or(0, |i| i + 1);
        let v = text::trim(cell.get(start..end)?);
        if !v.is_empty() {
            return Some(v);
        }
        end = start.checked_sub(1)?;
    }
}

/// The ID, source and cell count only: the cells are personal data.
impl fmt::Debug for RowRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowRef")
            .field("id", &self.id)
            .field("source", &self.source)
            .field("cells", &(self.len + self.spill.len()))
            .finish_non_exhaustive()
    }
}

/// What normalising reads of one input, a [`Record`] or a [`RowRef`]:
/// the same values either way.
#[derive(Clone, Copy)]
pub(super) enum RawView<'a> {
    Record(&'a Record),
    Row(&'a RowRef<'a>),
}

impl<'a> RawView<'a> {
    pub(super) fn source(self) -> &'a str {
        match self {
            RawView::Record(r) => &r.source,
            RawView::Row(r) => r.source,
        }
    }

    pub(super) fn region(self) -> Option<Region> {
        match self {
            RawView::Record(r) => r.region,
            RawView::Row(_) => None,
        }
    }

    pub(super) fn seen(self) -> (Option<i64>, Option<i64>) {
        match self {
            RawView::Record(r) => (r.first_seen, r.last_seen),
            RawView::Row(r) => r.seen,
        }
    }

    pub(super) fn consent(self) -> Consent {
        match self {
            RawView::Record(r) => r.consent,
            RawView::Row(r) => r.consent,
        }
    }

    /// Each value of a multi-valued field (e-mail, phone, loyalty card,
    /// device), in order.
    pub(super) fn values(self, field: InputField, mut f: impl FnMut(&'a str)) {
        match self {
            RawView::Record(r) => {
                let list = match field {
                    InputField::Email => &r.emails,
                    InputField::Phone => &r.phones,
                    InputField::LoyaltyId => &r.loyalty_cards,
                    InputField::DeviceId => &r.devices,
                    _ => return,
                };
                list.iter().for_each(|v| f(v));
            }
            RawView::Row(r) if r.holds(field) => {
                for &(held, cell) in r.cells() {
                    if held == field {
                        cell_values(cell).for_each(&mut f);
                    }
                }
            }
            RawView::Row(_) => {}
        }
    }

    /// Each customer ID with its system (empty: the record's source), in
    /// order; hashed identifiers read as customer IDs of their system.
    pub(super) fn customer_ids(self, mut f: impl FnMut(&str, &str)) {
        match self {
            RawView::Record(r) => r.customer_ids.iter().for_each(|(s, v)| f(s, v)),
            RawView::Row(r)
                if !(r.holds(InputField::CustomerId)
                    || r.holds(InputField::EmailHash)
                    || r.holds(InputField::PhoneHash)) => {}
            RawView::Row(r) => {
                for &(field, cell) in r.cells() {
                    match field {
                        InputField::CustomerId => cell_values(cell).for_each(|v| f(r.source, v)),
                        InputField::EmailHash | InputField::PhoneHash => {
                            for v in cell_values(cell) {
                                // `new` checked each value is 64 hex digits
                                // (ASCII, so lower-casing keeps it UTF-8).
                                let mut lower = [0u8; 64];
                                let Some(lower) = lower.get_mut(..v.len()) else {
                                    continue;
                                };
                                lower.copy_from_slice(v.as_bytes());
                                lower.make_ascii_lowercase();
                                if let Ok(v) = std::str::from_utf8(lower) {
                                    f(field.hashed_system(), v);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// A single-valued field (a name part, full name, birth date, city or
    /// address): its last value.
    pub(super) fn single(self, field: InputField) -> Option<&'a str> {
        match self {
            RawView::Record(r) => match field {
                InputField::FirstName => r.first_name.as_deref(),
                InputField::MiddleName => r.middle_name.as_deref(),
                InputField::LastName => r.last_name.as_deref(),
                InputField::FullName => r.full_name.as_deref(),
                InputField::Dob => r.birth_date.as_deref(),
                InputField::City => r.city.as_deref(),
                InputField::Address => r.address.as_deref(),
                _ => None,
            },
            RawView::Row(r) if !r.holds(field) => None,
            // The last value of the last cell that has one, read from
            // the end.
            RawView::Row(r) => r
                .cells()
                .rev()
                .filter(|(held, _)| *held == field)
                .find_map(|&(_, cell)| last_value(cell)),
        }
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The search from the end finds what splitting the whole cell
        /// and taking its last non-blank value finds.
        #[test]
        fn last_value_is_the_last_non_blank_value(cell in "[ab; \u{a0}\u{3000}ё]{0,12}") {
            let split = cell.rsplit(';').map(super::text::trim).find(|v| !v.is_empty());
            proptest::prop_assert_eq!(super::last_value(&cell), split);
        }
    }
}

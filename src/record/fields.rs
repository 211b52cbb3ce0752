//! Named input fields: how a table's columns (CSV, Arrow, a DataFrame) fill a
//! [`Record`], shared by every front end so a column means the same thing
//! everywhere.

use std::str::FromStr;

use crate::error::{Error, ErrorKind, Result};
use crate::normalize::{Ymd, text};

use super::{Channel, Consent, Record};

/// A record field a table column can fill.
///
/// Column names are matched case-insensitively, with the aliases listed per
/// variant. A cell may hold several values separated by `;`
/// ([`InputField::apply`]).
///
/// # Example
/// ```
/// use idstitch::InputField;
///
/// assert_eq!("Surname".parse::<InputField>()?, InputField::LastName);
/// assert_eq!(InputField::LoyaltyId.as_str(), "loyalty_id");
/// assert!("nonsense".parse::<InputField>().is_err());
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputField {
    /// `record_id` (alias `id`): the record's key.
    RecordId,
    /// `source` (alias `channel`): the source system; also scopes customer IDs.
    Source,
    /// `first_name`.
    FirstName,
    /// `middle_name` (alias `patronymic`).
    MiddleName,
    /// `last_name` (alias `surname`).
    LastName,
    /// `full_name` (alias `name`): split into parts.
    FullName,
    /// `email`.
    Email,
    /// `phone`.
    Phone,
    /// `loyalty_id` (alias `loyalty`).
    LoyaltyId,
    /// `device_id` (alias `device`).
    DeviceId,
    /// `customer_id`, scoped by the record's source.
    CustomerId,
    /// `dob` (alias `birth_date`).
    Dob,
    /// `city`.
    City,
    /// `address`.
    Address,
    /// `first_seen`: Unix seconds or `YYYY-MM-DD`.
    FirstSeen,
    /// `last_seen` (alias `seen`): Unix seconds or `YYYY-MM-DD`.
    LastSeen,
    /// `consent`: channels agreed to (`email`, `sms`, `push`, `messenger`, `call`, `post`).
    Consent,
    /// `opt_out`: channels refused.
    OptOut,
    /// `email_hash`: an e-mail hashed by a partner (64 hex digits).
    EmailHash,
    /// `phone_hash`: a phone hashed by a partner (64 hex digits).
    PhoneHash,
}

impl InputField {
    /// Every field.
    pub const ALL: [InputField; 20] = [
        InputField::RecordId,
        InputField::Source,
        InputField::FirstName,
        InputField::MiddleName,
        InputField::LastName,
        InputField::FullName,
        InputField::Email,
        InputField::Phone,
        InputField::LoyaltyId,
        InputField::DeviceId,
        InputField::CustomerId,
        InputField::Dob,
        InputField::City,
        InputField::Address,
        InputField::FirstSeen,
        InputField::LastSeen,
        InputField::Consent,
        InputField::OptOut,
        InputField::EmailHash,
        InputField::PhoneHash,
    ];

    /// The canonical column name.
    pub const fn as_str(self) -> &'static str {
        match self {
            InputField::RecordId => "record_id",
            InputField::Source => "source",
            InputField::FirstName => "first_name",
            InputField::MiddleName => "middle_name",
            InputField::LastName => "last_name",
            InputField::FullName => "full_name",
            InputField::Email => "email",
            InputField::Phone => "phone",
            InputField::LoyaltyId => "loyalty_id",
            InputField::DeviceId => "device_id",
            InputField::CustomerId => "customer_id",
            InputField::Dob => "dob",
            InputField::City => "city",
            InputField::Address => "address",
            InputField::FirstSeen => "first_seen",
            InputField::LastSeen => "last_seen",
            InputField::Consent => "consent",
            InputField::OptOut => "opt_out",
            InputField::EmailHash => "email_hash",
            InputField::PhoneHash => "phone_hash",
        }
    }

    const fn alias(self) -> Option<&'static str> {
        match self {
            InputField::RecordId => Some("id"),
            InputField::Source => Some("channel"),
            InputField::MiddleName => Some("patronymic"),
            InputField::LastName => Some("surname"),
            InputField::FullName => Some("name"),
            InputField::LoyaltyId => Some("loyalty"),
            InputField::DeviceId => Some("device"),
            InputField::Dob => Some("birth_date"),
            InputField::LastSeen => Some("seen"),
            _ => None,
        }
    }

    /// Adds one cell to `record`, in place: each `;`-separated, trimmed, non-empty
    /// value. [`RecordId`](InputField::RecordId) and
    /// [`Source`](InputField::Source) are read when the record is created and
    /// ignored here; a customer ID is scoped by `source`.
    ///
    /// # Errors
    /// [`ErrorKind::Cell`] naming the field when a time or a consent channel
    /// cannot be read (the value itself is not repeated: it may be personal
    /// data).
    ///
    /// # Example
    /// ```
    /// use idstitch::{Channel, InputField, Record};
    ///
    /// let mut r = Record::new("1", "crm");
    /// InputField::Phone.apply(&mut r, "crm", "+7 912 345-67-89; 8 (495) 123-45-67")?;
    /// InputField::Consent.apply(&mut r, "crm", "email;sms")?;
    /// InputField::LastSeen.apply(&mut r, "crm", "2024-05-01")?;
    /// assert_eq!(r.phones().len(), 2);
    /// assert!(r.consents().allows(Channel::Sms));
    /// assert_eq!(r.seen_at(), (Some(1_714_521_600), Some(1_714_521_600)));
    /// assert!(InputField::LastSeen.apply(&mut r, "crm", "yesterday").is_err());
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn apply(self, record: &mut Record, source: &str, cell: &str) -> Result<()> {
        // Fields are set in place: a record is hundreds of bytes, and moving
        // it through a builder call per cell showed up at millions of rows.
        let text = |v: &str| Some(v.to_owned());
        for value in cell_values(cell) {
            match self {
                InputField::RecordId | InputField::Source => {}
                InputField::FirstName => record.first_name = text(value),
                InputField::MiddleName => record.middle_name = text(value),
                InputField::LastName => record.last_name = text(value),
                InputField::FullName => record.full_name = text(value),
                InputField::Email => record.emails.push(value.to_owned()),
                InputField::Phone => record.phones.push(value.to_owned()),
                InputField::LoyaltyId => record.loyalty_cards.push(value.to_owned()),
                InputField::DeviceId => record.devices.push(value.to_owned()),
                InputField::CustomerId => {
                    record
                        .customer_ids
                        .push((source.to_owned(), value.to_owned()));
                }
                InputField::Dob => record.birth_date = text(value),
                InputField::City => record.city = text(value),
                InputField::Address => record.address = text(value),
                InputField::FirstSeen | InputField::LastSeen => {
                    self.see(value, &mut record.first_seen, &mut record.last_seen)?;
                }
                InputField::EmailHash | InputField::PhoneHash => {
                    let system = self.hash_system(value)?;
                    record
                        .customer_ids
                        .push((system.to_owned(), value.to_ascii_lowercase()));
                }
                InputField::Consent | InputField::OptOut => {
                    record.consent = self.consent_to(value, record.consent)?;
                }
            }
        }
        Ok(())
    }

    /// Widens first and last seen by one `first_seen` or `last_seen` value.
    pub(super) fn see(
        self,
        value: &str,
        first_seen: &mut Option<i64>,
        last_seen: &mut Option<i64>,
    ) -> Result<()> {
        let t = timestamp(value).ok_or(ErrorKind::Cell {
            field: self.as_str(),
            reason: "is not Unix seconds or YYYY-MM-DD",
        })?;
        let (first, last) = if self == InputField::FirstSeen {
            (t, last_seen.unwrap_or(t).max(t))
        } else {
            (first_seen.unwrap_or(t).min(t), t)
        };
        *first_seen = Some(first.min(last));
        *last_seen = Some(first.max(last));
        Ok(())
    }

    /// The customer-ID system of one `email_hash` or `phone_hash` value,
    /// once it is checked to be 64 hex digits.
    pub(super) fn hash_system(self, value: &str) -> Result<&'static str> {
        let ok = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(ErrorKind::Cell {
                field: self.as_str(),
                reason: "is not 64 hex digits",
            }
            .into());
        }
        Ok(self.hashed_system())
    }

    /// The customer-ID system the values of a hash field are kept under
    /// ([`HASHED_PHONE`](super::HASHED_PHONE) for `phone_hash`,
    /// [`HASHED_EMAIL`](super::HASHED_EMAIL) otherwise).
    pub(super) const fn hashed_system(self) -> &'static str {
        match self {
            InputField::PhoneHash => super::HASHED_PHONE,
            _ => super::HASHED_EMAIL,
        }
    }

    /// `consent` with one `consent` or `opt_out` channel added.
    pub(super) fn consent_to(self, value: &str, consent: Consent) -> Result<Consent> {
        let channel: Channel = value.parse().map_err(|_| ErrorKind::Cell {
            field: self.as_str(),
            reason: "names an unknown channel",
        })?;
        Ok(if self == InputField::Consent {
            consent.with(channel)
        } else {
            consent.without(channel)
        })
    }
}

/// The values of one cell: `;`-separated, trimmed, empty ones skipped.
pub(super) fn cell_values(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(';').map(text::trim).filter(|v| !v.is_empty())
}

impl FromStr for InputField {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim().trim_start_matches('\u{feff}').to_lowercase();
        InputField::ALL
            .into_iter()
            .find(|f| f.as_str() == name || f.alias() == Some(name.as_str()))
            .ok_or_else(|| {
                Error::unknown_name(
                    "field",
                    "record_id, source, first_name, middle_name, last_name, full_name, email, \
                     phone, loyalty_id, device_id, customer_id, dob, city, address, first_seen, \
                     last_seen, consent, opt_out, email_hash, phone_hash",
                )
            })
    }
}

/// Seconds since the Unix epoch, or a `YYYY-MM-DD` date (midnight UTC;
/// anything after the date is ignored, so `2024-05-01T10:00:00Z` reads as
/// the day).
fn timestamp(value: &str) -> Option<i64> {
    if let Ok(t) = value.parse::<i64>() {
        return Some(t);
    }
    let date = value.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let ymd = Ymd::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(days_from_civil(ymd) * 86_400)
}

/// Days since 1970-01-01 of a calendar date (Howard Hinnant's algorithm).
fn days_from_civil(d: Ymd) -> i64 {
    let (y, m, day) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_seconds_read_as_utc_midnight() {
        assert_eq!(timestamp("1970-01-01"), Some(0));
        assert_eq!(timestamp("2000-03-01"), Some(951_868_800));
        assert_eq!(timestamp("2024-02-29T23:59:59Z"), Some(1_709_164_800));
        assert_eq!(timestamp("-86400"), Some(-86_400));
        assert_eq!(timestamp("2023-02-29"), None);
        assert_eq!(timestamp("01.02.2024"), None);
        assert_eq!(timestamp("Ж"), None);
    }

    #[test]
    fn every_name_and_alias_parses_back() {
        for f in InputField::ALL {
            assert_eq!(f.as_str().parse::<InputField>().ok(), Some(f));
            if let Some(a) = f.alias() {
                assert_eq!(a.to_uppercase().parse::<InputField>().ok(), Some(f));
            }
        }
    }
}

//! Identifier normalisers: raw `&str` in, a canonical newtype or a typed reason out.
//!
//! Every identifier type follows the same shape:
//! - `T::parse(raw, …) -> Result<T, Invalid>`: the canonical value, or the hard
//!   reason it cannot be one (syntax, length, check digit…);
//! - [`Identifier::flag`] on the parsed value: a soft reason ([`Flag`]) why a
//!   well-formed value should not be taken as one person's identifier
//!   (a placeholder such as `test@test.ru`, a role account such as `info@`,
//!   a phone number that libphonenumber calls invalid);
//! - [`usable`] combines both into one [`Rejection`] for callers that only want
//!   values fit for matching.
//!
//! Parsing never panics, caps input length before any expensive work, and
//! never puts the input into an error.

mod customer_id;
mod date;
mod device;
mod email;
mod email_providers;
mod hash;
mod loyalty;
pub(crate) mod name;
mod phone;
mod region;
pub(crate) mod text;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use customer_id::CustomerId;
pub use date::{BirthDate, DateOrder, Ymd};
pub use device::{DeviceId, DeviceKind};
pub use email::Email;
pub(crate) use hash::hex;
pub use hash::{IdentifierHasher, MIN_KEY_BYTES};
pub use loyalty::{CheckDigit, LoyaltyId};
pub use name::{NameToken, PersonName, SurnameGender};
pub use phone::{Phone, PhoneType};
pub use region::Region;

/// The identifier types this crate normalises.
///
/// # Example
/// ```
/// use idstitch::IdKind;
///
/// assert_eq!("phone".parse::<IdKind>()?, IdKind::Phone);
/// assert_eq!(IdKind::Loyalty.as_str(), "loyalty");
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// An e-mail address ([`Email`]).
    Email,
    /// A phone number ([`Phone`]).
    Phone,
    /// A loyalty card number ([`LoyaltyId`]).
    Loyalty,
    /// An advertising or device identifier ([`DeviceId`]).
    Device,
    /// A customer ID scoped by its source system ([`CustomerId`]).
    CustomerId,
    /// A person's name ([`PersonName`]).
    Name,
    /// A date of birth ([`BirthDate`]).
    Dob,
}

impl IdKind {
    /// Every kind, in declaration order.
    pub const ALL: [IdKind; 7] = [
        IdKind::Email,
        IdKind::Phone,
        IdKind::Loyalty,
        IdKind::Device,
        IdKind::CustomerId,
        IdKind::Name,
        IdKind::Dob,
    ];

    /// The stable lower-case name used in configuration, statistics and the CLI.
    pub const fn as_str(self) -> &'static str {
        match self {
            IdKind::Email => "email",
            IdKind::Phone => "phone",
            IdKind::Loyalty => "loyalty",
            IdKind::Device => "device",
            IdKind::CustomerId => "customer_id",
            IdKind::Name => "name",
            IdKind::Dob => "dob",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for IdKind {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        IdKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                crate::ErrorKind::UnknownName {
                    what: "identifier kind",
                    expected: "email, phone, loyalty, device, customer_id, name, dob",
                }
                .into()
            })
    }
}

/// Why a raw value cannot be normalised at all.
///
/// The reason never carries the value itself, so it is safe to log and count.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    thiserror::Error,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Invalid {
    /// Nothing left after trimming.
    #[error("empty value")]
    Empty,
    /// Longer than the type allows (checked before any expensive work).
    #[error("value too long")]
    TooLong,
    /// Shorter than the type allows.
    #[error("value too short")]
    TooShort,
    /// A control, zero-width or bidirectional-override character.
    #[error("forbidden invisible or control character")]
    ForbiddenChar,
    /// Does not have the shape of the type (no `@`, a letter in a card number…).
    #[error("malformed syntax")]
    Syntax,
    /// An e-mail domain that is not a valid (internationalised) host name.
    #[error("invalid domain")]
    Domain,
    /// A country calling code that does not exist.
    #[error("invalid country calling code")]
    CountryCode,
    /// The check digit does not match the card number's scheme.
    #[error("wrong check digit")]
    CheckDigit,
    /// The all-zero advertising ID a device reports when the user opted out of tracking.
    #[error("opted-out (all-zero) device id")]
    OptOut,
    /// A calendar date that does not exist (31 February).
    #[error("impossible date")]
    ImpossibleDate,
    /// A date of birth after the reference date.
    #[error("date in the future")]
    FutureDate,
    /// A date of birth too long ago to be a living customer's.
    #[error("implausibly old date")]
    TooOld,
}

impl Invalid {
    /// A stable snake-case code for statistics and the CLI's `--explain`.
    pub const fn code(self) -> &'static str {
        match self {
            Invalid::Empty => "empty",
            Invalid::TooLong => "too_long",
            Invalid::TooShort => "too_short",
            Invalid::ForbiddenChar => "forbidden_char",
            Invalid::Syntax => "syntax",
            Invalid::Domain => "domain",
            Invalid::CountryCode => "country_code",
            Invalid::CheckDigit => "check_digit",
            Invalid::OptOut => "opt_out",
            Invalid::ImpossibleDate => "impossible_date",
            Invalid::FutureDate => "future_date",
            Invalid::TooOld => "too_old",
        }
    }
}

/// Why a well-formed value should not be taken as one person's identifier.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    thiserror::Error,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Flag {
    /// A value typed to get past a mandatory field: `test@test.ru`,
    /// `+7 999 999-99-99`, `01.01.1900`, `0000000000000`, a name such as `test`.
    #[error("placeholder value")]
    Placeholder,
    /// A shared mailbox such as `info@` or `noreply@`, not a person's.
    #[error("role account")]
    RoleAccount,
    /// A phone number that parses but is not a valid number for its region.
    #[error("not a valid phone number")]
    InvalidNumber,
    /// A valid phone number of a kind no one person owns: toll-free (8 800),
    /// premium-rate, shared-cost, a company's universal access number, voicemail.
    #[error("not a personal line")]
    NonPersonalLine,
}

impl Flag {
    /// A stable snake-case code for statistics and the CLI's `--explain`.
    pub const fn code(self) -> &'static str {
        match self {
            Flag::Placeholder => "placeholder",
            Flag::RoleAccount => "role_account",
            Flag::InvalidNumber => "invalid_number",
            Flag::NonPersonalLine => "non_personal_line",
        }
    }
}

/// Why a value is unusable for matching: a hard [`Invalid`] or a soft [`Flag`].
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    thiserror::Error,
)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// The value could not be normalised.
    #[error(transparent)]
    Invalid(Invalid),
    /// The value is well-formed but not one person's identifier.
    #[error(transparent)]
    Flagged(Flag),
}

impl Rejection {
    /// The stable snake-case code of the underlying reason.
    pub const fn code(self) -> &'static str {
        match self {
            Rejection::Invalid(i) => i.code(),
            Rejection::Flagged(f) => f.code(),
        }
    }
}

impl From<Invalid> for Rejection {
    fn from(i: Invalid) -> Self {
        Rejection::Invalid(i)
    }
}

impl From<Flag> for Rejection {
    fn from(f: Flag) -> Self {
        Rejection::Flagged(f)
    }
}

/// What every normalised identifier offers.
pub trait Identifier: fmt::Display {
    /// The identifier type.
    const KIND: IdKind;

    /// A soft reason not to use this well-formed value as a person's identifier.
    fn flag(&self) -> Option<Flag>;
}

/// Keeps a parse result only if the value is fit for matching.
///
/// # Example
/// ```
/// use idstitch::{usable, Email, Flag, Rejection};
///
/// assert!(usable(Email::parse("Ivan.Petrov@gmail.com")).is_ok());
/// assert_eq!(
///     usable(Email::parse("noreply@shop.ru")).unwrap_err(),
///     Rejection::Flagged(Flag::RoleAccount)
/// );
/// ```
pub fn usable<T: Identifier>(parsed: Result<T, Invalid>) -> Result<T, Rejection> {
    let value = parsed?;
    match value.flag() {
        Some(flag) => Err(Rejection::Flagged(flag)),
        None => Ok(value),
    }
}

/// Settings for [`canonical`]: what a raw value is read against.
///
/// # Example
/// ```
/// use idstitch::{CheckDigit, NormalizeOptions, Region};
///
/// let opts = NormalizeOptions::new().region(Region::RU).scheme(CheckDigit::Ean13);
/// assert_eq!(opts.get_region(), Region::RU);
/// ```
#[derive(Debug, Clone)]
pub struct NormalizeOptions {
    region: Region,
    scheme: CheckDigit,
    system: String,
    order: DateOrder,
    today: Option<Ymd>,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            region: Region::RU,
            scheme: CheckDigit::None,
            system: "default".to_owned(),
            order: DateOrder::Dmy,
            today: None,
        }
    }
}

impl NormalizeOptions {
    /// Region RU, no loyalty check digit, customer-ID system `default`,
    /// day-first dates, today's date from the clock.
    pub fn new() -> NormalizeOptions {
        NormalizeOptions::default()
    }

    /// The region phones without a country code are read in.
    #[must_use]
    pub fn region(mut self, region: Region) -> NormalizeOptions {
        self.region = region;
        self
    }

    /// The region.
    pub fn get_region(&self) -> Region {
        self.region
    }

    /// The loyalty programme's check-digit scheme.
    #[must_use]
    pub fn scheme(mut self, scheme: CheckDigit) -> NormalizeOptions {
        self.scheme = scheme;
        self
    }

    /// The system customer IDs are scoped by.
    #[must_use]
    pub fn system(mut self, system: impl Into<String>) -> NormalizeOptions {
        self.system = system.into();
        self
    }

    /// How ambiguous numeric dates are read (`03/04/1990`).
    #[must_use]
    pub fn date_order(mut self, order: DateOrder) -> NormalizeOptions {
        self.order = order;
        self
    }

    /// The date future birth dates are judged against (default: today).
    #[must_use]
    pub fn today(mut self, today: Ymd) -> NormalizeOptions {
        self.today = Some(today);
        self
    }
}

/// The canonical text of one raw value of `kind`, or why it is unusable as
/// a person's identifier (invalid, placeholder, role account, opt-out ID…).
///
/// Phones come out as E.164, e-mails in their provider's canonical form,
/// device IDs lower-case hyphenated, names as canonical tokens, dates as
/// `YYYY-MM-DD`, customer IDs as `system:id`.
///
/// # Example
/// ```
/// use idstitch::{canonical, IdKind, NormalizeOptions, Rejection};
///
/// let opts = NormalizeOptions::new();
/// assert_eq!(canonical(IdKind::Phone, "8 (912) 345-67-89", &opts)?, "+79123456789");
/// assert_eq!(canonical(IdKind::Email, "Ivan.Petrov+shop@googlemail.com", &opts)?, "ivanpetrov@gmail.com");
/// assert_eq!(canonical(IdKind::Dob, "3 марта 1990", &opts)?, "1990-03-03");
/// assert!(canonical(IdKind::Email, "noreply@shop.ru", &opts).is_err());
/// # Ok::<(), idstitch::Rejection>(())
/// ```
pub fn canonical(kind: IdKind, raw: &str, opts: &NormalizeOptions) -> Result<String, Rejection> {
    fn text<T: Identifier>(parsed: Result<T, Invalid>) -> Result<String, Rejection> {
        usable(parsed).map(|v| v.to_string())
    }
    match kind {
        IdKind::Email => text(Email::parse(raw)),
        IdKind::Phone => text(Phone::parse(raw, opts.region)),
        IdKind::Loyalty => text(LoyaltyId::parse(raw, opts.scheme)),
        IdKind::Device => text(DeviceId::parse(raw)),
        IdKind::CustomerId => text(CustomerId::parse(&opts.system, raw)),
        IdKind::Name => text(PersonName::parse(raw)),
        IdKind::Dob => {
            let today = opts.today.unwrap_or_else(Ymd::today);
            text(BirthDate::parse_at(raw, opts.order, today))
        }
    }
}

/// Rejects raw input longer than `max_bytes` before any normalisation work, and
/// input holding forbidden invisible or control characters.
pub(crate) fn precheck(raw: &str, max_bytes: usize) -> Result<&str, Invalid> {
    if raw.len() > max_bytes {
        return Err(Invalid::TooLong);
    }
    let trimmed = text::trim(raw);
    if trimmed.is_empty() {
        return Err(Invalid::Empty);
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in IdKind::ALL {
            assert_eq!(kind.as_str().parse::<IdKind>().unwrap(), kind);
        }
        assert!("mail".parse::<IdKind>().is_err());
    }

    #[test]
    fn codes_are_unique() {
        let mut codes: Vec<&str> = [
            Invalid::Empty,
            Invalid::TooLong,
            Invalid::TooShort,
            Invalid::ForbiddenChar,
            Invalid::Syntax,
            Invalid::Domain,
            Invalid::CountryCode,
            Invalid::CheckDigit,
            Invalid::OptOut,
            Invalid::ImpossibleDate,
            Invalid::FutureDate,
            Invalid::TooOld,
        ]
        .into_iter()
        .map(Invalid::code)
        .chain(
            [
                Flag::Placeholder,
                Flag::RoleAccount,
                Flag::InvalidNumber,
                Flag::NonPersonalLine,
            ]
            .map(Flag::code),
        )
        .collect();
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n);
    }

    #[test]
    fn precheck_caps_length_before_trimming() {
        assert_eq!(precheck("  ", 10), Err(Invalid::Empty));
        assert_eq!(precheck(" a ", 10), Ok("a"));
        assert_eq!(precheck(&"a".repeat(11), 10), Err(Invalid::TooLong));
    }
}

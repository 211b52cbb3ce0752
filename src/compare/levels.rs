//! The comparison levels of each field: small enums with one-byte codes.
//!
//! Code 0 is [`Level::Missing`] in every field; the other codes are the
//! enum discriminants, best agreement first.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Field;

/// Highest level code in any field, plus one (the width of parameter tables).
pub(crate) const LEVEL_CODES: usize = 8;

macro_rules! level_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vdoc])* $variant = $code),+
        }

        impl $name {
            /// Every level, best agreement first.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake-case name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            fn from_code(code: u8) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

level_enum! {
    /// How two name parts agree.
    NameLevel {
        /// The same canonical text.
        Exact = 1 => "exact",
        /// The same transliteration key (`Иванов` / `Ivanov`).
        Translit = 2 => "translit",
        /// Nickname-equivalent first names (`Саша` / `Александр`).
        Nickname = 3 => "nickname",
        /// The masculine and feminine forms of one surname (`Иванов` / `Иванова`).
        GenderForm = 4 => "gender_form",
        /// Jaro–Winkler similarity at or above the high threshold (0.92).
        JaroWinklerHigh = 5 => "jaro_winkler_high",
        /// Jaro–Winkler similarity at or above the low threshold (0.85).
        JaroWinklerLow = 6 => "jaro_winkler_low",
        /// Anything else.
        Different = 7 => "different",
    }
}

level_enum! {
    /// How two birth dates agree.
    DateLevel {
        /// The same date.
        Exact = 1 => "exact",
        /// Day and month swapped (`03.04` / `04.03`).
        DayMonthSwapped = 2 => "day_month_swapped",
        /// One digit of `yyyymmdd` different (a typo).
        OneDigit = 3 => "one_digit",
        /// The same year only.
        SameYear = 4 => "same_year",
        /// Anything else.
        Different = 5 => "different",
    }
}

level_enum! {
    /// How two records' e-mail addresses agree.
    EmailLevel {
        /// A shared canonical address.
        Exact = 1 => "exact",
        /// The same local part on another domain (`ivan@mail.ru` / `ivan@bk.ru`).
        SameLocalPart = 2 => "same_local_part",
        /// Only a generic address is shared: no evidence.
        Generic = 3 => "generic",
        /// No address in common.
        Different = 4 => "different",
    }
}

level_enum! {
    /// How two records' phones agree.
    PhoneLevel {
        /// A shared E.164 number.
        Exact = 1 => "exact",
        /// Different numbers with the same last seven digits.
        SameLast7 = 2 => "same_last7",
        /// Only a generic number is shared: no evidence.
        Generic = 3 => "generic",
        /// No number in common.
        Different = 4 => "different",
    }
}

level_enum! {
    /// How two records' loyalty cards or device IDs agree.
    IdLevel {
        /// A shared value.
        Exact = 1 => "exact",
        /// Only a generic value is shared: no evidence.
        Generic = 2 => "generic",
        /// No value in common.
        Different = 3 => "different",
    }
}

level_enum! {
    /// How two records' source-scoped customer IDs agree.
    CustomerIdLevel {
        /// A shared ID in the same system.
        Exact = 1 => "exact",
        /// Only a generic ID is shared: no evidence.
        Generic = 2 => "generic",
        /// IDs of the same system and length, at least five characters, one
        /// substituted character or two adjacent ones swapped apart (a
        /// typed ID with a slip; sequential IDs of different customers also
        /// land here, and training learns how much that level is worth).
        OneEdit = 3 => "one_edit",
        /// Different IDs in the same system (IDs from different systems are
        /// not comparable: the level is then [`Level::Missing`]).
        DifferentSameSystem = 4 => "different_same_system",
    }
}

level_enum! {
    /// How two records' street addresses agree (compared as the normalised
    /// token sets of [`Record::address`](crate::Record::address)).
    AddressLevel {
        /// The same normalised address.
        Exact = 1 => "exact",
        /// The same house, flat and postcode numbers, and at least half the
        /// words alike (a typo in the street or area name).
        SameNumbers = 2 => "same_numbers",
        /// At least half of all tokens alike, a word among them (the same
        /// building without the flat, or one number mistyped).
        Similar = 3 => "similar",
        /// Anything else.
        Different = 4 => "different",
    }
}

level_enum! {
    /// How two records' cities agree.
    CityLevel {
        /// The same city key.
        Exact = 1 => "exact",
        /// Different cities.
        Different = 2 => "different",
    }
}

/// The level of one field in a [`ComparisonVector`](super::ComparisonVector).
///
/// Serialises as its snake-case name (`"exact"`, `"same_last7"`, `"missing"`).
///
/// # Example
/// ```
/// use idstitch::{Field, Level, PhoneLevel};
///
/// let l = Level::Phone(PhoneLevel::SameLast7);
/// assert_eq!(l.as_str(), "same_last7");
/// assert_eq!(Level::parse(Field::Phone, "same_last7"), Some(l));
/// assert!(Level::Missing.is_neutral());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// The field is empty on at least one side: neutral.
    Missing,
    /// A name part's level.
    Name(NameLevel),
    /// The birth date's level.
    Date(DateLevel),
    /// The e-mail level.
    Email(EmailLevel),
    /// The phone level.
    Phone(PhoneLevel),
    /// The loyalty card or device ID level.
    Id(IdLevel),
    /// The customer ID level.
    CustomerId(CustomerIdLevel),
    /// The city level.
    City(CityLevel),
    /// The street address level.
    Address(AddressLevel),
}

impl Level {
    /// The stable snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Missing => "missing",
            Level::Name(l) => l.as_str(),
            Level::Date(l) => l.as_str(),
            Level::Email(l) => l.as_str(),
            Level::Phone(l) => l.as_str(),
            Level::Id(l) => l.as_str(),
            Level::CustomerId(l) => l.as_str(),
            Level::City(l) => l.as_str(),
            Level::Address(l) => l.as_str(),
        }
    }

    /// Whether this level carries no evidence: missing, or agreement on a
    /// generic value only.
    pub const fn is_neutral(self) -> bool {
        matches!(
            self,
            Level::Missing
                | Level::Email(EmailLevel::Generic)
                | Level::Phone(PhoneLevel::Generic)
                | Level::Id(IdLevel::Generic)
                | Level::CustomerId(CustomerIdLevel::Generic)
        )
    }

    /// Whether this is the field's exact-agreement level.
    pub const fn is_exact(self) -> bool {
        self.code() == 1
    }

    /// The level named `name` in `field`.
    pub fn parse(field: Field, name: &str) -> Option<Level> {
        if name == "missing" {
            return Some(Level::Missing);
        }
        levels_of(field)
            .iter()
            .copied()
            .find(|l| l.as_str() == name)
    }

    /// The one-byte code (0 for missing).
    pub(crate) const fn code(self) -> u8 {
        match self {
            Level::Missing => 0,
            Level::Name(l) => l as u8,
            Level::Date(l) => l as u8,
            Level::Email(l) => l as u8,
            Level::Phone(l) => l as u8,
            Level::Id(l) => l as u8,
            Level::CustomerId(l) => l as u8,
            Level::City(l) => l as u8,
            Level::Address(l) => l as u8,
        }
    }

    /// The code of this level if it belongs to `field`.
    pub(crate) fn code_for(self, field: Field) -> Option<u8> {
        (self == Level::Missing || levels_of(field).contains(&self)).then_some(self.code())
    }

    /// The level with `code` in `field` (unknown codes read as missing).
    pub(crate) fn from_code(field: Field, code: u8) -> Level {
        let l = match field {
            Field::FirstName | Field::MiddleName | Field::Surname => {
                NameLevel::from_code(code).map(Level::Name)
            }
            Field::BirthDate => DateLevel::from_code(code).map(Level::Date),
            Field::Email => EmailLevel::from_code(code).map(Level::Email),
            Field::Phone => PhoneLevel::from_code(code).map(Level::Phone),
            Field::Loyalty | Field::Device => IdLevel::from_code(code).map(Level::Id),
            Field::CustomerId => CustomerIdLevel::from_code(code).map(Level::CustomerId),
            Field::City => CityLevel::from_code(code).map(Level::City),
            Field::Address => AddressLevel::from_code(code).map(Level::Address),
        };
        l.unwrap_or(Level::Missing)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Levels deserialise by name within their field; alone, a name is read in
/// the first field type that has it (use [`Level::parse`] to be exact).
impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Field::ALL
            .iter()
            .find_map(|f| Level::parse(*f, &name))
            .ok_or_else(|| serde::de::Error::custom("unknown comparison level"))
    }
}

macro_rules! wrap_all {
    ($wrapper:ident, $inner:ident) => {{
        const N: usize = $inner::ALL.len();
        const OUT: [Level; N] = {
            let mut out = [Level::Missing; N];
            let mut i = 0;
            while i < N {
                out[i] = Level::$wrapper($inner::ALL[i]);
                i += 1;
            }
            out
        };
        &OUT
    }};
}

pub(crate) fn levels_of(field: Field) -> &'static [Level] {
    match field {
        Field::FirstName | Field::MiddleName | Field::Surname => wrap_all!(Name, NameLevel),
        Field::BirthDate => wrap_all!(Date, DateLevel),
        Field::Email => wrap_all!(Email, EmailLevel),
        Field::Phone => wrap_all!(Phone, PhoneLevel),
        Field::Loyalty | Field::Device => wrap_all!(Id, IdLevel),
        Field::CustomerId => wrap_all!(CustomerId, CustomerIdLevel),
        Field::City => wrap_all!(City, CityLevel),
        Field::Address => wrap_all!(Address, AddressLevel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_fit_the_tables() {
        for f in Field::ALL {
            for (i, &l) in levels_of(f).iter().enumerate() {
                assert_eq!(usize::from(l.code()), i + 1, "{f:?} {l:?}");
                assert!(usize::from(l.code()) < LEVEL_CODES);
                assert_eq!(Level::from_code(f, l.code()), l);
                assert_eq!(Level::parse(f, l.as_str()), Some(l));
                assert_eq!(l.code_for(f), Some(l.code()));
            }
            assert_eq!(Level::from_code(f, 0), Level::Missing);
            assert_eq!(Level::from_code(f, 200), Level::Missing);
        }
        assert_eq!(Level::Date(DateLevel::Exact).code_for(Field::Phone), None);
    }

    #[test]
    fn neutral_levels() {
        assert!(Level::Phone(PhoneLevel::Generic).is_neutral());
        assert!(!Level::Phone(PhoneLevel::Different).is_neutral());
        assert!(Level::Name(NameLevel::Exact).is_exact());
    }
}

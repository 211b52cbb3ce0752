//! [`Region`]: an ISO 3166-1 region code known to libphonenumber, the default
//! for phone numbers written without a country code.

use std::fmt;

use rlibphonenumber::PHONE_NUMBER_UTIL;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, ErrorKind};

/// A region code (`RU`, `KZ`, `DE`…) that libphonenumber has metadata for.
///
/// Parsing is case-insensitive; the non-geographic `001` and codes without
/// metadata are refused, so every `Region` has a country calling code.
///
/// # Example
/// ```
/// use idstitch::Region;
///
/// let kz: Region = "kz".parse()?;
/// assert_eq!(kz.as_str(), "KZ");
/// assert_eq!(kz.calling_code(), 7);
/// assert_eq!(Region::RU.to_string(), "RU");
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(rlibphonenumber::Region);

impl Region {
    /// Russia.
    pub const RU: Region = Region(rlibphonenumber::Region::RU);
    /// Kazakhstan (shares +7 with Russia).
    pub const KZ: Region = Region(rlibphonenumber::Region::KZ);
    /// Belarus.
    pub const BY: Region = Region(rlibphonenumber::Region::BY);
    /// United States.
    pub const US: Region = Region(rlibphonenumber::Region::US);
    /// United Kingdom.
    pub const GB: Region = Region(rlibphonenumber::Region::GB);
    /// Germany.
    pub const DE: Region = Region(rlibphonenumber::Region::DE);

    /// The two-letter code, upper-case.
    pub fn as_str(&self) -> String {
        self.0.as_region_str().to_string()
    }

    /// The country calling code (`7` for RU and KZ, `49` for DE).
    pub fn calling_code(&self) -> u16 {
        // Invariant: construction checked that the region has a calling code;
        // calling codes are at most three digits.
        PHONE_NUMBER_UTIL
            .get_country_code_for_region(self.0)
            .and_then(|cc| u16::try_from(cc).ok())
            .unwrap_or(0)
    }

    pub(crate) fn inner(self) -> rlibphonenumber::Region {
        self.0
    }

    /// Every region libphonenumber has metadata for.
    pub fn all() -> impl Iterator<Item = Region> {
        PHONE_NUMBER_UTIL.get_supported_regions().map(Region)
    }
}

impl std::str::FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ErrorKind::UnknownRegion.into());
        }
        let upper = s.to_ascii_uppercase();
        let region =
            rlibphonenumber::Region::from_code(&upper).map_err(|_| ErrorKind::UnknownRegion)?;
        match PHONE_NUMBER_UTIL.get_country_code_for_region(region) {
            Some(cc) if cc > 0 => Ok(Region(region)),
            _ => Err(ErrorKind::UnknownRegion.into()),
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.as_str())
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_codes_in_any_case() {
        for (s, want) in [("RU", "RU"), ("ru", "RU"), (" Kz ", "KZ"), ("de", "DE")] {
            assert_eq!(s.parse::<Region>().unwrap().as_str(), want);
        }
    }

    #[test]
    fn refuses_unknown_codes() {
        for s in ["", "R", "RUS", "AA", "ZZ", "001", "р у", "1A"] {
            assert!(s.parse::<Region>().is_err(), "{s:?}");
        }
    }

    #[test]
    fn every_supported_region_round_trips() {
        let n = Region::all()
            .inspect(|r| assert_eq!(r.as_str().parse::<Region>().unwrap(), *r))
            .count();
        assert!(n > 200, "{n}");
    }
}

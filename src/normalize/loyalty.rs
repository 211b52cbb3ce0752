//! [`LoyaltyId`]: a loyalty card number, digits only, checked by its programme's
//! check-digit scheme.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text::digit_value;
use super::{Flag, IdKind, Identifier, Invalid, precheck};

const MAX_RAW_BYTES: usize = 128;
/// Longest card number accepted (ISO/IEC 7812 allows 19; programmes rarely use more).
const MAX_DIGITS: usize = 32;

/// The check-digit scheme of a loyalty programme.
///
/// # Example
/// ```
/// use idstitch::CheckDigit;
///
/// assert_eq!("ean13".parse::<CheckDigit>()?, CheckDigit::Ean13);
/// assert!(CheckDigit::Luhn.verify(b"79927398713"));
/// assert!(!CheckDigit::Luhn.verify(b"79927398710"));
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckDigit {
    /// GS1 EAN-13: exactly 13 digits, mod-10 with weights 1, 3.
    Ean13,
    /// GS1 EAN-8: exactly 8 digits, mod-10 with weights 3, 1.
    Ean8,
    /// Luhn (mod 10, as on payment cards): 2 to 32 digits.
    Luhn,
    /// No check digit: 1 to 32 digits.
    #[default]
    None,
}

impl CheckDigit {
    /// Whether `digits` (ASCII `0`–`9` only) has the scheme's length and a correct check digit.
    pub fn verify(self, digits: &[u8]) -> bool {
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return false;
        }
        match self {
            CheckDigit::Ean13 => digits.len() == 13 && gs1_ok(digits),
            CheckDigit::Ean8 => digits.len() == 8 && gs1_ok(digits),
            CheckDigit::Luhn => digits.len() >= 2 && luhn_ok(digits),
            CheckDigit::None => true,
        }
    }

    /// The stable lower-case name (`ean13`, `ean8`, `luhn`, `none`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckDigit::Ean13 => "ean13",
            CheckDigit::Ean8 => "ean8",
            CheckDigit::Luhn => "luhn",
            CheckDigit::None => "none",
        }
    }
}

impl std::str::FromStr for CheckDigit {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        [
            CheckDigit::Ean13,
            CheckDigit::Ean8,
            CheckDigit::Luhn,
            CheckDigit::None,
        ]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| {
            crate::ErrorKind::UnknownName {
                what: "check-digit scheme",
                expected: "ean13, ean8, luhn, none",
            }
            .into()
        })
    }
}

/// GS1 mod-10: from the right, the check digit has weight 1, then 3, 1, 3…
fn gs1_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| u32::from(d - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    sum.is_multiple_of(10)
}

fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A loyalty card number: digits only, leading zeros kept.
///
/// Spaces, hyphens and dots between digits are removed; Unicode digits are
/// folded to ASCII; any other character makes the value invalid. The number
/// must satisfy its programme's [`CheckDigit`] scheme. A number of one digit
/// repeated (`0000000000000`) parses but is flagged as a placeholder.
///
/// # Example
/// ```
/// use idstitch::{CheckDigit, Invalid, LoyaltyId};
///
/// let card = LoyaltyId::parse(" 4006381 333931 ", CheckDigit::Ean13)?;
/// assert_eq!(card.as_str(), "4006381333931");
/// assert_eq!(LoyaltyId::parse("0012-3456", CheckDigit::None)?.as_str(), "00123456");
/// assert_eq!(LoyaltyId::parse("4006381333932", CheckDigit::Ean13), Err(Invalid::CheckDigit));
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoyaltyId {
    // Invariant: ASCII digits only, 1..=MAX_DIGITS of them.
    digits: Box<str>,
    flag: Option<Flag>,
}

impl LoyaltyId {
    /// Parses a card number under a programme's check-digit scheme.
    ///
    /// # Errors
    /// [`Invalid::Empty`], [`Invalid::TooLong`] (more than 32 digits),
    /// [`Invalid::Syntax`] (a letter or other non-digit, or a separator not
    /// between digits), [`Invalid::TooShort`] / [`Invalid::TooLong`] (wrong
    /// length for EAN-13 / EAN-8), [`Invalid::CheckDigit`].
    pub fn parse(raw: &str, scheme: CheckDigit) -> Result<LoyaltyId, Invalid> {
        let s = precheck(raw, MAX_RAW_BYTES)?;
        let mut digits = String::with_capacity(s.len());
        let mut prev_digit = false;
        for c in s.chars() {
            if let Some(d) = digit_value(c) {
                if digits.len() == MAX_DIGITS {
                    return Err(Invalid::TooLong);
                }
                digits.push(char::from(b'0' + d));
                prev_digit = true;
            } else if matches!(c, ' ' | '-' | '.' | '\u{00A0}') && prev_digit {
                prev_digit = false;
            } else {
                return Err(Invalid::Syntax);
            }
        }
        if !prev_digit {
            return Err(Invalid::Syntax);
        }
        let expected_len = match scheme {
            CheckDigit::Ean13 => Some(13),
            CheckDigit::Ean8 => Some(8),
            CheckDigit::Luhn | CheckDigit::None => None,
        };
        match expected_len {
            Some(n) if digits.len() < n => return Err(Invalid::TooShort),
            Some(n) if digits.len() > n => return Err(Invalid::TooLong),
            _ if scheme == CheckDigit::Luhn && digits.len() < 2 => return Err(Invalid::TooShort),
            _ => {}
        }
        if !scheme.verify(digits.as_bytes()) {
            return Err(Invalid::CheckDigit);
        }
        let bytes = digits.as_bytes();
        let flag =
            (bytes.len() >= 2 && bytes.iter().all(|&b| b == bytes[0])).then_some(Flag::Placeholder);
        Ok(LoyaltyId {
            digits: digits.into_boxed_str(),
            flag,
        })
    }

    /// The canonical digits.
    pub fn as_str(&self) -> &str {
        &self.digits
    }
}

impl Identifier for LoyaltyId {
    const KIND: IdKind = IdKind::Loyalty;

    fn flag(&self) -> Option<Flag> {
        self.flag
    }
}

impl fmt::Display for LoyaltyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

impl fmt::Debug for LoyaltyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LoyaltyId(<{} digits>)", self.digits.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, scheme: CheckDigit, expected: Result<&str, Invalid>) {
        let got = LoyaltyId::parse(input, scheme).map(|c| c.as_str().to_owned());
        assert_eq!(got, expected.map(str::to_owned), "{input:?} {scheme:?}");
    }

    #[test]
    fn schemes() {
        use CheckDigit::*;
        // GS1's own examples: EAN-13 4006381333931, EAN-8 73513537.
        check("4006381333931", Ean13, Ok("4006381333931"));
        check("4006381333932", Ean13, Err(Invalid::CheckDigit));
        check("400638133393", Ean13, Err(Invalid::TooShort));
        check("40063813339310", Ean13, Err(Invalid::TooLong));
        check("73513537", Ean8, Ok("73513537"));
        check("73513538", Ean8, Err(Invalid::CheckDigit));
        check("7351353", Ean8, Err(Invalid::TooShort));
        check("79927398713", Luhn, Ok("79927398713"));
        check("79927398710", Luhn, Err(Invalid::CheckDigit));
        check("0", Luhn, Err(Invalid::TooShort));
        check("00", Luhn, Ok("00"));
        check("0000123", None, Ok("0000123"));
        check("7", None, Ok("7"));
    }

    #[test]
    fn separators_unicode_digits_and_rejections() {
        use CheckDigit::None as Plain;
        check(
            "  0012 3456-78.9 ",
            Plain,
            Ok("0012345678.9".replace('.', "").as_str()),
        );
        check(
            "４００６３８１３３３９３１",
            CheckDigit::Ean13,
            Ok("4006381333931"),
        );
        check("", Plain, Err(Invalid::Empty));
        check("12a4", Plain, Err(Invalid::Syntax));
        check("-1234", Plain, Err(Invalid::Syntax));
        check("12--34", Plain, Err(Invalid::Syntax));
        check("1234-", Plain, Err(Invalid::Syntax));
        check("+1234", Plain, Err(Invalid::Syntax));
        check(&"1".repeat(33), Plain, Err(Invalid::TooLong));
        check(&"1".repeat(200), Plain, Err(Invalid::TooLong));
    }

    #[test]
    fn repeated_digit_is_a_placeholder() {
        let card = LoyaltyId::parse("0000000000000", CheckDigit::Ean13).unwrap();
        assert_eq!(card.flag(), Some(Flag::Placeholder));
        let card = LoyaltyId::parse("4006381333931", CheckDigit::Ean13).unwrap();
        assert_eq!(card.flag(), None);
    }

    #[test]
    fn scheme_names_round_trip() {
        for s in [
            CheckDigit::Ean13,
            CheckDigit::Ean8,
            CheckDigit::Luhn,
            CheckDigit::None,
        ] {
            assert_eq!(s.as_str().parse::<CheckDigit>().unwrap(), s);
        }
        assert!("mod11".parse::<CheckDigit>().is_err());
    }
}

//! [`Phone`]: a phone number as its E.164 key, with validity, type and extension,
//! parsed by `rlibphonenumber` (a port of Google's libphonenumber).

use std::fmt;

use rlibphonenumber::{PHONE_NUMBER_UTIL, ParseError, PhoneNumberFormat, PhoneNumberType};
use serde::{Deserialize, Serialize};

use super::text::{fold_digits, is_invisible_format};
use super::{Flag, IdKind, Identifier, Invalid, Region, precheck};

/// Raw input longer than this is refused before parsing. The longest real
/// numbers with an extension and its label ("доб.", "ext.") fit in well under it.
const MAX_RAW_BYTES: usize = 128;

/// What kind of line a number is, from libphonenumber's metadata.
///
/// # Example
/// ```
/// use idstitch::{Phone, PhoneType, Region};
///
/// assert_eq!(Phone::parse("8 (916) 123-45-67", Region::RU)?.number_type(), PhoneType::Mobile);
/// assert_eq!(Phone::parse("8 (812) 123-45-67", Region::RU)?.number_type(), PhoneType::FixedLine);
/// assert_eq!(Phone::parse("8 800 555-35-35", Region::RU)?.number_type(), PhoneType::TollFree);
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneType {
    /// A landline.
    FixedLine,
    /// A mobile number.
    Mobile,
    /// Either; the region's numbering plan does not tell (US, CA…).
    FixedLineOrMobile,
    /// Free to the caller (8 800 in Russia).
    TollFree,
    /// Premium rate.
    PremiumRate,
    /// Cost shared between caller and callee.
    SharedCost,
    /// Voice over IP.
    Voip,
    /// A personal number routed to another line.
    PersonalNumber,
    /// A pager.
    Pager,
    /// A universal access number (a company's one number).
    Uan,
    /// A voicemail access number.
    Voicemail,
    /// Not recognised by the metadata (the number is then invalid).
    Unknown,
}

impl PhoneType {
    fn from_lib(t: PhoneNumberType) -> PhoneType {
        match t {
            PhoneNumberType::FixedLine => PhoneType::FixedLine,
            PhoneNumberType::Mobile => PhoneType::Mobile,
            PhoneNumberType::FixedLineOrMobile => PhoneType::FixedLineOrMobile,
            PhoneNumberType::TollFree => PhoneType::TollFree,
            PhoneNumberType::PremiumRate => PhoneType::PremiumRate,
            PhoneNumberType::SharedCost => PhoneType::SharedCost,
            PhoneNumberType::VoIP => PhoneType::Voip,
            PhoneNumberType::PersonalNumber => PhoneType::PersonalNumber,
            PhoneNumberType::Pager => PhoneType::Pager,
            PhoneNumberType::UAN => PhoneType::Uan,
            PhoneNumberType::VoiceMail => PhoneType::Voicemail,
            PhoneNumberType::Unknown => PhoneType::Unknown,
        }
    }

    /// Whether the line can belong to one person (mobile, landline, personal,
    /// VoIP), as opposed to a company's toll-free, premium or shared number.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            PhoneType::FixedLine
                | PhoneType::Mobile
                | PhoneType::FixedLineOrMobile
                | PhoneType::Voip
                | PhoneType::PersonalNumber
                | PhoneType::Pager
        )
    }
}

/// A parsed phone number. Its key is the E.164 form (`+79161234567`); an
/// extension is kept beside the key, never in it.
///
/// Input may use any formatting libphonenumber accepts (`8 (916) 123-45-67`,
/// `+7 916 1234567`, `9161234567` with region RU, `+1 650-253-0000 ext. 12`,
/// `+7 (812) 123-45-67 доб. 123`), with Unicode digits (full-width `９１６`,
/// Arabic-Indic…) folded to ASCII first. Numbers that parse but are not valid
/// for their region, placeholders (all one digit, `1234567…`) and lines no
/// one person owns (toll-free, premium-rate…) carry a [`Flag`].
///
/// The E.164 value is stored as an integer, so equality and hashing are cheap.
///
/// # Example
/// ```
/// use idstitch::{Flag, Identifier, Phone, PhoneType, Region};
///
/// let p = Phone::parse("8 (916) 123-45-67 доб. 89", Region::RU)?;
/// assert_eq!(p.to_string(), "+79161234567");
/// assert_eq!(p.extension(), Some("89"));
/// assert!(p.is_valid());
///
/// let spb = Phone::parse("+7 812 123 45 67", Region::DE)?;
/// assert_eq!(spb.e164(), 78121234567);
/// assert_eq!(spb.country_code(), 7);
///
/// assert_eq!(Phone::parse("+7 999 999-99-99", Region::RU)?.flag(), Some(Flag::Placeholder));
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    // Invariant: the E.164 digits without '+', at most 19 of them.
    e164: u64,
    country_code: u16,
    number_type: PhoneType,
    valid: bool,
    flag: Option<Flag>,
    extension: Option<Box<str>>,
}

impl Phone {
    /// Parses a phone number, using `region` for numbers written without a
    /// country code.
    ///
    /// # Errors
    /// [`Invalid::Empty`], [`Invalid::TooLong`] (input over 128 bytes, or a
    /// national number libphonenumber finds too long), [`Invalid::TooShort`],
    /// [`Invalid::ForbiddenChar`] (control characters), [`Invalid::CountryCode`]
    /// (a `+` followed by no calling code), [`Invalid::Syntax`] (no number in it).
    pub fn parse(raw: &str, region: Region) -> Result<Phone, Invalid> {
        let s = checked(raw)?;
        match fast_ru(s, region) {
            Some(phone) => Ok(phone),
            None => Self::parse_checked(s, region),
        }
    }

    /// Loads libphonenumber's metadata and `region`'s number patterns now.
    ///
    /// Otherwise the first number the Russian fast path does not take pays
    /// for them: about 9 ms on the development machine (and each further
    /// region's patterns 1-3 ms when first met). A service can call this at
    /// startup to keep that out of its first request. (The `dedup` example
    /// does not: its first chunk's parse would wait for the same load.)
    /// Parsing gives the same results with or without it.
    ///
    /// # Example
    /// ```
    /// use idstitch::{Phone, Region};
    ///
    /// Phone::warm_up(Region::RU);
    /// let p = Phone::parse("8 (812) 123-45-67", Region::RU)?;
    /// assert_eq!(p.to_string(), "+78121234567");
    /// # Ok::<(), idstitch::Invalid>(())
    /// ```
    pub fn warm_up(region: Region) {
        if let Ok(example) = PHONE_NUMBER_UTIL.get_example_number(region.inner()) {
            let national = example.format_as(PhoneNumberFormat::National);
            // Only the patterns it compiles matter, not the result.
            let _ = Self::parse_full(&national, region);
        }
    }

    /// Parses with libphonenumber only, without the Russian fast path.
    ///
    /// [`Phone::parse`] gives the same result for every input (a test checks
    /// it); this entry point exists so that the agreement can be tested and
    /// benchmarked.
    ///
    /// # Errors
    /// As [`Phone::parse`].
    pub fn parse_full(raw: &str, region: Region) -> Result<Phone, Invalid> {
        Self::parse_checked(checked(raw)?, region)
    }

    /// libphonenumber on input that passed [`checked`].
    fn parse_checked(s: &str, region: Region) -> Result<Phone, Invalid> {
        let folded = fold_digits(s);
        let cleaned: std::borrow::Cow<'_, str> = if folded.chars().any(is_invisible_format) {
            folded
                .chars()
                .filter(|c| !is_invisible_format(*c))
                .collect::<String>()
                .into()
        } else {
            folded
        };
        let number = PHONE_NUMBER_UTIL
            .parse(cleaned.as_ref(), Some(region.inner()))
            .map_err(|e| match e {
                ParseError::InvalidCountryCode => Invalid::CountryCode,
                ParseError::NotANumber(_) => Invalid::Syntax,
                ParseError::TooShortAfterIdd | ParseError::TooShortNsn => Invalid::TooShort,
                ParseError::TooLongNsn => Invalid::TooLong,
            })?;
        let e164_text = number.format_as(PhoneNumberFormat::E164);
        let digits = e164_text.strip_prefix('+').unwrap_or(&e164_text);
        if digits.is_empty() || digits.len() > 19 {
            return Err(Invalid::TooLong);
        }
        let e164: u64 = digits.parse().map_err(|_| Invalid::Syntax)?;
        let country_code = u16::try_from(number.country_code).map_err(|_| Invalid::CountryCode)?;
        let valid = number.is_valid();
        let number_type = PhoneType::from_lib(number.get_type());
        let extension = number
            .extension
            .as_deref()
            .filter(|x| !x.is_empty())
            .map(Box::from);
        Ok(Phone::assemble(
            e164,
            country_code,
            number_type,
            valid,
            extension,
        ))
    }

    fn assemble(
        e164: u64,
        country_code: u16,
        number_type: PhoneType,
        valid: bool,
        extension: Option<Box<str>>,
    ) -> Phone {
        let mut buf = [0u8; 20];
        let flag = if is_placeholder(national_digits(e164, country_code, &mut buf)) {
            Some(Flag::Placeholder)
        } else if !valid {
            Some(Flag::InvalidNumber)
        } else if !number_type.is_personal() {
            Some(Flag::NonPersonalLine)
        } else {
            None
        };
        Phone {
            e164,
            country_code,
            number_type,
            valid,
            flag,
            extension,
        }
    }

    /// The E.164 number as an integer (`79161234567` for `+79161234567`).
    pub fn e164(&self) -> u64 {
        self.e164
    }

    /// The country calling code (`7`, `49`, `1`…).
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The national significant number: the E.164 digits after the calling code.
    pub fn national_number(&self) -> String {
        let mut buf = [0u8; 20];
        national_digits(self.e164, self.country_code, &mut buf)
            .iter()
            .map(|&d| char::from(d))
            .collect()
    }

    /// The last `n` digits of the number (`n` ≤ 19), e.g. the 7-digit
    /// subscriber part used to compare numbers written with different area codes.
    pub fn last_digits(&self, n: u32) -> u64 {
        self.e164 % 10u64.pow(n.min(19))
    }

    /// Whether libphonenumber finds the number valid for its region.
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// The line type.
    pub fn number_type(&self) -> PhoneType {
        self.number_type
    }

    /// The extension, if the input had one (`доб. 123`, `ext 12`, `#45`).
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }
}

impl Identifier for Phone {
    const KIND: IdKind = IdKind::Phone;

    fn flag(&self) -> Option<Flag> {
        self.flag
    }
}

impl fmt::Display for Phone {
    /// The E.164 form, `+` and digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.e164)
    }
}

impl fmt::Debug for Phone {
    /// Debug output shows the country code and type, not the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Phone")
            .field("country_code", &self.country_code)
            .field("number_type", &self.number_type)
            .field("valid", &self.valid)
            .field("flag", &self.flag)
            .finish_non_exhaustive()
    }
}

/// Length cap, trimming and control characters: the checks both parsing paths share.
fn checked(raw: &str) -> Result<&str, Invalid> {
    let s = precheck(raw, MAX_RAW_BYTES)?;
    if s.chars().any(char::is_control) {
        return Err(Invalid::ForbiddenChar);
    }
    Ok(s)
}

/// The ASCII digits of `e164` after the `country_code`'s leading ones,
/// written into `buf` (parsing calls this once per phone: no allocation).
fn national_digits(e164: u64, country_code: u16, buf: &mut [u8; 20]) -> &[u8] {
    // A u64 has at most 20 decimal digits: they fill `buf` from the end.
    let mut start = buf.len();
    let mut n = e164;
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let cc_len = country_code.checked_ilog10().map_or(1, |l| l as usize + 1);
    buf.get(start + cc_len..).unwrap_or_default()
}

/// A national number typed to fill a field: one digit repeated
/// (`9999999999`), a run of consecutive digits (`1234567890`, `9876543210`),
/// or a subscriber part of seven zeros (`495 000-00-00`).
fn is_placeholder(nsn: &[u8]) -> bool {
    if nsn.is_empty() || nsn.iter().all(|&d| d == nsn[0]) {
        return true;
    }
    let step = |a: u8, b: u8| (b + 10 - a) % 10;
    let ascending = nsn.windows(2).all(|w| step(w[0], w[1]) == 1);
    let descending = nsn.windows(2).all(|w| step(w[1], w[0]) == 1);
    let zeros = nsn.len() >= 7 && nsn[nsn.len() - 7..].iter().all(|&d| d == b'0');
    (nsn.len() >= 7 && (ascending || descending)) || zeros
}

/// Common Russian formats without libphonenumber, which takes some 9 ms
/// to load its metadata and patterns: `+7` and ten digits with any region;
/// with region RU also eleven digits after a national `8` or `7`, ten
/// digits, or a seven-digit local number (`+7` before one too); separated
/// by spaces, hyphens, dots or parentheses only.
///
/// The number's validity and type come from its first digits
/// ([`russian_number`]): mobile `9XX`, the fixed-line area codes, the
/// `80X` services, and numbers no pattern of the Russian plan takes (the
/// placeholders typed into forms: `0000000000`, `1234567`). What the plan
/// alone does not settle goes to the full parser: `7XX` and `33X` (shared
/// with Kazakhstan under `+7`), a number after the `810` international
/// prefix, an eleven-digit number after a `7` that is no country code.
/// Every number this accepts is one that libphonenumber parses to the same
/// E.164, validity and type (the test
/// `fast_path_agrees_with_libphonenumber_on_every_prefix` checks every
/// three-digit prefix and every sub-range of `930`).
fn fast_ru(s: &str, region: Region) -> Option<Phone> {
    let bytes = s.as_bytes();
    let (plus, rest) = match bytes.split_first() {
        Some((b'+', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut digits = [0u8; 11];
    let mut n = 0;
    let mut prev_digit = false;
    for &b in rest {
        match b {
            b'0'..=b'9' => {
                if n == digits.len() {
                    return None;
                }
                digits[n] = b - b'0';
                n += 1;
                prev_digit = true;
            }
            b' ' | b'-' | b'.' | b'(' | b')' => {
                // A separator must follow a digit or a parenthesis; anything
                // looser goes to the full parser.
                if n == 0 && b != b'(' {
                    return None;
                }
                if !prev_digit && b != b'(' && b != b')' && b != b' ' {
                    return None;
                }
                prev_digit = false;
            }
            _ => return None,
        }
    }
    let ru = region == Region::RU;
    // `810` opens an international number in Russia (its IDD prefix).
    if !plus && digits[..n].starts_with(&[8, 1, 0]) {
        return None;
    }
    let national: &[u8] = match (plus, n) {
        (true, 11 | 8) if digits[0] == 7 => &digits[1..n],
        (false, 11) if ru && digits[0] == 8 => &digits[1..11],
        // A leading 7 is the country code only before a number of the
        // plan's shape (`[347-9]` and nine digits).
        (false, 11) if ru && digits[0] == 7 && matches!(digits[1], 3 | 4 | 8 | 9) => &digits[1..11],
        (false, 10 | 7) if ru => &digits[..n],
        _ => return None,
    };
    let (number_type, valid) = russian_number(national)?;
    let e164 = national
        .iter()
        .fold(7u64, |acc, &d| acc * 10 + u64::from(d));
    Some(Phone::assemble(e164, 7, number_type, valid, None))
}

/// Fixed-line area codes of the Russian plan (libphonenumber's RU
/// `fixedLine` pattern, by its three-digit prefixes), ascending.
const RU_FIXED_LINE: &[u16] = &[
    301, 302, 336, 341, 342, 343, 345, 346, 347, 349, 351, 352, 353, 365, 381, 382, 383, 384, 385,
    388, 390, 391, 394, 395, 401, 411, 413, 415, 416, 421, 423, 424, 426, 427, 471, 472, 473, 474,
    475, 481, 482, 483, 484, 485, 486, 487, 491, 492, 493, 494, 495, 496, 498, 499, 811, 812, 813,
    814, 815, 816, 817, 818, 820, 821, 831, 833, 834, 835, 836, 840, 841, 842, 843, 844, 845, 846,
    847, 848, 851, 855, 856, 857, 860, 861, 862, 863, 865, 866, 867, 869, 871, 872, 873, 877, 878,
    879,
];

/// libphonenumber's type and validity for a Russian national number of
/// seven or ten digits, or `None` where the plan alone does not settle it.
fn russian_number(national: &[u8]) -> Option<(PhoneType, bool)> {
    let invalid = Some((PhoneType::Unknown, false));
    let [a, b, c, rest @ ..] = national else {
        return None;
    };
    if *a == 7 || (*a == 3 && *b == 3 && *c != 6) || (*a == 8 && *b == 1 && *c == 0) {
        return None;
    }
    if rest.len() != 7 {
        // A local number: no type of the plan is seven digits long.
        return invalid;
    }
    let prefix = u16::from(*a) * 100 + u16::from(*b) * 10 + u16::from(*c);
    match prefix {
        930 if !mobile_930(rest) => invalid,
        900..=999 => Some((PhoneType::Mobile, true)),
        800 | 804 => Some((PhoneType::TollFree, true)),
        803 | 809 => Some((PhoneType::PremiumRate, true)),
        808 => Some((PhoneType::PersonalNumber, true)),
        p if RU_FIXED_LINE.binary_search(&p).is_ok() => Some((PhoneType::FixedLine, true)),
        _ => invalid,
    }
}

/// Whether the seven digits after `930` are a mobile number: those of
/// `930 1…` to `930 9…` are, and of `930 0…` those whose next two digits
/// are 05, 10-37, 40-64, 69-80 or 84-99 (libphonenumber's RU `mobile`
/// pattern in the metadata `rlibphonenumber` carries; other releases of
/// libphonenumber draw this range differently, so the agreement test walks
/// every prefix of it).
fn mobile_930(rest: &[u8]) -> bool {
    match rest {
        [1..=9, ..] => true,
        [0, d, e, ..] => matches!(d * 10 + e, 5 | 10..=37 | 40..=64 | 69..=80 | 84..=99),
        _ => false,
    }
}

/// Whether a value takes the fast path (the agreement test counts them).
#[cfg(test)]
fn takes_fast_path(raw: &str, region: Region) -> bool {
    checked(raw).is_ok_and(|s| fast_ru(s, region).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The digits after the calling code's, as the decimal text of the
        /// E.164 number would give them.
        #[test]
        fn national_digits_are_the_texts_tail(e164 in proptest::num::u64::ANY, cc in 0u16..=u16::MAX) {
            let text = e164.to_string();
            let want = text.get(cc.to_string().len()..).unwrap_or("");
            let mut buf = [0u8; 20];
            proptest::prop_assert_eq!(national_digits(e164, cc, &mut buf), want.as_bytes());
        }
    }

    fn check(input: &str, region: Region, expected: Result<(&str, bool, PhoneType), Invalid>) {
        let got =
            Phone::parse(input, region).map(|p| (p.to_string(), p.is_valid(), p.number_type()));
        let want = expected.map(|(s, v, t)| (s.to_owned(), v, t));
        assert_eq!(got, want, "input {input:?}");
        // Both paths agree on every table case.
        let full = Phone::parse_full(input, region)
            .map(|p| (p.to_string(), p.is_valid(), p.number_type()));
        assert_eq!(got, full, "paths disagree on {input:?}");
    }

    #[test]
    fn russian_formats() {
        use PhoneType::*;
        let ru = Region::RU;
        for input in [
            "+7 916 123-45-67",
            "+7(916)1234567",
            "8 (916) 123-45-67",
            "89161234567",
            "79161234567",
            "9161234567",
            "8-916-123-45-67",
            "8.916.123.45.67",
            "(916) 123 45 67",
            "８９１６１２３４５６７",
            "+7\u{200E}9161234567",
        ] {
            check(input, ru, Ok(("+79161234567", true, Mobile)));
        }
        // St Petersburg: an area code starting with 8 must not be taken for a trunk prefix.
        check(
            "8 (812) 123-45-67",
            ru,
            Ok(("+78121234567", true, FixedLine)),
        );
        check(
            "+7 812 123-45-67",
            ru,
            Ok(("+78121234567", true, FixedLine)),
        );
        check("(812) 123-45-67", ru, Ok(("+78121234567", true, FixedLine)));
        check("8 800 555-35-35", ru, Ok(("+78005553535", true, TollFree)));
        check(
            "+7 495 123-45-67",
            ru,
            Ok(("+74951234567", true, FixedLine)),
        );
    }

    #[test]
    fn other_countries_and_regions() {
        use PhoneType::*;
        check(
            "+1 650-253-0000",
            Region::RU,
            Ok(("+16502530000", true, FixedLineOrMobile)),
        );
        check(
            "(650) 253-0000",
            Region::US,
            Ok(("+16502530000", true, FixedLineOrMobile)),
        );
        check(
            "030 123456",
            Region::DE,
            Ok(("+4930123456", true, FixedLine)),
        );
        check(
            "+49 30 123456",
            Region::RU,
            Ok(("+4930123456", true, FixedLine)),
        );
        check(
            "8 701 123 4567",
            Region::KZ,
            Ok(("+77011234567", true, Mobile)),
        );
        check(
            "+44 20 7183 8750",
            Region::RU,
            Ok(("+442071838750", true, FixedLine)),
        );
        check(
            "810 44 20 7183 8750",
            Region::RU,
            Ok(("+442071838750", true, FixedLine)),
        );
    }

    #[test]
    fn extensions_are_kept_apart_from_the_key() {
        for (input, ext) in [
            ("+7 (812) 123-45-67 доб. 123", "123"),
            ("+1 650 253 0000 ext. 12", "12"),
            ("+7 812 1234567#45", "45"),
        ] {
            let p = Phone::parse(input, Region::RU).unwrap();
            assert_eq!(p.extension(), Some(ext), "{input}");
            assert!(
                !p.to_string().contains(ext) || p.to_string().ends_with("67"),
                "{input}"
            );
        }
        let a = Phone::parse("+7 812 123-45-67 доб. 1", Region::RU).unwrap();
        let b = Phone::parse("+7 812 123-45-67", Region::RU).unwrap();
        assert_eq!(a.e164(), b.e164());
    }

    #[test]
    fn rejections() {
        let ru = Region::RU;
        let cases = [
            ("", Invalid::Empty),
            ("abc", Invalid::Syntax),
            ("+", Invalid::Syntax),
            ("+999 123456789", Invalid::CountryCode),
            ("1", Invalid::Syntax),
            ("916\u{0}1234567", Invalid::ForbiddenChar),
        ];
        for (input, want) in cases {
            assert_eq!(
                Phone::parse(input, ru).map(|p| p.to_string()),
                Err(want),
                "{input:?}"
            );
        }
        assert_eq!(
            Phone::parse(&"1".repeat(200), ru).map(|p| p.e164()),
            Err(Invalid::TooLong)
        );
    }

    #[test]
    fn placeholders_and_invalid_numbers_are_flagged() {
        let ru = Region::RU;
        for input in [
            "+7 999 999-99-99",
            "89999999999",
            "+7 123 456 78 90",
            "8 (916) 000-00-00",
            "+7 111 111 11 11",
            "+7 987 654 32 10",
        ] {
            assert_eq!(
                Phone::parse(input, ru).unwrap().flag(),
                Some(Flag::Placeholder),
                "{input}"
            );
        }
        for input in ["+7 123 456 78 91", "12"] {
            let p = Phone::parse(input, ru).unwrap();
            assert!(!p.is_valid(), "{input}");
            assert_eq!(p.flag(), Some(Flag::InvalidNumber), "{input}");
        }
        assert_eq!(Phone::parse("+7 916 123 45 67", ru).unwrap().flag(), None);
        assert_eq!(Phone::parse("+7 812 123 45 67", ru).unwrap().flag(), None);
        let hotline = Phone::parse("8 800 555-35-35", ru).unwrap();
        assert!(hotline.is_valid());
        assert_eq!(hotline.flag(), Some(Flag::NonPersonalLine));
    }

    #[test]
    fn last_digits_and_national_number() {
        let p = Phone::parse("+7 916 123-45-67", Region::RU).unwrap();
        assert_eq!(p.last_digits(7), 1_234_567);
        assert_eq!(p.national_number(), "9161234567");
    }

    /// Parses `input` both ways and checks they agree; whether the fast
    /// path took it.
    fn agrees(input: &str, region: Region) -> bool {
        let fast = Phone::parse(input, region);
        let full = Phone::parse_full(input, region);
        assert_eq!(fast, full, "{input}");
        takes_fast_path(input, region)
    }

    #[test]
    fn fast_path_agrees_with_libphonenumber_on_every_prefix() {
        let ru = Region::RU;
        let mut n_fast = 0;
        // Every three-digit prefix, in each format, with subscriber parts
        // that are placeholders, ordinary and extreme.
        for prefix in 0..1000u32 {
            for sub in [0u32, 1, 1_234_567, 5_550_000, 9_999_999, 3_141_592] {
                for fmt in [
                    "+7 {p} {s}",
                    "8{p}{s}",
                    "7 ({p}) {s}",
                    "{p}{s}",
                    "+7({p}){s}",
                    "8 ({p}) {s}",
                ] {
                    let input = fmt
                        .replace("{p}", &format!("{prefix:03}"))
                        .replace("{s}", &format!("{sub:07}"));
                    n_fast += usize::from(agrees(&input, ru));
                }
            }
            // Seven-digit local numbers, bare and after +7, and ten digits
            // under another region.
            for sub in [0u32, 4567, 9999] {
                let local = format!("{prefix:03}-{:02}-{:02}", sub / 100, sub % 100);
                n_fast += usize::from(agrees(&local, ru));
                n_fast += usize::from(agrees(&format!("+7 {local}"), ru));
                agrees(&format!("+7 {prefix:03} {sub:07}"), Region::DE);
                agrees(&format!("8 {prefix:03} {sub:07}"), Region::DE);
            }
        }
        // Every sub-range of 930, where mobile numbers start at various
        // depths.
        for sub in 0..10_000u32 {
            n_fast += usize::from(agrees(&format!("+7 930 {sub:04}{:03}", sub % 1000), ru));
        }
        assert!(n_fast > 40_000, "{n_fast}");
    }
}

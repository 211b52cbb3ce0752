//! [`BirthDate`]: a date of birth from the formats people and systems write,
//! checked against the calendar and a reference "today".

use std::fmt;

use serde::{Deserialize, Serialize};

use super::text::digit_value;
use super::{Flag, IdKind, Identifier, Invalid, precheck};

const MAX_RAW_BYTES: usize = 64;
/// Dates of birth more than this many years before "today" are refused.
const MAX_AGE_YEARS: u16 = 120;

/// A valid proleptic-Gregorian calendar date.
///
/// # Example
/// ```
/// use idstitch::Ymd;
///
/// let d = Ymd::new(2024, 2, 29).unwrap();
/// assert_eq!(d.to_string(), "2024-02-29");
/// assert!(Ymd::new(2023, 2, 29).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ymd {
    // Invariant: a real date (checked by `new`); field order makes `Ord` chronological.
    year: u16,
    month: u8,
    day: u8,
}

impl Ymd {
    /// A date, or `None` if it does not exist (year 1–9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Ymd> {
        let ok = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        ok.then_some(Ymd { year, month, day })
    }

    /// Today's date in UTC, from the system clock.
    pub fn today() -> Ymd {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ymd::from_days_since_epoch(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    pub fn from_days_since_epoch(days: i64) -> Ymd {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        // Invariant: day in 1..=31 and month in 1..=12 by construction; the year
        // is clamped into the supported range.
        Ymd {
            year: year.clamp(1, 9999) as u16,
            month: month as u8,
            day: day as u8,
        }
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }
}

impl fmt::Display for Ymd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// How to read an all-numeric date whose year comes last (`03/05/1985`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Day first: `05.03.1985` is 5 March (Russia, most of the world).
    #[default]
    Dmy,
    /// Month first: `03/05/1985` is 5 March (the United States).
    Mdy,
}

/// A date of birth, canonical as ISO 8601 `YYYY-MM-DD`.
///
/// Accepted: `DD.MM.YYYY`, `D.M.YY`, `DD/MM/YYYY`, `DD-MM-YYYY`, `YYYY-MM-DD`
/// (with an optional time part), `YYYY.MM.DD`, `YYYYMMDD`, and month names in
/// Russian or English, full or abbreviated, in any case (`5 марта 1985 г.`,
/// `05-Mar-1985`, `March 5, 1985`). Unicode digits are folded. A two-digit
/// year is the latest year not after "today". When day-first and month-first
/// readings disagree and only one is a real date, that one is taken.
///
/// Dates that do not exist, lie in the future or more than 120 years back are
/// invalid; dates that systems use for "unknown" (`01.01.1900`, `01.01.1970`,
/// `1899-12-31`…) parse but are flagged as placeholders.
///
/// # Example
/// ```
/// use idstitch::{BirthDate, DateOrder, Flag, Identifier, Invalid, Ymd};
///
/// let today = Ymd::new(2026, 11, 24).unwrap();
/// let parse = |s| BirthDate::parse_at(s, DateOrder::Dmy, today);
/// assert_eq!(parse("05.03.1985")?.to_string(), "1985-03-05");
/// assert_eq!(parse("5 марта 1985 г.")?.to_string(), "1985-03-05");
/// assert_eq!(parse("March 5, 1985")?.to_string(), "1985-03-05");
/// assert_eq!(parse("05/03/85")?.to_string(), "1985-03-05");
/// assert_eq!(parse("31.02.1985"), Err(Invalid::ImpossibleDate));
/// assert_eq!(parse("01.01.1970")?.flag(), Some(Flag::Placeholder));
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate {
    date: Ymd,
    flag: Option<Flag>,
}

/// Dates that forms and databases fill in when the real one is unknown.
const PLACEHOLDER_DATES: &[(u16, u8, u8)] = &[
    (1, 1, 1),
    (1000, 1, 1),
    (1111, 11, 11),
    (1753, 1, 1),
    (1800, 1, 1),
    (1899, 12, 30),
    (1899, 12, 31),
    (1900, 1, 1),
    (1901, 1, 1),
    (1970, 1, 1),
];

impl BirthDate {
    /// Parses a date of birth, day-first, against today's date from the system clock.
    ///
    /// # Errors
    /// As [`BirthDate::parse_at`].
    pub fn parse(raw: &str) -> Result<BirthDate, Invalid> {
        BirthDate::parse_at(raw, DateOrder::Dmy, Ymd::today())
    }

    /// Parses a date of birth with an explicit numeric order and reference date,
    /// so that results do not depend on when the code runs.
    ///
    /// # Errors
    /// [`Invalid::Empty`], [`Invalid::TooLong`], [`Invalid::Syntax`] (not a
    /// date format), [`Invalid::ImpossibleDate`], [`Invalid::FutureDate`],
    /// [`Invalid::TooOld`].
    pub fn parse_at(raw: &str, order: DateOrder, today: Ymd) -> Result<BirthDate, Invalid> {
        let s = precheck(raw, MAX_RAW_BYTES)?;
        let tokens = tokenize(s)?;
        let (year, month, day) = interpret(&tokens, order, today)?;
        BirthDate::from_parts(year, month, day, today)
    }

    fn from_parts(year: u16, month: u8, day: u8, today: Ymd) -> Result<BirthDate, Invalid> {
        let date = Ymd::new(year, month, day).ok_or(Invalid::ImpossibleDate)?;
        if PLACEHOLDER_DATES.contains(&(year, month, day)) {
            return Ok(BirthDate {
                date,
                flag: Some(Flag::Placeholder),
            });
        }
        if date > today {
            return Err(Invalid::FutureDate);
        }
        if today.year.saturating_sub(year) > MAX_AGE_YEARS {
            return Err(Invalid::TooOld);
        }
        Ok(BirthDate { date, flag: None })
    }

    /// The calendar date.
    pub fn date(&self) -> Ymd {
        self.date
    }
}

impl Identifier for BirthDate {
    const KIND: IdKind = IdKind::Dob;

    fn flag(&self) -> Option<Flag> {
        self.flag
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.date.fmt(f)
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BirthDate(<hidden>)")
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    /// A run of digits: its value and its number of digits.
    Num(u32, u8),
    /// A month name.
    Month(u8),
}

/// Month names: every full form (Russian nominative and genitive, English);
/// a word matches when it is a prefix of a form, at least three letters long.
const MONTHS: &[(&str, u8)] = &[
    ("январь", 1),
    ("января", 1),
    ("january", 1),
    ("февраль", 2),
    ("февраля", 2),
    ("february", 2),
    ("март", 3),
    ("марта", 3),
    ("march", 3),
    ("апрель", 4),
    ("апреля", 4),
    ("april", 4),
    ("май", 5),
    ("мая", 5),
    ("may", 5),
    ("июнь", 6),
    ("июня", 6),
    ("june", 6),
    ("июль", 7),
    ("июля", 7),
    ("july", 7),
    ("август", 8),
    ("августа", 8),
    ("august", 8),
    ("сентябрь", 9),
    ("сентября", 9),
    ("september", 9),
    ("октябрь", 10),
    ("октября", 10),
    ("october", 10),
    ("ноябрь", 11),
    ("ноября", 11),
    ("november", 11),
    ("декабрь", 12),
    ("декабря", 12),
    ("december", 12),
];

/// Words that may stand beside a date and mean nothing ("г." for год, English ordinals).
const FILLER_WORDS: &[&str] = &["г", "гг", "год", "года", "st", "nd", "rd", "th", "of"];

fn month_of(word: &str) -> Option<u8> {
    if word.chars().count() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .find(|(form, _)| form.starts_with(word))
        .map(|&(_, m)| m)
}

/// Splits into numbers and month names; drops a trailing time (`00:00:00`)
/// and ISO's `T…` part; refuses anything else.
fn tokenize(s: &str) -> Result<Vec<Token>, Invalid> {
    let mut tokens = Vec::with_capacity(3);
    let mut chars = s.char_indices().peekable();
    let mut n_time_tokens = 0;
    while let Some((i, c)) = chars.next() {
        if let Some(d) = digit_value(c) {
            let (mut value, mut len) = (u32::from(d), 1u8);
            while let Some(d) = chars.peek().and_then(|&(_, c)| digit_value(c)) {
                chars.next();
                len = len.saturating_add(1);
                if len > 8 {
                    return Err(Invalid::Syntax);
                }
                value = value * 10 + u32::from(d);
            }
            // A number followed by ':' starts a time of day: the date is complete.
            if chars.peek().is_some_and(|&(_, c)| c == ':') {
                n_time_tokens += 1;
                break;
            }
            tokens.push(Token::Num(value, len));
        } else if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, c)) = chars.peek() {
                if !c.is_alphabetic() {
                    break;
                }
                end = j + c.len_utf8();
                chars.next();
            }
            let word = s[i..end].to_lowercase();
            if word == "t" && tokens.len() == 3 {
                // ISO 8601 date-time: the rest is the time.
                n_time_tokens += 1;
                break;
            }
            if let Some(m) = month_of(&word) {
                tokens.push(Token::Month(m));
            } else if !FILLER_WORDS.contains(&word.as_str()) {
                return Err(Invalid::Syntax);
            }
        } else if !matches!(c, ' ' | '.' | '/' | '-' | ',' | '\u{00A0}') {
            return Err(Invalid::Syntax);
        }
    }
    if n_time_tokens > 0 && tokens.len() != 3 {
        return Err(Invalid::Syntax);
    }
    Ok(tokens)
}

/// Turns tokens into (year, month, day) candidates.
fn interpret(tokens: &[Token], order: DateOrder, today: Ymd) -> Result<(u16, u8, u8), Invalid> {
    use Token::{Month, Num};
    let full_year = |v: u32, len: u8| -> Result<u16, Invalid> {
        match len {
            4 => u16::try_from(v).map_err(|_| Invalid::Syntax),
            2 => {
                // Invariant: v < 100 for two digits.
                let v = v as u16;
                let this_century = today.year / 100 * 100;
                Ok(if this_century + v <= today.year {
                    this_century + v
                } else {
                    this_century - 100 + v
                })
            }
            _ => Err(Invalid::Syntax),
        }
    };
    let small = |v: u32, len: u8| -> Result<u8, Invalid> {
        if len <= 2 {
            Ok(v as u8)
        } else {
            Err(Invalid::Syntax)
        }
    };
    match *tokens {
        [Num(y, 4), Num(m, ml), Num(d, dl)] => Ok((full_year(y, 4)?, small(m, ml)?, small(d, dl)?)),
        [Num(a, al), Num(b, bl), Num(y, yl)] => {
            let year = full_year(y, yl)?;
            let (a, b) = (small(a, al)?, small(b, bl)?);
            let (day, month) = match order {
                DateOrder::Dmy => (a, b),
                DateOrder::Mdy => (b, a),
            };
            // Only the other reading is a real date: take it.
            if Ymd::new(year, month, day).is_none() && Ymd::new(year, day, month).is_some() {
                return Ok((year, day, month));
            }
            Ok((year, month, day))
        }
        [Num(v, 8)] => {
            let (hi, lo) = (v / 10_000, v % 10_000);
            let ymd = (hi as u16, (lo / 100) as u8, (lo % 100) as u8);
            let dmy = (lo as u16, ((hi % 100) as u8), (hi / 100) as u8);
            if (1800..=2200).contains(&hi) && Ymd::new(ymd.0, ymd.1, ymd.2).is_some() {
                Ok(ymd)
            } else {
                Ok(dmy)
            }
        }
        [Num(y, 4), Month(m), Num(d, dl)] if dl <= 2 => Ok((full_year(y, 4)?, m, small(d, dl)?)),
        [Num(d, dl), Month(m), Num(y, yl)] | [Month(m), Num(d, dl), Num(y, yl)] => {
            Ok((full_year(y, yl)?, m, small(d, dl)?))
        }
        _ => Err(Invalid::Syntax),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Ymd = Ymd {
        year: 2026,
        month: 11,
        day: 24,
    };

    fn check(input: &str, order: DateOrder, expected: Result<&str, Invalid>) {
        let got = BirthDate::parse_at(input, order, TODAY).map(|d| d.to_string());
        assert_eq!(got, expected.map(str::to_owned), "{input:?}");
    }

    #[test]
    fn numeric_formats() {
        let dmy = DateOrder::Dmy;
        for input in [
            "05.03.1985",
            "5.3.1985",
            "05/03/1985",
            "05-03-1985",
            "1985-03-05",
            "1985.03.05",
            "1985/3/5",
            "19850305",
            "05031985",
            "05.03.85",
            "1985-03-05T00:00:00Z",
            "1985-03-05 00:00:00",
            "05.03.1985 0:00:00",
            "٠٥.٠٣.١٩٨٥",
        ] {
            check(input, dmy, Ok("1985-03-05"));
        }
        check("03/05/1985", DateOrder::Mdy, Ok("1985-03-05"));
        // Only one reading is a date.
        check("03/25/1985", dmy, Ok("1985-03-25"));
        check("25/03/1985", DateOrder::Mdy, Ok("1985-03-25"));
        // Two-digit years: the latest not after today.
        check("01.02.03", dmy, Ok("2003-02-01"));
        check("01.02.26", dmy, Ok("2026-02-01"));
        check("01.02.27", dmy, Ok("1927-02-01"));
    }

    #[test]
    fn month_names() {
        let dmy = DateOrder::Dmy;
        for input in [
            "5 марта 1985",
            "5 марта 1985 г.",
            "5 Марта 1985г",
            "05 мар 1985",
            "5 March 1985",
            "March 5, 1985",
            "Mar 5th, 1985",
            "05-Mar-1985",
            "5 of March 1985",
            "1985 march 5",
        ] {
            check(input, dmy, Ok("1985-03-05"));
        }
        check("1 мая 1990", dmy, Ok("1990-05-01"));
        check("3 сент. 1990", dmy, Ok("1990-09-03"));
        check("3 нояб 1990", dmy, Ok("1990-11-03"));
    }

    #[test]
    fn rejections() {
        let dmy = DateOrder::Dmy;
        let cases = [
            ("", Invalid::Empty),
            ("31.02.1985", Invalid::ImpossibleDate),
            ("29.02.1985", Invalid::ImpossibleDate),
            ("00.01.1985", Invalid::ImpossibleDate),
            ("32.13.1985", Invalid::ImpossibleDate),
            ("01.01.2030", Invalid::FutureDate),
            ("25.11.2026", Invalid::FutureDate),
            ("01.01.1880", Invalid::TooOld),
            ("1985", Invalid::Syntax),
            ("5 марта", Invalid::Syntax),
            ("5 мартобря 1985", Invalid::Syntax),
            ("05.03.1985.1", Invalid::Syntax),
            ("12:00", Invalid::Syntax),
            ("05.03.198", Invalid::Syntax),
            ("05;03;1985", Invalid::Syntax),
            ("123456789", Invalid::Syntax),
        ];
        for (input, want) in cases {
            check(input, dmy, Err(want));
        }
        check("29.02.1984", dmy, Ok("1984-02-29"));
        check("24.11.2026", dmy, Ok("2026-11-24"));
    }

    #[test]
    fn placeholders_are_flagged() {
        for input in [
            "01.01.1900",
            "01.01.1970",
            "1899-12-31",
            "1111-11-11",
            "0001-01-01",
        ] {
            let d = BirthDate::parse_at(input, DateOrder::Dmy, TODAY).unwrap();
            assert_eq!(d.flag(), Some(Flag::Placeholder), "{input}");
        }
        let d = BirthDate::parse_at("02.01.1970", DateOrder::Dmy, TODAY).unwrap();
        assert_eq!(d.flag(), None);
    }

    #[test]
    fn civil_from_days() {
        assert_eq!(Ymd::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(Ymd::from_days_since_epoch(20_416).to_string(), "2025-11-24");
        assert_eq!(Ymd::from_days_since_epoch(-1).to_string(), "1969-12-31");
        assert_eq!(Ymd::from_days_since_epoch(11_016).to_string(), "2000-02-29");
    }
}

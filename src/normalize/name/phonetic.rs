//! A phonetic key for blocking, and Russian surname gender forms.
//!
//! The phonetic key works on the transliteration key: the first letter is
//! kept, later vowels dropped, consonants that sound alike (or are voiced and
//! voiceless pairs, which Russian neutralises at word ends) share a class, and
//! repeats collapse. Surnames are reduced to their masculine stem first, so
//! Иванов and Иванова share one key.

use serde::{Deserialize, Serialize};

/// The grammatical gender a surname's ending shows.
///
/// # Example
/// ```
/// use idstitch::{NameToken, SurnameGender};
///
/// assert_eq!(NameToken::new("Иванова").unwrap().surname_gender(), SurnameGender::Feminine);
/// assert_eq!(NameToken::new("Ivanov").unwrap().surname_gender(), SurnameGender::Masculine);
/// assert_eq!(NameToken::new("Ким").unwrap().surname_gender(), SurnameGender::Unknown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurnameGender {
    /// -ов, -ев, -ин, -ский, -ой… (Ivanov, Petrovsky).
    Masculine,
    /// -ова, -ева, -ина, -ская, -ая… (Ivanova, Petrovskaya).
    Feminine,
    /// No Russian gendered ending (Ким, Шевченко, Smith).
    Unknown,
}

/// Feminine endings (in transliteration-key spelling) and their masculine form.
const FEMININE: &[(&str, &str)] = &[
    ("skaia", "ski"),
    ("ova", "ov"),
    ("eva", "ev"),
    ("ina", "in"),
    ("aia", "oi"),
];

const MASCULINE: &[&str] = &["ski", "ov", "ev", "in", "oi"];

/// Shortest stem left before an ending counts as one (so Ина, Ева are not surnames forms).
const MIN_STEM: usize = 2;

pub(crate) fn gender(key: &str) -> SurnameGender {
    let long_enough = |suffix: &str| key.len() >= suffix.len() + MIN_STEM && key.ends_with(suffix);
    if FEMININE.iter().any(|(f, _)| long_enough(f)) {
        SurnameGender::Feminine
    } else if MASCULINE.iter().any(|m| long_enough(m)) {
        SurnameGender::Masculine
    } else {
        SurnameGender::Unknown
    }
}

/// The masculine stem of a transliteration key: `ivanova` → `ivanov`.
pub(crate) fn surname_stem(key: &str) -> String {
    for (fem, masc) in FEMININE {
        if key.len() >= fem.len() + MIN_STEM
            && let Some(stem) = key.strip_suffix(fem)
        {
            return format!("{stem}{masc}");
        }
    }
    key.to_owned()
}

/// The phonetic key of a transliteration key (see the module doc).
pub(crate) fn phonetic(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut last_class = '\0';
    let mut chars = key.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        // Digraphs first: sch, ch, sh, zh, ts.
        let next = chars.peek().copied();
        let class = match (c, next) {
            ('s', Some('c')) | ('s', Some('h')) | ('c', Some('h')) | ('z', Some('h')) => {
                chars.next();
                if c == 's' && next == Some('c') && chars.peek() == Some(&'h') {
                    chars.next();
                }
                'S'
            }
            ('t', Some('s')) => {
                chars.next();
                's'
            }
            ('b' | 'p', _) => 'p',
            ('v' | 'f', _) => 'f',
            ('g' | 'k' | 'h', _) => 'k',
            ('d' | 't', _) => 't',
            ('z' | 's', _) => 's',
            ('a' | 'e' | 'i' | 'o' | 'u', _) => 'a',
            (c, _) => c,
        };
        if first {
            // The first sound is kept, vowels included, as its class.
            out.push(class);
            last_class = class;
            first = false;
            continue;
        }
        if class == 'a' {
            last_class = class;
            continue;
        }
        if class != last_class {
            out.push(class);
        }
        last_class = class;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::name::translit::key;

    #[test]
    fn genders_and_stems() {
        let cases = [
            ("иванова", SurnameGender::Feminine, "ivanov"),
            ("иванов", SurnameGender::Masculine, "ivanov"),
            ("петровская", SurnameGender::Feminine, "petrovski"),
            ("петровский", SurnameGender::Masculine, "petrovski"),
            ("petrovskaya", SurnameGender::Feminine, "petrovski"),
            ("толстая", SurnameGender::Feminine, "tolstoi"),
            ("толстой", SurnameGender::Masculine, "tolstoi"),
            ("ильина", SurnameGender::Feminine, "ilin"),
            ("sinitsyna", SurnameGender::Feminine, "sinitsin"),
            ("синицын", SurnameGender::Masculine, "sinitsin"),
            ("ким", SurnameGender::Unknown, "kim"),
            ("шевченко", SurnameGender::Unknown, "shevchenko"),
            ("ева", SurnameGender::Unknown, "eva"),
        ];
        for (name, g, stem) in cases {
            let k = key(name);
            assert_eq!(gender(&k), g, "{name}");
            assert_eq!(surname_stem(&k), stem, "{name}");
        }
    }

    #[test]
    fn phonetic_keys_meet_for_sound_alike_spellings() {
        let same = [
            ("иванов", "ivanoff"),
            ("щукин", "shukin"),
            ("гусев", "gusef"),
            ("зайцев", "zaitsev"),
            ("шевченко", "shevchenko"),
        ];
        for (a, b) in same {
            assert_eq!(phonetic(&key(a)), phonetic(&key(b)), "{a} {b}");
        }
        assert_ne!(phonetic(&key("иванов")), phonetic(&key("смирнов")));
        assert_eq!(phonetic("ivanov"), "afnf");
    }
}

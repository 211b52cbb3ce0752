//! The Cyrillic↔Latin transliteration key: one spelling for Иван / Ivan,
//! Щукин / Shchukin / Schukin, Юлия / Yulia / Iuliia / Julia.
//!
//! Cyrillic is first written in Latin letters (a simple ICAO-like table), then
//! every Latin spelling is reduced by the same rules, so that the competing
//! romanisation systems (GOST, ICAO, BGN/PCGN, passport, informal) meet:
//! `shch`/`sch` → `sch`, `kh` → `h`, `ye`/`yo` → `e`, `x` → `ks`, `c` → `k`
//! (not in `ch`), `w` → `v`, `y`/`j` → `i`, `tz` → `ts`, `ph` → `f`, and
//! doubled letters collapsed (`iuliia` → `iulia`, `dmitrii` → `dmitri`).
//! Latin letters with diacritics lose them (`é` → `e`).

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Latin spelling of one lower-case Cyrillic letter (Russian, Ukrainian, Belarusian).
fn cyrillic(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ґ' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' | 'і' | 'й' => "i",
        'ї' => "yi",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ы' => "y",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

/// Latin letters that do not decompose into a base letter and a mark.
fn latin_special(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        _ => return None,
    })
}

/// Writes a lower-case token in plain Latin letters: Cyrillic transliterated,
/// diacritics dropped, other scripts kept as they are.
pub(crate) fn romanize(token: &str, out: &mut String) {
    for c in token.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if let Some(s) = cyrillic(c).or_else(|| latin_special(c)) {
            out.push_str(s);
        } else {
            let mut base = None;
            decompose_canonical(c, |d| {
                if base.is_none() {
                    base = Some(d);
                }
            });
            match base {
                Some(b) if b.is_ascii() => out.push(b),
                Some(b) if cyrillic(b).is_some() => out.push_str(cyrillic(b).unwrap_or("")),
                _ if is_combining_mark(c) => {}
                _ => out.push(c),
            }
        }
    }
}

/// The rule that applies at the start of `rest`: what it writes and how
/// many bytes it takes, or `None` where none does (one whole character is
/// then copied). Dispatched on the first byte; of the rules sharing one, the
/// longer pattern is tried first.
fn rule(rest: &[u8]) -> Option<(&'static str, usize)> {
    let next = rest.get(1).copied();
    Some(match *rest.first()? {
        b's' if rest.starts_with(b"shch") => ("sch", 4),
        b's' if rest.starts_with(b"sch") => ("sch", 3),
        b't' if rest.starts_with(b"tch") => ("ch", 3),
        b't' if matches!(next, Some(b'z' | b's')) => ("ts", 2),
        b'k' if next == Some(b'h') => ("h", 2),
        b'p' if next == Some(b'h') => ("f", 2),
        b'y' if matches!(next, Some(b'e' | b'o')) => ("e", 2),
        b'c' if next == Some(b'k') => ("k", 2),
        b'c' if next == Some(b'h') => ("ch", 2),
        b'x' => ("ks", 1),
        b'c' | b'q' => ("k", 1),
        b'w' => ("v", 1),
        b'y' | b'j' => ("i", 1),
        _ => return None,
    })
}

/// Reduces a romanised token to the transliteration key (rules in the module doc).
pub(crate) fn reduce(latin: &str, out: &mut String) {
    let b = latin.as_bytes();
    let start = out.len();
    let mut i = 0;
    let push = |s: &str, out: &mut String| {
        for c in s.chars() {
            if !out[start..].ends_with(c) {
                out.push(c);
            }
        }
    };
    while let Some(rest) = b.get(i..).filter(|r| !r.is_empty()) {
        if let Some((emit, used)) = rule(rest) {
            push(emit, out);
            i += used;
        } else {
            // Rules take ASCII bytes only, so `i` is on a character boundary.
            let c = latin.get(i..).and_then(|t| t.chars().next()).unwrap_or(' ');
            let mut buf = [0u8; 4];
            push(c.encode_utf8(&mut buf), out);
            i += c.len_utf8();
        }
    }
}

/// The transliteration key of one canonical (lower-case) token.
pub(crate) fn key(token: &str) -> String {
    let mut out = String::with_capacity(token.len() + 4);
    if token.is_ascii() {
        reduce(token, &mut out);
    } else {
        let mut latin = String::with_capacity(token.len() + 4);
        romanize(token, &mut latin);
        reduce(&latin, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::key;

    /// The rules as first written, a chain of prefix tests in priority
    /// order: the dispatched version must pick the same rule everywhere.
    fn rule_chain(rest: &[u8]) -> Option<(&'static str, usize)> {
        if rest.starts_with(b"shch") {
            Some(("sch", 4))
        } else if rest.starts_with(b"sch") {
            Some(("sch", 3))
        } else if rest.starts_with(b"tch") {
            Some(("ch", 3))
        } else if rest.starts_with(b"kh") {
            Some(("h", 2))
        } else if rest.starts_with(b"ph") {
            Some(("f", 2))
        } else if rest.starts_with(b"ye") || rest.starts_with(b"yo") {
            Some(("e", 2))
        } else if rest.starts_with(b"ck") {
            Some(("k", 2))
        } else if rest.starts_with(b"ch") {
            Some(("ch", 2))
        } else if rest.starts_with(b"tz") || rest.starts_with(b"ts") {
            Some(("ts", 2))
        } else {
            match rest.first()? {
                b'x' => Some(("ks", 1)),
                b'c' => Some(("k", 1)),
                b'w' => Some(("v", 1)),
                b'q' => Some(("k", 1)),
                b'y' | b'j' => Some(("i", 1)),
                _ => None,
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn dispatched_rules_match_the_chain(token in "[a-z]{0,10}|[a-zäöüé ]{0,10}|[shctkpyjxwqzoe]{0,10}") {
            let b = token.as_bytes();
            for i in 0..=b.len() {
                proptest::prop_assert_eq!(super::rule(&b[i..]), rule_chain(&b[i..]));
            }
        }
    }

    #[test]
    fn spellings_meet() {
        let groups: &[&[&str]] = &[
            &["иван", "ivan"],
            &["щукин", "shchukin", "schukin"],
            &["юлия", "yulia", "iuliia", "julia", "yuliya"],
            &["алексей", "aleksey", "alexey", "alexei", "aleksei"],
            &["михаил", "mikhail", "mihail"],
            &["сергеев", "sergeyev", "sergeev"],
            &["фёдор", "федор", "fyodor", "fedor"],
            &["цой", "tsoy", "tsoi", "tzoi"],
            &["чайковский", "tchaikovsky", "chaikovskiy", "chaikovskii"],
            &["евгений", "yevgeniy", "evgeny", "evgenii"],
            &["наталья", "natalya", "natalia", "nataliya", "natal'ya"],
            &["ксения", "xenia", "kseniya", "ksenia"],
            &["виктор", "victor", "viktor"],
            &["дмитрий", "dmitry", "dmitriy", "dmitrii", "dmitrij"],
            &["хабаров", "khabarov", "habarov"],
            &["жуков", "zhukov"],
            &["шишкин", "shishkin"],
            &["семён", "semyon", "semen"],
            &["андреев", "andreyev", "andreev"],
            &["josé", "jose"],
        ];
        for group in groups {
            let k0 = key(&group[0].replace('\'', ""));
            for name in &group[1..] {
                assert_eq!(key(&name.replace('\'', "")), k0, "{name} vs {}", group[0]);
            }
        }
    }

    #[test]
    fn different_names_stay_apart() {
        for (a, b) in [
            ("иван", "ирина"),
            ("ольга", "олег"),
            ("шишкин", "сушкин"),
            ("жуков", "зуков"),
        ] {
            assert_ne!(key(a), key(b), "{a} {b}");
        }
    }

    #[test]
    fn examples_of_keys() {
        assert_eq!(key("щукин"), "schukin");
        assert_eq!(key("юлия"), "iulia");
        assert_eq!(key("хабаров"), "habarov");
        assert_eq!(key("王"), "王");
    }
}

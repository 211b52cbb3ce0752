//! Character-level helpers shared by the normalisers: invisible and control
//! characters, Unicode decimal digits, and input length caps.

/// Code points of the digit zero in every Unicode `Nd` (decimal digit) run.
///
/// Every run is ten contiguous code points, zero to nine (checked against
/// Python's `unicodedata` 14.0 when the table was made, and by a unit test for
/// the runs `char::to_digit` cannot see). Sorted, so a binary search finds the run.
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// [`str::trim`], with the common case — nothing to trim — decided from
/// the two end characters.
pub(crate) fn trim(v: &str) -> &str {
    let solid = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    if solid(v.chars().next()) && solid(v.chars().next_back()) {
        v
    } else {
        v.trim()
    }
}

/// The value of a Unicode decimal digit (`0`–`9`, `٣`, `９`, `𝟕`…), or `None`.
pub(crate) fn digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if c.is_ascii() {
        return None;
    }
    let cp = c as u32;
    let run = match DIGIT_ZEROS.binary_search(&cp) {
        Ok(i) => i,
        Err(0) => return None,
        Err(i) => i - 1,
    };
    let offset = cp - DIGIT_ZEROS[run];
    // Invariant: offset < 10, so the cast cannot truncate.
    (offset < 10).then_some(offset as u8)
}

/// Replaces every Unicode decimal digit by its ASCII digit; other characters are kept.
///
/// Borrows when the input has no non-ASCII digit (the common case).
pub(crate) fn fold_digits(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() || !s.chars().any(|c| !c.is_ascii() && digit_value(c).is_some()) {
        return std::borrow::Cow::Borrowed(s);
    }
    let folded = s
        .chars()
        .map(|c| match digit_value(c) {
            Some(d) if !c.is_ascii() => char::from(b'0' + d),
            _ => c,
        })
        .collect();
    std::borrow::Cow::Owned(folded)
}

/// True for characters that make a value unsafe to store or display as an
/// identifier: controls, zero-width characters and bidirectional overrides.
pub(crate) fn is_forbidden(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Zero-width and bidi-control characters (Unicode `Cf` characters that render
/// as nothing but change how text is joined or ordered), and the soft hyphen.
pub(crate) fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// True when `s` is one character repeated, at least `min_len` times
/// (`aaaa`, `ххх`): the shape of a value typed only to fill a field.
pub(crate) fn repeats_one_char(s: &str, min_len: usize) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let mut n = 1;
    for c in chars {
        if c != first {
            return false;
        }
        n += 1;
    }
    n >= min_len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_agrees_with_str_trim() {
        for v in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}Анна\u{a0}",
            "Анна",
            "x\u{2003}",
            "\u{3000}x",
            "\u{1}a\u{1}",
            "a b",
            "\u{85}",
            "ё\u{202f}",
        ] {
            assert_eq!(trim(v), v.trim(), "{v:?}");
        }
    }

    #[test]
    fn digit_runs_cover_ascii_fullwidth_arabic_and_math_digits() {
        let cases = [
            ('0', Some(0)),
            ('9', Some(9)),
            ('٣', Some(3)),
            ('۷', Some(7)),
            ('５', Some(5)),
            ('𝟕', Some(7)),
            ('७', Some(7)),
            ('a', None),
            ('/', None),
            (':', None),
            ('Ⅳ', None),
            ('²', None),
        ];
        for (c, want) in cases {
            assert_eq!(digit_value(c), want, "{c:?}");
        }
    }

    #[test]
    fn every_run_has_ten_digits_and_is_numeric() {
        for zero in DIGIT_ZEROS {
            for i in 0..10 {
                let c = char::from_u32(zero + i).expect("run code points are scalar values");
                assert!(c.is_numeric(), "{c:?}");
                assert_eq!(digit_value(c), Some(i as u8));
            }
        }
    }

    #[test]
    fn fold_digits_borrows_ascii_and_folds_the_rest() {
        assert!(matches!(
            fold_digits("+7 916"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(fold_digits("８９１６ x"), "8916 x");
        assert_eq!(fold_digits("тел ٠١٢"), "тел 012");
    }

    #[test]
    fn one_char_repeated() {
        assert!(repeats_one_char("aaa", 3));
        assert!(repeats_one_char("ёё", 2));
        assert!(!repeats_one_char("aa", 3));
        assert!(!repeats_one_char("aab", 2));
        assert!(!repeats_one_char("", 0));
    }

    #[test]
    fn forbidden_characters() {
        for c in [
            '\u{0}', '\n', '\u{7F}', '\u{200B}', '\u{200D}', '\u{202E}', '\u{2066}', '\u{FEFF}',
        ] {
            assert!(is_forbidden(c), "{c:?}");
        }
        for c in ['a', 'я', ' ', '@', '.', '\u{0301}'] {
            assert!(!is_forbidden(c), "{c:?}");
        }
    }
}

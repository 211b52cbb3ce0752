//! Person names: canonical tokens, the Cyrillic↔Latin transliteration key,
//! nickname groups, a phonetic key and surname gender forms.

mod nicknames;
mod phonetic;
pub(crate) mod translit;

use std::fmt;
use std::sync::LazyLock;

use rustc_hash::FxHashMap;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

pub use phonetic::SurnameGender;

use super::text::{is_invisible_format, repeats_one_char};
use super::{Flag, IdKind, Identifier, Invalid, precheck};

const MAX_RAW_BYTES: usize = 512;
const MAX_TOKENS: usize = 12;

/// Words typed into name fields when the name is unknown.
const PLACEHOLDER_TOKENS: &[&str] = &[
    "test",
    "тест",
    "xxx",
    "ххх",
    "unknown",
    "неизвестно",
    "нет",
    "no",
    "none",
    "null",
    "клиент",
    "покупатель",
    "гость",
    "guest",
    "user",
    "пользователь",
    "anonymous",
    "аноним",
    "customer",
    "фио",
    "name",
    "имя",
    "фамилия",
    "asdf",
    "qwerty",
    "йцукен",
    "noname",
    "client",
    "абонент",
];

/// One canonical name token with its transliteration key.
///
/// # Example
/// ```
/// use idstitch::NameToken;
///
/// let t = NameToken::new("Щукина")?;
/// assert_eq!(t.as_str(), "щукина");
/// assert_eq!(t.translit_key(), "schukina");
/// assert_eq!(t.surname_stem(), "schukin");
/// assert_eq!(NameToken::new("Schukin")?.translit_key(), "schukin");
/// assert!(NameToken::new("Саша")?.is_nickname_of(&NameToken::new("Alexander")?));
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameToken {
    text: Box<str>,
    key: Box<str>,
}

impl NameToken {
    /// Canonicalises one word; fails if the input does not hold exactly one token.
    ///
    /// # Errors
    /// As [`PersonName::parse`], and [`Invalid::Syntax`] when the input holds
    /// several words.
    pub fn new(raw: &str) -> Result<NameToken, Invalid> {
        let mut name = PersonName::parse(raw)?;
        if name.tokens.len() != 1 {
            return Err(Invalid::Syntax);
        }
        name.tokens.pop().ok_or(Invalid::Empty)
    }

    fn from_canonical(text: String) -> NameToken {
        let key = translit::key(&text);
        NameToken {
            text: text.into_boxed_str(),
            key: key.into_boxed_str(),
        }
    }

    /// The canonical token: NFKC, lower-case, `ё` written `е`, no punctuation.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The script-independent transliteration key (`иван` and `ivan` → `ivan`).
    pub fn translit_key(&self) -> &str {
        &self.key
    }

    /// A coarse phonetic key for blocking, computed on the surname stem.
    pub fn phonetic_key(&self) -> String {
        phonetic::phonetic(&phonetic::surname_stem(&self.key))
    }

    /// The masculine stem of a Russian surname (`ivanova` → `ivanov`); other
    /// tokens are returned as their transliteration key.
    pub fn surname_stem(&self) -> String {
        phonetic::surname_stem(&self.key)
    }

    /// The gender a Russian surname's ending shows.
    pub fn surname_gender(&self) -> SurnameGender {
        phonetic::gender(&self.key)
    }

    /// The nickname groups this first name belongs to (sorted group indices;
    /// empty for names not in the table). Two first names are
    /// nickname-equivalent when their groups intersect.
    pub fn nickname_groups(&self) -> &'static [u16] {
        NICKNAMES.get(&*self.key).map_or(&[], Vec::as_slice)
    }

    /// Whether two first names share a nickname group (Саша and Alexander;
    /// Lena and Елена), or have the same transliteration key.
    pub fn is_nickname_of(&self, other: &NameToken) -> bool {
        if self.key == other.key {
            return true;
        }
        let (a, b) = (self.nickname_groups(), other.nickname_groups());
        a.iter().any(|g| b.binary_search(g).is_ok())
    }
}

impl fmt::Display for NameToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for NameToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameToken(<{} bytes>)", self.text.len())
    }
}

/// Nickname table indexed by transliteration key.
// Keyed by the fixed table's names: looking up an input's key cannot grow
// it, so a fast hash needs no defence against chosen keys.
static NICKNAMES: LazyLock<FxHashMap<String, Vec<u16>>> = LazyLock::new(|| {
    let mut map: FxHashMap<String, Vec<u16>> = FxHashMap::default();
    for (gi, group) in nicknames::GROUPS.iter().enumerate() {
        // Invariant: the table has far fewer than 65,536 groups.
        let gi = gi as u16;
        for name in *group {
            let groups = map.entry(translit::key(&canonical_word(name))).or_default();
            if !groups.contains(&gi) {
                groups.push(gi);
            }
        }
    }
    for groups in map.values_mut() {
        groups.sort_unstable();
    }
    map
});

/// Lower-cases and writes `ё` as `е` (one table word, already a single token).
fn canonical_word(w: &str) -> String {
    w.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// A person's name as canonical tokens, in the order written.
///
/// Canonicalisation: NFKC (full-width and compatibility forms folded),
/// lower-case, `ё` → `е`, zero-width and bidi characters dropped, apostrophes
/// removed inside words (`O'Brien` → `obrien`, `Natal'ya` → `natalya`), every
/// other non-letter (hyphens, dots, commas, emoji) a token boundary. Digits are
/// not allowed in names. Names made only of placeholder words (`test`, `нет`,
/// `клиент`, `гость`…) or of one letter repeated carry [`Flag::Placeholder`].
///
/// # Example
/// ```
/// use idstitch::PersonName;
///
/// let n = PersonName::parse("  ЩУКИНА  Юлия-Алёна ")?;
/// assert_eq!(n.to_string(), "щукина юлия алена");
/// assert_eq!(n.translit_key(), "schukina iulia alena");
/// assert_eq!(PersonName::parse("Shchukina Yulia Alena")?.translit_key(), n.translit_key());
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName {
    tokens: Vec<NameToken>,
    flag: Option<Flag>,
}

impl PersonName {
    /// Parses a name (one part, or a full name in any order).
    ///
    /// # Errors
    /// [`Invalid::Empty`] (no letters), [`Invalid::TooLong`] (over 512 bytes or
    /// 12 words), [`Invalid::ForbiddenChar`] (control characters other than
    /// white space), [`Invalid::Syntax`] (digits).
    pub fn parse(raw: &str) -> Result<PersonName, Invalid> {
        let s = precheck(raw, MAX_RAW_BYTES)?;
        if s.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(Invalid::ForbiddenChar);
        }
        let mut tokens = Vec::with_capacity(3);
        let mut current = String::new();
        let flush = |current: &mut String, tokens: &mut Vec<NameToken>| -> Result<(), Invalid> {
            if !current.is_empty() {
                if tokens.len() == MAX_TOKENS {
                    return Err(Invalid::TooLong);
                }
                tokens.push(NameToken::from_canonical(std::mem::take(current)));
            }
            Ok(())
        };
        let mut feed = |c: char| -> Result<(), Invalid> {
            if let Some(l) = simple_letter_lower(c) {
                current.push(if l == 'ё' { 'е' } else { l });
                return Ok(());
            }
            if c.is_numeric() {
                return Err(Invalid::Syntax);
            }
            if is_invisible_format(c) || is_apostrophe(c) {
                return Ok(());
            }
            // A mark belongs to the letter before it; a mark with no letter
            // before it in the token is dropped, so tokens start with a letter.
            if is_combining_mark(c) {
                if !current.is_empty() {
                    current.extend(c.to_lowercase());
                }
                return Ok(());
            }
            if c.is_alphabetic() {
                for l in c.to_lowercase() {
                    current.push(if l == 'ё' { 'е' } else { l });
                }
                Ok(())
            } else {
                flush(&mut current, &mut tokens)
            }
        };
        // ASCII and the basic Cyrillic block are already in NFKC: skip the
        // normaliser for them (almost every name in practice).
        if s.chars().all(is_simple_char) {
            s.chars().try_for_each(&mut feed)?;
        } else {
            s.nfkc().try_for_each(&mut feed)?;
        }
        flush(&mut current, &mut tokens)?;
        if tokens.is_empty() {
            return Err(Invalid::Empty);
        }
        // Lower-casing and dropping apostrophes can leave combining marks out
        // of canonical order or uncomposed (`е` + U+0308): put every token
        // outside the simple scripts back into NFC, so canonical output
        // re-parses to itself.
        for t in &mut tokens {
            if !t.text.chars().all(is_simple_char) {
                let text: String = t
                    .text
                    .nfc()
                    .map(|c| if c == 'ё' { 'е' } else { c })
                    .collect();
                *t = NameToken::from_canonical(text);
            }
        }
        // NFKC and lower-casing can expand text (one ligature becomes many
        // letters): the canonical form must fit the same cap as raw input.
        let canonical_len: usize = tokens.iter().map(|t| t.text.len() + 1).sum();
        if canonical_len > MAX_RAW_BYTES + 1 {
            return Err(Invalid::TooLong);
        }
        let flag = tokens
            .iter()
            .all(|t| is_placeholder_token(t.as_str()))
            .then_some(Flag::Placeholder);
        Ok(PersonName { tokens, flag })
    }

    /// The canonical tokens.
    pub fn tokens(&self) -> &[NameToken] {
        &self.tokens
    }

    /// The transliteration keys of the tokens, space-separated.
    pub fn translit_key(&self) -> String {
        join(self.tokens.iter().map(NameToken::translit_key))
    }
}

fn join<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, p) in parts.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(p);
    }
    out
}

/// ASCII or the basic Cyrillic block: characters already in NFKC and NFC.
fn is_simple_char(c: char) -> bool {
    c.is_ascii() || ('\u{0400}'..='\u{045F}').contains(&c)
}

/// The lower-case form of an ASCII or basic-Cyrillic letter, without Unicode
/// table look-ups (the common case in names); `None` for anything else.
#[inline]
fn simple_letter_lower(c: char) -> Option<char> {
    match c {
        'a'..='z' | '\u{0430}'..='\u{045F}' => Some(c),
        'A'..='Z' => Some(c.to_ascii_lowercase()),
        // А–Я → а–я and Ѐ–Џ → ѐ–џ: fixed offsets in the Cyrillic block.
        '\u{0410}'..='\u{042F}' => char::from_u32(c as u32 + 0x20),
        '\u{0400}'..='\u{040F}' => char::from_u32(c as u32 + 0x50),
        _ => None,
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`' | '´' | '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{02B9}'
    )
}

fn is_placeholder_token(t: &str) -> bool {
    PLACEHOLDER_TOKENS.contains(&t) || repeats_one_char(t, 3)
}

impl Identifier for PersonName {
    const KIND: IdKind = IdKind::Name;

    fn flag(&self) -> Option<Flag> {
        self.flag
    }
}

impl fmt::Display for PersonName {
    /// The canonical tokens, space-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&join(self.tokens.iter().map(NameToken::as_str)))
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName(<{} tokens>)", self.tokens.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, Invalid>) {
        let got = PersonName::parse(input).map(|n| n.to_string());
        assert_eq!(got, expected.map(str::to_owned), "{input:?}");
    }

    #[test]
    fn canonical_tokens() {
        check("Иван", Ok("иван"));
        check("  ИВАНОВ   Иван  Иванович ", Ok("иванов иван иванович"));
        check("Фёдор", Ok("федор"));
        check("Салтыков-Щедрин", Ok("салтыков щедрин"));
        check("O'Brien", Ok("obrien"));
        check("Natal’ya", Ok("natalya"));
        check("Ｉｖａｎ", Ok("ivan"));
        check("Иван\u{200B}ов", Ok("иванов"));
        check("Ива\u{301}н", Ok("ива\u{301}н"));
        check("Анна 🌸", Ok("анна"));
        check("Смирнов, А.", Ok("смирнов а"));
        check("Фе\u{308}дор", Ok("федор"));
        // Arabic marks split by an apostrophe come back in canonical order (found by fuzzing).
        check(
            "xy\u{64b}\u{652}'\u{64b}\u{64b}",
            Ok("xy\u{64b}\u{64b}\u{64b}\u{652}"),
        );
        // Marks with no letter before them in their token are dropped.
        check("nm`\u{323}]\u{366}`\u{323}m", Ok("n\u{1e43} m"));
    }

    #[test]
    fn rejections() {
        check("", Err(Invalid::Empty));
        check(" - ", Err(Invalid::Empty));
        check("Ivan2", Err(Invalid::Syntax));
        check("Iv\u{0}an", Err(Invalid::ForbiddenChar));
        check(&"a ".repeat(13), Err(Invalid::TooLong));
        check(&"a".repeat(600), Err(Invalid::TooLong));
        // 100 ligatures of 3 bytes expand under NFKC to 18 letters each.
        check(&"\u{FDFA}".repeat(100), Err(Invalid::TooLong));
    }

    #[test]
    fn placeholders() {
        for input in [
            "test",
            "Тест",
            "XXX",
            "Клиент",
            "гость",
            "ааа",
            "unknown user",
        ] {
            assert_eq!(
                PersonName::parse(input).unwrap().flag(),
                Some(Flag::Placeholder),
                "{input}"
            );
        }
        for input in ["Иванов Иван Иванович", "Ян", "Ли", "Анна"] {
            assert_eq!(PersonName::parse(input).unwrap().flag(), None, "{input}");
        }
    }

    #[test]
    fn nicknames() {
        let t = |s: &str| NameToken::new(s).unwrap();
        let pairs = [
            ("Саша", "Александр"),
            ("Sasha", "Aleksandr"),
            ("Alex", "Александр"),
            ("Lena", "Елена"),
            ("Лена", "Elena"),
            ("Женя", "Евгения"),
            ("Женя", "Евгений"),
            ("Bill", "William"),
            ("Маша", "Maria"),
            ("Катя", "Catherine"),
        ];
        for (a, b) in pairs {
            assert!(t(a).is_nickname_of(&t(b)), "{a} {b}");
            assert!(t(b).is_nickname_of(&t(a)), "{b} {a}");
        }
        for (a, b) in [("Саша", "Мария"), ("Лена", "Ирина"), ("Bill", "Robert")] {
            assert!(!t(a).is_nickname_of(&t(b)), "{a} {b}");
        }
    }

    #[test]
    fn simple_lowering_agrees_with_unicode() {
        for cp in 0..=0x045Fu32 {
            let c = char::from_u32(cp).unwrap();
            if let Some(l) = simple_letter_lower(c) {
                assert!(c.is_alphabetic(), "{c:?}");
                assert_eq!(c.to_lowercase().collect::<String>(), l.to_string(), "{c:?}");
            }
        }
        assert_eq!(simple_letter_lower('Ё'), Some('ё'));
        assert_eq!(simple_letter_lower('1'), None);
    }

    #[test]
    fn name_token_needs_one_word() {
        assert_eq!(NameToken::new("Анна Мария"), Err(Invalid::Syntax));
        assert_eq!(NameToken::new("  "), Err(Invalid::Empty));
    }
}

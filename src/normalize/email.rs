//! [`Email`]: a canonical e-mail address (NFC, IDNA domain, provider rules).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::email_providers::{
    self, Dots, is_placeholder_domain, is_placeholder_local, is_placeholder_tld, is_role_local,
};
use super::text::{is_forbidden, repeats_one_char};
use super::{Flag, IdKind, Identifier, Invalid, precheck};

/// Raw input longer than this is refused before any work (an address is at
/// most 254 octets; the slack allows surrounding spaces and `mailto:`).
const MAX_RAW_BYTES: usize = 1024;
/// RFC 5321 limits.
const MAX_LOCAL_BYTES: usize = 64;
const MAX_ADDRESS_BYTES: usize = 254;
const MAX_LABEL_BYTES: usize = 63;

/// A canonical e-mail address: the key two records must share to be the same mailbox.
///
/// Canonicalisation: trim; optional `mailto:` and `<…>` removed; Unicode NFC;
/// the domain converted to ASCII (IDNA/punycode) and lower-cased; the local part
/// case-folded; then the provider's rule from one data table:
///
/// | provider domains | canonical domain | local part |
/// |---|---|---|
/// | gmail.com, googlemail.com | gmail.com | dots and `+tag` removed |
/// | yandex.ru, ya.ru, yandex.com/.by/.kz/.ua | yandex.ru | `+tag` removed, `.` written as `-` |
/// | icloud.com, me.com, mac.com | icloud.com | `+tag` removed |
/// | protonmail.com, pm.me, proton.me | proton.me | `+tag` removed |
/// | outlook.com, hotmail.com, live.com | unchanged | `+tag` removed |
/// | anything else (mail.ru, bk.ru, company domains…) | unchanged | case-folded only |
///
/// Placeholders (`test@test.ru`, `noemail@…`, reserved domains such as
/// `example.com`) and role accounts (`info@`, `noreply@`) parse, but carry a
/// [`Flag`] so they are not taken as a person's address.
///
/// # Example
/// ```
/// use idstitch::{Email, Flag, Identifier, Invalid};
///
/// let e = Email::parse("  Ivan.Petrov+shop@GoogleMail.com ")?;
/// assert_eq!(e.as_str(), "ivanpetrov@gmail.com");
/// assert_eq!(e.local(), "ivanpetrov");
/// assert_eq!(e.domain(), "gmail.com");
///
/// assert_eq!(Email::parse("ivan.petrov@ya.ru")?.as_str(), "ivan-petrov@yandex.ru");
/// assert_eq!(Email::parse("Иван@Почта.рф")?.as_str(), "иван@xn--80a1acny.xn--p1ai");
/// assert_eq!(Email::parse("test@test.ru")?.flag(), Some(Flag::Placeholder));
/// assert_eq!(Email::parse("ivan@@mail.ru"), Err(Invalid::Syntax));
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email {
    // Invariant: `addr[at]` is the only `@`; both sides are non-empty.
    addr: Box<str>,
    at: u16,
    flag: Option<Flag>,
}

impl Email {
    /// Parses and canonicalises an e-mail address.
    ///
    /// # Errors
    /// [`Invalid::Empty`], [`Invalid::TooLong`] (raw input over 1 KiB, local part
    /// over 64 octets, address over 254, a domain label over 63),
    /// [`Invalid::ForbiddenChar`] (control, zero-width, bidi characters),
    /// [`Invalid::Syntax`] (not exactly one `@`, spaces, quoted or dotted-wrong
    /// local parts, nothing left after provider rules), [`Invalid::Domain`].
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let s = precheck(raw, MAX_RAW_BYTES)?;
        let s = strip_wrappers(s);
        if s.is_ascii() {
            if s.bytes().any(|b| b.is_ascii_control()) {
                return Err(Invalid::ForbiddenChar);
            }
            Self::parse_nfc(s)
        } else {
            if s.chars().any(is_forbidden) {
                return Err(Invalid::ForbiddenChar);
            }
            let nfc: String = s.nfc().collect();
            Self::parse_nfc(&nfc)
        }
    }

    fn parse_nfc(s: &str) -> Result<Email, Invalid> {
        let (local, domain) = s.rsplit_once('@').ok_or(Invalid::Syntax)?;
        if local.is_empty() || domain.is_empty() || local.contains('@') {
            return Err(Invalid::Syntax);
        }
        if local.len() > MAX_LOCAL_BYTES {
            return Err(Invalid::TooLong);
        }
        check_local(local)?;
        let domain = ascii_domain(domain)?;
        if local.len() + 1 + domain.len() > MAX_ADDRESS_BYTES {
            return Err(Invalid::TooLong);
        }
        let mut addr = String::with_capacity(local.len() + 1 + domain.len());
        fold_case_into(local, &mut addr);
        let folded_len = addr.len();
        let domain = apply_provider(&mut addr, &domain);
        // The mailbox left after removing a tag must itself be a valid local
        // part (`a.+x@me.com` would leave `a.`), so canonical forms re-parse.
        if addr.is_empty() {
            return Err(Invalid::Syntax);
        }
        // Lower-casing can lengthen UTF-8 (`Ⱦ`, 2 bytes → `ⱦ`, 3): the canonical
        // local part must meet the same cap, or it would not re-parse.
        if addr.len() > MAX_LOCAL_BYTES || addr.len() + 1 + domain.len() > MAX_ADDRESS_BYTES {
            return Err(Invalid::TooLong);
        }
        if addr.len() != folded_len || !addr.is_ascii() {
            check_local(&addr)?;
        }
        let local_len = addr.len();
        let flag = flag_for(&addr, domain);
        addr.push('@');
        addr.push_str(domain);
        // Invariant: local.len() <= 64 after folding can grow (e.g. 'İ' → "i̇"),
        // but MAX_RAW_BYTES bounds it far below u16::MAX.
        let at = u16::try_from(local_len).map_err(|_| Invalid::TooLong)?;
        Ok(Email {
            addr: addr.into_boxed_str(),
            at,
            flag,
        })
    }

    /// The canonical address, `local@domain`.
    pub fn as_str(&self) -> &str {
        &self.addr
    }

    /// The canonical local part (before `@`).
    pub fn local(&self) -> &str {
        &self.addr[..usize::from(self.at)]
    }

    /// The canonical ASCII domain (after `@`).
    pub fn domain(&self) -> &str {
        &self.addr[usize::from(self.at) + 1..]
    }
}

impl Identifier for Email {
    const KIND: IdKind = IdKind::Email;

    fn flag(&self) -> Option<Flag> {
        self.flag
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.addr)
    }
}

impl fmt::Debug for Email {
    /// Debug output hides the address so it cannot leak into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email(<{} bytes>)", self.addr.len())
    }
}

impl std::str::FromStr for Email {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        Email::parse(s)
    }
}

/// Removes a `mailto:` scheme and one pair of angle brackets.
fn strip_wrappers(s: &str) -> &str {
    let s = s
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(s);
    match s.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => &s[7..],
        _ => s,
    }
}

/// Checks an unquoted (dot-atom) local part, allowing UTF-8 letters (RFC 6531).
fn check_local(local: &str) -> Result<(), Invalid> {
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(Invalid::Syntax);
    }
    let ok = if local.is_ascii() {
        local.bytes().all(is_atext)
    } else {
        local.chars().all(|c| match u8::try_from(c) {
            Ok(b) if b.is_ascii() => is_atext(b),
            _ => c.is_alphanumeric() || is_combining_mark(c),
        })
    };
    if ok { Ok(()) } else { Err(Invalid::Syntax) }
}

/// RFC 5322 `atext` plus the dot, as a table over bytes (non-ASCII: false).
const ATEXT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'/'
                    | b'='
                    | b'?'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
                    | b'.'
            );
        b += 1;
    }
    t
};

#[inline]
fn is_atext(b: u8) -> bool {
    ATEXT[usize::from(b)]
}

/// Appends a lower-cased local part: ASCII fast path, full Unicode lower-casing otherwise.
fn fold_case_into(local: &str, out: &mut String) {
    if local.is_ascii() {
        let start = out.len();
        out.push_str(local);
        out[start..].make_ascii_lowercase();
    } else {
        out.extend(local.chars().flat_map(char::to_lowercase).nfc());
    }
}

/// Converts a domain to lower-case ASCII (punycode for internationalised
/// labels) and checks host-name syntax and lengths.
fn ascii_domain(domain: &str) -> Result<Cow<'_, str>, Invalid> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let plain_ascii = domain.is_ascii()
        && domain
            .split('.')
            .all(|l| !(l.len() >= 4 && l[..4].eq_ignore_ascii_case("xn--")));
    let ascii = if plain_ascii {
        if domain.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(domain.to_ascii_lowercase())
        } else {
            Cow::Borrowed(domain)
        }
    } else {
        Cow::Owned(idna_cached(domain)?)
    };
    check_host(&ascii)?;
    Ok(ascii)
}

/// Domain as written → its ASCII form or the reason it has none.
type IdnaCache = HashMap<Box<str>, Result<Box<str>, Invalid>>;

/// Entries kept per thread before the IDNA cache is cleared.
const IDNA_CACHE_CAP: usize = 4096;

thread_local! {
    /// Internationalised domains repeat across millions of addresses (почта.рф,
    /// яндекс.рф), and UTS 46 processing costs microseconds: remember results.
    static IDNA_CACHE: RefCell<IdnaCache> =
        RefCell::new(HashMap::new());
}

fn idna_cached(domain: &str) -> Result<String, Invalid> {
    IDNA_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(hit) = cache.get(domain) {
            return hit.as_ref().map(|d| d.to_string()).map_err(|e| *e);
        }
        let result = idna::domain_to_ascii_strict(domain).map_err(|_| Invalid::Domain);
        if cache.len() >= IDNA_CACHE_CAP {
            cache.clear();
        }
        cache.insert(
            domain.into(),
            result.as_ref().map(|d| d.as_str().into()).map_err(|e| *e),
        );
        result
    })
}

/// Letter-digit-hyphen labels, at least two, a non-numeric top-level label.
fn check_host(host: &str) -> Result<(), Invalid> {
    if host.len() > MAX_ADDRESS_BYTES {
        return Err(Invalid::TooLong);
    }
    let mut n_labels = 0;
    let mut last = "";
    for label in host.split('.') {
        if label.len() > MAX_LABEL_BYTES {
            return Err(Invalid::TooLong);
        }
        let ldh = !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ldh {
            return Err(Invalid::Domain);
        }
        n_labels += 1;
        last = label;
    }
    if n_labels < 2 || last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::Domain);
    }
    Ok(())
}

/// Applies the provider's local-part rule to `local` in place and returns the
/// canonical domain.
fn apply_provider<'a>(local: &mut String, domain: &'a str) -> &'a str {
    let Some(p) = email_providers::provider(domain) else {
        return domain;
    };
    if p.plus_tags
        && let Some(i) = local.find('+')
    {
        local.truncate(i);
    }
    match p.dots {
        Dots::Keep => {}
        Dots::Remove => local.retain(|c| c != '.'),
        Dots::AsHyphen => {
            if local.contains('.') {
                *local = local.replace('.', "-");
            }
        }
    }
    p.canonical_domain
}

fn flag_for(local: &str, domain: &str) -> Option<Flag> {
    let tld = domain.rsplit('.').next().unwrap_or(domain);
    let base = local.split_once('+').map_or(local, |(b, _)| b);
    let digits_only = base.bytes().all(|b| b.is_ascii_digit());
    if is_placeholder_domain(domain)
        || is_placeholder_tld(tld)
        || is_placeholder_local(base)
        || repeats_one_char(base, 2)
        || (digits_only && is_digit_run(base))
    {
        return Some(Flag::Placeholder);
    }
    if is_role_local(base) {
        return Some(Flag::RoleAccount);
    }
    None
}

/// `123`, `1234567`, `987654`…: a run of consecutive digits.
fn is_digit_run(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3
        && (b.windows(2).all(|w| w[1] == w[0] + 1) || b.windows(2).all(|w| w[0] == w[1] + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<(&str, Option<Flag>), Invalid>) {
        let got = Email::parse(input).map(|e| (e.as_str().to_owned(), e.flag()));
        let want = expected.map(|(s, f)| (s.to_owned(), f));
        assert_eq!(got, want, "input {input:?}");
    }

    #[test]
    fn provider_rules() {
        let cases = [
            // Gmail: dots and +tags removed, googlemail aliased.
            ("Ivan.Petrov@gmail.com", "ivanpetrov@gmail.com"),
            ("i.v.a.n+promo@googlemail.com", "ivan@gmail.com"),
            ("IVANPETROV+a+b@GMAIL.COM", "ivanpetrov@gmail.com"),
            // Yandex: every domain aliased, +tag removed, dots written as hyphens.
            ("ivan.petrov@yandex.ru", "ivan-petrov@yandex.ru"),
            ("ivan-petrov@ya.ru", "ivan-petrov@yandex.ru"),
            ("Ivan.Petrov+shop@yandex.com", "ivan-petrov@yandex.ru"),
            ("ivan.petrov@yandex.by", "ivan-petrov@yandex.ru"),
            ("ivan.petrov@yandex.kz", "ivan-petrov@yandex.ru"),
            ("ivan.petrov@yandex.ua", "ivan-petrov@yandex.ru"),
            // Apple: aliased, +tag removed, dots kept.
            ("ivan.petrov+x@me.com", "ivan.petrov@icloud.com"),
            ("ivan.petrov@mac.com", "ivan.petrov@icloud.com"),
            ("Ivan.Petrov@iCloud.com", "ivan.petrov@icloud.com"),
            // Proton: aliased, +tag removed, dots kept.
            ("ivan.petrov+x@protonmail.com", "ivan.petrov@proton.me"),
            ("ivan.petrov@pm.me", "ivan.petrov@proton.me"),
            ("ivan.petrov@proton.me", "ivan.petrov@proton.me"),
            // Microsoft: +tag removed only, domains not merged.
            ("ivan.petrov+x@outlook.com", "ivan.petrov@outlook.com"),
            ("ivan.petrov+x@hotmail.com", "ivan.petrov@hotmail.com"),
            ("ivan.petrov+x@live.com", "ivan.petrov@live.com"),
            // Mail.ru family: separate mailboxes, nothing merged or removed.
            ("Ivan.Petrov+x@mail.ru", "ivan.petrov+x@mail.ru"),
            ("ivan.petrov@inbox.ru", "ivan.petrov@inbox.ru"),
            ("ivan.petrov@list.ru", "ivan.petrov@list.ru"),
            ("ivan.petrov@bk.ru", "ivan.petrov@bk.ru"),
            // Unknown providers: case-folding only.
            (
                "Ivan.Petrov+x@Shop.Example.Co.UK",
                "ivan.petrov+x@shop.example.co.uk",
            ),
            ("a_b-c@firma.ru", "a_b-c@firma.ru"),
        ];
        for (input, want) in cases {
            check(input, Ok((want, None)));
        }
    }

    #[test]
    fn wrappers_whitespace_and_unicode() {
        check(" <Ivan@Mail.RU> ", Ok(("ivan@mail.ru", None)));
        check("MAILTO:ivan@mail.ru", Ok(("ivan@mail.ru", None)));
        check("ivan@mail.ru.", Ok(("ivan@mail.ru", None)));
        // NFD input is composed before folding: "й" as и + combining breve.
        check("и\u{306}ван@mail.ru", Ok(("йван@mail.ru", None)));
        check("ИВАН@почта.рф", Ok(("иван@xn--80a1acny.xn--p1ai", None)));
        check(
            "ivan@xn--80a1acny.xn--p1ai",
            Ok(("ivan@xn--80a1acny.xn--p1ai", None)),
        );
        check("ivan@Bücher.de", Ok(("ivan@xn--bcher-kva.de", None)));
    }

    #[test]
    fn rejections() {
        let cases = [
            ("", Invalid::Empty),
            ("   ", Invalid::Empty),
            ("ivan", Invalid::Syntax),
            ("ivan@", Invalid::Syntax),
            ("@mail.ru", Invalid::Syntax),
            ("ivan@@mail.ru", Invalid::Syntax),
            ("iv an@mail.ru", Invalid::Syntax),
            ("\"ivan\"@mail.ru", Invalid::Syntax),
            (".ivan@mail.ru", Invalid::Syntax),
            ("ivan.@mail.ru", Invalid::Syntax),
            ("iv..an@mail.ru", Invalid::Syntax),
            ("+tag@gmail.com", Invalid::Syntax),
            ("...@gmail.com", Invalid::Syntax),
            ("a.+x@me.com", Invalid::Syntax),
            ("ivan\u{200B}@mail.ru", Invalid::ForbiddenChar),
            ("ivan@mail\u{202E}.ru", Invalid::ForbiddenChar),
            ("iv\nan@mail.ru", Invalid::ForbiddenChar),
            ("ivan@localhost", Invalid::Domain),
            ("ivan@mail", Invalid::Domain),
            ("ivan@192.168.0.1", Invalid::Domain),
            ("ivan@[192.168.0.1]", Invalid::Domain),
            ("ivan@-mail.ru", Invalid::Domain),
            ("ivan@mail-.ru", Invalid::Domain),
            ("ivan@mail..ru", Invalid::Domain),
            ("ivan@ma_il.ru", Invalid::Domain),
            ("ivan@xn--zz.ru", Invalid::Domain),
        ];
        for (input, want) in cases {
            check(input, Err(want));
        }
    }

    #[test]
    fn length_caps() {
        let local64 = "ab".repeat(32);
        check(
            &format!("{local64}@mail.ru"),
            Ok((&format!("{local64}@mail.ru"), None)),
        );
        check(
            &format!("{}@mail.ru", "a".repeat(65)),
            Err(Invalid::TooLong),
        );
        let label63 = "b".repeat(63);
        check(
            &format!("a@{label63}.ru"),
            Ok((&format!("a@{label63}.ru"), None)),
        );
        check(&format!("a@{}.ru", "b".repeat(64)), Err(Invalid::TooLong));
        // 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254: accepted; one more octet is not.
        let domain = format!("{label63}.{label63}.{}", "c".repeat(61));
        check(
            &format!("{local64}@{domain}"),
            Ok((&format!("{local64}@{domain}"), None)),
        );
        let domain = format!("{label63}.{label63}.{}", "c".repeat(62));
        check(&format!("{local64}@{domain}"), Err(Invalid::TooLong));
        check(&"a".repeat(2000), Err(Invalid::TooLong));
        // 32 × 'Ⱦ' is 64 bytes, its lower case 96 (found by fuzzing).
        check(
            &format!("{}@mail.ru", "Ⱦ".repeat(32)),
            Err(Invalid::TooLong),
        );
    }

    #[test]
    fn placeholders_and_roles_are_flagged() {
        let placeholders = [
            "test@test.ru",
            "noemail@mail.ru",
            "no@no.ru",
            "ivan@example.com",
            "ivan@shop.example",
            "ivan@site.test",
            "none@gmail.com",
            "aaaa@mail.ru",
            "123456@mail.ru",
            "qwerty@yandex.ru",
            "12345678@mail.ru",
        ];
        for input in placeholders {
            assert_eq!(
                Email::parse(input).unwrap().flag(),
                Some(Flag::Placeholder),
                "{input}"
            );
        }
        for input in [
            "info@shop.ru",
            "noreply@shop.ru",
            "no-reply@shop.ru",
            "Support+x@gmail.com",
            "admin@firma.ru",
        ] {
            assert_eq!(
                Email::parse(input).unwrap().flag(),
                Some(Flag::RoleAccount),
                "{input}"
            );
        }
        for input in [
            "ivan@mail.ru",
            "i.ivanov@firma.ru",
            "31415926@mail.ru",
            "informatik@mail.ru",
        ] {
            assert_eq!(Email::parse(input).unwrap().flag(), None, "{input}");
        }
    }

    #[test]
    fn debug_output_hides_the_address() {
        let e = Email::parse("ivan@mail.ru").unwrap();
        assert!(!format!("{e:?}").contains("ivan"));
    }

    #[test]
    fn canonical_values_are_fixed_points() {
        for input in [
            "Ivan.Petrov+x@GoogleMail.com",
            "ИВАН@почта.рф",
            "i.v@ya.ru",
            "a+b@mail.ru",
        ] {
            let once = Email::parse(input).unwrap();
            let twice = Email::parse(once.as_str()).unwrap();
            assert_eq!(once, twice, "{input}");
        }
    }
}

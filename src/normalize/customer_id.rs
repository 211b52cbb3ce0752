//! [`CustomerId`]: an opaque customer ID, scoped by the system that issued it.

use std::fmt;

use super::text::is_forbidden;
use super::{Flag, IdKind, Identifier, Invalid, precheck};

const MAX_RAW_BYTES: usize = 256;
const MAX_ID_BYTES: usize = 128;
const MAX_SYSTEM_BYTES: usize = 64;

/// Values that export tools write for "no ID".
const PLACEHOLDERS: &[&str] = &[
    "0",
    "-",
    "null",
    "none",
    "nil",
    "n/a",
    "na",
    "nan",
    "undefined",
    "unknown",
];

/// A customer ID issued by one source system (a CRM, a loyalty platform, the web shop).
///
/// The ID is opaque: only surrounding white space is trimmed, case and inner
/// characters are kept. It is scoped by its system, so the same ID issued by
/// two CRMs is two different keys. The system name is trimmed and lower-cased.
///
/// # Example
/// ```
/// use idstitch::CustomerId;
///
/// let a = CustomerId::parse("CRM-Moscow", " C-000123 ")?;
/// let b = CustomerId::parse("crm-spb", "C-000123")?;
/// assert_eq!(a.system(), "crm-moscow");
/// assert_eq!(a.id(), "C-000123");
/// assert_ne!(a, b);
/// assert_eq!(a.to_string(), "crm-moscow:C-000123");
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId {
    system: Box<str>,
    id: Box<str>,
    flag: Option<Flag>,
}

impl CustomerId {
    /// Parses an ID issued by `system`.
    ///
    /// # Errors
    /// [`Invalid::Empty`] (either part), [`Invalid::TooLong`] (ID over 128
    /// bytes, system name over 64), [`Invalid::ForbiddenChar`].
    pub fn parse(system: &str, raw: &str) -> Result<CustomerId, Invalid> {
        let system = precheck(system, MAX_SYSTEM_BYTES)?;
        let id = precheck(raw, MAX_RAW_BYTES)?;
        if id.len() > MAX_ID_BYTES {
            return Err(Invalid::TooLong);
        }
        if id.chars().any(is_forbidden) || system.chars().any(is_forbidden) {
            return Err(Invalid::ForbiddenChar);
        }
        // Lower-casing can lengthen text (`Ⱥ` is 2 bytes, `ⱥ` 3): the cap
        // applies to the canonical name, so canonical output re-parses.
        let system = system.to_lowercase();
        if system.len() > MAX_SYSTEM_BYTES {
            return Err(Invalid::TooLong);
        }
        let flag = PLACEHOLDERS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(id))
            .then_some(Flag::Placeholder);
        Ok(CustomerId {
            system: system.into_boxed_str(),
            id: id.into(),
            flag,
        })
    }

    /// The issuing system, lower-case.
    pub fn system(&self) -> &str {
        &self.system
    }

    /// The ID as issued.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Identifier for CustomerId {
    const KIND: IdKind = IdKind::CustomerId;

    fn flag(&self) -> Option<Flag> {
        self.flag
    }
}

impl fmt::Display for CustomerId {
    /// `system:id`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.system, self.id)
    }
}

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomerId({}:<{} bytes>)", self.system, self.id.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        let ok = |s: &str, id: &str| CustomerId::parse(s, id).map(|c| c.to_string());
        assert_eq!(ok("CRM", "  Ab-1 "), Ok("crm:Ab-1".into()));
        assert_eq!(ok("crm", "ab-1"), Ok("crm:ab-1".into()));
        assert_eq!(ok("", "1"), Err(Invalid::Empty));
        assert_eq!(ok("crm", " "), Err(Invalid::Empty));
        assert_eq!(ok("crm", "a\u{202E}b"), Err(Invalid::ForbiddenChar));
        assert_eq!(ok("crm", &"x".repeat(129)), Err(Invalid::TooLong));
        assert_eq!(ok(&"s".repeat(65), "1"), Err(Invalid::TooLong));
        // 64 bytes raw, 96 once lower-cased (found by fuzzing).
        assert_eq!(ok(&"Ⱥ".repeat(32), "1"), Err(Invalid::TooLong));
        assert!(ok(&"Ⱥ".repeat(21), "1").is_ok());
        assert_eq!(
            CustomerId::parse("crm", "NULL").unwrap().flag(),
            Some(Flag::Placeholder)
        );
        assert_eq!(
            CustomerId::parse("crm", "0").unwrap().flag(),
            Some(Flag::Placeholder)
        );
        assert_eq!(CustomerId::parse("crm", "00017").unwrap().flag(), None);
    }
}

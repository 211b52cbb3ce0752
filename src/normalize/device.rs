//! [`DeviceId`]: advertising and vendor device identifiers (IDFA, IDFV, GAID as
//! UUIDs; Android IDs as 16 hex digits), held as integers.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Flag, IdKind, Identifier, Invalid, precheck};

const MAX_RAW_BYTES: usize = 64;

/// The Android ID that a bug in Android 2.2 gave to many devices at once.
const SHARED_ANDROID_ID: u64 = 0x9774_d56d_682e_549c;

/// The form of a device identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A 128-bit UUID: Apple's IDFA and IDFV, Google's advertising ID (GAID).
    Uuid,
    /// A 64-bit Android ID (`Settings.Secure.ANDROID_ID`), 16 hex digits.
    AndroidId,
}

/// A device identifier, canonical as lower-case hex: UUIDs hyphenated
/// (`6f9619ff-8b86-d011-b42d-00c04fc964ff`), Android IDs as 16 digits.
///
/// UUIDs are accepted in any case, with or without hyphens, in braces or with
/// a `urn:uuid:` prefix. The all-zero ID that iOS and Android report when the
/// user has opted out of tracking is invalid ([`Invalid::OptOut`]); the Android
/// ID shared by many devices through an Android 2.2 bug is flagged as a placeholder.
///
/// # Example
/// ```
/// use idstitch::{DeviceId, DeviceKind, Invalid};
///
/// let idfa = DeviceId::parse("{6F9619FF-8B86-D011-B42D-00C04FC964FF}")?;
/// assert_eq!(idfa.to_string(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
/// assert_eq!(idfa.kind(), DeviceKind::Uuid);
/// assert_eq!(DeviceId::parse("urn:uuid:6f9619ff8b86d011b42d00c04fc964ff")?, idfa);
///
/// let android = DeviceId::parse("A1B2C3D4E5F60718")?;
/// assert_eq!(android.to_string(), "a1b2c3d4e5f60718");
///
/// assert_eq!(DeviceId::parse("00000000-0000-0000-0000-000000000000"), Err(Invalid::OptOut));
/// # Ok::<(), idstitch::Invalid>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId {
    kind: DeviceKind,
    // Invariant: for AndroidId, the value fits in 64 bits; never zero.
    value: u128,
}

impl DeviceId {
    /// Parses a device identifier.
    ///
    /// # Errors
    /// [`Invalid::Empty`], [`Invalid::TooLong`], [`Invalid::Syntax`] (not a
    /// UUID nor 16 hex digits), [`Invalid::OptOut`] (all zeros).
    pub fn parse(raw: &str) -> Result<DeviceId, Invalid> {
        let s = precheck(raw, MAX_RAW_BYTES)?.as_bytes();
        let s = match s.get(..9) {
            Some(p) if p.eq_ignore_ascii_case(b"urn:uuid:") => &s[9..],
            _ => s,
        };
        let s = match s {
            [b'{', inner @ .., b'}'] => inner,
            _ => s,
        };
        let (kind, value) = match s.len() {
            36 => {
                if [8, 13, 18, 23].iter().any(|&i| s[i] != b'-') {
                    return Err(Invalid::Syntax);
                }
                let v = [&s[..8], &s[9..13], &s[14..18], &s[19..23], &s[24..]]
                    .iter()
                    .try_fold(0u128, |acc, part| {
                        Ok::<_, Invalid>((acc << (4 * part.len())) | hex_value(part)?)
                    })?;
                (DeviceKind::Uuid, v)
            }
            32 => (DeviceKind::Uuid, hex_value(s)?),
            16 => (DeviceKind::AndroidId, hex_value(s)?),
            _ => return Err(Invalid::Syntax),
        };
        if value == 0 {
            return Err(Invalid::OptOut);
        }
        Ok(DeviceId { kind, value })
    }

    /// The identifier's form.
    pub fn kind(&self) -> DeviceKind {
        self.kind
    }

    /// The identifier as an integer (Android IDs use the low 64 bits).
    pub fn value(&self) -> u128 {
        self.value
    }
}

/// Hex digit values by byte; `INVALID_HEX` for every other byte.
const HEX: [u8; 256] = {
    let mut t = [INVALID_HEX; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};
const INVALID_HEX: u8 = 0xFF;

/// The value of a run of hex digits, branch-free per digit: an OR of the
/// looked-up values tells at the end whether any byte was not a hex digit.
fn hex_value(s: &[u8]) -> Result<u128, Invalid> {
    let mut v = 0u128;
    let mut bad = 0u8;
    for &b in s {
        let d = HEX[usize::from(b)];
        bad |= d & 0xF0;
        v = (v << 4) | u128::from(d & 0x0F);
    }
    if bad == 0 {
        Ok(v)
    } else {
        Err(Invalid::Syntax)
    }
}

impl Identifier for DeviceId {
    const KIND: IdKind = IdKind::Device;

    fn flag(&self) -> Option<Flag> {
        (self.kind == DeviceKind::AndroidId && self.value == u128::from(SHARED_ANDROID_ID))
            .then_some(Flag::Placeholder)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DeviceKind::AndroidId => write!(f, "{:016x}", self.value),
            DeviceKind::Uuid => {
                let v = self.value;
                write!(
                    f,
                    "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                    v >> 96,
                    (v >> 80) & 0xffff,
                    (v >> 64) & 0xffff,
                    (v >> 48) & 0xffff,
                    v & 0xffff_ffff_ffff
                )
            }
        }
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({:?})", self.kind)
    }
}

impl std::str::FromStr for DeviceId {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        DeviceId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, Invalid>) {
        let got = DeviceId::parse(input).map(|d| d.to_string());
        assert_eq!(got, expected.map(str::to_owned), "{input:?}");
    }

    #[test]
    fn uuid_forms() {
        let want = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
        for input in [
            "6f9619ff-8b86-d011-b42d-00c04fc964ff",
            "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            " {6f9619ff-8b86-d011-b42d-00c04fc964ff} ",
            "urn:uuid:6f9619ff-8b86-d011-b42d-00c04fc964ff",
            "URN:UUID:{6F9619FF-8B86-D011-B42D-00C04FC964FF}",
            "6f9619ff8b86d011b42d00c04fc964ff",
        ] {
            check(input, Ok(want));
        }
        check(
            "00000000-0000-0000-0000-000000000001",
            Ok("00000000-0000-0000-0000-000000000001"),
        );
    }

    #[test]
    fn android_ids() {
        check("A1B2C3D4E5F60718", Ok("a1b2c3d4e5f60718"));
        check("000000000000000a", Ok("000000000000000a"));
        assert_eq!(
            DeviceId::parse("a1b2c3d4e5f60718").unwrap().kind(),
            DeviceKind::AndroidId
        );
        assert_eq!(
            DeviceId::parse("9774d56d682e549c").unwrap().flag(),
            Some(Flag::Placeholder)
        );
    }

    #[test]
    fn rejections() {
        let cases = [
            ("", Invalid::Empty),
            ("00000000-0000-0000-0000-000000000000", Invalid::OptOut),
            ("00000000000000000000000000000000", Invalid::OptOut),
            ("0000000000000000", Invalid::OptOut),
            ("6f9619ff-8b86-d011-b42d-00c04fc964f", Invalid::Syntax),
            ("6f9619ff-8b86-d011-b42d-00c04fc964fg", Invalid::Syntax),
            ("6f9619ff+8b86-d011-b42d-00c04fc964ff", Invalid::Syntax),
            ("6f9619ff8b86-d011-b42d-00c04fc964ff-", Invalid::Syntax),
            ("{6f9619ff-8b86-d011-b42d-00c04fc964ff", Invalid::Syntax),
            ("a1b2c3d4e5f6071", Invalid::Syntax),
            ("ёёёёёёёё", Invalid::Syntax),
        ];
        for (input, want) in cases {
            check(input, Err(want));
        }
        check(&"a".repeat(65), Err(Invalid::TooLong));
    }
}

//! Hashed identifiers: match two parties' customers without exchanging raw
//! e-mails or phones.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Hashes canonical identifier values: HMAC-SHA-256 under a caller's key
/// (the default: two parties holding the key resolve on hashes no one else
/// can reverse), or plain SHA-256 for interoperability with industry ID
/// schemes that publish it.
///
/// Hash the *canonical* value ([`canonical`](crate::canonical)), so
/// `8 (912) 345-67-89` and `+7 912 345 67 89` meet. Plain SHA-256 of a phone
/// number is **enumerable**: there are only about 10¹⁰ mobile numbers per
/// country, so anyone can hash them all and reverse it; use it only where a
/// partner scheme requires it.
///
/// # Example
/// ```
/// use idstitch::IdentifierHasher;
///
/// let h = IdentifierHasher::hmac(b"a shared 32-byte secret key......")?;
/// let a = h.hash("+79123456789");
/// assert_eq!(a.len(), 64);
/// assert_eq!(a, h.hash("+79123456789"));
/// assert_ne!(a, IdentifierHasher::sha256().hash("+79123456789"));
/// assert!(IdentifierHasher::hmac(b"short").is_err());
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Clone)]
pub struct IdentifierHasher {
    key: Option<Box<[u8]>>,
}

impl std::fmt::Debug for IdentifierHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("IdentifierHasher")
            .field(
                "mode",
                &if self.key.is_some() {
                    "hmac-sha256"
                } else {
                    "sha256"
                },
            )
            .finish()
    }
}

/// The shortest HMAC key accepted: 16 bytes (128 bits).
pub const MIN_KEY_BYTES: usize = 16;

impl IdentifierHasher {
    /// HMAC-SHA-256 under `key` (at least [`MIN_KEY_BYTES`] bytes).
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a shorter key.
    pub fn hmac(key: &[u8]) -> Result<IdentifierHasher> {
        if key.len() < MIN_KEY_BYTES {
            return Err(Error::config("hash key", "must be at least 16 bytes"));
        }
        Ok(IdentifierHasher {
            key: Some(key.into()),
        })
    }

    /// Unkeyed SHA-256 (enumerable for phones: see the type's docs).
    pub fn sha256() -> IdentifierHasher {
        IdentifierHasher { key: None }
    }

    /// Whether this hasher is keyed.
    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }

    /// The lower-case hex digest of a canonical value.
    pub fn hash(&self, canonical: &str) -> String {
        hex(&self.digest(canonical.as_bytes()))
    }

    /// The 32-byte digest of some bytes.
    pub fn digest(&self, bytes: &[u8]) -> [u8; 32] {
        match &self.key {
            Some(key) => {
                // HMAC accepts keys of any length: `new_from_slice` cannot fail.
                let mut mac = Hmac::<Sha256>::new_from_slice(key)
                    .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
                mac.update(bytes);
                mac.finalize().into_bytes().into()
            }
            None => Sha256::digest(bytes).into(),
        }
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn sha256_matches_the_fips_180_vectors() {
        let h = IdentifierHasher::sha256();
        assert_eq!(
            h.hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            h.hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn hmac_matches_the_rfc_4231_vectors() {
        // Test case 2 has a 4-byte key, below our minimum: checked through
        // `digest` on a hasher built without the length rule.
        let case2 = IdentifierHasher {
            key: Some(b"Jefe".to_vec().into()),
        };
        assert_eq!(
            hex(&case2.digest(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 1: key 0x0b × 20, data "Hi There".
        let case1 = IdentifierHasher::hmac(&[0x0b; 20]).unwrap();
        assert_eq!(
            case1.hash("Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 6: a 131-byte key (longer than the block) is hashed first.
        let case6 = IdentifierHasher::hmac(&[0xaa; 131]).unwrap();
        assert_eq!(
            case6.hash("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(unhex("0aff"), [0x0a, 0xff]);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let h = IdentifierHasher::hmac(b"0123456789abcdefSECRET").unwrap();
        let d = format!("{h:?}");
        assert!(d.contains("hmac") && !d.contains("SECRET"));
    }
}

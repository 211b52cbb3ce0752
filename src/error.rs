//! The crate's one error type: [`Error`], its [`ErrorKind`] and the [`Result`] alias.
//!
//! Errors are for operations that cannot go on (a bad configuration, an unknown
//! region code). A value that cannot be used as a person's identifier is not an
//! error: it is data, described by [`Invalid`](crate::Invalid) and counted.
//!
//! Messages are lower-case, name the field or parameter, and never contain the
//! personal data that caused them.

use std::fmt;

use crate::normalize::{IdKind, Invalid};

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error type of every fallible operation in this crate.
///
/// It is one pointer wide, so `Result<T>` stays small on hot paths; match on
/// [`Error::kind`] to tell the cases apart.
///
/// # Example
/// ```
/// use idstitch::{ErrorKind, Region};
///
/// let err = "XX".parse::<Region>().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::UnknownRegion));
/// assert_eq!(err.to_string(), "unknown region code (expected an ISO 3166-1 alpha-2 code known to libphonenumber)");
/// ```
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

/// What went wrong, with the fields that locate it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A region code that libphonenumber does not know.
    #[error("unknown region code (expected an ISO 3166-1 alpha-2 code known to libphonenumber)")]
    UnknownRegion,
    /// A configuration value outside its allowed range or set.
    #[error("invalid configuration: {field}: {reason}")]
    Config {
        /// The configuration field, e.g. `threshold`.
        field: &'static str,
        /// Why the value is not accepted (never the value when it may be personal data).
        reason: String,
    },
    /// An input cell that cannot be read as its field (a time, a channel
    /// name); the value itself is not repeated.
    #[error("{field} {reason}")]
    Cell {
        /// The input field, e.g. `last_seen`.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An identifier was required to be usable and was not.
    #[error("unusable {kind} value: {reason}")]
    Unusable {
        /// The identifier type.
        kind: IdKind,
        /// Why the value is unusable.
        reason: Invalid,
    },
    /// A name that is not one of the accepted names for a setting (scheme, kind…).
    #[error("unknown {what}: expected one of {expected}")]
    UnknownName {
        /// What was being named, e.g. `check-digit scheme`.
        what: &'static str,
        /// The accepted names, comma-separated.
        expected: &'static str,
    },
    /// Two records in one dataset share an ID.
    #[error("duplicate record id {id}")]
    DuplicateRecordId {
        /// The repeated ID (record IDs are keys, not personal data).
        id: crate::RecordId,
    },
    /// A record ID the dataset does not hold.
    #[error("unknown record id {id}")]
    UnknownRecord {
        /// The ID asked for.
        id: crate::RecordId,
    },
    /// More records or values than the dense 32-bit indices can address.
    #[error("too many {what}: at most {max}")]
    TooMany {
        /// What overflowed, e.g. `records`.
        what: &'static str,
        /// The limit.
        max: u64,
    },
    /// Saved model parameters that cannot be read.
    #[error("invalid model file: {reason}")]
    ModelFormat {
        /// What is wrong (the format version, a missing field…).
        reason: String,
    },
    /// A saved state that cannot be read (truncated, corrupted, another
    /// format or version): nothing of it is loaded.
    #[error("invalid state snapshot: {reason}")]
    Snapshot {
        /// What is wrong.
        reason: String,
    },
    /// A record index that is not in the dataset.
    #[error("record index {index} out of range (dataset holds {len})")]
    RecordIndex {
        /// The index asked for.
        index: u32,
        /// The number of records.
        len: usize,
    },
}

impl Error {
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Error {
        ErrorKind::Config {
            field,
            reason: reason.into(),
        }
        .into()
    }

    pub(crate) fn unknown_name(what: &'static str, expected: &'static str) -> Error {
        ErrorKind::UnknownName { what, expected }.into()
    }

    /// The kind of this error.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Consumes the error and returns its kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error(Box::new(kind))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn messages_are_lower_case_and_name_the_field() {
        let err = Error::from(ErrorKind::Config {
            field: "threshold",
            reason: "must be in [0, 1]".into(),
        });
        assert_eq!(
            err.to_string(),
            "invalid configuration: threshold: must be in [0, 1]"
        );
        let err = Error::from(ErrorKind::Unusable {
            kind: IdKind::Email,
            reason: Invalid::Syntax,
        });
        assert_eq!(err.to_string(), "unusable email value: malformed syntax");
    }
}

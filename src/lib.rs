//! # idstitch
//!
//! Omnichannel customer identity resolution: clean and standardise the
//! identifiers a retailer collects on every channel, find which records are
//! the same person, and hand back one stable identity per person.
//!
//! The pipeline runs one way — records → normalise → block → compare/score →
//! cluster → resolve — and each stage is its own module. This release holds
//! the stages up to clustering: normalisers, records, blocking, comparison,
//! Fellegi–Sunter scoring trained by EM, and constrained clustering.
//!
//! ## From records to identities
//!
//! ```
//! use idstitch::{BlockingConfig, Candidates, Comparator, CompareConfig, Dataset, Model, Record, TrainConfig};
//!
//! let ds = Dataset::build(vec![
//!     Record::new("crm:1", "crm").full_name("Петрова Ольга").birth_date("12.03.1988").phone("+7 912 345-67-89"),
//!     Record::new("tg:77", "telegram").phone("8 (912) 345 67 89").first_name("Оля"),
//!     Record::new("web:5", "web").email("olga.petrova@gmail.com").full_name("Olga Petrova").birth_date("1988-03-12"),
//! ])?;
//! let candidates = Candidates::find(&ds, &BlockingConfig::new())?;      // who to compare
//! let cmp = Comparator::new(&ds, candidates.generic(), CompareConfig::new())?;
//! let (model, _report) = Model::train(&cmp, &candidates, &TrainConfig::new())?; // u, m and priors
//! let scored = model.score(&cmp, &candidates)?;                        // probability per pair
//! assert!(scored.iter().all(|s| s.probability > 0.5));
//! let why = model.explain(&cmp, &candidates, &candidates.pairs()[0])?; // the waterfall
//! assert_eq!(why.contributions.len(), idstitch::FIELDS);
//! let clusters = idstitch::Clusters::build(                          // identities
//!     &ds, &scored, candidates.rules(), candidates.generic(), &idstitch::ClusterConfig::new())?;
//! assert_eq!(clusters.len(), 1);
//! # Ok::<(), idstitch::Error>(())
//! ```
//!
//! ## Normalisers
//!
//! Each identifier type is a newtype with a `parse` function that returns the
//! canonical value or a typed [`Invalid`] reason; a parsed value may also carry
//! a [`Flag`] (placeholder, role account, invalid number) saying it should not
//! be taken as one person's identifier. [`usable`] combines both.
//!
//! | type | canonical form |
//! |---|---|
//! | [`Email`] | NFC, IDNA domain, provider rules (Gmail dots, Yandex aliases…) |
//! | [`Phone`] | E.164 via libphonenumber (`rlibphonenumber`), extension apart |
//! | [`LoyaltyId`] | digits, checked by EAN-13, EAN-8, Luhn or no scheme |
//! | [`DeviceId`] | lower-case hyphenated UUID (IDFA/IDFV/GAID) or Android ID |
//! | [`CustomerId`] | opaque ID scoped by its source system |
//! | [`PersonName`] | NFKC lower-case tokens, transliteration and phonetic keys, nicknames |
//! | [`BirthDate`] | ISO date from Russian, English and numeric formats |
//!
//! ```
//! use idstitch::{usable, BirthDate, Email, Phone, PersonName, Region};
//!
//! let email = usable(Email::parse("Ivan.Petrov+promo@GoogleMail.com"))?;
//! assert_eq!(email.as_str(), "ivanpetrov@gmail.com");
//!
//! let phone = usable(Phone::parse("8 (812) 123-45-67", Region::RU))?;
//! assert_eq!(phone.to_string(), "+78121234567");
//!
//! let name = PersonName::parse("Щукина Юлия")?;
//! assert_eq!(name.translit_key(), PersonName::parse("Shchukina Iuliia")?.translit_key());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Values never appear in errors or `Debug` output, so logs stay free of
//! personal data.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod block;
mod cluster;
mod compare;
mod error;
mod eval;
mod normalize;
mod prefetch;
mod record;
mod resolve;
mod score;

pub use block::{
    BlockingConfig, BlockingRule, BlockingStats, CandidatePair, Candidates, GenericConfig,
    GenericReason, GenericValue, GenericValues, RuleStats,
};
pub use cluster::{
    ClusterConfig, ClusterStats, Clusters, GraphEdge, GraphNode, Household, HouseholdKey,
    IdentityExplanation, Link, Membership, Refusal, RefusedLink, Step, UnionFind,
};
pub use compare::{
    AddressLevel, CityLevel, Comparator, CompareConfig, ComparisonVector, CustomerIdLevel,
    DateLevel, EmailLevel, FIELDS, Field, IdLevel, Level, NameLevel, PhoneLevel,
};
pub use error::{Error, ErrorKind, Result};
pub use eval::{Evaluation, Prf, evaluate};
pub use normalize::{
    BirthDate, CheckDigit, CustomerId, DateOrder, DeviceId, DeviceKind, Email, Flag, IdKind,
    Identifier, IdentifierHasher, Invalid, LoyaltyId, MIN_KEY_BYTES, NameToken, NormalizeOptions,
    PersonName, Phone, PhoneType, Region, Rejection, SurnameGender, Ymd, canonical, usable,
};
pub use record::{
    BuildStats, Channel, Consent, Dataset, DatasetBuilder, DatasetStream, Dropped, Excluded,
    HASHED_EMAIL, HASHED_PHONE, InputField, NONE, NameRole, Record, RecordId, RecordIx, RecordView,
    RejectedValue, RowRef, suppression_key,
};
pub use resolve::{
    ConsentState, Event, GoldenProfile, IdentityId, IdentityMap, IdentityStore, ProfileConfig,
    ProfileValue, RecordKey, Resolution, Resolver, SNAPSHOT_VERSION, Survivorship, Update,
};
pub use score::{
    Contribution, Explanation, MODEL_FORMAT_VERSION, Model, Patterns, PriorMode, ScoredPair,
    TrainConfig, TrainReport, U_PRIOR_PAIRS, UCounts,
};

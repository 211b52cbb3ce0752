//! Records as channels deliver them, and the interned [`Dataset`] the matching
//! stages work on.
//!
//! A [`Record`] holds raw strings exactly as a source system gave them: several
//! e-mails, phones, loyalty cards, device IDs and source-scoped customer IDs,
//! name parts, a birth date, a city and address, first/last-seen timestamps and
//! per-channel consent. [`Dataset::build`] normalises every value, keeps the
//! unusable ones on the record with their reason (never silently dropped) and
//! interns the usable ones into dense integer IDs.

mod dataset;
mod fields;
mod interner;
mod row;
mod stream;

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(test)]
pub(crate) use dataset::address_token_hashes;
pub use dataset::{
    BuildStats, Dataset, DatasetBuilder, Excluded, NONE, NameRole, RecordIx, RecordView,
    RejectedValue, suppression_key,
};
pub(crate) use dataset::{ID_SLOTS, TOKEN_FUZZY, TOKEN_NUMBER, UNSEEN, slot, unpack_date};
pub use fields::InputField;
pub use row::RowRef;
pub use stream::{DatasetStream, Dropped};

use crate::normalize::Region;

/// The customer-ID system hashed e-mails are kept under.
pub const HASHED_EMAIL: &str = "hashed_email";
/// The customer-ID system hashed phones are kept under.
pub const HASHED_PHONE: &str = "hashed_phone";

/// A record's identifier in its source data, unique within one [`Dataset`].
///
/// Record IDs are keys, not personal data: they may appear in logs and errors.
///
/// # Example
/// ```
/// use idstitch::RecordId;
///
/// let id = RecordId::from("crm:1042");
/// assert_eq!(id.as_str(), "crm:1042");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(Box<str>);

impl RecordId {
    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RecordId {
    fn from(s: &str) -> Self {
        RecordId(s.into())
    }
}

impl From<String> for RecordId {
    fn from(s: String) -> Self {
        RecordId(s.into_boxed_str())
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A channel a customer can consent to be contacted on.
///
/// # Example
/// ```
/// use idstitch::Channel;
///
/// assert_eq!("sms".parse::<Channel>()?, Channel::Sms);
/// assert_eq!(Channel::Messenger.as_str(), "messenger");
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail campaigns.
    Email,
    /// SMS campaigns.
    Sms,
    /// Mobile push notifications.
    Push,
    /// WhatsApp, Telegram, Viber and similar messengers.
    Messenger,
    /// Outbound calls.
    Call,
    /// Paper mail.
    Post,
}

impl Channel {
    /// Every channel, in declaration order.
    pub const ALL: [Channel; 6] = [
        Channel::Email,
        Channel::Sms,
        Channel::Push,
        Channel::Messenger,
        Channel::Call,
        Channel::Post,
    ];

    /// The stable snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
            Channel::Messenger => "messenger",
            Channel::Call => "call",
            Channel::Post => "post",
        }
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl std::str::FromStr for Channel {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                crate::Error::unknown_name("channel", "email, sms, push, messenger, call, post")
            })
    }
}

/// Per-channel consent: which channels the customer agreed, or refused, to
/// be contacted on (a channel a record says nothing about is neither).
///
/// # Example
/// ```
/// use idstitch::{Channel, Consent};
///
/// let c = Consent::default().with(Channel::Email).with(Channel::Sms).without(Channel::Call);
/// assert!(c.allows(Channel::Sms));
/// assert!(!c.allows(Channel::Call) && c.refuses(Channel::Call));
/// assert!(!c.allows(Channel::Post) && !c.refuses(Channel::Post));
/// assert_eq!(c.channels().count(), 2);
/// // Combining records: the most restrictive answer wins.
/// let other = Consent::default().without(Channel::Sms);
/// assert!(!c.most_restrictive(other).allows(Channel::Sms));
/// assert!(c.most_restrictive(other).allows(Channel::Email));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Consent(u16);

impl Consent {
    /// This consent plus agreement to `channel` (a refusal of it is kept:
    /// see [`Consent::allows`]).
    #[must_use]
    pub const fn with(self, channel: Channel) -> Consent {
        Consent(self.0 | channel.bit() as u16)
    }

    /// This consent plus a refusal of `channel`.
    #[must_use]
    pub const fn without(self, channel: Channel) -> Consent {
        Consent(self.0 | (channel.bit() as u16) << 8)
    }

    /// Whether contact on `channel` is allowed: agreed and not refused.
    pub const fn allows(self, channel: Channel) -> bool {
        self.0 & channel.bit() as u16 != 0 && !self.refuses(channel)
    }

    /// Whether contact on `channel` was refused.
    pub const fn refuses(self, channel: Channel) -> bool {
        self.0 & (channel.bit() as u16) << 8 != 0
    }

    /// The allowed channels.
    pub fn channels(self) -> impl Iterator<Item = Channel> {
        Channel::ALL.into_iter().filter(move |c| self.allows(*c))
    }

    /// Two records' consents combined, the most restrictive answer winning:
    /// a channel is allowed if one agreed to it and none refused it.
    #[must_use]
    pub const fn most_restrictive(self, other: Consent) -> Consent {
        Consent(self.0 | other.0)
    }
}

/// One record as a source system delivered it: raw strings, normalised later
/// by [`Dataset::build`].
///
/// Every identifier field is multi-valued. Customer IDs are scoped by a system
/// name (by default the record's source). `Debug` shows the ID, source and
/// value counts only, never the values.
///
/// # Example
/// ```
/// use idstitch::{Channel, Record};
///
/// let r = Record::new("tg:77", "telegram")
///     .phone("+7 912 345-67-89")
///     .first_name("Саша")
///     .consent(Channel::Messenger);
/// assert_eq!(r.id().as_str(), "tg:77");
/// assert_eq!(r.phones().len(), 1);
/// assert!(!format!("{r:?}").contains("912"));
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Record {
    pub(crate) id: String,
    source: String,
    region: Option<Region>,
    emails: Vec<String>,
    phones: Vec<String>,
    loyalty_cards: Vec<String>,
    devices: Vec<String>,
    customer_ids: Vec<(String, String)>,
    first_name: Option<String>,
    middle_name: Option<String>,
    last_name: Option<String>,
    full_name: Option<String>,
    birth_date: Option<String>,
    city: Option<String>,
    address: Option<String>,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    consent: Consent,
}

impl Record {
    /// A record with its ID and source system (channel), and nothing else yet.
    pub fn new(id: impl Into<String>, source: impl Into<String>) -> Record {
        Record {
            id: id.into(),
            source: source.into(),
            ..Record::default()
        }
    }

    /// Adds an e-mail address.
    #[must_use]
    pub fn email(mut self, raw: impl Into<String>) -> Record {
        self.emails.push(raw.into());
        self
    }

    /// Adds a phone number, read in the record's region (see [`Record::region`]).
    #[must_use]
    pub fn phone(mut self, raw: impl Into<String>) -> Record {
        self.phones.push(raw.into());
        self
    }

    /// Adds a loyalty card number.
    #[must_use]
    pub fn loyalty_card(mut self, raw: impl Into<String>) -> Record {
        self.loyalty_cards.push(raw.into());
        self
    }

    /// Adds an advertising or device ID (IDFA, GAID, IDFV, Android ID).
    #[must_use]
    pub fn device(mut self, raw: impl Into<String>) -> Record {
        self.devices.push(raw.into());
        self
    }

    /// Adds a customer ID issued by `system` (a CRM, a shop, a loyalty platform).
    #[must_use]
    pub fn customer_id(mut self, system: impl Into<String>, raw: impl Into<String>) -> Record {
        self.customer_ids.push((system.into(), raw.into()));
        self
    }

    /// Adds an e-mail already hashed by a partner (64 hex digits of
    /// HMAC-SHA-256 or SHA-256 of the canonical address, see
    /// [`IdentifierHasher`](crate::IdentifierHasher)). Hashed values match
    /// exactly, as customer IDs of the system [`HASHED_EMAIL`].
    #[must_use]
    pub fn hashed_email(self, hex: impl Into<String>) -> Record {
        self.customer_id(HASHED_EMAIL, hex)
    }

    /// Adds a phone already hashed by a partner (of its E.164 form), as
    /// [`Record::hashed_email`] does for e-mails ([`HASHED_PHONE`]).
    #[must_use]
    pub fn hashed_phone(self, hex: impl Into<String>) -> Record {
        self.customer_id(HASHED_PHONE, hex)
    }

    /// Replaces this record's e-mails and phones by their hashes: each is
    /// normalised ([`canonical`](crate::canonical)) and hashed with
    /// `hasher`, so two parties holding one key can resolve their customers
    /// without exchanging raw contacts. Values that are not usable
    /// identifiers are kept as given, to be reported as rejected by
    /// [`Dataset::build`] rather than silently lost.
    ///
    /// # Example
    /// ```
    /// use idstitch::{Dataset, IdentifierHasher, NormalizeOptions, Record};
    ///
    /// let key = IdentifierHasher::hmac(b"a key both parties hold, 32 bytes")?;
    /// let opts = NormalizeOptions::new();
    /// // Party A hashes its own record; party B sends one hashed the same way.
    /// let a = Record::new("a:1", "shop_a").phone("8 (912) 345-67-89").hash_identifiers(&key, &opts);
    /// assert!(a.phones().is_empty());
    /// let b = Record::new("b:7", "shop_b").hashed_phone(key.hash("+79123456789"));
    /// let run = idstitch::Resolver::new().resolve(vec![a, b])?;
    /// assert_eq!(run.labels_in_input_order(), [0, 0]);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    #[must_use]
    pub fn hash_identifiers(
        mut self,
        hasher: &crate::IdentifierHasher,
        opts: &crate::NormalizeOptions,
    ) -> Record {
        let opts = match self.region {
            Some(r) => opts.clone().region(r),
            None => opts.clone(),
        };
        for (kind, system) in [
            (crate::IdKind::Email, HASHED_EMAIL),
            (crate::IdKind::Phone, HASHED_PHONE),
        ] {
            let raws = std::mem::take(match kind {
                crate::IdKind::Email => &mut self.emails,
                _ => &mut self.phones,
            });
            let mut kept = Vec::new();
            for raw in raws {
                match crate::canonical(kind, &raw, &opts) {
                    Ok(c) => self.customer_ids.push((system.to_owned(), hasher.hash(&c))),
                    Err(_) => kept.push(raw),
                }
            }
            match kind {
                crate::IdKind::Email => self.emails = kept,
                _ => self.phones = kept,
            }
        }
        self
    }

    /// Sets the first (given) name.
    #[must_use]
    pub fn first_name(mut self, raw: impl Into<String>) -> Record {
        self.first_name = Some(raw.into());
        self
    }

    /// Sets the middle name or patronymic.
    #[must_use]
    pub fn middle_name(mut self, raw: impl Into<String>) -> Record {
        self.middle_name = Some(raw.into());
        self
    }

    /// Sets the surname.
    #[must_use]
    pub fn last_name(mut self, raw: impl Into<String>) -> Record {
        self.last_name = Some(raw.into());
        self
    }

    /// Sets a full name in one field, in any order ("Иванов Иван Иванович",
    /// "Ivan Ivanov"); it is split into parts where separate parts are absent.
    #[must_use]
    pub fn full_name(mut self, raw: impl Into<String>) -> Record {
        self.full_name = Some(raw.into());
        self
    }

    /// Sets the date of birth.
    #[must_use]
    pub fn birth_date(mut self, raw: impl Into<String>) -> Record {
        self.birth_date = Some(raw.into());
        self
    }

    /// Sets the city.
    #[must_use]
    pub fn city(mut self, raw: impl Into<String>) -> Record {
        self.city = Some(raw.into());
        self
    }

    /// Sets the street address (kept for the profile; not compared).
    #[must_use]
    pub fn address(mut self, raw: impl Into<String>) -> Record {
        self.address = Some(raw.into());
        self
    }

    /// Sets when the record was first and last seen (seconds since the Unix
    /// epoch; `i64::MIN`, before any real date, reads as unknown).
    #[must_use]
    pub fn seen(mut self, first: i64, last: i64) -> Record {
        self.first_seen = Some(first.min(last));
        self.last_seen = Some(first.max(last));
        self
    }

    /// Adds consent to contact on `channel`.
    #[must_use]
    pub fn consent(mut self, channel: Channel) -> Record {
        self.consent = self.consent.with(channel);
        self
    }

    /// Adds a refusal of contact on `channel` (an opt-out).
    #[must_use]
    pub fn refuse(mut self, channel: Channel) -> Record {
        self.consent = self.consent.without(channel);
        self
    }

    /// Sets the region phones are read in (default: the dataset's region).
    #[must_use]
    pub fn region(mut self, region: Region) -> Record {
        self.region = Some(region);
        self
    }

    /// The record's ID.
    pub fn id(&self) -> RecordId {
        RecordId::from(self.id.as_str())
    }

    /// The region this record's phones are read in, when it names one.
    pub fn phone_region(&self) -> Option<Region> {
        self.region
    }

    /// The source system.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The raw e-mail addresses.
    pub fn emails(&self) -> &[String] {
        &self.emails
    }

    /// The raw phone numbers.
    pub fn phones(&self) -> &[String] {
        &self.phones
    }

    /// The raw loyalty card numbers.
    pub fn loyalty_cards(&self) -> &[String] {
        &self.loyalty_cards
    }

    /// The raw device IDs.
    pub fn devices(&self) -> &[String] {
        &self.devices
    }

    /// The raw customer IDs with their issuing systems.
    pub fn customer_ids(&self) -> &[(String, String)] {
        &self.customer_ids
    }

    /// The street address, as given.
    pub fn address_text(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// First and last seen, seconds since the Unix epoch.
    pub fn seen_at(&self) -> (Option<i64>, Option<i64>) {
        (self.first_seen, self.last_seen)
    }

    /// The channels the customer consented to.
    pub fn consents(&self) -> Consent {
        self.consent
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("id", &self.id)
            .field("source", &self.source)
            .field("emails", &self.emails.len())
            .field("phones", &self.phones.len())
            .field("loyalty_cards", &self.loyalty_cards.len())
            .field("devices", &self.devices.len())
            .field("customer_ids", &self.customer_ids.len())
            .field(
                "has_name",
                &(self.first_name.is_some()
                    || self.last_name.is_some()
                    || self.full_name.is_some()),
            )
            .field("has_birth_date", &self.birth_date.is_some())
            .finish_non_exhaustive()
    }
}

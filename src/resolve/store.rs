//! A living set of identities: records added in batches, erased on request,
//! saved and restored, with stable IDs and events.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ErrorKind, Result};
use crate::normalize::{IdKind, NormalizeOptions, canonical};
use crate::record::{Record, RecordId, suppression_key};
use crate::score::Model;

use super::live::Live;
use super::{Event, IdentityId, IdentityMap, Resolution, Resolver};

/// What one change to an [`IdentityStore`] did.
#[derive(Debug)]
pub struct Update {
    /// Identity events, in a deterministic order.
    pub events: Vec<Event>,
    /// The resolution of every record now in the store, when the change ran
    /// the whole pipeline; `None` when it was applied incrementally
    /// ([`IdentityStore::resolution`] computes one on demand).
    pub resolution: Option<Resolution>,
    /// Whether the change was applied incrementally (only the identities it
    /// touched re-formed) rather than by a run over every record.
    pub incremental: bool,
}

/// Identities that live: records arrive in batches, are replaced when a
/// source sends them again, are erased on request, and every identity keeps
/// a stable [`IdentityId`] ([`IdentityMap`]'s rules).
///
/// The first batch trains the model and freezes its term frequencies
/// ([`Model::with_frequencies_of`]); later batches reuse it, so one
/// record's arrival never re-weighs the evidence for everyone else
/// ([`IdentityStore::retrain`] opts in). The partition after any sequence of
/// batches, replacements and erasures is exactly the batch run
/// ([`Resolver::resolve_with`] with [`IdentityStore::model`]) over the
/// records present — the sequence-neutrality guarantee, tested over random
/// batch splits and single-record additions.
///
/// Small additions of new records are applied incrementally: the store keeps
/// an index of keys, candidate pairs, links and identities, re-forms only
/// the blocks the new records join and clusters again only the components
/// of the link graph they touch (well under a millisecond per record at a
/// million records; `docs/PERFORMANCE.md`). Anything not local — a value
/// becoming generic or ceasing to be, a record replaced or erased, a large
/// batch, trusted-system must-links — runs the whole pipeline with the
/// frozen model instead, which gives the same partition.
///
/// # Example
/// ```
/// use idstitch::{Event, IdentityStore, Record, Resolver};
///
/// let mut store = IdentityStore::new(Resolver::new());
/// store.add(vec![
///     Record::new("crm:1", "crm").phone("+79123456789").first_name("Анна"),
///     Record::new("web:2", "web").email("anna@mail.ru"),
/// ])?;
/// let anna = store.identity_of(&"crm:1".into()).unwrap().clone();
/// // A messenger record with Anna's phone joins her identity, ID unchanged.
/// let update = store.add(vec![Record::new("tg:3", "telegram").phone("8 912 345-67-89")])?;
/// assert_eq!(store.identity_of(&"tg:3".into()), Some(&anna));
/// assert!(matches!(&update.events[0], Event::Assigned { identity, .. } if *identity == anna));
/// // Saved, restored, continued.
/// let bytes = store.snapshot();
/// let restored = IdentityStore::restore(Resolver::new(), &bytes)?;
/// assert_eq!(restored.identity_of(&"tg:3".into()), Some(&anna));
/// assert!(IdentityStore::restore(Resolver::new(), &bytes[..bytes.len() - 1]).is_err());
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug)]
pub struct IdentityStore {
    resolver: Resolver,
    records: BTreeMap<RecordId, Record>,
    model: Option<Model>,
    map: IdentityMap,
    suppressed: BTreeSet<[u8; 32]>,
    /// The incremental index of the last run (`None`: the next addition
    /// runs the whole pipeline, which builds it).
    live: Option<Live>,
    incremental: bool,
}

/// Most new records one addition applies one at a time before a whole run
/// is cheaper: this many, or one in a hundred of the records held.
const INCREMENTAL_BATCH: usize = 256;

/// The snapshot's first line: `idstitch-state <version> <payload bytes> <sha256>`.
const MAGIC: &str = "idstitch-state";
/// The snapshot format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    records: Vec<Record>,
    model: Option<String>,
    map: IdentityMap,
    suppressed: Vec<String>,
}

fn bad(reason: impl Into<String>) -> crate::Error {
    ErrorKind::Snapshot {
        reason: reason.into(),
    }
    .into()
}

impl IdentityStore {
    /// An empty store resolving with `resolver`'s settings.
    pub fn new(resolver: Resolver) -> IdentityStore {
        IdentityStore {
            resolver,
            records: BTreeMap::new(),
            model: None,
            map: IdentityMap::new(),
            suppressed: BTreeSet::new(),
            live: None,
            incremental: true,
        }
    }

    /// Whether small additions are applied incrementally (the default).
    /// Off, every change runs the whole pipeline and the store keeps no
    /// index (less memory; for callers that only ever add large batches,
    /// like `dedup run --state`). The partition is the same either way.
    ///
    /// # Example
    /// ```
    /// use idstitch::{IdentityStore, Record, Resolver};
    ///
    /// let mut store = IdentityStore::new(Resolver::new()).incremental(false);
    /// let update = store.add(vec![Record::new("crm:1", "crm").phone("+79123456789")])?;
    /// assert!(!update.incremental && update.resolution.is_some());
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    #[must_use]
    pub fn incremental(mut self, on: bool) -> IdentityStore {
        self.incremental = on;
        if !on {
            self.live = None;
        }
        self
    }

    /// Records in the store.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the store holds no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The stable ID of a record's identity.
    pub fn identity_of(&self, record: &RecordId) -> Option<&IdentityId> {
        self.map.identity_of(record)
    }

    /// Every record's identity, by record ID.
    pub fn identities(&self) -> &IdentityMap {
        &self.map
    }

    /// The model in use (`None` before the first batch).
    pub fn model(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    /// Uses `model` from now on (one trained elsewhere, or loaded). A model
    /// without frozen term frequencies gets those of the records present at
    /// the next change.
    pub fn set_model(&mut self, model: Model) {
        self.model = Some(model);
        self.live = None;
    }

    /// Drops the model: the next change trains a new one on every record.
    pub fn retrain(&mut self) {
        self.model = None;
        self.live = None;
    }

    /// The incremental index's candidate pairs, `(lower ID, higher ID, rule
    /// index, probability)` sorted, or `None` without an index. For tests
    /// that hold the index to the batch run's pairs; not a stable API.
    #[doc(hidden)]
    pub fn indexed_pairs(&self) -> Option<Vec<(RecordId, RecordId, u8, f32)>> {
        self.live.as_ref().map(Live::pairs)
    }

    /// The batch run over the records held, with the store's model: the
    /// dataset, scores and clusters behind the identities (for profiles,
    /// explanations or evaluation after incremental changes). Changes
    /// nothing.
    ///
    /// # Errors
    /// As [`Resolver::resolve`].
    pub fn resolution(&self) -> Result<Resolution> {
        self.run(&self.records)
    }

    /// The resolver's settings with the suppression list applied.
    fn settings(&self) -> Resolver {
        self.resolver.suppressing(self.suppressed.iter().copied())
    }

    /// The batch run over `records` with the store's model (trained on
    /// them when there is none yet).
    fn run(&self, records: &BTreeMap<RecordId, Record>) -> Result<Resolution> {
        let resolver = self.settings();
        let records: Vec<Record> = records.values().cloned().collect();
        match &self.model {
            Some(m) => resolver.resolve_with(records, m),
            None => resolver.resolve(records),
        }
    }

    /// Adds records; a record whose ID the store holds replaces it.
    ///
    /// # Errors
    /// Any pipeline error ([`Resolver::resolve`]); the store is unchanged.
    pub fn add(&mut self, records: Vec<Record>) -> Result<Update> {
        let (applied, added, rest) = self.add_incrementally(records);
        if rest.is_empty() {
            let groups = match &self.live {
                Some(live) => live.group(&applied),
                None => Vec::new(),
            };
            let events = self.map.update_part(groups);
            return Ok(Update {
                events,
                resolution: None,
                incremental: true,
            });
        }
        // The rest by a whole run: `self.records` already holds the records
        // applied incrementally (the map does not yet: the run's update
        // reports them too).
        let mut next = self.records.clone();
        for r in rest {
            next.insert(r.id(), r);
        }
        let result = self.commit(next);
        if result.is_err() {
            for id in &added {
                self.records.remove(id);
            }
            self.live = None;
        }
        result
    }

    /// Applies what it can of `records` to the incremental index, in order;
    /// returns the handles re-formed, the IDs of the records applied and the
    /// records left for a whole run (all of them when the index cannot take
    /// them). The records applied are in `self.records`, their identities in
    /// the index only.
    fn add_incrementally(
        &mut self,
        records: Vec<Record>,
    ) -> (Vec<u32>, Vec<RecordId>, Vec<Record>) {
        let small = records.len() <= INCREMENTAL_BATCH.max(self.records.len() / 100);
        let fresh = {
            let mut ids: Vec<RecordId> = records.iter().map(Record::id).collect();
            ids.sort_unstable();
            let n = ids.len();
            ids.dedup();
            ids.len() == n && ids.iter().all(|id| !self.records.contains_key(id))
        };
        if !self.incremental || !small || !fresh || records.is_empty() {
            return (Vec::new(), Vec::new(), records);
        }
        let resolver = self.settings();
        let (Some(model), Some(live)) = (&self.model, &mut self.live) else {
            return (Vec::new(), Vec::new(), records);
        };
        let (mut applied, mut added) = (Vec::new(), Vec::new());
        let mut rest = records.into_iter();
        for r in rest.by_ref() {
            match live.add(&r, &self.records, &resolver, model) {
                Ok(Some(handles)) => {
                    applied.extend(handles);
                    added.push(r.id());
                    self.records.insert(r.id(), r);
                }
                outcome => {
                    if outcome.is_err() {
                        // A half-applied change: the index cannot be trusted.
                        self.live = None;
                    }
                    let mut left = vec![r];
                    left.extend(rest);
                    return (applied, added, left);
                }
            }
        }
        (applied, added, Vec::new())
    }

    /// Erases records by ID, and everything derived from them: the
    /// identities re-form as if they had never been added. Unknown IDs are
    /// ignored.
    ///
    /// # Errors
    /// As [`IdentityStore::add`].
    pub fn erase_records(&mut self, ids: &[RecordId]) -> Result<Update> {
        let mut next = self.records.clone();
        for id in ids {
            next.remove(id);
        }
        self.commit(next)
    }

    /// Erases every record holding an identifier value (compared in
    /// canonical form: `8 912 345-67-89` erases `+7 912 345 67 89`) and,
    /// with `suppress`, puts the value on the suppression list so records
    /// arriving later with it never link through it.
    ///
    /// # Errors
    /// [`ErrorKind::Cell`] when the value is not a usable identifier of
    /// `kind` (nothing erased); else as [`IdentityStore::add`].
    pub fn erase_identifier(
        &mut self,
        kind: IdKind,
        raw: &str,
        opts: &NormalizeOptions,
        suppress: bool,
    ) -> Result<Update> {
        let target = canonical(kind, raw, opts).map_err(|_| ErrorKind::Cell {
            field: kind.as_str(),
            reason: "is not a usable identifier",
        })?;
        let holds = |r: &Record| -> bool {
            let values: Vec<&str> = match kind {
                IdKind::Email => r.emails().iter().map(String::as_str).collect(),
                IdKind::Phone => r.phones().iter().map(String::as_str).collect(),
                IdKind::Loyalty => r.loyalty_cards().iter().map(String::as_str).collect(),
                IdKind::Device => r.devices().iter().map(String::as_str).collect(),
                IdKind::CustomerId => {
                    let opts = opts.clone();
                    return r.customer_ids().iter().any(|(system, v)| {
                        let system = if system.is_empty() {
                            r.source()
                        } else {
                            system
                        };
                        canonical(kind, v, &opts.clone().system(system))
                            .ok()
                            .as_deref()
                            == Some(target.as_str())
                    });
                }
                IdKind::Name | IdKind::Dob => Vec::new(),
            };
            let opts = match r.phone_region() {
                Some(region) => opts.clone().region(region),
                None => opts.clone(),
            };
            values
                .iter()
                .any(|v| canonical(kind, v, &opts).ok().as_deref() == Some(target.as_str()))
        };
        let next: BTreeMap<RecordId, Record> = self
            .records
            .iter()
            .filter(|(_, r)| !holds(r))
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
        let key = suppression_key(kind, &target);
        let added = suppress && self.suppressed.insert(key);
        let result = self.commit(next);
        if result.is_err() && added {
            self.suppressed.remove(&key);
        }
        result
    }

    fn commit(&mut self, next: BTreeMap<RecordId, Record>) -> Result<Update> {
        let resolution = self.run(&next)?;
        let ds = resolution.dataset();
        let groups = resolution.clusters().members().into_iter().map(|members| {
            members
                .into_iter()
                .map(|ix| ds.record_ids()[ix as usize].clone())
                .collect::<Vec<_>>()
        });
        // Nothing below fails: the map is updated in place.
        let events = self.map.update(groups);
        if !next.is_empty() {
            // The model trained or given, with the frequencies this run
            // scored with frozen into it (the same weights: this run's).
            let model = self
                .model
                .take()
                .unwrap_or_else(|| resolution.model().clone());
            self.model = Some(if model.has_frozen_frequencies() {
                model
            } else {
                model.with_frequencies_of(ds)
            });
        }
        self.records = next;
        self.live = if self.incremental {
            Live::build(&resolution, &self.settings())
        } else {
            None
        };
        Ok(Update {
            events,
            resolution: Some(resolution),
            incremental: false,
        })
    }

    /// The whole state as bytes: a header line with the format, version,
    /// payload length and SHA-256, then the records, model, identity map
    /// and suppression list as JSON. Holds personal data (the records):
    /// store it as such.
    pub fn snapshot(&self) -> Vec<u8> {
        let payload = Payload {
            records: self.records.values().cloned().collect(),
            model: self.model.as_ref().map(Model::to_json),
            map: self.map.clone(),
            suppressed: self
                .suppressed
                .iter()
                .map(|k| crate::normalize::hex(k))
                .collect(),
        };
        // Plain data structures of strings and numbers always serialise.
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let digest = crate::normalize::hex(&Sha256::digest(&body));
        let mut out = format!("{MAGIC} {SNAPSHOT_VERSION} {} {digest}\n", body.len()).into_bytes();
        out.extend_from_slice(&body);
        out
    }

    /// Restores a [`snapshot`](IdentityStore::snapshot), to continue with
    /// `resolver`'s settings.
    ///
    /// # Errors
    /// [`ErrorKind::Snapshot`] for anything but an intact snapshot of this
    /// version (a truncated or altered one fails its length or checksum);
    /// no partial state is ever returned.
    pub fn restore(resolver: Resolver, bytes: &[u8]) -> Result<IdentityStore> {
        let newline = bytes
            .iter()
            .position(|&b| b == b'\n')
            .filter(|&n| n <= 200)
            .ok_or_else(|| bad("no header line"))?;
        let header =
            std::str::from_utf8(&bytes[..newline]).map_err(|_| bad("header is not text"))?;
        let parts: Vec<&str> = header.split(' ').collect();
        let [magic, version, len, digest] = parts[..] else {
            return Err(bad("malformed header"));
        };
        if magic != MAGIC {
            return Err(bad("not an idstitch state snapshot"));
        }
        if version != SNAPSHOT_VERSION.to_string() {
            return Err(bad(format!(
                "version {version} is not supported (this build reads {SNAPSHOT_VERSION})"
            )));
        }
        let body = &bytes[newline + 1..];
        if len.parse::<usize>().ok() != Some(body.len()) {
            return Err(bad("length does not match: truncated or extended"));
        }
        if crate::normalize::hex(&Sha256::digest(body)) != digest {
            return Err(bad("checksum does not match: corrupted"));
        }
        let payload: Payload =
            serde_json::from_slice(body).map_err(|e| bad(format!("payload: {e}")))?;
        let model = payload
            .model
            .as_deref()
            .map(Model::from_json)
            .transpose()
            .map_err(|e| bad(format!("model: {e}")))?;
        let mut suppressed = BTreeSet::new();
        for h in &payload.suppressed {
            suppressed
                .insert(unhex32(h).ok_or_else(|| bad("suppression key is not 32 hex bytes"))?);
        }
        let mut records = BTreeMap::new();
        for r in payload.records {
            if records.insert(r.id(), r).is_some() {
                return Err(bad("a record ID appears twice"));
            }
        }
        if payload.map.len() != records.len()
            || payload
                .map
                .assignments()
                .any(|(id, _)| !records.contains_key(id))
        {
            return Err(bad("identity map and records disagree"));
        }
        Ok(IdentityStore {
            resolver,
            records,
            model,
            map: payload.map,
            suppressed,
            live: None,
            incremental: true,
        })
    }
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

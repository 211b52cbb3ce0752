//! Building a [`Dataset`] from batches: stage in arrival order, then renumber
//! in record-ID order.
//!
//! Staging interns each batch as it comes (so the raw records can be dropped
//! batch by batch); [`DatasetStream::finish`] then walks the records in ID
//! order and renumbers every interned value by the order a build over
//! ID-sorted records would have met it. The result is the dataset
//! [`DatasetBuilder::build`] gives — the same record indices, the same value
//! IDs, the same statistics — so nothing downstream depends on how the input
//! was batched or ordered.

use rayon::prelude::*;

use super::dataset::{DatasetBuilder, Parsed, RawCache, Row, check_len, gather, id_prefix};
use super::{Consent, Dataset, NONE, Record, RecordId, RecordIx, RejectedValue, RowRef};
use crate::error::{ErrorKind, Result};
use crate::normalize::{IdKind, Ymd};
use crate::prefetch::AHEAD;
use crate::record::ID_SLOTS;

/// Records normalised per parallel step; bounds the parsed values alive at
/// once. Small, so a chunk's records and parsed values stay in cache from
/// parsing to interning (building 1.06M records: 1.62 s in chunks of
/// 32,768, 1.30 s in chunks of 4,096). Three chunks are alive at a time
/// since one is interned while the next is parsed: 2,048 records each
/// (`dedup` reading 1M rows 1.06 -> 1.04 s, 10M 13.5-14.0 -> 12.5-13.3 s
/// against 4,096).
const CHUNK: usize = 1 << 11;

/// A [`Dataset`] being built from batches of records
/// ([`DatasetBuilder::stream`]).
///
/// # Example
/// ```
/// use idstitch::{DatasetBuilder, Record};
///
/// let mut stream = DatasetBuilder::new().stream()?;
/// for batch in [vec![Record::new("2", "web").email("a@b.ru")], vec![Record::new("1", "app")]] {
///     stream.push(batch)?;
/// }
/// assert_eq!(stream.len(), 2);
/// let ds = stream.finish()?;
/// assert_eq!(ds.record(1)?.emails().collect::<Vec<_>>(), ["a@b.ru"]);
/// # Ok::<(), idstitch::Error>(())
/// ```
pub struct DatasetStream {
    builder: DatasetBuilder,
    today: Ymd,
    /// Records interned in arrival order (slots unsorted, no counts).
    staged: Dataset,
    /// Staged IDs of name parts, full names, cities and sources by raw text.
    cache: RawCache,
    /// The last chunk parsed, not yet interned: it is interned while the
    /// next chunk is parsed (or by `finish`).
    pending: Option<Pending>,
    /// The chunk interned last, dropped while the next one is interned.
    done: Vec<Parsed>,
    /// Room [`DatasetStream::reserve`] asked for, made by the next
    /// interning (beside a chunk's parse rather than before it).
    reserve: Option<usize>,
}

/// A parsed chunk waiting to be interned.
struct Pending {
    parsed: Vec<Parsed>,
    /// Whether its raw texts go into the cache once interned.
    learn: bool,
}

/// Counts and settings only: staged values are personal data.
impl std::fmt::Debug for DatasetStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetStream")
            .field("builder", &self.builder)
            .field("today", &self.today)
            .field("staged", &self.staged)
            .field("cache", &self.cache)
            .field(
                "pending",
                &self.pending.as_ref().map_or(0, |p| p.parsed.len()),
            )
            .finish()
    }
}

/// What [`DatasetStream::finish_keep_first`] dropped.
///
/// # Example
/// ```
/// use idstitch::{DatasetBuilder, Record};
///
/// let mut stream = DatasetBuilder::new().stream()?;
/// stream.push(vec![Record::new("1", "web"), Record::new("2", "web"), Record::new("1", "app")])?;
/// let (ds, dropped) = stream.finish_keep_first()?;
/// assert_eq!(ds.len(), 2);
/// assert_eq!(dropped.duplicates, [2]);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Arrival positions (0-based, over all batches) of records whose ID an
    /// earlier record already had, ascending.
    pub duplicates: Vec<u64>,
}

/// An old → new renumbering collected in first-seen order.
struct Remap {
    new_id: Vec<u32>,
    order: Vec<u32>,
}

/// The first sightings of a walk over old IDs below `len`: a bit per ID
/// seen (at millions of values the bits stay in cache where an array of
/// new IDs did not), and the IDs in first-seen order.
struct Sightings {
    seen: Vec<u64>,
    order: Vec<u32>,
    len: usize,
}

impl Sightings {
    fn new(len: usize) -> Sightings {
        Sightings {
            seen: vec![0; len.div_ceil(64)],
            order: Vec::new(),
            len,
        }
    }

    /// Whether this is the first sighting of `old` (an ID out of range is
    /// never one).
    fn see(&mut self, old: u32) -> bool {
        let bit = 1u64 << (old % 64);
        match self.seen.get_mut((old / 64) as usize) {
            Some(word) if *word & bit == 0 && (old as usize) < self.len => {
                *word |= bit;
                self.order.push(old);
                true
            }
            _ => false,
        }
    }

    /// The renumbering: each ID's new one is its rank in `order`.
    fn remap(self) -> Remap {
        let mut new_id = vec![NONE; self.len];
        for (new, &old) in self.order.iter().enumerate() {
            if let Some(slot) = new_id.get_mut(old as usize) {
                // At most as many new IDs as old ones, which fit below
                // u32::MAX.
                *slot = new as u32;
            }
        }
        Remap {
            new_id,
            order: self.order,
        }
    }
}

impl DatasetStream {
    pub(super) fn new(builder: DatasetBuilder, today: Ymd) -> DatasetStream {
        DatasetStream {
            builder,
            today,
            staged: Dataset::empty(),
            cache: RawCache::default(),
            pending: None,
            done: Vec::new(),
            reserve: None,
        }
    }

    /// Normalises (in parallel) and interns a batch, then drops it.
    ///
    /// A batch's last chunk of records is interned while the next push
    /// normalises its first (or by `finish`): a push returns once its
    /// records are normalised, and `len` counts them from then on.
    ///
    /// # Errors
    /// [`ErrorKind::TooMany`] past 4,294,967,294 records, distinct values
    /// or identifier values, or 65,536 sources. A limit that a batch's
    /// last chunk crosses is reported by the next push or by `finish`; a
    /// stream that returned an error is left unusable (drop it).
    pub fn push(&mut self, records: Vec<Record>) -> Result<()> {
        self.push_records(records, false)
    }

    /// [`DatasetStream::push`] of the stream's last batch
    /// ([`DatasetBuilder::build`]): its last chunk's raw texts are not
    /// remembered, as no chunk would look them up (a build of a few
    /// records, as the incremental store makes per addition, then copies
    /// no text into the cache).
    pub(super) fn push_last(&mut self, records: Vec<Record>) -> Result<()> {
        self.push_records(records, true)
    }

    fn push_records(&mut self, mut records: Vec<Record>, last: bool) -> Result<()> {
        check_len(self.len().saturating_add(records.len()), "records")?;
        let chunks = records.len().div_ceil(CHUNK);
        for (k, chunk) in records.chunks_mut(CHUNK).enumerate() {
            self.step(
                !(last && k + 1 == chunks),
                |builder, today, cache, learn| {
                    chunk
                        .par_iter_mut()
                        .map(|r| builder.parse_record(r, today, cache, learn))
                        .collect()
                },
            )?;
        }
        // What is left of the records is freed off the sequential path.
        records.into_par_iter().for_each(drop);
        Ok(())
    }

    /// Normalises (in parallel) and interns a batch of rows borrowed from
    /// a table: the same dataset as [`DatasetStream::push`] of the records
    /// [`RowRef::to_record`] gives, without building them.
    ///
    /// # Errors
    /// As [`DatasetStream::push`].
    ///
    /// # Example
    /// ```
    /// use idstitch::{DatasetBuilder, InputField, RowRef};
    ///
    /// let fields = [Some(InputField::RecordId), Some(InputField::Email), Some(InputField::FullName)];
    /// let table = [["2", "a@b.ru", "Иванова Анна"], ["1", "A@B.RU", ""]];
    /// let rows = table
    ///     .iter()
    ///     .map(|cells| RowRef::new(&fields, cells.iter().copied(), String::new))
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// let mut stream = DatasetBuilder::new().stream()?;
    /// stream.push_rows(&rows)?;
    /// let ds = stream.finish()?;
    /// assert_eq!(ds.record_ids()[0].as_str(), "1");
    /// assert_eq!(ds.record(1)?.emails().collect::<Vec<_>>(), ["a@b.ru"]);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn push_rows(&mut self, rows: &[RowRef<'_>]) -> Result<()> {
        check_len(self.len().saturating_add(rows.len()), "records")?;
        for chunk in rows.chunks(CHUNK) {
            self.step(true, |builder, today, cache, learn| {
                chunk
                    .par_iter()
                    .map(|r| builder.parse_row(r, today, cache, learn))
                    .collect()
            })?;
        }
        Ok(())
    }

    /// Parses a chunk with `parse` while the pending one is interned (the
    /// interning runs on one or two threads; parsing keeps the rest busy), then
    /// leaves the new chunk pending. With `learn` (handed to `parse`, which
    /// keeps the raw texts only then), its raw texts go into the cache once
    /// it is interned. Parsing reads the cache as it was
    /// before the pending chunk's texts: a parse is a pure function of the
    /// raw text, so a miss there costs time, never a different value.
    fn step(
        &mut self,
        learn: bool,
        parse: impl FnOnce(&DatasetBuilder, Ymd, &RawCache, bool) -> Vec<Parsed> + Send,
    ) -> Result<()> {
        let DatasetStream {
            builder,
            today,
            staged,
            cache,
            pending,
            done,
            reserve,
        } = self;
        let parsed = match pending.take() {
            // Nothing to overlap with (a stream's first chunk).
            None => parse(builder, *today, cache, learn),
            Some(mut prev) => {
                let start = staged.len();
                let old = std::mem::take(done);
                let (interned, parsed) = rayon::join(
                    || {
                        drop(old);
                        intern(staged, reserve, &mut prev.parsed)
                    },
                    || parse(builder, *today, cache, learn),
                );
                interned?;
                cache.learn_sources(staged);
                if prev.learn {
                    let rows = staged.rows.get(start..).unwrap_or_default();
                    cache.learn(&prev.parsed, rows);
                }
                *done = prev.parsed;
                parsed
            }
        };
        *pending = Some(Pending { parsed, learn });
        Ok(())
    }

    /// Interns the pending chunk, if any (its texts are not learned: no
    /// chunk follows to look them up).
    fn flush(&mut self) -> Result<()> {
        if let Some(mut prev) = self.pending.take() {
            intern(&mut self.staged, &mut self.reserve, &mut prev.parsed)?;
        }
        self.done = Vec::new();
        Ok(())
    }

    /// Makes room for about `additional` more records, sized by what the
    /// records pushed so far needed per record, so the tables do not grow
    /// (and copy themselves) step by step. A hint: call it after a first
    /// batch, when the total is roughly known (from a file's size, say);
    /// the dataset is the same with or without it. Never fails: it reserves
    /// at most 1,024 times the records pushed so far, and less where the
    /// allocator refuses. After a push, the room is made when that push's
    /// last records are interned: beside the next push's parsing, or by
    /// `finish`.
    ///
    /// # Example
    /// ```
    /// use idstitch::{DatasetBuilder, Record};
    ///
    /// let mut stream = DatasetBuilder::new().stream()?;
    /// stream.push(vec![Record::new("1", "web").email("a@b.ru")])?;
    /// stream.reserve(1_000);
    /// stream.reserve(usize::MAX); // capped at 1,024 × 1 record
    /// stream.push(vec![Record::new("2", "web").email("c@d.ru")])?;
    /// assert_eq!(stream.finish()?.len(), 2);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn reserve(&mut self, additional: usize) {
        // Made when the pending chunk is interned, which the next push
        // overlaps with parsing its first chunk: the tables' copies into
        // their new room then take one thread, not the whole pool.
        match self.pending {
            Some(_) => self.reserve = Some(additional),
            None => self.staged.reserve_staged(additional),
        }
    }

    /// Records pushed so far.
    pub fn len(&self) -> usize {
        let pending = self.pending.as_ref().map_or(0, |p| p.parsed.len());
        self.staged.len() + pending
    }

    /// Whether nothing was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dataset, records in ID order.
    ///
    /// # Errors
    /// [`ErrorKind::DuplicateRecordId`] when two records share an ID;
    /// [`ErrorKind::TooMany`] past 65,536 sources.
    pub fn finish(self) -> Result<Dataset> {
        self.finish_with(false).map(|(ds, _)| ds)
    }

    /// As [`DatasetStream::finish`], but a record whose ID an earlier one
    /// (in arrival order) already had is dropped and reported instead of
    /// failing the build.
    ///
    /// # Errors
    /// [`ErrorKind::TooMany`] past 65,536 sources.
    pub fn finish_keep_first(self) -> Result<(Dataset, Dropped)> {
        self.finish_with(true)
    }

    fn finish_with(mut self, keep_first: bool) -> Result<(Dataset, Dropped)> {
        self.flush()?;
        let mut a = self.staged;
        let n_in = a.ids.len();
        // Sort a permutation by each ID's first eight bytes, then the ID,
        // then arrival: equal IDs end up adjacent, earliest first.
        let mut perm: Vec<(u64, u32)> = a
            .ids
            .iter()
            .enumerate()
            // `push` keeps the count below u32::MAX.
            .map(|(i, id)| (id_prefix(id.as_str()), i as u32))
            .collect();
        let ids = &a.ids;
        perm.par_sort_unstable_by(|x, y| {
            x.0.cmp(&y.0)
                .then_with(|| ids[x.1 as usize].cmp(&ids[y.1 as usize]))
                .then(x.1.cmp(&y.1))
        });
        let mut order: Vec<u32> = Vec::with_capacity(n_in);
        let mut dropped = Dropped::default();
        for (k, &(prefix, pos)) in perm.iter().enumerate() {
            let dup = k > 0 && {
                let (p0, q) = perm[k - 1];
                p0 == prefix && ids[q as usize] == ids[pos as usize]
            };
            if !dup {
                order.push(pos);
            } else if keep_first {
                dropped.duplicates.push(u64::from(pos));
            } else {
                return Err(ErrorKind::DuplicateRecordId {
                    id: ids[pos as usize].clone(),
                }
                .into());
            }
        }
        drop(perm);
        dropped.duplicates.sort_unstable();
        let (mut d, remaps) = renumber(&a, &order)?;
        // Per-record columns, moved into ID order beside the dictionaries'
        // renumbering (they share nothing).
        let columns = Columns {
            ids: std::mem::take(&mut a.ids),
            addresses: std::mem::take(&mut a.addresses),
            seen: std::mem::take(&mut a.seen),
            consent: std::mem::take(&mut a.consent),
            rejected: std::mem::take(&mut a.rejected),
        };
        let (columns, ()) = rayon::join(
            || columns.into_order(&order, n_in),
            || renumber_dictionaries(&mut a, &mut d, remaps),
        );
        let (columns, input_index) = columns;
        for (_, r) in &columns.rejected {
            *d.stats
                .excluded
                .entry(r.kind)
                .or_default()
                .entry(r.reason.code().to_owned())
                .or_default() += 1;
        }
        d.ids = columns.ids;
        d.addresses = columns.addresses;
        d.seen = columns.seen;
        d.consent = columns.consent;
        d.rejected = columns.rejected;
        d.input_index = input_index;
        d.stats.records = d.rows.len() as u64;
        for (slot, kind) in ID_SLOTS.iter().enumerate() {
            d.stats
                .distinct
                .insert(*kind, d.value_freq[slot].len() as u64);
        }
        d.stats.distinct.insert(IdKind::Name, d.names.len() as u64);
        Ok((d, dropped))
    }
}

/// Interns a parsed chunk into `staged`, first making the room
/// [`DatasetStream::reserve`] left for this step, if any.
fn intern(staged: &mut Dataset, reserve: &mut Option<usize>, parsed: &mut [Parsed]) -> Result<()> {
    if let Some(additional) = reserve.take() {
        staged.reserve_staged(additional);
    }
    staged.push_staged(parsed)
}

/// The staged dataset's per-record columns (rejected values by arrival
/// position).
struct Columns {
    ids: Vec<RecordId>,
    addresses: Vec<Option<Box<str>>>,
    seen: Vec<[i64; 2]>,
    consent: Vec<Consent>,
    rejected: Vec<(RecordIx, RejectedValue)>,
}

impl Columns {
    /// The columns in ID order (`order`: the arrival position of each
    /// record kept, of `n_in` arrived), rejected values by new index, and
    /// the new index of each kept record in arrival order.
    fn into_order(self, order: &[u32], n_in: usize) -> (Columns, Vec<RecordIx>) {
        let mut new_ix = vec![NONE; n_in];
        for (ix, &pos) in order.iter().enumerate() {
            // Fewer than u32::MAX records (`push`).
            new_ix[pos as usize] = ix as RecordIx;
        }
        let Columns {
            ids,
            addresses,
            seen,
            consent,
            rejected,
        } = self;
        let (ids, addresses) = rayon::join(|| gather(ids, order), || gather(addresses, order));
        let seen = order.par_iter().map(|&p| seen[p as usize]).collect();
        let consent = order.par_iter().map(|&p| consent[p as usize]).collect();
        let input_index = new_ix.iter().copied().filter(|&ix| ix != NONE).collect();
        let mut rejected: Vec<(RecordIx, RejectedValue)> = rejected
            .into_iter()
            .filter_map(|(pos, r)| {
                let ix = new_ix[pos as usize];
                (ix != NONE).then_some((ix, r))
            })
            .collect();
        // Stable: a record's values keep their order.
        rejected.par_sort_by_key(|(ix, _)| *ix);
        let columns = Columns {
            ids,
            addresses,
            seen,
            consent,
            rejected,
        };
        (columns, input_index)
    }
}

/// Moves the staged dataset's dictionaries and their side tables into `d`,
/// renumbered as `remaps` found.
fn renumber_dictionaries(a: &mut Dataset, d: &mut Dataset, remaps: Renumbered) {
    let Renumbered {
        sources,
        slots,
        locals,
        names,
        keys,
        cities,
        addresses,
    } = remaps;
    d.email_local = slots[0]
        .order
        .iter()
        .map(|&o| locals.new_id[a.email_local[o as usize] as usize])
        .collect();
    d.customer_system = slots[4]
        .order
        .iter()
        .map(|&o| sources.new_id[a.customer_system[o as usize] as usize])
        .collect();
    let mut name_info = gather(std::mem::take(&mut a.name_info), &names.order);
    for e in &mut name_info {
        e.key = keys.new_id[e.key as usize];
        e.stem = keys.new_id[e.stem as usize];
        e.phonetic = keys.new_id[e.phonetic as usize];
    }
    d.name_info = name_info;
    for &o in &addresses.order {
        d.address_tokens.extend_from_slice(a.address_hashes(o));
        // At most 32 hashes per key, and fewer keys than u32::MAX / 32.
        d.address_token_ends.push(d.address_tokens.len() as u32);
    }
    // Every dictionary renumbered, side by side.
    rayon::scope(|sc| {
        sc.spawn(|_| a.sources.reorder(&sources.order, &sources.new_id));
        sc.spawn(|_| a.emails.reorder(&slots[0].order, &slots[0].new_id));
        sc.spawn(|_| a.email_locals.reorder(&locals.order, &locals.new_id));
        sc.spawn(|_| a.phones.reorder(&slots[1].order, &slots[1].new_id));
        sc.spawn(|_| a.loyalty.reorder(&slots[2].order, &slots[2].new_id));
        sc.spawn(|_| a.devices.reorder(&slots[3].order, &slots[3].new_id));
        sc.spawn(|_| a.customer_ids.reorder(&slots[4].order, &slots[4].new_id));
        sc.spawn(|_| a.names.reorder(&names.order, &names.new_id));
        sc.spawn(|_| a.name_keys.reorder(&keys.order, &keys.new_id));
        sc.spawn(|_| a.cities.reorder(&cities.order, &cities.new_id));
        sc.spawn(|_| a.address_keys.reorder(&addresses.order, &addresses.new_id));
    });
    d.sources = std::mem::take(&mut a.sources);
    d.emails = std::mem::take(&mut a.emails);
    d.email_locals = std::mem::take(&mut a.email_locals);
    d.phones = std::mem::take(&mut a.phones);
    d.loyalty = std::mem::take(&mut a.loyalty);
    d.devices = std::mem::take(&mut a.devices);
    d.customer_ids = std::mem::take(&mut a.customer_ids);
    d.names = std::mem::take(&mut a.names);
    d.name_keys = std::mem::take(&mut a.name_keys);
    d.cities = std::mem::take(&mut a.cities);
    d.address_keys = std::mem::take(&mut a.address_keys);
}

/// The renumberings [`renumber`] collected, handed to `finish_with`.
struct Renumbered {
    sources: Remap,
    slots: [Remap; 5],
    locals: Remap,
    names: Remap,
    keys: Remap,
    cities: Remap,
    addresses: Remap,
}

/// The rows, identifier columns and counts of the records at arrival
/// positions `order`, in that order, with every value renumbered by first
/// sighting in that order — the same sequence of first sightings a build
/// over records sorted by ID makes.
///
/// The sightings are found by two walks over disjoint dictionaries side by
/// side (contacts and sources; everything else); the rows and identifier
/// columns are then written in parallel.
fn renumber(a: &Dataset, order: &[u32]) -> Result<(Dataset, Renumbered)> {
    // Two walks side by side, over disjoint dictionaries (the split that
    // balances them at 1M generated records).
    // The first also finds where each record's identifier IDs will start
    // in the new `values` (it reads every row's counts anyway).
    let (
        (sources, emails, locals, devices, customers, (starts, at)),
        (phones, loyalty, names, keys, cities, addresses),
    ) = rayon::join(
        || {
            let mut sources = Sightings::new(a.sources.len());
            let mut emails = Sightings::new(a.emails.len());
            let mut locals = Sightings::new(a.email_locals.len());
            let mut devices = Sightings::new(a.devices.len());
            let mut customers = Sightings::new(a.customer_ids.len());
            let mut starts: Vec<u32> = Vec::with_capacity(order.len());
            let mut at = 0u32;
            for (k, &pos) in order.iter().enumerate() {
                a.prefetch_walk(order, k);
                let row = &a.rows[pos as usize];
                starts.push(at);
                // No more values than the staged dataset held, which fit
                // u32.
                at += row.ids_len.iter().map(|&l| u32::from(l)).sum::<u32>();
                sources.see(u32::from(row.source));
                for &old in a.slot_values(pos, 3) {
                    devices.see(old);
                }
                for &old in a.slot_values(pos, 0) {
                    if emails.see(old) {
                        locals.see(a.email_local[old as usize]);
                    }
                }
                for &old in a.slot_values(pos, 4) {
                    if customers.see(old) {
                        sources.see(a.customer_system[old as usize]);
                    }
                }
            }
            (
                sources.remap(),
                emails.remap(),
                locals.remap(),
                devices.remap(),
                customers.remap(),
                (starts, at),
            )
        },
        || {
            let mut phones = Sightings::new(a.phones.len());
            let mut loyalty = Sightings::new(a.loyalty.len());
            let mut names = Sightings::new(a.names.len());
            let mut keys = Sightings::new(a.name_keys.len());
            let mut cities = Sightings::new(a.cities.len());
            let mut addresses = Sightings::new(a.address_keys.len());
            for (k, &pos) in order.iter().enumerate() {
                a.prefetch_walk(order, k);
                let row = &a.rows[pos as usize];
                for (slot, seen) in [(1, &mut phones), (2, &mut loyalty)] {
                    for &old in a.slot_values(pos, slot) {
                        seen.see(old);
                    }
                }
                for &old in &row.names {
                    if old != NONE && names.see(old) {
                        let e = &a.name_info[old as usize];
                        keys.see(e.key);
                        keys.see(e.stem);
                        keys.see(e.phonetic);
                    }
                }
                if row.city != NONE {
                    cities.see(row.city);
                }
                if row.address != NONE {
                    addresses.see(row.address);
                }
            }
            (
                phones.remap(),
                loyalty.remap(),
                names.remap(),
                keys.remap(),
                cities.remap(),
                addresses.remap(),
            )
        },
    );
    if sources.order.len() > usize::from(u16::MAX) + 1 {
        return Err(ErrorKind::TooMany {
            what: "sources",
            max: u64::from(u16::MAX),
        }
        .into());
    }
    let r = Renumbered {
        sources,
        slots: [emails, phones, loyalty, devices, customers],
        locals,
        names,
        keys,
        cities,
        addresses,
    };

    let mut d = Dataset::empty();
    // Each record's identifier IDs, renumbered and sorted per slot, written
    // in parallel into each chunk of records' share of one column.
    const CHUNK: usize = 1 << 14;
    let mut values = vec![0u32; at as usize];
    let mut pieces = Vec::with_capacity(order.len().div_ceil(CHUNK));
    let mut rest: &mut [u32] = &mut values;
    for (c, chunk) in order.chunks(CHUNK).enumerate() {
        let end = starts.get((c + 1) * CHUNK).copied().unwrap_or(at);
        let (piece, tail) = rest.split_at_mut((end - starts[c * CHUNK]) as usize);
        pieces.push((c * CHUNK, chunk, piece));
        rest = tail;
    }
    pieces.into_par_iter().for_each(|(first, chunk, out)| {
        let mut w = 0;
        for (k, &pos) in chunk.iter().enumerate() {
            a.prefetch_walk(order, first + k);
            for (slot, old_ids) in a.all_slot_values(pos).into_iter().enumerate() {
                let start = w;
                for &old in old_ids {
                    out[w] = r.slots[slot].new_id[old as usize];
                    w += 1;
                }
                out[start..w].sort_unstable();
            }
        }
    });
    d.values = values;
    d.rows = order
        .par_iter()
        .enumerate()
        .zip(&starts)
        .map(|((k, &pos), &ids_start)| {
            if let Some(&ahead) = order.get(k + AHEAD) {
                a.prefetch_row(ahead);
            }
            let row = &a.rows[pos as usize];
            let open = |remap: &Remap, old: u32| {
                if old == NONE {
                    NONE
                } else {
                    remap.new_id[old as usize]
                }
            };
            Row {
                names: row.names.map(|old| open(&r.names, old)),
                dob: row.dob,
                city: open(&r.cities, row.city),
                address: open(&r.addresses, row.address),
                ids_start,
                ids_len: row.ids_len,
                // Checked above: at most 65,536 sources.
                source: r.sources.new_id[usize::from(row.source)] as u16,
            }
        })
        .collect();
    drop(starts);
    // Frequencies and counts, over the renumbered columns: identifier
    // values in one task, names and cities in the other.
    let (rows, values) = (&d.rows, &d.values);
    let ((value_freq, accepted), (key_freq, city_freq, names_accepted, dobs_accepted)) =
        rayon::join(
            || {
                let mut accepted = [0u64; 5];
                let mut value_freq: [Vec<u32>; 5] =
                    std::array::from_fn(|slot| vec![0; r.slots[slot].order.len()]);
                for row in rows {
                    let mut at = row.ids_start as usize;
                    for (slot, n) in accepted.iter_mut().enumerate() {
                        let len = usize::from(row.ids_len[slot]);
                        *n += len as u64;
                        for &v in &values[at..at + len] {
                            let f = &mut value_freq[slot][v as usize];
                            *f = f.saturating_add(1);
                        }
                        at += len;
                    }
                }
                (value_freq, accepted)
            },
            || {
                let mut key_freq = [(); 3].map(|_| vec![0u32; r.keys.order.len()]);
                let mut city_freq = vec![0u32; r.cities.order.len()];
                let (mut names_accepted, mut dobs_accepted) = (0u64, 0u64);
                for row in rows {
                    for (role, &name) in row.names.iter().enumerate() {
                        if name == NONE {
                            continue;
                        }
                        names_accepted += 1;
                        let old = r.names.order[name as usize];
                        let key = r.keys.new_id[a.name_info[old as usize].key as usize];
                        let f = &mut key_freq[role][key as usize];
                        *f = f.saturating_add(1);
                    }
                    if row.dob != NONE {
                        dobs_accepted += 1;
                    }
                    if row.city != NONE {
                        let f = &mut city_freq[row.city as usize];
                        *f = f.saturating_add(1);
                    }
                }
                (key_freq, city_freq, names_accepted, dobs_accepted)
            },
        );
    (d.value_freq, d.key_freq, d.city_freq) = (value_freq, key_freq, city_freq);
    if !order.is_empty() {
        for (slot, kind) in ID_SLOTS.iter().enumerate() {
            d.stats.accepted.insert(*kind, accepted[slot]);
        }
    }
    if names_accepted > 0 {
        d.stats.accepted.insert(IdKind::Name, names_accepted);
    }
    if dobs_accepted > 0 {
        d.stats.accepted.insert(IdKind::Dob, dobs_accepted);
    }
    Ok((d, r))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::InputField;
    use crate::record::interner::Interner;

    fn all<K: Clone + std::hash::Hash + Eq>(i: &Interner<K>) -> Vec<K> {
        // Interned IDs are below u32::MAX.
        (0..i.len() as u32)
            .filter_map(|id| i.value(id).cloned())
            .collect()
    }

    /// Every stored part of a dataset, for equality.
    fn parts(ds: &Dataset) -> impl PartialEq + std::fmt::Debug {
        (
            ds.ids.clone(),
            ds.rows.clone(),
            ds.values.clone(),
            ds.stats.clone(),
            (
                all(&ds.emails),
                ds.email_local.clone(),
                all(&ds.email_locals),
                all(&ds.phones),
                all(&ds.loyalty),
                all(&ds.customer_ids),
                all(&ds.sources),
                ds.customer_system.clone(),
            ),
            (
                all(&ds.names),
                ds.name_info
                    .iter()
                    .map(|e| (e.text.clone(), e.key, e.stem, e.phonetic))
                    .collect::<Vec<_>>(),
                all(&ds.name_keys),
                all(&ds.cities),
                all(&ds.address_keys),
                ds.address_tokens.clone(),
                ds.address_token_ends.clone(),
            ),
            (
                ds.value_freq.clone(),
                ds.key_freq.clone(),
                ds.city_freq.clone(),
                ds.seen.clone(),
                ds.addresses.clone(),
                ds.rejected.clone(),
            ),
        )
    }

    fn record(i: u32, seed: u32) -> Record {
        let pick = |n: u32, k: u32| (seed.wrapping_mul(2_654_435_761).rotate_left(k) % n) as usize;
        let first = ["Иван", "Ivan", "Анна", "Ольга", "Olga", "x"][pick(6, 1)];
        let last = ["Петров", "Petrova", "Иванова", "Smith"][pick(4, 5)];
        let mut r = Record::new(
            format!("r{:03}", i * 7919 % 1000),
            ["crm", "app", "pos"][pick(3, 9)],
        )
        .first_name(first)
        .last_name(last)
        .phone(format!("+7 912 000 00 {:02}", pick(20, 13)))
        .email(format!(
            "{}@mail.ru",
            ["a", "b", "test", "c.d"][pick(4, 17)]
        ))
        .email(format!("{}@mail.ru", ["a", "e"][pick(2, 21)]))
        .birth_date(["1990-01-02", "02.01.1990", "", "31.02.1990"][pick(4, 25)])
        .city(["Москва", "Moscow", "Казань"][pick(3, 29)])
        .address(["ул. Ленина, 5", "Lenina 5 kv 3", ""][pick(3, 3)]);
        // Full names: alone (split), beside parts (ignored), beside a part
        // the cache of raw name texts knows from an earlier batch.
        match pick(5, 19) {
            0 => {
                r.first_name = None;
                r.last_name = None;
                r = r.full_name(["Петров Иван Сергеевич", "Olga Smith", "x"][pick(3, 23)]);
            }
            1 => r = r.full_name("Иванова Анна"),
            _ => {}
        }
        if pick(3, 7) == 0 {
            r = r
                .customer_id("crm", format!("C{}", pick(5, 11)))
                .loyalty_card(format!("{}", pick(4, 15)));
        }
        r
    }

    fn builder() -> DatasetBuilder {
        DatasetBuilder::new().today(Ymd::new(2026, 1, 1).unwrap())
    }

    /// A limit crossed while a chunk is pending (interned only by the next
    /// push or by `finish`) is still reported, by one or the other.
    #[test]
    fn a_limit_crossed_by_the_last_chunk_is_reported() {
        let too_many = |e: crate::Error| {
            matches!(
                e.kind(),
                ErrorKind::TooMany {
                    what: "sources",
                    ..
                }
            )
        };
        // 65,537 sources: one more than a record's 16-bit source ID holds.
        let records = |from: u32, n: u32| -> Vec<Record> {
            (from..from + n)
                .map(|i| Record::new(format!("r{i}"), format!("s{i}")))
                .collect()
        };
        let mut stream = builder().stream().unwrap();
        stream.push(records(0, 65_537)).unwrap();
        assert_eq!(stream.len(), 65_537);
        assert!(too_many(stream.finish().unwrap_err()));
        // Crossed by the first batch's last chunk: the next push reports it.
        let mut stream = builder().stream().unwrap();
        stream.push(records(0, 65_537)).unwrap();
        assert!(too_many(stream.push(records(65_537, 1)).unwrap_err()));
        // One source fewer builds.
        assert_eq!(builder().build(records(0, 65_536)).unwrap().len(), 65_536);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any batching and any input order give the dataset of one build
        /// over the records (sorted by ID inside).
        #[test]
        fn batches_and_order_do_not_change_the_dataset(
            seeds in proptest::collection::vec(any::<u32>(), 1..120),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
            shift in any::<usize>(),
        ) {
            let records: Vec<Record> =
                seeds.iter().enumerate().map(|(i, &s)| record(i as u32, s)).collect();
            // Distinct IDs (the generator's IDs repeat past 1,000 records).
            let whole = builder().build(records.clone()).unwrap();
            let mut shuffled = records.clone();
            shuffled.rotate_left(shift % records.len());
            shuffled.reverse();
            let mut stream = builder().stream().unwrap();
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (shuffled.len() + 1)).collect();
            cuts.sort_unstable();
            let mut rest = shuffled.clone();
            let mut taken = 0;
            for c in cuts {
                let tail = rest.split_off(c - taken);
                stream.push(std::mem::replace(&mut rest, tail)).unwrap();
                // A hint of any size changes nothing.
                stream.reserve(shift % 500);
                taken = c;
            }
            stream.push(rest).unwrap();
            let streamed = stream.finish().unwrap();
            prop_assert_eq!(parts(&whole), parts(&streamed));
            for (pos, r) in shuffled.iter().enumerate() {
                let ix = streamed.input_order()[pos] as usize;
                prop_assert_eq!(streamed.record_ids()[ix].as_str(), r.id.as_str());
            }
        }

        /// Keeping the first of each ID equals building without the later ones.
        #[test]
        fn later_duplicates_are_dropped_and_reported(
            seeds in proptest::collection::vec(any::<u32>(), 1..80),
            dups in proptest::collection::vec((any::<usize>(), any::<u32>()), 1..10),
        ) {
            let mut records: Vec<Record> =
                seeds.iter().enumerate().map(|(i, &s)| record(i as u32, s)).collect();
            let originals = records.len();
            let mut expected = Vec::new();
            for (at, seed) in dups {
                let copy_of = at % originals;
                let mut r = record(copy_of as u32, seed);
                r.source = "later".into();
                records.push(r);
                expected.push((records.len() - 1) as u64);
            }
            let mut stream = builder().stream().unwrap();
            stream.push(records.clone()).unwrap();
            let (ds, dropped) = stream.finish_keep_first().unwrap();
            prop_assert_eq!(&dropped.duplicates, &expected);
            let kept = builder().build(records[..originals].to_vec()).unwrap();
            prop_assert_eq!(parts(&kept), parts(&ds));
            prop_assert_eq!(ds.input_order(), kept.input_order());
            let mut again = builder().stream().unwrap();
            again.push(records).unwrap();
            let err = again.finish().unwrap_err();
            let duplicate = matches!(err.kind(), ErrorKind::DuplicateRecordId { .. });
            prop_assert!(duplicate);
        }

        /// Rows pushed where they lie give the dataset of records built
        /// cell by cell with `InputField::apply` (as front ends did before
        /// rows), and a row is refused exactly when such a record would be.
        #[test]
        fn rows_read_as_records_built_cell_by_cell(
            columns in proptest::collection::vec(0usize..InputField::ALL.len(), 1..9),
            picks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 9), 1..40),
            cut in any::<usize>(),
        ) {
            let fields: Vec<Option<InputField>> = columns
                .iter()
                .map(|&c| (c % 7 != 6).then(|| InputField::ALL[c]))
                .collect();
            let table: Vec<Vec<String>> = picks
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    fields
                        .iter()
                        .zip(p.iter().cycle())
                        .map(|(f, &k)| cell(i, *f, k))
                        .collect()
                })
                .collect();
            let (mut rows, mut records) = (Vec::new(), Vec::new());
            for (i, cells) in table.iter().enumerate() {
                let row = RowRef::new(&fields, cells.iter().map(String::as_str), || format!("row{i}"));
                let record = record_of(&fields, cells, i);
                prop_assert_eq!(row.is_ok(), record.is_ok());
                if let (Ok(row), Ok(record)) = (row, record) {
                    prop_assert_eq!(&row.to_record(), &record);
                    rows.push(row);
                    records.push(record);
                }
            }
            let mut by_rows = builder().stream().unwrap();
            let cut = cut % (rows.len() + 1);
            by_rows.push_rows(&rows[..cut]).unwrap();
            by_rows.push_rows(&rows[cut..]).unwrap();
            let mut by_records = builder().stream().unwrap();
            by_records.push(records).unwrap();
            let (by_rows, by_records) = (by_rows.finish().unwrap(), by_records.finish().unwrap());
            prop_assert_eq!(parts(&by_rows), parts(&by_records));
        }
    }

    /// A cell for `field` (several values, spaces, bad values among them).
    fn cell(row: usize, field: Option<InputField>, k: u8) -> String {
        let pick = |options: &[&str]| options[usize::from(k) % options.len()].to_owned();
        let hex = "0123456789abcdef".repeat(4);
        match field {
            None => pick(&["ignored", ""]),
            Some(InputField::RecordId) => pick(&[&format!(" r{row} "), &format!("r{row}"), ""]),
            Some(InputField::Source) => pick(&["crm", "", " app "]),
            Some(InputField::FirstName | InputField::MiddleName | InputField::LastName) => {
                pick(&["Иван", " Анна ;Ольга", "", ";", "Petrov", "x", "Иванова; "])
            }
            Some(InputField::FullName) => pick(&["Петров Иван Сергеевич", "Olga Smith", "", "x"]),
            Some(InputField::Email) => pick(&["a@b.ru", "A@B.RU; c@d.ru", "", " ; ", "bad"]),
            Some(InputField::Phone) => {
                pick(&["+7 912 000 00 01", "8 912 000-00-02;89120000003", ""])
            }
            Some(InputField::LoyaltyId) => pick(&["2769514264565", "", "12"]),
            Some(InputField::DeviceId) => pick(&["6F9619FF-8B86-D011-B42D-00C04FC964FF", ""]),
            Some(InputField::CustomerId) => pick(&["C1", "C2;c3", "", " "]),
            Some(InputField::Dob) => {
                pick(&["1990-01-02", "31.02.1990", "", "02.01.1990;1991-01-01"])
            }
            Some(InputField::City) => pick(&["Москва", "Moscow", "", "Казань;"]),
            Some(InputField::Address) => pick(&["ул. Ленина, 5", "", "Lenina 5 kv 3"]),
            Some(InputField::FirstSeen | InputField::LastSeen) => pick(&[
                "2024-05-01",
                "1700000000",
                "",
                "1600000000; 2025-01-01",
                "yesterday",
            ]),
            Some(InputField::Consent | InputField::OptOut) => {
                pick(&["email;sms", "", "push", "pigeon"])
            }
            Some(InputField::EmailHash | InputField::PhoneHash) => pick(&[
                &hex,
                &hex.to_uppercase(),
                "",
                "abc",
                &format!("{hex};{hex}"),
            ]),
        }
    }

    /// A record built as front ends built one before rows: the ID and
    /// source first, then every cell through `InputField::apply`.
    fn record_of(fields: &[Option<InputField>], cells: &[String], row: usize) -> Result<Record> {
        let mut id = None;
        let mut source = "input";
        for (f, c) in fields.iter().zip(cells) {
            match f {
                Some(InputField::RecordId) => id = Some(c.trim()),
                Some(InputField::Source) if !c.trim().is_empty() => source = c.trim(),
                _ => {}
            }
        }
        let id = match id {
            Some("") => {
                return Err(ErrorKind::Cell {
                    field: "record_id",
                    reason: "is empty",
                }
                .into());
            }
            Some(id) => id.to_owned(),
            None => format!("row{row}"),
        };
        let mut r = Record::new(id, source);
        for (f, c) in fields.iter().zip(cells) {
            if let Some(f) = f {
                f.apply(&mut r, source, c)?;
            }
        }
        Ok(r)
    }
}

//! The pipeline cut where a distributed engine exchanges data: each piece
//! runs on the records one group needs, and the engine supplies the global
//! facts (term frequencies, generic values) and does the grouping.
//!
//! A batch run's result is a function of local facts (see the incremental
//! store, which rests on the same ones): which keys a record holds; whether
//! a value is generic (a verdict over all its holders); the pairs one block
//! yields (a function of all its members); a pair's score (its two records,
//! with term frequencies frozen in the model); the identities of one link
//! component (its records and links). So an engine that groups all the
//! holders of a key, all the members of a block, both records of a pair and
//! all the records of a link component, and calls these methods on each
//! group, gets the batch run's partition. `examples/spark` does it with
//! Apache Spark; `docs/SCALING.md` describes the data flow.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::block::{BlockingRule, CandidatePair, Inverted, block_pairs, judge_value, key_ranks};
use crate::cluster::Clusters;
use crate::compare::{Comparator, Field};
use crate::error::{Error, Result};
use crate::record::{Dataset, ID_SLOTS, NameRole, Record, RecordId, RecordIx};
use crate::score::{Model, ScoredPair};

use super::Resolver;
use super::live::{Use, flags_by_key, record_keys, rule_of, value_key};

/// One key a record holds: what records are grouped by.
///
/// # Example
/// ```
/// use idstitch::{Record, Resolver};
///
/// let keys = Resolver::new().record_keys(vec![
///     Record::new("1", "crm").phone("+7 912 345-67-89").first_name("Анна"),
/// ])?;
/// let phone = keys.iter().find(|k| k.value).unwrap();
/// assert_eq!(phone.record.as_str(), "1");
/// assert!(phone.rule.is_some());
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordKey {
    /// The record.
    pub record: RecordId,
    /// The key's text: equal texts are the same key in any batch of records.
    pub key: String,
    /// The index of the blocking rule that blocks on this key, in the
    /// resolver's rule order; `None` for an identifier value no rule blocks
    /// on (kept: its holders still decide whether it is generic).
    pub rule: Option<u8>,
    /// Whether the key is an identifier value (judged generic or not over
    /// all its holders, [`Resolver::is_generic_value`]).
    pub value: bool,
}

/// Builds a dataset of `records`, the first of each ID kept (a record can
/// reach a group twice, as both sides of pairs).
fn dataset(resolver: &Resolver, records: Vec<Record>) -> Result<Dataset> {
    let mut seen = HashSet::new();
    let records: Vec<Record> = records
        .into_iter()
        .filter(|r| seen.insert(r.id()))
        .collect();
    resolver.dataset_builder().build(records)
}

fn index(ds: &Dataset, id: &RecordId) -> Result<RecordIx> {
    ds.index_of(id)
        .ok_or_else(|| crate::ErrorKind::UnknownRecord { id: id.clone() }.into())
}

fn rule_index(resolver: &Resolver, rule: u8) -> Result<BlockingRule> {
    resolver
        .blocking_config()
        .get_rules()
        .get(usize::from(rule))
        .copied()
        .ok_or_else(|| Error::config("rule", "no blocking rule has this index"))
}

/// A pair of records of `ds` by ID, lower index first, its rule index checked.
fn local_pair(
    resolver: &Resolver,
    ds: &Dataset,
    a: &RecordId,
    b: &RecordId,
    rule: u8,
) -> Result<(RecordIx, RecordIx)> {
    rule_index(resolver, rule)?;
    let (x, y) = (index(ds, a)?, index(ds, b)?);
    Ok((x.min(y), x.max(y)))
}

impl Resolver {
    /// Every key each record holds: its identifier values and its keys
    /// under the name-based blocking rules.
    ///
    /// # Errors
    /// As [`DatasetBuilder::build`](crate::DatasetBuilder::build).
    pub fn record_keys(&self, records: Vec<Record>) -> Result<Vec<RecordKey>> {
        let ds = dataset(self, records)?;
        let rules = self.blocking_config().get_rules();
        let mut out = Vec::new();
        for r in 0..ds.len() as u32 {
            for (key, u) in record_keys(&ds, rules, r) {
                out.push(RecordKey {
                    record: ds.record_ids()[r as usize].clone(),
                    key,
                    // At most 255 rules (validated).
                    rule: rule_of(rules, u).map(|i| i as u8),
                    value: matches!(u, Use::Value { .. }),
                });
            }
        }
        Ok(out)
    }

    /// Each record's term-frequency keys: `(record, field, key)` for the
    /// first name, middle name, surname and city it holds, among `fields`.
    /// Counted over all records per field and key, they are what
    /// [`Model::with_frequencies`] freezes.
    ///
    /// # Errors
    /// As [`DatasetBuilder::build`](crate::DatasetBuilder::build).
    ///
    /// # Example
    /// ```
    /// use idstitch::{Field, Record, Resolver};
    ///
    /// let keys = Resolver::new().frequency_keys(
    ///     vec![Record::new("1", "crm").first_name("Анна").city("Казань")],
    ///     &[Field::FirstName, Field::City],
    /// )?;
    /// assert_eq!(keys.len(), 2);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn frequency_keys(
        &self,
        records: Vec<Record>,
        fields: &[Field],
    ) -> Result<Vec<(RecordId, Field, String)>> {
        let ds = dataset(self, records)?;
        let mut out = Vec::new();
        for r in 0..ds.len() {
            let row = &ds.rows[r];
            for &f in fields {
                let key = match f {
                    Field::FirstName | Field::MiddleName | Field::Surname => {
                        let role = match f {
                            Field::FirstName => NameRole::First,
                            Field::MiddleName => NameRole::Middle,
                            _ => NameRole::Surname,
                        };
                        ds.name_info
                            .get(row.names[role as usize] as usize)
                            .and_then(|e| ds.name_keys.value(e.key))
                            .map(|k| k.to_string())
                    }
                    Field::City => ds.cities.value(row.city).map(|c| c.to_string()),
                    _ => None,
                };
                if let Some(key) = key {
                    out.push((ds.record_ids()[r].clone(), f, key));
                }
            }
        }
        Ok(out)
    }

    /// Whether the identifier value `key` ([`RecordKey::key`], a value) is
    /// generic, judged over `holders` — which must be every record holding
    /// it. `false` when no holder holds it.
    ///
    /// # Errors
    /// As [`DatasetBuilder::build`](crate::DatasetBuilder::build).
    pub fn is_generic_value(&self, key: &str, holders: Vec<Record>) -> Result<bool> {
        let ds = dataset(self, holders)?;
        let gcfg = self.blocking_config().generic_config();
        for slot in 0..ID_SLOTS.len() {
            // Values are dense IDs below u32::MAX.
            for v in 0..ds.value_freq[slot].len() as u32 {
                if value_key(&ds, slot, v).as_deref() == Some(key) {
                    let holders = Inverted::build(&ds, slot);
                    return Ok(judge_value(&ds, gcfg, slot, v, holders.members(v)));
                }
            }
        }
        Ok(false)
    }

    /// The candidate pairs one block yields: `members` are every record
    /// holding `key` under rule `rule` (an index into the resolver's rules),
    /// and the key is not a generic value. Pairs as `(lower ID, higher ID)`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a rule index out
    /// of range; else as [`DatasetBuilder::build`](crate::DatasetBuilder::build).
    pub fn block(
        &self,
        rule: u8,
        key: &str,
        members: Vec<Record>,
    ) -> Result<Vec<(RecordId, RecordId)>> {
        let blocking = rule_index(self, rule)?;
        let ds = dataset(self, members)?;
        let rules = self.blocking_config().get_rules();
        let holding: Vec<RecordIx> = (0..ds.len() as u32)
            .filter(|&r| {
                record_keys(&ds, rules, r)
                    .iter()
                    .any(|(k, u)| k == key && rule_of(rules, *u) == Some(usize::from(rule)))
            })
            .collect();
        let mut pairs = Vec::new();
        let ranks = key_ranks(&ds);
        block_pairs(
            &ds,
            self.blocking_config(),
            &ranks,
            blocking.partial_name(),
            &holding,
            &mut pairs,
        );
        let ids = ds.record_ids();
        Ok(pairs
            .into_iter()
            .map(|p| {
                (
                    ids[(p >> 32) as usize].clone(),
                    ids[p as u32 as usize].clone(),
                )
            })
            .collect())
    }

    /// Scores candidate pairs `(a, b, rule index)` with `model` (its term
    /// frequencies frozen: [`Model::with_frequencies`]); `records` hold
    /// both records of every pair, `generic` the keys of every generic
    /// value. Probabilities in the order of `pairs`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a model without
    /// frozen frequencies or a rule index out of range;
    /// [`ErrorKind::UnknownRecord`](crate::ErrorKind::UnknownRecord) for a
    /// pair naming a record not given.
    pub fn score_pairs(
        &self,
        model: &Model,
        generic: &HashSet<String>,
        records: Vec<Record>,
        pairs: &[(RecordId, RecordId, u8)],
    ) -> Result<Vec<f32>> {
        if !model.has_frozen_frequencies() {
            return Err(Error::config(
                "model",
                "scoring groups of records needs frozen term frequencies",
            ));
        }
        let ds = dataset(self, records)?;
        let candidates = pairs
            .iter()
            .map(|(a, b, rule)| {
                let (a, b) = local_pair(self, &ds, a, b, *rule)?;
                Ok(CandidatePair { a, b, rule: *rule })
            })
            .collect::<Result<Vec<_>>>()?;
        let generic = flags_by_key(&ds, |t| generic.contains(t));
        let cmp = Comparator::new(&ds, &generic, self.compare_config())?;
        let scored = model.score_pairs(&cmp, self.blocking_config().get_rules(), &candidates)?;
        Ok(scored.into_iter().map(|p| p.probability).collect())
    }

    /// The identities of one component of the link graph: `records` are
    /// all its records, `links` its scored pairs at or above the threshold
    /// `(a, b, rule index, probability)`, `generic` the keys of every
    /// generic value. Returns each record with a label, equal labels for
    /// one identity.
    ///
    /// # Errors
    /// As [`Resolver::score_pairs`], and trusted systems in the settings
    /// (their must-links are not links of the graph).
    pub fn cluster_component(
        &self,
        generic: &HashSet<String>,
        records: Vec<Record>,
        links: &[(RecordId, RecordId, u8, f32)],
    ) -> Result<Vec<(RecordId, u32)>> {
        if self.cluster_config().has_trusted_systems() {
            return Err(Error::config(
                "trusted_systems",
                "clustering components apart needs no trusted must-links",
            ));
        }
        let ds = dataset(self, records)?;
        let scored = links
            .iter()
            .map(|(a, b, rule, p)| {
                let (a, b) = local_pair(self, &ds, a, b, *rule)?;
                Ok(ScoredPair {
                    a,
                    b,
                    rule: *rule,
                    weight: 0.0,
                    probability: *p,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let generic = flags_by_key(&ds, |t| generic.contains(t));
        let clusters = Clusters::build(
            &ds,
            &scored,
            self.blocking_config().get_rules(),
            &generic,
            self.cluster_config(),
        )?;
        Ok(ds
            .record_ids()
            .iter()
            .cloned()
            .zip(clusters.labels().iter().copied())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn people() -> Vec<Record> {
        let mut out = Vec::new();
        for i in 0..40u32 {
            let phone = format!("+7912{:07}", 1_000_000 + i / 2);
            let mut r = Record::new(format!("r{i:03}"), if i % 2 == 0 { "crm" } else { "app" })
                .phone(phone)
                .first_name(["Анна", "Борис", "Вера", "Глеб"][(i / 2 % 4) as usize])
                .last_name(["Иванова", "Петров", "Сидорова", "Кузнецов"][(i / 2 % 4) as usize])
                .city("Казань");
            if i % 3 == 0 {
                r = r.email(format!("p{}@mail.ru", i / 2));
            }
            out.push(r);
        }
        // A shared call-centre number with many callers: generic.
        for i in 0..8u32 {
            out.push(
                Record::new(format!("cc{i}"), "callcentre")
                    .phone("+7 495 123-45-67")
                    .first_name(
                        ["Олег", "Ирина", "Пётр", "Зоя", "Лев", "Ада", "Ян", "Ия"][i as usize],
                    ),
            );
        }
        out
    }

    /// The pieces, grouped by hand as an engine would, give the batch run's
    /// pairs, scores and partition.
    #[test]
    fn grouped_pieces_give_the_batch_run() {
        let resolver = Resolver::new();
        let records = people();
        let batch = resolver.resolve(records.clone()).unwrap();
        let by_id: BTreeMap<RecordId, Record> =
            records.iter().map(|r| (r.id(), r.clone())).collect();
        let keys = resolver.record_keys(records.clone()).unwrap();
        let mut holders: BTreeMap<(String, Option<u8>, bool), Vec<RecordId>> = BTreeMap::new();
        for k in &keys {
            holders
                .entry((k.key.clone(), k.rule, k.value))
                .or_default()
                .push(k.record.clone());
        }
        let group = |ids: &[RecordId]| ids.iter().map(|i| by_id[i].clone()).collect::<Vec<_>>();
        let generic: HashSet<String> = holders
            .iter()
            .filter(|((_, _, value), _)| *value)
            .filter(|((key, _, _), ids)| resolver.is_generic_value(key, group(ids)).unwrap())
            .map(|((key, _, _), _)| key.clone())
            .collect();
        assert_eq!(generic.len(), 1);
        let mut credited: BTreeMap<(RecordId, RecordId), u8> = BTreeMap::new();
        for ((key, rule, _), ids) in &holders {
            let Some(rule) = rule else { continue };
            if ids.len() < 2 || generic.contains(key) {
                continue;
            }
            for (a, b) in resolver.block(*rule, key, group(ids)).unwrap() {
                let e = credited.entry((a, b)).or_insert(*rule);
                *e = (*e).min(*rule);
            }
        }
        let mut counts: BTreeMap<Field, BTreeMap<String, u32>> = BTreeMap::new();
        let fields = [Field::FirstName, Field::Surname, Field::City];
        for (_, f, k) in resolver.frequency_keys(records.clone(), &fields).unwrap() {
            *counts.entry(f).or_default().entry(k).or_default() += 1;
        }
        let mut model = batch.model().clone();
        for f in fields {
            model = model
                .with_frequencies(f, counts.remove(&f).unwrap_or_default())
                .unwrap();
        }
        assert_eq!(
            model,
            batch.model().clone().with_frequencies_of(batch.dataset())
        );
        let pairs: Vec<(RecordId, RecordId, u8)> = credited
            .iter()
            .map(|((a, b), r)| (a.clone(), b.clone(), *r))
            .collect();
        let probs = resolver
            .score_pairs(&model, &generic, records.clone(), &pairs)
            .unwrap();
        let ids = batch.dataset().record_ids();
        let expected: Vec<(RecordId, RecordId, u8, f32)> = batch
            .scored()
            .iter()
            .map(|p| {
                (
                    ids[p.a as usize].clone(),
                    ids[p.b as usize].clone(),
                    p.rule,
                    p.probability,
                )
            })
            .collect();
        let got: Vec<(RecordId, RecordId, u8, f32)> = pairs
            .iter()
            .zip(&probs)
            .map(|((a, b, r), p)| (a.clone(), b.clone(), *r, *p))
            .collect();
        assert_eq!(got, expected);
        // One component here (the whole set): the partition of the batch.
        let links: Vec<(RecordId, RecordId, u8, f32)> =
            got.into_iter().filter(|l| l.3 >= 0.5).collect();
        let labels = resolver
            .cluster_component(&generic, records, &links)
            .unwrap();
        let partition = |pairs: Vec<(RecordId, u32)>| -> BTreeSet<BTreeSet<RecordId>> {
            let mut m: BTreeMap<u32, BTreeSet<RecordId>> = BTreeMap::new();
            for (id, l) in pairs {
                m.entry(l).or_default().insert(id);
            }
            m.into_values().collect()
        };
        let batch_labels: Vec<(RecordId, u32)> = ids
            .iter()
            .cloned()
            .zip(batch.clusters().labels().iter().copied())
            .collect();
        assert_eq!(partition(labels), partition(batch_labels));
    }
}

//! Living identities: batches, erasure and snapshots give exactly the batch
//! run over the records present, with stable IDs.

// Tests may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/generate/synth.rs"]
mod synth;

use std::collections::BTreeSet;

use idstitch::{
    BlockingConfig, DatasetBuilder, Event, IdKind, IdentityStore, Model, NormalizeOptions, Record,
    RecordId, Resolver, Ymd,
};
use proptest::prelude::*;

fn resolver() -> Resolver {
    Resolver::new().dataset(DatasetBuilder::new().today(Ymd::new(2026, 1, 1).unwrap()))
}

type Partition = BTreeSet<BTreeSet<RecordId>>;

/// Blocks past tiny bounds everywhere, so most blocks are windowed.
fn tight_resolver() -> Resolver {
    resolver().blocking(
        BlockingConfig::new()
            .max_block_size(3)
            .window(1)
            .partial_max_block_size(2)
            .partial_window(1),
    )
}

fn batch_partition(records: Vec<Record>, model: &Model) -> Partition {
    batch_partition_with(&resolver(), records, model)
}

fn batch_partition_with(resolver: &Resolver, records: Vec<Record>, model: &Model) -> Partition {
    let run = resolver.resolve_with(records, model).unwrap();
    let ds = run.dataset();
    run.clusters()
        .members()
        .into_iter()
        .map(|m| {
            m.into_iter()
                .map(|ix| ds.record_ids()[ix as usize].clone())
                .collect()
        })
        .collect()
}

fn store_partition(store: &IdentityStore) -> Partition {
    let mut by_id: std::collections::BTreeMap<_, BTreeSet<RecordId>> = Default::default();
    for (r, id) in store.identities().assignments() {
        by_id.entry(id.clone()).or_default().insert(r.clone());
    }
    by_id.into_values().collect()
}

fn population() -> Vec<Record> {
    synth::population(250, 17).records
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn any_batch_split_gives_the_batch_partition(
        seed in any::<u64>(),
        cuts in proptest::collection::vec(0.0f64..1.0, 1..5),
        erase_share in 0.0f64..0.2,
    ) {
        let mut records = population();
        let mut rng = synth::Rng(seed);
        for i in (1..records.len()).rev() {
            records.swap(i, rng.below(i + 1));
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|c| (c * records.len() as f64) as usize).collect();
        cuts.push(records.len());
        cuts.sort_unstable();
        let mut store = IdentityStore::new(resolver());
        let mut start = 0;
        for (i, &end) in cuts.iter().enumerate() {
            if end <= start {
                continue;
            }
            store.add(records[start..end].to_vec()).unwrap();
            start = end;
            // Half-way through, the state goes to bytes and back.
            if i == 0 {
                store = IdentityStore::restore(resolver(), &store.snapshot()).unwrap();
            }
        }
        let model = store.model().unwrap().clone();
        prop_assert_eq!(store_partition(&store), batch_partition(records.clone(), &model));
        // Erasure: as if the records had never been added.
        let erased: Vec<RecordId> = records
            .iter()
            .filter(|_| rng.chance(erase_share))
            .map(Record::id)
            .collect();
        store.erase_records(&erased).unwrap();
        let gone: BTreeSet<&RecordId> = erased.iter().collect();
        let kept: Vec<Record> = records.into_iter().filter(|r| !gone.contains(&r.id())).collect();
        prop_assert_eq!(store.len(), kept.len());
        prop_assert_eq!(store_partition(&store), batch_partition(kept, &model));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Records arriving one at a time go through the incremental index:
    /// after every step the partition is the batch run's over the records
    /// so far, and most steps never run the whole pipeline.
    #[test]
    fn records_added_one_at_a_time_give_the_batch_partition(
        seed in any::<u64>(),
        first_share in 0.2f64..0.8,
        tight in any::<bool>(),
    ) {
        let settings = if tight { tight_resolver() } else { resolver() };
        let mut records = population();
        let mut rng = synth::Rng(seed);
        for i in (1..records.len()).rev() {
            records.swap(i, rng.below(i + 1));
        }
        let first = ((first_share * records.len() as f64) as usize).max(1);
        let mut store = IdentityStore::new(settings.clone());
        store.add(records[..first].to_vec()).unwrap();
        let model = store.model().unwrap().clone();
        prop_assert!(model.has_frozen_frequencies());
        let mut incremental = 0;
        for i in first..records.len() {
            let update = store.add(vec![records[i].clone()]).unwrap();
            incremental += usize::from(update.incremental);
            // The model never changes: the batch below is the reference.
            prop_assert_eq!(store.model().unwrap(), &model);
            if (i - first) % 37 == 36 || i + 1 == records.len() {
                prop_assert_eq!(
                    store_partition(&store),
                    batch_partition_with(&settings, records[..=i].to_vec(), &model),
                    "after record {} of {}", i + 1, records.len()
                );
            }
        }
        // Not only the partition: every candidate pair, its rule and score.
        let run = settings.resolve_with(records.clone(), &model).unwrap();
        let ids = run.dataset().record_ids();
        let mut batch_pairs: Vec<_> = run
            .scored()
            .iter()
            .map(|p| (ids[p.a as usize].clone(), ids[p.b as usize].clone(), p.rule, p.probability))
            .collect();
        batch_pairs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let indexed = store.indexed_pairs().unwrap();
        prop_assert_eq!(indexed.len(), batch_pairs.len());
        prop_assert!(indexed == batch_pairs);
        let added = records.len() - first;
        prop_assert!(
            incremental * 10 >= added * 8,
            "{incremental} of {added} additions were incremental"
        );
    }
}

#[test]
fn ids_stay_when_records_join_and_do_not_depend_on_order() {
    let records = population();
    let (mut a, mut b) = (
        IdentityStore::new(resolver()),
        IdentityStore::new(resolver()),
    );
    a.add(records.clone()).unwrap();
    let mut reversed = records.clone();
    reversed.reverse();
    b.add(reversed).unwrap();
    assert_eq!(a.identities(), b.identities());
    // Every record that joins an existing person keeps that person's ID.
    let before: Vec<_> = records
        .iter()
        .map(|r| a.identity_of(&r.id()).unwrap().clone())
        .collect();
    let extra: Vec<Record> = records
        .iter()
        .filter(|r| !r.phones().is_empty())
        .take(20)
        .enumerate()
        .map(|(i, r)| Record::new(format!("late-{i}"), "telegram").phone(r.phones()[0].clone()))
        .collect();
    let update = a.add(extra).unwrap();
    assert!(
        update
            .events
            .iter()
            .all(|e| matches!(e, Event::Assigned { .. } | Event::Created { .. }))
    );
    let after: Vec<_> = records
        .iter()
        .map(|r| a.identity_of(&r.id()).unwrap().clone())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn an_erased_identifier_is_suppressed_for_records_that_come_later() {
    let mut store = IdentityStore::new(resolver());
    store
        .add(vec![
            Record::new("a", "crm")
                .phone("+79123456789")
                .first_name("Анна"),
            Record::new("b", "web").phone("8 912 345-67-89"),
            Record::new("c", "web").email("boris@mail.ru"),
        ])
        .unwrap();
    let update = store
        .erase_identifier(
            IdKind::Phone,
            "+7 (912) 345-67-89",
            &NormalizeOptions::new(),
            true,
        )
        .unwrap();
    assert_eq!(store.len(), 1);
    assert!(
        update
            .events
            .iter()
            .any(|e| matches!(e, Event::Removed { .. }))
    );
    // The state keeps the suppression as a hash, not the phone.
    let text = String::from_utf8_lossy(&store.snapshot()).into_owned();
    assert!(!text.contains("9123456789") && !text.contains("345-67-89"));
    assert!(text.contains("boris@mail.ru"));
    // Two new records sharing the suppressed phone do not link through it.
    store
        .add(vec![
            Record::new("d", "tg").phone("+79123456789"),
            Record::new("e", "tg").phone("89123456789"),
        ])
        .unwrap();
    assert_ne!(
        store.identity_of(&"d".into()),
        store.identity_of(&"e".into())
    );
    // The suppression survives a snapshot.
    let bytes = store.snapshot();
    let mut restored = IdentityStore::restore(resolver(), &bytes).unwrap();
    restored
        .add(vec![Record::new("f", "tg").phone("+79123456789")])
        .unwrap();
    assert_ne!(
        restored.identity_of(&"f".into()),
        restored.identity_of(&"d".into())
    );
    // Nothing unusable is erased.
    assert!(
        store
            .erase_identifier(IdKind::Phone, "000", &NormalizeOptions::new(), true)
            .is_err()
    );
}

#[test]
fn damaged_snapshots_are_refused_whole() {
    let mut store = IdentityStore::new(resolver());
    store.add(population()).unwrap();
    let bytes = store.snapshot();
    let mut flipped = bytes.clone();
    let i = flipped.len() / 2;
    flipped[i] ^= 1;
    for bad in [
        &bytes[..bytes.len() / 2],
        &flipped[..],
        b"",
        b"idstitch-state 99 0 x\n",
    ] {
        let err = IdentityStore::restore(resolver(), bad).unwrap_err();
        assert!(
            matches!(err.kind(), idstitch::ErrorKind::Snapshot { .. }),
            "{err}"
        );
    }
}

#[test]
fn changes_that_are_not_local_run_the_batch_and_agree_with_it() {
    let people = population();
    let mut store = IdentityStore::new(resolver());
    store.add(people.clone()).unwrap();
    let model = store.model().unwrap().clone();
    let mut all = people.clone();
    // A call-centre number typed for different callers: once enough people
    // hold it, it turns generic — not a local change.
    let names = ["Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна"];
    let mut whole_runs = 0;
    for (i, name) in names.iter().enumerate() {
        let r = Record::new(format!("cc-{i}"), "callcentre")
            .phone("+7 495 123-45-67")
            .first_name(*name)
            .birth_date(format!("19{}0-0{}-1{}", 5 + i % 4, 1 + i % 9, i % 10));
        all.push(r.clone());
        let update = store.add(vec![r]).unwrap();
        whole_runs += usize::from(!update.incremental);
        assert_eq!(
            store_partition(&store),
            batch_partition(all.clone(), &model)
        );
    }
    assert!(whole_runs >= 1, "the number turning generic ran the batch");
    // A record sent again replaces the stored one: a whole run too.
    let again = all[0].clone().email("new-address@mail.ru");
    let update = store.add(vec![again.clone()]).unwrap();
    assert!(!update.incremental);
    all[0] = again;
    assert_eq!(
        store_partition(&store),
        batch_partition(all.clone(), &model)
    );
    // And the index, rebuilt, takes single records again.
    let late = Record::new("late-1", "web").email("new-address@mail.ru");
    all.push(late.clone());
    let update = store.add(vec![late]).unwrap();
    assert!(update.incremental);
    assert_eq!(
        store.identity_of(&"late-1".into()),
        store.identity_of(&all[0].id())
    );
    assert_eq!(store_partition(&store), batch_partition(all, &model));
}

//! End to end: `Resolver::resolve` of about one million generated records
//! (normalise, block, train, score, cluster), the records generated once per
//! run outside the timed loop, and `IdentityStore::add` of one small batch
//! to a store of that size (a full re-resolution with the frozen model).
//!
//! `IDSTITCH_BENCH_PEOPLE` sets the population (default 360,000 people ≈ 1M
//! records); `cargo test` runs each benchmark once on 2,000 people.

// Tests and benchmarks may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../examples/generate/synth.rs"]
mod synth;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use idstitch::{DatasetBuilder, IdentityStore, Record, Resolver, Ymd};

fn resolver() -> Resolver {
    Resolver::new().dataset(DatasetBuilder::new().today(Ymd::new(2026, 1, 1).unwrap()))
}

fn resolve(c: &mut Criterion) {
    let people = common::people();
    let records = synth::population(people, 42).records;
    let n = records.len();
    eprintln!("population: {people} people, {n} records");

    let mut g = c.benchmark_group("resolve");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("batch/{n}"), |b| {
        b.iter_batched(
            || records.clone(),
            |r| black_box(resolver().resolve(r).unwrap().clusters().len()),
            BatchSize::PerIteration,
        );
    });
    g.finish();

    // One messenger record joining a store of n records.
    let mut store = IdentityStore::new(resolver());
    store.add(records.clone()).unwrap();
    let phone = records
        .iter()
        .find_map(|r| r.phones().first().cloned())
        .unwrap();
    let mut g = c.benchmark_group("store");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    let mut i = 0u64;
    g.bench_function(format!("add_one/{n}"), |b| {
        b.iter(|| {
            i += 1;
            let r = Record::new(format!("late-{i}"), "telegram").phone(phone.clone());
            black_box(store.add(vec![r]).unwrap().events.len())
        });
    });
    g.finish();
}

criterion_group!(benches, resolve);
criterion_main!(benches);

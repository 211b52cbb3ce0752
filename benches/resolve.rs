//! End to end: `Resolver::resolve` of about one million generated records
//! (normalise, block, train, score, cluster), the records generated once per
//! run outside the timed loop, and `IdentityStore::add` of one record at a
//! time to a store of that size (the incremental path): criterion's mean,
//! and the latency distribution (p50/p99/max) of adding the held-out
//! records one by one, printed.
//!
//! `IDSTITCH_BENCH_PEOPLE` sets the population (default 360,000 people ≈ 1M
//! records); `cargo test` runs each benchmark once on 2,000 people.

// Tests and benchmarks may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../examples/generate/synth.rs"]
mod synth;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use idstitch::{DatasetBuilder, IdentityStore, Resolver, Ymd};

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

    // Records arriving one at a time: every record of one person in a
    // hundred is held out of the store, then added one by one (a new
    // person's first record creates an identity, the next ones join it).
    let mut rows = Vec::new();
    synth::generate(people, 42, |row| rows.push(row));
    let (held, initial): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.person % 100 == 7);
    let mut store = IdentityStore::new(resolver());
    store
        .add(initial.iter().map(synth::SynthRow::to_record).collect())
        .unwrap();
    let stored = store.len();
    let mut latencies: Vec<Duration> = Vec::with_capacity(held.len());
    let mut whole_runs = 0usize;
    for row in &held {
        let r = row.to_record();
        let t = Instant::now();
        let update = store.add(vec![r]).unwrap();
        latencies.push(t.elapsed());
        whole_runs += usize::from(!update.incremental);
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    if !latencies.is_empty() {
        eprintln!(
            "store/add_one: {} records added one by one to {stored}: p50 {:?}, p90 {:?}, p99 {:?}, p99.9 {:?}, max {:?}; {whole_runs} ran the whole pipeline",
            latencies.len(),
            at(0.5),
            at(0.9),
            at(0.99),
            at(0.999),
            at(1.0),
        );
    }

    // Criterion's view of the same: each iteration adds a record of a held
    // person again under a new ID.
    let mut g = c.benchmark_group("store");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let mut i = 0usize;
    g.bench_function(format!("add_one/{stored}"), |b| {
        b.iter(|| {
            let mut row = held[i % held.len()].clone();
            row.id = format!("{}-again-{i}", row.id);
            i += 1;
            black_box(store.add(vec![row.to_record()]).unwrap().events.len())
        });
    });
    g.finish();
}

criterion_group!(benches, resolve);
criterion_main!(benches);

//! The matching core at scale: building the interned dataset, blocking,
//! comparison, EM training and scoring on a synthetic omnichannel population
//! (examples/generate/synth.rs) of about one million records.
//!
//! `IDSTITCH_BENCH_PEOPLE` sets the population (default 360,000 people ≈ 1M
//! records). Scoring is measured on 10M candidate pairs: the population's
//! real candidates, repeated to 10M (100k for small populations). Thread count is rayon's default (all
//! cores); pin it with `RAYON_NUM_THREADS`.

// Tests and benchmarks may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../examples/generate/synth.rs"]
mod synth;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use idstitch::{
    BlockingConfig, CandidatePair, Candidates, Comparator, CompareConfig, Dataset, DatasetBuilder,
    Model, Patterns, TrainConfig, UCounts, Ymd,
};

fn dataset(people: usize) -> Dataset {
    let pop = synth::population(people, 42);
    DatasetBuilder::new()
        .today(Ymd::new(2026, 1, 1).unwrap())
        .build(pop.records)
        .unwrap()
}

fn matching(c: &mut Criterion) {
    let people = common::people();
    let pop = synth::population(people, 42);
    let n = pop.records.len();
    eprintln!("population: {people} people, {n} records");

    let mut g = c.benchmark_group("dataset");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("build/{n}"), |b| {
        b.iter_batched(
            || pop.records.clone(),
            |records| {
                DatasetBuilder::new()
                    .today(Ymd::new(2026, 1, 1).unwrap())
                    .build(records)
                    .unwrap()
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
    drop(pop);

    let ds = dataset(people);
    let cfg = BlockingConfig::new();
    let mut g = c.benchmark_group("block");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("candidates/{n}"), |b| {
        b.iter(|| Candidates::find(black_box(&ds), &cfg).unwrap())
    });
    g.finish();

    let cands = Candidates::find(&ds, &cfg).unwrap();
    eprintln!("candidate pairs: {}", cands.pairs().len());
    let cmp = Comparator::new(&ds, cands.generic(), CompareConfig::new()).unwrap();

    let mut g = c.benchmark_group("compare");
    let sample: Vec<CandidatePair> = cands
        .pairs()
        .iter()
        .step_by(97)
        .take(100_000)
        .copied()
        .collect();
    g.throughput(Throughput::Elements(sample.len() as u64));
    g.bench_function("vectors/100k_candidates_1_thread", |b| {
        b.iter(|| {
            sample
                .iter()
                .map(|p| cmp.compare(p.a, p.b))
                .fold(0u64, |acc, v| {
                    acc ^ u64::from(v.level(idstitch::Field::Phone).is_exact())
                })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("train");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("u_sample/1M_pairs", |b| {
        b.iter(|| UCounts::sample(&cmp, 1_000_000, 7))
    });
    let patterns = Patterns::from_candidates(&cmp, &cands);
    let u = UCounts::sample(&cmp, 1_000_000, 7);
    eprintln!(
        "EM patterns: {} from {} pairs",
        patterns.len(),
        patterns.pairs()
    );
    g.bench_function("em_fit", |b| {
        b.iter(|| Model::fit(&patterns, &u, n as u64, &TrainConfig::new()).unwrap())
    });
    g.throughput(Throughput::Elements(cands.pairs().len() as u64));
    g.bench_function("patterns/all_candidates", |b| {
        b.iter(|| Patterns::from_candidates(&cmp, &cands))
    });
    g.finish();

    let (model, _) = Model::fit(&patterns, &u, n as u64, &TrainConfig::new()).unwrap();
    let target = if people >= 100_000 {
        10_000_000
    } else {
        100_000
    };
    let pairs: Vec<CandidatePair> = cands
        .pairs()
        .iter()
        .cycle()
        .take(target.max(cands.pairs().len()))
        .copied()
        .collect();
    let mut g = c.benchmark_group("score");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(pairs.len() as u64));
    g.bench_function(format!("pairs/{}", pairs.len()), |b| {
        b.iter(|| {
            model
                .score_pairs(&cmp, cands.rules(), black_box(&pairs))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, matching);
criterion_main!(benches);

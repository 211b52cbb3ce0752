//! Clustering: the union-find alone (10M random edges over 10M elements, one
//! core), and full constrained clustering of the synthetic population's
//! scored pairs (about 1M records; `IDSTITCH_BENCH_PEOPLE` sets the size).

// Tests and benchmarks may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/generate/synth.rs"]
mod synth;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use idstitch::{
    BlockingConfig, Candidates, ClusterConfig, Clusters, Comparator, CompareConfig, DatasetBuilder,
    Model, TrainConfig, UnionFind, Ymd,
};

/// Full size under `cargo bench`; small when `cargo test` smoke-runs benches.
fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn union_find(c: &mut Criterion) {
    let n: u32 = if bench_mode() { 10_000_000 } else { 10_000 };
    let mut rng = synth::Rng(1);
    let edges: Vec<(u32, u32)> = (0..n)
        .map(|_| (rng.below(n as usize) as u32, rng.below(n as usize) as u32))
        .collect();
    let mut g = c.benchmark_group("union_find");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(u64::from(n)));
    g.bench_function(format!("random_edges/{n}"), |b| {
        b.iter(|| {
            let mut uf = UnionFind::new(n as usize);
            for &(a, b) in black_box(&edges) {
                uf.union(a, b);
            }
            uf.sets()
        })
    });
    g.finish();
}

fn clustering(c: &mut Criterion) {
    let people = if bench_mode() {
        std::env::var("IDSTITCH_BENCH_PEOPLE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(360_000)
    } else {
        2_000
    };
    let pop = synth::population(people, 42);
    let ds = DatasetBuilder::new()
        .today(Ymd::new(2026, 1, 1).unwrap())
        .build(pop.records)
        .unwrap();
    let cands = Candidates::find(&ds, &BlockingConfig::new()).unwrap();
    let cmp = Comparator::new(&ds, cands.generic(), CompareConfig::new()).unwrap();
    let (model, _) = Model::train(&cmp, &cands, &TrainConfig::new()).unwrap();
    let scored = model.score(&cmp, &cands).unwrap();
    let links = scored.iter().filter(|s| s.probability >= 0.5).count();
    eprintln!(
        "{} records, {} scored pairs, {links} at or above 0.5",
        ds.len(),
        scored.len()
    );
    let cfg = ClusterConfig::new();
    let mut g = c.benchmark_group("cluster");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(ds.len() as u64));
    g.bench_function(format!("constrained/{}_records", ds.len()), |b| {
        b.iter(|| {
            Clusters::build(
                &ds,
                black_box(&scored),
                cands.rules(),
                cands.generic(),
                &cfg,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, union_find, clustering);
criterion_main!(benches);

//! Shared by the benchmarks that run on the synthetic population.

/// The population size: `IDSTITCH_BENCH_PEOPLE` (default 360,000 people ≈
/// 1M records); `cargo test` runs each benchmark once as a smoke test
/// (without `--bench`), on 2,000 people.
pub fn people() -> usize {
    if !std::env::args().any(|a| a == "--bench") {
        return 2_000;
    }
    std::env::var("IDSTITCH_BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(360_000)
}

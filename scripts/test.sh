#!/usr/bin/env bash
# The one test command: Rust unit, integration and doc tests, then a short
# fuzz smoke run of every normaliser target.
#
#   bash scripts/test.sh
#
# Environment:
#   IDSTITCH_FUZZ_SECONDS  seconds per fuzz target (default 20; 0 skips fuzzing)
#   IDSTITCH_FUZZ_SEED     libFuzzer seed (default 1)
#
# The smoke run is reproducible: a fixed seed and an empty corpus each time,
# so a slower machine explores a prefix of what a faster one did and a run
# that passed here passes in CI. Real fuzzing campaigns run
# `cargo fuzz run TARGET` without these settings (see fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds="${IDSTITCH_FUZZ_SECONDS:-20}"
fuzz_seed="${IDSTITCH_FUZZ_SEED:-1}"

echo "== cargo test (unit, integration, examples)"
cargo test --all-targets --locked
echo "== cargo test --doc"
cargo test --doc --locked

if [ "$fuzz_seconds" -gt 0 ]; then
  echo "== fuzz smoke: ${fuzz_seconds}s per target"
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
  fi
  # cargo-fuzz needs nightly-only compiler flags (sanitizer coverage); the
  # stable toolchain accepts them with RUSTC_BOOTSTRAP.
  export RUSTC_BOOTSTRAP=1
  log="$(mktemp)"
  corpus="$(mktemp -d)"
  trap 'rm -rf "$log" "$corpus"' EXIT
  for target in $(cd fuzz && cargo fuzz list); do
    echo "-- fuzz $target"
    mkdir -p "$corpus/$target"
    if ! (cd fuzz && cargo fuzz run "$target" --sanitizer none "$corpus/$target" -- \
          -seed="$fuzz_seed" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048) >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "fuzz target $target failed"
      exit 1
    fi
    grep -E "^Done [0-9]+ runs" "$log" || tail -n 3 "$log"
  done
fi
echo "all tests passed"

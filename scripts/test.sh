#!/usr/bin/env bash
# The one test command: Rust unit, integration and doc tests, then a short
# fuzz smoke run of every normaliser target.
#
#   bash scripts/test.sh
#
# Environment:
#   IDSTITCH_FUZZ_SECONDS  seconds per fuzz target (default 20; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds="${IDSTITCH_FUZZ_SECONDS:-20}"

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
  trap 'rm -f "$log"' EXIT
  for target in $(cd fuzz && cargo fuzz list); do
    echo "-- fuzz $target"
    if ! (cd fuzz && cargo fuzz run "$target" --sanitizer none -- \
          -max_total_time="$fuzz_seconds" -rss_limit_mb=2048) >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "fuzz target $target failed"
      exit 1
    fi
    grep -E "^Done [0-9]+ runs" "$log" || tail -n 3 "$log"
  done
fi
echo "all tests passed"

#!/usr/bin/env bash
# The one test command: Rust unit, integration and doc tests, the Python
# bindings' tests (built with maturin in a virtualenv under target/), then a
# short fuzz smoke run of every fuzz target.
#
#   bash scripts/test.sh
#
# Environment:
#   IDSTITCH_PYTHON        0 skips the Python tests (default 1; needs python3 and PyPI)
#   IDSTITCH_SPARK         0 skips the Spark test (default 1; installs pyspark from
#                          PyPI into the same virtualenv; needs Java 17 on the PATH)
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

if [ "${IDSTITCH_PYTHON:-1}" != 0 ]; then
  echo "== Python bindings: maturin develop + pytest"
  root="$(pwd)"
  venv="$root/target/pyvenv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.7,<2" "pyarrow>=14" "pandas>=1.5" "pytest>=7"
  spark=0
  if [ "${IDSTITCH_SPARK:-1}" != 0 ]; then
    if command -v java >/dev/null 2>&1; then
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pyspark>=4.0,<5"
      spark=1
    else
      echo "no java on the PATH: the Spark test is skipped"
    fi
  fi
  (
    cd examples/python
    export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
    maturin develop --release --locked --quiet
    python -m pytest -q tests
    python -m pytest -q --doctest-modules --pyargs idstitch
    if [ "$spark" = 1 ]; then
      echo "== Spark: local[2] job vs dedup run"
      python -m pytest -q -p no:cacheprovider ../spark/test_spark.py
    fi
  )
fi

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

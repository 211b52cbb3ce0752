#!/usr/bin/env bash
# Installs Splink 5 (DuckDB) and the idstitch bindings in a virtualenv under
# target/, builds the binaries, and runs the side-by-side comparison.
#
#   bash benches/compare/run.sh [--people 34000 340000] [--repeat 3] [--json results.json]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="$(pwd)/target/compare-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "splink>=5,<6" "maturin>=1.7,<2" "pyarrow>=14" "pandas>=1.5"
(cd examples/python && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop --release --locked --quiet)
"$venv/bin/python" benches/compare/compare.py "$@"

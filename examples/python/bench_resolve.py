"""Whole-run benchmark: the Python bindings against the Rust binary on the
same generated file, in one process run (absolute times on shared machines
are noisy; the ratio is the result).

    python examples/python/bench_resolve.py --people 360000   # ~1.06M records

Measures, for the same CSV: ``dedup run`` (read CSV, resolve, write
clusters.csv) as a subprocess, and from Python ``pyarrow.csv.read_csv`` plus
``Resolver.resolve`` on the Arrow table (clusters kept as a pyarrow Table,
then written with ``pyarrow.csv``). Checks both give the same clusters.
"""

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

import idstitch

ROOT = Path(__file__).resolve().parents[2]


def build():
    subprocess.run(["cargo", "build", "--release", "--locked", "--example", "dedup",
                    "--example", "generate"], cwd=ROOT, check=True)
    return ROOT / "target/release/examples/dedup", ROOT / "target/release/examples/generate"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=360_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is reported")
    args = ap.parse_args()
    dedup, generate = build()
    with tempfile.TemporaryDirectory() as tmp:
        src, truth = os.path.join(tmp, "records.csv"), os.path.join(tmp, "truth.csv")
        subprocess.run([str(generate), "--people", str(args.people), "--seed", str(args.seed),
                        "--out", src, "--truth", truth], check=True)
        with open(src, encoding="utf-8") as f:
            header = f.readline().strip().split(",")
        rust_times, py_times = [], []
        for _ in range(args.repeat):
            out = os.path.join(tmp, "clusters.csv")
            t = time.perf_counter()
            subprocess.run([str(dedup), "run", src, "--out", out], check=True,
                           stderr=subprocess.DEVNULL)
            rust_times.append(time.perf_counter() - t)

            t = time.perf_counter()
            table = pacsv.read_csv(src, convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header}))
            t_read = time.perf_counter() - t
            result = idstitch.Resolver().resolve(table)
            t_resolve = time.perf_counter() - t - t_read
            pacsv.write_csv(result, os.path.join(tmp, "py_clusters.csv"))
            py_times.append((time.perf_counter() - t, t_read, t_resolve))
        rust_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        py_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with open(os.path.join(tmp, "clusters.csv"), encoding="utf-8") as f:
            rust = [(r["record_id"], int(r["cluster_id"])) for r in csv.DictReader(f)]
        same = rust == list(zip(result.column("record_id").to_pylist(),
                                result.column("cluster_id").to_pylist()))
    r = min(rust_times)
    p, p_read, p_resolve = min(py_times)
    print(f"records                  {table.num_rows:>10,}")
    print(f"dedup run (Rust binary)  {r:>10.2f} s   peak {rust_peak_mb:,.0f} MB")
    print(f"Python read_csv+resolve  {p:>10.2f} s   peak {py_peak_mb:,.0f} MB "
          f"(read {p_read:.2f} s, resolve {p_resolve:.2f} s)")
    print(f"overhead                 {100 * (p - r) / r:>+10.1f} %")
    print(f"same clusters            {same}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()

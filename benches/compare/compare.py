#!/usr/bin/env python3
"""idstitch and Splink 5 (DuckDB) side by side on generated omnichannel data.

    bash benches/compare/run.sh            # installs what it needs, then runs this

For each size (100k and 1M records by default) it generates one file with
`examples/generate` (fixed seed), then in one run, each tool `--repeat`
times in turn (3 by default; the median wall time is reported, as shared
machines are noisy, with the range, the largest peak memory and the F1 of
the last run):

- idstitch: `dedup run` as a subprocess (CSV in, clusters out, the whole job);
- Splink 5.0 with DuckDB: a reasonable configuration for this data (below),
  also a subprocess, so both peak memories are measured the same way.

Splink gets the identifiers already normalised by idstitch's own
normalisers (phones E.164, e-mails canonical, names lower-case, dates ISO;
multi-valued cells split to their first value), because without that its
exact comparisons would miss most phone matches; that normalisation is not
counted in Splink's time. idstitch's time includes its normalisation.
Both are scored by the same function (pairwise and B-cubed F1).
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEDUP = ROOT / "target/release/examples/dedup"
GENERATE = ROOT / "target/release/examples/generate"


def pairs(n):
    return n * (n - 1) // 2


def evaluate(predicted, truth):
    cells = Counter((predicted[i], truth[i]) for i in truth)
    ps, ts = Counter(predicted[i] for i in truth), Counter(truth.values())
    correct = sum(pairs(n) for n in cells.values())
    claimed, real = sum(pairs(n) for n in ps.values()), sum(pairs(n) for n in ts.values())
    p, r = (correct / claimed if claimed else 1.0), (correct / real if real else 1.0)
    bp = sum(n * n / ps[c] for (c, _), n in cells.items()) / len(truth)
    br = sum(n * n / ts[t] for (_, t), n in cells.items()) / len(truth)
    f = lambda a, b: 2 * a * b / (a + b) if a + b else 0.0
    return f(p, r), f(bp, br)


def timed(cmd):
    """Wall seconds and peak RSS (MB) of a subprocess, measured alone by
    GNU time (a resource usage of children would include earlier ones)."""
    t = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if res.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{res.stderr[-3000:]}")
    return wall, int(res.stderr.strip().splitlines()[-1]) / 1024


def splink_input(src, dst):
    """The generated CSV with identifiers normalised by idstitch, one value per field."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    import idstitch

    with open(src, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    t = pacsv.read_csv(src, convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}))
    first = lambda col: pa.array([v.split(";")[0] if v else None for v in t.column(col).to_pylist()], pa.string())
    out = {"record_id": t.column("record_id")}
    for col, kind in (("email", "email"), ("phone", "phone"), ("loyalty_id", "loyalty"),
                      ("device_id", "device"), ("dob", "dob"), ("first_name", "name"),
                      ("last_name", "name"), ("city", "name")):
        out[col] = idstitch.normalize_many(kind, first(col)).combine_chunks()
    # Full names fill the name columns where they are empty (surname first
    # in call-centre records): a reasonable effort, not idstitch's splitter.
    full = [(v or "").split() for v in t.column("full_name").to_pylist()]
    fn, ln = out["first_name"].to_pylist(), out["last_name"].to_pylist()
    for i, parts in enumerate(full):
        if len(parts) >= 2 and fn[i] is None and ln[i] is None:
            ln[i], fn[i] = parts[0].lower(), parts[1].lower()
    out["first_name"], out["last_name"] = pa.array(fn, pa.string()), pa.array(ln, pa.string())
    pacsv.write_csv(pa.table(out), dst)


SPLINK_JOB = r'''
import sys, time
import pandas as pd
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

src, dst = sys.argv[1], sys.argv[2]
df = pd.read_csv(src, dtype=str, keep_default_na=False).replace("", None)
settings = SettingsCreator(
    link_type="dedupe_only",
    unique_id_column_name="record_id",
    comparisons=[
        cl.NameComparison("first_name"),
        cl.NameComparison("last_name"),
        cl.DateOfBirthComparison("dob", input_is_string=True),
        cl.ExactMatch("email"),
        cl.ExactMatch("phone"),
        cl.ExactMatch("loyalty_id"),
        cl.ExactMatch("device_id"),
        cl.ExactMatch("city"),
    ],
    blocking_rules_to_generate_predictions=[
        block_on("email"), block_on("phone"), block_on("loyalty_id"), block_on("device_id"),
        block_on("last_name", "dob"), block_on("first_name", "dob"),
    ],
)
linker = Linker(DuckDBAPI().register(df), settings, log_level=40)
linker.training.estimate_probability_two_random_records_match(
    [block_on("email"), block_on("phone"), block_on("first_name", "last_name", "dob")], recall=0.7)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
# One EM session per blocking rule; a session that underflows on this data
# (Splink 5 raises for an m below 1e-300) leaves the earlier estimates.
for rule in (block_on("phone"), block_on("email"), block_on("last_name", "dob")):
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    except ValueError as e:
        print(f"EM on {rule} skipped: {e}", file=sys.stderr)
pred = linker.inference.predict(threshold_match_probability=0.5)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5).as_pandas_dataframe()
clusters[["record_id", "cluster_id"]].to_csv(dst, index=False)
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, nargs="+", default=[34_000, 340_000],
                    help="people per run (about 3 records each)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each tool per size, alternating; the median time is reported")
    ap.add_argument("--json", help="also write the results as JSON")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked", "--example", "dedup",
                    "--example", "generate"], cwd=ROOT, check=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        job = os.path.join(tmp, "splink_job.py")
        Path(job).write_text(SPLINK_JOB)
        for people in args.people:
            src, truth_path = os.path.join(tmp, "g.csv"), os.path.join(tmp, "t.csv")
            subprocess.run([str(GENERATE), "--people", str(people), "--seed", "1", "--out", src,
                            "--truth", truth_path], check=True, stderr=subprocess.DEVNULL)
            with open(truth_path, encoding="utf-8") as f:
                truth = {r["record_id"]: r["person_id"] for r in csv.DictReader(f)}
            out = os.path.join(tmp, "ids.csv")
            sp_in, sp_out = os.path.join(tmp, "splink_in.csv"), os.path.join(tmp, "splink_out.csv")
            splink_input(src, sp_in)
            runs = {"idstitch": [], "splink": []}
            for _ in range(max(args.repeat, 1)):
                runs["idstitch"].append(timed([str(DEDUP), "run", src, "--out", out]))
                runs["splink"].append(timed([sys.executable, job, sp_in, sp_out]))
            for tool, path in (("idstitch", out), ("splink", sp_out)):
                with open(path, encoding="utf-8") as f:
                    pred = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(f)}
                f1, b3 = evaluate(pred, truth)
                walls = sorted(w for w, _ in runs[tool])
                rows.append(dict(records=len(truth), tool=tool, seconds=statistics.median(walls),
                                 runs=walls, peak_mb=max(p for _, p in runs[tool]),
                                 pair_f1=f1, b3_f1=b3))
                print(rows[-1], flush=True)
    print(f"\n{'records':>9} {'tool':<9} {'time s':>8} {'runs s':>13} {'peak MB':>8} {'pair F1':>8} "
          f"{'B3 F1':>7} {'speed-up':>9}")
    for i, r in enumerate(rows):
        ratio = "" if r["tool"] != "idstitch" else f"{rows[i + 1]['seconds'] / r['seconds']:.1f}x"
        spread = f"{r['runs'][0]:.2f}-{r['runs'][-1]:.2f}"
        print(f"{r['records']:>9,} {r['tool']:<9} {r['seconds']:>8.2f} {spread:>13} {r['peak_mb']:>8,.0f} "
              f"{r['pair_f1']:>8.4f} {r['b3_f1']:>7.4f} {ratio:>9}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

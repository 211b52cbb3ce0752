"""Resolve customer records with Apache Spark, the idstitch core in the executors.

    python examples/spark/idstitch_spark.py records.csv --out clusters.parquet

Reads a CSV with the columns ``dedup run`` reads (``record_id, source,
first_name, …``), writes ``record_id, cluster_id`` as Parquet — the same
partition as ``dedup run`` on the same file with the same model. Every
step is a Spark DataFrame operation; the Rust core runs inside the
executors on Arrow batches (``mapInArrow``, ``applyInArrow``), never on
per-row Python objects:

1. keys: each record's identifier values and name-based blocking keys;
2. term frequencies: counted over all records, frozen into the model
   (trained in the driver on a sample, or loaded), broadcast as JSON;
3. generic values: every value's holders grouped, judged in the executors;
4. blocks: a block within its rule's bound yields all its pairs (a
   self-join); each larger block's members are grouped and paired by the
   batch code's sorted neighbourhood; a pair is credited to its first rule
   (``min``);
5. scoring: each pair joined with both records, scored in the executors;
6. links above the threshold, connected components by min-label
   propagation (DataFrame joins, until no label moves);
7. each component's records and links co-grouped, clustered under the
   constraints by the Rust clusterer.

``docs/SCALING.md`` describes what is shuffled at each step and why the
result equals the single-machine run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Dict, Iterator, List

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import idstitch

KEY_SCHEMA = "record_id string, key string, rule short, value boolean"
PAIR_SCHEMA = "a string, b string, rule short"


_RESOLVERS: Dict[tuple, idstitch.Resolver] = {}


def _resolver(settings: Dict, model_json: str | None = None) -> idstitch.Resolver:
    """One resolver per settings and model per Python worker: creating one
    checks every setting (a fraction of a millisecond), too slow per group."""
    key = (json.dumps(settings, sort_keys=True), model_json)
    r = _RESOLVERS.get(key)
    if r is None:
        r = idstitch.Resolver(**settings)
        if model_json is not None:
            r.load_model_json(model_json)
        _RESOLVERS[key] = r
    return r


def _records_only(table: pa.Table, columns: List[str]) -> pa.Table:
    return table.select(columns)


def connected_components(edges: DataFrame, max_rounds: int = 100) -> DataFrame:
    """``id, component`` for every vertex of an undirected edge list
    (``src, dst``): each vertex takes the smallest label among itself and
    its neighbours until no label moves; the component is its smallest
    vertex ID."""
    both = edges.select("src", "dst").union(edges.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
    both = both.distinct().localCheckpoint()
    labels = both.select(F.col("src").alias("id")).distinct().withColumn("label", F.col("id")).localCheckpoint()
    for _ in range(max_rounds):
        offered = both.join(labels, both.src == labels.id).select(F.col("dst").alias("id"), "label")
        nxt = offered.union(labels).groupBy("id").agg(F.min("label").alias("label")).localCheckpoint()
        moved = nxt.join(labels.withColumnRenamed("label", "old"), "id").filter(F.col("label") != F.col("old")).count()
        labels = nxt
        if moved == 0:
            return labels.withColumnRenamed("label", "component")
    raise RuntimeError(f"connected components did not settle in {max_rounds} rounds")


def resolve(spark: SparkSession, records: DataFrame, settings: Dict, *, model_json: str | None = None,
            sample: float = 1.0, seed: int = 7, log=print) -> DataFrame:
    """``record_id, cluster_id`` for every record of ``records`` (all columns
    strings, one record per row, ``record_id`` unique)."""
    columns = records.columns
    if "record_id" not in columns:
        raise ValueError("the records need a record_id column")
    records = records.localCheckpoint()
    t0 = time.time()

    # The model: loaded, or trained in the driver on a sample.
    # Not from the workers' cache: the UDFs below must not carry it along.
    driver = idstitch.Resolver(**settings)
    if model_json is not None:
        driver.load_model_json(model_json)
    if model_json is None:
        part = records if sample >= 1.0 else records.sample(fraction=sample, seed=seed)
        driver.fit(part.toArrow())
    tf_fields = json.loads(driver.model_json)["tf_fields"]

    def keys_fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        r = _resolver(settings)
        for b in batches:
            yield from r.record_keys(pa.Table.from_batches([b])).to_batches()

    def freq_fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        r = _resolver(settings)
        for b in batches:
            yield from r.frequency_keys(pa.Table.from_batches([b])).to_batches()

    keys = records.mapInArrow(keys_fn, KEY_SCHEMA).localCheckpoint()

    # Term frequencies: a global fact, counted over every record.
    counts = records.mapInArrow(freq_fn, "field string, key string").groupBy("field", "key").count().toArrow()
    for field in tf_fields:
        mine = counts.filter(pc.equal(counts["field"], field))
        driver.set_frequencies(field, mine["key"].to_pylist(), mine["count"].to_pylist())
    model = driver.model_json
    log(f"  model ready (frequencies frozen) {time.time() - t0:8.1f} s")

    # Generic values: judged over all holders of each value.
    def judge_fn(table: pa.Table) -> pa.Table:
        r = _resolver(settings)
        key = table["key"][0].as_py()
        return pa.table({"key": [key], "generic": [r.is_generic_value(key, _records_only(table, columns))]})

    # Only values with enough holders can be generic: the rest are never judged.
    values = keys.filter("value").select("record_id", "key")
    shared = values.groupBy("key").count().filter(F.col("count") >= driver.generic_min_records).select("key")
    generic_df = (values.join(shared, "key").join(records, "record_id")
                  .groupBy("key").applyInArrow(judge_fn, "key string, generic boolean")
                  .filter("generic").select("key").localCheckpoint())
    generic = [row.key for row in generic_df.collect()]
    log(f"  generic values {len(generic):>9} {time.time() - t0:8.1f} s")

    # Blocks: every member of each non-generic key, pairs formed as the
    # batch run forms them; each pair credited to its first rule.
    def block_fn(table: pa.Table) -> pa.Table:
        r = _resolver(settings)
        rule, key = table["rule"][0].as_py(), table["key"][0].as_py()
        pairs = r.block(rule, key, _records_only(table, columns))
        return pairs.append_column("rule", pa.array([rule] * pairs.num_rows, pa.int16()))

    # A block within its rule's bound yields all its pairs: a self-join.
    # Only blocks past it (sorted-neighbourhood windows) go to the executors.
    blocked = keys.filter("rule >= 0").join(generic_df, "key", "left_anti").select("record_id", "key", "rule")
    limits = spark.createDataFrame(
        [(i, driver.block_bounds(i)[0]) for i in range(len(driver.rules))], "rule short, limit long")
    sizes = (blocked.groupBy("rule", "key").count().filter("count >= 2")
             .join(F.broadcast(limits), "rule").localCheckpoint())
    small = blocked.join(sizes.filter("count <= limit").select("rule", "key"), ["rule", "key"])
    whole = (small.alias("x").join(small.alias("y"), ["rule", "key"])
             .filter(F.col("x.record_id") < F.col("y.record_id"))
             .select(F.col("x.record_id").alias("a"), F.col("y.record_id").alias("b"), "rule"))
    windowed = (blocked.join(sizes.filter("count > limit").select("rule", "key"), ["rule", "key"])
                .join(records, "record_id")
                .groupBy("rule", "key").applyInArrow(block_fn, PAIR_SCHEMA))
    pairs = (whole.unionByName(windowed)
             .groupBy("a", "b").agg(F.min("rule").alias("rule")).localCheckpoint())
    log(f"  candidate pairs {pairs.count():>8} {time.time() - t0:8.1f} s")

    # Scoring: both records joined to each pair, scored in the executors.
    side_a = records.select([F.col(c).alias(f"a_{c}") for c in columns])
    side_b = records.select([F.col(c).alias(f"b_{c}") for c in columns])
    joined = pairs.join(side_a, pairs.a == side_a.a_record_id).join(side_b, pairs.b == side_b.b_record_id)

    def score_fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        r = _resolver(settings, model)
        for b in batches:
            t = pa.Table.from_batches([b])
            both = pa.concat_tables([
                t.select([f"a_{c}" for c in columns]).rename_columns(columns),
                t.select([f"b_{c}" for c in columns]).rename_columns(columns),
            ])
            prob = r.score_pairs(both, t.select(["a", "b", "rule"]), generic)["probability"]
            yield from t.select(["a", "b", "rule"]).append_column("probability", prob).to_batches()

    threshold = driver.threshold
    scored = joined.mapInArrow(score_fn, PAIR_SCHEMA + ", probability float")
    links = scored.filter(F.col("probability") >= F.lit(threshold)).localCheckpoint()
    log(f"  links {links.count():>18} {time.time() - t0:8.1f} s")

    # Connected components of the link graph, then the constrained
    # clustering of each component by the Rust clusterer.
    comps = connected_components(links.select(F.col("a").alias("src"), F.col("b").alias("dst")))
    comps = comps.withColumnRenamed("id", "record_id")
    # Each side checkpointed: two plans of their own, so the co-grouping
    # keys are not the same column twice.
    comp_records = records.join(comps, "record_id").localCheckpoint()
    comp_links = links.join(comps.withColumnRenamed("record_id", "a"), "a").localCheckpoint()

    def cluster_fn(recs: pa.Table, lnk: pa.Table) -> pa.Table:
        r = _resolver(settings)
        labels = r.cluster_component(_records_only(recs, columns),
                                     lnk.select(["a", "b", "rule", "probability"]), generic)
        # An identity is named by its smallest record ID (Arrow kernels, no
        # Python object per row).
        first = labels.group_by("label").aggregate([("record_id", "min")])
        named = labels.join(first, "label")
        return pa.table({"record_id": named["record_id"], "cluster_id": named["record_id_min"]})

    clustered = (comp_records.groupBy("component").cogroup(comp_links.groupBy("component"))
                 .applyInArrow(cluster_fn, "record_id string, cluster_id string"))
    out = (records.select("record_id").join(clustered, "record_id", "left")
           .withColumn("cluster_id", F.coalesce(F.col("cluster_id"), F.col("record_id"))))
    return out


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input", help="records CSV (header row, dedup run's columns)")
    p.add_argument("--out", required=True, help="Parquet directory to write record_id, cluster_id")
    p.add_argument("--model", help="model JSON to use (else trained in the driver on --sample)")
    p.add_argument("--sample", type=float, default=1.0,
                   help="share of records to train on when no --model is given (default 1.0)")
    p.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    p.add_argument("--partitions", type=int, default=8, help="shuffle partitions (default 8)")
    p.add_argument("--threshold", type=float, default=0.5, help="link threshold (default 0.5)")
    args = p.parse_args(argv)
    settings = {"threshold": args.threshold}
    spark = (SparkSession.builder.master(args.master).appName("idstitch")
             .config("spark.sql.shuffle.partitions", str(args.partitions))
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.ui.enabled", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    t0 = time.time()
    records = spark.read.csv(args.input, header=True, inferSchema=False)
    model_json = None
    if args.model:
        with open(args.model, encoding="utf-8") as f:
            model_json = f.read()
    out = resolve(spark, records, settings, model_json=model_json, sample=args.sample,
                  log=lambda m: print(m, file=sys.stderr))
    out.write.mode("overwrite").parquet(args.out)
    print(f"idstitch_spark: {args.out} written in {time.time() - t0:.1f} s", file=sys.stderr)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

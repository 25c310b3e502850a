"""Similarity engine benchmark (``make bench``): this project vs Spark MLlib vs exact, on generated data.

For each ``--rows`` size, on one generated file in the real format (cached
under ``<data>/bench/``), extracted once with the pipeline's extract job:

- **this project**: the ``minhash`` + ``similarity_join`` transforms, in one
  Spark session shared by every measurement (wall time, median of repeats when
  a run is short; peak memory of Spark's processes; candidate pairs);
- **exact ground truth** off Spark (``benchmarks.exact_jaccard``): the recall@10
  of our recommendations on ``--sample-songs`` randomly drawn songs;
- **the single-machine limit**: ``implicit``'s exact all-pairs top-k over every
  song, and our similarity stage's time as a multiple of it.

On ``--seed-rows`` rows (1M by default), **the seed's setting**: the 10,000 most
frequent songs, Spark MLlib ``MinHashLSH(numHashTables=10)`` +
``approxSimilarityJoin(threshold=1.0)`` + top-10 per song, against this project's
engine on the same songs, both scored against the exact top-10 of every one of them.

By default the sizes are 250,000 and 1,000,000 rows, enough to print how the
time grows with rows; ``--rows 1000000,4000000,12900000`` is the full-scale run.
``--sweep`` measures recall vs time over a grid of engine parameters on the largest size;
``--dag`` runs the whole Airflow DAG (``make run``) on the largest file and on the seed's, times
``make demo`` and a plain ``pyarrow.csv`` read of the largest file, and prints issue #13's six
targets (``benchmarks.dag_targets``).

Usage: ``python -m benchmarks.bench_similarity [--rows 1000000,4000000,12900000] [--sweep [KNOBS]] [--dag]
[--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from benchmarks import exact_jaccard
from benchmarks.dag_targets import demo_seconds, print_targets, pyarrow_read_seconds, targets
from devtools.sample_data import write_sample_zip
from pipeline.settings import PROJECT_ROOT, data_dir
from spark_jobs.minhash import minhash_signatures, song_playlist_sets
from spark_jobs.similarity_join import default_band_groups, find_similar_songs, write_output
from warehouse.connection import configured_or_embedded, connect
from warehouse.sql_files import fetch_one_as_dict, run_sql_file

SEED_SETTING_SONGS = 10_000
SEED_SETTING_ROWS = 1_000_000
SEED_SETTING_TABLES = 10
RECALL_K = 10
SHORT_RUN_SECONDS = 60  # runs shorter than this are repeated and the median is reported
DEFAULT_ENGINE = {"num_perm": 128, "bands": 64, "rows_per_band": 2, "max_bucket": 20, "exact_work": 50_000}
SWEEP = (  # one knob at a time around the defaults
    [{"exact_work": value} for value in (0, 5_000, 20_000, 200_000)]
    + [{"bands": value, "num_perm": 2 * value} for value in (32, 48, 96)]
    + [{"rows_per_band": 1, "bands": 64, "num_perm": 64}]
    + [{"max_bucket": value} for value in (10, 50)]
)


class PeakMemory:
    """Peak resident memory (bytes) of a process and all its descendants, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.process, *self.process.children(recursive=True)]
                total = 0
                for process in processes:
                    try:
                        total += process.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
                self.peak = max(self.peak, total)
            except psutil.NoSuchProcess:
                return
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def gib(value: float) -> float:
    return round(value / 2**30, 2)


def spark_session(driver_memory: str) -> SparkSession:
    session = (
        SparkSession.builder.master("local[*]")
        .appName("bench_similarity")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", "16")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def prepared_run(rows: int, seed: int, bench_dir: Path) -> Path:
    """A run folder holding the extract job's outputs for a generated file of ``rows`` rows (made once, cached)."""
    zip_path = bench_dir / f"sample-{rows}-seed{seed}.zip"
    if not zip_path.exists():
        print(f"generating {rows:,} rows -> {zip_path}", flush=True)
        write_sample_zip(zip_path, rows, seed)
    run_dir = bench_dir / f"run-{rows}-seed{seed}"
    if not (run_dir / "metrics" / "extract.json").exists():
        print(f"extracting {zip_path.name} (spark-submit spark_jobs/extract.py)", flush=True)
        shutil.rmtree(run_dir, ignore_errors=True)
        subprocess.run(
            [
                str(Path(sys.executable).with_name("spark-submit")),
                "--master",
                "local[*]",
                "--driver-memory",
                "6g",
                "--conf",
                "spark.sql.shuffle.partitions=16",
                str(PROJECT_ROOT / "spark_jobs" / "extract.py"),
                "--source-zip",
                str(zip_path),
                "--run-dir",
                str(run_dir),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return run_dir


def run_engine(spark: SparkSession, playlist_tracks_path: str, out_dir: Path, engine: dict, top_k: int) -> dict:
    """This project's minhash + similarity_join on a playlist_tracks dataset; recommendations written to ``out_dir``."""
    started = time.perf_counter()
    signatures_path = str(out_dir / "signatures")
    playlist_tracks = spark.read.parquet(playlist_tracks_path)
    minhash_signatures(song_playlist_sets(playlist_tracks), engine["num_perm"]).write.mode("overwrite").parquet(
        signatures_path
    )
    minhash_seconds = time.perf_counter() - started
    output = find_similar_songs(
        spark,
        signatures_path,
        playlist_tracks_path,
        engine["bands"],
        engine["rows_per_band"],
        engine["max_bucket"],
        engine["exact_work"],
        top_k,
        groups=default_band_groups(spark, engine["bands"]),  # the job's default
    )
    # The job's own writer: one pass, recommendations and the tasks' counters apart.
    figures = write_output(output, str(out_dir / "similarity_join_output"), str(out_dir / "recommendations"), top_k)
    total = time.perf_counter() - started
    return {"seconds": total, "minhash_seconds": minhash_seconds, "join_seconds": total - minhash_seconds, **figures}


def timed_engine(spark, playlist_tracks_path: str, out_dir: Path, engine: dict, top_k: int) -> dict:
    """``run_engine``, repeated (median of 3) when a run is short, with the peak memory of Spark's processes."""
    runs = []
    with PeakMemory(os.getpid()) as memory:
        runs.append(run_engine(spark, playlist_tracks_path, out_dir, engine, top_k))
        if runs[0]["seconds"] < SHORT_RUN_SECONDS:
            runs += [run_engine(spark, playlist_tracks_path, out_dir, engine, top_k) for _ in range(2)]
    median = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return {
        **median,
        "repeats": len(runs),
        "all_seconds": [round(run["seconds"], 2) for run in runs],
        "peak_memory_gib": gib(memory.peak),
    }


def recommendations_by_row(index: exact_jaccard.SongIndex, recommendations_path: Path) -> dict[int, np.ndarray]:
    """Row -> recommended rows in rank order, from a recommendations Parquet dataset."""
    table = pq.read_table(recommendations_path, columns=["track_id", "recommended_track_id", "rank"])
    return recommended_rows(index, table.to_pandas())


def recommended_rows(index: exact_jaccard.SongIndex, recommendations: pd.DataFrame) -> dict[int, np.ndarray]:
    """Row -> recommended rows in rank order, from recommendations (track_id, recommended_track_id, rank)."""
    frame = recommendations.sort_values(["track_id", "rank"])
    rows = index.rows_of(frame["track_id"].to_numpy())
    recommended = index.rows_of(frame["recommended_track_id"].to_numpy())
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    return {int(rows[s]): recommended[s:e] for s, e in zip(starts, ends, strict=True)}


def seed_setting(spark: SparkSession, run_dir: Path, work: Path, seed: int) -> dict:
    """The seed's method vs this project on the 10,000 most frequent songs, both against the exact top-10."""
    songs = spark.read.parquet(str(run_dir / "datasets" / "songs"))
    top = songs.orderBy(F.col("playlist_count").desc(), "track_id").limit(SEED_SETTING_SONGS).select("track_id")
    edges_path = str(work / "seed_playlist_tracks")
    spark.read.parquet(str(run_dir / "datasets" / "playlist_tracks")).join(top, "track_id").write.mode(
        "overwrite"
    ).parquet(edges_path)
    index = exact_jaccard.load_index(edges_path)
    all_rows = np.arange(len(index.track_ids))

    ours = timed_engine(spark, edges_path, work / "seed_ours", DEFAULT_ENGINE, RECALL_K)
    ours["recall_at_10"] = exact_jaccard.mean_recall(
        index, all_rows, recommendations_by_row(index, work / "seed_ours" / "recommendations"), RECALL_K
    )
    mllib = mllib_minhash_lsh(spark, spark.read.parquet(edges_path), work / "seed_mllib", seed)
    mllib["recall_at_10"] = exact_jaccard.mean_recall(
        index, all_rows, recommendations_by_row(index, work / "seed_mllib"), RECALL_K
    )
    return {
        "songs": len(index.track_ids),
        "playlist_song_pairs": int(index.matrix.nnz),
        "ours": ours,
        "mllib": mllib,
        "speedup": mllib["seconds"] / ours["seconds"],
    }


def mllib_minhash_lsh(spark: SparkSession, edges: DataFrame, out_path: Path, seed: int) -> dict:
    """The seed's method: sparse song x playlist vectors, MinHashLSH(10 tables), approxSimilarityJoin(1.0), top-10."""
    from pyspark.ml.feature import CountVectorizer, MinHashLSH

    playlists = edges.groupBy("track_id").agg(F.collect_list(F.col("playlist_id").cast("string")).alias("playlists"))
    vectorizer = CountVectorizer(inputCol="playlists", outputCol="features", binary=True, vocabSize=1 << 24)
    vectors = vectorizer.fit(playlists).transform(playlists).select("track_id", "features").cache()
    vectors.count()  # the vectors are input, not timed

    with PeakMemory(os.getpid()) as memory:
        started = time.perf_counter()
        model = MinHashLSH(inputCol="features", outputCol="hashes", numHashTables=SEED_SETTING_TABLES, seed=seed)
        joined = model.fit(vectors).approxSimilarityJoin(vectors, vectors, 1.0, distCol="distance")
        pairs = joined.select(
            F.col("datasetA.track_id").alias("track_id"),
            F.col("datasetB.track_id").alias("recommended_track_id"),
            "distance",
        ).where("track_id != recommended_track_id")
        order = Window.partitionBy("track_id").orderBy("distance", "recommended_track_id")
        pairs.withColumn("rank", F.row_number().over(order)).where(f"rank <= {RECALL_K}").write.mode(
            "overwrite"
        ).parquet(str(out_path))
        seconds = time.perf_counter() - started
    vectors.unpersist()
    return {"seconds": seconds, "peak_memory_gib": gib(memory.peak)}


def scale_point(spark: SparkSession, rows: int, run_dir: Path, sample_songs: int, seed: int) -> dict:
    """This project at one size: time, memory, candidates, recall@10 on sampled songs, and the exact limit."""
    extract = json.loads((run_dir / "metrics" / "extract.json").read_text())
    engine = timed_engine(spark, str(run_dir / "datasets" / "playlist_tracks"), run_dir / "bench", DEFAULT_ENGINE, 20)
    index = exact_jaccard.load_index(str(run_dir / "datasets" / "playlist_tracks"))
    sample = np.random.default_rng(seed).choice(len(index.track_ids), min(sample_songs, len(index.track_ids)), False)
    recall = exact_jaccard.mean_recall(
        index, sample, recommendations_by_row(index, run_dir / "bench" / "recommendations"), RECALL_K
    )
    limit = exact_jaccard.single_machine_limit(index)
    return {
        "rows": rows,
        "extract_seconds": extract["seconds"],
        "songs": len(index.track_ids),
        "playlist_song_pairs": int(index.matrix.nnz),
        "engine": engine,
        "recall_at_10": recall,
        "recall_sample_songs": len(sample),
        "exact_limit_seconds": limit,
        "similarity_vs_limit": engine["seconds"] / limit,
    }


def sweep(spark: SparkSession, run_dir: Path, sample_songs: int, seed: int, knobs: set[str] | None) -> list[dict]:
    """Recall@10 vs time for the defaults and each variation in ``SWEEP`` (those changing ``knobs``), on one size."""
    index = exact_jaccard.load_index(str(run_dir / "datasets" / "playlist_tracks"))
    sample = np.random.default_rng(seed).choice(len(index.track_ids), min(sample_songs, len(index.track_ids)), False)
    neighbours = exact_jaccard.exact_neighbours(index, sample)
    points = []
    changes = [change for change in SWEEP if knobs is None or set(change) & knobs]
    for change in [{}, *changes]:
        engine = {**DEFAULT_ENGINE, **change}
        result = run_engine(spark, str(run_dir / "datasets" / "playlist_tracks"), run_dir / "sweep", engine, 20)
        recommended = recommendations_by_row(index, run_dir / "sweep" / "recommendations")
        recalls = [
            exact_jaccard.recall_at_k(n, recommended.get(row, np.empty(0, dtype=np.int64)), RECALL_K)
            for row, n in zip(sample.tolist(), neighbours, strict=True)
        ]
        recall = float(np.mean([r for r in recalls if r is not None]))
        point = {
            **engine,
            "changed": change or "defaults",
            "seconds": result["seconds"],
            "songs_exact": result["songs_exact"],
            "lsh_candidate_pairs": result["lsh_candidate_pairs"],
            "recall_at_10": recall,
        }
        label = ", ".join(f"{key}={value}" for key, value in change.items()) or "defaults"
        print(
            f"  sweep {label:<36}: {result['seconds']:6.1f} s, {result['songs_exact']:>9,} songs exact, "
            f"{result['lsh_candidate_pairs']:>12,} LSH candidates, recall@10 {recall:.4f}",
            flush=True,
        )
        points.append(point)
    return points


def whole_dag(zip_path: Path) -> dict:
    """``make run`` on a local zip: the whole DAG's wall time, the peak memory of all its processes, and from
    the live version's record: its stage seconds, DAG run and what it published."""
    command = [
        sys.executable,
        "-m",
        "devtools.local_run",
        "--source-url",
        zip_path.as_uri(),
        "--params",
        "force=true",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with PeakMemory(process.pid) as memory:
        output, _ = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"the DAG run failed:\n{output[-4000:]}")
    with closing(connect(configured_or_embedded(data_dir()))) as db, db, db.cursor() as cursor:
        run_sql_file(cursor, "select_live_run.sql")
        live = fetch_one_as_dict(cursor) or {}
    return {
        "seconds": seconds,
        "peak_memory_gib": gib(memory.peak),
        "stage_seconds": live.get("stage_seconds"),
        "dag_run_id": live.get("dag_run_id"),
        "songs_published": live.get("songs"),
        "pairs_published": live.get("pairs_published"),
    }


def print_report(report: dict) -> None:
    seed = report.get("seed_setting")
    if seed:
        rows = seed.get("rows", report["rows"][0])
        print(f"\nIssue #6's target 1 - the seed's setting: {seed['songs']:,} most frequent songs of {rows:,} rows")
        print(f"{'method':<44}{'seconds':>9}{'peak GiB':>10}{'recall@10':>11}")
        print(
            f"{'Spark MLlib MinHashLSH(10) + approxSimilarityJoin':<44}{seed['mllib']['seconds']:>9.1f}"
            f"{seed['mllib']['peak_memory_gib']:>10}{seed['mllib']['recall_at_10']:>11.4f}"
        )
        print(
            f"{'this project (minhash + similarity_join)':<44}{seed['ours']['seconds']:>9.1f}"
            f"{seed['ours']['peak_memory_gib']:>10}{seed['ours']['recall_at_10']:>11.4f}"
        )
        print(
            f"speed-up: {seed['speedup']:.1f}x (target >= 10x), recall@10 {seed['ours']['recall_at_10']:.4f} "
            "(target >= 0.99)"
        )
    print("\nIssue #6's targets 2 and 3 - every song in >= 2 playlists, by size")
    print(
        f"{'rows':>12}{'songs':>10}{'extract s':>11}{'ours s':>9}{'s/M rows':>10}{'pairs considered':>18}"
        f"{'peak GiB':>10}{'recall@10':>11}{'exact s':>9}{'x exact':>9}"
    )
    for point in report["scale"]:
        engine = point["engine"]
        print(
            f"{point['rows']:>12,}{point['songs']:>10,}{point['extract_seconds']:>11.1f}{engine['seconds']:>9.1f}"
            f"{engine['seconds'] / point['rows'] * 1e6:>10.1f}{engine['candidate_pairs']:>18,}"
            f"{engine['peak_memory_gib']:>10}{point['recall_at_10']:>11.4f}{point['exact_limit_seconds']:>9.1f}"
            f"{point['similarity_vs_limit']:>9.1f}"
        )
    last = report["scale"][-1] if report["scale"] else None
    if last:
        print(
            f"largest size: recall@10 {last['recall_at_10']:.4f} (target >= 0.95 at 12.9M rows); "
            f"minhash + similarity_join {last['engine']['seconds']:.1f} s = {last['similarity_vs_limit']:.1f}x "
            "the exact limit (target <= 4x at 12.9M rows)"
        )
    if len(report["scale"]) > 1:
        first, last = report["scale"][0], report["scale"][-1]
        growth = (last["engine"]["seconds"] / first["engine"]["seconds"]) / (last["rows"] / first["rows"])
        print(
            f"time grows {growth:.2f}x as fast as rows from {first['rows']:,} to {last['rows']:,} "
            "(<= 1 is linear or better)"
        )
    if report.get("dag"):
        for point in (report["dag"]["seed"], report["dag"]["largest"]):
            if point:
                stages = ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in point["stage_seconds"].items())
                print(f"\nwhole DAG on {point['rows']:,} rows: {point['dag_seconds']:.0f} s\n  {stages}")
        print_targets(report["dag"]["targets"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="250000,1000000", help="comma-separated sizes (default 250000,1000000)")
    parser.add_argument(
        "--seed-rows", type=int, default=SEED_SETTING_ROWS, help="size of the seed's setting (default 1000000)"
    )
    parser.add_argument("--seed", type=int, default=5, help="generator and sampling seed (default 5)")
    parser.add_argument("--sample-songs", type=int, default=2000, help="songs whose recall is measured (default 2000)")
    parser.add_argument("--driver-memory", default="8g", help="Spark driver memory (default 8g)")
    parser.add_argument("--no-seed-setting", action="store_true", help="skip the MLlib comparison")
    parser.add_argument(
        "--sweep",
        nargs="?",
        const="all",
        help="also sweep the engine parameters on the largest size (all, or a comma-separated list such as exact_work)",
    )
    parser.add_argument("--dag", action="store_true", help="also run the whole DAG on the largest size")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.sweep and args.sweep != "all" and not set(args.sweep.split(",")) <= set(DEFAULT_ENGINE):
        parser.error(f"--sweep takes 'all' or knobs among {', '.join(DEFAULT_ENGINE)}, not {args.sweep!r}")
    sizes = sorted(int(size.replace("_", "")) for size in args.rows.split(","))

    bench_dir = data_dir() / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    path = args.json or bench_dir / "bench-similarity.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "rows": sizes,
        "engine": DEFAULT_ENGINE,
        "machine": {"cores": os.cpu_count(), "memory_gib": gib(psutil.virtual_memory().total)},
        "scale": [],
    }

    def save() -> None:
        """Written after every measurement, so a stopped run keeps what it measured."""
        path.write_text(json.dumps(report, indent=2, default=float) + "\n")

    needed = sizes if args.no_seed_setting else sorted({*sizes, args.seed_rows})
    runs = {rows: prepared_run(rows, args.seed, bench_dir) for rows in needed}
    spark = spark_session(args.driver_memory)
    if not args.no_seed_setting:
        print(f"seed setting on {args.seed_rows:,} rows", flush=True)
        report["seed_setting"] = seed_setting(spark, runs[args.seed_rows], runs[args.seed_rows] / "seed", args.seed)
        report["seed_setting"]["rows"] = args.seed_rows
        save()
    for rows in sizes:
        print(f"this project on {rows:,} rows", flush=True)
        report["scale"].append(scale_point(spark, rows, runs[rows], args.sample_songs, args.seed))
        save()
    if args.sweep:
        print(f"parameter sweep on {sizes[-1]:,} rows", flush=True)
        knobs = None if args.sweep == "all" else set(args.sweep.split(","))
        report["sweep"] = sweep(spark, runs[sizes[-1]], args.sample_songs, args.seed, knobs)
        save()
    spark.stop()
    if args.dag:
        # bench_scale imports this module: it is loaded here, once this one is.
        from benchmarks.bench_scale import scale_point as whole_dag_point

        largest_zip = bench_dir / f"sample-{sizes[-1]}-seed{args.seed}.zip"
        report["dag"] = {"pyarrow_read_seconds": pyarrow_read_seconds(largest_zip)}
        report["dag"]["seed"] = (
            None if args.no_seed_setting else whole_dag_point(args.seed_rows, args.seed, args.sample_songs)
        )
        report["dag"]["largest"] = whole_dag_point(sizes[-1], args.seed, args.sample_songs)
        save()
        print("make demo", flush=True)
        report["dag"]["demo_seconds"] = demo_seconds()
        report["dag"]["targets"] = targets(report)
        save()
    print_report(report)
    print(f"\nfigures written to {path}")


if __name__ == "__main__":
    main()

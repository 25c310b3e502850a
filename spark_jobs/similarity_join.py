"""Similar songs: LSH banding over MinHash signatures, then exact Jaccard of the candidates.

Inputs (run folder): ``datasets/signatures`` (track_id, signature) from the
minhash job and ``datasets/playlist_tracks`` (playlist_id, track_id).
Output: ``datasets/recommendations`` (track_id, recommended_track_id, rank,
similarity, shared_playlists): for every song with at least one candidate, its
``--top-k`` most similar songs, and ``metrics/similarity_join.json`` (the
counters come from the tasks' output rows, ``datasets/similarity_join_output``,
so they count every committed task once).

How (details in ``similarity/lsh_index.py``): each Spark Python worker loads
the signatures and playlist sets from the run folder once and builds the LSH
index (band buckets, big buckets cut into chunks of at most ``--max-bucket``
alike songs); songs whose playlists hold few songs in all (``--exact-work``)
are scored against every co-member instead. The songs are split into tasks of
``--songs-per-task`` songs and each task finds its songs' candidates in the
index, scores them with their
exact Jaccard similarity and keeps the top k, all in vectorised numpy through
``mapInArrow``. No candidate pair is shuffled or sent to the driver: the only
data that moves are the songs' ids in and the recommendations out. The index
is the same in every worker (the pattern of a broadcast join): it must fit a
worker's memory, about 1 GB for the whole dataset at 64 bands.
"""

from __future__ import annotations

import argparse
import math
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.run_folder import RunFolder
from similarity.lsh_index import SongIndex
from spark_jobs.session import build_session

RECOMMENDATION_COLUMNS = ("track_id", "recommended_track_id", "rank", "similarity", "shared_playlists")
QUERY_COUNTERS = (
    "songs_queried", "songs_exact", "songs_lsh", "pair_instances", "lsh_candidate_pairs", "candidate_pairs",
    "scored_pairs",
)  # fmt: skip
TASK_COUNTERS = ("tasks", "index_builds")  # index_builds: one per Python worker when the cache works
INDEX_FIGURES = ("buckets", "buckets_cut", "largest_bucket", "largest_chunk", "chunk_pairs")  # BandStats fields
# Each task's output: its recommendations (kind "recommendation") and, last, one row of its counters
# (kind "task_counters"). Counters travel with the data, so a retried or speculative task's counts are
# kept exactly when its output is (accumulators updated in transformations would count it twice).
OUTPUT_SCHEMA = (
    "kind string, track_id long, recommended_track_id long, rank int, similarity double, shared_playlists int, "
    "counters struct<" + ", ".join(f"{name}: long" for name in QUERY_COUNTERS + TASK_COUNTERS + INDEX_FIGURES) + ">"
)
_ARROW_COUNTERS = pa.struct([(name, pa.int64()) for name in QUERY_COUNTERS + TASK_COUNTERS + INDEX_FIGURES])


@dataclass(frozen=True)
class IndexSpec:
    """Where a worker finds the index's inputs, and how to band them (the cache key of the built index)."""

    signatures_path: str
    playlist_tracks_path: str
    bands: int
    rows_per_band: int
    max_bucket: int
    exact_work: int
    written_at_ns: int  # when the signatures were written: rewritten inputs mean a new index


_INDEXES: dict[IndexSpec, SongIndex] = {}


def require_shared_data(*paths: str) -> None:
    """The index is read by each executor straight from the run folder (pyarrow, not through Spark):
    the data directory must be the same shared path on every Spark worker. Say so when it is not."""
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(
                f"{path} is not visible on Spark worker {socket.gethostname()}: the data directory "
                "(SPOTIFY_RECS_DATA_DIR) must be one shared file system, at the same path, on the Airflow "
                "workers and every Spark worker"
            )


def load_index(spec: IndexSpec) -> tuple[SongIndex, bool]:
    """The worker's index for ``spec``, built on first use and then kept for the worker's later tasks,
    and whether this call built it."""
    built = spec not in _INDEXES
    if built:
        _INDEXES.clear()
        require_shared_data(spec.signatures_path, spec.playlist_tracks_path)
        signatures = pq.read_table(spec.signatures_path, columns=["track_id", "signature"])
        track_ids = signatures.column("track_id").to_numpy()
        lists = signatures.column("signature").combine_chunks()
        del signatures  # (its chunks: the signatures are held once, by ``lists``)
        num_perm = len(lists[0]) if len(lists) else 0
        matrix = lists.flatten().to_numpy().reshape(len(lists), num_perm)
        edges = pq.read_table(spec.playlist_tracks_path, columns=["playlist_id", "track_id"])
        _INDEXES[spec] = SongIndex(
            track_ids,
            matrix,
            edges.column("playlist_id").to_numpy(),
            edges.column("track_id").to_numpy(),
            spec.bands,
            spec.rows_per_band,
            spec.max_bucket,
            spec.exact_work,
        )
        del lists, matrix, edges
        pa.default_memory_pool().release_unused()  # give the inputs' Arrow buffers back to the system
    return _INDEXES[spec], built


def _recommend_batches(batches: Iterator[pa.RecordBatch], spec: IndexSpec, top_k: int) -> Iterator[pa.RecordBatch]:
    index, built = load_index(spec)
    counters = dict.fromkeys(QUERY_COUNTERS, 0)
    counters.update(tasks=1, index_builds=int(built), **{name: getattr(index.stats, name) for name in INDEX_FIGURES})
    for batch in batches:
        track_ids = batch.column("track_id").to_numpy()
        found = index.recommend(track_ids, top_k)
        counters["songs_queried"] += len(track_ids)
        for name in QUERY_COUNTERS[1:]:
            counters[name] += int(found[name])
        recommended = np.asarray(found["track_id"])
        rows = len(recommended)
        yield pa.RecordBatch.from_arrays(
            [pa.array(["recommendation"] * rows, pa.string())]
            + [pa.array(found[name]) for name in RECOMMENDATION_COLUMNS]
            + [pa.nulls(rows, _ARROW_COUNTERS)],
            names=["kind", *RECOMMENDATION_COLUMNS, "counters"],
        )
    yield pa.RecordBatch.from_arrays(
        [pa.array(["task_counters"]), pa.nulls(1, pa.int64()), pa.nulls(1, pa.int64()), pa.nulls(1, pa.int32()),
         pa.nulls(1, pa.float64()), pa.nulls(1, pa.int32()),
         pa.array([{name: int(value) for name, value in counters.items()}], _ARROW_COUNTERS)],
        names=["kind", *RECOMMENDATION_COLUMNS, "counters"],
    )  # fmt: skip


def find_similar_songs(
    spark: SparkSession,
    signatures_path: str,
    playlist_tracks_path: str,
    bands: int,
    rows_per_band: int,
    max_bucket: int,
    exact_work: int,
    top_k: int,
    songs_per_task: int = 25_000,
) -> DataFrame:
    """Every song's recommendations and every task's counters, in one output (``OUTPUT_SCHEMA``)."""
    written_at_ns = max(path.stat().st_mtime_ns for path in Path(signatures_path).iterdir())
    spec = IndexSpec(signatures_path, playlist_tracks_path, bands, rows_per_band, max_bucket, exact_work, written_at_ns)
    songs = spark.read.parquet(signatures_path).select("track_id")
    tasks = max(spark.sparkContext.defaultParallelism, math.ceil(songs.count() / songs_per_task))
    return songs.repartition(tasks).mapInArrow(partial(_recommend_batches, spec=spec, top_k=top_k), OUTPUT_SCHEMA)


def recommendations_of(output: DataFrame) -> DataFrame:
    """The recommendation rows of the job's output."""
    return output.where(F.col("kind") == "recommendation").select(*RECOMMENDATION_COLUMNS)


def task_counters_of(output: DataFrame) -> DataFrame:
    """The tasks' counter rows of the job's output (column ``counters``)."""
    return output.where(F.col("kind") == "task_counters").select("counters")


def job_counters(task_counters: DataFrame) -> dict[str, int]:
    """The tasks' counters added up (index figures: every worker builds the same index, so their maximum)."""
    counters = task_counters.select("counters.*")
    sums = [F.coalesce(F.sum(name), F.lit(0)).alias(name) for name in QUERY_COUNTERS + TASK_COUNTERS]
    maxima = [F.coalesce(F.max(name), F.lit(0)).alias(name) for name in INDEX_FIGURES]
    totals = counters.agg(*sums, *maxima).first()
    assert totals is not None  # an aggregate without grouping has one row
    return {name: int(value) for name, value in totals.asDict().items()}


def write_output(output: DataFrame, folder: str, recommendations_path: str) -> dict[str, int]:
    """Compute and write the output once, split by kind; move the recommendations to
    ``recommendations_path``; return the job's counters."""
    spark = output.sparkSession
    output.write.mode("overwrite").partitionBy("kind").parquet(folder)
    written = Path(folder) / "kind=recommendation"
    target = Path(recommendations_path)
    if target.exists():
        shutil.rmtree(target)
    if written.exists():
        written.replace(target)
    else:  # no song has a recommendation: an empty dataset, not a missing one
        spark.createDataFrame([], recommendations_of(output).schema).write.parquet(recommendations_path)
    return job_counters(spark.read.parquet(str(Path(folder) / "kind=task_counters")))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="similarity_join", description="LSH banding + exact Jaccard top-k.")
    parser.add_argument("--run-dir", required=True, help="this run's folder for intermediate data")
    parser.add_argument("--num-perm", type=int, default=128, help="the signatures' length (default 128)")
    parser.add_argument("--bands", type=int, default=64, help="LSH bands (default 64)")
    parser.add_argument("--rows-per-band", type=int, default=2, help="signature values per band (default 2)")
    parser.add_argument("--max-bucket", type=int, default=20, help="bigger buckets are cut into chunks (default 20)")
    parser.add_argument(
        "--exact-work",
        type=int,
        default=50_000,
        help="songs whose playlists hold at most this many songs in all are scored exactly (default 50000)",
    )
    parser.add_argument("--top-k", type=int, default=20, help="recommendations kept per song (default 20)")
    parser.add_argument("--songs-per-task", type=int, default=25_000, help="songs per Spark task (default 25000)")
    args = parser.parse_args(argv)
    for name in ("bands", "rows_per_band", "top_k", "songs_per_task"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_bucket < 2:
        parser.error("--max-bucket must be at least 2")
    if args.exact_work < 0:
        parser.error("--exact-work must be at least 0")
    if args.bands * args.rows_per_band > args.num_perm:
        parser.error(
            f"bands x rows_per_band = {args.bands * args.rows_per_band} needs that many signature values, "
            f"but the signatures have --num-perm {args.num_perm}"
        )
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run = RunFolder(args.run_dir)
    started = time.monotonic()
    spark = build_session()
    output = find_similar_songs(
        spark,
        run.dataset("signatures"),
        run.dataset("playlist_tracks"),
        args.bands,
        args.rows_per_band,
        args.max_bucket,
        args.exact_work,
        args.top_k,
        args.songs_per_task,
    )
    counters = write_output(output, run.dataset("similarity_join_output"), run.dataset("recommendations"))
    written = spark.read.parquet(run.dataset("recommendations"))
    metrics = {
        "num_perm": args.num_perm,
        "bands": args.bands,
        "rows_per_band": args.rows_per_band,
        "max_bucket": args.max_bucket,
        "exact_work": args.exact_work,
        "top_k": args.top_k,
        **counters,
        "recommendations": written.count(),
        "songs_with_recommendations": written.select("track_id").distinct().count(),
        "seconds": round(time.monotonic() - started, 3),
    }
    run.write_metrics("similarity_join", metrics)
    print(f"similarity_join: {metrics}")
    spark.stop()


if __name__ == "__main__":
    # Run as a script, this file is ``__main__``, whose functions Spark ships to the workers by value:
    # every task would unpickle its own empty index cache and build the index again (measured: 30 s
    # instead of 8 s per task at 12.9M rows). The module's functions ship by reference, so each
    # worker keeps one index for all its tasks.
    from spark_jobs import similarity_join

    similarity_join.main()

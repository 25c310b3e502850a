"""MinHash signatures of each song's playlist set.

Input: ``datasets/playlist_tracks`` (playlist_id, track_id) of the run folder.
Output: ``datasets/signatures`` (track_id, signature array<bigint> of
``--num-perm`` values) and ``metrics/minhash.json``.

Signature position ``i`` of a song is the minimum of ``h_i(playlist)`` over the
song's playlists (the hash functions and the minima: ``similarity/minhash.py``).

Spark groups each song's playlists into one array (built-in aggregation), then
``mapInArrow`` hands batches of songs to the numpy core: no Python code runs
per row. It replaced an all-built-in version (``transform`` over
``xxhash64(playlist, i)``), which evaluates the same number of hashes in
Spark's interpreted lambda functions and was slower (figures in
docs/performance.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from functools import partial

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.run_folder import RunFolder
from similarity.minhash import hash_coefficients, signature_matrix
from spark_jobs.session import build_session

SIGNATURE_SCHEMA = "track_id long, signature array<long>"


def song_playlist_sets(playlist_tracks: DataFrame) -> DataFrame:
    """track_id, playlist_ids (sorted array of the song's distinct playlists)."""
    return playlist_tracks.groupBy("track_id").agg(F.array_sort(F.collect_set("playlist_id")).alias("playlist_ids"))


def _signature_batches(batches: Iterator[pa.RecordBatch], num_perm: int) -> Iterator[pa.RecordBatch]:
    a, b = hash_coefficients(num_perm)
    for batch in batches:
        lists = batch.column("playlist_ids")
        offsets = lists.offsets.to_numpy()
        offsets = offsets - offsets[0]
        values = lists.flatten().to_numpy(zero_copy_only=False)
        signatures = signature_matrix(values, offsets, a, b)
        signature_offsets = np.arange(0, (len(lists) + 1) * num_perm, num_perm, dtype=np.int32)
        yield pa.RecordBatch.from_arrays(
            [batch.column("track_id"), pa.ListArray.from_arrays(signature_offsets, pa.array(signatures.ravel()))],
            names=["track_id", "signature"],
        )


def minhash_signatures(playlist_sets: DataFrame, num_perm: int) -> DataFrame:
    """track_id, signature: per hash function i, the minimum of h_i over the song's playlists."""
    if num_perm < 1:
        raise ValueError(f"num_perm must be at least 1, got {num_perm}")
    return playlist_sets.select("track_id", "playlist_ids").mapInArrow(
        partial(_signature_batches, num_perm=num_perm), SIGNATURE_SCHEMA
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="minhash", description="MinHash signatures of songs' playlist sets.")
    parser.add_argument("--run-dir", required=True, help="this run's folder for intermediate data")
    parser.add_argument("--num-perm", type=int, default=128, help="signature length (default 128)")
    args = parser.parse_args(argv)
    if args.num_perm < 1:
        parser.error("--num-perm must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run = RunFolder(args.run_dir)
    started = time.monotonic()
    spark = build_session()
    playlist_tracks = spark.read.parquet(run.dataset("playlist_tracks"))
    signatures = minhash_signatures(song_playlist_sets(playlist_tracks), args.num_perm)
    signatures.write.mode("overwrite").parquet(run.dataset("signatures"))
    metrics = {
        "num_perm": args.num_perm,
        "signatures": spark.read.parquet(run.dataset("signatures")).count(),
        "seconds": round(time.monotonic() - started, 3),
    }
    run.write_metrics("minhash", metrics)
    print(f"minhash: {metrics}")
    spark.stop()


if __name__ == "__main__":
    main()

"""MinHash signatures of each song's playlist set.

Input: ``datasets/playlist_tracks`` (playlist_id, track_id) of the run folder.
Output: ``datasets/signatures`` (track_id, signature array<bigint> of
``--num-perm`` values) and ``metrics/minhash.json``.

Signature position ``i`` of a song is the minimum of ``xxhash64(playlist_id, i)``
over the song's playlists: ``num_perm`` independent hash functions standing in
for random permutations of the playlists. Everything runs in Spark's built-in
functions (no Python UDF).
"""

from __future__ import annotations

import argparse
import sys
import time

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.common import RunFolder, build_session


def song_playlist_sets(playlist_tracks: DataFrame) -> DataFrame:
    """track_id, playlist_ids (sorted array of the song's distinct playlists)."""
    return playlist_tracks.groupBy("track_id").agg(F.array_sort(F.collect_set("playlist_id")).alias("playlist_ids"))


def minhash_signatures(playlist_sets: DataFrame, num_perm: int) -> DataFrame:
    """track_id, signature: per hash function i, the minimum of xxhash64(playlist_id, i)."""
    if num_perm < 1:
        raise ValueError(f"num_perm must be at least 1, got {num_perm}")
    signature = F.transform(
        F.sequence(F.lit(0), F.lit(num_perm - 1)),
        lambda i: F.array_min(F.transform("playlist_ids", lambda p: F.xxhash64(p, i))),
    )
    return playlist_sets.select("track_id", signature.alias("signature"))


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

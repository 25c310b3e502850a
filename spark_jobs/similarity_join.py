"""Similar songs: LSH banding over MinHash signatures, then exact Jaccard of the candidates.

Inputs (run folder): ``datasets/signatures`` (track_id, signature) from the
minhash job and ``datasets/playlist_tracks`` (playlist_id, track_id).
Output: ``datasets/recommendations`` (track_id, recommended_track_id, rank,
similarity, shared_playlists): for every song with at least one candidate, its
``--top-k`` most similar songs, and ``metrics/similarity_join.json``.

Banding: the signature is cut into ``--bands`` bands of ``--rows-per-band``
values; two songs are candidates when all values of some band agree, which
happens with probability ``1 - (1 - J^r)^b`` for Jaccard similarity J.
Candidates are then scored with their exact Jaccard similarity from the
playlist sets (not the signature estimate). Ranking: similarity, then shared
playlists, both descending, then the recommended track_id ascending, so ties
are broken the same way on every run.
"""

from __future__ import annotations

import argparse
import sys
import time

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.common import RunFolder, build_session
from spark_jobs.minhash import song_playlist_sets


def band_keys(signatures: DataFrame, bands: int, rows_per_band: int) -> DataFrame:
    """track_id, band, bucket_key: one row per song and band, the key hashing the band's values."""
    keys = F.transform(
        F.sequence(F.lit(0), F.lit(bands - 1)),
        lambda band: F.xxhash64(band, F.slice("signature", band * rows_per_band + 1, rows_per_band)),
    )
    return signatures.select("track_id", F.posexplode(keys).alias("band", "bucket_key"))


def candidate_pairs(keys: DataFrame) -> DataFrame:
    """track_a < track_b sharing at least one bucket, once each, with the number of bands they share."""
    buckets = (
        keys.groupBy("band", "bucket_key")
        .agg(F.collect_list("track_id").alias("members"))
        .where(F.size("members") >= 2)
    )
    return (
        buckets.select(F.explode("members").alias("track_a"), "members")
        .select("track_a", F.explode(F.filter("members", lambda m: m > F.col("track_a"))).alias("track_b"))
        .groupBy("track_a", "track_b")
        .agg(F.count("*").alias("bands_shared"))
    )


def score_pairs(candidates: DataFrame, playlist_sets: DataFrame) -> DataFrame:
    """track_a, track_b, similarity (exact Jaccard of the playlist sets), shared_playlists; only pairs sharing one."""
    sets_a = playlist_sets.select(F.col("track_id").alias("track_a"), F.col("playlist_ids").alias("playlists_a"))
    sets_b = playlist_sets.select(F.col("track_id").alias("track_b"), F.col("playlist_ids").alias("playlists_b"))
    shared = F.size(F.array_intersect("playlists_a", "playlists_b"))
    union = F.size("playlists_a") + F.size("playlists_b") - F.col("shared_playlists")
    return (
        candidates.join(sets_a, "track_a")
        .join(sets_b, "track_b")
        .withColumn("shared_playlists", shared)
        .where("shared_playlists > 0")
        .select("track_a", "track_b", (F.col("shared_playlists") / union).alias("similarity"), "shared_playlists")
    )


def top_k(scored: DataFrame, k: int) -> DataFrame:
    """Each song's k most similar songs, from pairs listed once (a < b): both directions ranked."""
    both_directions = scored.select(
        F.col("track_a").alias("track_id"),
        F.col("track_b").alias("recommended_track_id"),
        "similarity",
        "shared_playlists",
    ).unionByName(
        scored.select(
            F.col("track_b").alias("track_id"),
            F.col("track_a").alias("recommended_track_id"),
            "similarity",
            "shared_playlists",
        )
    )
    order = Window.partitionBy("track_id").orderBy(
        F.col("similarity").desc(), F.col("shared_playlists").desc(), F.col("recommended_track_id")
    )
    return (
        both_directions.withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= k)
        .select("track_id", "recommended_track_id", "rank", "similarity", "shared_playlists")
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="similarity_join", description="LSH banding + exact Jaccard top-k.")
    parser.add_argument("--run-dir", required=True, help="this run's folder for intermediate data")
    parser.add_argument("--bands", type=int, default=64, help="LSH bands (default 64)")
    parser.add_argument("--rows-per-band", type=int, default=2, help="signature values per band (default 2)")
    parser.add_argument("--top-k", type=int, default=20, help="recommendations kept per song (default 20)")
    args = parser.parse_args(argv)
    for name in ("bands", "rows_per_band", "top_k"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run = RunFolder(args.run_dir)
    num_perm = run.read_metrics("minhash")["num_perm"]
    if args.bands * args.rows_per_band > num_perm:
        raise SystemExit(
            f"bands x rows_per_band = {args.bands * args.rows_per_band} needs that many signature values, "
            f"but the signatures have num_perm = {num_perm}"
        )
    started = time.monotonic()
    spark = build_session()
    signatures = spark.read.parquet(run.dataset("signatures"))
    playlist_sets = song_playlist_sets(spark.read.parquet(run.dataset("playlist_tracks")))

    candidates = candidate_pairs(band_keys(signatures, args.bands, args.rows_per_band)).persist()
    scored = score_pairs(candidates, playlist_sets)
    top_k(scored, args.top_k).write.mode("overwrite").parquet(run.dataset("recommendations"))

    recommendations = spark.read.parquet(run.dataset("recommendations"))
    metrics = {
        "bands": args.bands,
        "rows_per_band": args.rows_per_band,
        "top_k": args.top_k,
        "candidate_pairs": candidates.count(),
        "recommendations": recommendations.count(),
        "songs_with_recommendations": recommendations.select("track_id").distinct().count(),
        "seconds": round(time.monotonic() - started, 3),
    }
    run.write_metrics("similarity_join", metrics)
    print(f"similarity_join: {metrics}")
    spark.stop()


if __name__ == "__main__":
    main()

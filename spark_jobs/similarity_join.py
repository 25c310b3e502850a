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

from pyspark.sql import Column, DataFrame, Observation, Window
from pyspark.sql import functions as F

from spark_jobs.common import RunFolder, build_session
from spark_jobs.minhash import song_playlist_sets


def band_keys(signatures: DataFrame, bands: int, rows_per_band: int) -> DataFrame:
    """track_id, band, bucket_key, order_key: one row per song and band.

    ``bucket_key`` hashes the band's ``rows_per_band`` signature values (with one
    row per band it is the value itself). ``order_key`` packs the high 32 bits
    of the two signature values after the band, so that sorting a bucket by it
    puts songs that also agree outside the band next to each other.
    """
    num_perm = F.size("signature")
    first = F.col("band") * rows_per_band
    band_values = F.slice("signature", first + 1, rows_per_band)
    bucket_key = F.element_at("signature", first + 1) if rows_per_band == 1 else F.xxhash64(band_values)

    def high_bits(offset: int) -> Column:
        value = F.element_at("signature", F.pmod(first + rows_per_band + offset, num_perm) + 1)
        return F.shiftrightunsigned(value, 32)

    order_key = F.shiftleft(high_bits(0), 32).bitwiseOR(high_bits(1))
    return signatures.select(
        "track_id", "signature", F.explode(F.sequence(F.lit(0), F.lit(bands - 1))).alias("band")
    ).select("track_id", "band", bucket_key.alias("bucket_key"), order_key.alias("order_key"))


def bucket_chunks(keys: DataFrame, max_bucket: int) -> DataFrame:
    """band, bucket_key, bucket_size, members (array of track_id): the buckets of two or more songs.

    A bucket of more than ``max_bucket`` songs (a big playlist that is the
    minimum of many rare songs) is sorted by ``order_key`` and cut into
    ``ceil(size / max_bucket)`` consecutive chunks of near-equal size, so no
    bucket yields more than ``size x max_bucket / 2`` pairs and every song keeps
    up to ``max_bucket - 1`` partners from it, the closest ones first.
    """
    # Most buckets hold a single song: a window count (one shuffle and sort by bucket) drops
    # them before the members of the others are collected on the same partitioning.
    bucket = Window.partitionBy("band", "bucket_key")
    buckets = (
        keys.withColumn("bucket_size", F.count("*").over(bucket))
        .where("bucket_size >= 2")
        .groupBy("band", "bucket_key", "bucket_size")
        .agg(F.collect_list(F.struct("order_key", "track_id")).alias("members"))
    )
    chunk_count = F.ceil(F.col("bucket_size") / F.lit(max_bucket)).cast("int")
    ordered = F.when(F.col("bucket_size") > max_bucket, F.array_sort("members")).otherwise(F.col("members"))

    def chunk_bounds(c: Column) -> Column:
        return F.floor(c * F.col("bucket_size") / chunk_count).cast("int")

    chunks = F.transform(
        F.sequence(F.lit(0), chunk_count - 1),
        lambda c: F.slice(ordered, chunk_bounds(c) + 1, chunk_bounds(c + 1) - chunk_bounds(c)),
    )
    return buckets.select("band", "bucket_key", "bucket_size", F.explode(chunks).alias("chunk")).select(
        "band", "bucket_key", "bucket_size", F.transform("chunk", lambda m: m["track_id"]).alias("members")
    )


def candidate_pairs(chunks: DataFrame) -> DataFrame:
    """track_a < track_b sharing at least one bucket chunk, once each, with the number of bands they share."""
    return (
        chunks.select(F.explode("members").alias("track_a"), "members")
        .select("track_a", F.explode(F.filter("members", lambda m: m > F.col("track_a"))).alias("track_b"))
        .groupBy("track_a", "track_b")
        .agg(F.count("*").alias("bands_shared"))
    )


def score_pairs(candidates: DataFrame, playlist_sets: DataFrame) -> DataFrame:
    """track_a, track_b, similarity (exact Jaccard of the playlist sets), shared_playlists; only pairs sharing one.

    The songs' playlist sets (about 8 bytes per playlist/song pair: ~100 MB for
    the whole dataset) are broadcast, so the candidate pairs are scored where
    they are, without shuffling them next to two copies of the sets.
    """
    sets_a = playlist_sets.select(F.col("track_id").alias("track_a"), F.col("playlist_ids").alias("playlists_a"))
    sets_b = playlist_sets.select(F.col("track_id").alias("track_b"), F.col("playlist_ids").alias("playlists_b"))
    shared = F.size(F.array_intersect("playlists_a", "playlists_b"))
    union = F.size("playlists_a") + F.size("playlists_b") - F.col("shared_playlists")
    return (
        candidates.join(F.broadcast(sets_a), "track_a")
        .join(F.broadcast(sets_b), "track_b")
        .withColumn("shared_playlists", shared)
        .where("shared_playlists > 0")
        .select("track_a", "track_b", (F.col("shared_playlists") / union).alias("similarity"), "shared_playlists")
    )


def top_k(scored: DataFrame, k: int) -> DataFrame:
    """Each song's k most similar songs, from pairs listed once (a < b): both directions ranked.

    (A window sort measured faster here than a bounded ``max_by(..., k)`` aggregation,
    whose object aggregation falls back to sorting anyway.)
    """
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
    parser.add_argument("--max-bucket", type=int, default=20, help="bigger buckets are cut into chunks (default 20)")
    parser.add_argument("--top-k", type=int, default=20, help="recommendations kept per song (default 20)")
    args = parser.parse_args(argv)
    for name in ("bands", "rows_per_band", "top_k"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_bucket < 2:
        parser.error("--max-bucket must be at least 2")
    return args


def find_similar_songs(
    signatures: DataFrame, playlist_sets: DataFrame, bands: int, rows_per_band: int, max_bucket: int, top_k_: int
) -> tuple[DataFrame, dict[str, Observation]]:
    """The recommendations, plus observations that fill in when they are written (no extra pass over the data)."""
    observations = {name: Observation(name) for name in ("buckets", "candidates", "scored")}
    chunks = bucket_chunks(band_keys(signatures, bands, rows_per_band), max_bucket)
    chunk_size = F.size("members")
    chunks = chunks.observe(
        observations["buckets"],
        F.round(F.sum(1 / F.ceil(F.col("bucket_size") / max_bucket))).cast("long").alias("buckets"),
        F.sum(F.when(F.col("bucket_size") > max_bucket, 1).otherwise(0) / F.ceil(F.col("bucket_size") / max_bucket))
        .cast("long")
        .alias("buckets_cut"),
        F.max("bucket_size").alias("largest_bucket"),
        F.max(chunk_size).alias("largest_chunk"),
        F.sum(chunk_size * (chunk_size - 1) / 2).cast("long").alias("pair_instances"),
    )
    candidates = candidate_pairs(chunks).observe(observations["candidates"], F.count("*").alias("candidate_pairs"))
    scored = score_pairs(candidates, playlist_sets).observe(observations["scored"], F.count("*").alias("scored_pairs"))
    return top_k(scored, top_k_), observations


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
    recommendations, observations = find_similar_songs(
        signatures, playlist_sets, args.bands, args.rows_per_band, args.max_bucket, args.top_k
    )
    recommendations.write.mode("overwrite").parquet(run.dataset("recommendations"))
    written = spark.read.parquet(run.dataset("recommendations"))
    metrics = {
        "bands": args.bands,
        "rows_per_band": args.rows_per_band,
        "max_bucket": args.max_bucket,
        "top_k": args.top_k,
        **{key: value for observation in observations.values() for key, value in observation.get.items()},
        "recommendations": written.count(),
        "songs_with_recommendations": written.select("track_id").distinct().count(),
        "seconds": round(time.monotonic() - started, 3),
    }
    run.write_metrics("similarity_join", metrics)
    print(f"similarity_join: {metrics}")
    spark.stop()


if __name__ == "__main__":
    main()

"""MinHash signatures of each song's playlist set.

Input: ``datasets/playlist_tracks`` (playlist_id, track_id) of the run folder.
Output: ``datasets/signatures`` (track_id, signature array<bigint> of
``--num-perm`` values) and ``metrics/minhash.json``.

Signature position ``i`` of a song is the minimum of ``h_i(playlist)`` over the
song's playlists, for ``num_perm`` hash functions ``h_i(p) = a_i * mix(p) + b_i``
(mod 2^64, ``mix`` the splitmix64 finaliser, ``a_i`` odd; the minimum is kept
without its lowest bit, as a non-negative long): independent
stand-ins for random permutations of the playlists. Two songs agree at a
position with probability equal to their Jaccard similarity.

The hashing is vectorised: Spark groups each song's playlists into one array
(built-in aggregation), then ``mapInArrow`` hands batches of songs to numpy,
which hashes every (song, playlist) edge ``num_perm`` times and takes the
minima per song with ``np.minimum.reduceat``. No Python code runs per row. It
replaced an all-built-in version (``transform`` over ``xxhash64(playlist, i)``),
which evaluates the same number of hashes in Spark's interpreted lambda
functions and was slower (figures in docs/performance.md).
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

from spark_jobs.common import RunFolder, build_session

HASH_SEED = 2594557  # the dataset's Zenodo record: any fixed value gives reproducible signatures
EDGES_PER_CHUNK = 50_000  # bounds numpy's working memory to EDGES_PER_CHUNK x num_perm x 8 bytes
SIGNATURE_SCHEMA = "track_id long, signature array<long>"


def song_playlist_sets(playlist_tracks: DataFrame) -> DataFrame:
    """track_id, playlist_ids (sorted array of the song's distinct playlists)."""
    return playlist_tracks.groupBy("track_id").agg(F.array_sort(F.collect_set("playlist_id")).alias("playlist_ids"))


def hash_coefficients(num_perm: int, seed: int = HASH_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The ``a_i`` (odd) and ``b_i`` of the ``num_perm`` hash functions, as uint64."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2)
    return a, b


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits of 64-bit ids (wrapping arithmetic)."""
    x = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def signature_matrix(playlist_ids: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signatures (songs x num_perm, int64) of songs whose playlists are ``playlist_ids[offsets[j]:offsets[j+1]]``.

    Every song must have at least one playlist.
    """
    if np.any(np.diff(offsets) < 1):
        raise ValueError("every song needs at least one playlist to have a signature")
    mixed = mix64(playlist_ids)
    songs = len(offsets) - 1
    signatures = np.empty((songs, len(a)), dtype=np.uint64)
    start = 0
    while start < songs:
        # Whole songs per chunk, about EDGES_PER_CHUNK edges (a song with more edges is its own chunk).
        stop = max(start + 1, int(np.searchsorted(offsets, offsets[start] + EDGES_PER_CHUNK, side="right")) - 1)
        stop = min(stop, songs)
        edges = mixed[offsets[start] : offsets[stop]]
        with np.errstate(over="ignore"):
            hashes = edges[:, None] * a[None, :] + b[None, :]
        signatures[start:stop] = np.minimum.reduceat(hashes, offsets[start:stop] - offsets[start], axis=0)
        start = stop
    # Dropping the lowest bit makes every value fit a non-negative long, so Spark orders them as numpy did.
    return (signatures >> np.uint64(1)).astype(np.int64)


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

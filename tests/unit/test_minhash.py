"""MinHash signatures: properties that hold for any hash family of this kind."""

import numpy as np
import pytest

from similarity import minhash
from similarity.minhash import hash_coefficients, signature_matrix
from spark_jobs.minhash import minhash_signatures, song_playlist_sets


def signatures_of(spark, pairs, num_perm):
    playlist_tracks = spark.createDataFrame(pairs, "playlist_id long, track_id long")
    rows = minhash_signatures(song_playlist_sets(playlist_tracks), num_perm).collect()
    return {row["track_id"]: row["signature"] for row in rows}


def test_one_signature_of_num_perm_values_per_song(spark):
    signatures = signatures_of(spark, [(1, 10), (2, 10), (2, 20)], num_perm=16)
    assert sorted(signatures) == [10, 20]
    assert all(len(signature) == 16 for signature in signatures.values())


def test_songs_with_the_same_playlists_get_the_same_signature(spark):
    signatures = signatures_of(spark, [(1, 10), (2, 10), (1, 20), (2, 20), (2, 20)], num_perm=32)
    assert signatures[10] == signatures[20]


def test_a_superset_never_has_a_larger_minimum(spark):
    # Song 20's playlists {1, 2, 3, 4} contain song 10's {1, 2}: each minimum is over more values.
    pairs = [(1, 10), (2, 10), (1, 20), (2, 20), (3, 20), (4, 20)]
    signatures = signatures_of(spark, pairs, num_perm=64)
    assert all(big <= small for big, small in zip(signatures[20], signatures[10], strict=True))
    assert signatures[20] != signatures[10]


def test_agreeing_positions_estimate_the_jaccard_similarity(spark):
    # Song 10 in playlists 0..99, song 20 in 50..149: Jaccard = 50 / 150 = 1/3.
    pairs = [(p, 10) for p in range(100)] + [(p, 20) for p in range(50, 150)]
    signatures = signatures_of(spark, pairs, num_perm=512)
    agreement = sum(a == b for a, b in zip(signatures[10], signatures[20], strict=True)) / 512
    # Standard error sqrt(J (1 - J) / n) = 0.021; 4 standard errors either side.
    assert abs(agreement - 1 / 3) < 0.084


def test_signatures_do_not_depend_on_how_songs_are_chunked(monkeypatch):
    # Three songs with 2, 5 and 1 playlists; chunks of 3 edges split them differently than one chunk.
    playlist_ids = np.array([11, 12, 11, 13, 14, 15, 16, 12], dtype=np.int64)
    offsets = np.array([0, 2, 7, 8])
    a, b = hash_coefficients(8)
    whole = signature_matrix(playlist_ids, offsets, a, b)
    monkeypatch.setattr(minhash, "EDGES_PER_CHUNK", 3)
    assert np.array_equal(signature_matrix(playlist_ids, offsets, a, b), whole)
    # each song's value is the minimum over its own playlists only
    assert np.array_equal(whole[2], signature_matrix(np.array([12]), np.array([0, 1]), a, b)[0])
    assert (whole >= 0).all()


def test_a_song_without_playlists_is_refused():
    a, b = hash_coefficients(4)
    with pytest.raises(ValueError, match="at least one playlist"):
        signature_matrix(np.array([1], dtype=np.int64), np.array([0, 0, 1]), a, b)

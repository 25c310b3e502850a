"""LSH banding, exact scoring and top-k on small inputs whose answers are worked out by hand."""

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from spark_jobs.minhash import minhash_signatures, song_playlist_sets
from spark_jobs.similarity_join import band_keys, candidate_pairs, score_pairs, top_k

# Songs' playlists:  1: {1,2,3,4}   2: {1,2,3}   3: {3,4}   4: {4,5}   5: {9}   6: {1,2,3} (same as 2)
PLAYLIST_TRACKS = [
    (1, 1), (2, 1), (3, 1), (4, 1),
    (1, 2), (2, 2), (3, 2),
    (3, 3), (4, 3),
    (4, 4), (5, 4),
    (9, 5),
    (1, 6), (2, 6), (3, 6),
]  # fmt: skip


@pytest.fixture
def playlist_sets(spark):
    return song_playlist_sets(spark.createDataFrame(PLAYLIST_TRACKS, "playlist_id long, track_id long"))


def test_candidate_pairs_are_songs_sharing_a_bucket_once_each(spark):
    keys = spark.createDataFrame(
        [(1, 0, 100), (2, 0, 100), (3, 0, 100), (1, 1, 7), (2, 1, 7), (4, 1, 8)],
        "track_id long, band int, bucket_key long",
    )
    assertDataFrameEqual(
        candidate_pairs(keys),
        [
            Row(track_a=1, track_b=2, bands_shared=2),
            Row(track_a=1, track_b=3, bands_shared=1),
            Row(track_a=2, track_b=3, bands_shared=1),
        ],
    )


def test_band_keys_agree_exactly_when_the_band_agrees(spark):
    signatures = spark.createDataFrame(
        [(1, [5, 6, 7, 8]), (2, [5, 6, 0, 8]), (3, [5, 6, 7, 8])], "track_id long, signature array<long>"
    )
    keys = {(r["track_id"], r["band"]): r["bucket_key"] for r in band_keys(signatures, 2, 2).collect()}
    assert keys[(1, 0)] == keys[(2, 0)] == keys[(3, 0)]
    assert keys[(1, 1)] == keys[(3, 1)] != keys[(2, 1)]
    assert keys[(1, 0)] != keys[(1, 1)]  # the band number is part of the key


def test_scores_are_exact_jaccard_and_shared_playlists(spark, playlist_sets):
    candidates = spark.createDataFrame([(1, 2), (1, 3), (3, 4), (1, 5)], "track_a long, track_b long")
    assertDataFrameEqual(
        score_pairs(candidates, playlist_sets),
        [
            Row(track_a=1, track_b=2, similarity=3 / 4, shared_playlists=3),
            Row(track_a=1, track_b=3, similarity=2 / 4, shared_playlists=2),
            Row(track_a=3, track_b=4, similarity=1 / 3, shared_playlists=1),
            # 1 and 5 share no playlist: not a recommendation at all
        ],
    )


def test_top_k_ranks_both_directions_and_breaks_ties_by_shared_then_id(spark):
    scored = spark.createDataFrame(
        [(1, 2, 0.5, 2), (1, 3, 0.5, 3), (1, 4, 0.5, 3), (2, 3, 0.25, 1)],
        "track_a long, track_b long, similarity double, shared_playlists int",
    )
    assertDataFrameEqual(
        top_k(scored, 2),
        [
            Row(track_id=1, recommended_track_id=3, rank=1, similarity=0.5, shared_playlists=3),
            Row(track_id=1, recommended_track_id=4, rank=2, similarity=0.5, shared_playlists=3),
            Row(track_id=2, recommended_track_id=1, rank=1, similarity=0.5, shared_playlists=2),
            Row(track_id=2, recommended_track_id=3, rank=2, similarity=0.25, shared_playlists=1),
            Row(track_id=3, recommended_track_id=1, rank=1, similarity=0.5, shared_playlists=3),
            Row(track_id=3, recommended_track_id=2, rank=2, similarity=0.25, shared_playlists=1),
            Row(track_id=4, recommended_track_id=1, rank=1, similarity=0.5, shared_playlists=3),
        ],
    )


def test_whole_engine_finds_every_neighbour_of_a_small_input(spark, playlist_sets):
    # 128 bands of one value: a pair with Jaccard J is missed with probability (1 - J)^128,
    # below 1e-15 for the smallest J here (1/4), so the exact answer is expected.
    signatures = minhash_signatures(playlist_sets, 128)
    scored = score_pairs(candidate_pairs(band_keys(signatures, 128, 1)), playlist_sets)
    result = top_k(scored, 3).where("track_id in (1, 2, 5)")
    assertDataFrameEqual(
        result,
        [
            # song 1 {1,2,3,4}: 2 and 6 {1,2,3} J=3/4 (tie: lower id first), 3 {3,4} J=2/4
            Row(track_id=1, recommended_track_id=2, rank=1, similarity=0.75, shared_playlists=3),
            Row(track_id=1, recommended_track_id=6, rank=2, similarity=0.75, shared_playlists=3),
            Row(track_id=1, recommended_track_id=3, rank=3, similarity=0.5, shared_playlists=2),
            # song 2 {1,2,3}: its twin 6 (J=1), then 1 (3/4), then 3 {3,4} (1/4)
            Row(track_id=2, recommended_track_id=6, rank=1, similarity=1.0, shared_playlists=3),
            Row(track_id=2, recommended_track_id=1, rank=2, similarity=0.75, shared_playlists=3),
            Row(track_id=2, recommended_track_id=3, rank=3, similarity=0.25, shared_playlists=1),
            # song 5 shares no playlist with anyone: no recommendations
        ],
    )

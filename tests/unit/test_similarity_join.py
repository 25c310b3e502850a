"""LSH banding, exact scoring and top-k on small inputs whose answers are worked out by hand."""

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from spark_jobs.minhash import minhash_signatures, song_playlist_sets
from spark_jobs.similarity_join import band_keys, bucket_chunks, candidate_pairs, find_similar_songs, score_pairs, top_k

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
        [(1, 0, 100, 0), (2, 0, 100, 0), (3, 0, 100, 0), (1, 1, 7, 0), (2, 1, 7, 0), (4, 1, 8, 0)],
        "track_id long, band int, bucket_key long, order_key long",
    )
    assertDataFrameEqual(
        candidate_pairs(bucket_chunks(keys, max_bucket=10)),
        [
            Row(track_a=1, track_b=2, bands_shared=2),
            Row(track_a=1, track_b=3, bands_shared=1),
            Row(track_a=2, track_b=3, bands_shared=1),
        ],
    )


def test_a_bucket_over_the_cap_is_cut_into_near_equal_chunks_of_alike_songs(spark):
    # One bucket of 7 songs with max_bucket 3: ceil(7 / 3) = 3 chunks of 2, 2 and 3 songs,
    # consecutive in order_key order (songs 1..7 have order keys 70, 60, ..., 10).
    keys = spark.createDataFrame(
        [(song, 0, 5, 80 - 10 * song) for song in range(1, 8)] + [(8, 0, 6, 0)],
        "track_id long, band int, bucket_key long, order_key long",
    )
    chunks = sorted(sorted(row["members"]) for row in bucket_chunks(keys, max_bucket=3).collect())
    assert chunks == [[1, 2, 3], [4, 5], [6, 7]]  # and song 8, alone in its bucket, is no chunk


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


def engine(playlist_sets, num_perm=128, bands=128, rows_per_band=1, max_bucket=1000, k=3):
    signatures = minhash_signatures(playlist_sets, num_perm)
    recommendations, observations = find_similar_songs(signatures, playlist_sets, bands, rows_per_band, max_bucket, k)
    return recommendations.collect(), observations


def test_whole_engine_finds_every_neighbour_of_a_small_input(spark, playlist_sets):
    # 128 bands of one value: a pair with Jaccard J is missed with probability (1 - J)^128,
    # below 1e-15 for the smallest J here (1/4), so the exact answer is expected.
    rows, _ = engine(playlist_sets)
    assertDataFrameEqual(
        spark.createDataFrame(rows).where("track_id in (1, 2, 5)"),
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


# A giant playlist (id 0, a user's "Starred") of 300 songs. Each song is also in one small playlist:
# songs 3i, 3i+1, 3i+2 share playlist 1000 + i, and songs 0 and 1 also share playlist 999 (so they are
# in playlists {0, 999, 1000}). Songs 900 and 901 are twins outside the giant playlist: {5000, 5001}.
# Exact answers, worked out by hand:
#   a song of a trio shares 2 playlists with each of its two trio partners: J = 2 / 2 = 1 (twins), or
#   for songs 0 and 1 (three playlists each): J(0, 1) = 3 / 3 = 1, J(0, 2) = 2 / 3;
#   any other song of the giant playlist shares only playlist 0: J = 1 / (2 + 2 - 1) = 1/3
#   (or 1/4 against songs 0 and 1).
GIANT = 300


@pytest.fixture
def giant_playlist_sets(spark):
    pairs = [(0, song) for song in range(GIANT)]
    pairs += [(1000 + song // 3, song) for song in range(GIANT)]
    pairs += [(999, 0), (999, 1), (5000, 900), (5001, 900), (5000, 901), (5001, 901)]
    return song_playlist_sets(spark.createDataFrame(pairs, "playlist_id long, track_id long"))


def test_a_giant_playlist_is_cut_yet_every_song_gets_its_exact_best_neighbours(spark, giant_playlist_sets):
    rows, observations = engine(giant_playlist_sets, num_perm=64, bands=32, rows_per_band=2, max_bucket=10, k=3)
    by_song = {}
    for row in rows:
        by_song.setdefault(row["track_id"], []).append(row)
    assert sorted(by_song) == [*range(GIANT), 900, 901]
    for song in range(2, GIANT):
        trio = {3 * (song // 3), 3 * (song // 3) + 1, 3 * (song // 3) + 2} - {song}
        best = sorted(by_song[song], key=lambda row: row["rank"])
        # ranks 1-2: the trio partners (exact J = 1, or 2/3 next to songs 0 and 1); rank 3: a giant-playlist
        # song with J = 1/3, the best any other song reaches
        assert {row["recommended_track_id"] for row in best[:2]} == trio
        assert best[2]["similarity"] == pytest.approx(1 / 3)
    assert [(r["recommended_track_id"], r["similarity"]) for r in by_song[900]] == [(901, 1.0)]
    # The giant playlist's bucket was cut: no chunk holds more than max_bucket songs, so no chunk
    # yields more than 45 pairs (the uncut bucket of up to 300 songs would yield up to 44,850).
    buckets = observations["buckets"].get
    assert buckets["largest_bucket"] > 10
    assert buckets["buckets_cut"] >= 1
    assert buckets["largest_chunk"] <= 10

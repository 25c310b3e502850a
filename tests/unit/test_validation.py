"""The Great Expectations suites in expectations/ accept good outputs and catch broken ones."""

import pytest

from pipeline.settings import EXPECTATIONS_DIR
from pipeline.validation import failures, load_suites, validate_dataframes
from spark_jobs.validate import recommendations_by_song

SONGS = [(1, "A", "Song One", 3), (2, "B", "Song Two", 2), (3, "C", "Song Three", 2)]
GOOD_RECOMMENDATIONS = [(1, 2, 1, 0.5, 2), (1, 3, 2, 0.25, 1), (2, 1, 1, 0.5, 2), (3, 1, 1, 0.25, 1)]
RECOMMENDATIONS_SCHEMA = "track_id long, recommended_track_id long, rank int, similarity double, shared_playlists int"


@pytest.fixture(scope="module")
def recommendation_suites():
    return load_suites(EXPECTATIONS_DIR / "recommendations")


def check(spark, suites, recommendations):
    rows = spark.createDataFrame(recommendations, RECOMMENDATIONS_SCHEMA)
    frames = {
        "songs": spark.createDataFrame(SONGS, "track_id long, artist string, track string, playlist_count long"),
        "recommendations": rows,
        "recommendations_by_song": recommendations_by_song(rows),
    }
    return validate_dataframes(suites, frames, parameters={"top_k": 2})


def test_good_recommendations_pass(spark, recommendation_suites):
    report = check(spark, recommendation_suites, GOOD_RECOMMENDATIONS)
    assert report["success"], failures(report)


@pytest.mark.parametrize(
    ("broken_row", "failed_check"),
    [
        ((2, 2, 2, 0.5, 1), "no song recommends itself"),
        ((2, 3, 3, 0.1, 1), "ranks run 1, 2, ... n without gaps for each song"),
        ((2, 3, 2, 0.0, 1), "expect_column_values_to_be_between {'column': 'similarity'"),
        ((2, 99, 2, 0.1, 1), "every recommended_track_id is a song in songs"),
        ((2, 3, 2, 0.9, 1), "a better rank never has a lower similarity"),
        # song 1's second rank-2 row beats its rank 1 (0.75 > 0.5), though its first (0.25) does not
        ((1, 2, 2, 0.75, 1), "a better rank never has a lower similarity"),
        ((1, 3, 1, 0.25, 1), "each song has at most one recommendation per rank"),
        ((3, 1, 2, 0.25, 1), "each song recommends another song at most once"),
    ],
)
def test_each_kind_of_broken_recommendation_is_caught(spark, recommendation_suites, broken_row, failed_check):
    report = check(spark, recommendation_suites, [*GOOD_RECOMMENDATIONS, broken_row])
    assert not report["success"]
    assert any(failed_check in line for line in failures(report)), failures(report)


def test_each_songs_rows_are_read_together_in_one_row(spark):
    rows = [
        (1, 2, 1, 0.5, 2), (1, 3, 2, 0.25, 1),  # as they should be
        (2, 1, 1, 0.5, 1), (2, 3, 2, 0.3, 1), (2, 4, 2, 0.6, 1),  # rank 2 twice; its 0.6 beats rank 1's 0.5
        (3, 1, 1, 0.4, 1), (3, 1, 3, 0.4, 1), (3, None, None, 0.9, 1),  # song 1 twice, rank 2 missing, nulls
        (4, 1, 2, 0.5, 1), (4, 2, 1, 0.5, 1),  # listed worst rank first; equal similarities do not rise
    ]  # fmt: skip
    by_song = recommendations_by_song(spark.createDataFrame(rows, RECOMMENDATIONS_SCHEMA))

    columns = ["recommendations", "ranks_given", "distinct_ranks", "recommended_given", "distinct_recommended"]
    got = {row.track_id: row.asDict() for row in by_song.collect()}
    assert {track_id: [row[c] for c in columns] for track_id, row in got.items()} == {
        1: [2, 2, 2, 2, 2],
        2: [3, 3, 2, 3, 3],
        3: [3, 2, 2, 2, 1],
        4: [2, 2, 2, 2, 2],
    }
    assert {track_id: (row["best_rank"], row["worst_rank"]) for track_id, row in got.items()} == {
        1: (1, 2),
        2: (1, 2),
        3: (1, 3),
        4: (1, 2),
    }
    assert {track_id: row["similarity_rises"] for track_id, row in got.items()} == {
        1: False,
        2: True,
        3: False,
        4: False,
    }


# The playlists and pairs of an accounting row: 5 pairs, 2 of them in the one held-out playlist.
PAIRS = {
    "min_playlists": 2, "playlists_held_out": 1, "playlist_song_pairs_total": 5, "training_pairs": 3,
    "holdout_pairs": 2,
}  # fmt: skip
HOLDOUT_SCHEMA = "playlist_id long, position int, track_id long, artist_id long, training_playlists long"


def holdout_tracks(spark, playlists: int = 1):
    rows = [(p, position, 10 + position, 1, 0) for p in range(playlists) for position in (1, 2)]
    return spark.createDataFrame(rows[:2] if playlists == 1 else rows, HOLDOUT_SCHEMA)


def test_the_accounting_identity_is_checked(spark):
    suites = [s for s in load_suites(EXPECTATIONS_DIR / "extract") if s["meta"]["dataset"] == "extract_accounting"]
    accounting = {
        "rows_read": 10, "rows_accepted": 8, "rows_rejected": 1,  # one row unaccounted for
        "playlists_by_name": 3, "playlists_by_id": 3, "rejected_malformed_line": 1,
        "rejected_blank_user_id": 0, "rejected_blank_artist": 0, "rejected_blank_track": 0,
        "rejected_invalid_encoding": 0, "rejected_nul_byte": 0, "rejected_name_too_long": 0, "reject_rate": 0.1,
        **PAIRS,
    }  # fmt: skip
    frames = {
        "extract_accounting": spark.createDataFrame([accounting]),
        "rejects": spark.createDataFrame([("garbage", "malformed_line")], "line string, reject_reason string"),
        "holdout_tracks": holdout_tracks(spark),
    }
    report = validate_dataframes(suites, frames, parameters={"max_reject_rate": 0.2})
    assert failures(report) == [
        "extract_accounting: rows read = rows accepted + rows rejected -> {'observed_value': 1}"
    ]


@pytest.mark.parametrize(
    "pairs, playlists, failed_check",
    [
        ({"training_pairs": 2}, 1, "playlist/song pairs = training pairs + held-out pairs"),
        ({}, 2, "every held-out pair and playlist is in holdout_tracks"),
    ],
)
def test_every_playlist_song_pair_is_a_training_or_a_held_out_pair(spark, pairs, playlists, failed_check):
    suites = [s for s in load_suites(EXPECTATIONS_DIR / "extract") if s["meta"]["dataset"] == "extract_accounting"]
    accounting = {
        "rows_read": 10, "rows_accepted": 9, "rows_rejected": 1, "playlists_by_name": 3, "playlists_by_id": 3,
        "rejected_malformed_line": 1, "rejected_blank_user_id": 0, "rejected_blank_artist": 0,
        "rejected_blank_track": 0, "rejected_invalid_encoding": 0, "rejected_nul_byte": 0,
        "rejected_name_too_long": 0, "reject_rate": 0.1, **PAIRS, **pairs,
    }  # fmt: skip
    frames = {
        "extract_accounting": spark.createDataFrame([accounting]),
        "rejects": spark.createDataFrame([("garbage", "malformed_line")], "line string, reject_reason string"),
        "holdout_tracks": holdout_tracks(spark, playlists),
    }
    failed = failures(validate_dataframes(suites, frames, parameters={"max_reject_rate": 0.2}))
    assert len(failed) == 1 and failed_check in failed[0], failed


def test_a_file_that_is_mostly_rejected_stops_at_the_reject_rate(spark):
    # 98.5% of the lines rejected (a file whose quotes were stripped), everything else consistent.
    suites = [s for s in load_suites(EXPECTATIONS_DIR / "extract") if s["meta"]["dataset"] == "extract_accounting"]
    accounting = {
        "rows_read": 1000, "rows_accepted": 15, "rows_rejected": 985, "playlists_by_name": 3, "playlists_by_id": 3,
        "rejected_malformed_line": 985, "rejected_blank_user_id": 0, "rejected_blank_artist": 0,
        "rejected_blank_track": 0, "rejected_invalid_encoding": 0, "rejected_nul_byte": 0,
        "rejected_name_too_long": 0, "reject_rate": 0.985, **PAIRS,
    }  # fmt: skip
    rejects = spark.createDataFrame([("garbage", "malformed_line")] * 985, "line string, reject_reason string")
    frames = {
        "extract_accounting": spark.createDataFrame([accounting]),
        "rejects": rejects,
        "holdout_tracks": holdout_tracks(spark),
    }
    failed = failures(validate_dataframes(suites, frames, parameters={"max_reject_rate": 0.01}))
    assert len(failed) == 1 and "at most max_reject_rate" in failed[0] and "0.985" in failed[0]
    assert failures(validate_dataframes(suites, frames, parameters={"max_reject_rate": 0.99})) == []


@pytest.mark.parametrize(
    "holdout_rows, failed_check",
    [
        # playlist 1 is a training playlist too
        ([(1, 1, 10, 1, 2), (1, 2, 11, 1, 0)], "no held-out playlist is a training playlist"),
        # positions 1, 3: a song of the playlist is missing
        ([(7, 1, 10, 1, 2), (7, 3, 11, 1, 0)], "each held-out playlist's positions are 1, 2, ..., n"),
        # song 10 is in 2 training playlists, not 1
        ([(7, 1, 10, 1, 1), (7, 2, 11, 1, 0)], "a kept song's training playlist count and artist equal its row"),
        # song 12 is in 2 training playlists (min_playlists) but not among the songs
        ([(7, 1, 10, 1, 2), (7, 2, 12, 1, 2)], "a song in at least min_playlists training playlists is in songs"),
        # song 10 twice in playlist 7
        ([(7, 1, 10, 1, 2), (7, 2, 10, 1, 2)], "each playlist holds a song at most once"),
    ],
)
def test_the_held_out_playlists_are_checked_against_training(spark, holdout_rows, failed_check):
    suites = [s for s in load_suites(EXPECTATIONS_DIR / "extract") if s["meta"]["dataset"] == "holdout_tracks"]
    frames = {
        "holdout_tracks": spark.createDataFrame(holdout_rows, HOLDOUT_SCHEMA),
        "playlist_tracks": spark.createDataFrame([(1, 10), (2, 10)], "playlist_id long, track_id long"),
        "songs": spark.createDataFrame(
            [(10, 1, "A", "B", 2)], "track_id long, artist_id long, artist string, track string, playlist_count long"
        ),
        "extract_accounting": spark.createDataFrame([{"min_playlists": 2}]),
    }
    failed = failures(validate_dataframes(suites, frames))
    assert len(failed) == 1 and failed_check in failed[0], failed
    good = [(7, 1, 10, 1, 2), (7, 2, 11, 1, 0)]
    frames["holdout_tracks"] = spark.createDataFrame(good, HOLDOUT_SCHEMA)
    assert failures(validate_dataframes(suites, frames)) == []

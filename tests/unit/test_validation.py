"""The Great Expectations suites in expectations/ accept good outputs and catch broken ones."""

import pytest

from pipeline.settings import EXPECTATIONS_DIR
from pipeline.validation import failures, load_suites, validate_dataframes

SONGS = [(1, "A", "Song One", 3), (2, "B", "Song Two", 2), (3, "C", "Song Three", 2)]
GOOD_RECOMMENDATIONS = [(1, 2, 1, 0.5, 2), (1, 3, 2, 0.25, 1), (2, 1, 1, 0.5, 2), (3, 1, 1, 0.25, 1)]
RECOMMENDATIONS_SCHEMA = "track_id long, recommended_track_id long, rank int, similarity double, shared_playlists int"


@pytest.fixture(scope="module")
def recommendation_suites():
    return load_suites(EXPECTATIONS_DIR / "recommendations")


def check(spark, suites, recommendations):
    frames = {
        "songs": spark.createDataFrame(SONGS, "track_id long, artist string, track string, playlist_count long"),
        "recommendations": spark.createDataFrame(recommendations, RECOMMENDATIONS_SCHEMA),
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
    ],
)
def test_each_kind_of_broken_recommendation_is_caught(spark, recommendation_suites, broken_row, failed_check):
    report = check(spark, recommendation_suites, [*GOOD_RECOMMENDATIONS, broken_row])
    assert not report["success"]
    assert any(failed_check in line for line in failures(report)), failures(report)


def test_the_accounting_identity_is_checked(spark):
    suites = [s for s in load_suites(EXPECTATIONS_DIR / "extract") if s["meta"]["dataset"] == "extract_accounting"]
    accounting = {
        "rows_read": 10, "rows_accepted": 8, "rows_rejected": 1,  # one row unaccounted for
        "playlists_by_name": 3, "playlists_by_id": 3, "rejected_malformed_line": 1,
        "rejected_blank_user_id": 0, "rejected_blank_artist": 0, "rejected_blank_track": 0,
        "rejected_invalid_encoding": 0, "rejected_nul_byte": 0, "rejected_name_too_long": 0, "reject_rate": 0.1,
    }  # fmt: skip
    frames = {
        "extract_accounting": spark.createDataFrame([accounting]),
        "rejects": spark.createDataFrame([("garbage", "malformed_line")], "line string, reject_reason string"),
    }
    report = validate_dataframes(suites, frames, parameters={"max_reject_rate": 0.2})
    assert failures(report) == [
        "extract_accounting: rows read = rows accepted + rows rejected -> {'observed_value': 1}"
    ]


def test_a_file_that_is_mostly_rejected_stops_at_the_reject_rate(spark):
    # 98.5% of the lines rejected (a file whose quotes were stripped), everything else consistent.
    suites = [s for s in load_suites(EXPECTATIONS_DIR / "extract") if s["meta"]["dataset"] == "extract_accounting"]
    accounting = {
        "rows_read": 1000, "rows_accepted": 15, "rows_rejected": 985, "playlists_by_name": 3, "playlists_by_id": 3,
        "rejected_malformed_line": 985, "rejected_blank_user_id": 0, "rejected_blank_artist": 0,
        "rejected_blank_track": 0, "rejected_invalid_encoding": 0, "rejected_nul_byte": 0,
        "rejected_name_too_long": 0, "reject_rate": 0.985,
    }  # fmt: skip
    rejects = spark.createDataFrame([("garbage", "malformed_line")] * 985, "line string, reject_reason string")
    frames = {"extract_accounting": spark.createDataFrame([accounting]), "rejects": rejects}
    failed = failures(validate_dataframes(suites, frames, parameters={"max_reject_rate": 0.01}))
    assert len(failed) == 1 and "at most max_reject_rate" in failed[0] and "0.985" in failed[0]
    assert failures(validate_dataframes(suites, frames, parameters={"max_reject_rate": 0.99})) == []

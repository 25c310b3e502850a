"""A job validates its own outputs in its session (validate_stage); the DAG's task reads the verdict (check_report)."""

import json

import pytest

from pipeline.run_folder import RunFolder
from pipeline.settings import EXPECTATIONS_DIR
from pipeline.validation import ValidationFailed, check_report, load_suites
from spark_jobs.validate import prepare_validation, validate_stage
from tests.unit.test_validation import GOOD_RECOMMENDATIONS, RECOMMENDATIONS_SCHEMA, SONGS

# The recommendations stage's two suites hold 16 expectations (expectations/recommendations/*.json).
RECOMMENDATION_EXPECTATIONS = 16
SUITES = load_suites(EXPECTATIONS_DIR / "recommendations")


def write_outputs(spark, run: RunFolder, recommendations: list[tuple]) -> None:
    songs = spark.createDataFrame(SONGS, "track_id long, artist string, track string, playlist_count long")
    songs.write.parquet(run.dataset("songs"))
    spark.createDataFrame(recommendations, RECOMMENDATIONS_SCHEMA).write.parquet(run.dataset("recommendations"))


def test_good_outputs_pass_and_the_task_reads_that_verdict(spark, tmp_path):
    run = RunFolder(tmp_path)
    write_outputs(spark, run, GOOD_RECOMMENDATIONS)

    assert validate_stage(spark, run, "recommendations", SUITES, {"top_k": 2}) == []

    assert check_report(run, "recommendations") == {
        "success": True,
        "expectations": RECOMMENDATION_EXPECTATIONS,
        "failed": 0,
    }
    assert run.read_metrics("validate_recommendations")["seconds"] > 0
    assert run.data_docs_index.exists()


def test_a_failed_expectation_fails_the_task_with_what_failed(spark, tmp_path):
    run = RunFolder(tmp_path)
    write_outputs(spark, run, [*GOOD_RECOMMENDATIONS, (2, 2, 2, 0.5, 1)])  # song 2 recommends itself

    failed = validate_stage(spark, run, "recommendations", SUITES, {"top_k": 2})

    assert len(failed) == 1 and "no song recommends itself" in failed[0], failed
    with pytest.raises(ValidationFailed, match="recommendations outputs failed 1 expectation") as raised:
        check_report(run, "recommendations")
    assert "no song recommends itself" in str(raised.value)
    assert json.loads(run.validation_file("recommendations").read_text())["success"] is False


def test_no_report_is_a_failure_not_a_pass(tmp_path):
    with pytest.raises(ValidationFailed, match="no validation report"):
        check_report(RunFolder(tmp_path), "extract")


def test_a_producing_job_removes_the_last_attempts_report_before_it_starts(tmp_path):
    run = RunFolder(tmp_path)
    for suites_dir in (None, EXPECTATIONS_DIR):  # whether or not the job validates
        run.write_validation("extract", {"success": True, "suites": []})
        prepare_validation(run, suites_dir, "extract")
        with pytest.raises(ValidationFailed, match="no validation report"):
            check_report(run, "extract")
    prepare_validation(run, None, "extract")  # none left: not an error


def test_a_missing_suite_fails_the_job_before_its_work(tmp_path):
    run = RunFolder(tmp_path)
    with pytest.raises(FileNotFoundError, match="no expectation suites"):
        prepare_validation(run, str(tmp_path / "empty"), "extract")
    assert prepare_validation(run, None, "extract") is None  # no --suites-dir: the job does not validate
    assert [suite["name"] for suite in prepare_validation(run, EXPECTATIONS_DIR, "recommendations")] == [
        "recommendations",
        "recommendations_by_song",
    ]

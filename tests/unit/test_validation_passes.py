"""How suites run: one aggregation for a batch's column checks; examples only for a suite that failed."""

from pipeline.validation import failures, validate_dataframes, validate_pandas_frames
from tests.unit.test_gx_expectations import numbers

NOT_NULL = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "number"}}


def between(low: int, high: int) -> dict:
    kwargs = {"column": "number", "min_value": low, "max_value": high}
    return {"type": "expect_column_values_to_be_between", "kwargs": kwargs}


def suite(*expectations: dict, name: str = "numbers") -> dict:
    return {"name": name, "meta": {"dataset": "numbers"}, "expectations": list(expectations)}


def spark_jobs_of(spark, suites: list[dict], frame) -> tuple[dict, int]:
    """The report of validating ``frame``, and how many Spark jobs that took (the cache emptied first)."""
    spark.catalog.clearCache()
    context = spark.sparkContext
    group = f"validation-passes-{len(suites[0]['expectations'])}"
    context.setJobGroup(group, "counted by the test")
    try:
        report = validate_dataframes(suites, {"numbers": frame})
    finally:
        for name in ("spark.jobGroup.id", "spark.job.description"):  # what setJobGroup set, on the shared session
            context.setLocalProperty(name, None)
    return report, len(context.statusTracker().getJobIdsForGroup(group))


def test_a_passing_suites_column_checks_add_no_spark_job_each(spark):
    # GX's default result format fetches up to 20 unexpected values per column expectation: one
    # more Spark job each, reading the whole batch when there is none. Counted instead, the checks of
    # one batch share one aggregation, so four column checks take the jobs one takes.
    one = suite(NOT_NULL)
    four = suite(NOT_NULL, between(0, 100), between(1, 30), between(-5, 50))
    one_report, one_jobs = spark_jobs_of(spark, [one], numbers(spark, 30))
    four_report, four_jobs = spark_jobs_of(spark, [four], numbers(spark, 30))
    assert one_report["success"] and four_report["success"], failures(four_report)
    assert four_jobs == one_jobs
    # The counts are still reported: 30 values checked, none unexpected, for each check.
    counts = [(r["element_count"], r["unexpected_count"]) for r in four_report["suites"][0]["results"]]
    assert counts == [(30, 0)] * 4


def test_a_failed_column_check_is_reported_with_examples_of_its_values(spark):
    report = validate_dataframes([suite(NOT_NULL, between(1, 5))], {"numbers": numbers(spark, 8)})
    assert not report["success"]
    not_null, in_range = report["suites"][0]["results"]
    assert not_null["success"] and not_null["unexpected_count"] == 0
    assert not in_range["success"]
    assert (in_range["element_count"], in_range["unexpected_count"]) == (8, 3)
    assert sorted(in_range["partial_unexpected_list"]) == [6, 7, 8]
    (line,) = failures(report)
    assert "'unexpected_count': 3" in line and "6" in line


def test_pandas_frames_are_counted_and_failures_shown_alike():
    import pandas as pd

    frame = pd.DataFrame({"number": [1, 2, 3, 40]})
    passing = validate_pandas_frames([suite(between(1, 100))], {"numbers": frame})
    assert passing["success"] and passing["suites"][0]["results"][0]["unexpected_count"] == 0
    failing = validate_pandas_frames([suite(between(1, 10))], {"numbers": frame})
    (result,) = failing["suites"][0]["results"]
    assert (result["success"], result["unexpected_count"], result["partial_unexpected_list"]) == (False, 1, [40])

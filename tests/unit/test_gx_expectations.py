"""expect_query_to_return_no_rows: the verdict and count of GX's unexpected_rows_expectation, one query."""

from pathlib import Path

from pipeline.run_folder import RunFolder
from pipeline.validation import failures, validate_dataframes


def suite(query: str, name: str = "numbers") -> dict:
    return {
        "name": name,
        "meta": {"dataset": "numbers"},
        "expectations": [
            {
                "type": "expect_query_to_return_no_rows",
                "kwargs": {"unexpected_rows_query": query},
                "description": "no number is odd",
            }
        ],
    }


def numbers(spark, n: int):
    return spark.range(1, n + 1).withColumnRenamed("id", "number")


def test_a_query_that_returns_no_row_passes(spark):
    report = validate_dataframes([suite("select * from {batch} where number > 10")], {"numbers": numbers(spark, 10)})
    assert report["success"], failures(report)
    assert report["suites"][0]["results"][0]["observed_value"] == 0


def test_every_returned_row_is_counted_beyond_the_200_gx_fetches(spark):
    # 1..501 holds 251 odd numbers: more than the 200 rows GX's own table metric would fetch.
    odd = suite("select * from {batch} where number % 2 = 1")
    report = validate_dataframes([odd], {"numbers": numbers(spark, 501)})
    assert not report["success"]
    result = report["suites"][0]["results"][0]
    assert (result["success"], result["observed_value"]) == (False, 251)
    assert failures(report) == ["numbers: no number is odd -> {'observed_value': 251}"]


def test_the_query_runs_once(spark):
    # A Python UDF in the query counts the rows it is called on: one full run over 40 rows calls it
    # 40 times; GX's own unexpected_rows_expectation runs the query twice (80 calls).
    calls = spark.sparkContext.accumulator(0)

    def seen(number):
        calls.add(1)
        return number < 0

    spark.udf.register("seen_once_test", seen, "boolean")
    report = validate_dataframes(
        [suite("select * from {batch} where seen_once_test(number)")], {"numbers": numbers(spark, 40).repartition(1)}
    )
    assert report["success"], failures(report)
    assert calls.value == 40


def test_the_data_docs_show_the_check(spark, tmp_path: Path):
    run = RunFolder(tmp_path)
    above_ten = suite("select * from {batch} where number > 10", name="numbers_docs")
    validate_dataframes([above_ten], {"numbers": numbers(spark, 10)}, project_dir=run.gx_project_root)
    assert "numbers_docs" in run.data_docs_index.read_text()
    (page,) = (run.data_docs_index.parent / "validations" / "numbers_docs").rglob("*.html")
    assert "no number is odd" in page.read_text() and "Succeeded" in page.read_text()

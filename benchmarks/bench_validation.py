"""The validate jobs' Great Expectations suites on a real run folder: seconds per stage and per suite.

``make bench-validation RUN_DIR=<a run folder>`` (e.g. the newest one under
``data/runs/spotify_recommendations/``; ``BENCH_ARGS="--suites-dir <folder>"`` times other suites,
such as an older commit's ``expectations/``, on the same data). One Spark session with the
settings every job is submitted with (``pipeline.settings.spark_conf``) and the driver memory of
``SPOTIFY_RECS_SPARK_DRIVER_MEMORY``; for each Spark stage (``extract``, ``recommendations``) it
reads the stage's datasets as the validate job does, then times each suite alone and the whole
stage as the job runs it (every suite, the run's Data Docs rebuilt: here in a temporary GX
project, so the run folder is left as it was). Spark's cache is emptied before each figure, so
each starts from the Parquet files as the job does. Prints the figures (``--json`` also writes
them) and fails when a suite fails. Run it alone: a second job on 2 cores doubles every figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.report import print_figures
from pipeline.run_folder import RunFolder
from pipeline.settings import EXPECTATIONS_DIR, SPARK_DRIVER_MEMORY, spark_conf
from pipeline.validation import failures, load_suites, validate_dataframes
from spark_jobs import validate
from spark_jobs.session import build_session

SPARK_STAGES = ("extract", "recommendations")


def bench_session():
    """A local session as spark-submit would start a job's: the jobs' settings, then the job's own."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[*]").appName("bench-validation")
    for name, value in {**spark_conf(), "spark.driver.memory": SPARK_DRIVER_MEMORY.raw()}.items():
        builder = builder.config(name, value)
    builder.getOrCreate()
    return build_session()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_validation", description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="a run folder the DAG wrote")
    parser.add_argument("--suites-dir", type=Path, default=EXPECTATIONS_DIR, help="default: expectations/")
    parser.add_argument("--stages", default=",".join(SPARK_STAGES), help="comma-separated (default: both)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    run = RunFolder(args.run_dir)
    started = time.perf_counter()
    spark = bench_session()
    figures: dict[str, object] = {"spark session start (s)": round(time.perf_counter() - started, 1)}
    broken = []
    for stage in args.stages.split(","):
        job_args = validate.parse_args(["--run-dir", str(run.path), "--stage", stage, "--suites-dir", "-"])
        parameters = validate.suite_parameters(job_args)
        suites = load_suites(args.suites_dir / stage)
        for suite in suites:
            spark.catalog.clearCache()  # every figure starts from the Parquet files
            started = time.perf_counter()
            frames = validate.stage_frames(spark, run, stage)
            report = validate_dataframes([suite], frames, parameters=parameters)
            figures[f"{stage}: {suite['name']} alone (s)"] = round(time.perf_counter() - started, 1)
            broken += failures(report)
        with tempfile.TemporaryDirectory() as project:
            spark.catalog.clearCache()
            started = time.perf_counter()
            frames = validate.stage_frames(spark, run, stage)
            validate_dataframes(suites, frames, parameters=parameters, project_dir=project)
            figures[f"{stage}: every suite and the Data Docs, as the job (s)"] = round(time.perf_counter() - started, 1)
    print_figures(figures, args.json)
    if broken:
        raise SystemExit("the run's outputs failed expectations:\n" + "\n".join(broken))


if __name__ == "__main__":
    main()

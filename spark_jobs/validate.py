"""Validate a stage's outputs with Great Expectations before anything downstream uses them.

Inputs: the run folder's datasets and metrics, and the suites in
``<suites-dir>/<stage>/*.json`` (each names its dataset in ``meta.dataset``).
Output: ``validation/<stage>.json`` (the report), ``metrics/validate_<stage>.json`` (its seconds) and
the run's Data Docs.

The jobs that write a stage's outputs (``extract``, ``similarity_join``) call ``validate_stage`` in
their own Spark session once the outputs are written (``--suites-dir``), so a validation pays no
second Spark start; the DAG's ``validate_<stage>`` task then reads the report and stops the run when
an expectation failed (``pipeline.validation.check_report``). Run as a script, this module validates
a run folder's stage again by hand (e.g. with changed suites), and exits with status 1, every failed
expectation listed, when any failed.

Besides the Parquet datasets, suites can validate ``extract_accounting``: one
row built from ``metrics/extract.json`` (the row accounting of the extract job: lines, playlists,
training and held-out pairs).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from pipeline.run_folder import RunFolder
from pipeline.validation import failures, load_suites, validate_dataframes
from spark_jobs.session import build_session

STAGE_DATASETS = {
    "extract": ["songs", "playlist_tracks", "holdout_tracks", "rejects"],
    "recommendations": ["songs", "recommendations"],
}
ACCOUNTING_COLUMNS = [
    "rows_read",
    "rows_accepted",
    "rows_rejected",
    "playlists_by_name",
    "playlists_by_id",
    "min_playlists",
    "playlists_held_out",
    "playlist_song_pairs_total",
    "training_pairs",
    "holdout_pairs",
]


def accounting_frame(spark: SparkSession, metrics: dict) -> DataFrame:
    """One row: the extract job's row accounting, with one column per reject reason and the reject rate.

    Built from literals in the JVM, so no executor needs a Python worker (a cluster's may have none).
    """
    row = {name: int(metrics[name]) for name in ACCOUNTING_COLUMNS}
    row.update({f"rejected_{reason}": int(n) for reason, n in metrics["rows_rejected_by_reason"].items()})
    reject_rate = row["rows_rejected"] / row["rows_read"] if row["rows_read"] else 0.0
    return spark.range(1).select(
        *[F.lit(value).cast("long").alias(name) for name, value in row.items()],
        F.lit(reject_rate).cast("double").alias("reject_rate"),
    )


def recommendations_by_song(recommendations: DataFrame) -> DataFrame:
    """One row per song of ``recommendations``: what its per-song checks compare, from one shuffle.

    Columns: ``track_id``; ``recommendations`` (its rows); ``ranks_given`` and ``distinct_ranks`` (its
    non-null ranks, all and distinct); ``recommended_given`` and ``distinct_recommended`` (the same for
    ``recommended_track_id``); ``best_rank`` and ``worst_rank``; ``similarity_rises``: some row has a
    higher similarity than a row with a better (lower) rank.

    Four checks (``recommendations_by_song.json``) on 31M rows each grouped them by song: a shuffle of
    every row, four times. Here the rows are shuffled by song once; within a song they are sorted by
    rank (the window the similarity check always used, and ``lag`` counts repeated ranks as neighbours),
    then by recommended song (repeats again as neighbours), and summed per song without another shuffle.
    """
    by_rank = Window.partitionBy("track_id").orderBy("rank")
    by_recommended = Window.partitionBy("track_id").orderBy("recommended_track_id")
    rank, recommended = F.col("rank"), F.col("recommended_track_id")
    ordered = recommendations.select(
        "track_id",
        "rank",
        "similarity",
        "recommended_track_id",
        F.min("similarity").over(by_rank.rangeBetween(Window.unboundedPreceding, -1)).alias("lowest_better_ranked"),
        F.lag("rank").over(by_rank).alias("previous_rank"),
        F.lag("recommended_track_id").over(by_recommended).alias("previous_recommended"),
    )
    return ordered.groupBy("track_id").agg(
        F.count("*").alias("recommendations"),
        F.count(rank).alias("ranks_given"),
        (F.count(rank) - F.count_if(rank == F.col("previous_rank"))).alias("distinct_ranks"),
        F.count(recommended).alias("recommended_given"),
        (F.count(recommended) - F.count_if(recommended == F.col("previous_recommended"))).alias("distinct_recommended"),
        F.min(rank).alias("best_rank"),
        F.max(rank).alias("worst_rank"),
        (F.count_if(F.col("lowest_better_ranked") < F.col("similarity")) > 0).alias("similarity_rises"),
    )


def stage_frames(spark: SparkSession, run: RunFolder, stage: str) -> dict[str, DataFrame]:
    """The DataFrames a stage's suites validate, by the names the suites use (``validate_dataframes`` also
    registers each as a temp view, for the suites' SQL). Cached: the per-song view of the recommendations
    (small, read by four checks); ``release_frames`` frees it."""
    frames = {name: spark.read.parquet(run.dataset(name)) for name in STAGE_DATASETS[stage]}
    if stage == "extract":
        # The extract job's row accounting is one of its outputs.
        frames["extract_accounting"] = accounting_frame(spark, run.read_metrics("extract"))
    if stage == "recommendations":
        frames["recommendations_by_song"] = recommendations_by_song(frames["recommendations"]).cache()
    return frames


def release_frames(frames: dict[str, DataFrame]) -> None:
    """Free what ``stage_frames`` cached."""
    for frame in frames.values():
        frame.unpersist()


def start_importing_great_expectations() -> None:
    """Import Great Expectations in a thread while the job starts Spark and does its work: its import (3 to
    4 s here) would otherwise come first in ``validate_stage``. It shares nothing with the job but Python's
    import locks.

    An import that fails here is not lost: ``validate_stage`` imports it again and fails with its error.
    """

    def load() -> None:
        try:
            import great_expectations  # noqa: F401

            import pipeline.gx_expectations  # noqa: F401
        except Exception:  # noqa: BLE001,S110 (raised again, with its traceback, where it is needed)
            pass

    threading.Thread(target=load, name="import great_expectations", daemon=True).start()


def add_suites_dir_argument(parser: argparse.ArgumentParser, stage: str) -> None:
    """A producing job's ``--suites-dir``: validate its outputs in its own session once they are written."""
    parser.add_argument(
        "--suites-dir",
        help=f"validate the outputs with the suites of <suites-dir>/{stage} in this job's Spark session, "
        f"writing validation/{stage}.json and the Data Docs (default: not validated here)",
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="validate", description="Validate a stage's outputs with Great Expectations.")
    parser.add_argument("--run-dir", required=True, help="this run's folder for intermediate data")
    parser.add_argument("--stage", required=True, choices=sorted(STAGE_DATASETS), help="which outputs to validate")
    parser.add_argument("--suites-dir", required=True, help="folder holding one sub-folder of suites per stage")
    parser.add_argument("--top-k", type=int, default=20, help="the run's top_k, a suite parameter (default 20)")
    parser.add_argument(
        "--min-playlists", type=int, default=2, help="the run's min_playlists, a suite parameter (default 2)"
    )
    parser.add_argument(
        "--max-reject-rate",
        type=float,
        default=0.01,
        help="the run's max_reject_rate, a suite parameter: the largest share of rejected lines (default 0.01)",
    )
    return parser.parse_args(argv)


def suite_parameters(args: argparse.Namespace) -> dict[str, int | float]:
    """The run's values of the suites' ``$PARAMETER``s."""
    return {"top_k": args.top_k, "min_playlists": args.min_playlists, "max_reject_rate": args.max_reject_rate}


def validate_stage(
    spark: SparkSession,
    run: RunFolder,
    stage: str,
    suites: list[dict[str, Any]],
    parameters: dict[str, int | float],
) -> list[str]:
    """Validate the stage's outputs in ``spark`` with ``suites`` (``load_suites(<suites dir>/<stage>)``).

    Writes the report, its seconds and the Data Docs; returns one line per failed expectation (none: passed).
    """
    started = time.monotonic()
    frames = stage_frames(spark, run, stage)
    try:
        report = validate_dataframes(suites, frames, parameters=parameters, project_dir=run.gx_project_root)
    finally:
        release_frames(frames)
    run.write_validation(stage, report)
    run.write_metrics(f"validate_{stage}", {"seconds": round(time.monotonic() - started, 3)})
    failed = failures(report)
    if failed:
        print(f"validation of {stage} FAILED ({len(failed)} expectation(s)):", *failed, sep="\n  ")
    else:
        checked = sum(len(suite["results"]) for suite in report["suites"])
        print(f"validation of {stage} passed: {checked} expectations in {len(report['suites'])} suites")
    return failed


def prepare_validation(run: RunFolder, suites_dir: str | None, stage: str) -> list[dict[str, Any]] | None:
    """What a producing job does before its work: remove the stage's last report (an earlier attempt's must
    not speak for this one); with ``--suites-dir``, load the stage's suites, so a missing or broken suite
    fails at once rather than after the compute, and start Great Expectations' import. The suites, or None
    without ``--suites-dir`` (the job does not validate)."""
    run.discard_validation(stage)
    if not suites_dir:
        return None
    suites = load_suites(Path(suites_dir) / stage)
    start_importing_great_expectations()
    return suites


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = build_session()
    try:
        suites = load_suites(Path(args.suites_dir) / args.stage)
        failed = validate_stage(spark, RunFolder(args.run_dir), args.stage, suites, suite_parameters(args))
    finally:
        spark.stop()
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

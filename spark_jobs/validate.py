"""Validate a stage's outputs with Great Expectations before anything downstream uses them.

Inputs: the run folder's datasets and metrics, and the suites in
``<suites-dir>/<stage>/*.json`` (each names its dataset in ``meta.dataset``).
Output: ``validation/<stage>.json`` (the report). Exit status 1, with every
failed expectation listed, when any expectation fails, so the Airflow task fails
and nothing downstream (publish) runs.

Besides the Parquet datasets, suites can validate ``extract_accounting``: one
row built from ``metrics/extract.json`` (the row accounting of the extract job: lines, playlists,
training and held-out pairs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

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


def stage_frames(spark: SparkSession, run: RunFolder, stage: str) -> dict[str, DataFrame]:
    """The DataFrames a stage's suites validate, by the names the suites use (``validate_dataframes`` also
    registers each as a temp view, for the suites' SQL)."""
    frames = {name: spark.read.parquet(run.dataset(name)) for name in STAGE_DATASETS[stage]}
    if stage == "extract":
        # The extract job's row accounting is one of its outputs.
        frames["extract_accounting"] = accounting_frame(spark, run.read_metrics("extract"))
    return frames


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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run = RunFolder(args.run_dir)
    started = time.monotonic()
    suites = load_suites(Path(args.suites_dir) / args.stage)
    spark = build_session()
    frames = stage_frames(spark, run, args.stage)
    report = validate_dataframes(suites, frames, parameters=suite_parameters(args), project_dir=run.gx_project_root)
    run.write_validation(args.stage, report)
    run.write_metrics(f"validate_{args.stage}", {"seconds": round(time.monotonic() - started, 3)})
    spark.stop()
    failed = failures(report)
    if failed:
        print(f"validation of {args.stage} FAILED ({len(failed)} expectation(s)):", *failed, sep="\n  ")
        sys.exit(1)
    checked = sum(len(s["results"]) for s in report["suites"])
    print(f"validation of {args.stage} passed: {checked} expectations in {len(report['suites'])} suites")


if __name__ == "__main__":
    main()

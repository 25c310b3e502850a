"""Helpers every Spark job's ``main`` shares: the session, run folder layout, metrics files.

No transform lives here; the jobs' pure functions take and return DataFrames.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pyspark.sql import SparkSession


def build_session() -> SparkSession:
    """The job's one Spark session. The master, resources and its name (``--name``) come from spark-submit."""
    return (
        SparkSession.builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.adaptive.enabled", "true")
        .getOrCreate()
    )


class RunFolder:
    """Where one pipeline run keeps its intermediate data (one folder per run)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).resolve()

    def dataset(self, name: str) -> str:
        return str(self.path / "datasets" / name)

    def metrics_file(self, stage: str) -> Path:
        return self.path / "metrics" / f"{stage}.json"

    def validation_file(self, stage: str) -> Path:
        return self.path / "validation" / f"{stage}.json"

    def write_metrics(self, stage: str, metrics: dict) -> Path:
        return write_json(self.metrics_file(stage), metrics)

    def read_metrics(self, stage: str) -> dict:
        return json.loads(self.metrics_file(stage).read_text())


def write_json(path: Path, content: dict) -> Path:
    """Write JSON through a temporary file and a rename, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(content, indent=2, sort_keys=True, default=str) + "\n")
    partial.replace(path)
    return path

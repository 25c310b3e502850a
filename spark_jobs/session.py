"""The one Spark session a job's ``main`` builds. No transform lives here."""

from __future__ import annotations

from pyspark.sql import SparkSession


def build_session() -> SparkSession:
    """The job's Spark session. The master, resources and its name (``--name``) come from spark-submit."""
    return (
        SparkSession.builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.adaptive.enabled", "true")
        .getOrCreate()
    )

"""The DAG's Spark operator under a real spark-submit: the driver JVM of a job on a small source runs with
C1 alone, one on a large source with the JVM's default compilers (the JVM's own list of its arguments)."""

from __future__ import annotations

import sys

import pytest

from operators.spark_job import SparkJobOperator
from pipeline import settings
from pipeline.driver_compiler import C1_ONLY, SMALL_SOURCE_BYTES

pytestmark = pytest.mark.slow

APP = """
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
arguments = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
with open(sys.argv[1], "w") as out:
    out.write("\\n".join(str(argument) for argument in arguments))
spark.stop()
"""


def driver_arguments(tmp_path, source_size: int) -> list[str]:
    source = tmp_path / f"source-{source_size}.zip"
    with open(source, "wb") as handle:
        handle.truncate(source_size)
    app = tmp_path / "arguments.py"
    app.write_text(APP)
    out = tmp_path / f"arguments-{source_size}.txt"
    SparkJobOperator(
        task_id="arguments",
        application=str(app),
        application_args=[str(out)],
        conn_id="spark_default",
        conf=settings.spark_python_conf(sys.executable),
        source_zip=str(source),
    ).execute({})
    return out.read_text().splitlines()


def test_the_driver_compiles_with_c1_alone_only_for_a_small_source(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_RECS_SPARK_CLASS_SHARING", "off")
    assert C1_ONLY in driver_arguments(tmp_path, 1_000_000)
    assert not any(
        argument.startswith("-XX:TieredStopAtLevel") for argument in driver_arguments(tmp_path, SMALL_SOURCE_BYTES + 1)
    )

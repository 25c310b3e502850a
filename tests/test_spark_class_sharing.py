"""The DAG's Spark operator under a real spark-submit: the first job writes the drivers' class
archive, the next job's driver loads Spark's classes from it (the JVM's own class-loading log says
where each class came from)."""

from __future__ import annotations

import sys

import pytest

from operators.spark_job import SparkJobOperator
from pipeline import settings

pytestmark = pytest.mark.slow

APP = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
assert spark.range(10).count() == 10
spark.stop()
"""


def run_job(app, class_log, task_id) -> None:
    conf = {
        **settings.spark_python_conf(sys.executable),
        "spark.driver.extraJavaOptions": f"-Xlog:class+load=info:file={class_log}",
    }
    SparkJobOperator(task_id=task_id, application=str(app), conn_id="spark_default", conf=conf).execute({})


def from_the_archive(class_log) -> int:
    """Classes the driver took from the dynamic (top) archive, the one the jobs write."""
    return sum("source: shared objects file (top)" in line for line in class_log.read_text().splitlines())


def test_the_first_job_writes_the_class_archive_and_the_next_driver_loads_spark_from_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_RECS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SPOTIFY_RECS_SPARK_CLASS_SHARING", raising=False)
    app = tmp_path / "count.py"
    app.write_text(APP)
    archive_dir = tmp_path / "data" / "spark-classes"

    run_job(app, tmp_path / "first.log", "first")
    archives = list(archive_dir.iterdir())
    assert len(archives) == 1 and archives[0].suffix == ".jsa"  # the dump, renamed; no scratch file left
    assert from_the_archive(tmp_path / "first.log") == 0

    run_job(app, tmp_path / "second.log", "second")
    second = (tmp_path / "second.log").read_text()
    assert "org.apache.spark.SparkContext source: shared objects file (top)" in second
    assert from_the_archive(tmp_path / "second.log") > 1000
    assert list(archive_dir.iterdir()) == archives


def test_with_class_sharing_off_no_archive_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_RECS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPOTIFY_RECS_SPARK_CLASS_SHARING", "off")
    app = tmp_path / "count.py"
    app.write_text(APP)
    run_job(app, tmp_path / "off.log", "off")
    assert not (tmp_path / "data" / "spark-classes").exists()
    assert from_the_archive(tmp_path / "off.log") == 0

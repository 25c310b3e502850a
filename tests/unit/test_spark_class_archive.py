"""The Spark drivers' class archive: a whole dump becomes the archive, a torn one never does.

The dumps here come from a real JVM (``java -XX:ArchiveClassesAtExit=... -version``, under a second);
whether a JVM maps an archive is read from its own ``-Xlog:cds`` output.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from pipeline import settings
from pipeline.spark_class_archive import adopt, discard_scratch, plan, with_java_option


def dump_classes(java: str, into: Path) -> None:
    """What a job's driver does at exit with the dump option: write the classes it loaded."""
    subprocess.run([java, f"-XX:ArchiveClassesAtExit={into}", "-version"], capture_output=True, check=True)


def maps_archive(java: str, archive: Path, cwd: Path | None = None) -> bool:
    result = subprocess.run(
        [java, "-Xlog:cds", f"-XX:SharedArchiveFile={archive}", "-version"], capture_output=True, text=True, cwd=cwd
    )
    return result.returncode == 0 and "Mapped dynamic region" in result.stdout


def test_the_first_job_dumps_and_every_later_job_maps_the_archive(tmp_path):
    first = plan(tmp_path)
    assert first is not None and first.scratch is not None
    assert first.scratch.parent == tmp_path and not first.archive.exists()
    assert first.java_option == f"-XX:ArchiveClassesAtExit={first.scratch}"

    dump_classes(first.java, first.scratch)
    assert adopt(first)
    discard_scratch(first)
    assert first.archive.is_file() and not first.scratch.exists()
    assert maps_archive(first.java, first.archive)

    later = plan(tmp_path)
    assert later is not None and later.scratch is None
    assert later.archive == first.archive
    assert later.java_option == f"-XX:SharedArchiveFile={first.archive}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.archive.name]


def test_two_jobs_dumping_at_once_write_different_files(tmp_path):
    one, other = plan(tmp_path), plan(tmp_path)
    assert one is not None and other is not None
    assert one.scratch != other.scratch
    assert one.archive == other.archive


def test_a_torn_dump_is_never_adopted_and_leaves_no_crash_report(tmp_path):
    folder = tmp_path / "spark-classes"
    job = plan(folder)
    assert job is not None and job.scratch is not None
    dump_classes(job.java, job.scratch)
    whole = job.scratch.read_bytes()
    job.scratch.chmod(0o600)
    job.scratch.write_bytes(whole[: len(whole) // 2])  # a JVM killed while writing it
    assert not maps_archive(job.java, job.scratch, cwd=tmp_path)  # mapping it crashes a JVM (report in tmp_path)

    assert not adopt(job)
    discard_scratch(job)
    assert list(folder.iterdir()) == []  # no archive, no scratch file, no hs_err_pid*.log
    assert not list(Path.cwd().glob("hs_err_pid*.log"))


def test_a_failed_job_leaves_no_scratch_file(tmp_path):
    job = plan(tmp_path)
    assert job is not None and job.scratch is not None
    assert not adopt(job)  # the job failed before its JVM dumped anything
    discard_scratch(job)
    assert list(tmp_path.iterdir()) == []


def test_a_check_that_cannot_run_leaves_the_job_succeeded_and_no_archive(tmp_path):
    job = plan(tmp_path)
    assert job is not None and job.scratch is not None
    dump_classes(job.java, job.scratch)
    without_java = dataclasses.replace(job, java=str(tmp_path / "no-such-java"))
    assert not adopt(without_java)  # no exception: the job it follows succeeded
    discard_scratch(without_java)
    assert list(tmp_path.iterdir()) == []


def test_adopting_an_archive_deletes_other_runtimes_archives_older_than_a_week(tmp_path):
    job = plan(tmp_path)
    assert job is not None and job.scratch is not None
    week_and_a_day_ago = time.time() - 8 * 24 * 3600
    stale = tmp_path / "spark-driver-0000000000000000.jsa"  # an upgraded Java's, written 8 days ago
    stale.write_bytes(b"an older Java's archive")
    os.utime(stale, (week_and_a_day_ago, week_and_a_day_ago))
    recent = tmp_path / "spark-driver-1111111111111111.jsa"  # another Airflow worker's Java, written today
    recent.write_bytes(b"another worker's archive")
    dump_classes(job.java, job.scratch)
    assert adopt(job)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([job.archive.name, recent.name])


def test_another_pyspark_gets_another_archive(tmp_path, monkeypatch):
    import pyspark

    first = plan(tmp_path)
    monkeypatch.setattr(pyspark, "__version__", "0.0.1")
    other = plan(tmp_path)
    assert first is not None and other is not None
    assert first.archive != other.archive


def test_without_java_or_a_writable_folder_there_is_no_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java-here"))
    assert plan(tmp_path / "archive") is None
    monkeypatch.delenv("JAVA_HOME")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert plan(blocked / "archive") is None


def test_the_option_goes_after_the_deployments_own_driver_options():
    conf = {"spark.driver.extraJavaOptions": "-Xlog:gc:file=gc.log", "spark.sql.shuffle.partitions": "4"}
    assert with_java_option(conf, "-XX:SharedArchiveFile=/a.jsa") == {
        "spark.driver.extraJavaOptions": "-Xlog:gc:file=gc.log -XX:SharedArchiveFile=/a.jsa",
        "spark.sql.shuffle.partitions": "4",
    }
    assert with_java_option({}, "-XX:SharedArchiveFile=/a.jsa") == {
        "spark.driver.extraJavaOptions": "-XX:SharedArchiveFile=/a.jsa"
    }


def test_class_sharing_is_on_by_default_under_the_data_directory_and_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_RECS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SPOTIFY_RECS_SPARK_CLASS_SHARING", raising=False)
    assert settings.spark_class_archive_dir() == tmp_path / "spark-classes"
    monkeypatch.setenv("SPOTIFY_RECS_SPARK_CLASS_SHARING", "OFF")
    assert settings.spark_class_archive_dir() is None
    monkeypatch.setenv("SPOTIFY_RECS_SPARK_CLASS_SHARING", "sometimes")
    with pytest.raises(ValueError, match="SPOTIFY_RECS_SPARK_CLASS_SHARING must be on or off"):
        settings.spark_class_archive_dir()


@pytest.mark.parametrize(("deploy_mode", "runs_here"), [(None, True), ("client", True), ("cluster", False)])
def test_only_a_driver_that_runs_beside_airflow_uses_the_archive(monkeypatch, deploy_mode, runs_here):
    from operators.spark_job import SparkJobOperator

    extra = {"deploy-mode": deploy_mode} if deploy_mode else {}
    connection = {"conn_type": "spark", "host": "spark://spark-master", "port": 7077, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_CLUSTER", json.dumps(connection))
    operator = SparkJobOperator(task_id="minhash", application="minhash.py", conn_id="spark_cluster")
    assert operator._driver_runs_here() is runs_here

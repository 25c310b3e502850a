"""The DAG on a real Spark standalone cluster that shares nothing with Airflow but the data.

A master and two workers on 127.0.0.1 (``spark-class``), each started with a clean environment: ``PATH``
of the system only, no ``PYTHONPATH``, a working directory outside the repository, and a Spark home of
its own (the launch scripts and ``python/lib`` copied, as a Spark download has them; the JVM's jars
linked). The only Python there is the system's, which has neither numpy nor this project. The jobs
ship their executors' Python with them (``make executor-env``, ``SPOTIFY_RECS_EXECUTOR_ENV``); the whole
DAG then publishes results equal, row for row, to the ``local[2]`` run of the same sample.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pyarrow.dataset as pa_dataset
import pyspark
import pytest
import requests

from devtools.executor_env import build as build_executor_env
from pipeline.run_folder import RunFolder
from tests.services import free_port, run_dag, task_states, wait_for

pytestmark = pytest.mark.integration
DATASETS = ["songs", "playlist_tracks", "holdout_tracks", "rejects", "signatures", "recommendations"]
SYSTEM_PYTHON_PREFIX = "/usr"  # /usr/bin/python3.11: Debian's, without numpy


@pytest.fixture(scope="module")
def executor_env(tmp_path_factory) -> Path:
    return build_executor_env(tmp_path_factory.mktemp("executor-env") / "executor-env.tar.gz", SYSTEM_PYTHON_PREFIX)


def spark_home_of_its_own(folder: Path) -> Path:
    """A Spark home like a downloaded distribution's, outside the virtualenv (its jars linked, not copied)."""
    installed = Path(pyspark.__file__).parent
    home = folder / "spark-home"
    shutil.copytree(installed / "bin", home / "bin")
    shutil.copytree(installed / "python" / "lib", home / "python" / "lib")
    (home / "jars").symlink_to(installed / "jars")
    return home


def clean_environment(spark_home: Path, folder: Path) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": "127.0.0.1"}
    if "JAVA_HOME" in os.environ:
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    return env


@pytest.fixture(scope="module")
def spark_master(tmp_path_factory):
    """A master and two workers (1 core, 2 GB each) in clean environments; yields the master URL and UI port."""
    folder = tmp_path_factory.mktemp("spark-cluster")
    spark_home = spark_home_of_its_own(folder)
    env = clean_environment(spark_home, folder)
    system_python = subprocess.run(
        ["python3", "-c", "import numpy"], env=env, cwd=folder, capture_output=True, text=True
    )  # fmt: skip
    assert "No module named 'numpy'" in system_python.stderr  # the workers' Python cannot run the engine alone
    spark_class = str(spark_home / "bin" / "spark-class")
    port, master_ui = free_port(), free_port()
    commands = [
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(master_ui)],
        *([spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host", "127.0.0.1",
           "--cores", "1", "--memory", "2g", "--webui-port", str(free_port()), "--work-dir", str(folder / f"work{i}")]
          for i in (1, 2)),
    ]  # fmt: skip
    processes = [
        subprocess.Popen(command, env=env, cwd=folder, stdout=open(folder / f"{i}.log", "w"), stderr=subprocess.STDOUT)
        for i, command in enumerate(commands)
    ]
    try:

        def both_workers_alive() -> bool:
            status = requests.get(f"http://127.0.0.1:{master_ui}/json/", timeout=5).json()
            return status.get("aliveworkers", 0) >= 2

        wait_for(both_workers_alive, 90, f"two Spark workers to register (logs in {folder})")
        yield f"spark://127.0.0.1:{port}", master_ui
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def read_dataset(dag_run, name: str) -> list[dict]:
    path = Path(RunFolder.of_run(dag_run.dag_id, dag_run.run_id).dataset(name))
    rows = pa_dataset.dataset(str(path), format="parquet").to_table().to_pylist()
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def test_the_dag_on_a_cluster_without_the_virtualenv_gives_the_local_results(
    good_run, sample_zip, spark_master, executor_env, monkeypatch
):
    master_url, master_ui = spark_master
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": master_url}))
    monkeypatch.setenv("SPOTIFY_RECS_EXECUTOR_ENV", str(executor_env))
    cluster_run = run_dag(sample_zip.as_uri(), force=True)
    assert str(cluster_run.state) == "success", task_states(cluster_run)

    applications = requests.get(f"http://127.0.0.1:{master_ui}/json/", timeout=5).json()["completedapps"]
    assert {app["name"] for app in applications} >= {
        f"spotify_recommendations.{job}" for job in ("extract", "minhash", "similarity_join")
    }
    for name in DATASETS:
        assert read_dataset(cluster_run, name) == read_dataset(good_run, name), name

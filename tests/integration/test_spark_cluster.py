"""The DAG's Spark jobs on a real Spark standalone cluster (a master and a worker on 127.0.0.1).

The driver, the master, the worker and its executors are separate processes; the
results must equal those of the local[2] run of the same sample.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pyarrow.dataset as pa_dataset
import pyspark
import pytest
import requests

from pipeline.run_folder import RunFolder
from tests.services import run_dag, task_states

pytestmark = pytest.mark.integration
DATASETS = ["songs", "playlist_tracks", "rejects", "signatures", "recommendations"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def spark_master(tmp_path_factory):
    """``spark-class`` Master and Worker from the installed pyspark; yields the master URL."""
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    folder = tmp_path_factory.mktemp("spark-cluster")
    port, master_ui, worker_ui = free_port(), free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(spark_class.parent.parent), "SPARK_LOCAL_IP": "127.0.0.1"}
    commands = [
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(master_ui)],
        [spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host", "127.0.0.1",
         "--cores", "2", "--memory", "3g", "--webui-port", str(worker_ui), "--work-dir", str(folder / "work")],
    ]  # fmt: skip
    processes = [
        subprocess.Popen(command, env=env, stdout=open(folder / f"{i}.log", "w"), stderr=subprocess.STDOUT)
        for i, command in enumerate(commands)
    ]
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status = requests.get(f"http://127.0.0.1:{master_ui}/json/", timeout=5).json()
                if status.get("aliveworkers", 0) >= 1:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no Spark worker registered; logs in {folder}")
            time.sleep(1)
        yield f"spark://127.0.0.1:{port}", master_ui
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def read_dataset(dag_run, name: str) -> list[dict]:
    path = Path(RunFolder.of_run(dag_run.dag_id, dag_run.run_id).dataset(name))
    rows = pa_dataset.dataset(str(path), format="parquet").to_table().to_pylist()
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def test_the_jobs_on_a_standalone_cluster_give_the_local_results(good_run, sample_zip, spark_master):
    master_url, master_ui = spark_master
    previous = os.environ["AIRFLOW_CONN_SPARK_DEFAULT"]
    os.environ["AIRFLOW_CONN_SPARK_DEFAULT"] = json.dumps({"conn_type": "spark", "host": master_url})
    try:
        cluster_run = run_dag(sample_zip.as_uri(), force=True)
    finally:
        os.environ["AIRFLOW_CONN_SPARK_DEFAULT"] = previous
    assert str(cluster_run.state) == "success", task_states(cluster_run)
    applications = requests.get(f"http://127.0.0.1:{master_ui}/json/", timeout=5).json()["completedapps"]
    assert {app["name"] for app in applications} >= {
        f"spotify_recommendations.{job}" for job in ("extract", "minhash", "similarity_join", "validate_extract")
    }
    for name in DATASETS:
        assert read_dataset(cluster_run, name) == read_dataset(good_run, name), name

"""Services the integration tests need: a real PostgreSQL and a migrated Airflow database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse import embedded
from warehouse.connection import airflow_connection_json, connect


@pytest.fixture(scope="session")
def warehouse_dsn(scratch_dir):
    """An embedded PostgreSQL 18 for this test session (its DSN), known to Airflow as the `warehouse` connection."""
    dsn = embedded.start(scratch_dir / "postgres", keep_running=True)
    os.environ["AIRFLOW_CONN_WAREHOUSE"] = airflow_connection_json(dsn)
    yield dsn
    embedded.stop(scratch_dir / "postgres")


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database (SQLite under the session's AIRFLOW_HOME), migrated."""
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True)


@pytest.fixture
def db(warehouse_dsn):
    connection = connect(warehouse_dsn)
    yield connection
    connection.close()


SAMPLE_ROWS = 20_000
SAMPLE_SEED = 11


def parse_pipeline_dag():
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.settings import PROJECT_ROOT

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["spotify_recommendations"]


def run_dag(source_url: str, **params):
    """One DAG run in this process (``dag.test``) with the given params, the others at their defaults.

    The DAG is parsed afresh each time: ``dag.test`` keeps a run's conf in the DAG object's params.
    """
    return parse_pipeline_dag().test(run_conf={"source_url": source_url, **params})


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


@pytest.fixture(scope="session")
def sample_zip(tmp_path_factory) -> Path:
    from devtools.sample_data import write_sample_zip

    return write_sample_zip(tmp_path_factory.mktemp("served") / "spotify_playlists.zip", SAMPLE_ROWS, SAMPLE_SEED)


@pytest.fixture(scope="session")
def good_run(sample_zip, warehouse_dsn, airflow_db):
    """The whole DAG on the sample, downloaded over HTTP from 127.0.0.1, on local[2]."""
    from tests.http_server import FileServer

    with FileServer(sample_zip.parent) as server:
        dag_run = run_dag(f"{server.url}/{sample_zip.name}")
        assert server.gets(sample_zip.name) == [None]  # one whole transfer
    return dag_run

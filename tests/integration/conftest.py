"""Services the integration tests need: a real PostgreSQL and a migrated Airflow database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg2 import sql
from psycopg2.extensions import make_dsn

from tests.integration import webapp_data
from tests.integration.run_folders import publish_hand_made, write_run
from warehouse import embedded
from warehouse.connection import airflow_connection_json, connect, with_user
from webapp.catalogue import Catalogue


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


def create_database(server_dsn: str, name: str) -> str:
    """A new, empty database on the server of ``server_dsn`` (dropped first if there); its DSN."""
    admin = connect(make_dsn(server_dsn, dbname="postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    admin.close()
    return make_dsn(server_dsn, dbname=name)


@pytest.fixture(scope="module")
def module_dsn(warehouse_dsn, request) -> str:
    """A database of the test module's own: what is live there depends only on that module's tests,
    not on the DAG runs and publishes of other modules (which use the `warehouse` connection's)."""
    return create_database(warehouse_dsn, "test_" + request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture
def db(module_dsn):
    connection = connect(module_dsn)
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


@pytest.fixture(scope="module")
def published_catalogue(module_dsn, tmp_path_factory, engine_params):
    """The web page's sample catalogue (tests/integration/webapp_data.py), published in the module's database."""
    db = connect(module_dsn)
    publish_hand_made(
        db,
        write_run(tmp_path_factory.mktemp("webapp-run"), webapp_data.SONGS, webapp_data.RECOMMENDATIONS),
        {**engine_params, "top_k": webapp_data.TOP_K},
    )
    db.close()
    return module_dsn


@pytest.fixture(scope="module")
def catalogue(published_catalogue):
    catalogue = Catalogue(with_user(published_catalogue, "music_reader"))
    yield catalogue
    catalogue.close()

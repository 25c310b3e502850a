"""Shared test setup: an isolated Airflow home and data directory, one local Spark session.

Environment variables are set here, before any test module imports Airflow,
so Airflow reads this configuration and never touches a developer's own.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lineage.config import events_file, openlineage_settings
from tests import services
from tests.integration import webapp_data
from tests.integration.run_folders import publish_hand_made, write_run
from warehouse import embedded
from warehouse.connection import airflow_connection_json, connect, with_user
from webapp.catalogue import Catalogue

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SCRATCH = Path(tempfile.mkdtemp(prefix="spotify-recs-tests-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(_SCRATCH / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": "local[2]"}),
        "SPOTIFY_RECS_DATA_DIR": str(_SCRATCH / "data"),
        "SPOTIFY_RECS_SHUFFLE_PARTITIONS": "4",
        # Tests compare the datasets of runs made minutes apart: keep every run folder.
        "SPOTIFY_RECS_KEEP_RUN_FOLDERS": "100",
        "SPOTIFY_RECS_SPARK_DRIVER_MEMORY": "2g",
        "GX_ANALYTICS_ENABLED": "false",
        # spark-submit and airflow are found next to this interpreter.
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        "PYSPARK_PYTHON": sys.executable,
        # dag.test() checks no deadline, and Airflow 3.3.2's fails a successful run of a DAG that has one
        # (it looks it up by an id only the DAG processor assigns); tests/integration/test_deadline_alert.py
        # sets one on a running Airflow.
        "SPOTIFY_RECS_RUN_DEADLINE_MINUTES": "none",
        # Every DAG run's OpenLineage events, in one file for the session (tests/integration/test_lineage.py).
        **openlineage_settings(events_file(_SCRATCH / "data")),
    }
)
events_file(_SCRATCH / "data").parent.mkdir(parents=True)


# py4j logs from object finalisers after pytest has closed its capture streams.
logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def scratch_dir() -> Path:
    return _SCRATCH


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for all transform tests (starting one takes seconds)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("spotify-recs-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def engine_params() -> dict:
    """A run's compute params as a user passes them (the DAG's defaults, written out here, not read from the DAG)."""
    return {
        "min_playlists": 2,
        "num_perm": 128,
        "bands": 64,
        "rows_per_band": 2,
        "max_bucket": 20,
        "exact_work": 50000,
        "top_k": 20,
        "holdout_fraction": 0.01,
        "holdout_max_playlists": 2500,
    }


# Services of the integration and fault tests: a real PostgreSQL, Airflow's database, published data.


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


@pytest.fixture(scope="module")
def module_dsn(warehouse_dsn, request) -> str:
    """A database of the test module's own: what is live there depends only on that module's tests,
    not on the DAG runs and publishes of other modules (which use the `warehouse` connection's)."""
    return services.create_database(warehouse_dsn, "test_" + request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture
def db(module_dsn):
    connection = connect(module_dsn)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def sample_zip(tmp_path_factory) -> Path:
    from devtools.sample_data import write_sample_zip

    return write_sample_zip(
        tmp_path_factory.mktemp("served") / "spotify_playlists.zip", services.SAMPLE_ROWS, services.SAMPLE_SEED
    )


@pytest.fixture(scope="session")
def good_run(sample_zip, warehouse_dsn, airflow_db):
    """The whole DAG on the sample, downloaded over HTTP from 127.0.0.1, on local[2]."""
    from tests.http_server import FileServer

    with FileServer(sample_zip.parent) as server:
        dag_run = services.run_dag(f"{server.url}/{sample_zip.name}")
        assert server.gets(sample_zip.name) == [None]  # one whole transfer
    return dag_run


@pytest.fixture(scope="module")
def published_catalogue(module_dsn, tmp_path_factory, engine_params):
    """The web page's sample catalogue (tests/integration/webapp_data.py), published in the module's database."""
    db = connect(module_dsn)
    publish_hand_made(
        db,
        write_run(
            tmp_path_factory.mktemp("webapp-run"),
            webapp_data.SONGS,
            webapp_data.RECOMMENDATIONS,
            evaluation=webapp_data.EVALUATION,
        ),
        {**engine_params, "top_k": webapp_data.TOP_K},
    )
    db.close()
    return module_dsn


@pytest.fixture(scope="module")
def catalogue(published_catalogue):
    catalogue = Catalogue(with_user(published_catalogue, "music_reader"))
    yield catalogue
    catalogue.close()


@pytest.fixture
def inbox(monkeypatch):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) and the ``alerts_smtp`` connection pointing at it."""
    from aiosmtpd.controller import Controller

    inbox = services.Inbox()
    # aiosmtpd's controller checks its server by connecting to the port it was given: it needs a real one.
    port = services.free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_SMTP", services.alerts_connection(port))
    yield inbox
    controller.stop()

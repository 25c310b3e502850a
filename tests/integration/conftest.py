"""Services the integration tests need: a real PostgreSQL and a migrated Airflow database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spotify_recs import warehouse


@pytest.fixture(scope="session")
def warehouse_connection(scratch_dir):
    """An embedded PostgreSQL 18 for this test session, known to Airflow as the `warehouse` connection."""
    connection = warehouse.start(scratch_dir / "postgres", keep_running=True)
    os.environ["AIRFLOW_CONN_WAREHOUSE"] = json.dumps({"conn_type": "postgres", **connection})
    yield connection
    warehouse.stop(scratch_dir / "postgres")


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database (SQLite under the session's AIRFLOW_HOME), migrated."""
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True)


@pytest.fixture
def db(warehouse_connection):
    connection = warehouse.connect(warehouse_connection)
    yield connection
    connection.close()

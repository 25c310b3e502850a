"""Shared test setup: an isolated Airflow home and data directory, one local Spark session.

Environment variables are set here, before any test module imports Airflow,
so Airflow reads this configuration and never touches a developer's own.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import pytest

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
    }
)


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
    }

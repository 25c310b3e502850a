"""Every ``SPOTIFY_RECS_*`` setting, read here and nowhere else: its default and what it means.

Infrastructure (where data lives, Spark's resources, retention) comes from the
environment; per-run values are DAG params, and connections (``warehouse``,
``spark_default``) are Airflow connections. Values are read when asked for, not
at import, so a test or a deployment can set them at any time before use.

Also where the project's own files are (SQL, expectation suites, Spark jobs).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "include" / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SPARK_JOBS_DIR = PROJECT_ROOT / "spark_jobs"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    meaning: str

    def raw(self) -> str | None:
        value = os.environ.get(self.name)
        return self.default if value is None or value == "" else value

    def positive_int(self) -> int:
        text = self.raw()
        try:
            value = int(text or "")
        except ValueError:
            raise ValueError(f"{self.name} must be a whole number, got {text!r}") from None
        if value < 1:
            raise ValueError(f"{self.name} must be at least 1, got {value}")
        return value

    def positive_number(self) -> float:
        text = self.raw()
        try:
            value = float(text or "")
        except ValueError:
            raise ValueError(f"{self.name} must be a number, got {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise ValueError(f"{self.name} must be a positive number, got {text!r}")
        return value


DATA_DIR = Setting(
    "SPOTIFY_RECS_DATA_DIR", "data", "data directory: downloads, run folders, the embedded PostgreSQL, Airflow home"
)
KEEP_RUN_FOLDERS = Setting("SPOTIFY_RECS_KEEP_RUN_FOLDERS", "3", "run folders kept (the newest; the current one too)")
KEEP_VERSIONS = Setting("SPOTIFY_RECS_KEEP_VERSIONS", "2", "warehouse versions kept, the live one included")
SCHEDULE = Setting("SPOTIFY_RECS_SCHEDULE", "@weekly", "refresh cadence: a preset, a cron expression, or none")
RUN_DEADLINE_MINUTES = Setting(
    "SPOTIFY_RECS_RUN_DEADLINE_MINUTES",
    "120",
    "minutes from a run being queued to its end; a run still going (or failed) then sends the deadline alert; "
    "none: no deadline",
)
SHUFFLE_PARTITIONS = Setting("SPOTIFY_RECS_SHUFFLE_PARTITIONS", "16", "Spark's spark.sql.shuffle.partitions")
SPARK_CONF = Setting("SPOTIFY_RECS_SPARK_CONF", "{}", "any other Spark settings, as a JSON object")
EXECUTOR_ENV = Setting(
    "SPOTIFY_RECS_EXECUTOR_ENV",
    None,
    "a packed Python environment (make executor-env) every Spark job ships to its executors; unset: the "
    "executors run the driver's Python, at the same path",
)
SPARK_CLASS_SHARING = Setting(
    "SPOTIFY_RECS_SPARK_CLASS_SHARING",
    "on",
    "on: the first Spark job writes an archive of its driver's classes under the data directory "
    "(spark-classes/) and later jobs' drivers map it, a faster start; off: every driver reads Spark's jars",
)
SPARK_DRIVER_MEMORY = Setting("SPOTIFY_RECS_SPARK_DRIVER_MEMORY", "4g", "spark-submit --driver-memory")
SPARK_EXECUTOR_MEMORY = Setting("SPOTIFY_RECS_SPARK_EXECUTOR_MEMORY", None, "spark-submit --executor-memory")
SPARK_EXECUTOR_CORES = Setting("SPOTIFY_RECS_SPARK_EXECUTOR_CORES", None, "spark-submit --executor-cores")
SPARK_TOTAL_EXECUTOR_CORES = Setting(
    "SPOTIFY_RECS_SPARK_TOTAL_EXECUTOR_CORES", None, "spark-submit --total-executor-cores (standalone cluster)"
)
READER_USER = Setting("SPOTIFY_RECS_READER_USER", "music_reader", "the role the lookup page reads as")
READER_PASSWORD = Setting("SPOTIFY_RECS_READER_PASSWORD", None, "its password, where the server asks for one")
WEB_WORKERS = Setting("SPOTIFY_RECS_WEB_WORKERS", "2", "make web: gunicorn worker processes")
WEB_THREADS = Setting("SPOTIFY_RECS_WEB_THREADS", "8", "make web: threads per worker (one request at a time each)")
WEB_POOL_SIZE = Setting("SPOTIFY_RECS_WEB_POOL_SIZE", "8", "the lookup page's database connections per worker, at most")
WEB_POOL_TIMEOUT = Setting(
    "SPOTIFY_RECS_WEB_POOL_TIMEOUT", "3", "seconds a request waits for a free connection before answering 503"
)
WEB_STATEMENT_TIMEOUT = Setting(
    "SPOTIFY_RECS_WEB_STATEMENT_TIMEOUT", "5", "seconds one query of the lookup page may run before answering 503"
)

ALL = (
    DATA_DIR,
    KEEP_RUN_FOLDERS,
    KEEP_VERSIONS,
    SCHEDULE,
    RUN_DEADLINE_MINUTES,
    SHUFFLE_PARTITIONS,
    SPARK_CONF,
    EXECUTOR_ENV,
    SPARK_CLASS_SHARING,
    SPARK_DRIVER_MEMORY,
    SPARK_EXECUTOR_MEMORY,
    SPARK_EXECUTOR_CORES,
    SPARK_TOTAL_EXECUTOR_CORES,
    READER_USER,
    READER_PASSWORD,
    WEB_WORKERS,
    WEB_THREADS,
    WEB_POOL_SIZE,
    WEB_POOL_TIMEOUT,
    WEB_STATEMENT_TIMEOUT,
)


def data_dir() -> Path:
    return Path(DATA_DIR.raw() or "data").resolve()


def downloads_dir() -> Path:
    """Where ``download`` keeps the source zips (one folder per source URL)."""
    return data_dir() / "downloads"


def keep_run_folders() -> int:
    return KEEP_RUN_FOLDERS.positive_int()


def keep_versions() -> int:
    return KEEP_VERSIONS.positive_int()


def schedule() -> str | None:
    """The DAG's schedule; None (manual runs only) for ``none``."""
    value = SCHEDULE.raw() or "@weekly"
    return None if value.lower() == "none" else value


def run_deadline() -> timedelta | None:
    """How long after being queued a run must have ended (fractions of a minute allowed); None for ``none``."""
    if (RUN_DEADLINE_MINUTES.raw() or "").lower() == "none":
        return None
    return timedelta(minutes=RUN_DEADLINE_MINUTES.positive_number())


def spark_conf() -> dict[str, str]:
    """Spark settings every job is submitted with."""
    extra = json.loads(SPARK_CONF.raw() or "{}")
    if not isinstance(extra, dict):
        raise ValueError(f"{SPARK_CONF.name} must be a JSON object, got {SPARK_CONF.raw()!r}")
    # Spark's default of 200 shuffle partitions costs more than it gives on a few cores.
    return {"spark.sql.shuffle.partitions": SHUFFLE_PARTITIONS.raw() or "16", **extra}


def spark_python_conf(driver_python: str) -> dict[str, str]:
    """Which Python the driver and the executors run: the driver always ``driver_python`` (the Airflow
    worker's); the executors the shipped environment of ``SPOTIFY_RECS_EXECUTOR_ENV`` when it is set
    (Spark unpacks it as ``./environment`` in each executor's folder), else the same path as the driver."""
    archive = EXECUTOR_ENV.raw()
    if not archive:
        return {"spark.pyspark.python": driver_python, "spark.pyspark.driver.python": driver_python}
    path = Path(archive).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{EXECUTOR_ENV.name}={archive}: no such archive (build it with make executor-env)")
    return {
        "spark.archives": f"{path}#environment",
        "spark.pyspark.python": "./environment/bin/python",
        "spark.pyspark.driver.python": driver_python,
    }


def spark_class_archive_dir() -> Path | None:
    """Where the Spark drivers' class archive lives (``pipeline.spark_class_archive``), or None when off."""
    value = (SPARK_CLASS_SHARING.raw() or "on").lower()
    if value not in ("on", "off"):
        raise ValueError(f"{SPARK_CLASS_SHARING.name} must be on or off, got {SPARK_CLASS_SHARING.raw()!r}")
    return data_dir() / "spark-classes" if value == "on" else None


def spark_resources() -> dict[str, Any]:
    """spark-submit's resource options that are set (SparkSubmitOperator's argument names)."""
    resources = {
        "driver_memory": SPARK_DRIVER_MEMORY.raw(),
        "executor_memory": SPARK_EXECUTOR_MEMORY.raw(),
        "executor_cores": SPARK_EXECUTOR_CORES.raw(),
        "total_executor_cores": SPARK_TOTAL_EXECUTOR_CORES.raw(),
    }
    return {name: value for name, value in resources.items() if value}


def reader_credentials() -> tuple[str, str | None]:
    return READER_USER.raw() or "music_reader", READER_PASSWORD.raw()


@dataclass(frozen=True)
class WebSettings:
    """How ``make web`` serves the lookup page: gunicorn's processes and threads, and each worker's pool."""

    workers: int
    threads: int
    pool_size: int
    pool_timeout: float
    statement_timeout: float


def web_settings() -> WebSettings:
    return WebSettings(
        workers=WEB_WORKERS.positive_int(),
        threads=WEB_THREADS.positive_int(),
        pool_size=WEB_POOL_SIZE.positive_int(),
        pool_timeout=WEB_POOL_TIMEOUT.positive_number(),
        statement_timeout=WEB_STATEMENT_TIMEOUT.positive_number(),
    )

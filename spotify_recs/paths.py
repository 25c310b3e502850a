"""Where the pipeline keeps its files: the data directory and each run's folder.

The data directory is ``$SPOTIFY_RECS_DATA_DIR`` (default ``./data``). Each DAG
run gets its own folder, so two runs never mix their files, and re-running a
run overwrites only its own files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DATA_DIR_VARIABLE = "SPOTIFY_RECS_DATA_DIR"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "include" / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SPARK_JOBS_DIR = PROJECT_ROOT / "spark_jobs"


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_VARIABLE, "data")).resolve()


def downloads_dir() -> Path:
    return data_dir() / "downloads"


def run_folder(dag_id: str, run_id: str) -> str:
    """This run's folder. Run ids hold ':' and '+', which Hadoop paths do not accept: they become '_'."""
    safe_run_id = re.sub(r"[^A-Za-z0-9._-]", "_", run_id)
    return str(data_dir() / "runs" / dag_id / safe_run_id)

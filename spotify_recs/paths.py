"""Where the pipeline keeps its files: the data directory and each run's folder.

The data directory is ``$SPOTIFY_RECS_DATA_DIR`` (default ``./data``). Each DAG
run gets its own folder, so two runs never mix their files, and re-running a
run overwrites only its own files.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

DATA_DIR_VARIABLE = "SPOTIFY_RECS_DATA_DIR"
KEEP_RUN_FOLDERS_VARIABLE = "SPOTIFY_RECS_KEEP_RUN_FOLDERS"
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


def prune_run_folders(dag_id: str, current_run_id: str, keep: int | None = None) -> list[str]:
    """Delete the oldest run folders of ``dag_id`` beyond ``keep`` (the current run's always stays).

    ``keep`` defaults to ``$SPOTIFY_RECS_KEEP_RUN_FOLDERS`` or 3. At full scale a run folder holds
    gigabytes of intermediate data; published versions live on in PostgreSQL. Returns what was deleted.
    """
    keep = int(os.environ.get(KEEP_RUN_FOLDERS_VARIABLE, "3")) if keep is None else keep
    if keep < 1:
        raise ValueError(f"{KEEP_RUN_FOLDERS_VARIABLE} must be at least 1, got {keep}")
    current = Path(run_folder(dag_id, current_run_id))
    folders = sorted(
        (folder for folder in current.parent.iterdir() if folder.is_dir() and folder != current),
        key=lambda folder: folder.stat().st_mtime,
        reverse=True,
    )
    deleted = folders[keep - 1 :]
    for folder in deleted:
        shutil.rmtree(folder)
    return [str(folder) for folder in deleted]

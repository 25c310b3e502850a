"""One pipeline run's folder: the only place that knows its layout.

Each DAG run gets its own folder under ``<data dir>/runs/<dag_id>/<run_id>/``,
so two runs never mix their files and re-running a run overwrites only its own:

- ``datasets/<name>``: Parquet outputs of the Spark jobs (``songs``, ``playlist_tracks``,
  ``rejects``, ``signatures``, ``recommendations``);
- ``metrics/<stage>.json``: what each Spark job measured (row accounting, counters, seconds);
- ``validation/<stage>.json``: each validation stage's report;
- ``gx/``: the run's Great Expectations project, with its Data Docs;
- ``raw/``: the CSV unpacked from the source zip while ``extract`` runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from pipeline import settings


def write_json(path: Path, content: dict[str, Any]) -> Path:
    """Write JSON through a temporary file and a rename, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(content, indent=2, sort_keys=True, default=str) + "\n")
    partial.replace(path)
    return path


def runs_dir(dag_id: str) -> Path:
    return settings.data_dir() / "runs" / dag_id


class RunFolder:
    """Where one pipeline run keeps its intermediate data."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).resolve()

    @classmethod
    def of_run(cls, dag_id: str, run_id: str) -> RunFolder:
        """The folder of a DAG run. Run ids hold ':' and '+', which Hadoop paths do not accept: they become '_'."""
        return cls(runs_dir(dag_id) / re.sub(r"[^A-Za-z0-9._-]", "_", run_id))

    def dataset(self, name: str) -> str:
        return str(self.path / "datasets" / name)

    def raw_file(self, name: str) -> Path:
        return self.path / "raw" / name

    def metrics_file(self, stage: str) -> Path:
        return self.path / "metrics" / f"{stage}.json"

    def write_metrics(self, stage: str, metrics: dict[str, Any]) -> Path:
        return write_json(self.metrics_file(stage), metrics)

    def read_metrics(self, stage: str) -> dict[str, Any]:
        return json.loads(self.metrics_file(stage).read_text())

    def all_metrics(self) -> dict[str, dict[str, Any]]:
        """Every stage's metrics, by stage."""
        return {path.stem: json.loads(path.read_text()) for path in sorted((self.path / "metrics").glob("*.json"))}

    def validation_file(self, stage: str) -> Path:
        return self.path / "validation" / f"{stage}.json"

    def write_validation(self, stage: str, report: dict[str, Any]) -> Path:
        return write_json(self.validation_file(stage), report)

    def discard_validation(self, stage: str) -> None:
        """Remove the stage's report: a job that writes the stage's outputs does, before it starts on them."""
        self.validation_file(stage).unlink(missing_ok=True)

    def validation_reports(self) -> dict[str, dict[str, Any]]:
        """Every validated stage's report, by stage."""
        return {path.stem: json.loads(path.read_text()) for path in sorted((self.path / "validation").glob("*.json"))}

    @property
    def gx_project_root(self) -> Path:
        """Where the run's Great Expectations project lives (GX keeps it in ``gx/`` below this folder)."""
        return self.path

    @property
    def data_docs_index(self) -> Path:
        return self.gx_project_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def run_folder_path(dag_id: str, run_id: str) -> str:
    """The run folder as a string: the DAG's template macro, handed to the Spark jobs as ``--run-dir``."""
    return str(RunFolder.of_run(dag_id, run_id).path)


def prune_run_folders(dag_id: str, current_run_id: str, keep: int | None = None) -> list[str]:
    """Delete the oldest run folders of ``dag_id`` beyond ``keep`` (the current run's always stays).

    ``keep`` defaults to the setting ``SPOTIFY_RECS_KEEP_RUN_FOLDERS``. At full scale a run folder holds
    gigabytes of intermediate data; published versions live on in PostgreSQL. Returns what was deleted.
    """
    keep = settings.keep_run_folders() if keep is None else keep
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    current = RunFolder.of_run(dag_id, current_run_id).path
    folders = sorted(
        (folder for folder in current.parent.iterdir() if folder.is_dir() and folder != current),
        key=lambda folder: folder.stat().st_mtime,
        reverse=True,
    )
    deleted = folders[keep - 1 :]
    for folder in deleted:
        shutil.rmtree(folder)
    return [str(folder) for folder in deleted]


def newest_data_docs(dag_id: str) -> Path | None:
    """The Data Docs page of the newest run of ``dag_id`` that has one."""
    pages = [RunFolder(folder).data_docs_index for folder in runs_dir(dag_id).glob("*")]
    existing = [page for page in pages if page.exists()]
    return max(existing, key=lambda page: page.stat().st_mtime) if existing else None

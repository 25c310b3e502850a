"""What each task of the DAG reads and writes (``TASKS``), and those datasets' OpenLineage names.

Names follow OpenLineage's naming conventions (https://openlineage.io/docs/spec/naming), as
Airflow's providers name the same things, so that lineage from other tools joins up:

- local files and folders (the downloaded zip, the run folder's Parquet datasets): namespace ``file``,
  name the absolute path (the ``common.io`` provider's file assets);
- PostgreSQL tables: namespace ``postgres://host:port``, name ``database.schema.table`` (the postgres
  provider's assets); a server reached through a socket folder is on ``localhost``;
- the source: a ``file://`` URL is a local file; an ``http(s)://`` URL is namespace ``scheme://host[:port]``
  and name its path (no credentials, no query string: Zenodo's ``?download=1`` says how, not what).

A run's names depend on the run: its run folder (``pipeline.run_folder``), the zip of its ``source_url``
(``pipeline.download.target_path``) and the warehouse it publishes to. No Airflow here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from psycopg2.extensions import parse_dsn

from pipeline import settings
from pipeline.download import target_path
from pipeline.run_folder import RunFolder

DAG_ID = "spotify_recommendations"


class DatasetName(NamedTuple):
    namespace: str
    name: str


@dataclass(frozen=True)
class Warehouse:
    """Where the published tables live: the ``warehouse`` connection's server and database."""

    host: str
    port: int
    database: str


@dataclass(frozen=True)
class TaskRun:
    """What a task's dataset names depend on: its DAG run and the run's ``source_url`` param."""

    dag_id: str
    run_id: str
    source_url: str


# What a task reads or writes, before it is named for one run.
@dataclass(frozen=True)
class Source:
    """The run's ``source_url``."""


@dataclass(frozen=True)
class SourceZip:
    """The zip ``download`` makes of the source (``<data dir>/downloads/...``), which ``extract`` reads."""


@dataclass(frozen=True)
class RunDataset:
    """A Parquet dataset in the run folder (``datasets/<name>``)."""

    name: str


@dataclass(frozen=True)
class Table:
    """A table of the warehouse."""

    schema: str
    name: str


DataRef = Source | SourceZip | RunDataset | Table


@dataclass(frozen=True)
class TaskDatasets:
    reads: tuple[DataRef, ...] = ()
    writes: tuple[DataRef, ...] = ()


SONGS = RunDataset("songs")
PLAYLIST_TRACKS = RunDataset("playlist_tracks")
HOLDOUT_TRACKS = RunDataset("holdout_tracks")
REJECTS = RunDataset("rejects")
SIGNATURES = RunDataset("signatures")
RECOMMENDATIONS = RunDataset("recommendations")
STAGED_TRACKS = Table("music_staging", "tracks")
STAGED_RECOMMENDATIONS = Table("music_staging", "recommendations")
LIVE_TRACKS = Table("music", "tracks")
LIVE_RECOMMENDATIONS = Table("music", "recommendations")
RUNS = Table("music", "runs")
EVALUATION = Table("music", "evaluation")

# Every task of the DAG that reads or writes data; the others (validate_params, prune_run_folders) do not.
# Metrics and validation reports (JSON in the run folder) and the job's own scratch data are left out.
TASKS: dict[str, TaskDatasets] = {
    "check_source": TaskDatasets(reads=(Source(), RUNS)),  # the source's fingerprint, the last published run
    "download": TaskDatasets(reads=(Source(),), writes=(SourceZip(),)),
    "extract": TaskDatasets(reads=(SourceZip(),), writes=(SONGS, PLAYLIST_TRACKS, HOLDOUT_TRACKS, REJECTS)),
    "validate_extract": TaskDatasets(reads=(SONGS, PLAYLIST_TRACKS, HOLDOUT_TRACKS, REJECTS)),
    "minhash": TaskDatasets(reads=(PLAYLIST_TRACKS,), writes=(SIGNATURES,)),
    "similarity_join": TaskDatasets(reads=(SIGNATURES, PLAYLIST_TRACKS), writes=(RECOMMENDATIONS,)),
    "evaluate": TaskDatasets(reads=(HOLDOUT_TRACKS, PLAYLIST_TRACKS, SONGS, RECOMMENDATIONS)),
    "validate_recommendations": TaskDatasets(reads=(SONGS, RECOMMENDATIONS)),
    "validate_evaluation": TaskDatasets(reads=(RUNS, EVALUATION)),  # the live version's figures
    "compare_with_live": TaskDatasets(reads=(SONGS, RECOMMENDATIONS, RUNS)),
    "stage": TaskDatasets(reads=(SONGS, RECOMMENDATIONS), writes=(STAGED_TRACKS, STAGED_RECOMMENDATIONS)),
    "validate_staged": TaskDatasets(reads=(STAGED_TRACKS, STAGED_RECOMMENDATIONS)),
    "publish": TaskDatasets(
        reads=(STAGED_TRACKS, STAGED_RECOMMENDATIONS),
        writes=(LIVE_TRACKS, LIVE_RECOMMENDATIONS, RUNS, EVALUATION),
    ),
}


def file_name(path: str | os.PathLike) -> DatasetName:
    """A local file or folder, by its absolute path."""
    text = os.fspath(path)
    if not PurePosixPath(text).is_absolute():
        raise ValueError(f"a file's OpenLineage name is its absolute path, got {text!r}")
    return DatasetName("file", text)


def url_name(url: str) -> DatasetName:
    """The source: ``file://`` as a local file, ``http(s)://`` as ``scheme://host[:port]`` and its path."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return file_name(unquote(parts.path))
    authority = parts.hostname or ""
    if parts.port is not None:
        authority += f":{parts.port}"
    return DatasetName(f"{parts.scheme}://{authority}", parts.path or "/")


def table_name(warehouse: Warehouse, table: Table) -> DatasetName:
    return DatasetName(
        f"postgres://{warehouse.host}:{warehouse.port}", f"{warehouse.database}.{table.schema}.{table.name}"
    )


def warehouse_of(dsn: str) -> Warehouse:
    """The server and database of a libpq DSN, as OpenLineage names them (libpq's defaults filled in)."""
    fields = parse_dsn(dsn)
    host = fields.get("host") or "localhost"
    if host.startswith("/"):  # a socket folder: the server runs on this machine
        host = "localhost"
    return Warehouse(host, int(fields.get("port") or 5432), fields.get("dbname") or fields.get("user") or "")


def dataset_name(dataset: DataRef, run: TaskRun, warehouse: Callable[[], Warehouse]) -> DatasetName:
    """``dataset`` named for ``run``; ``warehouse`` is asked only for a table."""
    if isinstance(dataset, Source):
        return url_name(run.source_url)
    if isinstance(dataset, SourceZip):
        return file_name(target_path(run.source_url, settings.downloads_dir()))
    if isinstance(dataset, RunDataset):
        return file_name(RunFolder.of_run(run.dag_id, run.run_id).dataset(dataset.name))
    return table_name(warehouse(), dataset)


def task_dataset_names(
    task_id: str, run: TaskRun, warehouse: Callable[[], Warehouse]
) -> tuple[list[DatasetName], list[DatasetName]]:
    """(inputs, outputs) of ``task_id`` in ``run``; none for a task that reads and writes no data."""
    task = TASKS.get(task_id, TaskDatasets())
    return (
        [dataset_name(dataset, run, warehouse) for dataset in task.reads],
        [dataset_name(dataset, run, warehouse) for dataset in task.writes],
    )

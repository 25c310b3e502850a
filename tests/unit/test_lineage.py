"""The lineage table and its OpenLineage names, with the expected names written out by hand."""

import json
from pathlib import Path

import pytest

from lineage.datasets import (
    TASKS,
    TaskRun,
    Warehouse,
    file_name,
    table_name,
    task_dataset_names,
    url_name,
    warehouse_of,
)

ZENODO_URL = "https://zenodo.org/record/2594557/files/spotify_playlists.zip?download=1"
RUN_ID = "scheduled__2026-01-05T00:00:00+00:00"
# <data dir>/runs/<dag_id>/<run_id with ':' and '+' as '_'>/datasets/
DATASETS = "/srv/spotify/runs/spotify_recommendations/scheduled__2026-01-05T00_00_00_00_00/datasets"
# <data dir>/downloads/<first 16 hex digits of the URL's SHA-256>/<the URL's file name>
ZENODO_ZIP = "/srv/spotify/downloads/4024105b3dc826db/spotify_playlists.zip"
WAREHOUSE = Warehouse("db.internal", 5433, "warehouse")


@pytest.fixture
def run(monkeypatch) -> TaskRun:
    monkeypatch.setenv("SPOTIFY_RECS_DATA_DIR", "/srv/spotify")
    return TaskRun("spotify_recommendations", RUN_ID, ZENODO_URL)


def names(task_id: str, run: TaskRun) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    inputs, outputs = task_dataset_names(task_id, run, lambda: WAREHOUSE)
    return [tuple(name) for name in inputs], [tuple(name) for name in outputs]


def no_warehouse() -> Warehouse:
    raise AssertionError("a task without tables looked up the warehouse")


def test_a_source_url_is_named_by_its_server_and_path_without_credentials_or_query():
    assert url_name(ZENODO_URL) == ("https://zenodo.org", "/record/2594557/files/spotify_playlists.zip")
    assert url_name("http://mirror:secret@127.0.0.1:8765/x/spotify.zip") == ("http://127.0.0.1:8765", "/x/spotify.zip")
    assert url_name("file:///srv/in/spotify%20playlists.zip") == ("file", "/srv/in/spotify playlists.zip")


def test_a_file_is_named_by_its_absolute_path():
    assert file_name(Path("/srv/spotify/downloads/a.zip")) == ("file", "/srv/spotify/downloads/a.zip")
    with pytest.raises(ValueError, match="absolute path"):
        file_name("data/downloads/a.zip")


def test_a_table_is_named_by_server_and_database_schema_table():
    from lineage.datasets import LIVE_RECOMMENDATIONS

    assert table_name(WAREHOUSE, LIVE_RECOMMENDATIONS) == (
        "postgres://db.internal:5433",
        "warehouse.music.recommendations",
    )


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("host=db.internal port=5433 dbname=warehouse user=music password=secret", WAREHOUSE),
        ("host=db.internal dbname=warehouse", Warehouse("db.internal", 5432, "warehouse")),
        # the embedded PostgreSQL: a socket folder on this machine
        ("host=/srv/spotify/postgres port=5432 user=postgres dbname=wh", Warehouse("localhost", 5432, "wh")),
        ("host=db.internal user=music", Warehouse("db.internal", 5432, "music")),  # libpq: dbname defaults to user
    ],
)
def test_the_warehouse_is_named_from_its_dsn(dsn, expected):
    assert warehouse_of(dsn) == expected


def test_download_reads_the_source_url_and_writes_the_zip_extract_reads(run):
    assert names("download", run) == (
        [("https://zenodo.org", "/record/2594557/files/spotify_playlists.zip")],
        [("file", ZENODO_ZIP)],
    )
    assert names("extract", run) == (
        [("file", ZENODO_ZIP)],
        [("file", f"{DATASETS}/songs"), ("file", f"{DATASETS}/playlist_tracks"),
         ("file", f"{DATASETS}/holdout_tracks"), ("file", f"{DATASETS}/rejects")],
    )  # fmt: skip


def test_the_spark_jobs_read_and_write_this_runs_parquet_datasets(run):
    assert names("minhash", run) == ([("file", f"{DATASETS}/playlist_tracks")], [("file", f"{DATASETS}/signatures")])
    assert names("similarity_join", run) == (
        [("file", f"{DATASETS}/signatures"), ("file", f"{DATASETS}/playlist_tracks")],
        [("file", f"{DATASETS}/recommendations")],
    )
    assert names("validate_recommendations", run) == (
        [("file", f"{DATASETS}/songs"), ("file", f"{DATASETS}/recommendations")],
        [],
    )
    assert names("evaluate", run) == (
        [("file", f"{DATASETS}/holdout_tracks"), ("file", f"{DATASETS}/playlist_tracks"),
         ("file", f"{DATASETS}/songs"), ("file", f"{DATASETS}/recommendations")],
        [],
    )  # fmt: skip
    run_folder_tasks = ("extract", "validate_extract", "minhash", "similarity_join", "validate_recommendations")
    for task_id in (*run_folder_tasks, "evaluate"):
        task_dataset_names(task_id, run, no_warehouse)


def test_publishing_goes_from_the_parquet_datasets_through_staging_to_the_live_tables(run):
    warehouse = "postgres://db.internal:5433"
    assert names("stage", run) == (
        [("file", f"{DATASETS}/songs"), ("file", f"{DATASETS}/recommendations")],
        [(warehouse, "warehouse.music_staging.tracks"), (warehouse, "warehouse.music_staging.recommendations")],
    )
    assert names("validate_staged", run) == (
        [(warehouse, "warehouse.music_staging.tracks"), (warehouse, "warehouse.music_staging.recommendations")],
        [],
    )
    assert names("publish", run) == (
        [(warehouse, "warehouse.music_staging.tracks"), (warehouse, "warehouse.music_staging.recommendations")],
        [(warehouse, "warehouse.music.tracks"), (warehouse, "warehouse.music.recommendations"),
         (warehouse, "warehouse.music.runs"), (warehouse, "warehouse.music.evaluation")],
    )  # fmt: skip


def test_tasks_that_touch_no_data_have_no_datasets(run):
    assert names("validate_params", run) == ([], [])
    assert names("prune_run_folders", run) == ([], [])


def test_the_table_agrees_with_what_the_pipeline_loads_and_validates():
    from lineage.datasets import RunDataset, Table
    from pipeline.publish import DATASETS as LOADED
    from spark_jobs.validate import STAGE_DATASETS
    from warehouse.versions import TABLES

    assert TASKS["stage"].reads == tuple(RunDataset(dataset) for dataset, _ in LOADED.values())
    assert TASKS["stage"].writes == tuple(Table("music_staging", table) for table in TABLES)
    assert TASKS["publish"].writes[: len(TABLES)] == tuple(Table("music", table) for table in TABLES)
    assert TASKS["validate_extract"].reads == tuple(RunDataset(name) for name in STAGE_DATASETS["extract"])
    assert TASKS["validate_recommendations"].reads == tuple(
        RunDataset(name) for name in STAGE_DATASETS["recommendations"]
    )


def test_every_task_of_the_table_is_in_the_dag_and_tells_openlineage_its_datasets():
    from airflow.dag_processing.dagbag import DagBag

    from lineage.datasets import DAG_ID
    from lineage.extractors import PythonTaskExtractor
    from lineage.spark import SparkSubmitWithLineage
    from pipeline.settings import PROJECT_ROOT

    dag = DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags[DAG_ID]
    for task_id in TASKS:
        task = dag.get_task(task_id)
        assert isinstance(task, SparkSubmitWithLineage) or (
            task.task_type in PythonTaskExtractor.get_operator_classnames()
        ), task_id


class FakeTaskInstance:
    """What the provider hands an extractor at a task's end: the task instance of the run."""

    def __init__(self, task_id: str, source_url: str) -> None:
        self.dag_id, self.task_id, self.run_id = "spotify_recommendations", task_id, RUN_ID
        self._params = {"source_url": source_url}

    def get_template_context(self) -> dict:
        return {"params": self._params}


def test_the_extractor_names_a_python_tasks_datasets_with_the_warehouse_connections_server(run, monkeypatch):
    from openlineage.client.event_v2 import Dataset

    from lineage.extractors import PythonTaskExtractor

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgresql://music:secret@db.internal:5433/warehouse")

    class Publish:  # the provider gives the extractor the task's operator
        dag_id, task_id = "spotify_recommendations", "publish"

    lineage = PythonTaskExtractor(Publish()).extract_on_complete(FakeTaskInstance("publish", ZENODO_URL))
    assert lineage.inputs == [
        Dataset(namespace="postgres://db.internal:5433", name="warehouse.music_staging.tracks"),
        Dataset(namespace="postgres://db.internal:5433", name="warehouse.music_staging.recommendations"),
    ]
    assert [dataset.name for dataset in lineage.outputs] == [
        "warehouse.music.tracks",
        "warehouse.music.recommendations",
        "warehouse.music.runs",
        "warehouse.music.evaluation",
    ]


def test_the_extractor_leaves_other_dags_tasks_alone():
    from lineage.extractors import PythonTaskExtractor

    class Elsewhere:
        dag_id, task_id = "another_dag", "publish"

    lineage = PythonTaskExtractor(Elsewhere()).extract_on_complete(FakeTaskInstance("publish", ZENODO_URL))
    assert (lineage.inputs, lineage.outputs) == ([], [])


def test_a_spark_job_names_its_datasets_at_its_end(run):
    from lineage.spark import SparkSubmitWithLineage

    operator = SparkSubmitWithLineage(task_id="minhash", application="minhash.py")
    lineage = operator.get_openlineage_facets_on_complete(FakeTaskInstance("minhash", ZENODO_URL))
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("file", f"{DATASETS}/playlist_tracks")]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("file", f"{DATASETS}/signatures")]


def test_environments_append_events_to_a_file_under_the_data_directory(tmp_path, monkeypatch):
    from devtools.local_run import airflow_environment
    from lineage.config import openlineage_settings

    assert openlineage_settings(Path("/data/lineage/events.jsonl")) == {
        "AIRFLOW__OPENLINEAGE__TRANSPORT": '{"type": "file", "log_file_path": "/data/lineage/events.jsonl", '
        '"append": true}',
        "AIRFLOW__OPENLINEAGE__EXTRACTORS": "lineage.extractors.PythonTaskExtractor",
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    }
    monkeypatch.delenv("AIRFLOW__OPENLINEAGE__TRANSPORT")
    env = airflow_environment(tmp_path)
    assert json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])["log_file_path"] == str(tmp_path / "lineage/events.jsonl")
    assert (tmp_path / "lineage").is_dir()  # the provider does not make it

    marquez = '{"type": "http", "url": "http://marquez:5000"}'
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", marquez)
    assert airflow_environment(tmp_path)["AIRFLOW__OPENLINEAGE__TRANSPORT"] == marquez

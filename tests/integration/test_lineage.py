"""A whole DAG run's OpenLineage events, as the file transport the tests configure wrote them, chain the
source URL through the download, the Spark jobs' datasets and the staging tables to `music.recommendations`.

The expected names are written here from what the run was given (the source URL, the run id, the
module's database), not taken from the `lineage` package.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from psycopg2.extensions import parse_dsn

from tests.http_server import FileServer
from tests.services import run_dag, task_states

pytestmark = pytest.mark.integration

DAG_ID = "spotify_recommendations"
TASKS = [
    "validate_params", "check_source", "download", "extract", "validate_extract", "minhash", "similarity_join",
    "evaluate", "validate_recommendations", "validate_evaluation", "compare_with_live", "stage", "validate_staged",
    "publish", "prune_run_folders",
]  # fmt: skip


def airflow_run_id(event: dict) -> str | None:
    return event["run"]["facets"].get("airflow", {}).get("dagRun", {}).get("run_id")


def datasets(event: dict, side: str) -> set[tuple[str, str]]:
    return {(dataset["namespace"], dataset["name"]) for dataset in event[side]}


@pytest.fixture(scope="module")
def lineage_run(sample_zip, module_dsn, airflow_db, scratch_dir):
    """The DAG on the sample over HTTP, published to this module's database; its task events by type and task."""
    from warehouse.connection import airflow_connection_json

    with FileServer(sample_zip.parent) as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_WAREHOUSE", airflow_connection_json(module_dsn))
        source_url = f"{server.url}/{sample_zip.name}"
        dag_run = run_dag(source_url)
    events_file = scratch_dir / "data" / "lineage" / "events.jsonl"
    events: dict[tuple[str, str], list[dict]] = {}
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        if airflow_run_id(event) == dag_run.run_id:
            task_id = event["job"]["name"].removeprefix(f"{DAG_ID}.")
            events.setdefault((event["eventType"], task_id), []).append(event)
    return dag_run, server.url, events


@pytest.fixture(scope="module")
def completed(lineage_run) -> dict[str, dict[str, set[tuple[str, str]]]]:
    """Each task's inputs and outputs, from its COMPLETE event."""
    _, _, events = lineage_run
    return {
        task_id: {"inputs": datasets(event, "inputs"), "outputs": datasets(event, "outputs")}
        for (event_type, task_id), (event,) in events.items()
        if event_type == "COMPLETE"
    }


def test_the_run_published_and_every_task_started_and_completed_once(lineage_run):
    dag_run, _, events = lineage_run
    assert set(task_states(dag_run).values()) == {"success"}
    for task_id in TASKS:
        for event_type in ("START", "COMPLETE"):
            assert len(events.get((event_type, task_id), [])) == 1, (event_type, task_id)
    assert {task_id for _, task_id in events} == set(TASKS)


def test_the_lineage_chains_the_source_to_the_published_tables(lineage_run, completed, scratch_dir, module_dsn):
    dag_run, server_url, _ = lineage_run
    data_dir = (scratch_dir / "data").resolve()
    run_folder = data_dir / "runs" / DAG_ID / re.sub(r"[^A-Za-z0-9._-]", "_", dag_run.run_id)

    def parquet(name: str) -> tuple[str, str]:
        return ("file", str(run_folder / "datasets" / name))

    warehouse = parse_dsn(module_dsn)
    assert warehouse["host"].startswith("/")  # the embedded server's socket folder: a server on this machine

    def table(name: str) -> tuple[str, str]:
        return (f"postgres://localhost:{warehouse['port']}", f"{warehouse['dbname']}.{name}")

    ((_, zip_path),) = completed["download"]["outputs"]
    hops = [  # producer, the dataset it hands on, consumer
        (None, (server_url, "/spotify_playlists.zip"), "download"),
        ("download", ("file", zip_path), "extract"),
        ("extract", parquet("playlist_tracks"), "minhash"),
        ("extract", parquet("holdout_tracks"), "evaluate"),
        ("minhash", parquet("signatures"), "similarity_join"),
        ("similarity_join", parquet("recommendations"), "evaluate"),
        ("similarity_join", parquet("recommendations"), "stage"),
        ("stage", table("music_staging.recommendations"), "publish"),
        ("publish", table("music.recommendations"), None),
    ]
    for producer, dataset, consumer in hops:
        if producer:
            assert dataset in completed[producer]["outputs"], (producer, dataset)
        if consumer:
            assert dataset in completed[consumer]["inputs"], (consumer, dataset)

    assert completed["extract"]["outputs"] == {
        parquet("songs"), parquet("playlist_tracks"), parquet("holdout_tracks"), parquet("rejects")
    }  # fmt: skip
    assert completed["publish"]["outputs"] == {
        table("music.tracks"), table("music.recommendations"), table("music.runs"), table("music.evaluation")
    }  # fmt: skip
    for name in ("songs", "playlist_tracks", "holdout_tracks", "rejects", "signatures", "recommendations"):
        assert Path(parquet(name)[1]).is_dir(), name  # the names are the run's real Parquet folders


def test_the_zip_named_is_the_file_this_run_downloaded(lineage_run, completed, sample_zip, scratch_dir):
    ((namespace, zip_path),) = completed["download"]["outputs"]
    assert namespace == "file"
    assert Path(zip_path).parent.parent == (scratch_dir / "data" / "downloads").resolve()
    assert Path(zip_path).read_bytes() == sample_zip.read_bytes()


def test_each_task_names_the_same_datasets_when_it_starts(lineage_run, completed):
    _, _, events = lineage_run
    for task_id in TASKS:
        (start,) = events[("START", task_id)]
        assert datasets(start, "inputs") == completed[task_id]["inputs"], task_id
        assert datasets(start, "outputs") == completed[task_id]["outputs"], task_id

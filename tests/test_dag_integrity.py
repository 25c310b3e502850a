"""The DAG file imports cleanly and wires the stages in order, with retries and params."""

import pytest
from airflow.dag_processing.dagbag import DagBag

from spotify_recs.paths import PROJECT_ROOT

STAGES = [
    "download",
    "extract",
    "validate_extract",
    "minhash",
    "similarity_join",
    "validate_recommendations",
    "publish",
]


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["spotify_recommendations"]


def test_dag_files_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert list(dagbag.dag_ids) == ["spotify_recommendations"]


def test_one_task_per_stage_in_order(dag):
    assert sorted(dag.task_ids) == sorted(STAGES)
    for upstream, downstream in zip(STAGES, STAGES[1:], strict=False):
        assert dag.get_task(upstream).downstream_task_ids == {downstream}
    assert dag.get_task("download").upstream_task_ids == set()


def test_retries_are_set_except_where_retrying_cannot_help(dag):
    for task in dag.tasks:
        expected = 0 if task.task_id.startswith("validate_") else 2
        assert task.retries == expected, task.task_id


def test_spark_stages_run_through_spark_submit(dag):
    for task_id in ("extract", "validate_extract", "minhash", "similarity_join", "validate_recommendations"):
        task = dag.get_task(task_id)
        assert type(task).__name__ == "SparkSubmitOperator"
        assert task._conn_id == "spark_default"


def test_params_and_their_defaults(dag):
    defaults = {name: dag.params[name] for name in dag.params}
    assert defaults == {
        "source_url": "https://zenodo.org/record/2594557/files/spotify_playlists.zip?download=1",
        "min_playlists": 2,
        "num_perm": 128,
        "bands": 64,
        "rows_per_band": 2,
        "top_k": 20,
    }


def test_scheduled_weekly_without_catchup(dag):
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert "spotify" in dag.tags

"""The DAG file imports cleanly and wires the stages in order, with retries and params."""

import copy
from datetime import timedelta

import pytest
from airflow.dag_processing.dagbag import DagBag

from pipeline.settings import PROJECT_ROOT

STAGES = [
    "validate_params",
    "check_source",
    "download",
    "extract",
    "validate_extract",
    "minhash",
    "similarity_join",
    "evaluate",
    "validate_recommendations",
    "validate_evaluation",
    "compare_with_live",
    "stage",
    "validate_staged",
    "publish",
    "prune_run_folders",
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
        assert upstream in dag.get_task(downstream).upstream_task_ids
    assert dag.get_task("validate_params").upstream_task_ids == set()
    # publish also reads check_source's fingerprint and stage's row counts; nothing else skips a stage.
    assert dag.get_task("publish").upstream_task_ids == {"validate_staged", "stage", "check_source"}
    # the quality gate compares with the live version on the same source content: check_source's fingerprint
    assert dag.get_task("validate_evaluation").upstream_task_ids == {"validate_recommendations", "check_source"}


def test_check_source_can_skip_everything_after_it(dag):
    from airflow.providers.standard.operators.python import ShortCircuitOperator

    check_source = dag.get_task("check_source")
    assert isinstance(check_source, ShortCircuitOperator)
    assert check_source.ignore_downstream_trigger_rules is True


def test_publish_declares_the_recommendations_asset(dag):
    assert [outlet.uri for outlet in dag.get_task("publish").outlets] == [
        "postgres://warehouse:5432/warehouse/music/recommendations"
    ]


def test_retries_are_set_except_where_retrying_cannot_help(dag):
    for task in dag.tasks:
        # validations and the comparison with the live version: the same data gives the same answer
        expected = 0 if task.task_id.startswith(("validate_", "compare_")) else 2
        assert task.retries == expected, task.task_id


def test_spark_stages_run_through_spark_submit(dag):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    for task_id in ("extract", "minhash", "similarity_join"):
        assert isinstance(dag.get_task(task_id), SparkSubmitOperator)


def test_every_spark_job_knows_the_runs_source_for_its_drivers_compilers(dag):
    downloaded = "{{ ti.xcom_pull(task_ids='download') }}"
    extract_arguments = dag.get_task("extract").application_args
    assert extract_arguments[extract_arguments.index("--source-zip") + 1] == downloaded
    for task_id in ("extract", "minhash", "similarity_join"):
        task = dag.get_task(task_id)
        assert task.source_zip == downloaded and "source_zip" in task.template_fields, task_id


def test_the_jobs_that_write_a_stage_validate_it_and_its_task_reads_the_verdict(dag):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    for job, validate in (("extract", "validate_extract"), ("similarity_join", "validate_recommendations")):
        arguments = dag.get_task(job).application_args
        assert arguments[arguments.index("--suites-dir") + 1] == str(PROJECT_ROOT / "expectations"), job
        assert not isinstance(dag.get_task(validate), SparkSubmitOperator)  # no second Spark start
        assert job in dag.get_task(validate).get_flat_relative_ids(upstream=True), (job, validate)
    extract_arguments = dag.get_task("extract").application_args
    assert extract_arguments[extract_arguments.index("--max-reject-rate") + 1] == "{{ params.max_reject_rate }}"


def test_every_param_is_in_the_readme_table_with_its_default_and_bounds(dag):
    readme = (PROJECT_ROOT / "README.md").read_text()
    for name in dag.params:
        param = dag.params.get_param(name)
        default = str(param.value).lower() if isinstance(param.value, bool) else str(param.value)
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"README's param table has no row for {name}"
        if name != "source_url":
            assert f"| {default} |" in row, (name, row)
        for bound in ("minimum", "maximum"):
            if bound in param.schema:
                assert str(param.schema[bound]) in row, (name, bound, row)


def test_every_param_has_a_title_and_description(dag):
    for name in dag.params:
        param = dag.params.get_param(name)
        assert param.schema.get("title") and param.description, name


def test_the_form_shows_every_numeric_params_bounds_in_its_description(dag):
    # The UI's number box turns top_k=0 into 1 without a word: the description must say 1 to 200.
    for name in dag.params:
        param = dag.params.get_param(name)
        if param.schema.get("type") in ("integer", "number"):
            bounds = f"from {param.schema['minimum']} to {param.schema['maximum']}"
            assert bounds in param.description, (name, param.description)


def parsed_with(monkeypatch, **env: str):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["spotify_recommendations"]


def test_a_run_has_a_deadline_from_its_queue_time_that_mails_an_alert(monkeypatch):
    from airflow.sdk import AsyncCallback, DeadlineReference

    monkeypatch.delenv("SPOTIFY_RECS_RUN_DEADLINE_MINUTES")
    (alert,) = parsed_with(monkeypatch).deadline
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == timedelta(hours=2)
    assert alert.callback == AsyncCallback("alerts.notifications.notify_deadline_missed")
    (alert,) = parsed_with(monkeypatch, SPOTIFY_RECS_RUN_DEADLINE_MINUTES="90").deadline
    assert alert.interval == timedelta(minutes=90)
    assert parsed_with(monkeypatch, SPOTIFY_RECS_RUN_DEADLINE_MINUTES="none").deadline is None


def test_scheduled_weekly_without_catchup(dag):
    assert dag.timetable.expression == "0 0 * * 0"  # @weekly
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert "spotify" in dag.tags


@pytest.mark.parametrize(
    "conf",
    [{"top_k": 0}, {"top_k": 201}, {"source_url": "ftp://example.org/x.zip"}, {"source_url": ""},
     {"force": "yes"}, {"bands": "many"}, {"num_perm": 2048}, {"min_playlists": 0},
     {"holdout_max_playlists": 0}, {"holdout_max_playlists": 2.5}],
)  # fmt: skip
def test_bad_param_values_are_refused_when_a_run_is_triggered(dag, conf):
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(dag.params)
    with pytest.raises(ParamValidationError):
        params.update(conf)  # what creating a DAG run does with its conf
        params.validate()

"""The evaluation inside the DAG, on the generated sample with a quarter of its playlists held out
(enough cases for the quality gate to judge): the figures are published with the version, item-kNN
beats the most-popular baseline, and a run crippled on purpose is stopped before `stage`.

The DAG publishes to this module's own database, so what is live here depends on this module only.
"""

from __future__ import annotations

import pytest

from pipeline.run_folder import RunFolder
from tests.services import run_dag, task_states

pytestmark = pytest.mark.integration

HOLDOUT_FRACTION = 0.25
# One band of 8 signature values and no exact scoring: only songs with nearly the same playlists
# become candidates, so most songs lose their neighbours.
CRIPPLED = {"bands": 1, "rows_per_band": 8, "exact_work": 0}
SNAPSHOT = (
    "select (select md5(string_agg(t::text, ',' order by track_id)) from music.tracks t),"
    " (select md5(string_agg(r::text, ',' order by track_id, rank)) from music.recommendations r),"
    " (select count(*) from music.runs), (select count(*) from music.evaluation)"
)


@pytest.fixture(scope="module")
def module_warehouse(module_dsn):
    """The `warehouse` connection points at this module's database while the module's DAG runs go."""
    from warehouse.connection import airflow_connection_json

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_WAREHOUSE", airflow_connection_json(module_dsn))
        yield module_dsn


@pytest.fixture(scope="module")
def evaluated_run(sample_zip, module_warehouse, airflow_db):
    return run_dag(sample_zip.as_uri(), holdout_fraction=HOLDOUT_FRACTION)


def rows(db, query: str, params: tuple | None = None) -> list[tuple]:
    with db.cursor() as cursor:
        cursor.execute(query, params)
        found = cursor.fetchall()
    db.rollback()
    return found


def live_figures(db) -> dict[str, dict]:
    """The live version's overall figures by method, from music.evaluation_latest."""
    found = rows(
        db,
        "select method, cases, r_precision, ndcg, recall_10, clicks from music.evaluation_latest"
        " where seed_category = 'all'",
    )
    names = ("cases", "r_precision", "ndcg", "recall_10", "clicks")
    return {method: dict(zip(names, rest, strict=True)) for method, *rest in found}


def test_the_run_is_evaluated_gated_and_published_with_its_figures(evaluated_run, db):
    assert set(task_states(evaluated_run).values()) == {"success"}
    run = RunFolder.of_run(evaluated_run.dag_id, evaluated_run.run_id)
    evaluated = run.read_metrics("evaluate")
    assert evaluated["cases"] >= 50  # judged by the gate
    assert run.validation_reports()["evaluation"]["success"] is True
    assert "evaluation_gate" in run.data_docs_index.read_text()
    # Every figure the task computed is in music.evaluation, linked to the version's row in music.runs.
    stored = rows(
        db,
        "select e.method, e.seed_category, e.cases, e.r_precision, e.ndcg, e.clicks, e.coverage from music.evaluation e"
        " join music.runs r on r.run_id = e.run_id where r.dag_run_id = %s and r.status = 'live'",
        (evaluated_run.run_id,),
    )
    assert len(stored) == 15  # 3 methods x (4 seed categories + all)
    computed = {
        (f["method"], f["seed_category"]): (f["cases"], f["r_precision"], f["ndcg"], f["clicks"], f["coverage"])
        for f in evaluated["figures"]
    }
    assert {(method, category): tuple(rest) for method, category, *rest in stored} == computed
    held_out_as = "select params ->> 'holdout_fraction', params ->> 'holdout_max_playlists' from music.runs"
    assert rows(db, held_out_as + " where status = 'live'") == [("0.25", "2500")]


def test_item_knn_beats_the_most_popular_baseline(evaluated_run, db):
    figures = live_figures(db)
    print({method: {k: round(v, 4) for k, v in f.items()} for method, f in figures.items()})
    assert figures["published"]["cases"] == figures["most_popular"]["cases"] >= 50
    # The generator's playlists mostly keep to one genre, so songs of the seeds' playlists predict the rest.
    assert figures["published"]["r_precision"] > figures["most_popular"]["r_precision"]
    assert figures["cosine_knn"]["r_precision"] > figures["most_popular"]["r_precision"]
    assert figures["published"]["ndcg"] > figures["most_popular"]["ndcg"]


def test_a_crippled_run_is_stopped_by_the_gate_and_the_live_tables_stay(evaluated_run, sample_zip, db):
    before = rows(db, SNAPSHOT)
    live = live_figures(db)["published"]
    dag_run = run_dag(sample_zip.as_uri(), holdout_fraction=HOLDOUT_FRACTION, **CRIPPLED)
    states = task_states(dag_run)
    assert str(dag_run.state) == "failed"
    assert states["evaluate"] == states["validate_recommendations"] == "success"
    assert states["validate_evaluation"] == "failed"
    assert states["stage"] == states["publish"] == "upstream_failed"
    assert rows(db, SNAPSHOT) == before

    # The run's Data Docs and report say which figure fell, against the live version's floor.
    run = RunFolder.of_run(dag_run.dag_id, dag_run.run_id)
    report = run.validation_reports()["evaluation"]
    failed = {
        r["kwargs"]["column"]: r for r in report["suites"][0]["results"] if not r["success"] and "column" in r["kwargs"]
    }
    assert set(failed) == {"published_ndcg", "published_r_precision"}
    assert failed["published_ndcg"]["kwargs"]["min_value"] == pytest.approx(live["ndcg"] * 0.95)
    crippled = next(
        f for f in run.read_metrics("evaluate")["figures"] if f["method"] == "published" and f["seed_category"] == "all"
    )
    assert crippled["ndcg"] < live["ndcg"] * 0.95

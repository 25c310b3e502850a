"""A run triggered through Airflow's REST API, as the UI does it, on a running Airflow.

Starts the API server, the scheduler and the DAG processor as separate
processes (LocalExecutor), logs in like the UI (simple auth manager, user and
password), triggers ``spotify_recommendations`` with a ``conf`` over real HTTP,
polls the run to success and checks the tables it published.
"""

from __future__ import annotations

import pytest

from tests.services import DAG_ID, logged_in_session, running_airflow, wait_for
from warehouse.connection import connect

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def airflow_api(tmp_path_factory, warehouse_dsn):
    """A running Airflow: API server, scheduler and DAG processor; yields its base URL."""
    with running_airflow(tmp_path_factory.mktemp("airflow-services"), ["scheduler", "dag-processor"]) as base:
        yield base


@pytest.fixture(scope="module")
def session(airflow_api):
    return logged_in_session(airflow_api)


def test_bad_conf_is_refused_at_trigger_time(airflow_api, session):
    response = session.post(
        f"{airflow_api}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"top_k": 0}}, timeout=30
    )
    assert response.status_code == 400
    assert "top_k" in response.text


def test_a_run_triggered_over_rest_publishes_its_tables(airflow_api, session, sample_zip, warehouse_dsn):
    conf = {"source_url": sample_zip.as_uri(), "top_k": 7, "force": True}
    response = session.post(
        f"{airflow_api}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf}, timeout=30
    )
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]

    def finished():
        state = session.get(f"{airflow_api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=10).json()["state"]
        return state if state in ("success", "failed") else None

    assert wait_for(finished, 900, "the run to finish") == "success"
    db = connect(warehouse_dsn)
    with db.cursor() as cursor:
        cursor.execute("select dag_run_id, params ->> 'top_k' from music.runs order by run_id desc limit 1")
        assert cursor.fetchone() == (run_id, "7")
        cursor.execute("select max(rank), count(distinct track_id) from music.recommendations")
        max_rank, songs = cursor.fetchone()
    db.close()
    assert max_rank == 7 and songs > 100

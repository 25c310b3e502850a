"""A run triggered through Airflow's REST API, as the UI does it, on a running Airflow.

Starts the API server, the scheduler and the DAG processor as separate
processes (LocalExecutor), logs in like the UI (simple auth manager, user and
password), triggers ``spotify_recommendations`` with a ``conf`` over real HTTP,
polls the run to success and checks the tables it published.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from warehouse.connection import connect

pytestmark = pytest.mark.integration
DAG_ID = "spotify_recommendations"
PASSWORD = "rest-api-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except requests.RequestException:
            pass
        time.sleep(2)
    raise TimeoutError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def airflow_api(tmp_path_factory, warehouse_dsn):
    """A running Airflow (its own home and SQLite database); yields its base URL."""
    home = tmp_path_factory.mktemp("airflow-services")
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # Only this test's manual runs: no scheduled run joins them.
        "SPOTIFY_RECS_SCHEDULE": "none",
    }
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": PASSWORD}))
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    commands = [["api-server", "--port", str(port), "--host", "127.0.0.1"], ["scheduler"], ["dag-processor"]]
    processes = [
        subprocess.Popen([airflow, *command], env=env, stdout=open(home / f"{command[0]}.log", "w"),
                         stderr=subprocess.STDOUT)
        for command in commands
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{base}/api/v2/monitor/health", timeout=5).ok, 120, "the API server")
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def session(airflow_api):
    """An HTTP session logged in as the UI's user."""
    response = requests.post(f"{airflow_api}/auth/token", json={"username": "admin", "password": PASSWORD}, timeout=10)
    assert response.status_code == 201, response.text
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    # The DAG appears once the DAG processor has parsed it; new DAGs start paused, as in the UI.
    wait_for(lambda: client.get(f"{airflow_api}/api/v2/dags/{DAG_ID}", timeout=5).ok, 180, "the DAG to be parsed")
    assert client.patch(f"{airflow_api}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, timeout=10).ok
    return client


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

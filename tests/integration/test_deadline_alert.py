"""A run that has not ended by its deadline mails an alert: Airflow 3's deadline alert, checked by the
scheduler and sent by the triggerer, on a running Airflow with a 15-second deadline. The run is stuck
asking a source server that never answers.
"""

from __future__ import annotations

import re
import socket
from datetime import datetime, timedelta

import pytest

from tests.services import DAG_ID, body_text, logged_in_session, running_airflow, wait_for

pytestmark = pytest.mark.integration
DEADLINE_SECONDS = 15


def deadline_alerts(inbox) -> list:
    return [message for message in inbox.messages if "missed its deadline" in message["Subject"]]


def trigger(session, base: str, conf: dict) -> dict:
    runs = f"{base}/api/v2/dags/{DAG_ID}/dagRuns"
    response = session.post(runs, json={"logical_date": None, "conf": conf}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_run_unfinished_at_its_deadline_sends_one_alert(inbox, tmp_path, warehouse_dsn):
    with socket.socket() as silent_server:  # accepts connections (the kernel does) and never answers
        silent_server.bind(("127.0.0.1", 0))
        silent_server.listen(8)
        stalled_source = f"http://127.0.0.1:{silent_server.getsockname()[1]}/spotify_playlists.zip"
        services = ["scheduler", "dag-processor", "triggerer"]
        deadline = {"SPOTIFY_RECS_RUN_DEADLINE_MINUTES": str(DEADLINE_SECONDS / 60)}
        with running_airflow(tmp_path, services, **deadline) as base:
            session = logged_in_session(base)
            run = trigger(session, base, {"source_url": stalled_source})
            wait_for(lambda: deadline_alerts(inbox), 300, "the deadline alert")
            run_url = f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}"
            state = session.get(run_url, timeout=10).json()["state"]
            session.patch(run_url, json={"state": "failed"}, timeout=10)  # so no task outlives the services

    assert state in ("queued", "running")
    (message,) = deadline_alerts(inbox)
    assert message["Subject"] == f"[{DAG_ID}] run {run['dag_run_id']} missed its deadline"
    assert message["To"] == "data-team@example.org"
    body = body_text(message)
    assert f"Run <b>{run['dag_run_id']}</b> of DAG <b>{DAG_ID}</b>" in body
    # Its state when the deadline passed: not ended (waiting for its first task, or in it).
    assert re.search(r"its state is <b>(queued|running)</b>", body), body
    assert f'{base}/dags/{DAG_ID}/runs/{run["dag_run_id"]}">' in body
    # The deadline is the run's queue time plus the setting.
    ended_by = re.search(r"had to end by (.+?)\. It has not published", body)
    assert ended_by, body
    deadline_time = datetime.fromisoformat(ended_by.group(1).replace("Z", "+00:00"))
    queued_at = datetime.fromisoformat(run["queued_at"].replace("Z", "+00:00"))
    assert deadline_time - queued_at == timedelta(seconds=DEADLINE_SECONDS)

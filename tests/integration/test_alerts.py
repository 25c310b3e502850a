"""A failed run mails its alert to a real SMTP server on 127.0.0.1 (aiosmtpd), through the `alerts_smtp`
connection; without that connection nothing is sent and nothing breaks."""

from __future__ import annotations

import asyncio

import pytest
from aiosmtpd.controller import Controller

from tests.services import Inbox, body_text, free_port, run_dag, task_states

pytestmark = pytest.mark.integration


def test_a_failed_task_sends_one_alert_naming_dag_task_run_cause_and_log(inbox, airflow_db, warehouse_dsn):
    # bands x rows_per_band = 200 > num_perm = 128: validate_params fails at once (no retries)
    dag_run = run_dag("file:///never/fetched.zip", bands=100, rows_per_band=2, num_perm=128)
    assert task_states(dag_run)["validate_params"] == "failed"

    (message,) = inbox.messages
    assert message["To"] == "data-team@example.org" and message["From"] == "airflow@example.org"
    assert message["Subject"] == f"[spotify_recommendations] validate_params failed in {dag_run.run_id}"
    body = body_text(message)
    assert "DAG <b>spotify_recommendations</b>, task <b>validate_params</b>" in body
    assert f"run <b>{dag_run.run_id}</b>" in body
    assert "Cause: bands x rows_per_band = 100 x 2 = 200 signature values, but num_perm is 128" in body
    assert 'Log: <a href="http' in body and "validate_params" in body.split("Log:")[1]


def test_without_the_alerts_connection_a_failure_sends_nothing(airflow_db, warehouse_dsn, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_SMTP", raising=False)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        dag_run = run_dag("file:///never/fetched.zip", bands=100, rows_per_band=2, num_perm=128)
    finally:
        controller.stop()
    assert task_states(dag_run)["validate_params"] == "failed"
    assert inbox.messages == []


DEADLINE_CONTEXT = {  # what the triggerer hands a deadline callback: the run as the REST API shows it, the deadline
    "dag_run": {"dag_id": "spotify_recommendations", "dag_run_id": "scheduled__2026-11-23", "state": "running",
                "queued_at": "2026-11-23T00:00:05Z"},
    "deadline": {"id": "0198", "deadline_time": "2026-11-23T02:00:05Z"},
}  # fmt: skip


def test_the_deadline_callback_mails_the_late_run(inbox, airflow_db):
    from alerts.notifications import notify_deadline_missed

    assert asyncio.run(notify_deadline_missed(DEADLINE_CONTEXT)) == (
        "deadline alert for scheduled__2026-11-23 sent to data-team@example.org"
    )
    (message,) = inbox.messages
    assert message["Subject"] == "[spotify_recommendations] run scheduled__2026-11-23 missed its deadline"
    assert body_text(message).startswith(
        "<p>Run <b>scheduled__2026-11-23</b> of DAG <b>spotify_recommendations</b> was queued at "
        "2026-11-23T00:00:05Z and had to end by 2026-11-23T02:00:05Z. It has not published: its state is "
        "<b>running</b>.</p>"
    )


def test_without_the_alerts_connection_the_deadline_callback_only_logs(airflow_db, monkeypatch):
    from alerts.notifications import notify_deadline_missed

    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_SMTP", raising=False)
    assert asyncio.run(notify_deadline_missed(DEADLINE_CONTEXT)) == (
        "no deadline alert sent for scheduled__2026-11-23: the connection alerts_smtp is not set"
    )

"""A failed run mails its alert to a real SMTP server on 127.0.0.1 (aiosmtpd), through the `alerts_smtp`
connection; without that connection nothing is sent and nothing breaks."""

from __future__ import annotations

import json
import socket
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from tests.services import run_dag, task_states

pytestmark = pytest.mark.integration


def free_port() -> int:
    # aiosmtpd's controller checks its server by connecting to the port it was given: it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


@pytest.fixture
def inbox(monkeypatch):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    connection = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"from_email": "airflow@example.org", "to": "data-team@example.org",
                  "disable_tls": True, "disable_ssl": True},
    }  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_SMTP", json.dumps(connection))
    yield inbox
    controller.stop()


def body_text(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(part.get_payload(decode=True).decode() for part in parts if not part.is_multipart())


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

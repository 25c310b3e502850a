"""Helpers the service-backed tests share: databases on the session's PostgreSQL, DAG runs in this process,
and a running Airflow (its services as separate processes, as a deployment has them)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import requests
from psycopg2 import sql
from psycopg2.extensions import make_dsn

from warehouse.connection import connect


def create_database(server_dsn: str, name: str) -> str:
    """A new, empty database on the server of ``server_dsn`` (dropped first if there); its DSN."""
    admin = connect(make_dsn(server_dsn, dbname="postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    admin.close()
    return make_dsn(server_dsn, dbname=name)


SAMPLE_ROWS = 20_000
SAMPLE_SEED = 11


def parse_pipeline_dag():
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.settings import PROJECT_ROOT

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["spotify_recommendations"]


def run_dag(source_url: str, **params):
    """One DAG run in this process (``dag.test``) with the given params, the others at their defaults.

    The DAG is parsed afresh each time: ``dag.test`` keeps a run's conf in the DAG object's params.
    """
    return parse_pipeline_dag().test(run_conf={"source_url": source_url, **params})


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, seconds: float, what: str):
    """``check()``'s first truthy answer, asked every 2 s (an HTTP error counts as not yet)."""
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


AIRFLOW_PASSWORD = "services-test"
DAG_ID = "spotify_recommendations"


@contextmanager
def running_airflow(home: Path, services: list[str], **env_overrides: str) -> Iterator[str]:
    """Airflow's ``services`` (e.g. scheduler, dag-processor, triggerer; always the API server) as separate
    processes with their own home and SQLite database, LocalExecutor; yields the API server's base URL.
    Each service logs to ``home/<service>.log``."""
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # Only the test's manual runs: no scheduled run joins them.
        "SPOTIFY_RECS_SCHEDULE": "none",
        **env_overrides,
    }
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": AIRFLOW_PASSWORD}))
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    commands = [["api-server", "--port", str(port), "--host", "127.0.0.1"], *([service] for service in services)]
    processes = [
        # Each service in a session of its own: stopping it stops its children too (serve-logs, workers).
        subprocess.Popen([airflow, *command], env=env, stdout=open(home / f"{command[0]}.log", "w"),
                         stderr=subprocess.STDOUT, start_new_session=True)
        for command in commands
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{base}/api/v2/monitor/health", timeout=5).ok, 120, "the API server")
        yield base
    finally:
        for process in processes:
            with suppress(ProcessLookupError):  # a service that died already
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            with suppress(ProcessLookupError):  # whatever of its session is left
                os.killpg(process.pid, signal.SIGKILL)


def logged_in_session(base: str) -> requests.Session:
    """An HTTP session logged in as the UI's user, once the DAG is parsed; the DAG unpaused, as in the UI."""
    response = requests.post(f"{base}/auth/token", json={"username": "admin", "password": AIRFLOW_PASSWORD}, timeout=10)
    assert response.status_code == 201, response.text
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    wait_for(lambda: client.get(f"{base}/api/v2/dags/{DAG_ID}", timeout=5).ok, 180, "the DAG to be parsed")
    assert client.patch(f"{base}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, timeout=10).ok
    return client


class Inbox:
    """aiosmtpd's handler: keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 OK"


def alerts_connection(smtp_port: int) -> str:
    """The ``alerts_smtp`` connection (JSON) of an SMTP server on 127.0.0.1 without TLS."""
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "extra": {"from_email": "airflow@example.org", "to": "data-team@example.org",
                      "disable_tls": True, "disable_ssl": True},
        }
    )  # fmt: skip


def body_text(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(part.get_payload(decode=True).decode() for part in parts if not part.is_multipart())

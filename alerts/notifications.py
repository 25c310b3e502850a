"""Alerts of the DAG by e-mail, through the SMTP provider's notifier; off until configured.

Two alerts: a task that fails (``notify_failure``, the DAG's ``on_failure_callback``), and a run that has
not ended within its deadline (``notify_deadline_missed``, the DAG's Airflow 3 deadline alert; it runs in
the triggerer, so it needs one running, as ``airflow standalone`` and the compose file have).

Configure the Airflow connection ``alerts_smtp`` (``AIRFLOW_CONN_ALERTS_SMTP``), an SMTP connection
whose extra names the recipients, e.g.
``{"conn_type": "smtp", "host": "smtp.example.org", "port": 587, "login": "...", "password": "...",
"extra": {"from_email": "airflow@example.org", "to": "data-team@example.org"}}``. Without that
connection a failure is only logged, as before.
"""

from __future__ import annotations

import logging
from typing import Any

ALERTS_CONNECTION = "alerts_smtp"
SUBJECT = "[{{ dag.dag_id }}] {{ ti.task_id }} failed in {{ run_id }}"
BODY = (
    "<p>DAG <b>{{ dag.dag_id }}</b>, task <b>{{ ti.task_id }}</b>, run <b>{{ run_id }}</b> failed "
    "(try {{ ti.try_number }}).</p>"
    "<p>Cause: {{ (exception | string).strip().splitlines()[0] if exception else 'unknown' }}</p>"
    '<p>Log: <a href="{{ ti.log_url }}">{{ ti.log_url }}</a></p>'
)
# The triggerer hands a deadline callback a small context: the run (as the REST API shows it) and its deadline.
DEADLINE_SUBJECT = "[{{ dag_run.dag_id }}] run {{ dag_run.dag_run_id }} missed its deadline"
DEADLINE_BODY = (
    "<p>Run <b>{{ dag_run.dag_run_id }}</b> of DAG <b>{{ dag_run.dag_id }}</b> was queued at "
    "{{ dag_run.queued_at }} and had to end by {{ deadline.deadline_time }}. It has not published: "
    "its state is <b>{{ dag_run.state }}</b>.</p>"
    '<p>Run: <a href="{{ run_url }}">{{ run_url }}</a></p>'
)
log = logging.getLogger(__name__)


def alert_recipients() -> str | None:
    """The ``to`` of the alerts connection's extra, or None when there is no such connection."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(ALERTS_CONNECTION).extra_dejson.get("to")
    except AirflowNotFoundException:
        return None


async def notify_deadline_missed(context: dict[str, Any]) -> str:
    """The deadline alert's callback (in the triggerer): mail that the run has not ended in time."""
    from airflow.configuration import conf
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = await Connection.async_get(ALERTS_CONNECTION)
    except AirflowNotFoundException:
        recipients = None
    else:  # extra_dejson masks secrets synchronously, which deadlocks inside the triggerer's event loop
        recipients = (await connection.aextra_dejson()).get("to")
    run = context["dag_run"]
    if not recipients:
        message = f"no deadline alert sent for {run['dag_run_id']}: the connection {ALERTS_CONNECTION} is not set"
        log.warning(message)
        return message
    base_url = (conf.get("api", "base_url", fallback=None) or "http://localhost:8080").rstrip("/")
    run_url = f"{base_url}/dags/{run['dag_id']}/runs/{run['dag_run_id']}"
    await SmtpNotifier(
        to=recipients,
        subject=DEADLINE_SUBJECT,
        html_content=DEADLINE_BODY,
        smtp_conn_id=ALERTS_CONNECTION,
        context={**context, "run_url": run_url},
    )
    return f"deadline alert for {run['dag_run_id']} sent to {recipients}"


def notify_failure(context: Any) -> None:
    """``on_failure_callback``: mail the failure (DAG, task, run, the cause in one line, the log URL)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    recipients = alert_recipients()
    if not recipients:
        log.info("no alert sent: the connection %s (with extra.to) is not configured", ALERTS_CONNECTION)
        return
    notifier = SmtpNotifier(to=recipients, subject=SUBJECT, html_content=BODY, smtp_conn_id=ALERTS_CONNECTION)
    notifier(context)  # renders the templates with the context, then sends

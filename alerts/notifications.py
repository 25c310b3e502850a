"""Failure alerts of the DAG by e-mail, through the SMTP provider's notifier; off until configured.

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
log = logging.getLogger(__name__)


def alert_recipients() -> str | None:
    """The ``to`` of the alerts connection's extra, or None when there is no such connection."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = Connection.get(ALERTS_CONNECTION)
    except AirflowNotFoundException:
        return None
    return connection.extra_dejson.get("to")


def notify_failure(context: Any) -> None:
    """``on_failure_callback``: mail the failure (DAG, task, run, the cause in one line, the log URL)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    recipients = alert_recipients()
    if not recipients:
        log.info("no alert sent: the connection %s (with extra.to) is not configured", ALERTS_CONNECTION)
        return
    notifier = SmtpNotifier(to=recipients, subject=SUBJECT, html_content=BODY, smtp_conn_id=ALERTS_CONNECTION)
    notifier(context)  # renders the templates with the context, then sends

"""Airflow's OpenLineage settings for this project's environments: every run's events appended to a file.

``make demo``, ``make run`` and ``make airflow`` (``devtools.local_run``) and the tests start Airflow with
these; ``docker-compose.yml`` sets the same for its data volume. No lineage server is needed:
``AIRFLOW__OPENLINEAGE__TRANSPORT`` set to an ``http`` transport sends the events to one (such as
Marquez) instead, and ``AIRFLOW__OPENLINEAGE__DISABLED=True`` turns them off. The ``extractors``
setting is what names the ``@task`` tasks' datasets: keep it whatever the transport. ``execute_in_thread``
emits each task's events from a thread of the task's process instead of a forked copy of it (the
provider's default): here a fork cost 40 to 150 ms an event, about 1.8 s of a ``make demo`` run's 31 events.
No Airflow import here: the tests read this before Airflow is configured.
"""

from __future__ import annotations

import json
from pathlib import Path

TRANSPORT = "AIRFLOW__OPENLINEAGE__TRANSPORT"
EXTRACTORS = "AIRFLOW__OPENLINEAGE__EXTRACTORS"
EXECUTE_IN_THREAD = "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD"
PYTHON_TASK_EXTRACTOR = "lineage.extractors.PythonTaskExtractor"


def events_file(data_dir: Path) -> Path:
    """Where the events go by default: one JSON event a line, appended run after run."""
    return data_dir / "lineage" / "events.jsonl"


def openlineage_settings(events: Path) -> dict[str, str]:
    """The provider's settings as environment variables: events appended to ``events`` (whose folder must
    exist: the provider does not make it), the ``@task`` tasks' extractor, events emitted from a thread."""
    transport = {"type": "file", "log_file_path": str(events), "append": True}
    return {TRANSPORT: json.dumps(transport), EXTRACTORS: PYTHON_TASK_EXTRACTOR, EXECUTE_IN_THREAD: "True"}

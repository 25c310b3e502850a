"""Airflow plugin of ``make demo`` / ``make run``: one line per task as it starts and ends, and the
figures as they become known.

Loaded only by the local runner (``devtools.local_run`` points ``AIRFLOW__CORE__PLUGINS_FOLDER`` here);
the lines go to the task process's standard output with the prefix ``[progress]``, and the runner shows
them while the full log goes to a file. It uses Airflow's listener hooks, so the DAG knows nothing of it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

PREFIX = "[progress]"
_started: dict[str, float] = {}


def say(text: str) -> None:
    print(f"{PREFIX} {text}", flush=True)


def _seconds(task_instance: Any) -> str:
    started = _started.pop(task_instance.task_id, None)
    return f" in {time.monotonic() - started:.0f} s" if started is not None else ""


def figures(task_instance: Any) -> str:
    """What the finished task found out, from its run folder's metrics or its return value."""
    from pipeline.run_folder import RunFolder

    run = RunFolder.of_run(task_instance.dag_id, task_instance.run_id)
    task_id = task_instance.task_id
    try:
        if task_id == "extract":
            m = run.read_metrics("extract")
            return (
                f"{m['rows_read']:,} rows read: {m['rows_accepted']:,} accepted, {m['rows_rejected']:,} rejected "
                f"{ {k: v for k, v in m['rows_rejected_by_reason'].items() if v} }; "
                f"{m['songs_kept']:,} songs in {m['min_playlists']}+ playlists"
            )
        if task_id == "minhash":
            return f"{run.read_metrics('minhash')['signatures']:,} signatures"
        if task_id == "similarity_join":
            m = run.read_metrics("similarity_join")
            return f"{m['recommendations']:,} recommendations for {m['songs_with_recommendations']:,} songs"
        if task_id == "evaluate":
            from pipeline.evaluate import overall

            m = run.read_metrics("evaluate")
            ours, popular = overall(m["figures"], "published"), overall(m["figures"], "most_popular")
            return (
                f"{m['cases']:,} cases from {m['holdout_playlists']:,} held-out playlists; R-precision "
                f"{ours['r_precision']:.3f}, NDCG {ours['ndcg']:.3f} (most popular: {popular['r_precision']:.3f}, "
                f"{popular['ndcg']:.3f})"
            )
        if task_id == "validate_evaluation" and "evaluation" not in run.validation_reports():
            gate = task_instance.xcom_pull(task_ids=task_id)
            return f"not judged: {gate['compared_with'].removeprefix('nothing: ')}"
        if task_id.startswith("validate_") and task_id != "validate_params":
            stage = task_id.removeprefix("validate_")
            report = run.validation_reports().get(stage)
            if report:
                checked = sum(len(suite["results"]) for suite in report["suites"])
                return f"{checked} expectations checked"
        if task_id in ("stage", "publish"):
            result = task_instance.xcom_pull(task_ids=task_id)
            if task_id == "publish" and result:
                songs, pairs = result["tracks"], result["recommendations"]
                return f"version {result['run_id']} is live: {songs:,} songs, {pairs:,} pairs"
            if result:
                return f"{result['rows']['tracks']:,} songs and {result['rows']['recommendations']:,} pairs staged"
    except (OSError, KeyError, TypeError, ValueError):
        return ""  # a figure is a courtesy: never fail the run over it
    return ""


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    _started[task_instance.task_id] = time.monotonic()
    say(f"{task_instance.task_id}: running")


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    found = figures(task_instance)
    say(f"{task_instance.task_id}: success{_seconds(task_instance)}" + (f" ({found})" if found else ""))


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    cause = str(error).strip().splitlines()[0] if error and str(error).strip() else type(error).__name__
    say(f"{task_instance.task_id}: FAILED{_seconds(task_instance)}: {cause}")


@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    say(f"{task_instance.task_id}: skipped")


class ProgressPlugin(AirflowPlugin):
    name = "spotify_recs_progress"
    listeners = [sys.modules[__name__]]

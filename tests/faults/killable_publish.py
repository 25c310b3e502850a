"""A publish in a process of its own that stops at a named point and waits there to be killed.

``python -m tests.faults.killable_publish DSN RUN_DIR DAG_RUN_ID STOP_AT`` publishes the run folder
through the DAG's own steps (stage, validate_staged, swap_in) and, at ``STOP_AT``, prints
``stopped at STOP_AT`` and sleeps: the test then sends SIGKILL, as a crashed or killed Airflow task
would be ended. The points are reached by wrapping the pipeline's own functions in this process
only; nothing in the pipeline knows about them:

- ``stage``: inside the stage transaction, after both COPYs, before the commit;
- ``validate_staged``: after Great Expectations checked the staged tables, before the task returns;
- ``publish``: inside the swap transaction, after the live tables moved to music_history and the
  staged ones into music and the run was recorded, before the commit.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from pipeline import publish, validation
from pipeline.run_folder import RunFolder
from warehouse.connection import connect

PARAMS = {"min_playlists": 2, "num_perm": 128, "bands": 64, "rows_per_band": 2, "max_bucket": 20,
          "exact_work": 50000, "top_k": 20, "holdout_fraction": 0.01,
          "holdout_max_playlists": 2500}  # fmt: skip


def wait_here(point: str) -> None:
    print(f"stopped at {point}", flush=True)
    while True:
        time.sleep(60)


def stop_after(module: Any, name: str, point: str) -> None:
    original = getattr(module, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        wait_here(point)
        return result

    setattr(module, name, wrapped)


def main() -> None:
    dsn, run_dir, dag_run_id, stop_at = sys.argv[1:5]
    if stop_at == "stage":
        stop_after(publish, "_staged_rows", "stage")
    elif stop_at == "validate_staged":
        stop_after(validation, "failures", "validate_staged")
    elif stop_at == "publish":
        stop_after(publish, "finish_swap", "publish")
    run = RunFolder(run_dir)
    connection = connect(dsn)
    staged = publish.stage_run(connection, run)
    validated = publish.validate_staged(dsn, run)
    record = publish.run_record(run, dag_run_id, "file:///sample.zip", None, PARAMS, staged, validated)
    publish.swap_in(connection, run, record)
    print("published", flush=True)


if __name__ == "__main__":
    main()

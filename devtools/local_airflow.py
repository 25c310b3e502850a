"""``make airflow``: Airflow on this machine, configured like ``make demo``.

Runs ``airflow standalone`` (API server and UI on http://localhost:8080, ``--port`` for another,
scheduler, DAG processor, triggerer) with this repository's DAGs, the
warehouse of ``AIRFLOW_CONN_WAREHOUSE`` or the embedded PostgreSQL, Spark on
``local[*]`` and Airflow's own database under the data directory. It also makes
the demo's sample dataset, so a run can be triggered from the form at once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from devtools.local_run import prepare, sample_url
from pipeline.settings import SCHEDULE, data_dir


def standalone_environment(env: dict[str, str], port: int) -> dict[str, str]:
    """``make demo``'s Airflow environment, for ``airflow standalone`` on ``port``."""
    env = dict(env)
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
    env["AIRFLOW__API__PORT"] = str(port)
    # On a workstation the weekly schedule would start a run against the Zenodo URL the moment the DAG is
    # unpaused, on a machine that may not reach it: locally, runs are triggered by hand unless asked otherwise.
    env.setdefault(SCHEDULE.name, "none")
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample-rows", type=int, default=100_000, help="rows of the sample to offer (default 100000)")
    parser.add_argument("--port", type=int, default=8080, help="the UI's port (make airflow AIRFLOW_PORT=...)")
    args = parser.parse_args(argv)
    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    _, env = prepare(data)
    env = standalone_environment(env, args.port)
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    passwords = Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
    schedule = "manual runs only" if env[SCHEDULE.name].lower() == "none" else f"schedule {env[SCHEDULE.name]}"
    print(
        f"\nAirflow UI: http://localhost:{args.port} (another port: make airflow AIRFLOW_PORT=8081)"
        f"\nuser admin; its password is printed below by Airflow and kept in {passwords}"
        f"\nDAG spotify_recommendations ({schedule}; {SCHEDULE.name}=@weekly to schedule it) → Trigger"
        f" → Dataset URL: {sample_url(data, args.sample_rows)} (or keep the Zenodo URL)\n",
        flush=True,
    )
    os.execve(airflow, [airflow, "standalone"], env)


if __name__ == "__main__":
    main()

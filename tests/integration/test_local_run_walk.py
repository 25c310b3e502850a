"""A new user's walk with ``make demo``: progress they can watch, a second run that says it skipped, a wrong
URL that fails at once in one line. Each run is the real command in a process of its own, with a data
directory of its own (its own embedded PostgreSQL and Airflow home)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

TASKS = [
    "validate_params", "check_source", "download", "extract", "validate_extract", "minhash", "similarity_join",
    "validate_recommendations", "compare_with_live", "stage", "validate_staged", "publish", "prune_run_folders",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``make demo``'s command on a 3,000-row sample in a fresh data directory; stops its PostgreSQL after."""
    data = tmp_path_factory.mktemp("walk-data")

    def run(*arguments: str) -> subprocess.CompletedProcess:
        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        env.update(SPOTIFY_RECS_DATA_DIR=str(data), SPOTIFY_RECS_KEEP_RUN_FOLDERS="3")
        return subprocess.run(
            [sys.executable, "-m", "devtools.local_run", *arguments],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )

    yield run
    subprocess.run([sys.executable, "-m", "warehouse.embedded", "stop", "--data-dir", str(data)], cwd=PROJECT_ROOT)


def test_the_demo_shows_each_task_as_it_runs_then_a_second_run_says_it_skipped(demo):
    first = demo("--sample-rows", "3000")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    lines = first.stdout.splitlines()
    for task in TASKS:
        assert f"  {task}: running" in lines, task
        assert any(line.startswith(f"  {task}: success in ") for line in lines), task
    assert any(line.startswith("  extract: success") and "3,000 rows read" in line for line in lines)
    assert any(line.startswith("  publish: success") and "is live" in line for line in lines)
    assert any(line.startswith("the DAG run succeeded in ") for line in lines)
    assert "People who put" in first.stdout and "Traceback" not in first.stdout + first.stderr

    second = demo("--sample-rows", "3000")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "  extract: running" not in second.stdout.splitlines()
    assert any(line.startswith("skipped (") and "PARAMS=force=true" in line for line in second.stdout.splitlines())


def test_a_wrong_url_fails_at_once_in_one_line_naming_the_cause(demo, tmp_path):
    missing = tmp_path / "no-such-file.zip"
    result = demo("--source-url", missing.as_uri())
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    last = result.stderr.strip().splitlines()
    assert last[0].startswith("the DAG run failed after ") and "check_source: FAILED" in last[0]
    assert str(missing) in last[0]
    assert "  download: running" not in result.stdout.splitlines()  # failed at once: no retry, nothing after


def test_make_run_passes_source_url_and_params_to_the_runner_as_data_never_to_the_shell(tmp_path):
    marker = tmp_path / "injected"
    hostile = f"x'; touch {marker}; echo '"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "MAKE"))}
    env.update(SPOTIFY_RECS_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"SOURCE_URL={hostile}", f"PARAMS=top_k=5 $(touch {marker})",
         f"DATA_DIR={tmp_path / 'data'}"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert not marker.exists()
    assert result.returncode != 0  # the URL is refused by the DAG's params: a failed run fails make
    subprocess.run([sys.executable, "-m", "warehouse.embedded", "stop", "--data-dir", str(tmp_path / "data")])

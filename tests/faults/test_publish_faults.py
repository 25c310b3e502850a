"""Faults while publishing: the task process killed at each step, PostgreSQL stopped, an analyst holding a lock.

Each test injects one fault against a real PostgreSQL 18 and a real process, then checks that the
system said something clear and that nothing was lost: the live tables' row counts and checksums are
unchanged, ``music.runs`` still has exactly one live version, and the next run publishes and leaves
the staging schema empty.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest

from pipeline.publish import run_record, stage_run, swap_in, validate_staged
from pipeline.run_folder import RunFolder
from pipeline.settings import PROJECT_ROOT
from tests.integration.run_folders import publish_hand_made, write_run
from warehouse.connection import connect
from warehouse.versions import VersionError

SONGS_V1 = [(1, "Björk", "Jóga", 5), (2, "Björk", "Hyperballad", 4), (3, "Sigur Rós", "Hoppípolla", 3)]
RECS_V1 = [(1, 2, 1, 0.6, 3), (1, 3, 2, 0.5, 2), (2, 1, 1, 0.6, 3), (3, 1, 1, 0.5, 2)]
SONGS_V2 = [*SONGS_V1, (4, "Radiohead", "Karma Police", 9)]
RECS_V2 = [(1, 3, 1, 0.5, 2), (1, 4, 2, 0.2, 1), (3, 1, 1, 0.5, 2), (4, 1, 1, 0.2, 1)]


def fetch(dsn: str, query: str) -> list[tuple]:
    with closing(connect(dsn)) as connection, connection, connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


def warehouse_state(dsn: str) -> dict:
    """What a reader and an operator see: live rows and their checksums, and the run history."""
    (tracks,) = fetch(dsn, "select count(*), md5(string_agg(t::text, ',' order by track_id)) from music.tracks t")
    (recommendations,) = fetch(
        dsn, "select count(*), md5(string_agg(r::text, ',' order by track_id, rank)) from music.recommendations r"
    )
    runs = fetch(dsn, "select run_id, status from music.runs order by run_id")
    return {"tracks": tracks, "recommendations": recommendations, "runs": runs}


def staging_tables(dsn: str) -> list[tuple]:
    return fetch(dsn, "select tablename from pg_tables where schemaname = 'music_staging' order by 1")


@pytest.fixture
def live_v1(module_dsn, tmp_path, engine_params) -> str:
    """The module's database with version 1 live (and no leftovers of earlier tests); its DSN."""
    connection = connect(module_dsn)
    publish_hand_made(connection, write_run(tmp_path / "v1", SONGS_V1, RECS_V1), engine_params)
    connection.close()
    return module_dsn


def start_killable_publish(dsn: str, run_dir: Path, stop_at: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.faults.killable_publish", dsn, str(run_dir), f"killed__{stop_at}", stop_at]
    return subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(process: subprocess.Popen, expected: str, seconds: float = 120) -> None:
    """Read the child's output until ``expected`` (the stop point) shows, within ``seconds``."""
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:
            if line.strip() == expected:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(seconds):
        process.kill()
        raise AssertionError(f"the child never printed {expected!r}: {process.stderr.read()[-3000:]}")


@pytest.mark.parametrize("stop_at", ["stage", "validate_staged", "publish"])
def test_a_publish_killed_at_any_step_changes_nothing_and_the_next_run_succeeds(
    live_v1, tmp_path, engine_params, stop_at
):
    before = warehouse_state(live_v1)
    run_dir = write_run(tmp_path / "v2", SONGS_V2, RECS_V2)
    child = start_killable_publish(live_v1, run_dir, stop_at)
    wait_for_line(child, f"stopped at {stop_at}")
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL

    assert warehouse_state(live_v1) == before  # byte for byte: same rows, same checksums, same history

    # A clean rerun of the same run folder, as Airflow's retry would do: it publishes version 2.
    with closing(connect(live_v1)) as connection:
        run_id = publish_hand_made(connection, run_dir, engine_params)
    after = warehouse_state(live_v1)
    assert after["tracks"][0] == len(SONGS_V2) and after["recommendations"][0] == len(RECS_V2)
    statuses = dict(after["runs"])
    (previous_live,) = [r for r, status in before["runs"] if status == "live"]
    assert statuses[previous_live] == "archived" and statuses[run_id] == "live"
    assert list(statuses.values()).count("live") == 1
    assert staging_tables(live_v1) == []  # the swap moved the staged tables in


@pytest.fixture
def own_server(tmp_path):
    """A PostgreSQL of this test's own, started and stopped as an operator does (python -m warehouse.embedded),
    so stopping it touches no other test's server."""
    data_dir = tmp_path / "data"

    def run(action: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "warehouse.embedded", action, "--data-dir", str(data_dir)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.strip()

    yield run
    run("stop")


def test_postgresql_stopped_before_stage_fails_the_task_clearly_and_the_retry_succeeds(
    own_server, tmp_path, engine_params
):
    dsn = own_server("start")
    with closing(connect(dsn)) as connection:
        publish_hand_made(connection, write_run(tmp_path / "v1", SONGS_V1, RECS_V1), engine_params)
    before = warehouse_state(dsn)
    run = RunFolder(write_run(tmp_path / "v2", SONGS_V2, RECS_V2))

    own_server("stop")
    with pytest.raises(psycopg2.OperationalError, match="connection to server on socket .* failed"):
        stage_run(connect(dsn), run)  # what the stage task raises; Airflow retries it

    assert own_server("start") == dsn  # the same server comes back at the same place
    assert warehouse_state(dsn) == before
    with closing(connect(dsn)) as connection:
        publish_hand_made(connection, run.path, engine_params)
    assert warehouse_state(dsn)["tracks"][0] == len(SONGS_V2)


def staged_run(dsn: str, run_dir: Path, engine_params: dict) -> tuple[RunFolder, dict]:
    run = RunFolder(run_dir)
    connection = connect(dsn)
    staged = stage_run(connection, run)
    validated = validate_staged(dsn, run)
    connection.close()
    return run, run_record(run, f"manual__{run_dir.name}", "file:///x.zip", None, engine_params, staged, validated)


def analyst_reading(dsn: str) -> psycopg2.extensions.connection:
    """An analyst's long read transaction: it holds its lock on music.recommendations until it ends."""
    analyst = psycopg2.connect(dsn, application_name="analyst-notebook")
    with analyst.cursor() as cursor:
        cursor.execute("select count(*) from music.recommendations")
    return analyst  # the transaction stays open


class Readers:
    """Readers polling the live tables as the page does (5 s statement timeout), counting their errors."""

    def __init__(self, dsn: str) -> None:
        self.dsn, self.errors, self.reads, self._stop = dsn, [], 0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        connection = psycopg2.connect(self.dsn, options="-c statement_timeout=5000")
        connection.autocommit = True
        while not self._stop.is_set():
            try:
                with connection.cursor() as cursor:
                    cursor.execute("select count(*) from music.recommendations_named")
                    assert cursor.fetchone()[0] > 0
                self.reads += 1
            except Exception as error:  # noqa: BLE001 (every error counts)
                self.errors.append(repr(error))
            time.sleep(0.05)
        connection.close()

    def __enter__(self) -> Readers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_a_swap_behind_an_analysts_lock_gives_up_clearly_naming_the_session(live_v1, tmp_path, engine_params):
    before = warehouse_state(live_v1)
    run, record = staged_run(live_v1, write_run(tmp_path / "v2", SONGS_V2, RECS_V2), engine_params)
    analyst = analyst_reading(live_v1)
    try:
        with Readers(live_v1) as readers, closing(connect(live_v1)) as connection:
            with pytest.raises(VersionError, match=r"gave up; held by: pid \d+ \(postgres, analyst-notebook"):
                swap_in(connection, run, record, lock_timeout_ms=300, attempts=3, backoff_seconds=0.1)
        assert readers.errors == [] and readers.reads > 0  # readers were never turned away meanwhile
    finally:
        analyst.close()
    assert warehouse_state(live_v1) == before


def test_a_swap_waits_out_a_short_analyst_transaction_and_publishes(live_v1, tmp_path, engine_params):
    run, record = staged_run(live_v1, write_run(tmp_path / "v2", SONGS_V2, RECS_V2), engine_params)
    analyst = analyst_reading(live_v1)
    threading.Timer(1.0, analyst.rollback).start()  # the analyst's transaction ends after a second
    try:
        with Readers(live_v1) as readers, closing(connect(live_v1)) as connection:
            run_id = swap_in(connection, run, record, lock_timeout_ms=300, attempts=6, backoff_seconds=0.2)
        assert readers.errors == []
    finally:
        analyst.close()
    state = warehouse_state(live_v1)
    assert state["runs"][-1] == (run_id, "live") and state["tracks"][0] == len(SONGS_V2)

"""Versions of the published tables: archive the live one, swap a new one in, roll back, retention.

A version is the pair of tables ``tracks`` / ``recommendations`` and its row in
``music.runs`` (whose ``status`` says where the tables are): ``live`` in schema
``music``, ``archived`` in ``music_history`` (renamed ``<table>_r<run_id>``),
``rolled_back`` or ``expired`` (dropped). Every function here runs inside the
caller's transaction, so a swap or a rollback is all or nothing.

CLI (``make versions`` / ``make rollback``): ``python -m warehouse.versions list|rollback``,
on the warehouse of ``AIRFLOW_CONN_WAREHOUSE`` when set, else the embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg2.errors
import tenacity
from psycopg2 import sql

from pipeline.settings import keep_versions
from warehouse.sql_files import create_views, create_warehouse_schema, fetch_all_as_dicts, run_sql_file, sql_text

log = logging.getLogger(__name__)
T = TypeVar("T")
# Loaded first, dropped last: recommendations refer to tracks.
TABLES = ("tracks", "recommendations")


# A swap waits at most this long for each lock, then tries again after a pause: readers that queue
# behind its lock request wait no longer than that (the page's statement timeout is 5 s).
LOCK_TIMEOUT_MS = 2_000
SWAP_ATTEMPTS = 5
SWAP_BACKOFF_SECONDS = 1.0  # pauses of 1, 2, 4, 8 s: about half a minute in all before the swap gives up


class VersionError(Exception):
    """There is no version to roll back to, or the swap could not get its locks."""


def lock_holders(connection: Any) -> list[dict[str, Any]]:
    """Who holds locks on the published tables now (pid, user, application, state, last query)."""
    with connection, connection.cursor() as cursor:
        run_sql_file(cursor, "select_lock_holders.sql")
        return fetch_all_as_dicts(cursor)


def in_swap_transaction(
    connection: Any,
    work: Callable[[Any], T],
    lock_timeout_ms: int = LOCK_TIMEOUT_MS,
    attempts: int = SWAP_ATTEMPTS,
    backoff_seconds: float = SWAP_BACKOFF_SECONDS,
) -> T:
    """Run ``work(cursor)`` as one transaction that waits at most ``lock_timeout_ms`` for each lock.

    When a lock is not granted in time (a long read transaction on ``music.*``), the transaction
    rolls back, so the readers queued behind it go on, and it is tried again after a pause; after
    ``attempts`` it fails with the sessions that held the locks.
    """

    def once() -> T:
        with connection, connection.cursor() as cursor:
            run_sql_file(cursor, "set_lock_timeout.sql", {"milliseconds": lock_timeout_ms})
            return work(cursor)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_exponential(multiplier=backoff_seconds, min=0),
        retry=tenacity.retry_if_exception_type(psycopg2.errors.LockNotAvailable),
        before_sleep=tenacity.before_sleep_log(log, logging.WARNING),
        reraise=True,
    )
    try:
        return retrying(once)
    except psycopg2.errors.LockNotAvailable:
        holders = "; ".join(
            f"pid {h['pid']} ({h['user_name']}, {h['application_name'] or 'no application name'}, {h['state']}, "
            f"transaction since {h['transaction_started_at']}: {h['last_query']!r})"
            for h in lock_holders(connection)
        )
        raise VersionError(
            f"the swap waited {attempts} times {lock_timeout_ms} ms for its locks on music.* and gave up; "
            f"held by: {holders or 'nobody any more'}"
        ) from None


def history_name(table: str, run_id: int) -> str:
    return f"{table}_r{run_id}"


def move_table(cursor: Any, schema: str, name: str, new_schema: str, new_name: str) -> None:
    """Move a table to another schema and name; its index names (and so its keys') follow the new name."""
    run_sql_file(cursor, "move_table.sql", schema=schema, name=name, new_schema=new_schema)
    if new_name != name:
        run_sql_file(cursor, "rename_table.sql", schema=new_schema, name=name, new_name=new_name)
        run_sql_file(
            cursor,
            "rename_table_indexes.sql",
            {"table": f"{new_schema}.{new_name}", "old_prefix": f"{name}_", "new_prefix": f"{new_name}_"},
        )


def _drop_tables(cursor: Any, schema: str, names: list[str]) -> None:
    for name in names:
        run_sql_file(cursor, "drop_table.sql", schema=schema, name=name)


def drop_version(cursor: Any, run_id: int, status: str) -> None:
    if status == "live":
        _drop_tables(cursor, "music", list(reversed(TABLES)))
    elif status == "archived":
        _drop_tables(cursor, "music_history", [history_name(t, run_id) for t in reversed(TABLES)])


def runs_with_status(cursor: Any, status: str) -> list[int]:
    """Run ids with ``status``, newest first."""
    run_sql_file(cursor, "select_runs_by_status.sql", {"status": status})
    return [row[0] for row in cursor.fetchall()]


def set_status(cursor: Any, run_id: int, status: str) -> None:
    run_sql_file(cursor, "set_run_status.sql", {"run_id": run_id, "status": status})


def archive_live(cursor: Any) -> None:
    """Move the live version to ``music_history``."""
    for run_id in runs_with_status(cursor, "live"):
        for table in TABLES:
            move_table(cursor, "music", table, "music_history", history_name(table, run_id))
        set_status(cursor, run_id, "archived")


def replace_versions_of(cursor: Any, dag_run_id: str) -> None:
    """Drop the versions an earlier attempt of the same DAG run published: a re-run replaces its own version."""
    run_sql_file(cursor, "select_runs_of_dag_run.sql", {"dag_run_id": dag_run_id})
    for run_id, status in cursor.fetchall():
        drop_version(cursor, run_id, status)
        run_sql_file(cursor, "delete_run.sql", {"run_id": run_id})


def finish_swap(cursor: Any) -> None:
    """Views over the live tables, the reader's grants, retention: after every publish and rollback."""
    archived = runs_with_status(cursor, "archived")
    previous = (
        sql.SQL("music_history.{}").format(sql.Identifier(history_name("recommendations", archived[0])))
        if archived
        else sql.SQL("music.recommendations where false")
    )
    create_views(cursor)
    cursor.execute(
        sql.SQL(sql_text("create_previous_recommendations_view.sql")).format(previous_recommendations=previous)
    )
    run_sql_file(cursor, "grant_reader.sql")
    for run_id in archived[keep_versions() - 1 :]:
        drop_version(cursor, run_id, "archived")
        set_status(cursor, run_id, "expired")


def analyze_live_tables(connection: Any) -> None:
    """Fresh planner statistics, after the swap's commit: inside it, readers would wait for them."""
    with connection, connection.cursor() as cursor:
        run_sql_file(cursor, "analyze_live_tables.sql")


def rollback(connection: Any) -> int:
    """Make the newest archived version live again (the live one is dropped), in one transaction; its run_id."""

    def restore(cursor: Any) -> int:
        create_warehouse_schema(cursor)
        run_sql_file(cursor, "lock_runs.sql")
        archived = runs_with_status(cursor, "archived")
        if not archived:
            raise VersionError("there is no earlier version to roll back to (see music.runs)")
        for run_id in runs_with_status(cursor, "live"):
            drop_version(cursor, run_id, "live")
            set_status(cursor, run_id, "rolled_back")
        for table in TABLES:
            move_table(cursor, "music_history", history_name(table, archived[0]), "music", table)
        set_status(cursor, archived[0], "live")
        finish_swap(cursor)
        return archived[0]

    run_id = in_swap_transaction(connection, restore)
    analyze_live_tables(connection)
    log.info("rolled back: version %s is live again", run_id)
    return run_id


def print_versions(connection: Any) -> None:
    with connection, connection.cursor() as cursor:
        run_sql_file(cursor, "select_versions.sql")
        rows = cursor.fetchall()
    print(f"{'run_id':>6}  {'status':<11}  {'published_at':<25}  {'songs':>9}  {'pairs':>10}  dag_run_id")
    for run_id, status, dag_run_id, published_at, songs, pairs in rows:
        when = f"{published_at:%Y-%m-%d %H:%M:%S%z}"
        print(f"{run_id:>6}  {status:<11}  {when:<25}  {songs:>9}  {pairs:>10}  {dag_run_id}")


def main(argv: list[str] | None = None) -> None:
    from contextlib import closing

    from pipeline.settings import data_dir
    from warehouse.connection import configured_or_embedded, connect

    parser = argparse.ArgumentParser(description="List the published versions, or make the previous one live again.")
    parser.add_argument("action", choices=["list", "rollback"])
    args = parser.parse_args(argv)
    with closing(connect(configured_or_embedded(data_dir()))) as connection:
        if args.action == "rollback":
            try:
                print(f"version {rollback(connection)} is live again")
            except VersionError as error:
                raise SystemExit(f"rollback: {error}") from None
        print_versions(connection)


if __name__ == "__main__":
    main()

"""Publish a validated run to PostgreSQL as a new version, keep earlier versions, roll back.

Inputs: the run folder's Parquet datasets ``songs`` and ``recommendations``
(and its metrics and validation reports), an open psycopg2 connection.
Output: the live tables ``music.tracks`` and ``music.recommendations``, the
analysts' views, a row in ``music.runs``, earlier versions in ``music_history``.
SQL lives in ``include/sql/``.

Two steps, so that the staged tables can be validated inside PostgreSQL between
them:
1. ``stage_run``: ``COPY`` (CSV, streamed from the Parquet files in batches) into
   ``music_staging.tracks`` / ``music_staging.recommendations``, committed.
2. ``swap_in``: in one transaction, keys, checks and indexes are built on the
   staged tables, the live tables move to ``music_history`` (renamed with their
   ``music.runs.run_id``), the staged tables move into ``music``, the run is
   recorded, the views are recreated, the reader role's grants renewed, and
   versions beyond the retention are dropped. Readers see the previous version
   until the commit and the new one after it; a failure leaves everything as it was.

``rollback`` makes the newest archived version live again, in one transaction.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.dataset as pa_dataset
from psycopg2 import sql

from spotify_recs.paths import EXPECTATIONS_DIR, SQL_DIR
from spotify_recs.run_history import compute_params, run_metrics, run_validation_summary

log = logging.getLogger(__name__)
COPY_BATCH_ROWS = 50_000
COPY_READ_BYTES = 1024 * 1024
KEEP_VERSIONS_VARIABLE = "SPOTIFY_RECS_KEEP_VERSIONS"
TABLES = {
    # table: (dataset in the run folder, columns in order); tracks last when dropping, first when loading
    "tracks": ("songs", ["track_id", "artist", "track", "playlist_count"]),
    "recommendations": (
        "recommendations",
        ["track_id", "recommended_track_id", "rank", "similarity", "shared_playlists"],
    ),
}


class PublishError(Exception):
    """The tables would not match the validated outputs, or there is nothing to roll back to."""


def keep_versions() -> int:
    """How many versions to keep, the live one included (at least 1; default 2)."""
    value = int(os.environ.get(KEEP_VERSIONS_VARIABLE, "2"))
    if value < 1:
        raise ValueError(f"{KEEP_VERSIONS_VARIABLE} must be at least 1, got {value}")
    return value


def run_sql_file(cursor, name: str, params: dict | None = None) -> None:
    cursor.execute((SQL_DIR / name).read_text(), params)


class _CsvStream(io.RawIOBase):
    """Record batches read as one CSV byte stream, encoded batch by batch as COPY asks for more.

    One COPY statement for the whole dataset lets PostgreSQL parse what was sent while the
    next batch is encoded (a COPY per batch would wait for each to finish).
    """

    def __init__(self, batches) -> None:
        self._batches = iter(batches)
        self._pending = memoryview(b"")
        self.rows = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._pending:
            batch = next(self._batches, None)
            if batch is None:
                return 0
            encoded = io.BytesIO()
            pa_csv.write_csv(batch, encoded, write_options=pa_csv.WriteOptions(include_header=False))
            self._pending = encoded.getbuffer()
            self.rows += batch.num_rows
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def copy_parquet(cursor, parquet_path: str, table: str, columns: list[str]) -> int:
    """COPY a Parquet dataset (a Spark output folder) into ``table`` as one CSV stream; return the rows sent."""
    dataset = pa_dataset.dataset(parquet_path, format="parquet")
    stream = _CsvStream(dataset.to_batches(columns=columns, batch_size=COPY_BATCH_ROWS))
    cursor.copy_expert(
        f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", stream, size=COPY_READ_BYTES
    )
    return stream.rows


def parquet_rows(run_dir: str | Path) -> dict[str, int]:
    """Rows of each dataset to publish, from the Parquet footers."""
    datasets = Path(run_dir) / "datasets"
    return {
        table: pa_dataset.dataset(str(datasets / dataset), format="parquet").count_rows()
        for table, (dataset, _) in TABLES.items()
    }


def _in_transaction(connection, work):
    try:
        with connection.cursor() as cursor:
            result = work(cursor)
        connection.commit()
        return result
    except BaseException:
        connection.rollback()
        raise


def stage_run(connection, run_dir: str | Path) -> dict[str, int]:
    """Load the run's datasets into ``music_staging`` (committed); return the rows staged."""
    datasets = Path(run_dir) / "datasets"
    started = time.monotonic()

    def load(cursor):
        run_sql_file(cursor, "create_schema.sql")
        run_sql_file(cursor, "create_staging_tables.sql")
        sent = {
            table: copy_parquet(cursor, str(datasets / dataset), f"music_staging.{table}", columns)
            for table, (dataset, columns) in TABLES.items()
        }
        run_sql_file(cursor, "count_staged_rows.sql")
        staged = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
        if staged != sent:
            raise PublishError(f"staged row counts {staged} differ from the rows sent {sent}")
        return staged

    staged = _in_transaction(connection, load)
    _write_stage_seconds(run_dir, "stage", time.monotonic() - started)
    log.info("staged %s", staged)
    return staged


def validate_staged(connection: dict, run_dir: str | Path) -> dict:
    """Great Expectations on the staged tables inside PostgreSQL (suites in ``expectations/staged``).

    Writes ``validation/staged.json`` and adds to the run's Data Docs; raises ``ValidationFailed``
    listing what failed, so the swap does not happen.
    """
    from spotify_recs.validation import ValidationFailed, failures, load_suites, validate_postgres_tables
    from spotify_recs.warehouse import sqlalchemy_url

    started = time.monotonic()
    expected = {f"{table}_rows": rows for table, rows in parquet_rows(run_dir).items()}
    report = validate_postgres_tables(
        load_suites(EXPECTATIONS_DIR / "staged"), sqlalchemy_url(connection), "music_staging", expected, run_dir
    )
    path = Path(run_dir) / "validation" / "staged.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    _write_stage_seconds(run_dir, "validate_staged", time.monotonic() - started)
    failed = failures(report)
    if failed:
        raise ValidationFailed(f"the staged tables failed {len(failed)} expectation(s):\n" + "\n".join(failed))
    return report


def _write_stage_seconds(run_dir: str | Path, stage: str, seconds: float) -> None:
    path = Path(run_dir) / "metrics" / f"{stage}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"seconds": round(seconds, 3)}) + "\n")


def _history_name(table: str, run_id: int) -> str:
    return f"{table}_r{run_id}"


def _move_table(cursor, schema: str, name: str, new_schema: str, new_name: str) -> None:
    """Move a table to another schema and name; its index names (and so its keys') follow the new name."""
    cursor.execute(
        sql.SQL("alter table {}.{} set schema {}").format(
            sql.Identifier(schema), sql.Identifier(name), sql.Identifier(new_schema)
        )
    )
    if new_name != name:
        cursor.execute(
            sql.SQL("alter table {}.{} rename to {}").format(
                sql.Identifier(new_schema), sql.Identifier(name), sql.Identifier(new_name)
            )
        )
        cursor.execute(
            "select music.rename_table_indexes(%s::regclass, %s, %s)",
            (f"{new_schema}.{new_name}", f"{name}_", f"{new_name}_"),
        )


def _archive_live(cursor, run_id: int) -> None:
    for table in TABLES:
        _move_table(cursor, "music", table, "music_history", _history_name(table, run_id))


def _restore_archived(cursor, run_id: int) -> None:
    for table in TABLES:
        _move_table(cursor, "music_history", _history_name(table, run_id), "music", table)


def _drop_tables(cursor, schema: str, names: list[str]) -> None:
    for name in names:
        cursor.execute(
            sql.SQL("drop table if exists {}.{} cascade").format(sql.Identifier(schema), sql.Identifier(name))
        )


def _drop_version(cursor, run_id: int, status: str) -> None:
    if status == "live":
        _drop_tables(cursor, "music", list(reversed(TABLES)))
    elif status == "archived":
        _drop_tables(cursor, "music_history", [_history_name(t, run_id) for t in reversed(TABLES)])


def _runs(cursor, status: str) -> list[int]:
    run_sql_file(cursor, "select_runs_by_status.sql", {"status": status})
    return [row[0] for row in cursor.fetchall()]


def _set_status(cursor, run_id: int, status: str) -> None:
    run_sql_file(cursor, "set_run_status.sql", {"run_id": run_id, "status": status})


def _finish_swap(cursor) -> None:
    """Views over the live tables, the reader's grants, retention: after every publish and rollback."""
    archived = _runs(cursor, "archived")
    previous = (
        sql.SQL("music_history.{}").format(sql.Identifier(_history_name("recommendations", archived[0])))
        if archived
        else sql.SQL("music.recommendations where false")
    )
    cursor.execute(sql.SQL((SQL_DIR / "create_views.sql").read_text()).format(previous_recommendations=previous))
    run_sql_file(cursor, "grant_reader.sql")
    for run_id in archived[keep_versions() - 1 :]:
        _drop_version(cursor, run_id, "archived")
        _set_status(cursor, run_id, "expired")
    cursor.execute("analyze music.tracks; analyze music.recommendations")


def _run_record(run_dir, dag_run_id, source_url, source_fingerprint, params, published: dict[str, int]) -> dict:
    metrics = run_metrics(run_dir)
    extract = metrics.get("extract", {})
    return {
        "dag_run_id": dag_run_id,
        "source_url": source_url,
        "source_fingerprint": json.dumps(source_fingerprint),
        "params": json.dumps(compute_params(params)),
        "rows_read": extract.get("rows_read"),
        "rows_accepted": extract.get("rows_accepted"),
        "rows_rejected": extract.get("rows_rejected"),
        "rows_rejected_by_reason": json.dumps(extract.get("rows_rejected_by_reason")),
        "songs": published["tracks"],
        "candidate_pairs": metrics.get("similarity_join", {}).get("candidate_pairs"),
        "pairs_published": published["recommendations"],
        "stage_seconds": json.dumps({stage: m["seconds"] for stage, m in metrics.items() if "seconds" in m}),
        "validation": json.dumps(run_validation_summary(run_dir)),
        "metrics": json.dumps(metrics),
    }


def swap_in(
    connection, run_dir: str | Path, dag_run_id: str, source_url: str, source_fingerprint: dict | None, params: dict
) -> dict[str, int]:
    """Make the staged tables the live version (one transaction); return the published row counts."""
    expected = parquet_rows(run_dir)
    started = time.monotonic()

    def swap(cursor):
        run_sql_file(cursor, "create_schema.sql")
        run_sql_file(cursor, "count_staged_rows.sql")
        staged = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
        if staged != expected:
            raise PublishError(f"staged row counts {staged} differ from the validated outputs {expected}")
        run_sql_file(cursor, "add_staging_constraints.sql")
        run_sql_file(cursor, "lock_runs.sql")
        run_sql_file(cursor, "select_runs_of_dag_run.sql", {"dag_run_id": dag_run_id})
        for run_id, status in cursor.fetchall():  # a re-run of the same DAG run replaces its version
            _drop_version(cursor, run_id, status)
            run_sql_file(cursor, "delete_run.sql", {"run_id": run_id})
        for run_id in _runs(cursor, "live"):
            _archive_live(cursor, run_id)
            _set_status(cursor, run_id, "archived")
        for table in TABLES:
            _move_table(cursor, "music_staging", table, "music", table)
        _write_stage_seconds(run_dir, "publish", time.monotonic() - started)
        record = _run_record(run_dir, dag_run_id, source_url, source_fingerprint, params, staged)
        run_sql_file(cursor, "insert_run.sql", record)
        (run_id,) = cursor.fetchone()
        _finish_swap(cursor)
        return run_id, staged

    run_id, published = _in_transaction(connection, swap)
    log.info("published version %s: %s", run_id, published)
    return published


def publish_run(
    connection, run_dir: str | Path, dag_run_id: str, source_url: str, source_fingerprint: dict | None, params: dict
) -> dict[str, int]:
    """Stage and swap in one go (no validation of the staged tables in between)."""
    stage_run(connection, run_dir)
    return swap_in(connection, run_dir, dag_run_id, source_url, source_fingerprint, params)


def rollback(connection) -> int:
    """Make the newest archived version live again (the live one is dropped); return its run_id."""

    def restore(cursor):
        run_sql_file(cursor, "create_schema.sql")
        run_sql_file(cursor, "lock_runs.sql")
        archived = _runs(cursor, "archived")
        if not archived:
            raise PublishError("there is no earlier version to roll back to (see music.runs)")
        for run_id in _runs(cursor, "live"):
            _drop_version(cursor, run_id, "live")
            _set_status(cursor, run_id, "rolled_back")
        _restore_archived(cursor, archived[0])
        _set_status(cursor, archived[0], "live")
        _finish_swap(cursor)
        return archived[0]

    run_id = _in_transaction(connection, restore)
    log.info("rolled back: version %s is live again", run_id)
    return run_id

"""Publish a validated run to PostgreSQL as a new version: stage, validate inside PostgreSQL, swap in.

Inputs: the run folder's Parquet datasets ``songs`` and ``recommendations``
(and the Spark jobs' metrics and validation reports), an open psycopg2 connection.
Output: the live tables ``music.tracks`` and ``music.recommendations``, the
analysts' views, a row in ``music.runs`` and the run's figures in ``music.evaluation``,
earlier versions in ``music_history``.
SQL lives in ``include/sql/``; moving versions between schemas in ``warehouse.versions``.

Three steps, the DAG's tasks ``stage``, ``validate_staged`` and ``publish``, each
returning what the run record needs:
1. ``stage_run``: ``COPY`` (streamed from the Parquet files in batches: binary or CSV) into
   ``music_staging.tracks`` / ``music_staging.recommendations``, committed; then the live tables'
   keys, checks and indexes are built on them (``build_staged_keys``) and their planner statistics
   gathered, so the validation's checks can use the indexes and the swap only moves tables.
2. ``validate_staged``: Great Expectations on the staged tables, inside PostgreSQL.
3. ``swap_in``: in one transaction, the live tables move to ``music_history``, the staged tables
   move into ``music``, the run and its evaluation are recorded, the views are recreated, the reader
   role's grants renewed, and versions beyond the retention are dropped. Readers
   see the previous version until the commit and the new one after it; a failure
   leaves everything as it was.

Staged rows that break a key are not refused by ``stage_run``: it leaves the tables without keys
(logging PostgreSQL's message), so ``validate_staged`` reports every broken expectation with
examples, in the run's Data Docs. Should a run reach the swap that way (a key no expectation
states), the swap builds the keys itself and fails with PostgreSQL's message.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Any

import pyarrow.dataset as pa_dataset
from psycopg2 import IntegrityError

from pipeline.run_folder import RunFolder
from pipeline.run_history import compute_params, validation_summary
from pipeline.settings import EXPECTATIONS_DIR
from warehouse.connection import sqlalchemy_url, with_settings
from warehouse.copy_stream import BINARY_HEADER, BINARY_TRAILER, EncodedStream, binary_fields, binary_rows, csv_rows
from warehouse.sql_files import create_warehouse_schema, fetch_one_as_dict, run_sql_file
from warehouse.versions import (
    TABLES,
    analyze_live_tables,
    archive_live,
    finish_swap,
    in_swap_transaction,
    move_table,
    replace_versions_of,
)

log = logging.getLogger(__name__)
COPY_BATCH_ROWS = 50_000
COPY_READ_BYTES = 1024 * 1024
DATASETS = {
    # table: (dataset in the run folder, columns in order)
    "tracks": ("songs", ["track_id", "artist", "track", "playlist_count"]),
    "recommendations": (
        "recommendations",
        ["track_id", "recommended_track_id", "rank", "similarity", "shared_playlists"],
    ),
}
assert tuple(DATASETS) == TABLES  # loaded in the order warehouse.versions keeps them
# The staged checks' sessions plan without hash joins. The two foreign-key checks select only the key
# columns, as PostgreSQL's own foreign-key check does, and both are in the indexes `stage` built: a merge
# anti-join then reads the two indexes in order (1.3 to 2.2 s each on 31.4M pairs). The planner's own
# choice, at the default work_mem, is a parallel hash anti-join over the whole table that spills to
# disk: 4 to 7 s each (docs/performance.md). Tables left without keys still validate (the merge sorts).
STAGED_CHECK_SETTINGS = {"enable_hashjoin": "off"}


class PublishError(Exception):
    """The tables would not match the validated outputs."""


def copy_parquet(cursor: Any, parquet_path: str, table: str, columns: list[str]) -> int:
    """COPY a Parquet dataset (a Spark output folder) into ``table`` as one stream; return the rows sent.

    In PostgreSQL's binary format when every column of ``table`` is a fixed-width number (the
    recommendations), else as CSV (``warehouse.copy_stream``). ``table`` must have been created or emptied
    in this transaction: the rows are written frozen (``COPY ... FREEZE``), visible to all and marked so in
    the visibility map. Otherwise the first query to read each row would write its page again to record
    that, and index-only scans would visit the table.
    """
    run_sql_file(cursor, "select_column_types.sql", {"table": table})
    column_types = dict(cursor.fetchall())
    fields = binary_fields([column_types[name] for name in columns])
    batches = pa_dataset.dataset(parquet_path, format="parquet").to_batches(columns=columns, batch_size=COPY_BATCH_ROWS)
    if fields is None:
        stream, copy_format = EncodedStream(batches, csv_rows), "csv"
    else:
        encode = functools.partial(binary_rows, fields=fields)
        stream, copy_format = EncodedStream(batches, encode, BINARY_HEADER, BINARY_TRAILER), "binary"
    cursor.copy_expert(
        f"copy {table} ({', '.join(columns)}) from stdin with (format {copy_format}, freeze)",
        stream,
        size=COPY_READ_BYTES,
    )
    return stream.rows


def parquet_rows(run: RunFolder) -> dict[str, int]:
    """Rows of each dataset to publish, from the Parquet footers."""
    return {
        table: pa_dataset.dataset(run.dataset(dataset), format="parquet").count_rows()
        for table, (dataset, _) in DATASETS.items()
    }


def _staged_rows(cursor: Any) -> dict[str, int]:
    run_sql_file(cursor, "count_staged_rows.sql")
    return fetch_one_as_dict(cursor) or {}


def stage_run(connection: Any, run: RunFolder) -> dict[str, Any]:
    """Load the run's datasets into ``music_staging`` (committed) and build their keys; return the rows
    staged, whether the keys could be built, and the seconds."""
    started = time.monotonic()
    with connection, connection.cursor() as cursor:
        create_warehouse_schema(cursor)
        run_sql_file(cursor, "create_staging_tables.sql")
        sent = {
            table: copy_parquet(cursor, run.dataset(dataset), f"music_staging.{table}", columns)
            for table, (dataset, columns) in DATASETS.items()
        }
        staged = _staged_rows(cursor)
        if staged != sent:
            raise PublishError(f"staged row counts {staged} differ from the rows sent {sent}")
    log.info("staged %s", staged)
    keys_built = build_staged_keys(connection)
    return {"rows": staged, "keys_built": keys_built, "seconds": round(time.monotonic() - started, 3)}


def build_staged_keys(connection: Any) -> bool:
    """Build the live tables' keys, checks and indexes on the staged tables (``add_staging_constraints.sql``),
    then gather their planner statistics (after the indexes, so the name indexes' expressions get theirs).

    Built here, before the validation, because the staged suites' checks ask what the keys answer (one
    recommendation per rank, every song known): with the indexes PostgreSQL answers them from the
    indexes instead of grouping 31M rows. Returns False when the staged rows break a key: the tables
    are left as staged, without keys, for ``validate_staged`` to report what is wrong.
    """
    built = True
    try:
        with connection, connection.cursor() as cursor:
            run_sql_file(cursor, "add_staging_constraints.sql")
    except IntegrityError as error:
        log.warning("the staged rows break a key; left without keys for the validation to report: %s", error)
        built = False
    with connection, connection.cursor() as cursor:
        run_sql_file(cursor, "analyze_staging_tables.sql")
    return built


def validate_staged(dsn: str, run: RunFolder) -> dict[str, Any]:
    """Great Expectations on the staged tables inside PostgreSQL (suites in ``expectations/staged``).

    Connects to the database of ``dsn`` with the search path ``music_staging`` and
    ``STAGED_CHECK_SETTINGS``. Writes ``validation/staged.json`` and adds to the run's Data Docs; raises
    ``ValidationFailed`` listing what failed, so the swap does not happen. Returns the report's summary
    and the seconds.
    """
    from pipeline.validation import ValidationFailed, failures, load_suites, validate_postgres_tables

    started = time.monotonic()
    expected = {f"{table}_rows": rows for table, rows in parquet_rows(run).items()}
    report = validate_postgres_tables(
        load_suites(EXPECTATIONS_DIR / "staged"),
        with_settings(sqlalchemy_url(dsn, search_path="music_staging"), STAGED_CHECK_SETTINGS),
        expected,
        run.gx_project_root,
    )
    run.write_validation("staged", report)
    failed = failures(report)
    if failed:
        raise ValidationFailed(f"the staged tables failed {len(failed)} expectation(s):\n" + "\n".join(failed))
    return {"summary": validation_summary(report), "seconds": round(time.monotonic() - started, 3)}


def run_record(
    run: RunFolder,
    dag_run_id: str,
    source_url: str,
    source_fingerprint: dict[str, Any] | None,
    params: dict[str, Any],
    staged: dict[str, Any],
    validated_staged: dict[str, Any],
) -> dict[str, Any]:
    """The ``music.runs`` row: the Spark jobs' metrics and reports from the run folder (their outputs),
    the publishing tasks' figures from what they returned."""
    metrics = run.all_metrics()
    extract = metrics.get("extract", {})
    stage_seconds = {stage: m["seconds"] for stage, m in metrics.items() if "seconds" in m}
    stage_seconds.update(stage=staged["seconds"], validate_staged=validated_staged["seconds"])
    validation = {stage: validation_summary(report) for stage, report in run.validation_reports().items()}
    validation["staged"] = validated_staged["summary"]
    return {
        "dag_run_id": dag_run_id,
        "source_url": source_url,
        "source_fingerprint": json.dumps(source_fingerprint),
        "params": json.dumps(compute_params(params)),
        "rows_read": extract.get("rows_read"),
        "rows_accepted": extract.get("rows_accepted"),
        "rows_rejected": extract.get("rows_rejected"),
        "rows_rejected_by_reason": json.dumps(extract.get("rows_rejected_by_reason")),
        "songs": staged["rows"]["tracks"],
        "candidate_pairs": metrics.get("similarity_join", {}).get("candidate_pairs"),
        "pairs_published": staged["rows"]["recommendations"],
        "stage_seconds": json.dumps(stage_seconds),
        "validation": json.dumps(validation),
        "metrics": json.dumps(metrics),
    }


def evaluation_rows(run: RunFolder) -> list[dict[str, Any]]:
    """The run's evaluation figures (``metrics/evaluate.json``, written by the ``evaluate`` task), one row
    per method and seed category; none when the run was not evaluated (``holdout_fraction`` 0)."""
    if not run.metrics_file("evaluate").exists():
        return []
    return list(run.read_metrics("evaluate")["figures"])


def swap_in(connection: Any, run: RunFolder, record: dict[str, Any], **lock_waits: Any) -> int:
    """Make the staged tables the live version and insert ``record`` into ``music.runs``, in one
    transaction; return the new version's run_id.

    The transaction waits only a moment for each lock and is tried again when a reader holds one
    (``warehouse.versions.in_swap_transaction``; ``lock_waits`` overrides its timeout, attempts, backoff).
    """
    expected = parquet_rows(run)

    def swap(cursor: Any) -> int:
        create_warehouse_schema(cursor)
        staged = _staged_rows(cursor)
        if staged != expected:
            raise PublishError(f"staged row counts {staged} differ from the validated outputs {expected}")
        run_sql_file(cursor, "staged_keys_built.sql")
        if not cursor.fetchone()[0]:  # stage could not build them: fail here with PostgreSQL's message
            run_sql_file(cursor, "add_staging_constraints.sql")
        run_sql_file(cursor, "lock_runs.sql")
        replace_versions_of(cursor, record["dag_run_id"])
        archive_live(cursor)
        for table in TABLES:
            move_table(cursor, "music_staging", table, "music", table)
        run_sql_file(cursor, "insert_run.sql", record)
        (run_id,) = cursor.fetchone()
        for figures in evaluation_rows(run):
            run_sql_file(cursor, "insert_evaluation.sql", {"run_id": run_id, **figures})
        finish_swap(cursor)
        run_sql_file(cursor, "record_publish_seconds.sql", {"run_id": run_id})
        log.info("publishing version %s: %s", run_id, staged)
        return run_id

    run_id = in_swap_transaction(connection, swap, **lock_waits)
    analyze_live_tables(connection)
    return run_id

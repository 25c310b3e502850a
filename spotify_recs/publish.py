"""Publish a validated run's songs and recommendations to PostgreSQL.

Inputs: the run folder's Parquet datasets ``songs`` and ``recommendations`` and
an open psycopg2 connection. Output: the tables ``music.tracks`` and
``music.recommendations`` and the view ``music.recommendations_named`` (DDL in
``include/sql/``).

Everything happens in one transaction: staging tables are created, filled with
PostgreSQL ``COPY`` (CSV, streamed from the Parquet files in batches), given
their keys and checks, then swapped in for the live tables. A reader sees the
previous tables until the commit and the new ones after it; a failure anywhere
rolls back to the previous tables untouched.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.dataset as pa_dataset

from spotify_recs.paths import SQL_DIR
from spotify_recs.run_history import compute_params, run_metrics

log = logging.getLogger(__name__)
COPY_BATCH_ROWS = 200_000
TABLES = {
    # table: (dataset in the run folder, columns in order)
    "tracks": ("songs", ["track_id", "artist", "track", "playlist_count"]),
    "recommendations": (
        "recommendations",
        ["track_id", "recommended_track_id", "rank", "similarity", "shared_playlists"],
    ),
}


class PublishError(Exception):
    """The published tables would not match the validated outputs; nothing was changed."""


def run_sql_file(cursor, name: str, sql_dir: Path = SQL_DIR) -> None:
    cursor.execute((sql_dir / name).read_text())


def copy_parquet(cursor, parquet_path: str, table: str, columns: list[str]) -> int:
    """COPY a Parquet dataset (a Spark output folder) into ``table``; return the rows sent."""
    dataset = pa_dataset.dataset(parquet_path, format="parquet")
    statement = f"copy {table} ({', '.join(columns)}) from stdin with (format csv)"
    sent = 0
    for batch in dataset.to_batches(columns=columns, batch_size=COPY_BATCH_ROWS):
        if batch.num_rows == 0:
            continue
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, write_options=pa_csv.WriteOptions(include_header=False))
        buffer.seek(0)
        cursor.copy_expert(statement, buffer)
        sent += batch.num_rows
    return sent


def publish_run(
    connection, run_dir: str | Path, dag_run_id: str, source_url: str, source_fingerprint: dict | None, params: dict
) -> dict[str, int]:
    """Swap the run's songs and recommendations in as the live tables, record the run in ``music.runs``.

    Returns the published row counts.
    """
    datasets = Path(run_dir) / "datasets"
    run = {
        "dag_run_id": dag_run_id,
        "source_url": source_url,
        "source_fingerprint": json.dumps(source_fingerprint),
        "params": json.dumps(compute_params(params)),
        "metrics": json.dumps(run_metrics(run_dir)),
    }
    try:
        with connection.cursor() as cursor:
            run_sql_file(cursor, "create_schema.sql")
            run_sql_file(cursor, "create_runs_table.sql")
            run_sql_file(cursor, "create_staging_tables.sql")
            sent = {
                table: copy_parquet(cursor, str(datasets / dataset), f"music.{table}_staging", columns)
                for table, (dataset, columns) in TABLES.items()
            }
            run_sql_file(cursor, "add_staging_constraints.sql")
            run_sql_file(cursor, "swap_in_staging_tables.sql")
            run_sql_file(cursor, "create_recommendations_named_view.sql")
            run_sql_file(cursor, "count_published_rows.sql")
            published = dict(zip([c.name for c in cursor.description], cursor.fetchone(), strict=True))
            if published != sent:
                raise PublishError(f"published row counts {published} differ from the rows sent {sent}")
            cursor.execute((SQL_DIR / "insert_run.sql").read_text(), run)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    log.info("published %s", published)
    return published

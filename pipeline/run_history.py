"""What was published last, and whether a new run would publish the same thing again.

The history lives in ``music.runs`` (DDL ``include/sql/create_runs_table.sql``),
written by ``pipeline.publish`` in the same transaction as the tables it describes.
"""

from __future__ import annotations

from typing import Any

from warehouse.sql_files import fetch_one_as_dict, run_sql_file

# The params that change what is computed; source_url, force and the gates' tolerances do not.
COMPUTE_PARAMS = (
    "min_playlists",
    "num_perm",
    "bands",
    "rows_per_band",
    "max_bucket",
    "exact_work",
    "top_k",
    "holdout_fraction",
    "holdout_max_playlists",
)


def compute_params(params: dict[str, Any]) -> dict[str, Any]:
    return {name: params[name] for name in COMPUTE_PARAMS}


def last_published_run(connection: Any) -> dict[str, Any] | None:
    """The live version's row of ``music.runs`` as a dict, or None when nothing is published."""
    with connection, connection.cursor() as cursor:
        run_sql_file(cursor, "runs_table_exists.sql")
        if not cursor.fetchone()[0]:
            return None
        run_sql_file(cursor, "select_live_run.sql")
        return fetch_one_as_dict(cursor)


def is_already_published(last_run: dict[str, Any] | None, fingerprint: dict[str, Any] | None, params: dict) -> bool:
    """True when the live tables came from this very source content with these compute params."""
    if last_run is None or fingerprint is None:
        return False
    return last_run["source_fingerprint"] == fingerprint and last_run["params"] == compute_params(params)


def validation_summary(report: dict[str, Any]) -> dict[str, Any]:
    """A validation report in brief: success, expectations checked and failed."""
    results = [result for suite in report["suites"] for result in suite["results"]]
    return {
        "success": report["success"],
        "expectations": len(results),
        "failed": sum(1 for result in results if not result["success"]),
    }

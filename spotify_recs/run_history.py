"""What was published last, and whether a new run would publish the same thing again.

The history lives in ``music.runs`` (DDL ``include/sql/create_runs_table.sql``),
written by ``publish`` in the same transaction as the tables it describes.
"""

from __future__ import annotations

import json
from pathlib import Path

from spotify_recs.paths import SQL_DIR

# The params that change what is computed; source_url and force do not.
COMPUTE_PARAMS = ("min_playlists", "num_perm", "bands", "rows_per_band", "max_bucket", "exact_work", "top_k")


def compute_params(params: dict) -> dict:
    return {name: params[name] for name in COMPUTE_PARAMS}


def last_published_run(connection) -> dict | None:
    """The live version's row of ``music.runs`` as a dict, or None when nothing is published."""
    with connection.cursor() as cursor:
        cursor.execute("select to_regclass('music.runs') is not null")
        if not cursor.fetchone()[0]:
            connection.rollback()
            return None
        cursor.execute((SQL_DIR / "select_live_run.sql").read_text())
        row = cursor.fetchone()
        names = [column.name for column in cursor.description]
    connection.rollback()
    return dict(zip(names, row, strict=True)) if row else None


def is_already_published(last_run: dict | None, fingerprint: dict | None, params: dict) -> bool:
    """True when the live tables came from this very source content with these compute params."""
    if last_run is None or fingerprint is None:
        return False
    return last_run["source_fingerprint"] == fingerprint and last_run["params"] == compute_params(params)


def run_metrics(run_dir: str | Path) -> dict:
    """Every stage's metrics file of the run folder, by stage."""
    folder = Path(run_dir) / "metrics"
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def run_validation_summary(run_dir: str | Path) -> dict:
    """Per validated stage: expectations checked and failed, from the run folder's reports."""
    summary = {}
    for path in sorted((Path(run_dir) / "validation").glob("*.json")):
        report = json.loads(path.read_text())
        results = [result for suite in report["suites"] for result in suite["results"]]
        summary[path.stem] = {
            "success": report["success"],
            "expectations": len(results),
            "failed": sum(1 for result in results if not result["success"]),
        }
    return summary

"""Run folders written by hand (the two Parquet datasets ``publish`` reads, laid out like Spark's, and
optionally the evaluation's figures), published through the DAG's own steps: stage, validate the staged
tables, swap in."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.publish import run_record, stage_run, swap_in, validate_staged
from pipeline.run_folder import RunFolder

SONG_COLUMNS = ["track_id", "artist", "track", "playlist_count"]
RECOMMENDATION_COLUMNS = ["track_id", "recommended_track_id", "rank", "similarity", "shared_playlists"]


def write_run(run_dir, songs, recommendations, evaluation=None):
    """``evaluation``: rows of ``metrics/evaluate.json`` (method, seed_category, cases and the figures)."""
    for name, columns, rows in (
        ("songs", SONG_COLUMNS, songs),
        ("recommendations", RECOMMENDATION_COLUMNS, recommendations),
    ):
        folder = run_dir / "datasets" / name
        folder.mkdir(parents=True)
        table = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows])
        pq.write_table(table, folder / "part-00000.parquet")
    if evaluation is not None:
        RunFolder(run_dir).write_metrics("evaluate", {"figures": evaluation})
    return run_dir


def publish_hand_made(db, run_dir, params: dict, dag_run_id: str | None = None) -> int:
    """Publish a hand-written run folder as if a DAG run (a new one unless named) had produced it; its run_id."""
    dag_run_id = dag_run_id or f"manual__{uuid.uuid4().hex}"
    run = RunFolder(run_dir)
    staged = stage_run(db, run)
    validated = validate_staged(db.dsn, run)
    record = run_record(run, dag_run_id, "file:///sample.zip", {"kind": "file"}, params, staged, validated)
    return swap_in(db, run, record)

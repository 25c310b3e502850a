"""Run folders written by hand: the two Parquet datasets ``publish`` reads, laid out like Spark's."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from spotify_recs import publish

SONG_COLUMNS = ["track_id", "artist", "track", "playlist_count"]
RECOMMENDATION_COLUMNS = ["track_id", "recommended_track_id", "rank", "similarity", "shared_playlists"]


def write_run(run_dir, songs, recommendations):
    for name, columns, rows in (
        ("songs", SONG_COLUMNS, songs),
        ("recommendations", RECOMMENDATION_COLUMNS, recommendations),
    ):
        folder = run_dir / "datasets" / name
        folder.mkdir(parents=True)
        table = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows])
        pq.write_table(table, folder / "part-00000.parquet")
    return run_dir


PARAMS = {
    "min_playlists": 2,
    "num_perm": 128,
    "bands": 64,
    "rows_per_band": 2,
    "max_bucket": 20,
    "exact_work": 50000,
    "top_k": 20,
    "force": False,
}


def publish_hand_made(db, run_dir, dag_run_id: str | None = None, **params) -> dict:
    """Publish a hand-written run folder as if a DAG run (a new one unless named) had produced it."""
    dag_run_id = dag_run_id or f"manual__{uuid.uuid4().hex}"
    return publish.publish_run(db, run_dir, dag_run_id, "file:///sample.zip", {"kind": "file"}, {**PARAMS, **params})

"""Run folders written by hand: the two Parquet datasets ``publish`` reads, laid out like Spark's."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

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

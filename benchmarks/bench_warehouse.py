"""Warehouse benchmark: publish throughput against ``psql \\copy``, and name lookup latency, at full scale.

``make bench-warehouse`` (``BENCH_ARGS="--tracks 200000"`` for a quick run). It
works in a database ``bench`` of the embedded PostgreSQL under the data
directory (``--database`` names another), never in the warehouse itself.

1. Writes Parquet datasets shaped like a full-scale run (``--tracks`` songs,
   ``--top-k`` recommendations each: 1.6M x 20 = 32M rows by default).
2. Publish throughput: the recommendations go into an empty table once with
   ``pipeline.publish.copy_parquet`` (Parquet -> CSV -> COPY, what publishing
   does) and once with ``psql \\copy`` from a CSV file of the same rows (written
   beforehand, not timed): the practical limit. Prints rows/s and the ratio.
3. Publishes the datasets as a version (stage, keys and indexes, swap), then
   times ``--lookups`` lookups of one song's top 10 by artist and song name
   (case and accents ignored, as the web page and ``music.track_lookup`` do).
Prints a table and writes it as JSON (``--json``).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from benchmarks.report import print_figures
from pipeline.publish import copy_parquet, run_record, stage_run, swap_in, validate_staged
from pipeline.run_folder import RunFolder
from pipeline.settings import data_dir
from warehouse.connection import connect
from warehouse.embedded import ensure_database, start

LOOKUP_QUERY = """
select recommendations.rank, recommended.artist, recommended.track, recommendations.similarity
from music.tracks as tracks
inner join music.recommendations as recommendations on recommendations.track_id = tracks.track_id
inner join music.tracks as recommended on recommended.track_id = recommendations.recommended_track_id
where music.fold_name(tracks.artist) = music.fold_name(%(artist)s)
  and music.fold_name(tracks.track) = music.fold_name(%(track)s)
  and recommendations.rank <= 10
order by recommendations.rank
"""
ARTISTS_PER_SONG = 7


def write_datasets(run_dir: Path, tracks: int, top_k: int, seed: int) -> int:
    """songs and recommendations Parquet folders like a run's; returns the recommendation rows."""
    rng = np.random.default_rng(seed)
    index = np.arange(tracks, dtype=np.uint64)
    track_ids = (index * np.uint64(0x9E3779B97F4A7C15)).view(np.int64)  # a bijection: ids are unique
    artists = [f"Artíst {i // ARTISTS_PER_SONG}" for i in range(tracks)]
    names = [f"Sóng {i}" for i in range(tracks)]
    songs = pa.table({"track_id": track_ids, "artist": artists, "track": names,
                      "playlist_count": rng.integers(2, 5000, tracks, dtype=np.int64)})  # fmt: skip
    (run_dir / "datasets" / "songs").mkdir(parents=True)
    pq.write_table(songs, run_dir / "datasets" / "songs" / "part-0.parquet")

    folder = run_dir / "datasets" / "recommendations"
    folder.mkdir(parents=True)
    offsets = rng.choice(np.arange(1, tracks), size=top_k, replace=False)
    chunk = 200_000
    for start_row in range(0, tracks, chunk):
        source = np.arange(start_row, min(start_row + chunk, tracks))
        similarity = np.sort(rng.uniform(0.05, 1.0, (len(source), top_k)), axis=1)[:, ::-1]
        table = pa.table({
            "track_id": np.repeat(track_ids[source], top_k),
            "recommended_track_id": track_ids[(source[:, None] + offsets[None, :]) % tracks].ravel(),
            "rank": np.tile(np.arange(1, top_k + 1, dtype=np.int64), len(source)),
            "similarity": similarity.ravel(),
            "shared_playlists": rng.integers(1, 500, len(source) * top_k, dtype=np.int64),
        })  # fmt: skip
        pq.write_table(table, folder / f"part-{start_row // chunk:05d}.parquet")
    return tracks * top_k


def bench_copy(dsn: str, run_dir: Path, rows: int, psql: str) -> dict:
    """rows/s of copy_parquet and of psql \\copy of the same rows into an empty table each."""
    columns = ["track_id", "recommended_track_id", "rank", "similarity", "shared_playlists"]
    create = "create table {} (track_id bigint, recommended_track_id bigint, rank integer, similarity double precision, shared_playlists integer)"  # noqa: E501
    db = connect(dsn)
    with db.cursor() as cursor:
        for table in ("bench_copy_ours", "bench_copy_psql"):
            cursor.execute(f"drop table if exists {table}")
            cursor.execute(create.format(table))
    db.commit()

    csv_path = run_dir / "recommendations.csv"
    with pa_csv.CSVWriter(csv_path, pq.read_schema(next((run_dir / "datasets" / "recommendations").glob("*.parquet"))),
                          write_options=pa_csv.WriteOptions(include_header=False)) as writer:  # fmt: skip
        for part in sorted((run_dir / "datasets" / "recommendations").glob("*.parquet")):
            writer.write_table(pq.read_table(part, columns=columns))

    # Both load frozen rows, as publishing does: COPY FREEZE asks for the table emptied in its transaction.
    started = time.perf_counter()
    result = subprocess.run(
        [psql, dsn, "-v", "ON_ERROR_STOP=1", "-c", "begin", "-c", "truncate bench_copy_psql", "-c",
         f"\\copy bench_copy_psql ({', '.join(columns)}) from '{csv_path}' with (format csv, freeze)",
         "-c", "commit"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    psql_seconds = time.perf_counter() - started
    assert f"COPY {rows}" in result.stdout.split("\n"), result.stdout

    started = time.perf_counter()
    with db.cursor() as cursor:
        cursor.execute("truncate bench_copy_ours")
        sent = copy_parquet(cursor, str(run_dir / "datasets" / "recommendations"), "bench_copy_ours", columns)
    db.commit()
    ours_seconds = time.perf_counter() - started
    assert sent == rows
    with db.cursor() as cursor:
        cursor.execute("drop table bench_copy_ours; drop table bench_copy_psql")
    db.commit()
    db.close()
    return {
        "rows": rows,
        "psql_copy_seconds": round(psql_seconds, 2),
        "psql_copy_rows_per_second": round(rows / psql_seconds),
        "publish_copy_seconds": round(ours_seconds, 2),
        "publish_copy_rows_per_second": round(rows / ours_seconds),
        "publish_vs_psql": round(psql_seconds / ours_seconds, 3),
    }


def bench_lookups(dsn: str, run_dir: Path, tracks: int, lookups: int, seed: int) -> dict:
    started = time.perf_counter()
    db = connect(dsn)
    # The DAG's own path: stage, validate the staged tables, swap in.
    run = RunFolder(run_dir)
    staged = stage_run(db, run)
    validated = validate_staged(dsn, run)
    params = {"min_playlists": 2, "num_perm": 0, "bands": 0, "rows_per_band": 0, "max_bucket": 0, "exact_work": 0,
              "top_k": 0, "holdout_fraction": 0,
              "holdout_max_playlists": None}  # fmt: skip
    swap_in(db, run, run_record(run, f"bench__{int(time.time())}", run_dir.as_uri(), None, params, staged, validated))
    publish_seconds = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    timings = []
    with db.cursor() as cursor:
        for song in rng.integers(0, tracks, lookups):
            # typed the way a person would: other case, no accents
            asked = {"artist": f"artist {song // ARTISTS_PER_SONG}", "track": f"SONG {song}"}
            began = time.perf_counter()
            cursor.execute(LOOKUP_QUERY, asked)
            found = cursor.fetchall()
            timings.append((time.perf_counter() - began) * 1000)
            assert len(found) == 10, (asked, found)
        cursor.execute("explain " + LOOKUP_QUERY, asked)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    db.rollback()
    db.close()
    timings.sort()
    return {
        "publish_seconds": round(publish_seconds, 1),
        "lookups": lookups,
        "lookup_ms_median": round(statistics.median(timings), 3),
        "lookup_ms_p95": round(timings[int(0.95 * len(timings)) - 1], 3),
        "lookup_ms_max": round(timings[-1], 3),
        "uses_name_index": "tracks_name_idx" in plan,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=1_600_000, help="songs (default 1600000, full scale)")
    parser.add_argument("--top-k", type=int, default=20, help="recommendations per song (default 20)")
    parser.add_argument("--lookups", type=int, default=500, help="timed lookups (default 500)")
    parser.add_argument("--database", default="bench", help="database of the embedded PostgreSQL (default bench)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from warehouse.embedded import psql_command

    dsn = ensure_database(start(data_dir() / "postgres"), args.database)

    with tempfile.TemporaryDirectory(dir=data_dir()) as scratch:
        run_dir = Path(scratch)
        began = time.perf_counter()
        rows = write_datasets(run_dir, args.tracks, args.top_k, seed=7)
        print(f"wrote {args.tracks} songs and {rows} recommendations in {time.perf_counter() - began:.1f} s")
        figures = {"tracks": args.tracks, "top_k": args.top_k}
        figures.update(bench_copy(dsn, run_dir, rows, shlex.split(psql_command(dsn))[0]))
        figures.update(bench_lookups(dsn, run_dir, args.tracks, args.lookups, seed=11))

    print_figures(figures, args.json)


if __name__ == "__main__":
    main()

"""The whole DAG at a size, from a local zip to published tables (``make bench-scale``): issue #12's 5x run.

For each ``--rows`` size (default 64,500,000, five times the Spotify Playlists
dataset and the size of the Million Playlist Dataset), on the calibrated
generator's file (cached under ``<data>/bench/``):

- **time**: the whole DAG (``make run SOURCE_URL=file://... PARAMS=force=true``),
  its wall time and each stage's seconds (as the warehouse recorded them), and
  the seconds per million rows, to show how the time grows with the rows;
- **memory of everything**: the peak of the machine's memory in use (total
  minus available, so Airflow, Spark, PostgreSQL and the page cache's dirty
  pages are in; the clean page cache is not), minus what was in use before the
  run, and the peak resident memory of the run's own process tree;
- **recall@10** of the published recommendations (read from PostgreSQL) on
  ``--sample-songs`` songs drawn at random from the run's songs, against their
  exact Jaccard top 10 (``benchmarks.exact_jaccard``, tie-aware).

Run it alone: another process beside it changes every figure.

Usage: ``python -m benchmarks.bench_scale [--rows 12900000,64500000] [--sample-songs 2000] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from benchmarks import exact_jaccard
from benchmarks.bench_similarity import RECALL_K, gib, recommended_rows, whole_dag
from devtools.local_run import DAG_ID
from devtools.sample_data import write_sample_zip
from pipeline.run_folder import RunFolder
from pipeline.settings import data_dir
from warehouse.connection import configured_or_embedded, connect
from warehouse.sql_files import fetch_all_as_dicts, run_sql_file

BASELINE_ROWS = 12_900_000  # the Spotify Playlists dataset's size: the growth is shown against it when measured
RECALL_BLOCK = 32  # sampled songs per exact sparse product (a block of 256 holds 5x more co-members at 64.5M rows)


class MachineMemory:
    """Peak memory in use on the whole machine (total minus available), sampled every 0.5 s."""

    def __init__(self) -> None:
        self.before = self._in_use()
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _in_use() -> int:
        memory = psutil.virtual_memory()
        return memory.total - memory.available

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._in_use())
            self._stop.wait(0.5)

    def __enter__(self) -> MachineMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def published_recall(run_folder: RunFolder, sample_songs: int, seed: int) -> dict:
    """Recall@10 of the published recommendations of ``sample_songs`` random songs against their exact top 10."""
    index = exact_jaccard.load_index(run_folder.dataset("playlist_tracks"))
    rows = np.sort(
        np.random.default_rng(seed).choice(len(index.track_ids), min(sample_songs, len(index.track_ids)), False)
    )
    with closing(connect(configured_or_embedded(data_dir()))) as db, db, db.cursor() as cursor:
        run_sql_file(cursor, "select_published_top_k_of_tracks.sql", {"track_ids": index.track_ids[rows].tolist()})
        published = pd.DataFrame(fetch_all_as_dicts(cursor), columns=["track_id", "recommended_track_id", "rank"])
    by_row = recommended_rows(index, published)
    return {
        "recall_at_10": exact_jaccard.mean_recall(index, rows, by_row, RECALL_K, block=RECALL_BLOCK),
        "recall_sample_songs": len(rows),
        "sampled_songs_with_recommendations": len(by_row),
        "songs_in_playlist_tracks": len(index.track_ids),
    }


def scale_point(rows: int, seed: int, sample_songs: int) -> dict:
    """One size: generate (once), run the whole DAG, then score the published answer."""
    zip_path = data_dir() / "bench" / f"sample-{rows}-seed{seed}.zip"
    if not zip_path.exists():
        print(f"generating {rows:,} rows -> {zip_path}", flush=True)
        started = time.perf_counter()
        write_sample_zip(zip_path, rows, seed)
        print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"running the whole DAG on {zip_path.name}", flush=True)
    with MachineMemory() as machine:
        dag = whole_dag(zip_path)
    if dag["dag_run_id"] is None:
        raise SystemExit("no live version after the DAG run")
    print(f"  DAG {dag['seconds']:.0f} s; scoring {sample_songs} sampled songs against the exact answer", flush=True)
    recall = published_recall(RunFolder.of_run(DAG_ID, dag["dag_run_id"]), sample_songs, seed)
    return {
        "rows": rows,
        "zip_bytes": zip_path.stat().st_size,
        "dag_seconds": round(dag["seconds"], 1),
        "seconds_per_million_rows": round(dag["seconds"] / rows * 1e6, 2),
        "stage_seconds": dag["stage_seconds"],
        "songs_published": dag["songs_published"],
        "pairs_published": dag["pairs_published"],
        "machine_memory_before_gib": gib(machine.before),
        "machine_memory_peak_gib": gib(machine.peak),
        "machine_memory_total_gib": gib(psutil.virtual_memory().total),
        "run_processes_peak_gib": dag["peak_memory_gib"],
        **recall,
    }


def print_report(points: list[dict], baseline: dict | None) -> None:
    print(f"\n{'rows':>12}{'DAG s':>9}{'s/M rows':>10}{'songs':>11}{'pairs':>13}{'machine GiB':>13}{'run GiB':>9}"
          f"{'recall@10':>11}")  # fmt: skip
    for point in points:
        print(
            f"{point['rows']:>12,}{point['dag_seconds']:>9.0f}{point['seconds_per_million_rows']:>10.1f}"
            f"{point['songs_published']:>11,}{point['pairs_published']:>13,}{point['machine_memory_peak_gib']:>13}"
            f"{point['run_processes_peak_gib']:>9}{point['recall_at_10']:>11.4f}"
        )
    for point in points:
        stages = ", ".join(f"{name} {seconds:.0f}" for name, seconds in (point["stage_seconds"] or {}).items())
        print(f"{point['rows']:,} rows, stage seconds: {stages}")
    largest = points[-1]
    print(
        f"largest size: peak memory in use {largest['machine_memory_peak_gib']} GiB of "
        f"{largest['machine_memory_total_gib']} (target: within 24 GB), recall@10 {largest['recall_at_10']:.4f} "
        "(target >= 0.95)"
    )
    if baseline and baseline is not largest:
        time_ratio = largest["dag_seconds"] / baseline["dag_seconds"]
        rows_ratio = largest["rows"] / baseline["rows"]
        print(
            f"time from {baseline['rows']:,} to {largest['rows']:,} rows: x{time_ratio:.2f} for x{rows_ratio:.2f} "
            f"the rows, {time_ratio / rows_ratio:.2f} of linear (target <= 1)"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="64500000", help="comma-separated sizes, smallest first (default 64500000)")
    parser.add_argument("--seed", type=int, default=5, help="the generator's seed (default 5, the calibrated files)")
    parser.add_argument("--sample-songs", type=int, default=2000, help="songs whose recall is measured (default 2000)")
    parser.add_argument(
        "--baseline-json",
        type=Path,
        help=f"a previous report of this benchmark whose {BASELINE_ROWS:,}-row point the growth is shown against, "
        "when this run does not measure that size",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sizes = sorted(int(value) for value in args.rows.split(","))
    points = [scale_point(rows, args.seed, args.sample_songs) for rows in sizes]
    measured = {point["rows"]: point for point in points}
    if BASELINE_ROWS not in measured and args.baseline_json:
        earlier = json.loads(args.baseline_json.read_text())["points"]
        measured.update({point["rows"]: point for point in earlier})
    baseline = measured.get(BASELINE_ROWS)
    print_report(points, baseline)
    if args.json:
        args.json.write_text(json.dumps({"points": points, "baseline": baseline}, indent=2) + "\n")


if __name__ == "__main__":
    main()

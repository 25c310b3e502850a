"""Lookup page benchmark: requests per second and latency of ``/api/recommendations`` under gunicorn.

``make bench-web`` (``BENCH_ARGS="--requests 5000"`` for a quick run). It works
in a database ``bench_web`` of the embedded PostgreSQL under the data directory
(``--database`` names another), never in the warehouse itself.

1. Publishes ``--tracks`` songs with ``--top-k`` recommendations each (the
   datasets of ``make bench-warehouse``, through the DAG's own steps: stage,
   validate the staged tables, swap in), unless that version is already live.
2. Starts the page as ``make web`` does (``python -m webapp``: gunicorn, with
   the web settings of this environment, ``pipeline.settings.web_settings``) on a free port.
3. ``--clients`` threads, each with its own keep-alive connection, send
   ``--requests`` lookups of random songs by artist and song name, typed the way
   a person would (other case, no accents), after ``--warm-up`` untimed ones.

Prints requests/s, p50/p95/p99/max latency, and how many answers were not 2xx
(with their statuses); ``--json`` also writes the figures.
"""

from __future__ import annotations

import argparse
import http.client
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from benchmarks.bench_warehouse import ARTISTS_PER_SONG, write_datasets
from benchmarks.report import print_figures
from pipeline.publish import run_record, stage_run, swap_in, validate_staged
from pipeline.run_folder import RunFolder
from pipeline.settings import data_dir, web_settings
from warehouse.connection import airflow_connection_json, connect
from warehouse.embedded import ensure_database, start

START_SECONDS = 120


def bench_database(name: str) -> str:
    """The DSN of database ``name`` on the embedded PostgreSQL under the data directory (created if missing)."""
    return ensure_database(start(data_dir() / "postgres"), name)


def live_dag_run_id(dsn: str) -> str | None:
    db = connect(dsn)
    try:
        with db.cursor() as cursor:
            cursor.execute("select to_regclass('music.runs') is not null")
            if not cursor.fetchone()[0]:
                return None
            cursor.execute("select dag_run_id from music.runs where status = 'live'")
            row = cursor.fetchone()
            return row[0] if row else None
    finally:
        db.close()


def publish_sample(dsn: str, tracks: int, top_k: int) -> None:
    """``tracks`` songs with ``top_k`` recommendations each, live in ``dsn`` (kept when already there)."""
    dag_run_id = f"bench_web__{tracks}x{top_k}"
    if live_dag_run_id(dsn) == dag_run_id:
        print(f"the sample ({tracks} songs x {top_k}) is already live")
        return
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=data_dir()) as scratch:
        run = RunFolder(Path(scratch))
        write_datasets(Path(scratch), tracks, top_k, seed=7)
        db = connect(dsn)
        staged = stage_run(db, run)
        validated = validate_staged(dsn, run)
        params = {"min_playlists": 2, "num_perm": 0, "bands": 0, "rows_per_band": 0, "max_bucket": 0,
                  "exact_work": 0, "top_k": top_k, "holdout_fraction": 0,
                  "holdout_max_playlists": None}  # fmt: skip
        swap_in(db, run, run_record(run, dag_run_id, Path(scratch).as_uri(), None, params, staged, validated))
        db.close()
    print(f"published {tracks} songs x {top_k} recommendations in {time.perf_counter() - began:.1f} s")


def start_page(dsn: str, log_path: Path) -> tuple[subprocess.Popen, int]:
    """``python -m webapp`` (what ``make web`` runs) on ``dsn``'s database and a free port; (process, port)."""
    env = {**os.environ, "AIRFLOW_CONN_WAREHOUSE": airflow_connection_json(dsn), "PORT": "0"}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "webapp"], env=env, stdout=subprocess.PIPE, stderr=log, text=True
        )
    assert process.stdout is not None
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if select.select([process.stdout], [], [], 1.0)[0]:
            line = process.stdout.readline()
            if "the lookup page is at http://127.0.0.1:" in line:
                return process, int(line.split("127.0.0.1:")[1].split("/")[0])
    process.kill()
    raise SystemExit(f"the page did not start; its log:\n{log_path.read_text()[-3000:]}")


def lookup_paths(count: int, tracks: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [
        "/api/recommendations?" + urlencode({"artist": f"artist {song // ARTISTS_PER_SONG}", "track": f"SONG {song}",
                                             "n": 10})
        for song in rng.integers(0, tracks, count)
    ]  # fmt: skip


class Client(threading.Thread):
    """One client: its share of the paths, one after another on one keep-alive connection."""

    def __init__(self, port: int, paths: list[str]) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.paths = paths
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for path in self.paths:
            began = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.latencies.append((time.perf_counter() - began) * 1000)
            self.statuses[status] += 1
        connection.close()


def fire(port: int, paths: list[str], clients: int) -> tuple[float, list[float], Counter[str]]:
    """Send ``paths`` from ``clients`` threads at once; (seconds, latencies in ms, statuses)."""
    threads = [Client(port, paths[i::clients]) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    latencies = sorted(ms for thread in threads for ms in thread.latencies)
    statuses: Counter[str] = sum((thread.statuses for thread in threads), Counter())
    return seconds, latencies, statuses


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="timed requests (default 20000)")
    parser.add_argument("--clients", type=int, default=50, help="client threads (default 50)")
    parser.add_argument("--warm-up", type=int, default=1_000, help="untimed requests first (default 1000)")
    parser.add_argument("--tracks", type=int, default=200_000, help="songs published (default 200000)")
    parser.add_argument("--top-k", type=int, default=20, help="recommendations per song (default 20)")
    parser.add_argument("--database", default="bench_web", help="database of the embedded PostgreSQL")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    dsn = bench_database(args.database)
    publish_sample(dsn, args.tracks, args.top_k)
    web = web_settings()
    log_path = data_dir() / "bench_web_gunicorn.log"
    process, port = start_page(dsn, log_path)
    try:
        fire(port, lookup_paths(args.warm_up, args.tracks, seed=3), args.clients)
        seconds, latencies, statuses = fire(port, lookup_paths(args.requests, args.tracks, seed=11), args.clients)
    finally:
        process.terminate()
        process.wait(timeout=60)

    not_2xx = {status: count for status, count in statuses.items() if not status.startswith("2")}
    figures = {
        "endpoint": "/api/recommendations?artist=&track=&n=10",
        "songs": args.tracks,
        "gunicorn": f"{web.workers} workers x {web.threads} threads, {web.pool_size} connections each",
        "clients": args.clients,
        "requests": args.requests,
        "seconds": round(seconds, 2),
        "requests_per_second": round(args.requests / seconds),
        "latency_ms_p50": round(percentile(latencies, 0.50), 2),
        "latency_ms_p95": round(percentile(latencies, 0.95), 2),
        "latency_ms_p99": round(percentile(latencies, 0.99), 2),
        "latency_ms_max": round(latencies[-1], 2),
        "latency_ms_mean": round(statistics.fmean(latencies), 2),
        "non_2xx": sum(not_2xx.values()),
        "non_2xx_by_status": not_2xx,
    }
    print_figures(figures, args.json)


if __name__ == "__main__":
    main()

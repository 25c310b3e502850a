"""Per-executor peak memory of the ``similarity_join`` job on a Spark standalone cluster, 1 vs 2 executors.

``make bench-executor-memory`` (``BENCH_ARGS="--rows 200000"`` for a quick run), that is
``python -m benchmarks.bench_executor_memory [--rows 1000000,4000000] [--executors 1,2] [--json PATH]``.

For each ``--rows`` size: the generated file, extracted once (``bench_similarity.prepared_run``, cached
under ``<data>/bench/``), and its ``minhash`` job run once. Then for each executor count W: a master and
W workers (``spark-class``, 1 core each) on 127.0.0.1, and the job under ``spark-submit`` with
``--executor-memory`` and ``spark.default.parallelism`` W (the job's default number of tasks and band
groups follows it). While the job runs, every 0.2 s, the resident memory (RSS) of each worker's process
tree without the Worker JVM itself: the executor JVM, its Python daemon and Python workers (peak of the
whole executor and of its Python processes alone), and of the driver's tree (spark-submit's JVM and its
Python). Each peak is the maximum of its own sums, so two peaks may come from different moments.
Checks that every W wrote the same recommendations as the first, row for row, and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.dataset as pa_dataset
import pyspark
import requests

from benchmarks.bench_similarity import PeakMemory, gib, prepared_run
from pipeline.run_folder import RunFolder
from pipeline.settings import PROJECT_ROOT, data_dir
from spark_jobs.similarity_join import RECOMMENDATION_COLUMNS

WORKER_MEMORY = "6g"  # what a worker offers: room for one executor of the default 2g and its overhead
DRIVER_MEMORY = "4g"
SHUFFLE_PARTITIONS = "16"
SAMPLE_SECONDS = 0.2
CLUSTER_START_SECONDS = 90


def spark_script(name: str) -> str:
    """The virtualenv's Spark launch script (``spark-submit``, ``spark-class``), next to this Python."""
    return str(Path(sys.executable).with_name(name))


def use_this_spark() -> None:
    """The virtualenv's Spark and Python for every Spark process this benchmark starts, ``prepared_run``'s
    included: without ``.venv/bin`` on ``PATH`` (``make`` puts it there), its scripts find no Spark home."""
    os.environ["SPARK_HOME"] = str(Path(pyspark.__file__).parent)
    os.environ["PYSPARK_PYTHON"] = sys.executable


def spark_env() -> dict[str, str]:
    """This environment, every daemon on 127.0.0.1."""
    return {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_signatures(run_dir: Path) -> None:
    """The minhash job on the run folder, once (its ``metrics/minhash.json`` marks it done)."""
    if RunFolder(run_dir).metrics_file("minhash").exists():
        return
    print(f"minhash on {run_dir.name} (spark-submit spark_jobs/minhash.py)", flush=True)
    subprocess.run(
        [spark_script("spark-submit"), "--master", "local[*]", "--driver-memory", DRIVER_MEMORY,
         "--conf", f"spark.sql.shuffle.partitions={SHUFFLE_PARTITIONS}",
         str(PROJECT_ROOT / "spark_jobs" / "minhash.py"), "--run-dir", str(run_dir)],
        env=spark_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def is_python(process: psutil.Process) -> bool:
    return process.name().startswith("python")


def describe(process: psutil.Process) -> str:
    """A process of an executor's tree, named for the report: its program and, for a JVM, its main class."""
    command = process.cmdline()
    if is_python(process):
        return "python " + " ".join(part for part in command[1:3] if part)
    main_class = next((part for part in command if part.startswith("org.apache.spark.")), "")
    return f"{process.name()} {main_class}".strip()


class ExecutorPeaks:
    """Peak RSS (bytes) of each Spark Worker's descendants (its executor: JVM and Python processes) and of
    their Python processes alone, sampled every 0.2 s; the Worker JVM itself is not counted."""

    def __init__(self, worker_pids: list[int]) -> None:
        self.workers = [psutil.Process(pid) for pid in worker_pids]
        self.tree_peaks = [0] * len(worker_pids)
        self.python_peaks = [0] * len(worker_pids)
        self.processes_seen: Counter[str] = Counter()  # kind of process -> most seen at once under one Worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for i, worker in enumerate(self.workers):
                tree = python = 0
                kinds: Counter[str] = Counter()
                try:
                    descendants = worker.children(recursive=True)
                except psutil.NoSuchProcess:
                    continue
                for process in descendants:
                    try:
                        rss = process.memory_info().rss
                        tree += rss
                        python += rss if is_python(process) else 0
                        kinds[describe(process)] += 1
                    except psutil.NoSuchProcess:
                        pass
                self.processes_seen |= kinds
                self.tree_peaks[i] = max(self.tree_peaks[i], tree)
                self.python_peaks[i] = max(self.python_peaks[i], python)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> ExecutorPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stop(processes: list[subprocess.Popen]) -> None:
    """Terminate the daemons and wait for them, then any of their descendants still running (executors)."""
    descendants = []
    for process in processes:
        try:
            descendants += psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    left = [process for process in descendants if process.is_running()]
    for process in left:
        process.terminate()
    _, still = psutil.wait_procs(left, timeout=10)
    for process in still:
        process.kill()


@contextmanager
def standalone_cluster(workers: int, folder: Path) -> Iterator[tuple[str, list[int]]]:
    """A master and ``workers`` workers (1 core, ``WORKER_MEMORY`` each) on 127.0.0.1; yields the master's
    URL and the Worker JVMs' pids; stops them all on the way out."""
    spark_class = spark_script("spark-class")
    port, master_ui = free_port(), free_port()
    commands = [
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(master_ui)],
        *([spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host", "127.0.0.1",
           "--cores", "1", "--memory", WORKER_MEMORY, "--webui-port", str(free_port()),
           "--work-dir", str(folder / f"work{i}")]
          for i in range(1, workers + 1)),
    ]  # fmt: skip
    processes: list[subprocess.Popen] = []
    try:
        for i, command in enumerate(commands):
            with open(folder / f"daemon{i}.log", "w") as log:
                processes.append(
                    subprocess.Popen(command, env=spark_env(), cwd=folder, stdout=log, stderr=subprocess.STDOUT)
                )
        deadline = time.monotonic() + CLUSTER_START_SECONDS
        while True:
            try:
                status = requests.get(f"http://127.0.0.1:{master_ui}/json/", timeout=5).json()
                if status.get("aliveworkers", 0) >= workers:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
                raise RuntimeError(f"{workers} Spark worker(s) did not register (logs in {folder})")
            time.sleep(1)
        # spark-class execs the JVM, so each Popen's pid is its Worker JVM's.
        yield f"spark://127.0.0.1:{port}", [process.pid for process in processes[1:]]
    finally:
        stop(processes)


def run_similarity_join(
    master_url: str, worker_pids: list[int], run_dir: Path, executor_memory: str, log_path: Path
) -> dict[str, Any]:
    """The job under spark-submit on the cluster, its peaks sampled while it runs."""
    workers = len(worker_pids)
    command = [
        spark_script("spark-submit"), "--master", master_url, "--name", "bench_executor_memory.similarity_join",
        "--driver-memory", DRIVER_MEMORY, "--executor-memory", executor_memory,
        "--conf", "spark.executor.cores=1",
        "--conf", f"spark.default.parallelism={workers}",
        "--conf", f"spark.sql.shuffle.partitions={SHUFFLE_PARTITIONS}",
        "--conf", f"spark.pyspark.python={sys.executable}",
        str(PROJECT_ROOT / "spark_jobs" / "similarity_join.py"), "--run-dir", str(run_dir),
    ]  # fmt: skip
    started = time.perf_counter()
    with open(log_path, "w") as log, ExecutorPeaks(worker_pids) as executors:
        driver = subprocess.Popen(command, env=spark_env(), stdout=log, stderr=subprocess.STDOUT)
        with PeakMemory(driver.pid) as driver_memory:
            returncode = driver.wait()
    seconds = time.perf_counter() - started
    if returncode:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-30:])
        raise RuntimeError(f"similarity_join failed on {master_url} (exit {returncode}):\n{tail}")
    metrics = RunFolder(run_dir).read_metrics("similarity_join")
    return {
        "executors": workers,
        "seconds": round(seconds, 1),
        "executor_tree_peak_gib": [gib(peak) for peak in executors.tree_peaks],
        "executor_python_peak_gib": [gib(peak) for peak in executors.python_peaks],
        "driver_peak_gib": gib(driver_memory.peak),
        "band_groups": metrics.get("band_groups", "-"),
        "index_builds": metrics["index_builds"],
        "tasks": metrics["tasks"],
        "executor_processes": dict(sorted(executors.processes_seen.items())),
    }


def sorted_rows(dataset_path: Path) -> pa.Table:
    """The recommendations' values, sorted (their columns only: what readers of the dataset select)."""
    table = pa_dataset.dataset(str(dataset_path), format="parquet").to_table(columns=list(RECOMMENDATION_COLUMNS))
    values = pa.Table.from_arrays(table.columns, names=table.column_names)  # nullability aside
    return values.sort_by([(name, "ascending") for name in RECOMMENDATION_COLUMNS])


def measure_size(rows: int, executor_counts: list[int], args: argparse.Namespace) -> dict[str, Any]:
    run_dir = prepared_run(rows, args.seed, args.bench_dir)
    ensure_signatures(run_dir)
    run = RunFolder(run_dir)
    point: dict[str, Any] = {
        "rows": rows,
        "songs": run.read_metrics("minhash")["signatures"],
        "playlist_song_pairs": run.read_metrics("extract")["playlist_tracks"],
        "runs": [],
    }
    recommendations = Path(run.dataset("recommendations"))
    with tempfile.TemporaryDirectory(prefix="bench-executor-memory-") as temp:
        folder = Path(temp)
        reference = folder / "first-recommendations"
        for workers in executor_counts:
            print(f"similarity_join on {rows:,} rows, {workers} executor(s)", flush=True)
            cluster_folder = folder / f"cluster-{workers}"
            cluster_folder.mkdir()
            with standalone_cluster(workers, cluster_folder) as (master_url, worker_pids):
                log_path = cluster_folder / "spark-submit.log"
                point["runs"].append(
                    run_similarity_join(master_url, worker_pids, run_dir, args.executor_memory, log_path)
                )
            if not reference.exists():
                shutil.copytree(recommendations, reference)
            else:
                same = sorted_rows(reference).equals(sorted_rows(recommendations))
                point["runs"][-1]["same_recommendations_as_first"] = same
                print(
                    f"recommendations with {workers} vs {executor_counts[0]} executor(s): "
                    + ("equal row for row" if same else "DIFFERENT"),
                    flush=True,
                )
    return point


def print_table(points: list[dict[str, Any]]) -> None:
    print(
        f"\n{'rows':>11}{'executors':>10}{'songs':>11}{'pairs':>12}{'seconds':>9}{'executor GiB':>14}"
        f"{'python GiB':>12}{'driver GiB':>12}{'band groups':>13}{'index builds':>14}{'tasks':>7}"
    )
    for point in points:
        for run in point["runs"]:
            print(
                f"{point['rows']:>11,}{run['executors']:>10}{point['songs']:>11,}{point['playlist_song_pairs']:>12,}"
                f"{run['seconds']:>9.1f}{max(run['executor_tree_peak_gib']):>14.2f}"
                f"{max(run['executor_python_peak_gib']):>12.2f}{run['driver_peak_gib']:>12.2f}"
                f"{run['band_groups']!s:>13}{run['index_builds']:>14}{run['tasks']:>7}"
            )
    print(
        "executor GiB: the largest executor's peak (executor JVM + its Python processes); python GiB: the largest "
        "peak of an executor's Python processes alone"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_executor_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,4000000", help="comma-separated sizes (default 1000000,4000000)")
    parser.add_argument("--executors", default="1,2", help="comma-separated executor counts (default 1,2)")
    parser.add_argument("--seed", type=int, default=5, help="generator seed (default 5)")
    parser.add_argument("--executor-memory", default="2g", help="spark-submit --executor-memory (default 2g)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--bench-dir",
        type=Path,
        default=data_dir() / "bench",
        help="cached data (default: <data>/bench, as bench_similarity)",
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(size.replace("_", "")) for size in args.rows.split(","))
    executor_counts = [int(count) for count in args.executors.split(",")]
    args.bench_dir.mkdir(parents=True, exist_ok=True)
    use_this_spark()

    points: list[dict[str, Any]] = []
    for rows in sizes:
        points.append(measure_size(rows, executor_counts, args))
        if args.json:  # after every size, so a stopped run keeps what it measured
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(points, indent=2) + "\n")
    print_table(points)
    seen: Counter[str] = Counter()
    for point in points:
        for run in point["runs"]:
            seen |= Counter(run["executor_processes"])
    print("under a Worker, at most at once: " + "; ".join(f"{count} x {kind}" for kind, count in sorted(seen.items())))
    if args.json:
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()

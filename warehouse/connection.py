"""Connecting to the warehouse: one ``connect(dsn)``, and the DSN of Airflow's ``warehouse`` connection.

Inside Airflow tasks and outside (CLI tools, the lookup page), the warehouse is the
Airflow connection ``warehouse`` when one is configured (``AIRFLOW_CONN_WAREHOUSE``),
resolved by the postgres provider's ``PostgresHook``; without one, the tools use
the embedded PostgreSQL (``warehouse.embedded``). A DSN is a libpq connection
string (``host=... dbname=...`` or ``postgresql://...``), built by psycopg2's
``make_dsn`` so that socket folders and passwords are quoted correctly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg2
from psycopg2.extensions import make_dsn, parse_dsn

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection
    from sqlalchemy.engine import URL

CONNECTION_ID = "warehouse"


def connect(dsn: str) -> Connection:
    """A psycopg2 connection (autocommit off); ``with connection:`` makes a block one transaction."""
    return psycopg2.connect(dsn)


def _hook():
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    return PostgresHook(postgres_conn_id=CONNECTION_ID)


def airflow_dsn() -> str:
    """The DSN of the Airflow connection ``warehouse``."""
    connection = _hook().connection
    fields = {
        "host": connection.host,
        "port": connection.port,
        "user": connection.login,
        "password": connection.password,
        "dbname": connection.schema,
    }
    return make_dsn(**{name: value for name, value in fields.items() if value})


def sqlalchemy_url(dsn: str, search_path: str | None = None) -> URL:
    """A SQLAlchemy URL (psycopg2 driver) for ``dsn``, optionally with a schema search path.

    Every libpq field goes into the URL's query, where psycopg2 takes it: a host that is a
    socket folder needs no special form, and the password stays in the URL object.
    """
    from sqlalchemy.engine import URL

    url = URL.create("postgresql+psycopg2", query=parse_dsn(dsn))
    return with_settings(url, {"search_path": search_path}) if search_path else url


def with_settings(url: URL | str, settings: dict[str, str]) -> URL:
    """``url`` whose sessions start with these server settings (libpq ``options``, ``-c name=value``),
    after any it already sets."""
    from sqlalchemy.engine import make_url

    url = make_url(url)
    given = url.query.get("options", ())  # a field given twice in a URL's query is a tuple
    options = [given] if isinstance(given, str) else list(given)
    options += [f"-c {name}={value}" for name, value in settings.items()]
    return url.update_query_dict({"options": " ".join(options)})


def configured_or_embedded(data_dir: Path) -> str:
    """The DSN of Airflow's ``warehouse`` connection when configured, else of the embedded PostgreSQL."""
    if os.environ.get("AIRFLOW_CONN_WAREHOUSE"):
        return airflow_dsn()
    from warehouse.embedded import start

    return start(data_dir / "postgres")


def with_user(dsn: str, user: str, password: str | None = None) -> str:
    """The same server and database as ``dsn``, as another role."""
    fields = {**parse_dsn(dsn), "user": user}
    fields.pop("password", None)
    if password:
        fields["password"] = password
    return make_dsn(**fields)


def masked(dsn: str) -> str:
    """``dsn`` with its password replaced by ``***``, for printing."""
    fields = parse_dsn(dsn)
    if "password" in fields:
        fields["password"] = "***"
    return make_dsn(**fields)


def airflow_connection_json(dsn: str) -> str:
    """``dsn`` as an Airflow connection in JSON, for ``AIRFLOW_CONN_WAREHOUSE`` of an Airflow process."""
    import json

    fields = parse_dsn(dsn)
    connection = {
        "conn_type": "postgres",
        "host": fields.get("host"),
        "port": int(fields["port"]) if "port" in fields else None,
        "login": fields.get("user"),
        "password": fields.get("password"),
        "schema": fields.get("dbname"),
    }
    return json.dumps({name: value for name, value in connection.items() if value is not None})

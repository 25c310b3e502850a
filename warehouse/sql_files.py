"""SQL statements kept in ``include/sql/``, one purpose per file, run by name."""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

from pipeline.settings import SQL_DIR


def sql_text(name: str) -> str:
    """The text of ``include/sql/<name>``."""
    return (SQL_DIR / name).read_text()


def run_sql_file(cursor: Any, file_name: str, /, params: dict[str, Any] | None = None, **identifiers: str) -> None:
    """Run ``include/sql/<file_name>``: ``params`` fill its ``%(...)s`` values, ``identifiers`` its ``{...}``
    names (schemas, tables), quoted by ``psycopg2.sql``."""
    if identifiers:
        statement = sql.SQL(sql_text(file_name)).format(**{k: sql.Identifier(v) for k, v in identifiers.items()})
        cursor.execute(statement, params)
    else:
        cursor.execute(sql_text(file_name), params)


def fetch_one_as_dict(cursor: Any) -> dict[str, Any] | None:
    """The cursor's next row as a dict by column name, or None."""
    row = cursor.fetchone()
    return None if row is None else dict(zip(_column_names(cursor), row, strict=True))


def fetch_all_as_dicts(cursor: Any) -> list[dict[str, Any]]:
    """The cursor's remaining rows as dicts by column name."""
    names = _column_names(cursor)
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _column_names(cursor: Any) -> list[str]:
    return [column.name for column in cursor.description]


SCHEMA_FILES = (
    "create_schemas.sql",
    "create_functions.sql",
    "create_runs_table.sql",
    "create_evaluation_table.sql",
    "create_reader_role.sql",
)


def create_warehouse_schema(cursor: Any) -> None:
    """Schemas, helper functions, the run history and its evaluation, the reader role (idempotent)."""
    for name in SCHEMA_FILES:
        run_sql_file(cursor, name)


def create_views(cursor: Any) -> None:
    """The analysts' views over the live tables, one file each in ``include/sql/views/``."""
    for path in sorted((SQL_DIR / "views").glob("*.sql")):
        cursor.execute(path.read_text())

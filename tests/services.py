"""Helpers the service-backed tests share: databases on the session's PostgreSQL, DAG runs in this process."""

from __future__ import annotations

from psycopg2 import sql
from psycopg2.extensions import make_dsn

from warehouse.connection import connect


def create_database(server_dsn: str, name: str) -> str:
    """A new, empty database on the server of ``server_dsn`` (dropped first if there); its DSN."""
    admin = connect(make_dsn(server_dsn, dbname="postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    admin.close()
    return make_dsn(server_dsn, dbname=name)


SAMPLE_ROWS = 20_000
SAMPLE_SEED = 11


def parse_pipeline_dag():
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.settings import PROJECT_ROOT

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags")).dags["spotify_recommendations"]


def run_dag(source_url: str, **params):
    """One DAG run in this process (``dag.test``) with the given params, the others at their defaults.

    The DAG is parsed afresh each time: ``dag.test`` keeps a run's conf in the DAG object's params.
    """
    return parse_pipeline_dag().test(run_conf={"source_url": source_url, **params})


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}

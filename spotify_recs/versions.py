"""``make rollback`` / ``make versions``: list the published versions, or make the previous one live again.

Usage: ``python -m spotify_recs.versions list|rollback``. It uses the warehouse
of ``AIRFLOW_CONN_WAREHOUSE`` when set, else the embedded PostgreSQL.
Rollback is one transaction: the live version is dropped (its ``music.runs``
row says ``rolled_back``) and the newest archived version becomes live.
"""

from __future__ import annotations

import argparse

from spotify_recs.paths import data_dir
from spotify_recs.publish import rollback
from spotify_recs.warehouse import configured_or_embedded, connect

LIST_QUERY = """
select run_id, status, dag_run_id, published_at, songs, pairs_published
from music.runs
order by run_id desc
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["list", "rollback"])
    args = parser.parse_args(argv)
    connection = connect(configured_or_embedded(data_dir() / "postgres"))
    try:
        if args.action == "rollback":
            run_id = rollback(connection)
            print(f"version {run_id} is live again")
        with connection.cursor() as cursor:
            cursor.execute(LIST_QUERY)
            print(f"{'run_id':>6}  {'status':<11}  {'published_at':<25}  {'songs':>9}  {'pairs':>10}  dag_run_id")
            for run_id, status, dag_run_id, published_at, songs, pairs in cursor.fetchall():
                when = f"{published_at:%Y-%m-%d %H:%M:%S%z}"
                print(f"{run_id:>6}  {status:<11}  {when:<25}  {songs:>9}  {pairs:>10}  {dag_run_id}")
    finally:
        connection.close()


if __name__ == "__main__":
    main()

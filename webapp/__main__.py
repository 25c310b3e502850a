"""``make web``: serve the lookup page under gunicorn on 127.0.0.1 (port ``$PORT``, default 5000; 0 picks a free one).

It reads the warehouse of ``AIRFLOW_CONN_WAREHOUSE`` when set, else the
embedded PostgreSQL under the data directory (``make demo`` fills it), as the
read-only role ``music_reader`` (password ``$SPOTIFY_RECS_READER_PASSWORD``
where the server asks for one; ``SPOTIFY_RECS_READER_USER`` names another role).
Workers, threads and the connection pool come from
``pipeline.settings.web_settings()``. It starts even before anything is
published; the page then answers 503 and says so.
"""

from __future__ import annotations

import os

from pipeline.settings import data_dir, reader_credentials, web_settings
from warehouse.connection import configured_or_embedded, with_user
from webapp.server import serve


def main() -> None:
    port = int(os.environ.get("PORT", "5000"))
    user, password = reader_credentials()
    serve(with_user(configured_or_embedded(data_dir()), user, password), port, web_settings())


if __name__ == "__main__":
    main()

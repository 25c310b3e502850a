"""``make web``: serve the lookup page on 127.0.0.1 (port ``$PORT``, default 5000).

It reads the warehouse of ``AIRFLOW_CONN_WAREHOUSE`` when set, else the
embedded PostgreSQL under the data directory (``make demo`` fills it), as the
read-only role ``music_reader`` (password ``$SPOTIFY_RECS_READER_PASSWORD``
where the server asks for one; ``SPOTIFY_RECS_READER_USER`` names another role).
"""

from __future__ import annotations

import os

from pipeline.settings import data_dir, reader_credentials
from warehouse.connection import configured_or_embedded, with_user
from webapp.app import create_app
from webapp.catalogue import Catalogue


def main() -> None:
    port = int(os.environ.get("PORT", "5000"))
    user, password = reader_credentials()
    catalogue = Catalogue(with_user(configured_or_embedded(data_dir()), user, password))
    app = create_app(catalogue)
    print(f"the lookup page is at http://127.0.0.1:{port}/ (Ctrl+C stops it)")
    app.run(host="127.0.0.1", port=port, threaded=True)


if __name__ == "__main__":
    main()

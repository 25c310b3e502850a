"""A small published catalogue for the web page's tests, with answers known by construction."""

from __future__ import annotations

import pytest

from tests.integration.run_folders import publish_hand_made, write_run

JOGA, HYPERBALLAD, HOPPIPOLLA, KARMA_POLICE, GLORY_BOX, TEARDROP, ALONE, TAGS = range(1, 9)
SONGS = [
    (JOGA, "Björk", "Jóga", 50),
    (HYPERBALLAD, "Björk", "Hyperballad", 40),
    (HOPPIPOLLA, "Sigur Rós", "Hoppípolla", 45),
    (KARMA_POLICE, "Radiohead", "Karma Police", 60),
    (GLORY_BOX, "Portishead", "Glory Box", 30),
    (TEARDROP, "Massive Attack", "Teardrop", 55),
    (ALONE, "Lonely Band", "Alone", 2),  # no recommendations
    (TAGS, "The <b>Tags</b> & Co", "100% <script>", 3),
]
TOP_K = 5
RECOMMENDATIONS = [
    (JOGA, HYPERBALLAD, 1, 0.6, 30),
    (JOGA, HOPPIPOLLA, 2, 0.5, 25),
    (JOGA, TEARDROP, 3, 0.4, 20),
    (JOGA, GLORY_BOX, 4, 0.3, 12),
    (JOGA, KARMA_POLICE, 5, 0.2, 10),
    (HOPPIPOLLA, JOGA, 1, 0.5, 25),
    (HOPPIPOLLA, TEARDROP, 2, 0.25, 9),
    (TEARDROP, GLORY_BOX, 1, 0.45, 20),
    (TAGS, JOGA, 1, 0.1, 1),
]


@pytest.fixture(scope="module")
def published_catalogue(warehouse_dsn, tmp_path_factory, engine_params):
    from warehouse.connection import connect

    db = connect(warehouse_dsn)
    publish_hand_made(
        db, write_run(tmp_path_factory.mktemp("webapp-run"), SONGS, RECOMMENDATIONS), {**engine_params, "top_k": TOP_K}
    )
    db.close()
    return warehouse_dsn


@pytest.fixture(scope="module")
def catalogue(published_catalogue):
    from webapp.catalogue import Catalogue

    catalogue = Catalogue({**published_catalogue, "login": "music_reader", "password": None})
    yield catalogue
    catalogue.close()

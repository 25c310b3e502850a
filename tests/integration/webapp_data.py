"""A small catalogue for the web page's tests, with answers known by construction (published by the
``published_catalogue`` fixture of ``tests/integration/conftest.py``)."""

from __future__ import annotations

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

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

# The run's metrics/evaluation.json rows. The page shows the overall figures (seed category "all"), ours
# first; the one-seed row's figures (0.9x) must appear nowhere; cosine_knn's NDCG is missing (NULL).
OTHER_FIGURES = {
    "recall_10": 0.21, "recall_100": 0.33, "recall_500": 0.47, "clicks": 2.5, "hit_rate": 0.64, "coverage": 0.05,
    "popularity_ratio": 1.4, "own_artist_share": 0.12,
}  # fmt: skip
EVALUATION = [
    {"method": "cosine_knn", "seed_category": "all", "cases": 1234, "r_precision": 0.38, "ndcg": None, **OTHER_FIGURES},
    {"method": "published", "seed_category": "all", "cases": 1234, "r_precision": 0.41, "ndcg": 0.52, **OTHER_FIGURES},
    {"method": "most_popular", "seed_category": "all", "cases": 1234, "r_precision": 0.12, "ndcg": 0.19,
     **OTHER_FIGURES},
    {"method": "published", "seed_category": "1", "cases": 300, "r_precision": 0.93, "ndcg": 0.94, **OTHER_FIGURES},
]  # fmt: skip

"""The evaluate task's figures on a hand-made run folder, every expected value worked out by hand."""

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.evaluate import evaluate_run, overall
from pipeline.run_folder import RunFolder

# Training playlists (playlist_tracks). Playlist counts: 1: 3; 2, 3, 5: 2; 4, 6, 8, 9..14: 1.
TRAINING = {1: [1, 2, 3], 2: [1, 2], 3: [3, 4], 4: [5, 6, 8], 5: [1, 5], 6: [9, 10, 11, 12, 13, 14]}
# Most popular: 1, then 2, 3, 5 (count 2, smaller id first), then 4, 6, 8, 9, 10, 11, 12, 13, 14.
ARTIST = {1: 10, 2: 10, 3: 20, 4: 20, 5: 30, 6: 30, 7: 40, 8: 30, **{song: 50 for song in range(9, 15)}}
# Held-out playlists in playlist order. Song 7 is in no training playlist (never seen in training).
HELD_OUT = {
    100: [1, 4, 2, 7],  # one case (1 seed: [1]; hidden 4, 2, 7)
    200: [3],  # one song: its hidden part would be empty, so no case
    300: [7, 3, 4],  # one case (seed 7, unseen in training: no neighbours); hidden 3, 4
    400: [14, 7],  # one case (seed 14); hidden 7, which no method can recommend
}
# The published neighbour lists (best first). Songs 7 and 14 have none.
PUBLISHED = {1: [(4, 0.5), (2, 0.2)], 2: [(1, 0.5)], 3: [(4, 0.5), (1, 0.25)]}


def write(run: RunFolder, name: str, rows: list[dict]) -> None:
    folder = run.path / "datasets" / name
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-00000.parquet")


@pytest.fixture
def evaluated(tmp_path):
    run = RunFolder(tmp_path)
    counts = {}
    for songs in TRAINING.values():
        for song in songs:
            counts[song] = counts.get(song, 0) + 1
    write(run, "playlist_tracks", [{"playlist_id": p, "track_id": s} for p, songs in TRAINING.items() for s in songs])
    write(
        run,
        "songs",
        [{"track_id": s, "artist_id": ARTIST[s], "playlist_count": n} for s, n in sorted(counts.items())],
    )
    write(
        run,
        "recommendations",
        [
            {"track_id": song, "recommended_track_id": other, "rank": rank, "similarity": similarity}
            for song, neighbours in PUBLISHED.items()
            for rank, (other, similarity) in enumerate(neighbours, start=1)
        ],
    )
    write(
        run,
        "holdout_tracks",
        [
            {
                "playlist_id": playlist,
                "position": position,
                "track_id": song,
                "artist_id": ARTIST[song],
                "training_playlists": counts.get(song, 0),
            }
            for playlist, songs in HELD_OUT.items()
            for position, song in enumerate(songs, start=1)
        ],
    )
    return evaluate_run(run, top_k=20), run


def log2(n: int) -> float:
    return math.log2(n)


# Case 100 (hidden {4, 2, 7}, |G| = 3; IDCG = 1 + 1/log2(3) + 1/log2(4)):
#   published: neighbours of 1: 4, 2; filled with the most popular not yet named: 3, 5, 6, 8, 9, ...
#     -> [4, 2, 3, 5, 6, 8, 9, 10, 11, 12, ...]: hits at ranks 1, 2. R-precision 2/3, NDCG (1 + 1/log2(3)) / IDCG
#   most popular (without the seed 1): [2, 3, 5, 4, 6, 8, 9, ...]: hits at 1, 4. R-precision 1/3,
#     NDCG (1 + 1/log2(5)) / IDCG
# Case 300 (hidden {3, 4}; IDCG = 1 + 1/log2(3)): seed 7 has no neighbours: both are the most popular
#   without 7: [1, 2, 3, 5, 4, 6, ...]: hits at 3 and 5: R-precision 0, NDCG (1/log2(4) + 1/log2(6)) / IDCG
# Case 400 (hidden {7}): 7 is never recommended: R-precision 0, NDCG 0, clicks 51 (no hit in 500).
IDCG_100, IDCG_300 = 1 + 1 / log2(3) + 1 / log2(4), 1 + 1 / log2(3)
NDCG_300 = (1 / log2(4) + 1 / log2(6)) / IDCG_300


def test_the_figures_of_each_method_are_those_worked_out_by_hand(evaluated):
    content, _ = evaluated
    assert content["holdout_playlists"] == 4 and content["cases"] == 3  # playlist 200 makes no case
    assert content["holdout_pairs_unseen_in_training"] == 3  # song 7, in three held-out playlists

    published = overall(content["figures"], "published")
    assert published["cases"] == 3
    assert published["r_precision"] == pytest.approx((2 / 3 + 0 + 0) / 3)
    assert published["ndcg"] == pytest.approx(((1 + 1 / log2(3)) / IDCG_100 + NDCG_300 + 0) / 3)
    assert published["clicks"] == pytest.approx((0 + 0 + 51) / 3)  # first hits at ranks 1 and 3: 0 refreshes
    assert published["hit_rate"] == pytest.approx(2 / 3)
    # Top 10s: case 100 {4, 2, 3, 5, 6, 8, 9, 10, 11, 12}; case 300 {1, 2, 3, 5, 4, 6, 8, 9, 10, 11};
    # case 400 (seed 14, no neighbours) {1, 2, 3, 5, 4, 6, 8, 9, 10, 11}: 11 of the 13 training songs.
    assert published["coverage"] == pytest.approx(11 / 13)

    popular = overall(content["figures"], "most_popular")
    assert popular["r_precision"] == pytest.approx((1 / 3 + 0 + 0) / 3)
    assert popular["ndcg"] == pytest.approx(((1 + 1 / log2(5)) / IDCG_100 + NDCG_300 + 0) / 3)
    assert popular["clicks"] == pytest.approx(51 / 3)
    assert popular["coverage"] == pytest.approx(11 / 13)


def test_the_cosine_baseline_uses_the_training_playlists(evaluated):
    content, _ = evaluated
    # Seed 1 (playlists 1, 2, 5): cos(1, 2) = 2/sqrt(3 x 2); cos(1, 3) = cos(1, 5) = 1/sqrt(6): list 2, 3, 5,
    # then 4, 6, 8, ...: for case 100 the same ranks as most popular. Seed 14 (playlist 6): 9..13 at cos 1,
    # so case 400's top 10 holds 13 as well: 12 of the 13 songs.
    cosine = overall(content["figures"], "cosine_knn")
    assert cosine["r_precision"] == pytest.approx((1 / 3 + 0 + 0) / 3)
    assert cosine["ndcg"] == pytest.approx(((1 + 1 / log2(5)) / IDCG_100 + NDCG_300 + 0) / 3)
    assert cosine["coverage"] == pytest.approx(12 / 13)


def test_every_method_has_a_row_per_seed_category_and_empty_categories_have_no_figures(evaluated):
    content, run = evaluated
    rows = {(row["method"], row["seed_category"]): row for row in content["figures"]}
    methods, categories = ("published", "most_popular", "cosine_knn"), ("1", "5", "10", "25", "all")
    assert set(rows) == {(method, category) for method in methods for category in categories}
    assert rows[("published", "1")]["cases"] == 3
    assert rows[("published", "5")] == {"method": "published", "seed_category": "5", "cases": 0, **dict.fromkeys(
        ("r_precision", "ndcg", "recall_10", "recall_100", "recall_500", "clicks", "hit_rate", "coverage",
         "popularity_ratio", "own_artist_share"))}  # fmt: skip
    assert run.read_metrics("evaluate") == content  # what publish loads into music.evaluation


def test_the_cosine_benchmark_reads_the_run_and_finds_both_products_equal(evaluated, tmp_path):
    import json

    from benchmarks import bench_evaluation

    _, run = evaluated
    figures_file = tmp_path / "figures.json"
    bench_evaluation.main(["--run-dir", str(run.path), "--json", str(figures_file)])
    figures = json.loads(figures_file.read_text())
    # The cases' seeds: 1 (playlist 100), 7 (300) and 14 (400). Training: 13 songs (1-6, 8-14), 3+2+2+3+2+6 pairs.
    assert figures["seed songs"] == "3"
    assert figures["songs"] == "13"
    assert figures["training pairs"] == "18"
    assert figures["same lists and similarities"] is True

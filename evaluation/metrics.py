"""The evaluation's figures: accuracy per case, beyond accuracy per set of cases, and the summary.

Notation: R is a case's ranked recommendation list (distinct track_ids, best first, at most
``RECOMMENDATIONS`` = 500), R_i its i-th song counting from 1, and G the case's hidden songs
(distinct, never empty; a hidden song never seen in training can never be recommended but still
counts in |G|). The accuracy figures follow the RecSys Challenge 2018 at the track level only:
the challenge also credits a recommended song by the same artist as a hidden one, which is left
out here because the own-artist share below measures that leaning separately.

- **R-precision** = |G ∩ R_1..|G|| / |G|.
- **NDCG@500**: binary relevance rel_i = [R_i in G], DCG = sum over i of rel_i / log2(i + 1),
  IDCG the DCG of min(|G|, 500) hits in a row. This is what the challenge's evaluation script
  computed; its rules page writes rel_1 + sum_{i>=2} rel_i / log2(i) instead.
- **Recall@k** (k = 10, 100, 500) = |G ∩ R_1..k| / |G|.
- **Clicks** ("Recommended Songs clicks": refreshes of 10 songs before a hidden one shows up)
  = floor((min{i : R_i in G} - 1) / 10), or 51 when no R_i is in G (the challenge's 500 / 10 + 1;
  it calls this one more than the maximum, which with ranks up to 500 is really 49).
- **Hit rate**: 1 when some hidden song is in the top 10, else 0; as a mean, the share of cases.

Beyond accuracy, over a set of cases, on each case's top ``TOP_N`` (10) recommendations, with
songs' playlist counts taken over the training playlists (``SongFacts``):

- **Coverage** = share of the catalogue (the songs in at least one training playlist) found in
  at least one case's top 10. It can only reach 10 x cases / catalogue size, so it grows with the
  number of cases and categories of different sizes are not comparable on it.
- **Popularity ratio** = median over cases of median(playlist counts of the top 10) /
  median(playlist counts of the seeds): above 1, the recommendations are more popular than what
  the playlist started with. Cases without recommendations or whose seeds' median count is 0
  (seeds unseen in training) have no ratio and are left out.
- **Own-artist share** = share of all top-10 recommendations (pooled over the cases) whose artist
  is the artist of one of the case's seeds.

``evaluate`` runs a recommender on every case and gives these figures per seed category and
overall, the overall figures taken over all cases, i.e. every (playlist, category) pair weighs
the same and a long playlist counts once per category it is long enough for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.continuation import RECOMMENDATIONS, SEED_COUNTS, Case, Recommender

TOP_N = 10  # the songs a listener sees at once: hit rate, coverage, popularity, own artist
RECALL_AT = (10, 100, 500)
OVERALL = "all"
ACCURACY = ("r_precision", "ndcg", *(f"recall_{k}" for k in RECALL_AT), "clicks", "hit_rate")
BEYOND_ACCURACY = ("coverage", "popularity_ratio", "own_artist_share")
FIGURES = ACCURACY + BEYOND_ACCURACY


@dataclass(frozen=True)
class SongFacts:
    """Per song: its artist (any integer code) and the number of training playlists holding it.

    Every song a case can name (seeds, hidden songs, recommendations) must be here; a song seen
    only in held-out playlists has playlist count 0. Build with ``song_facts``.
    """

    track_ids: np.ndarray  # sorted, distinct
    artist_ids: np.ndarray
    playlist_counts: np.ndarray

    def rows_of(self, track_ids: np.ndarray) -> np.ndarray:
        """The rows of these songs; KeyError naming a few when some are not here."""
        track_ids = np.asarray(track_ids, dtype=np.int64)
        rows = np.searchsorted(self.track_ids, track_ids)
        found = rows < len(self.track_ids)
        found[found] = self.track_ids[rows[found]] == track_ids[found]
        if not found.all():
            missing = track_ids[~found]
            raise KeyError(f"{len(missing)} track_ids are not among the song facts, e.g. {missing[:3].tolist()}")
        return rows

    @property
    def catalogue_size(self) -> int:
        return int(np.count_nonzero(self.playlist_counts))


def song_facts(track_ids: np.ndarray, artist_ids: np.ndarray, playlist_counts: np.ndarray) -> SongFacts:
    """``SongFacts`` of these aligned columns (one row per distinct song, in any order)."""
    order = np.argsort(track_ids)
    sorted_ids = np.asarray(track_ids, dtype=np.int64)[order]
    if np.any(sorted_ids[1:] == sorted_ids[:-1]):
        raise ValueError("a song appears twice among the song facts")
    return SongFacts(sorted_ids, np.asarray(artist_ids)[order], np.asarray(playlist_counts, dtype=np.int64)[order])


def _hidden_count(hidden: np.ndarray) -> int:
    if len(hidden) == 0:
        raise ValueError("a case needs at least one hidden song")
    return len(hidden)


def r_precision(recommended: np.ndarray, hidden: np.ndarray) -> float:
    """|G ∩ R_1..|G|| / |G|."""
    size = _hidden_count(hidden)
    return int(np.isin(recommended[:size], hidden).sum()) / size


def ndcg(recommended: np.ndarray, hidden: np.ndarray, k: int = RECOMMENDATIONS) -> float:
    """DCG of R_1..k over the DCG of min(|G|, k) hits in a row, discount 1 / log2(i + 1)."""
    size = _hidden_count(hidden)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    relevant = np.isin(recommended[:k], hidden)
    return float(discounts[: len(relevant)][relevant].sum() / discounts[: min(size, k)].sum())


def recall_at(recommended: np.ndarray, hidden: np.ndarray, k: int) -> float:
    """|G ∩ R_1..k| / |G|."""
    return int(np.isin(recommended[:k], hidden).sum()) / _hidden_count(hidden)


def clicks(recommended: np.ndarray, hidden: np.ndarray, k: int = RECOMMENDATIONS) -> int:
    """floor((rank of the first hidden song - 1) / 10), ranks from 1; k / 10 + 1 (51) when none is in R_1..k."""
    _hidden_count(hidden)
    hits = np.flatnonzero(np.isin(recommended[:k], hidden))
    return int(hits[0]) // 10 if len(hits) else k // 10 + 1


def hit(recommended: np.ndarray, hidden: np.ndarray, n: int = TOP_N) -> bool:
    """Whether some hidden song is among the first ``n`` recommendations."""
    _hidden_count(hidden)
    return bool(np.isin(recommended[:n], hidden).any())


def case_accuracy(recommended: np.ndarray, hidden: np.ndarray) -> dict[str, float]:
    """Every accuracy figure of one case."""
    return {
        "r_precision": r_precision(recommended, hidden),
        "ndcg": ndcg(recommended, hidden),
        **{f"recall_{k}": recall_at(recommended, hidden, k) for k in RECALL_AT},
        "clicks": float(clicks(recommended, hidden)),
        "hit_rate": float(hit(recommended, hidden)),
    }


def catalogue_coverage(recommendations: Sequence[np.ndarray], songs: SongFacts, n: int = TOP_N) -> float:
    """Share of catalogue songs in at least one list's first ``n``; NaN without lists or catalogue."""
    if not recommendations or songs.catalogue_size == 0:
        return float("nan")
    shown = np.unique(np.concatenate([np.empty(0, dtype=np.int64), *(r[:n] for r in recommendations)]))
    in_catalogue = songs.playlist_counts[songs.rows_of(shown)] > 0
    return int(in_catalogue.sum()) / songs.catalogue_size


def popularity_ratio(
    seeds: Sequence[np.ndarray], recommendations: Sequence[np.ndarray], songs: SongFacts, n: int = TOP_N
) -> float:
    """Median over cases of median(playlist counts of the first ``n``) / median(the seeds' counts).

    Cases with no recommendation or a seed median of 0 are left out; NaN when none is left.
    """
    ratios = []
    for case_seeds, recommended in zip(seeds, recommendations, strict=True):
        seed_median = float(np.median(songs.playlist_counts[songs.rows_of(case_seeds)]))
        if len(recommended) == 0 or seed_median == 0:
            continue
        ratios.append(float(np.median(songs.playlist_counts[songs.rows_of(recommended[:n])])) / seed_median)
    return float(np.median(ratios)) if ratios else float("nan")


def own_artist_share(
    seeds: Sequence[np.ndarray], recommendations: Sequence[np.ndarray], songs: SongFacts, n: int = TOP_N
) -> float:
    """Of all first-``n`` recommendations pooled over cases, the share by an artist of the case's seeds.

    NaN when there is no recommendation at all.
    """
    own = shown = 0
    for case_seeds, recommended in zip(seeds, recommendations, strict=True):
        seed_artists = songs.artist_ids[songs.rows_of(case_seeds)]
        artists = songs.artist_ids[songs.rows_of(recommended[:n])]
        own += int(np.isin(artists, seed_artists).sum())
        shown += len(artists)
    return own / shown if shown else float("nan")


def summarise(cases: Sequence[Case], recommendations: Sequence[np.ndarray], songs: SongFacts) -> pd.DataFrame:
    """The figures per seed category and overall, given each case's recommendations.

    One row per category in ``SEED_COUNTS`` (``category`` "1", "5", "10", "25") and one for all
    cases ("all"), with the number of cases and every figure in ``FIGURES`` (accuracy figures
    are means over the cases); a category without cases has 0 cases and NaN figures.
    """
    accuracy = pd.DataFrame(
        [case_accuracy(r, case.hidden) for case, r in zip(cases, recommendations, strict=True)],
        columns=list(ACCURACY),
        dtype=np.float64,
    )
    seed_counts = np.array([case.seed_count for case in cases], dtype=np.int64)
    rows = []
    for category in [*SEED_COUNTS, OVERALL]:
        chosen = np.ones(len(cases), dtype=bool) if category == OVERALL else seed_counts == category
        picked = np.flatnonzero(chosen).tolist()
        case_seeds = [cases[i].seeds for i in picked]
        case_recommendations = [recommendations[i] for i in picked]
        rows.append(
            {
                "category": str(category),
                "cases": len(picked),
                **accuracy[chosen].mean().to_dict(),
                "coverage": catalogue_coverage(case_recommendations, songs),
                "popularity_ratio": popularity_ratio(case_seeds, case_recommendations, songs),
                "own_artist_share": own_artist_share(case_seeds, case_recommendations, songs),
            }
        )
    return pd.DataFrame(rows, columns=["category", "cases", *FIGURES])


def evaluate(cases: Sequence[Case], recommender: Recommender, songs: SongFacts) -> pd.DataFrame:
    """Run ``recommender`` on every case (``RECOMMENDATIONS`` songs each) and ``summarise`` the figures."""
    recommendations = []
    for case in cases:
        recommended = np.asarray(recommender(case.seeds, RECOMMENDATIONS), dtype=np.int64)
        if len(recommended) > RECOMMENDATIONS or len(np.unique(recommended)) != len(recommended):
            raise ValueError(f"a recommender must return at most {RECOMMENDATIONS} distinct songs")
        recommendations.append(recommended)
    return summarise(cases, recommendations, songs)

"""Playlist continuation as in the RecSys Challenge 2018: the cases, and item-kNN scoring of them.

**Cases.** A held-out playlist's distinct songs in playlist order (a repeated song counts at its
first place) give one case per seed category N in ``SEED_COUNTS`` (1, 5, 10, 25): the first N
songs are shown (the seeds) and the rest is hidden. A playlist of n distinct songs is a case of
category N only when n > N, so that the hidden part is never empty; a playlist whose hidden part
would be empty is simply not a case of that category (a one-song playlist is a case of none): it
counts in none of that category's figures nor in the overall ones, and the number of cases
reported per category shows what was left out. (The challenge drew different playlists for its
categories; here one playlist serves every category it is long enough for.)

**Scoring (item-based kNN).** A candidate song's score is the sum, over the distinct seeds, of
the similarity that the seed's neighbour list gives it (0 where it is absent); seeds are never
recommended; songs are ranked by score, highest first, then by the smaller track_id, and the
first ``RECOMMENDATIONS`` (500) are kept. A seed without neighbours (a song never seen in
training) contributes nothing, so a case whose seeds all lack neighbours gets no recommendation
from the neighbours; ``knn_recommender`` can fill the rest of a short list with popular songs.

Input: neighbour lists per song, from the published recommendations or ``evaluation.baselines``
(``neighbours_from_pairs`` builds them from the columns of a recommendations table). Output:
ranked track_id arrays. A ``Recommender`` is any function (seeds, k) -> ranked track_ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

SEED_COUNTS = (1, 5, 10, 25)
RECOMMENDATIONS = 500

# A song's neighbours: (neighbour track_ids, similarities), both arrays, best first.
Neighbours = Mapping[int, tuple[np.ndarray, np.ndarray]]
Recommender = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class Case:
    """One held-out playlist in one seed category: its first ``seed_count`` songs and the rest."""

    playlist_id: int
    seed_count: int
    seeds: np.ndarray
    hidden: np.ndarray


def distinct_in_order(track_ids: np.ndarray) -> np.ndarray:
    """The distinct track_ids, each at its first place."""
    _, first = np.unique(track_ids, return_index=True)
    return track_ids[np.sort(first)]


def seed_categories(playlist_length: int) -> tuple[int, ...]:
    """The seed categories of a playlist of ``playlist_length`` distinct songs: every N < length."""
    return tuple(n for n in SEED_COUNTS if n < playlist_length)


def continuation_cases(playlists: Mapping[int, np.ndarray]) -> list[Case]:
    """Every case of these held-out playlists (playlist_id -> its track_ids in playlist order).

    Ordered by playlist_id, then seed category.
    """
    cases = []
    for playlist_id in sorted(playlists):
        songs = distinct_in_order(np.asarray(playlists[playlist_id], dtype=np.int64))
        for n in seed_categories(len(songs)):
            cases.append(Case(playlist_id, n, songs[:n], songs[n:]))
    return cases


def continue_playlist(seeds: np.ndarray, neighbours: Neighbours, k: int = RECOMMENDATIONS) -> np.ndarray:
    """The top ``k`` songs for these seeds by summed neighbour similarity (ties: smaller track_id first)."""
    seeds = np.unique(np.asarray(seeds, dtype=np.int64))  # sorted: the sums add up in one fixed order
    lists = [neighbours[seed] for seed in seeds.tolist() if seed in neighbours]
    if not lists:
        return np.empty(0, dtype=np.int64)
    candidates = np.concatenate([np.asarray(ids, dtype=np.int64) for ids, _ in lists])
    similarities = np.concatenate([np.asarray(values, dtype=np.float64) for _, values in lists])
    songs, inverse = np.unique(candidates, return_inverse=True)
    scores = np.bincount(inverse, weights=similarities, minlength=len(songs))
    unseen = ~np.isin(songs, seeds)
    songs, scores = songs[unseen], scores[unseen]
    return songs[np.lexsort((songs, -scores))[:k]]


def knn_recommender(neighbours: Neighbours, backfill: np.ndarray | None = None) -> Recommender:
    """The item-kNN recommender over these neighbour lists (``continue_playlist``).

    With ``backfill`` (songs, best first: the most popular), a list shorter than ``k`` is filled up
    with its first songs that are neither seeds nor listed yet. Each seed has at most top_k
    neighbours, so item-kNN alone names at most top_k songs per seed, and an empty place can
    never be a hit: without the fill, a case with one seed would be measured on 20 songs against
    another method's 500. The challenge's entries filled their lists the same way.
    """

    def recommend(seeds: np.ndarray, k: int) -> np.ndarray:
        found = continue_playlist(seeds, neighbours, k)
        if backfill is None or len(found) >= k:
            return found
        candidates = backfill[: k + len(seeds) + len(found)]  # enough to fill k places after the exclusions
        extra = candidates[~np.isin(candidates, seeds) & ~np.isin(candidates, found)]
        return np.concatenate([found, extra[: k - len(found)]])

    return recommend


def neighbours_from_pairs(
    track_ids: np.ndarray, neighbour_ids: np.ndarray, similarities: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Neighbour lists from the columns of a recommendations table (one row per song and neighbour).

    Each song's rows keep their order in the input (give them best first).
    """
    if len(track_ids) == 0:
        return {}
    order = np.argsort(track_ids, kind="stable")
    songs, first = np.unique(track_ids[order], return_index=True)
    ids = np.split(np.asarray(neighbour_ids, dtype=np.int64)[order], first[1:])
    values = np.split(np.asarray(similarities, dtype=np.float64)[order], first[1:])
    return dict(zip(songs.tolist(), zip(ids, values, strict=True), strict=True))

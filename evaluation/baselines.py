"""Baselines on the same split, and the exact item-kNN the engine approximates, from the training playlists.

Input: the training (playlist_id, track_id) pairs (duplicates count once). ``incidence_matrix``
makes them a playlists x songs 0/1 matrix X (scipy CSR); P(a) is the set of training playlists
holding song a and |P(a)| its playlist count.

- **Most popular**: songs ranked by playlist count, highest first, then the smaller track_id;
  a case gets the first ones that are not among its seeds.
- **Item-kNN**: per song, its ``k`` most similar songs among those sharing a playlist with it,
  by cosine |P(a) ∩ P(b)| / sqrt(|P(a)| |P(b)|) (the classic alternative) or by Jaccard
  |P(a) ∩ P(b)| / |P(a) ∪ P(b)| (exactly what the engine approximates); ties go to more shared
  playlists, then to the smaller track_id (the engine's own ``top_k_per_song``). The shared
  counts are the sparse product X^T X, computed for a block of songs at a time (about
  ``PAIRS_PER_BLOCK`` pairs and at most ``SONGS_PER_BLOCK`` songs, so memory stays bounded)
  and cut down to each song's top ``k`` before the next block. The neighbour lists feed
  ``evaluation.continuation.knn_recommender`` like the published ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from evaluation.continuation import Recommender, neighbours_from_pairs
from similarity.lsh_index import top_k_per_song

PAIRS_PER_BLOCK = 2_000_000  # (song, co-member) products per sparse product: about 200 MB at its peak
SONGS_PER_BLOCK = 4_096  # and songs: top_k_per_song's histogram takes 256 counts per song

# shared playlists, |P(a)|, |P(b)| -> similarity
Similarity = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Incidence:
    """Training playlists x songs: ``matrix[i, j]`` is 1 when playlist ``playlist_ids[i]`` holds ``track_ids[j]``."""

    playlist_ids: np.ndarray  # sorted, distinct
    track_ids: np.ndarray  # sorted, distinct
    matrix: sp.csr_matrix

    @property
    def playlist_counts(self) -> np.ndarray:
        """|P(a)| per song (column)."""
        return np.bincount(self.matrix.indices, minlength=len(self.track_ids))


def incidence_matrix(playlist_ids: np.ndarray, track_ids: np.ndarray) -> Incidence:
    """The incidence matrix of these (playlist_id, track_id) pairs."""
    playlists, rows = np.unique(np.asarray(playlist_ids, dtype=np.int64), return_inverse=True)
    songs, cols = np.unique(np.asarray(track_ids, dtype=np.int64), return_inverse=True)
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(playlists), len(songs)), dtype=np.int32
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1  # a pair listed twice counts once
    return Incidence(playlists, songs, matrix)


def most_popular(incidence: Incidence) -> np.ndarray:
    """Every training song, by playlist count (highest first), then the smaller track_id."""
    return incidence.track_ids[np.lexsort((incidence.track_ids, -incidence.playlist_counts))]


def popularity_recommender(ranking: np.ndarray) -> Recommender:
    """The recommender giving the first ``k`` songs of ``ranking`` that are not among the seeds."""

    def recommend(seeds: np.ndarray, k: int) -> np.ndarray:
        candidates = ranking[: k + len(seeds)]  # the seeds can take at most len(seeds) of the places
        return candidates[~np.isin(candidates, seeds)][:k]

    return recommend


def cosine(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """|P(a) ∩ P(b)| / sqrt(|P(a)| |P(b)|)."""
    return shared / np.sqrt(size_a.astype(np.float64) * size_b)


def jaccard(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """|P(a) ∩ P(b)| / (|P(a)| + |P(b)| - |P(a) ∩ P(b)|)."""
    return shared / (size_a + size_b - shared).astype(np.float64)


def cosine_neighbours(
    incidence: Incidence, k: int, songs: np.ndarray | None = None
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Exact top ``k`` neighbours by cosine similarity of each training song (or of ``songs`` only)."""
    return top_neighbours(incidence, k, cosine, songs)


def jaccard_neighbours(
    incidence: Incidence, k: int, songs: np.ndarray | None = None
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Exact top ``k`` neighbours by Jaccard similarity of each training song (or of ``songs`` only)."""
    return top_neighbours(incidence, k, jaccard, songs)


def top_neighbours(
    incidence: Incidence, k: int, similarity: Similarity, songs: np.ndarray | None = None
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Each song's exact top ``k`` by ``similarity`` of the shared playlist counts (songs with none are absent).

    ``songs``: the track_ids whose neighbours are wanted (those not in training are skipped); all by default.
    An evaluation needs only its seeds' lists, a small share of the work at full scale.
    """
    if k < 1:
        raise ValueError(f"k is at least 1, got {k}")
    by_playlist = incidence.matrix
    by_song = by_playlist.T.tocsr()
    sizes = incidence.playlist_counts
    if songs is None:
        targets = np.arange(len(sizes))
    else:
        wanted = np.unique(np.asarray(songs, dtype=np.int64))
        rows = np.searchsorted(incidence.track_ids, wanted)
        present = rows < len(incidence.track_ids)
        present[present] = incidence.track_ids[rows[present]] == wanted[present]
        targets = rows[present]
    # A song's products: the sizes of its playlists, summed; blocks hold about PAIRS_PER_BLOCK of them.
    cumulative_work = np.cumsum((by_song @ np.diff(by_playlist.indptr).astype(np.int64))[targets])
    found, neighbours, similarities = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)], [np.empty(0)]
    start = 0
    while start < len(targets):
        done = cumulative_work[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(cumulative_work, done + PAIRS_PER_BLOCK, side="right")))
        stop = min(stop, start + SONGS_PER_BLOCK)
        block = targets[start:stop]
        shared_counts = (by_song[block] @ by_playlist).tocsr()
        song = np.repeat(block, np.diff(shared_counts.indptr))
        other, shared = shared_counts.indices.astype(np.int64), shared_counts.data.astype(np.int64)
        apart = song != other
        song, other, shared = song[apart], other[apart], shared[apart]
        score = similarity(shared, sizes[song], sizes[other])
        song, other, _, score, _ = top_k_per_song(song, other, shared, score, k, incidence.track_ids)
        found.append(song)
        neighbours.append(other)
        similarities.append(score)
        start = stop
    return neighbours_from_pairs(
        incidence.track_ids[np.concatenate(found)],
        incidence.track_ids[np.concatenate(neighbours)],
        np.concatenate(similarities),
    )

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

Cosine, the baseline the ``evaluate`` task computes at full scale, takes a faster road to the same
answer (``cosine_neighbours``): within one song's row, cosine orders the others as
|P(a) ∩ P(b)| / sqrt(|P(b)|) does, which is the product of the song's playlists with the playlists'
songs weighted by 1 / sqrt(|P(b)|). ``sparse_dot_topn`` computes that product over every core and
keeps only each row's best ``k + 1 + margin`` (the song itself among them), never holding the
other pairs; its columns are the songs by popularity, for memory locality. The shared counts are
read back from the products (exact: they are whole numbers times a weight), the exact order above
is applied to what was kept, and a row whose cut could have left out a song as good as its k-th
is recomputed by the blocked product.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sparse_dot_topn import sp_matmul_topn

from evaluation.continuation import Recommender, neighbours_from_pairs
from similarity.lsh_index import top_k_per_song

PAIRS_PER_BLOCK = 2_000_000  # (song, co-member) products per sparse product: about 200 MB at its peak
SONGS_PER_BLOCK = 4_096  # and songs: top_k_per_song's histogram takes 256 counts per song
TOP_N_MARGIN = 20  # candidates kept per song beyond its k (and itself) by the cosine top-n product
CUT_TOLERANCE = 1e-9  # relative: products summed in floating point differ from the exact value by far less

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
    incidence: Incidence, k: int, songs: np.ndarray | None = None, margin: int = TOP_N_MARGIN
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Exact top ``k`` neighbours by cosine similarity of each training song (or of ``songs`` only).

    The same lists as ``top_neighbours(incidence, k, cosine, songs)``, by a top-n product over every
    core (see the module's docstring); ``margin``: candidates kept per song beyond k and itself.
    """
    if k < 1:
        raise ValueError(f"k is at least 1, got {k}")
    if margin < 0:
        raise ValueError(f"margin is at least 0, got {margin}")
    targets = _target_rows(incidence, songs)
    by_playlist = incidence.matrix
    sizes = incidence.playlist_counts
    weights = 1.0 / np.sqrt(sizes.astype(np.float64))  # every training song is in a playlist: no 0
    # The product's columns are the songs by popularity, most played first: most products land on
    # popular songs, whose sums then sit side by side in memory (1.7 times faster at full scale).
    by_popularity = np.argsort(-sizes, kind="stable")
    column_of = np.empty_like(by_popularity)
    column_of[by_popularity] = np.arange(len(sizes))
    weighted = sp.csr_matrix(
        (weights[by_playlist.indices], column_of[by_playlist.indices], by_playlist.indptr), shape=by_playlist.shape
    )
    weighted.sort_indices()
    own_playlists = by_playlist.T.tocsr()[targets].astype(np.float64)
    top_n = k + 1 + margin
    products = sp_matmul_topn(own_playlists, weighted, top_n=top_n, n_threads=_cores())
    kept = np.diff(products.indptr)
    song = np.repeat(targets, kept)
    other = by_popularity[products.indices]
    shared = np.rint(products.data * np.sqrt(sizes[other])).astype(np.int64)
    apart = song != other
    song, other, shared = song[apart], other[apart], shared[apart]
    song, other, shared, score, _ = top_k_per_song(
        song, other, shared, cosine(shared, sizes[song], sizes[other]), k, incidence.track_ids
    )
    # A full row may have left out songs valued as its smallest kept product: its k-th must beat them.
    row_of = np.searchsorted(targets, song)  # targets are sorted and distinct
    kth = np.full(len(targets), np.inf)
    np.minimum.at(kth, row_of, shared / np.sqrt(sizes[other]))
    smallest_kept = np.full(len(targets), np.inf)
    if kept.any():
        smallest_kept[kept > 0] = np.minimum.reduceat(products.data, products.indptr[:-1][kept > 0])
    cut = np.where(kept >= top_n, smallest_kept, -np.inf)
    unsure = ~(kth > cut * (1 + CUT_TOLERANCE))
    sure = ~unsure[row_of]
    found = neighbours_from_pairs(incidence.track_ids[song[sure]], incidence.track_ids[other[sure]], score[sure])
    if unsure.any():
        found.update(top_neighbours(incidence, k, cosine, incidence.track_ids[targets[unsure]]))
    return dict(sorted(found.items()))


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
    targets = _target_rows(incidence, songs)
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


def _target_rows(incidence: Incidence, songs: np.ndarray | None) -> np.ndarray:
    """The columns (sorted, distinct) of these track_ids that are training songs; every column by default."""
    if songs is None:
        return np.arange(len(incidence.track_ids))
    wanted = np.unique(np.asarray(songs, dtype=np.int64))
    rows = np.searchsorted(incidence.track_ids, wanted)
    present = rows < len(incidence.track_ids)
    present[present] = incidence.track_ids[rows[present]] == wanted[present]
    return rows[present]


def _cores() -> int:
    """The cores this process may run on (sparse_dot_topn's own default, -1, leaves one idle)."""
    return len(os.sched_getaffinity(0))

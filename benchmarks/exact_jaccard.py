"""Exact Jaccard neighbours off Spark: the ground truth every recall figure is measured against.

Songs' playlist sets become a sparse song x playlist matrix ``X`` (scipy CSR);
``X[rows] @ X.T`` gives, per row, the number of playlists shared with every
other song, computed a block of rows at a time so memory stays bounded; the
Jaccard similarity is ``shared / (d_a + d_b - shared)``.

Recall@k is tie-aware: a recommended song counts as a hit when its exact
similarity is at least the song's k-th best exact similarity, so that any of
several songs tied at the k-th place is a correct answer. It is divided by
``min(k, number of songs sharing a playlist with it)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyarrow.parquet as pq
import scipy.sparse as sp


@dataclass(frozen=True)
class SongIndex:
    """Songs' playlist sets as a sparse matrix: row i is the song ``track_ids[i]``."""

    track_ids: np.ndarray
    matrix: sp.csr_matrix

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.matrix.indptr)

    def rows_of(self, track_ids: np.ndarray) -> np.ndarray:
        rows = np.searchsorted(self.track_ids, track_ids)
        found = self.track_ids[np.minimum(rows, len(self.track_ids) - 1)] == track_ids
        if not found.all():
            raise KeyError(f"{int((~found).sum())} track_ids are not in the index")
        return rows


def build_index(playlist_ids: np.ndarray, track_ids: np.ndarray) -> SongIndex:
    """The index of (playlist_id, track_id) pairs (duplicates count once)."""
    songs, song_rows = np.unique(track_ids, return_inverse=True)
    _, playlist_cols = np.unique(playlist_ids, return_inverse=True)
    matrix = sp.csr_matrix(
        (np.ones(len(song_rows), dtype=np.float64), (song_rows, playlist_cols)),
        shape=(len(songs), int(playlist_cols.max(initial=-1)) + 1),
    )
    matrix.data[:] = 1.0  # duplicates were summed
    return SongIndex(songs, matrix)


def load_index(playlist_tracks_path: str) -> SongIndex:
    """The index of a ``playlist_tracks`` Parquet dataset (the extract job's output)."""
    table = pq.read_table(playlist_tracks_path, columns=["playlist_id", "track_id"])
    return build_index(table.column("playlist_id").to_numpy(), table.column("track_id").to_numpy())


def restrict(index: SongIndex, rows: np.ndarray) -> SongIndex:
    """The index of only these songs (their sets unchanged)."""
    rows = np.sort(rows)
    return SongIndex(index.track_ids[rows], index.matrix[rows])


def exact_neighbours(index: SongIndex, rows: np.ndarray, block: int = 256) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per row: (neighbour rows, exact Jaccard), every song sharing a playlist with it, itself excluded."""
    degree = index.degree
    transposed = index.matrix.T.tocsr()
    result = []
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        shared = (index.matrix[chunk] @ transposed).tocsr()
        for i, row in enumerate(chunk):
            cols = shared.indices[shared.indptr[i] : shared.indptr[i + 1]]
            counts = shared.data[shared.indptr[i] : shared.indptr[i + 1]]
            keep = cols != row
            cols, counts = cols[keep], counts[keep]
            result.append((cols, counts / (degree[row] + degree[cols] - counts)))
    return result


def recall_at_k(neighbours: tuple[np.ndarray, np.ndarray], recommended_rows: np.ndarray, k: int) -> float | None:
    """Tie-aware recall@k of one song's recommendations (None when it shares no playlist with any song)."""
    cols, similarity = neighbours
    if len(cols) == 0:
        return None
    wanted = min(k, len(cols))
    kth_best = np.partition(similarity, len(similarity) - wanted)[len(similarity) - wanted]
    exact = dict(zip(cols.tolist(), similarity.tolist(), strict=True))
    hits = sum(1 for row in recommended_rows[:k].tolist() if exact.get(row, 0.0) >= kth_best)
    return min(hits, wanted) / wanted


def mean_recall(
    index: SongIndex, rows: np.ndarray, recommendations: dict[int, np.ndarray], k: int, block: int = 256
) -> float:
    """Mean tie-aware recall@k over ``rows``; ``recommendations`` maps a row to its recommended rows, best first."""
    recalls = []
    for row, neighbours in zip(rows.tolist(), exact_neighbours(index, rows, block), strict=True):
        recall = recall_at_k(neighbours, recommendations.get(row, np.empty(0, dtype=np.int64)), k)
        if recall is not None:
            recalls.append(recall)
    return float(np.mean(recalls)) if recalls else float("nan")


def single_machine_limit(index: SongIndex, k: int = 10, threads: int = 2) -> float:
    """Seconds the fastest exact top-k known here takes for all songs: ``implicit``'s row-wise sparse product.

    ``all_pairs_knn`` ranks by shared playlists rather than Jaccard; computing
    Jaccard from the same counts costs the same, so its time is the limit.
    """
    from implicit.nearest_neighbours import all_pairs_knn

    playlists_by_song = index.matrix.T.tocsr()  # implicit takes users x items and finds item neighbours
    started = time.perf_counter()
    all_pairs_knn(playlists_by_song, k + 1, num_threads=threads, show_progress=False)
    return time.perf_counter() - started

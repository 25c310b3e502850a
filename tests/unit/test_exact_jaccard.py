"""The benchmark's exact ground truth and its tie-aware recall, on inputs worked out by hand."""

import numpy as np
import pytest

from benchmarks.exact_jaccard import build_index, exact_neighbours, mean_recall, recall_at_k

# Songs' playlists: 10: {1,2,3}   20: {1,2}   30: {3}   40: {7}   (a duplicated pair counts once)
PLAYLISTS = np.array([1, 2, 3, 1, 2, 2, 3, 7])
TRACKS = np.array([10, 10, 10, 20, 20, 20, 30, 40])


def test_exact_neighbours_are_every_song_sharing_a_playlist_with_its_jaccard():
    index = build_index(PLAYLISTS, TRACKS)
    assert index.track_ids.tolist() == [10, 20, 30, 40]
    assert index.degree.tolist() == [3, 2, 1, 1]
    found = exact_neighbours(index, index.rows_of(np.array([10, 30, 40])), block=2)
    as_dicts = [
        dict(zip(index.track_ids[cols].tolist(), similarity.tolist(), strict=True)) for cols, similarity in found
    ]
    assert as_dicts[0] == pytest.approx({20: 2 / 3, 30: 1 / 3})
    assert as_dicts[1] == pytest.approx({10: 1 / 3})
    assert as_dicts[2] == {}


def test_recall_counts_any_song_tied_at_the_kth_place_as_a_hit():
    neighbours = (np.array([1, 2, 3, 4]), np.array([0.5, 0.25, 0.25, 0.1]))
    assert recall_at_k(neighbours, np.array([1, 3]), k=2) == 1.0  # 3 ties with 2 at the 2nd place
    assert recall_at_k(neighbours, np.array([1, 4]), k=2) == 0.5
    assert recall_at_k(neighbours, np.array([9, 8, 7]), k=10) == 0.0
    assert recall_at_k(neighbours, np.array([4, 3, 2, 1]), k=10) == 1.0  # only 4 neighbours exist
    assert recall_at_k((np.array([], dtype=int), np.array([])), np.array([1]), k=10) is None


def test_mean_recall_skips_songs_without_neighbours():
    index = build_index(PLAYLISTS, TRACKS)
    rows = index.rows_of(np.array([10, 20, 40]))
    perfect = {int(rows[0]): index.rows_of(np.array([20])), int(rows[1]): index.rows_of(np.array([10]))}
    assert mean_recall(index, rows, perfect, k=1) == 1.0
    assert mean_recall(index, rows, {int(rows[0]): index.rows_of(np.array([30]))}, k=1) == 0.0

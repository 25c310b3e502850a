"""The LSH index's numpy core on small inputs whose answers are worked out by hand."""

import numpy as np
import pytest

from similarity.lsh_index import SongIndex, band_chunks, band_keys, top_k_per_song
from similarity.minhash import hash_coefficients, signature_matrix

# Songs' playlists:  1: {1,2,3,4}   2: {1,2,3}   3: {3,4}   4: {4,5}   5: {9}   6: {1,2,3} (same as 2)
SETS = {1: [1, 2, 3, 4], 2: [1, 2, 3], 3: [3, 4], 4: [4, 5], 5: [9], 6: [1, 2, 3]}


def index_of(
    sets: dict[int, list[int]], num_perm=128, bands=128, rows_per_band=1, max_bucket=1000, exact_work=0
) -> SongIndex:
    songs = np.array(sorted(sets), dtype=np.int64)
    playlist_ids = np.array([p for s in songs for p in sorted(sets[s])], dtype=np.int64)
    track_ids = np.array([s for s in songs for _ in sets[s]], dtype=np.int64)
    offsets = np.r_[0, np.cumsum([len(sets[s]) for s in songs])]
    signatures = signature_matrix(playlist_ids, offsets, *hash_coefficients(num_perm))
    return SongIndex.from_signatures(
        songs, signatures, playlist_ids, track_ids, bands, rows_per_band, max_bucket, exact_work
    )


def random_songs(rng, song_ids: range, playlists: int, max_playlists: int, num_perm: int):
    """Songs in 1 to ``max_playlists - 1`` random playlists of ``playlists``: their sets, the song ids (sorted),
    their signatures and the (playlist_ids, track_ids) pairs ``SongIndex.from_signatures`` takes."""
    sets = {song: sorted(set(rng.integers(0, playlists, rng.integers(1, max_playlists)).tolist())) for song in song_ids}
    songs = np.array(sorted(sets), dtype=np.int64)
    playlist_ids = np.array([p for s in songs for p in sets[s]], dtype=np.int64)
    offsets = np.r_[0, np.cumsum([len(sets[s]) for s in songs])]
    signatures = signature_matrix(playlist_ids, offsets, *hash_coefficients(num_perm))
    track_ids = np.array([s for s in songs for _ in sets[s]], dtype=np.int64)
    return sets, songs, signatures, (playlist_ids, track_ids)


def as_rows(found: dict) -> list[tuple]:
    columns = ("track_id", "recommended_track_id", "rank", "similarity", "shared_playlists")
    return [tuple(value.item() for value in row) for row in zip(*(found[c] for c in columns), strict=True)]


def test_a_bucket_over_the_cap_is_cut_into_near_equal_chunks_of_alike_songs():
    # Songs 0..6 share bucket 5 with order keys 70, 60, ..., 10; song 7 is alone in bucket 6.
    bucket_keys = np.array([5] * 7 + [6], dtype=np.uint64)
    order_keys = np.array([70, 60, 50, 40, 30, 20, 10, 0], dtype=np.uint64)
    chunks, stats = band_chunks(bucket_keys, order_keys, max_bucket=3)
    members = [sorted(chunks.members[chunks.offsets[c] : chunks.offsets[c + 1]].tolist()) for c in range(3)]
    # ceil(7 / 3) = 3 chunks of 2, 2 and 3 songs, consecutive in order-key order
    assert sorted(members) == [[0, 1, 2], [3, 4], [5, 6]]
    assert chunks.chunk_of[7] == -1
    assert (stats.buckets, stats.buckets_cut, stats.largest_bucket, stats.largest_chunk) == (1, 1, 7, 3)
    assert stats.chunk_pairs == 3 + 1 + 1


def test_bucket_keys_agree_exactly_when_the_band_agrees():
    signatures = np.array([[5, 6, 7, 8], [5, 6, 0, 8], [5, 6, 7, 8]], dtype=np.int64)
    first, _ = band_keys(signatures, band=0, rows_per_band=2)
    second, _ = band_keys(signatures, band=1, rows_per_band=2)
    assert first[0] == first[1] == first[2]
    assert second[0] == second[2] != second[1]
    same_values = np.array([[7, 8, 7, 8]], dtype=np.int64)
    assert band_keys(same_values, 0, 2)[0][0] != band_keys(same_values, 1, 2)[0][0]  # the band is part of the key


def test_shared_playlists_are_exact():
    index = index_of(SETS)
    a, b = index.sets.rows_of(np.array([1, 1, 3, 1, 4])), index.sets.rows_of(np.array([2, 3, 4, 5, 1]))
    assert index.sets.shared_playlists(a, b).tolist() == [3, 2, 1, 0, 1]


def test_whole_engine_finds_every_neighbour_of_a_small_input():
    # 128 bands of one value: a pair with Jaccard J is missed with probability (1 - J)^128,
    # below 1e-15 for the smallest J here (1/4), so the exact answer is expected.
    found = index_of(SETS).recommend(np.array([1, 2, 5]), k=3)
    assert as_rows(found) == [
        # song 1 {1,2,3,4}: 2 and 6 {1,2,3} J=3/4 (tie: lower id first), then 3 {3,4} J=2/4
        (1, 2, 1, 0.75, 3),
        (1, 6, 2, 0.75, 3),
        (1, 3, 3, 0.5, 2),
        # song 2 {1,2,3}: its twin 6 (J=1), then 1 (3/4), then 3 {3,4} (1/4)
        (2, 6, 1, 1.0, 3),
        (2, 1, 2, 0.75, 3),
        (2, 3, 3, 0.25, 1),
        # song 5 shares no playlist with anyone: no recommendations
    ]


def test_ties_are_broken_by_shared_playlists_then_the_smaller_id():
    # Song 1 {1,2}: song 2 {1,2,3,4} (J = 2/4, 2 shared) and song 3 {1} (J = 1/2, 1 shared) tie on J.
    found = index_of({1: [1, 2], 2: [1, 2, 3, 4], 3: [1, 9], 4: [2, 8]}).recommend(np.array([1]), k=3)
    assert as_rows(found) == [(1, 2, 1, 0.5, 2), (1, 3, 2, 1 / 3, 1), (1, 4, 3, 1 / 3, 1)]


# A giant playlist (id 0, a user's "Starred") of 300 songs. Each song is also in one small playlist:
# songs 3i, 3i+1, 3i+2 share playlist 1000 + i, and songs 0 and 1 also share playlist 999 (so they are
# in playlists {0, 999, 1000}). Songs 900 and 901 are twins outside the giant playlist: {5000, 5001}.
# Exact answers, worked out by hand:
#   two songs of a trio share both their playlists: J = 2 / 2 = 1 (identical sets), except
#   J(0, 1) = 3 / 3 = 1 and J(0, 2) = J(1, 2) = 2 / 3;
#   any other song of the giant playlist shares only playlist 0: J = 1 / (2 + 2 - 1) = 1/3.
GIANT = 300
GIANT_SETS = {song: [0, 1000 + song // 3] for song in range(GIANT)}
GIANT_SETS[0] = [0, 999, 1000]
GIANT_SETS[1] = [0, 999, 1000]
GIANT_SETS.update({900: [5000, 5001], 901: [5000, 5001]})


def test_a_giant_playlist_is_cut_yet_every_song_gets_its_exact_best_neighbours():
    index = index_of(GIANT_SETS, num_perm=64, bands=32, rows_per_band=2, max_bucket=10)
    found = index.recommend(np.array(sorted(GIANT_SETS)), k=3)
    by_song: dict[int, list[tuple]] = {}
    for row in as_rows(found):
        by_song.setdefault(row[0], []).append(row)
    assert sorted(by_song) == sorted(GIANT_SETS)
    for song in range(2, GIANT):
        trio = {3 * (song // 3), 3 * (song // 3) + 1, 3 * (song // 3) + 2} - {song}
        best = by_song[song]
        # ranks 1-2: the trio partners; rank 3: a song sharing only the giant playlist, J = 1/3
        assert {row[1] for row in best[:2]} == trio
        assert best[2][3] == pytest.approx(1 / 3)
    assert [row[1:4] for row in by_song[900]] == [(901, 1, 1.0)]
    # The giant playlist's bucket was cut: no chunk holds more than max_bucket songs, so a band
    # yields at most 45 pairs per chunk instead of up to 44,850 in one uncut bucket of 300 songs.
    assert index.stats.largest_bucket > 10
    assert index.stats.buckets_cut >= 1
    assert index.stats.largest_chunk <= 10


def test_index_refuses_what_it_cannot_build():
    with pytest.raises(ValueError, match="signature values"):
        index_of(SETS, num_perm=8, bands=8, rows_per_band=2)
    with pytest.raises(ValueError, match="max_bucket"):
        index_of(SETS, max_bucket=1)
    with pytest.raises(KeyError):
        index_of(SETS).sets.rows_of(np.array([77]))


def test_songs_with_little_exact_work_are_scored_against_every_co_member():
    # One band of 2 values finds few candidates, but songs 2 (work 3 + 3 + 4 = 10: playlists 1, 2, 3)
    # and 5 (work 1) are at most the threshold of 10, so they are scored against every co-member.
    index = index_of(SETS, num_perm=2, bands=1, rows_per_band=2)
    exact = index_of(SETS, num_perm=2, bands=1, rows_per_band=2, exact_work=10)
    assert exact.sets.work[exact.sets.rows_of(np.array([1]))].item() == 3 + 3 + 4 + 3  # playlists 1, 2, 3, 4
    found = exact.recommend(np.array([1, 2, 5]), k=3)
    assert found["songs_exact"] == 2 and found["songs_lsh"] == 1  # song 1's work is 13
    expected_for_2 = [(2, 6, 1, 1.0, 3), (2, 1, 2, 0.75, 3), (2, 3, 3, 0.25, 1)]
    assert [row for row in as_rows(found) if row[0] == 2] == expected_for_2
    assert index.recommend(np.array([2]), k=3)["songs_exact"] == 0


@pytest.mark.parametrize("grouped", [True, False])
def test_top_k_per_song_matches_a_plain_sort_even_among_many_ties(grouped):
    # 40 songs, each paired with up to 300 partners whose similarities take only a few values
    # (shared / (6 + d - shared) for small counts), so many pairs tie at the k-th place.
    rng = np.random.default_rng(3)
    track_ids = np.arange(1000, 1300, dtype=np.int64) * 7 % 1301  # track_ids not in row order
    pairs = sorted(
        {(int(q), int(p)) for q, p in zip(rng.integers(0, 40, 6000), rng.integers(0, 300, 6000), strict=True)}
    )
    query = np.array([q for q, _ in pairs])
    partner = np.array([p for _, p in pairs])
    shared = rng.integers(1, 4, len(pairs))
    similarity = shared / (6 + rng.integers(3, 6, len(pairs)) - shared)
    if not grouped:
        shuffle = rng.permutation(len(pairs))
        query, partner, shared, similarity = query[shuffle], partner[shuffle], shared[shuffle], similarity[shuffle]
    expected = []
    for q in sorted(set(query.tolist())):
        mine = [(-similarity[i], -shared[i], track_ids[partner[i]], partner[i]) for i in np.flatnonzero(query == q)]
        expected += [(q, row[3], rank) for rank, row in enumerate(sorted(mine)[:7], start=1)]
    found = top_k_per_song(query, partner, shared, similarity, 7, track_ids)
    assert list(zip(found[0].tolist(), found[1].tolist(), found[4].tolist(), strict=True)) == expected


def test_the_songs_answered_through_lsh_get_the_best_of_the_songs_sharing_a_whole_band_with_them():
    # 300 random songs; those with exact work above 60 are answered through 6 bands of 2 values. Their
    # candidates, worked out here from the signatures alone: every song equal to them on a whole band
    # (no bucket is cut: max_bucket 1000). Their answer: the 5 best candidates by exact Jaccard of the sets.
    sets, songs, signatures, edges = random_songs(np.random.default_rng(11), range(100, 400), 60, 6, num_perm=12)
    index = SongIndex.from_signatures(songs, signatures, *edges, 6, 2, 1000, exact_work=60)
    members = {p: {s for s in sets if p in sets[s]} for p in range(60)}
    work = {s: sum(len(members[p]) for p in sets[s]) for s in sets}
    lsh_songs = [s for s in sorted(sets) if work[s] > 60]
    assert 30 < len(lsh_songs) < 270  # both kinds of songs are there
    assert index.query_rows.tolist() == index.sets.rows_of(np.array(lsh_songs)).tolist()

    found = as_rows(index.recommend(np.array(lsh_songs), k=5))
    expected = []
    for song in lsh_songs:
        row = np.flatnonzero(songs == song)[0]
        candidates = [
            other
            for j, other in enumerate(songs.tolist())
            if other != song and any((signatures[j, 2 * b : 2 * b + 2] == signatures[row, 2 * b : 2 * b + 2]).all()
                                     for b in range(6))
        ]  # fmt: skip
        scored = []
        for other in candidates:
            shared = len(set(sets[song]) & set(sets[other]))
            if shared:
                scored.append((-shared / len(set(sets[song]) | set(sets[other])), -shared, other))
        expected += [(song, other, rank, -j, -s) for rank, (j, s, other) in enumerate(sorted(scored)[:5], start=1)]
    assert [row[:3] for row in found] == [row[:3] for row in expected]
    assert [row[3] for row in found] == pytest.approx([row[3] for row in expected])  # similarity
    assert [row[4] for row in found] == [row[4] for row in expected]  # shared playlists
    # The index kept, of each band, only the buckets holding a song answered through LSH.
    assert all(len(band.chunk_of) == len(lsh_songs) for band in index.bands)
    lsh_rows = set(index.query_rows.tolist())
    for band in index.bands:
        for c in range(len(band.offsets) - 1):
            assert lsh_rows & set(band.members[band.offsets[c] : band.offsets[c + 1]].tolist())


def test_only_the_songs_answered_through_lsh_can_be_asked_of_the_index():
    index = index_of(SETS, num_perm=2, bands=1, rows_per_band=2, exact_work=10)  # songs 2 and 5 are exact
    lsh, exact = index.sets.rows_of(np.array([1])), index.sets.rows_of(np.array([2]))
    with pytest.raises(ValueError, match="answered through LSH"):
        index.candidates(exact)
    with pytest.raises(ValueError, match="answered through LSH"):
        index.sets.shared_playlists(exact, lsh)
    assert index.sets.shared_playlists(lsh, exact).tolist() == [3]  # song 1 {1,2,3,4} and song 2 {1,2,3}
    all_exact = index_of(SETS, num_perm=2, bands=1, rows_per_band=2, exact_work=1000)  # no song through LSH
    with pytest.raises(ValueError, match="answered through LSH"):
        all_exact.candidates(exact)
    with pytest.raises(ValueError, match="answered through LSH"):
        all_exact.sets.shared_playlists(exact, lsh)


def test_bands_read_twice_in_pieces_give_the_chunks_of_the_whole_bands():
    # 400 random songs, some answered through LSH (exact work above 40), in buckets small enough to be cut
    # (max_bucket 3). The worker's build, reading the signatures twice in shuffled pieces of 7 songs, must
    # keep exactly the chunks that chunking every song's keys of the whole bands gives.
    rng = np.random.default_rng(5)
    _, songs, signatures, edges = random_songs(rng, range(1000, 1400), 40, 5, num_perm=16)
    whole = SongIndex.from_signatures(songs, signatures, *edges, 8, 2, 3, exact_work=40)
    assert 20 < len(whole.query_rows) < 380  # both kinds of songs are there
    assert whole.stats.buckets_cut > 0

    shuffled = rng.permutation(len(songs))
    pieces = [(songs[shuffled[i : i + 7]], signatures[shuffled[i : i + 7]]) for i in range(0, len(songs), 7)]
    read_twice = SongIndex(whole.sets, 3)
    read_twice.add_bands_read_twice(lambda: iter(pieces), range(8), 2)

    assert read_twice.stats == whole.stats
    for a, b in zip(read_twice.bands, whole.bands, strict=True):
        assert a.chunk_of.tolist() == b.chunk_of.tolist()
        assert a.offsets.tolist() == b.offsets.tolist() and a.members.tolist() == b.members.tolist()
    # Only the buckets holding a song answered through LSH were kept: some songs are in none of them.
    assert sum(len(band.members) for band in read_twice.bands) < 8 * len(songs)

    missing = sum(int(np.isin(whole.sets.rows_of(ids), whole.query_rows).sum()) for ids, _ in pieces[:1])
    with pytest.raises(ValueError, match=f"^{missing} songs answered through LSH have no signature"):
        SongIndex(whole.sets, 3).add_bands_read_twice(lambda: iter(pieces[1:]), range(8), 2)
    with pytest.raises(ValueError, match="400 songs are in playlists but 407 signatures cover 400"):
        SongIndex(whole.sets, 3).add_bands_read_twice(lambda: iter([*pieces, pieces[0]]), range(8), 2)

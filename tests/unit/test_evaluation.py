"""The offline evaluation's core: hold-out, continuation cases and scoring, metrics, baselines.

Every expected figure is worked out by hand in the comments, from the definitions in the
modules' docstrings; the last test checks on a synthetic dataset with two disjoint "genres"
that item-kNN beats the most-popular baseline, as it must when tastes have structure.
"""

import math

import numpy as np
import pytest

from evaluation.baselines import (
    cosine_neighbours,
    incidence_matrix,
    jaccard_neighbours,
    most_popular,
    popularity_recommender,
)
from evaluation.continuation import (
    Case,
    continuation_cases,
    continue_playlist,
    knn_recommender,
    neighbours_from_pairs,
    seed_categories,
)
from evaluation.holdout import held_out
from evaluation.metrics import (
    catalogue_coverage,
    clicks,
    evaluate,
    hit,
    ndcg,
    own_artist_share,
    popularity_ratio,
    r_precision,
    recall_at,
    song_facts,
    summarise,
)

MASK64 = 2**64 - 1


def splitmix64_first_output(seed: int) -> int:
    """The reference generator, in plain Python integers: state += golden ratio, then the finaliser."""
    z = (seed + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def ids(*values):
    return np.array(values, dtype=np.int64)


# ---------------------------------------------------------------- hold-out


def test_a_playlist_is_held_out_by_the_first_splitmix64_output_seeded_with_its_id():
    # splitmix64 seeded with 0 first gives 0xE220A8397B1DCDAF (its published test vector), so
    # u(0) = (0xE220A8397B1DCDAF >> 11) / 2^53 = 0.88331...; the second output, 0x6E789E6AA1B965F4,
    # is the first one seeded with 0x9E3779B97F4A7C15, i.e. the negative id -7046029254386353131:
    # u = 0.43152...
    assert splitmix64_first_output(0) == 0xE220A8397B1DCDAF
    negative = 0x9E3779B97F4A7C15 - 2**64
    assert splitmix64_first_output(negative & MASK64) == 0x6E789E6AA1B965F4
    assert held_out(ids(0, negative), 0.8834).tolist() == [True, True]
    assert held_out(ids(0, negative), 0.8833).tolist() == [False, True]
    assert held_out(ids(0, negative), 0.4316).tolist() == [False, True]
    assert held_out(ids(0, negative), 0.4315).tolist() == [False, False]
    # and any id agrees with the reference
    some = np.random.default_rng(1).integers(-(2**63), 2**63 - 1, size=50, dtype=np.int64)
    expected = [(splitmix64_first_output(int(i) & MASK64) >> 11) / 2**53 < 0.3 for i in some]
    assert held_out(some, 0.3).tolist() == expected


def test_the_hold_out_is_deterministic_and_depends_on_each_id_alone():
    playlist_ids = np.random.default_rng(2).integers(-(2**63), 2**63 - 1, size=10_000, dtype=np.int64)
    chosen = held_out(playlist_ids, 0.05)
    assert np.array_equal(held_out(playlist_ids.copy(), 0.05), chosen)
    shuffled = np.random.default_rng(3).permutation(len(playlist_ids))
    assert np.array_equal(held_out(playlist_ids[shuffled], 0.05), chosen[shuffled])
    assert np.array_equal(held_out(playlist_ids[:100], 0.05), chosen[:100])


@pytest.mark.parametrize("fraction", [0.01, 0.05])
def test_the_held_out_share_is_the_fraction(fraction):
    # 200,000 ids: the share's standard error is sqrt(f (1 - f) / 200000) (0.00022 at 0.01,
    # 0.00049 at 0.05); allow 4 of them. Random ids and consecutive ones (a weak hash's worst case).
    tolerance = 4 * math.sqrt(fraction * (1 - fraction) / 200_000)
    random_ids = np.random.default_rng(4).integers(-(2**63), 2**63 - 1, size=200_000, dtype=np.int64)
    consecutive = np.arange(1, 200_001, dtype=np.int64)
    for playlist_ids in (random_ids, consecutive):
        assert abs(held_out(playlist_ids, fraction).mean() - fraction) < tolerance


def test_a_playlist_held_out_at_a_fraction_is_held_out_at_every_larger_one():
    playlist_ids = np.arange(-100_000, 100_000, dtype=np.int64)
    at_1, at_5 = held_out(playlist_ids, 0.01), held_out(playlist_ids, 0.05)
    assert at_1.sum() > 0
    assert not (at_1 & ~at_5).any()
    assert not held_out(playlist_ids, 0.0).any()
    assert held_out(playlist_ids, 1.0).all()


@pytest.mark.parametrize("fraction", [-0.01, 1.01, float("nan")])
def test_a_fraction_outside_0_to_1_is_refused(fraction):
    with pytest.raises(ValueError, match="share from 0 to 1"):
        held_out(ids(1, 2), fraction)


# ---------------------------------------------------------------- continuation cases


def test_a_playlist_is_a_case_of_each_category_that_leaves_songs_hidden():
    assert seed_categories(0) == ()
    assert seed_categories(1) == ()  # nothing would be hidden
    assert seed_categories(2) == (1,)
    assert seed_categories(5) == (1,)  # 5 seeds would hide nothing
    assert seed_categories(6) == (1, 5)
    assert seed_categories(25) == (1, 5, 10)
    assert seed_categories(26) == (1, 5, 10, 25)


def test_cases_take_the_first_distinct_songs_as_seeds_and_hide_the_rest():
    playlists = {
        7: ids(10, 11, 10, 12, 13, 14, 15, 16),  # song 10 twice: 7 distinct songs -> categories 1 and 5
        3: ids(20),  # one song: no case in any category
        5: ids(1, 2, 3, 4, 5),  # 5 songs: category 1 only (5 seeds would leave nothing hidden)
    }
    cases = continuation_cases(playlists)
    assert [(c.playlist_id, c.seed_count, c.seeds.tolist(), c.hidden.tolist()) for c in cases] == [
        (5, 1, [1], [2, 3, 4, 5]),
        (7, 1, [10], [11, 12, 13, 14, 15, 16]),
        (7, 5, [10, 11, 12, 13, 14], [15, 16]),
    ]


def test_continuation_sums_the_seeds_similarities_and_breaks_ties_by_the_smaller_song():
    neighbours = {
        1: (ids(2, 6, 3), np.array([0.5, 0.25, 0.125])),
        2: (ids(1, 3, 4, 5), np.array([0.5, 0.5, 0.25, 0.0625])),
        9: (ids(7), np.array([0.75])),
    }
    # Seeds 1 and 2 (99 never seen in training: no neighbours, contributes nothing).
    # 2 and 1 are seeds: never recommended. 3: 0.125 + 0.5 = 0.625; 6: 0.25; 4: 0.25; 5: 0.0625.
    # 4 and 6 tie at 0.25: the smaller id, 4, goes first although 6 came first in the lists.
    assert continue_playlist(ids(1, 2, 99), neighbours).tolist() == [3, 4, 6, 5]
    assert continue_playlist(ids(99, 2, 1, 1), neighbours).tolist() == [3, 4, 6, 5]  # order, repeats
    assert continue_playlist(ids(1, 2), neighbours, k=2).tolist() == [3, 4]
    # Seeds 1 and 9: 2: 0.5, 7: 0.75, 6: 0.25, 3: 0.125.
    assert continue_playlist(ids(1, 9), neighbours).tolist() == [7, 2, 6, 3]
    assert continue_playlist(ids(98, 99), neighbours).tolist() == []
    assert knn_recommender(neighbours)(ids(1, 2), 3).tolist() == [3, 4, 6]


def test_neighbour_lists_from_a_recommendations_table_keep_each_songs_order():
    found = neighbours_from_pairs(ids(5, 1, 5, 1), ids(6, 2, 7, 3), np.array([0.5, 0.4, 0.3, 0.2]))
    assert sorted(found) == [1, 5]
    assert found[1][0].tolist() == [2, 3] and found[1][1].tolist() == [0.4, 0.2]
    assert found[5][0].tolist() == [6, 7] and found[5][1].tolist() == [0.5, 0.3]
    assert neighbours_from_pairs(ids(), ids(), np.array([])) == {}


# ---------------------------------------------------------------- accuracy per case

# Hidden G = {3, 7, 9, 42}, |G| = 4; song 42 was never in a training playlist, so no recommender can
# name it, but it still counts in |G|.
HIDDEN = ids(3, 7, 9, 42)


def test_r_precision_counts_hidden_songs_among_the_first_g_recommendations():
    # First |G| = 4 of [5, 3, 8, 7, 9]: 3 and 7 -> 2 / 4 (9 at rank 5 is too late).
    assert r_precision(ids(5, 3, 8, 7, 9), HIDDEN) == 0.5
    assert r_precision(ids(3, 7, 9), HIDDEN) == 0.75  # the best possible: 42 cannot be recommended
    assert r_precision(ids(), HIDDEN) == 0.0


def test_ndcg_discounts_by_log2_of_rank_plus_one_against_min_g_k_hits():
    # [5, 3, 8, 7, 6]: hits at ranks 2 and 4. DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161.
    # IDCG: min(|G|, 500) = 4 hits in a row = 1 + 1/log2(3) + 1/log2(4) + 1/log2(5) = 2.56161.
    # NDCG = 1.06161 / 2.56161 = 0.41443.
    assert ndcg(ids(5, 3, 8, 7, 6), HIDDEN) == pytest.approx(0.41443, abs=1e-5)
    # k = 2 and |G| = 3: the ideal is 2 hits, so two hits in a row score 1.
    assert ndcg(ids(1, 2), ids(1, 2, 3), k=2) == pytest.approx(1.0)
    # a hit after rank k counts nothing
    assert ndcg(ids(5, 6, 3), HIDDEN, k=2) == 0.0


def test_clicks_count_refreshes_of_ten_before_the_first_hidden_song():
    def first_hit_at(rank):  # 500 recommendations, the only hidden one at this rank (from 1)
        recommended = np.arange(1000, 1500, dtype=np.int64)
        recommended[rank - 1] = 3
        return recommended

    # floor((rank - 1) / 10)
    assert clicks(first_hit_at(1), HIDDEN) == 0
    assert clicks(first_hit_at(10), HIDDEN) == 0
    assert clicks(first_hit_at(11), HIDDEN) == 1
    assert clicks(first_hit_at(26), HIDDEN) == 2
    assert clicks(first_hit_at(500), HIDDEN) == 49
    # no hidden song among the 500: 51, as the challenge scores it
    assert clicks(np.arange(1000, 1500, dtype=np.int64), HIDDEN) == 51
    assert clicks(ids(), HIDDEN) == 51


def test_recall_at_k_and_hit_rate_look_at_the_first_k():
    recommended = np.arange(1000, 1500, dtype=np.int64)
    recommended[[1, 3, 149]] = [3, 7, 9]  # ranks 2, 4 and 150
    assert recall_at(recommended, HIDDEN, 10) == 2 / 4
    assert recall_at(recommended, HIDDEN, 100) == 2 / 4
    assert recall_at(recommended, HIDDEN, 500) == 3 / 4  # 42 is never recommended
    assert hit(recommended, HIDDEN)  # rank 2 is in the top 10
    late = np.arange(1000, 1500, dtype=np.int64)
    late[10] = 3  # rank 11
    assert not hit(late, HIDDEN)


def test_a_case_with_nothing_hidden_is_refused():
    for metric in (r_precision, ndcg, clicks, hit):
        with pytest.raises(ValueError, match="at least one hidden song"):
            metric(ids(1, 2), ids())


# ---------------------------------------------------------------- beyond accuracy

# song: artist, training playlists. Song 6 is only in held-out playlists (count 0), so the
# catalogue is the 7 other songs.
SONGS = song_facts(
    track_ids=ids(8, 7, 6, 5, 4, 3, 2, 1),
    artist_ids=ids(40, 40, 30, 30, 20, 20, 10, 10),  # 1, 2: artist 10; 3, 4: 20; 5, 6: 30; 7, 8: 40
    playlist_counts=ids(3, 1, 0, 8, 2, 6, 4, 10),
)
# Four cases: seeds and recommendations.
SEEDS = [ids(1), ids(3, 4, 6), ids(6), ids(8)]
RECOMMENDED = [ids(2, 3, 5), ids(5, 1), ids(7), ids()]


def test_coverage_is_the_share_of_the_catalogue_in_some_top_10():
    # shown: {2, 3, 5} | {5, 1} | {7} = {1, 2, 3, 5, 7}: 5 of the 7 catalogue songs
    assert catalogue_coverage(RECOMMENDED, SONGS) == pytest.approx(5 / 7)
    # top 1 only: {2, 5, 7} -> 3 / 7
    assert catalogue_coverage(RECOMMENDED, SONGS, n=1) == pytest.approx(3 / 7)
    assert math.isnan(catalogue_coverage([], SONGS))


def test_popularity_ratio_is_the_median_over_cases_of_recommended_over_seed_median_counts():
    # case 1: median(4, 6, 8) = 6 over median(10) = 10 -> 0.6
    # case 2: median(8, 10) = 9 over median(6, 2, 0) = 2 -> 4.5
    # case 3: the seeds' median is 0 (song 6 unseen in training): no ratio; case 4: no recommendation
    # median(0.6, 4.5) = 2.55
    assert popularity_ratio(SEEDS, RECOMMENDED, SONGS) == pytest.approx(2.55)
    assert math.isnan(popularity_ratio(SEEDS[2:], RECOMMENDED[2:], SONGS))


def test_own_artist_share_pools_the_top_10s_of_all_cases():
    # case 1: seed artist {10}; recommended artists 10, 20, 30 -> 1 of 3
    # case 2: seed artists {20, 30}; recommended 30, 10 -> 1 of 2
    # case 3: seed artist {30}; recommended 40 -> 0 of 1;  case 4: 0 of 0
    # (1 + 1 + 0) / (3 + 2 + 1) = 1 / 3
    assert own_artist_share(SEEDS, RECOMMENDED, SONGS) == pytest.approx(1 / 3)
    assert math.isnan(own_artist_share(SEEDS[3:], RECOMMENDED[3:], SONGS))


def test_a_song_missing_from_the_song_facts_is_named():
    with pytest.raises(KeyError, match="1 track_ids are not among the song facts, e.g. \\[99\\]"):
        own_artist_share([ids(1)], [ids(99)], SONGS)


# ---------------------------------------------------------------- the summary


def test_figures_are_means_per_category_and_over_all_cases():
    playlists = {
        1: ids(1, 2, 3, 4, 5, 6, 7),  # category 1: hidden {2..7}; category 5: hidden {6, 7}
        2: ids(8, 9),  # category 1: hidden {9}
        3: ids(7),  # nothing to hide: no case, counted nowhere
    }
    answers = {(1,): ids(2, 8, 3), (1, 2, 3, 4, 5): ids(8, 6), (8,): ids(1, 9)}

    def recommend(seeds, k):
        return answers[tuple(seeds.tolist())]

    songs = song_facts(np.arange(1, 10), np.arange(1, 10), np.ones(9, dtype=np.int64))
    table = evaluate(continuation_cases(playlists), recommend, songs).set_index("category")
    # r-precision: (1, cat 1) [2, 8, 3] vs 6 hidden: 2 / 6; (1, cat 5) [8, 6] vs {6, 7}: 1 / 2;
    # (2, cat 1) top 1 [1] vs {9}: 0. Category 1: (1/3 + 0) / 2 = 1/6; category 5: 1/2;
    # all: (1/3 + 1/2 + 0) / 3 = 5/18.
    assert table["cases"].to_dict() == {"1": 2, "5": 1, "10": 0, "25": 0, "all": 3}
    assert table.loc["1", "r_precision"] == pytest.approx(1 / 6)
    assert table.loc["5", "r_precision"] == pytest.approx(1 / 2)
    assert table.loc["all", "r_precision"] == pytest.approx(5 / 18)
    # every case has a hidden song in its top 10; the first hit is at rank 1, 2, 2: 0 clicks each
    assert table.loc["all", "hit_rate"] == 1.0
    assert table.loc["all", "clicks"] == 0.0
    # shown {1, 2, 3, 6, 8, 9} of the 9 songs; category 1 alone {1, 2, 3, 8, 9}
    assert table.loc["all", "coverage"] == pytest.approx(6 / 9)
    assert table.loc["1", "coverage"] == pytest.approx(5 / 9)
    assert table.loc["10"].drop("cases").isna().all()


def test_a_recommender_returning_a_song_twice_is_refused():
    with pytest.raises(ValueError, match="distinct songs"):
        evaluate([Case(1, 1, ids(1), ids(2))], lambda seeds, k: ids(2, 2), SONGS)


def test_summarise_without_cases_gives_every_category_with_no_figures():
    table = summarise([], [], SONGS)
    assert table["category"].tolist() == ["1", "5", "10", "25", "all"]
    assert (table["cases"] == 0).all()
    assert table.drop(columns=["category", "cases"]).isna().all().all()


# ---------------------------------------------------------------- baselines

# Training playlists: 100 {1, 2, 3}, 200 {1, 2}, 300 {2, 4}, 400 {1, 2} (its pair (400, 1) listed twice).
# P(1) = {100, 200, 400} (3), P(2) = {100, 200, 300, 400} (4), P(3) = {100} (1), P(4) = {300} (1).
# Shared: 1-2: 3, 1-3: 1, 2-3: 1, 2-4: 1; 1-4 and 3-4: none.
TOY = incidence_matrix(ids(100, 100, 100, 200, 200, 300, 300, 400, 400, 400), ids(1, 2, 3, 1, 2, 2, 4, 1, 2, 1))


def similarities(neighbours):
    """{(song, neighbour): similarity}"""
    return {
        (song, other): value
        for song, (others, values) in neighbours.items()
        for other, value in zip(others.tolist(), values.tolist(), strict=True)
    }


def test_the_incidence_matrix_counts_a_repeated_pair_once():
    assert TOY.track_ids.tolist() == [1, 2, 3, 4]
    assert TOY.playlist_ids.tolist() == [100, 200, 300, 400]
    assert TOY.playlist_counts.tolist() == [3, 4, 1, 1]


def test_jaccard_neighbours_are_exact_and_ranked():
    # J = shared / (|P(a)| + |P(b)| - shared): 1-2: 3/4; 1-3: 1/3; 2-3: 1/4; 2-4: 1/4
    found = jaccard_neighbours(TOY, k=10)
    assert {song: list(ids_.tolist()) for song, (ids_, _) in found.items()} == {
        1: [2, 3],
        2: [1, 3, 4],  # 3 and 4 tie at 1/4 with 1 shared playlist each: the smaller id first
        3: [1, 2],
        4: [2],
    }
    assert similarities(found) == pytest.approx(
        {
            (1, 2): 3 / 4,
            (1, 3): 1 / 3,
            (2, 1): 3 / 4,
            (2, 3): 1 / 4,
            (2, 4): 1 / 4,
            (3, 1): 1 / 3,
            (3, 2): 1 / 4,
            (4, 2): 1 / 4,
        }
    )
    assert jaccard_neighbours(TOY, k=2)[2][0].tolist() == [1, 3]


def test_cosine_neighbours_are_exact_and_ranked():
    # cos = shared / sqrt(|P(a)| |P(b)|): 1-2: 3/sqrt(12) = 0.866; 1-3: 1/sqrt(3) = 0.577;
    # 2-3: 1/sqrt(4) = 0.5; 2-4: 0.5
    found = cosine_neighbours(TOY, k=10)
    assert {song: list(ids_.tolist()) for song, (ids_, _) in found.items()} == {
        1: [2, 3],
        2: [1, 3, 4],
        3: [1, 2],
        4: [2],
    }
    assert similarities(found) == pytest.approx(
        {
            (1, 2): 3 / math.sqrt(12),
            (1, 3): 1 / math.sqrt(3),
            (2, 1): 3 / math.sqrt(12),
            (2, 3): 0.5,
            (2, 4): 0.5,
            (3, 1): 1 / math.sqrt(3),
            (3, 2): 0.5,
            (4, 2): 0.5,
        }
    )


def test_equal_similarities_go_to_more_shared_playlists_first():
    # Song 1 in {a, b}; song 5 in {a}; song 6 in {a, b, c, d}.
    # Jaccard 1-5 = 1/2 (1 shared), 1-6 = 2/4 = 1/2 (2 shared); cosine 1/sqrt(2) and 2/sqrt(8), equal too.
    # Song 6 shares more playlists with 1, so it comes first despite its larger id.
    incidence = incidence_matrix(ids(1, 2, 1, 1, 2, 3, 4), ids(1, 1, 5, 6, 6, 6, 6))
    assert jaccard_neighbours(incidence, k=1)[1][0].tolist() == [6]
    assert cosine_neighbours(incidence, k=2)[1][0].tolist() == [6, 5]


def test_the_neighbours_do_not_depend_on_the_blocks(monkeypatch):
    from evaluation import baselines

    whole = similarities(jaccard_neighbours(TOY, k=10))
    monkeypatch.setattr(baselines, "PAIRS_PER_BLOCK", 1)
    assert similarities(jaccard_neighbours(TOY, k=10)) == whole
    monkeypatch.setattr(baselines, "PAIRS_PER_BLOCK", 10**9)
    monkeypatch.setattr(baselines, "SONGS_PER_BLOCK", 3)
    assert similarities(jaccard_neighbours(TOY, k=10)) == whole


def test_a_cosine_row_cut_among_ties_is_recomputed_exactly(monkeypatch):
    from evaluation import baselines

    # Playlist 1 holds songs 1..9 and nothing else: every pair has cosine 1/sqrt(1 x 1) = 1, one shared
    # playlist each, so song 1's best 3 are the smallest ids, 2, 3, 4. With no margin the top-n product
    # keeps 4 entries per row (the song and 3 others), chosen among equals: every row must be redone.
    incidence = incidence_matrix(np.ones(9, dtype=np.int64), np.arange(1, 10))
    redone = []
    exact = baselines.top_neighbours

    def recording(incidence, k, similarity, songs=None):
        redone.append(sorted(songs.tolist()))
        return exact(incidence, k, similarity, songs)

    monkeypatch.setattr(baselines, "top_neighbours", recording)
    found = cosine_neighbours(incidence, k=3, margin=0)
    assert found[1][0].tolist() == [2, 3, 4]
    assert found[9][0].tolist() == [1, 2, 3]
    assert found[1][1].tolist() == [1.0, 1.0, 1.0]
    assert redone == [list(range(1, 10))]


def test_a_cosine_row_cut_below_its_kth_needs_no_recomputation(monkeypatch):
    from evaluation import baselines

    # Song 1 is in playlists 1-4; song 2 in 1-4 too (cosine 1), song 3 in 1-2 (2/sqrt(8) = 0.71),
    # song 4 in 1 (1/sqrt(4) = 0.5), song 5 in 1 and 5-7 (1/sqrt(16) = 0.25). With k=2 and a margin
    # of 1, song 1's row keeps itself, 2, 3 and 4; what it leaves out (5) is below its 2nd best (3).
    playlists = ids(1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 1, 1, 5, 6, 7)
    songs = ids(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5, 5, 5, 5)
    incidence = incidence_matrix(playlists, songs)
    monkeypatch.setattr(baselines, "top_neighbours", lambda *args, **kwargs: pytest.fail("recomputed"))
    found = cosine_neighbours(incidence, k=2, songs=ids(1), margin=1)
    assert found[1][0].tolist() == [2, 3]
    assert found[1][1] == pytest.approx([1.0, 2 / math.sqrt(8)])


@pytest.mark.parametrize("margin", [0, 1, 20])
@pytest.mark.parametrize("k", [1, 4])
def test_cosine_by_top_n_product_equals_the_blocked_exact_product(margin, k):
    # Small playlists over few songs: many equal similarities, so many rows are cut among ties.
    from evaluation.baselines import cosine, top_neighbours

    rng = np.random.default_rng(margin * 10 + k)
    playlist_ids = np.repeat(np.arange(300), rng.integers(1, 6, size=300))
    track_ids = rng.integers(1, 60, size=len(playlist_ids))
    incidence = incidence_matrix(playlist_ids, track_ids)
    chosen = ids(*range(1, 60, 3))
    for songs in (None, chosen):
        fast = cosine_neighbours(incidence, k, songs=songs, margin=margin)
        exact = top_neighbours(incidence, k, cosine, songs)
        assert fast.keys() == exact.keys()
        for song, (neighbours, values) in exact.items():
            assert fast[song][0].tolist() == neighbours.tolist()
            assert fast[song][1].tolist() == values.tolist()


def test_most_popular_ranks_by_playlist_count_then_smaller_id_and_skips_seeds():
    # counts: 2: 4, 1: 3, 3: 1, 4: 1 (3 and 4 tie: 3 first)
    ranking = most_popular(TOY)
    assert ranking.tolist() == [2, 1, 3, 4]
    recommend = popularity_recommender(ranking)
    assert recommend(ids(2), 2).tolist() == [1, 3]
    assert recommend(ids(1, 3), 2).tolist() == [2, 4]
    assert recommend(ids(), 10).tolist() == [2, 1, 3, 4]


# ---------------------------------------------------------------- end to end


def test_item_knn_beats_most_popular_when_tastes_have_structure():
    # Four disjoint genres of 50 songs (ids 1000.., 2000.., 3000.., 4000..), 10 songs per artist; a
    # playlist draws 8 to 30 songs of one genre, popular songs more often (Zipf weights). The most
    # popular songs overall mix the four genres, so about three quarters of them are wrong for any
    # playlist, while item-kNN stays within the seeds' genre.
    rng = np.random.default_rng(11)
    genres = [np.arange(1000, 1050) + 1000 * g for g in range(4)]
    weights = 1 / np.arange(1, 51)
    weights /= weights.sum()
    playlist_ids = rng.integers(-(2**63), 2**63 - 1, size=600, dtype=np.int64)
    playlists = {
        int(pid): rng.choice(genres[int(rng.integers(4))], size=int(rng.integers(8, 31)), replace=False, p=weights)
        for pid in playlist_ids
    }
    test = held_out(playlist_ids, 0.2)
    train_pids = np.concatenate([np.full(len(playlists[int(p)]), p) for p in playlist_ids[~test]])
    train_tracks = np.concatenate([playlists[int(p)] for p in playlist_ids[~test]])
    training = incidence_matrix(train_pids, train_tracks)
    all_songs = np.concatenate(genres)
    counts = np.zeros(len(all_songs), dtype=np.int64)
    counts[np.searchsorted(all_songs, training.track_ids)] = training.playlist_counts
    songs = song_facts(all_songs, all_songs // 10, counts)
    cases = continuation_cases({int(p): playlists[int(p)] for p in playlist_ids[test]})

    def r_precision_of(recommender):
        return evaluate(cases, recommender, songs).set_index("category").loc["all", "r_precision"]

    popular = r_precision_of(popularity_recommender(most_popular(training)))
    jaccard = r_precision_of(knn_recommender(jaccard_neighbours(training, k=20)))
    cosine_ = r_precision_of(knn_recommender(cosine_neighbours(training, k=20)))
    assert len(cases) > 200
    assert jaccard > 1.5 * popular
    assert cosine_ > 1.5 * popular


def test_neighbours_of_chosen_songs_only_are_those_of_the_whole_computation():
    # From the cosine table above: song 3's lists are [1, 2], song 4's [2]; 99 is not a training song.
    found = cosine_neighbours(TOY, k=10, songs=np.array([4, 3, 99, 3]))
    assert {song: list(ids_.tolist()) for song, (ids_, _) in found.items()} == {3: [1, 2], 4: [2]}
    assert similarities(found) == pytest.approx({(3, 1): 1 / math.sqrt(3), (3, 2): 0.5, (4, 2): 0.5})


def test_a_short_knn_list_is_filled_up_with_the_backfill_songs_not_yet_named():
    neighbours = {1: (ids(2, 3), np.array([0.5, 0.25]))}
    popular = ids(3, 1, 9, 2, 8, 7)
    # kNN names 2, 3; then the popular songs that are neither the seed (1) nor named: 9, 8 (7 is the 5th)
    assert knn_recommender(neighbours, backfill=popular)(ids(1), 4).tolist() == [2, 3, 9, 8]
    assert knn_recommender(neighbours, backfill=popular)(ids(1), 2).tolist() == [2, 3]
    # a seed unseen in training: only the backfill
    assert knn_recommender(neighbours, backfill=popular)(ids(5), 3).tolist() == [3, 1, 9]
    assert knn_recommender(neighbours)(ids(5), 3).tolist() == []

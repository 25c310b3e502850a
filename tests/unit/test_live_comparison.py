"""The guard that stops a run whose tables shrink far below the live version's."""

import pytest

from pipeline.live_comparison import shrinkage

LIVE = {"run_id": 7, "songs": 2012, "pairs_published": 40233}


def test_nothing_published_yet_means_nothing_to_compare():
    assert shrinkage({"tracks": 1, "recommendations": 1}, None, 0.5) == []


def test_a_mostly_bad_file_is_stopped_with_the_figures_that_moved():
    # The failure the guard exists for: 2,012 songs / 40,233 pairs replaced by 48 / 941.
    problems = shrinkage({"tracks": 48, "recommendations": 941}, LIVE, 0.5)
    assert problems == [
        "songs would drop from 2012 (live version, run 7) to 48: -97.6%, more than max_drop 50%",
        "pairs_published would drop from 40233 (live version, run 7) to 941: -97.7%, more than max_drop 50%",
    ]


def test_a_drop_within_the_limit_and_growth_pass():
    assert shrinkage({"tracks": 1006, "recommendations": 20117}, LIVE, 0.5) == []  # exactly half, or a pair more
    assert shrinkage({"tracks": 5000, "recommendations": 90000}, LIVE, 0.5) == []


def test_only_the_figure_that_dropped_is_named():
    problems = shrinkage({"tracks": 2012, "recommendations": 10000}, LIVE, 0.5)
    assert len(problems) == 1 and problems[0].startswith("pairs_published would drop from 40233")


def test_max_drop_zero_allows_no_drop_and_one_allows_any():
    assert shrinkage({"tracks": 2011, "recommendations": 40233}, LIVE, 0.0) != []
    assert shrinkage({"tracks": 0, "recommendations": 0}, LIVE, 1.0) == []


def test_max_drop_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="from 0 to 1"):
        shrinkage({"tracks": 1, "recommendations": 1}, LIVE, 1.5)

"""The quality gate on hand-written figures: Great Expectations decides, the message says what fell."""

import pytest

from pipeline.quality_gate import QualityFell, validate_evaluation
from pipeline.run_folder import RunFolder

FINGERPRINT = {"kind": "file", "sha256": "ab" * 32}


def figures(published: tuple[float, float], popular: tuple[float, float]) -> list[dict]:
    """Overall rows (ndcg, r_precision) of the published method and the most-popular baseline."""
    rows = []
    for method, (ndcg, r_precision) in (("published", published), ("most_popular", popular)):
        rows.append({"method": method, "seed_category": "all", "cases": 400, "ndcg": ndcg, "r_precision": r_precision})
        rows.append({"method": method, "seed_category": "1", "cases": 10, "ndcg": 0.9, "r_precision": 0.9})
    return rows


def live(ndcg: float, r_precision: float, **changes) -> dict:
    return {
        "run_id": 7,
        "dag_run_id": "manual__earlier",
        "source_fingerprint": FINGERPRINT,
        "holdout_fraction": 0.01,
        "holdout_max_playlists": 2500,
        "cases": 400,
        "ndcg": ndcg,
        "r_precision": r_precision,
        **changes,
    }


def gate(tmp_path, published, popular, live_version, max_quality_drop=0.05):
    run = RunFolder(tmp_path / "run")
    run.write_metrics("evaluate", {"cases": 400, "figures": figures(published, popular)})
    return run, lambda: validate_evaluation(run, live_version, FINGERPRINT, (0.01, 2500), max_quality_drop)


def test_a_run_as_good_as_the_live_version_passes_and_is_reported(tmp_path):
    # 0.285 is exactly 5% below 0.3: still allowed
    run, check = gate(tmp_path, (0.285, 0.2), (0.1, 0.05), live(0.3, 0.2))
    checked = check()
    assert checked["compared_with"] == "live run 7"
    assert checked["published_ndcg"] == 0.285 and checked["live_ndcg"] == 0.3
    report = run.validation_reports()["evaluation"]
    assert report["success"] is True
    assert "evaluation_gate" in run.data_docs_index.read_text()


def test_a_drop_beyond_the_tolerance_stops_the_run_naming_the_figure(tmp_path):
    run, check = gate(tmp_path, (0.27, 0.2), (0.1, 0.05), live(0.3, 0.2))
    with pytest.raises(QualityFell) as fell:
        check()
    assert str(fell.value) == (
        "NDCG fell from 0.3000 (live version, run 7) to 0.2700: 10.0% less, more than max_quality_drop 5%"
    )
    report = run.validation_reports()["evaluation"]
    assert report["success"] is False
    failed = [r["description"] for r in report["suites"][0]["results"] if not r["success"]]
    assert failed == ["the published NDCG is at least the live version's less max_quality_drop (ndcg_floor)"]


def test_a_run_below_the_most_popular_baseline_stops(tmp_path):
    _, check = gate(tmp_path, (0.3, 0.04), (0.1, 0.05), None)
    with pytest.raises(QualityFell, match=r"^R-precision 0.0400 is below the most-popular baseline's 0.0500$"):
        check()


@pytest.mark.parametrize(
    "other, reason",
    [
        ({"source_fingerprint": {"kind": "file", "sha256": "cd" * 32}}, "made from other source content"),
        ({"holdout_fraction": 0.02}, "held out 0.02 of the playlists, this run 0.01"),
        ({"holdout_max_playlists": 1000}, "held out at most 1,000 playlists, this run at most 2,500"),
        ({"holdout_max_playlists": None}, "held out at most any number of playlists, this run at most 2,500"),
    ],
)
def test_a_live_version_evaluated_on_other_playlists_is_not_compared(tmp_path, other, reason):
    _, check = gate(tmp_path, (0.15, 0.1), (0.1, 0.05), live(0.3, 0.2, **other))
    assert reason in check()["compared_with"]  # half the live NDCG, but measured on other playlists


@pytest.mark.parametrize("cases", [0, 49])
def test_a_run_with_too_few_cases_is_not_judged(tmp_path, cases):
    run = RunFolder(tmp_path / "run")
    run.write_metrics("evaluate", {"cases": cases, "figures": figures((0.01, 0.01), (0.5, 0.5))})
    checked = validate_evaluation(run, live(0.3, 0.2), FINGERPRINT, (0.01, 2500), 0.05)
    assert checked["compared_with"] == (
        f"nothing: {cases} cases are too few to judge by "
        "(at least 50; hold out more playlists with holdout_fraction or holdout_max_playlists)"
    )
    assert "evaluation" not in run.validation_reports()


def test_fifty_cases_are_judged(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.write_metrics("evaluate", {"cases": 50, "figures": figures((0.01, 0.01), (0.5, 0.5))})
    with pytest.raises(QualityFell):
        validate_evaluation(run, None, FINGERPRINT, (0.01, 2500), 0.05)

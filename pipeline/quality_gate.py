"""The quality gate (task ``validate_evaluation``): a run whose recommendations got worse is not published.

Input: the run's ``metrics/evaluate.json`` (``pipeline.evaluate``) and the live version's overall
figures from ``music.evaluation``. The suite ``expectations/evaluation/`` checks one row of figures
(``gate_row``): the published method's overall NDCG and R-precision must reach

- the most-popular baseline's on the same cases, and
- the live version's less ``max_quality_drop`` (relative: 0.05 allows 5% less), when the live
  version was evaluated on the same hold-out: the same source content (fingerprint) and the same
  ``holdout_fraction`` and ``holdout_max_playlists``, so the same playlists; otherwise that floor is
  0 and the log says why.

Output: ``validation/evaluation.json`` and the run's Data Docs; ``QualityFell`` names each figure
that fell, from what to what. A run with fewer than ``MIN_GATED_CASES`` cases is not judged.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.evaluate import overall
from pipeline.run_folder import RunFolder
from pipeline.settings import EXPECTATIONS_DIR
from pipeline.validation import failures, load_suites, validate_pandas_frames
from warehouse.sql_files import fetch_one_as_dict, run_sql_file

GATED = {"ndcg": "NDCG", "r_precision": "R-precision"}
# Fewer cases than this are too few to judge a run by: on a small sample (a few held-out playlists) a
# single playlist moves the means by more than any tolerance. The figures are still published.
MIN_GATED_CASES = 50


class QualityFell(Exception):
    """The run's recommendations are worse than the live version's or the most-popular baseline's."""


def live_evaluation(connection: Any) -> dict[str, Any] | None:
    """The live version's overall published figures and what they were measured on; None without any."""
    with connection, connection.cursor() as cursor:
        run_sql_file(cursor, "evaluation_table_exists.sql")
        if not cursor.fetchone()[0]:
            return None
        run_sql_file(cursor, "select_live_evaluation.sql")
        return fetch_one_as_dict(cursor)


def comparable(live: dict[str, Any] | None, fingerprint: Any, holdout: tuple[float, int | None]) -> str | None:
    """Why the live version's figures cannot be compared with this run's, or None when they can.

    ``holdout`` is this run's (holdout_fraction, holdout_max_playlists); a cap of None is no cap.
    """
    if live is None:
        return "no live version was evaluated"
    fraction, max_playlists = holdout
    if live["holdout_fraction"] != fraction:
        return f"the live version held out {live['holdout_fraction']} of the playlists, this run {fraction}"
    if live["holdout_max_playlists"] != max_playlists:
        return (
            f"the live version held out at most {cap_text(live['holdout_max_playlists'])} playlists, "
            f"this run at most {cap_text(max_playlists)}"
        )
    if live["source_fingerprint"] != fingerprint:
        return "the live version was made from other source content, so its held-out playlists differ"
    if not live["cases"]:
        return "the live version had no evaluation case"
    return None


def cap_text(max_playlists: int | None) -> str:
    return "any number of" if max_playlists is None else f"{max_playlists:,}"


def gate_row(figures: list[dict[str, Any]], live: dict[str, Any] | None) -> dict[str, Any]:
    """The row the suite checks: the published and most-popular overall figures, and the live ones (or None)."""
    published, popular = overall(figures, "published"), overall(figures, "most_popular")
    row: dict[str, Any] = {"cases": published["cases"]}
    for name in GATED:
        row[f"published_{name}"] = published[name]
        row[f"most_popular_{name}"] = popular[name]
        row[f"live_{name}"] = None if live is None else live[name]
    return row


def floors(live: dict[str, Any] | None, max_quality_drop: float) -> dict[str, float]:
    """The suite's parameters: each gated figure's floor from the live version (0 without a comparable one)."""
    return {f"{name}_floor": 0.0 if live is None else live[name] * (1 - max_quality_drop) for name in GATED}


def what_fell(row: dict[str, Any], live: dict[str, Any] | None, max_quality_drop: float) -> list[str]:
    """One line per gated figure that fell, from what to what."""
    lines = []
    for name, label in GATED.items():
        value = row[f"published_{name}"]
        popular = row[f"most_popular_{name}"]
        if value is None:
            lines.append(f"the published {label} could not be computed")
            continue
        if popular is not None and value < popular:
            lines.append(f"{label} {value:.4f} is below the most-popular baseline's {popular:.4f}")
        if live is not None and value < live[name] * (1 - max_quality_drop):
            lines.append(
                f"{label} fell from {live[name]:.4f} (live version, run {live['run_id']}) to {value:.4f}: "
                f"{1 - value / live[name]:.1%} less, more than max_quality_drop {max_quality_drop:.0%}"
            )
    return lines


def validate_evaluation(
    run: RunFolder,
    live: dict[str, Any] | None,
    fingerprint: Any,
    holdout: tuple[float, int | None],
    max_quality_drop: float,
) -> dict[str, Any]:
    """Run the gate's suite on the run's figures; raise ``QualityFell`` when a figure fell.

    Returns what was compared (``compared_with``: the live run id or why not) and the report's figures.
    """
    evaluated = run.read_metrics("evaluate")
    if evaluated["cases"] < MIN_GATED_CASES:
        return {
            "compared_with": f"nothing: {evaluated['cases']} cases are too few to judge by "
            f"(at least {MIN_GATED_CASES}; hold out more playlists with holdout_fraction or holdout_max_playlists)"
        }
    reason = comparable(live, fingerprint, holdout)
    reference = live if reason is None else None
    row = gate_row(evaluated["figures"], reference)
    report = validate_pandas_frames(
        load_suites(EXPECTATIONS_DIR / "evaluation"),
        {"evaluation_gate": pd.DataFrame([row])},
        floors(reference, max_quality_drop),
        run.gx_project_root,
    )
    run.write_validation("evaluation", report)
    fell = what_fell(row, reference, max_quality_drop)
    if fell or not report["success"]:
        raise QualityFell("; ".join(fell or failures(report)))
    return {"compared_with": reason or f"live run {live['run_id']}", **row}  # type: ignore[index]

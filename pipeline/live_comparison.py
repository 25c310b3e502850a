"""Guard before publishing: a run whose tables shrink far below the live version's is stopped.

A source that lost most of its lines (a file whose quotes were stripped: 98.5% malformed) still runs
to the end and would replace thousands of songs with a few dozen. Before ``stage``, the run's songs
and recommendation pairs are compared with the live version's (``music.runs``); a drop by more than
``max_drop`` (a share, 0 to 1) of either stops the run with the figures that moved. The DAG param
``force`` publishes anyway (the comparison is still logged).
"""

from __future__ import annotations

from typing import Any

# The run's table -> the live version's figure in music.runs
FIGURES = {"tracks": "songs", "recommendations": "pairs_published"}


def shrinkage(candidate: dict[str, int], live_run: dict[str, Any] | None, max_drop: float) -> list[str]:
    """One line per figure that dropped by more than ``max_drop`` against the live version; [] when none
    did or nothing is published."""
    if not 0 <= max_drop <= 1:
        raise ValueError(f"max_drop is a share from 0 to 1, got {max_drop}")
    if live_run is None:
        return []
    problems = []
    for table, figure in FIGURES.items():
        before, after = live_run.get(figure), candidate[table]
        if before and after < (1 - max_drop) * before:
            problems.append(
                f"{figure} would drop from {before} (live version, run {live_run['run_id']}) to {after}: "
                f"-{1 - after / before:.1%}, more than max_drop {max_drop:.0%}"
            )
    return problems

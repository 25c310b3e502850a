"""Issue #13's six targets for the whole DAG, as ``make bench BENCH_ARGS="... --dag"`` measures and prints them.

Inputs: the report ``benchmarks.bench_similarity`` builds (its seed setting and scale points) plus, with
``--dag``, what this module measures beside it:

- ``largest`` and ``seed``: the whole DAG (``benchmarks.bench_scale.scale_point``: wall time, stage
  seconds, the machine's memory in use, recall@10 of the published tables) at the largest size and at the
  seed setting's size;
- ``demo_seconds``: ``make demo`` itself, start to printed recommendations, in the benchmark's already
  warm ``.venv``;
- ``pyarrow_read_seconds``: a plain ``pyarrow.csv`` read of the largest file into memory (the CSV member
  decompressed from the zip and parsed, with the real format's escape character), the parsing limit.

``targets(report)`` turns the figures into one line per target: its figure, its bound and whether it is
met. It computes nothing new, so a test can state the expected verdicts of a hand-made report.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks.dataset_shape import csv_bytes, parse_csv
from pipeline.settings import PROJECT_ROOT

FULL_SCALE_SECONDS = 5 * 60
FULL_SCALE_MEMORY_GIB = 8
FULL_SCALE_RECALL = 0.99
ENGINE_VS_EXACT = 3.0
VALIDATION_SHARE = 0.10
SEED_SETTING_SPEEDUP = 2.0
DEMO_SECONDS = 90
EXTRACT_VS_PYARROW = 2.0
ENGINE_STAGES = ("minhash", "similarity_join")


def demo_seconds() -> float:
    """``make demo PARAMS=force=true`` (its sample made once; ``force`` so every stage runs), timed."""
    started = time.perf_counter()
    subprocess.run(["make", "demo", "PARAMS=force=true"], cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def pyarrow_read_seconds(zip_path: Path) -> float:
    """A plain ``pyarrow.csv`` read of the zip's CSV into memory: decompression and parsing, timed together."""
    started = time.perf_counter()
    parse_csv(csv_bytes(zip_path), lambda _row: "skip")
    return time.perf_counter() - started


def _target(number: int, what: str, figure: str, met: bool) -> dict[str, Any]:
    return {"target": number, "what": what, "figure": figure, "met": met}


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per target of issue #13 (``target``, ``what``, ``figure``, ``met``) from a ``--dag`` report.

    ``report["dag"]`` holds ``largest`` and ``seed`` (bench_scale points), ``demo_seconds`` and
    ``pyarrow_read_seconds``; ``report["scale"]`` the engine against ``implicit`` by size; ``report
    ["seed_setting"]`` MLlib's seconds. A target whose figure was not measured is reported as not met.
    """
    dag = report["dag"]
    full = dag["largest"]
    stages = full["stage_seconds"]
    engine = sum(stages[stage] for stage in ENGINE_STAGES)
    validations = sum(seconds for stage, seconds in stages.items() if stage.startswith("validate_"))
    rest = full["dag_seconds"] - engine
    exact_ratio = report["scale"][-1]["similarity_vs_limit"]
    # Everything the run adds: the machine's memory in use at the peak, less what was in use before it.
    memory = round(full["machine_memory_peak_gib"] - full["machine_memory_before_gib"], 2)
    found = [
        _target(
            1,
            f"whole DAG on {full['rows']:,} rows",
            f"{full['dag_seconds']:.0f} s (<= {FULL_SCALE_SECONDS}), memory the run added at the peak {memory} GiB "
            f"(<= {FULL_SCALE_MEMORY_GIB}), recall@10 {full['recall_at_10']:.4f} on {full['recall_sample_songs']:,} "
            f"songs (>= {FULL_SCALE_RECALL})",
            full["dag_seconds"] <= FULL_SCALE_SECONDS
            and memory <= FULL_SCALE_MEMORY_GIB
            and full["recall_at_10"] >= FULL_SCALE_RECALL,
        ),
        _target(
            2,
            "overhead and engine",
            f"everything but minhash + similarity_join {rest:.0f} s against their {engine:.0f} s "
            f"({rest / engine:.2f}x, <= 1x); the engine at {exact_ratio:.1f}x the exact limit (implicit) "
            f"(<= {ENGINE_VS_EXACT}x)",
            rest <= engine and exact_ratio <= ENGINE_VS_EXACT,
        ),
        _target(
            3,
            "validation",
            f"the Great Expectations stages {validations:.0f} s of {full['dag_seconds']:.0f} s: "
            f"{validations / full['dag_seconds']:.1%} (<= {VALIDATION_SHARE:.0%})",
            validations <= VALIDATION_SHARE * full["dag_seconds"],
        ),
    ]
    seed, mllib = dag.get("seed"), report.get("seed_setting")
    if seed and mllib:
        speedup = mllib["mllib"]["seconds"] / seed["dag_seconds"]
        found.append(
            _target(
                4,
                f"seed setting, {seed['rows']:,} rows",
                f"whole DAG {seed['dag_seconds']:.0f} s ({seed['songs_published']:,} songs) against MLlib "
                f"{mllib['mllib']['seconds']:.0f} s ({mllib['songs']:,} songs): {speedup:.2f}x "
                f"(>= {SEED_SETTING_SPEEDUP}x)",
                speedup >= SEED_SETTING_SPEEDUP,
            )
        )
    else:
        found.append(_target(4, "seed setting", "not measured (needs the seed setting and --dag)", False))
    found.append(
        _target(
            5,
            "make demo, warm .venv",
            f"{dag['demo_seconds']:.0f} s (<= {DEMO_SECONDS})",
            dag["demo_seconds"] <= DEMO_SECONDS,
        )
    )
    extract_ratio = stages["extract"] / dag["pyarrow_read_seconds"]
    found.append(
        _target(
            6,
            "extract against a pyarrow.csv read",
            f"extract {stages['extract']:.0f} s, pyarrow {dag['pyarrow_read_seconds']:.1f} s: {extract_ratio:.1f}x "
            f"(<= {EXTRACT_VS_PYARROW}x)",
            extract_ratio <= EXTRACT_VS_PYARROW,
        )
    )
    return found


def print_targets(found: list[dict[str, Any]]) -> None:
    print("\nIssue #13's targets")
    for target in found:
        verdict = "met" if target["met"] else "NOT met"
        print(f"  {target['target']}. {target['what']}: {target['figure']} -> {verdict}")

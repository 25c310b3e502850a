"""Run Great Expectations suites (JSON files in ``expectations/``) against Spark DataFrames.

A suite file is GX 1.x's own suite format (name, expectations with ``type`` and
``kwargs``) plus ``meta.dataset``: the name of the DataFrame it validates.
Suites can hold Spark SQL checks (``unexpected_rows_expectation``) that refer to
other datasets by name, and ``{"$PARAMETER": ...}`` values filled per run.

Output: a report (plain dict, JSON-ready) per suite and overall.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


class ValidationFailed(Exception):
    """Raised when any expectation of any suite failed; the message lists them."""


def load_suites(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Every ``*.json`` suite in ``folder``, sorted by file name."""
    paths = sorted(Path(folder).glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no expectation suites (*.json) in {folder}")
    suites = []
    for path in paths:
        suite = json.loads(path.read_text())
        if "dataset" not in suite.get("meta", {}):
            raise ValueError(f"{path}: meta.dataset must name the DataFrame the suite validates")
        suites.append(suite)
    return suites


def _summarise(result) -> dict[str, Any]:
    config = result.expectation_config
    details = {k: result.result.get(k) for k in ("observed_value", "unexpected_count", "element_count")}
    return {
        "expectation": config.type,
        "description": config.description,
        "kwargs": {k: v for k, v in config.kwargs.items() if k != "batch_id"},
        "success": bool(result.success),
        **{k: v for k, v in details.items() if v is not None},
    }


def validate_dataframes(
    suites: list[dict[str, Any]], frames: dict[str, Any], parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate each suite against ``frames[suite.meta.dataset]``; every frame is also a Spark temp view.

    Returns ``{"success": bool, "suites": [{"suite", "dataset", "success", "results": [...]}]}``.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name, frame in frames.items():
        frame.createOrReplaceTempView(name)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_spark("spark")
    reports = []
    for suite_content in suites:
        dataset = suite_content["meta"]["dataset"]
        if dataset not in frames:
            raise KeyError(f"suite {suite_content['name']!r} validates {dataset!r}, not one of {sorted(frames)}")
        batch_definition = source.add_dataframe_asset(suite_content["name"]).add_batch_definition_whole_dataframe(
            "whole"
        )
        suite = context.suites.add(gx.ExpectationSuite(**suite_content))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite_content["name"], data=batch_definition, suite=suite)
        )
        result = definition.run(
            batch_parameters={"dataframe": frames[dataset]}, expectation_parameters=parameters or {}
        )
        reports.append(
            {
                "suite": suite_content["name"],
                "dataset": dataset,
                "success": bool(result.success),
                "results": [_summarise(r) for r in result.results],
            }
        )
    return {"success": all(r["success"] for r in reports), "suites": reports}


def failures(report: dict[str, Any]) -> list[str]:
    """One readable line per failed expectation."""
    lines = []
    for suite in report["suites"]:
        for result in suite["results"]:
            if not result["success"]:
                observed = {k: result[k] for k in ("observed_value", "unexpected_count") if k in result}
                what = result["description"] or f"{result['expectation']} {result['kwargs']}"
                lines.append(f"{suite['suite']}: {what} -> {observed}")
    return lines

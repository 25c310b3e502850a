"""Run Great Expectations suites (JSON files in ``expectations/``) on Spark or pandas DataFrames or PostgreSQL tables.

A suite file is GX 1.x's own suite format (name, expectations with ``type`` and
``kwargs``) plus ``meta.dataset``: the name of the DataFrame or table it
validates. Suites can hold SQL checks (``expect_query_to_return_no_rows``, the
project's one-query form of GX's ``unexpected_rows_expectation``: ``pipeline.gx_expectations``) that
refer to other datasets by name, and ``{"$PARAMETER": ...}`` values filled per run.

With a ``project_dir`` (the run folder) the results are kept in a GX file
context there, and its Data Docs (HTML) are rebuilt after every stage:
``<run folder>/gx/uncommitted/data_docs/local_site/index.html``.

Each suite first runs for its verdicts and counts only (``COUNTS_ONLY``); a suite that fails runs
once more for examples of its unexpected values, which the report, the log and the Data Docs show.

Output: a report (plain dict, JSON-ready) per suite and overall.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.run_folder import RunFolder

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# A file context writes its datasources' config to disk: it keeps this variable's name, and the
# connection string (with any password) stays in the context's runtime environment, in memory.
WAREHOUSE_URL_VARIABLE = "warehouse_sqlalchemy_url"


# Every expectation's verdict and counts (unexpected_count, element_count, observed_value), without the
# examples of unexpected values GX's default format (SUMMARY) also fetches: one more query per column
# expectation, which reads the whole batch when no value is unexpected (the usual case), while the
# counts of all the column expectations of a batch come from one aggregation.
COUNTS_ONLY = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
# GX's default: up to 20 examples of each failed column expectation's unexpected values.
WITH_EXAMPLES = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


class ValidationFailed(Exception):
    """Some expectation failed; the message lists every failed one."""


def load_suites(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Every ``*.json`` suite in ``folder``, sorted by file name."""
    paths = sorted(Path(folder).glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no expectation suites (*.json) in {folder}")
    suites = []
    for path in paths:
        suite = json.loads(path.read_text())
        if "dataset" not in suite.get("meta", {}):
            raise ValueError(f"{path}: meta.dataset must name the DataFrame or table the suite validates")
        suites.append(suite)
    return suites


def _context(project_dir: str | os.PathLike | None, runtime_environment: dict[str, str] | None = None):
    import great_expectations as gx
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.data_context.types.base import ProgressBarsConfig

    import pipeline.gx_expectations  # noqa: F401 (registers the project's expectation type for the suites)

    context: AbstractDataContext
    if project_dir is None:
        context = gx.get_context(mode="ephemeral", runtime_environment=runtime_environment)
    else:
        context = gx.get_context(
            mode="file", project_root_dir=str(project_dir), runtime_environment=runtime_environment
        )
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _asset(source, name: str, add: Callable):
    """The named data asset of a datasource, added when a file context does not hold it yet."""
    try:
        return source.get_asset(name)
    except LookupError:
        return add(name)


def _whole_batch(asset, add: Callable):
    """The asset's whole-table (or whole-DataFrame) batch definition, added when missing."""
    try:
        return asset.get_batch_definition("whole")
    except KeyError:
        return add("whole")


def _summarise(result) -> dict[str, Any]:
    config = result.expectation_config
    details = {
        k: result.result.get(k)
        for k in ("observed_value", "unexpected_count", "element_count", "partial_unexpected_list")
    }
    return {
        "expectation": config.type,
        "description": config.description,
        "kwargs": {k: v for k, v in config.kwargs.items() if k != "batch_id"},
        "success": bool(result.success),
        **{k: v for k, v in details.items() if v is not None},
    }


def _run_suites(context, suites, batch_for: Callable, parameters: dict | None, build_docs: bool) -> dict[str, Any]:
    """Validate each suite on the batch ``batch_for(suite)`` gives: (batch definition, batch parameters).

    Every suite runs with ``COUNTS_ONLY``; a suite that fails runs a second time with GX's default result
    format, so the report, the task's log and the Data Docs also show examples of what failed.
    """
    import great_expectations as gx

    reports = []
    for content in suites:
        batch_definition, batch_parameters = batch_for(content)
        suite = context.suites.add_or_update(gx.ExpectationSuite(**content))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=content["name"], data=batch_definition, suite=suite)
        )
        run = {"batch_parameters": batch_parameters, "expectation_parameters": parameters or {}}
        result = definition.run(**run, result_format=COUNTS_ONLY)
        if not result.success:
            result = definition.run(**run, result_format=WITH_EXAMPLES)
        reports.append(
            {
                "suite": content["name"],
                "dataset": content["meta"]["dataset"],
                "success": bool(result.success),
                "results": [_summarise(r) for r in result.results],
            }
        )
    if build_docs:
        context.build_data_docs()
    return {"success": all(r["success"] for r in reports), "suites": reports}


def _dataframe_batch(source, frames: dict[str, Any]) -> Callable:
    """``batch_for`` of ``_run_suites`` for DataFrames (Spark or pandas) of a dataframe datasource:
    each suite's whole-DataFrame batch of ``frames[suite.meta.dataset]``."""

    def batch_for(content):
        dataset = content["meta"]["dataset"]
        if dataset not in frames:
            raise KeyError(f"suite {content['name']!r} validates {dataset!r}, not one of {sorted(frames)}")
        asset = _asset(source, content["name"], source.add_dataframe_asset)
        return _whole_batch(asset, asset.add_batch_definition_whole_dataframe), {"dataframe": frames[dataset]}

    return batch_for


def validate_dataframes(
    suites: list[dict[str, Any]],
    frames: dict[str, Any],
    parameters: dict[str, Any] | None = None,
    project_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Validate each suite against ``frames[suite.meta.dataset]``; every frame is also a Spark temp view.

    Returns ``{"success": bool, "suites": [{"suite", "dataset", "success", "results": [...]}]}``.
    """
    for name, frame in frames.items():
        frame.createOrReplaceTempView(name)
    context = _context(project_dir)
    # GX caches each batch by default: a pass over the whole dataset, into the driver's memory, that the
    # suites' few queries did not win back (docs/performance.md, "Validation, third step").
    source = context.data_sources.add_or_update_spark("spark", persist=False)

    return _run_suites(context, suites, _dataframe_batch(source, frames), parameters, project_dir is not None)


def validate_pandas_frames(
    suites: list[dict[str, Any]],
    frames: dict[str, Any],
    parameters: dict[str, Any] | None = None,
    project_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Validate each suite against the pandas DataFrame ``frames[suite.meta.dataset]`` (small data a task
    holds in memory, such as the evaluation's figures). Returns the report ``validate_dataframes`` does."""
    context = _context(project_dir)
    source = context.data_sources.add_or_update_pandas("pandas")

    return _run_suites(context, suites, _dataframe_batch(source, frames), parameters, project_dir is not None)


def validate_postgres_tables(
    suites: list[dict[str, Any]],
    sqlalchemy_url: Any,
    parameters: dict[str, Any] | None = None,
    project_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Validate each suite against the table ``<suite.meta.dataset>`` of a PostgreSQL database.

    ``sqlalchemy_url`` (a string or SQLAlchemy URL) names the schema through its search path
    (``options=-c search_path=...``), as GX asks: a table asset's ``schema_name`` is deprecated.
    """
    url = sqlalchemy_url if isinstance(sqlalchemy_url, str) else sqlalchemy_url.render_as_string(hide_password=False)
    context = _context(project_dir, runtime_environment={WAREHOUSE_URL_VARIABLE: url})
    source = context.data_sources.add_or_update_postgres(
        "warehouse", connection_string="${" + WAREHOUSE_URL_VARIABLE + "}"
    )

    def batch_for(content):
        table = content["meta"]["dataset"]
        asset = _asset(source, content["name"], lambda name: source.add_table_asset(name, table_name=table))
        return _whole_batch(asset, asset.add_batch_definition_whole_table), None

    return _run_suites(context, suites, batch_for, parameters, build_docs=project_dir is not None)


def check_report(run: RunFolder, stage: str) -> dict[str, Any]:
    """The verdict on a stage that its own Spark job validated (``spark_jobs.validate.validate_stage``).

    Returns the report in brief; raises ``ValidationFailed`` listing every failed expectation, or when the
    job wrote no report (it removes the last one when it starts, so a report is always this attempt's).
    """
    from pipeline.run_history import validation_summary

    path = run.validation_file(stage)
    if not path.exists():
        raise ValidationFailed(
            f"no validation report {path}: the job that writes the {stage} outputs validates them "
            "(its --suites-dir) and did not"
        )
    report = json.loads(path.read_text())
    failed = failures(report)
    if failed:
        raise ValidationFailed(f"the {stage} outputs failed {len(failed)} expectation(s):\n" + "\n".join(failed))
    return validation_summary(report)


def failures(report: dict[str, Any]) -> list[str]:
    """One readable line per failed expectation."""
    lines = []
    for suite in report["suites"]:
        for result in suite["results"]:
            if not result["success"]:
                observed = {
                    k: result[k]
                    for k in ("observed_value", "unexpected_count", "partial_unexpected_list")
                    if result.get(k) not in (None, [])
                }
                what = result["description"] or f"{result['expectation']} {result['kwargs']}"
                lines.append(f"{suite['suite']}: {what} -> {observed}")
    return lines

"""The project's own Great Expectations expectation: a SQL check that runs its query once.

GX's ``unexpected_rows_expectation`` asks for two metrics of its query, the rows (at most 200, shown
only with result format COMPLETE) and their count, and each metric runs the whole query: a check
that groups or joins 31M rows costs two full computations. ``expect_query_to_return_no_rows`` is
the same check (it inherits the query's parsing, the ``{batch}`` substitution, the parameters and
the Data Docs rendering) with the count as its only metric: it succeeds exactly when the query
returns no row, and reports how many it returned. Subclassing ``UnexpectedRowsExpectation`` is how
GX documents custom SQL expectations.

Importing this module registers the type (GX registers expectation classes as they are defined):
``pipeline.validation`` imports it before it loads any suite.
"""

from __future__ import annotations

from typing import Any, ClassVar

import great_expectations as gx


class ExpectQueryToReturnNoRows(gx.expectations.UnexpectedRowsExpectation):
    """Expect ``unexpected_rows_query`` to return no row; the result's ``observed_value`` is how many
    it returned (the exact count, however many). Suites name it ``expect_query_to_return_no_rows``."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> Any:
        unexpected_rows = metrics["unexpected_rows_query.row_count"]
        return {"success": unexpected_rows == 0, "result": {"observed_value": unexpected_rows}}

"""The DAG's Spark jobs: ``SparkSubmitOperator`` that tells OpenLineage which datasets its job reads and writes.

Airflow's OpenLineage provider calls ``get_openlineage_facets_on_start`` when the task starts and
``get_openlineage_facets_on_complete`` (also on failure) when it ends; both name this run's paths
(``lineage.extractors.task_lineage``). Without a configured transport the provider never calls them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors.base import OperatorLineage


class SparkSubmitWithLineage(SparkSubmitOperator):
    """``SparkSubmitOperator`` whose OpenLineage events name its job's inputs and outputs in this run."""

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        from lineage.extractors import task_lineage

        return task_lineage(self.task_id)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        from lineage.extractors import task_lineage

        return task_lineage(self.task_id, task_instance)

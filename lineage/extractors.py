"""This run's datasets of a task, as Airflow's OpenLineage provider asks for them.

``task_lineage`` names a task's inputs and outputs (``lineage.datasets.TASKS``) for the DAG run being
executed: at the task's start from Airflow's current context, at its end from the task instance.
``SparkSubmitWithLineage`` (``lineage.spark``) calls it from the provider's operator methods; the ``@task``
tasks' operators are Airflow's own, so ``PythonTaskExtractor`` does it for them, as a custom extractor
registered by the setting ``[openlineage] extractors`` (``lineage.config``). The tables' names come from
the ``warehouse`` connection, looked up only for a task that reads or writes one.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.openlineage.extractors.base import BaseExtractor, OperatorLineage
from openlineage.client.event_v2 import Dataset

from lineage.datasets import DAG_ID, DatasetName, TaskRun, task_dataset_names, warehouse_of


def _dataset(name: DatasetName) -> Dataset:
    return Dataset(namespace=name.namespace, name=name.name)


def _warehouse():
    from warehouse.connection import airflow_dsn

    return warehouse_of(airflow_dsn())


def task_lineage(task_id: str, task_instance: Any = None) -> OperatorLineage:
    """The inputs and outputs of ``task_id`` in the DAG run of ``task_instance`` (None: the running task's)."""
    if task_instance is None:
        from airflow.sdk import get_current_context

        task_instance = get_current_context()["ti"]
    params = task_instance.get_template_context()["params"]
    run = TaskRun(task_instance.dag_id, task_instance.run_id, params["source_url"])
    inputs, outputs = task_dataset_names(task_id, run, _warehouse)
    return OperatorLineage(inputs=[_dataset(name) for name in inputs], outputs=[_dataset(name) for name in outputs])


class PythonTaskExtractor(BaseExtractor):
    """The datasets of the DAG's ``@task`` tasks; nothing for other DAGs' tasks."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        # The operators behind @task and @task.short_circuit.
        return ["_PythonDecoratedOperator", "_ShortCircuitDecoratedOperator"]

    def _execute_extraction(self) -> OperatorLineage:
        return self._lineage(None)

    def extract_on_complete(self, task_instance: Any) -> OperatorLineage:
        return self._lineage(task_instance)

    def _lineage(self, task_instance: Any) -> OperatorLineage:
        if self.operator.dag_id != DAG_ID:
            return OperatorLineage()
        return task_lineage(self.operator.task_id, task_instance)

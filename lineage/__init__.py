"""OpenLineage for the DAG: what each task reads and writes in a run, told to Airflow's OpenLineage provider.

Airflow-specific (an operator and an extractor the provider calls), beside ``alerts/``; the events go
wherever the provider's transport sends them: a file under the data directory unless configured otherwise.

- ``datasets``: the one table of each task's inputs and outputs, and their OpenLineage names (no Airflow);
- ``spark``: the DAG's ``SparkSubmitOperator``, which names its job's datasets;
- ``extractors``: the same for the ``@task`` tasks, a custom extractor of the provider;
- ``config``: the provider's settings every environment of this project starts Airflow with.
"""

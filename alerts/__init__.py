"""Alerts for the people who run the DAG: e-mail on a failed task and on a missed publish deadline.

Airflow-specific (notifiers and callbacks the DAG file wires in); off until the ``alerts_smtp``
connection is configured.
"""

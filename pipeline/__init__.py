"""What the Airflow tasks call: settings, the run folder, download, validation runner, publish, run history.

No Airflow import here: the DAG file wires these functions into tasks.
"""

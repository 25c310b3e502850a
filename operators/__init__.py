"""The DAG's own Airflow operators."""

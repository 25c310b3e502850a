"""Developer tools: the local runner (`make demo`, `make run`), local Airflow, sample data, Data Docs.

Nothing in the pipeline imports these; they drive it from the command line.
"""

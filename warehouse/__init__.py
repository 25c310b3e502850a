"""The PostgreSQL warehouse: connecting to it, the embedded server for demos and tests, versions and rollback.

Nothing here knows about Airflow tasks or run folders: ``pipeline.publish`` loads a
run into the warehouse, ``warehouse.versions`` moves versions between schemas.
"""

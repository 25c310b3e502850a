-- Forget a version that a re-run of its DAG run replaces.
delete from music.runs where run_id = %(run_id)s

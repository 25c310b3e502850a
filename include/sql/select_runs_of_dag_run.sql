-- Earlier publishes of the same DAG run (a re-run replaces them).
select run_id, status
from music.runs
where dag_run_id = %(dag_run_id)s

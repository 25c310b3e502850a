-- Versions in a given status, newest first.
select run_id, dag_run_id, published_at
from music.runs
where status = %(status)s
order by run_id desc

-- Every published version, newest first: what `make versions` lists.
select
    run_id,
    status,
    dag_run_id,
    published_at,
    songs,
    pairs_published
from music.runs
order by run_id desc

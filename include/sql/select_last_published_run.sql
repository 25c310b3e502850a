-- The run whose tables are live: the newest published one.
select
    run_id,
    dag_run_id,
    source_url,
    source_fingerprint,
    params,
    published_at
from music.runs
order by published_at desc, run_id desc
limit 1

-- The version whose tables are live.
select
    run_id,
    dag_run_id,
    source_url,
    source_fingerprint,
    params,
    stage_seconds,
    songs,
    pairs_published,
    published_at
from music.runs
where status = 'live'

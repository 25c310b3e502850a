-- Record the version being published as the live one.
insert into music.runs (
    dag_run_id, status, source_url, source_fingerprint, params, rows_read, rows_accepted, rows_rejected,
    rows_rejected_by_reason, songs, candidate_pairs, pairs_published, stage_seconds, validation, metrics
)
values (
    %(dag_run_id)s, 'live', %(source_url)s, %(source_fingerprint)s, %(params)s, %(rows_read)s, %(rows_accepted)s,
    %(rows_rejected)s, %(rows_rejected_by_reason)s, %(songs)s, %(candidate_pairs)s, %(pairs_published)s,
    %(stage_seconds)s, %(validation)s, %(metrics)s
)
returning run_id

-- Record the run being published (inside the publishing transaction).
insert into music.runs (dag_run_id, source_url, source_fingerprint, params, metrics)
values (%(dag_run_id)s, %(source_url)s, %(source_fingerprint)s, %(params)s, %(metrics)s)
returning run_id

-- The run history: one row per published version (idempotent).

create table if not exists music.runs (
    run_id bigint generated always as identity primary key,
    dag_run_id text not null,
    status text not null check (status in ('live', 'archived', 'rolled_back', 'expired')),
    source_url text not null,
    source_fingerprint jsonb,
    params jsonb not null,
    rows_read bigint,
    rows_accepted bigint,
    rows_rejected bigint,
    rows_rejected_by_reason jsonb,
    songs bigint,
    candidate_pairs bigint,
    pairs_published bigint,
    stage_seconds jsonb,
    validation jsonb,
    metrics jsonb not null,
    published_at timestamptz not null default now(),
    status_changed_at timestamptz not null default now()
);
create unique index if not exists runs_one_live_idx on music.runs (status) where status = 'live';

comment on table music.runs is
    'One row per published run of spotify_recommendations. status: live (the tables in music), archived (kept in music_history for rollback), rolled_back, expired (tables dropped by retention).';
comment on column music.runs.dag_run_id is 'The Airflow DAG run that produced this version.';
comment on column music.runs.source_fingerprint is 'What identified the source content: Zenodo md5, HTTP validators or a file hash.';
comment on column music.runs.params is 'The params that shape the result: min_playlists, num_perm, bands, rows_per_band, max_bucket, exact_work, top_k.';
comment on column music.runs.rows_rejected_by_reason is 'Rejected input lines by reason (malformed_line, blank_artist, ...).';
comment on column music.runs.candidate_pairs is 'Song pairs the LSH banding proposed and the exact scoring examined.';
comment on column music.runs.pairs_published is 'Rows of music.recommendations in this version.';
comment on column music.runs.stage_seconds is 'Wall time of each stage, in seconds.';
comment on column music.runs.validation is 'Great Expectations results per stage: expectations checked and failed.';

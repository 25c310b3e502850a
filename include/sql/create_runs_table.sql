-- One row per published run: where its data came from, with which params, and
-- its stages' figures. The newest row describes the live tables. Idempotent.
create table if not exists music.runs (
    run_id bigint generated always as identity primary key,
    dag_run_id text not null,
    source_url text not null,
    source_fingerprint jsonb,
    params jsonb not null,
    metrics jsonb not null,
    published_at timestamptz not null default now()
);

comment on table music.runs is 'One row per published run of spotify_recommendations; the newest describes the live tables.';

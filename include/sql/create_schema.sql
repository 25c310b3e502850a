-- The warehouse's schemas, helpers, run history and read-only role. Idempotent;
-- runs at the start of every publish and rollback.
--   music          what analysts query: live tables, views, the run history
--   music_staging  a run's tables while they are loaded and validated
--   music_history  earlier versions, kept for rollback (see music.runs.status)
create schema if not exists music;
create schema if not exists music_staging;
create schema if not exists music_history;

-- unaccent and pg_trgm are trusted extensions: a database owner can create them.
create extension if not exists unaccent with schema music;
create extension if not exists pg_trgm with schema music;

-- Names folded for matching: lower case, accents removed ('Björk' -> 'bjork').
-- Immutable (its search_path is fixed, and the body is resolved with it at call time,
-- wherever the extension was installed), so indexes can use it.
create or replace function music.fold_name(name text) returns text
    language sql immutable parallel safe strict
    set search_path = music, public
    as $$ select lower(unaccent('unaccent'::regdictionary, name)) $$;

-- Rename a table's indexes (and so its key constraints) from one prefix to another,
-- so versions of a table can sit side by side in music_history.
create or replace function music.rename_table_indexes(target regclass, old_prefix text, new_prefix text)
    returns void language plpgsql as $$
declare
    index_schema text;
    index_name text;
begin
    for index_schema, index_name in
        select index_namespace.nspname, index_class.relname
        from pg_index
        inner join pg_class as index_class on pg_index.indexrelid = index_class.oid
        inner join pg_namespace as index_namespace on index_class.relnamespace = index_namespace.oid
        where pg_index.indrelid = target and starts_with(index_class.relname, old_prefix)
    loop
        execute format('alter index %I.%I rename to %I', index_schema, index_name,
                       new_prefix || substr(index_name, length(old_prefix) + 1));
    end loop;
end $$;

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
comment on column music.runs.params is 'The params that shape the result: min_playlists, num_perm, bands, rows_per_band, top_k.';
comment on column music.runs.rows_rejected_by_reason is 'Rejected input lines by reason (malformed_line, blank_artist, ...).';
comment on column music.runs.candidate_pairs is 'Song pairs the LSH banding proposed and the exact scoring examined.';
comment on column music.runs.pairs_published is 'Rows of music.recommendations in this version.';
comment on column music.runs.stage_seconds is 'Wall time of each stage, in seconds.';
comment on column music.runs.validation is 'Great Expectations results per stage: expectations checked and failed.';

-- The analysts' read-only role: SELECT on music, nothing else (grants renewed by every publish).
do $$
begin
    if not exists (select from pg_roles where rolname = 'music_reader') then
        create role music_reader login;
    end if;
end $$;

-- The warehouse's schemas and the extensions its helpers use. Idempotent;
-- runs at the start of every stage, publish and rollback (with the other create_* files: warehouse.sql_files.create_warehouse_schema).
--   music          what analysts query: live tables, views, the run history
--   music_staging  a run's tables while they are loaded and validated
--   music_history  earlier versions, kept for rollback (see music.runs.status)
create schema if not exists music;
create schema if not exists music_staging;
create schema if not exists music_history;

-- unaccent and pg_trgm are trusted extensions: a database owner can create them.
create extension if not exists unaccent with schema music;
create extension if not exists pg_trgm with schema music;

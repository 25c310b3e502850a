-- The schema analysts query. Idempotent.
create schema if not exists music;

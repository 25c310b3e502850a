-- The schema analysts query, and what name lookups need. Idempotent.
create schema if not exists music;

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

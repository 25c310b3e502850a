-- Helper functions in schema music (idempotent).

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

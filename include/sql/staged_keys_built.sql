-- Whether stage built the staged tables' keys (add_staging_constraints.sql runs in one
-- transaction, so both primary keys exist exactly when all of it did).
select count(*) = 2 as keys_built
from pg_catalog.pg_constraint
where conrelid in ('music_staging.tracks'::regclass, 'music_staging.recommendations'::regclass)
    and contype = 'p';

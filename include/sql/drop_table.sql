-- Drop a version's table, with what depends on it (identifiers filled in by psycopg2.sql).
drop table if exists {schema}.{name} cascade

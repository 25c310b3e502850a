-- Rename a table within its schema (identifiers filled in by psycopg2.sql).
alter table {schema}.{name} rename to {new_name}

-- Move a table to another schema: {schema}.{name} -> {new_schema}.{name} (identifiers filled in by psycopg2.sql).
alter table {schema}.{name} set schema {new_schema}

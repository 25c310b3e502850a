-- A new database (identifier filled in by psycopg2.sql).
create database {name}

-- Whether a database of this name exists on the server.
select exists (select from pg_database where datname = %(name)s) as database_exists

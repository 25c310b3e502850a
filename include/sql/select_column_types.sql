-- The type of each column of a table, as PostgreSQL names it ("bigint", "double precision"): publishing
-- copies a table whose columns are all fixed-width numbers in the binary format.
select
    attname as column_name,
    format_type(atttypid, atttypmod) as column_type
from pg_attribute
where attrelid = %(table)s::regclass
    and attnum > 0
    and not attisdropped;

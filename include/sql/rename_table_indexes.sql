-- Rename a table's indexes (and so its keys) from one prefix to another (music.rename_table_indexes).
select music.rename_table_indexes(%(table)s::regclass, %(old_prefix)s, %(new_prefix)s)

-- Whether the run history exists yet (it does not before the first publish).
select to_regclass('music.runs') is not null as runs_table_exists

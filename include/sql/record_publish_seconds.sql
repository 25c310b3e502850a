-- The publish's own wall time, from the start of its transaction to this last statement before the commit.
update music.runs
set stage_seconds = coalesce(stage_seconds, '{}'::jsonb)
    || jsonb_build_object('publish', round(extract(epoch from clock_timestamp() - now())::numeric, 3))
where run_id = %(run_id)s

-- Move a version to another status.
update music.runs
set status = %(status)s, status_changed_at = now()
where run_id = %(run_id)s

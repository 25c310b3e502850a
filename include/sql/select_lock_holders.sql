-- Sessions holding locks on the published tables (what a swap that timed out waited for).
select distinct
    activity.pid,
    activity.usename as user_name,
    activity.application_name,
    activity.client_addr,
    activity.state,
    activity.xact_start as transaction_started_at,
    left(activity.query, 200) as last_query
from pg_locks as locks
inner join pg_stat_activity as activity
    on locks.pid = activity.pid
inner join pg_class as relations
    on locks.relation = relations.oid
where
    locks.granted
    and relations.relnamespace = 'music'::regnamespace
    and activity.pid <> pg_backend_pid()
order by activity.pid

-- View music.previous_recommendations: recreated by every publish and rollback (warehouse.versions.finish_swap).
-- {previous_recommendations} is the previous version's table in music_history
-- (the live table filtered to nothing when there is none), filled in by psycopg2.sql.

create or replace view music.previous_recommendations as
select
    track_id,
    recommended_track_id,
    rank,
    similarity,
    shared_playlists
from {previous_recommendations};

comment on view music.previous_recommendations is
    'The recommendations of the version published before the live one (empty when there is none), to compare runs.';

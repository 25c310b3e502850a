-- How recommendations changed between the previous published version and the live one:
-- per song, recommendations kept, added and dropped (music.previous_recommendations).
with live as (
    select track_id, recommended_track_id from music.recommendations
),

previous as (
    select track_id, recommended_track_id from music.previous_recommendations
),

compared as (
    select
        coalesce(live.track_id, previous.track_id) as track_id,
        live.recommended_track_id is not null and previous.recommended_track_id is not null as is_kept,
        previous.recommended_track_id is null as is_added,
        live.recommended_track_id is null as is_dropped
    from live
    full outer join previous
        on
            live.track_id = previous.track_id
            and live.recommended_track_id = previous.recommended_track_id
)

select
    count(distinct track_id) as songs,
    count(*) filter (where is_kept) as recommendations_kept,
    count(*) filter (where is_added) as recommendations_added,
    count(*) filter (where is_dropped) as recommendations_dropped
from compared;

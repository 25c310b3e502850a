-- A song with recommendations, picked at random: the first at or after a random
-- id (ids are 64-bit hashes, spread evenly), through the primary key index.
select
    tracks.track_id,
    tracks.artist,
    tracks.track,
    tracks.playlist_count
from music.tracks as tracks
where
    tracks.track_id >= %(start)s
    and exists (
        select 1 from music.recommendations as recommendations
        where recommendations.track_id = tracks.track_id
    )
order by tracks.track_id
limit 1

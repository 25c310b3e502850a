-- One song by its id.
select
    track_id,
    artist,
    track,
    playlist_count
from music.tracks
where track_id = %(track_id)s

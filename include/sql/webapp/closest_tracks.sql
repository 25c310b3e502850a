-- Songs whose names look most like what was asked for (trigram similarity),
-- for the "did you mean" list of a song that was not found.
with asked as (
    select music.fold_name(%(query)s) as folded
)

select
    tracks.track_id,
    tracks.artist,
    tracks.track,
    tracks.playlist_count
from music.tracks as tracks
cross join asked
where music.fold_name(tracks.artist || ' ' || tracks.track) operator(music.%%) asked.folded
order by
    music.similarity(music.fold_name(tracks.artist || ' ' || tracks.track), asked.folded) desc,
    tracks.playlist_count desc,
    tracks.track_id
limit %(limit)s

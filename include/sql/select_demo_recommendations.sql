-- The demo's printout: the first %(per_song)s recommendations of the %(songs)s songs in most playlists.
with most_listed as (
    select track_id
    from music.tracks
    order by playlist_count desc, track_id
    limit %(songs)s
)

select
    artist,
    track,
    rank,
    recommended_artist,
    recommended_track,
    similarity,
    shared_playlists
from music.recommendations_named
where
    track_id in (select track_id from most_listed)
    and rank <= %(per_song)s
order by artist, track, rank

-- A song's recommendations by name, whatever the case and accents of what you type.
-- Change the two names in `asked`.
with asked as (
    select
        music.fold_name('bjork') as artist_folded,
        music.fold_name('JOGA') as track_folded
),

song as (
    select track_lookup.track_id
    from music.track_lookup as track_lookup
    inner join asked
        on
            track_lookup.artist_folded = asked.artist_folded
            and track_lookup.track_folded = asked.track_folded
    order by track_lookup.playlist_count desc
    limit 1
)

select
    recommendations_named.rank,
    recommendations_named.recommended_artist,
    recommendations_named.recommended_track,
    round(recommendations_named.similarity::numeric, 3) as similarity,
    recommendations_named.shared_playlists
from music.recommendations_named as recommendations_named
inner join song
    on recommendations_named.track_id = song.track_id
order by recommendations_named.rank
limit 10;

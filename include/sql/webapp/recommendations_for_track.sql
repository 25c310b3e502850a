-- A song's recommendations, best first; songs by the same artist only when asked for.
select
    recommendations.rank,
    recommended.track_id,
    recommended.artist,
    recommended.track,
    recommended.playlist_count,
    recommendations.similarity,
    recommendations.shared_playlists
from music.recommendations as recommendations
inner join music.tracks as recommended
    on recommendations.recommended_track_id = recommended.track_id
inner join music.tracks as source
    on recommendations.track_id = source.track_id
where
    recommendations.track_id = %(track_id)s
    and (%(include_same_artist)s or music.fold_name(recommended.artist) <> music.fold_name(source.artist))
order by recommendations.rank
limit %(limit)s

-- The most similar pairs of songs by different artists: cross-over discoveries.
select
    artist,
    track,
    recommended_artist,
    recommended_track,
    round(similarity::numeric, 3) as similarity,
    shared_playlists
from music.recommendations_named
where
    music.fold_name(artist) <> music.fold_name(recommended_artist)
    and track_id < recommended_track_id  -- each pair once
order by similarity desc, shared_playlists desc
limit 20;

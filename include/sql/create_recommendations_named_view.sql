-- Recommendations with names: what an analyst usually wants to read.
create view music.recommendations_named as

with recommendations as (
    select * from music.recommendations
),

tracks as (
    select * from music.tracks
)

select
    source_tracks.artist,
    source_tracks.track,
    recommendations.rank,
    recommended_tracks.artist as recommended_artist,
    recommended_tracks.track as recommended_track,
    recommendations.similarity,
    recommendations.shared_playlists,
    recommendations.track_id,
    recommendations.recommended_track_id
from recommendations
inner join tracks as source_tracks
    on recommendations.track_id = source_tracks.track_id
inner join tracks as recommended_tracks
    on recommendations.recommended_track_id = recommended_tracks.track_id;

comment on view music.recommendations_named is
    'People who put this song in their playlists also put these: each song''s most similar songs by name, best first.';

-- View music.recommendations_named: recreated by every publish and rollback (warehouse.versions.finish_swap).

create or replace view music.recommendations_named as
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
comment on column music.recommendations_named.artist is 'The song''s artist, in its most frequent spelling.';
comment on column music.recommendations_named.track is 'The song''s name, in its most frequent spelling.';
comment on column music.recommendations_named.rank is '1 = the most similar song.';
comment on column music.recommendations_named.recommended_artist is 'The recommended song''s artist.';
comment on column music.recommendations_named.recommended_track is 'The recommended song''s name.';
comment on column music.recommendations_named.similarity is
    'Jaccard similarity of the two songs'' playlist sets: shared playlists / playlists holding either, in (0, 1].';
comment on column music.recommendations_named.shared_playlists is 'Playlists holding both songs.';
comment on column music.recommendations_named.track_id is 'Key of the song in music.tracks.';
comment on column music.recommendations_named.recommended_track_id is 'Key of the recommended song in music.tracks.';

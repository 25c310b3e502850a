-- The analysts' views over the live tables, recreated by every publish and rollback.
-- {previous_recommendations} is the previous version's table in music_history
-- (the live table filtered to nothing when there is none).

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

create or replace view music.track_lookup as
select
    track_id,
    artist,
    track,
    playlist_count,
    music.fold_name(artist) as artist_folded,
    music.fold_name(track) as track_folded
from music.tracks;

comment on view music.track_lookup is
    'Songs found by name whatever the case and accents: where artist_folded = music.fold_name(''Bjork'') and track_folded = music.fold_name(''joga''). Indexed (tracks_name_idx).';
comment on column music.track_lookup.track_id is 'Key of the song in music.tracks.';
comment on column music.track_lookup.artist is 'The artist, in the song''s most frequent spelling.';
comment on column music.track_lookup.track is 'The song''s name, in its most frequent spelling.';
comment on column music.track_lookup.playlist_count is 'Distinct playlists (user, playlist name) holding the song.';
comment on column music.track_lookup.artist_folded is 'The artist in lower case without accents: compare with music.fold_name(...).';
comment on column music.track_lookup.track_folded is 'The song''s name in lower case without accents: compare with music.fold_name(...).';

create or replace view music.most_recommended_tracks as
with recommended as (
    select
        recommended_track_id as track_id,
        count(*) as times_recommended,
        avg(rank) as average_rank,
        avg(similarity) as average_similarity
    from music.recommendations
    group by recommended_track_id
)

select
    tracks.track_id,
    tracks.artist,
    tracks.track,
    tracks.playlist_count,
    recommended.times_recommended,
    recommended.average_rank,
    recommended.average_similarity
from recommended
inner join music.tracks as tracks
    on recommended.track_id = tracks.track_id;

comment on view music.most_recommended_tracks is
    'How often each song appears in other songs'' recommendations; order by times_recommended desc for the most recommended.';
comment on column music.most_recommended_tracks.track_id is 'Key of the song in music.tracks.';
comment on column music.most_recommended_tracks.artist is 'The song''s artist.';
comment on column music.most_recommended_tracks.track is 'The song''s name.';
comment on column music.most_recommended_tracks.playlist_count is 'Distinct playlists holding the song.';
comment on column music.most_recommended_tracks.times_recommended is 'Songs whose recommendations include this one.';
comment on column music.most_recommended_tracks.average_rank is 'Its average rank in those recommendations (1 = best).';
comment on column music.most_recommended_tracks.average_similarity is 'Its average Jaccard similarity to those songs.';

create or replace view music.artist_similarity as
with pairs as (
    select
        source_tracks.artist,
        recommended_tracks.artist as similar_artist,
        recommendations.similarity,
        recommendations.shared_playlists
    from music.recommendations as recommendations
    inner join music.tracks as source_tracks
        on recommendations.track_id = source_tracks.track_id
    inner join music.tracks as recommended_tracks
        on recommendations.recommended_track_id = recommended_tracks.track_id
    where music.fold_name(source_tracks.artist) <> music.fold_name(recommended_tracks.artist)
)

select
    artist,
    similar_artist,
    count(*) as song_pairs,
    avg(similarity) as average_similarity,
    sum(shared_playlists) as shared_playlists
from pairs
group by artist, similar_artist;

comment on view music.artist_similarity is
    'Artist-to-artist similarity aggregated from song recommendations between different artists.';
comment on column music.artist_similarity.artist is 'An artist (as spelled on its songs).';
comment on column music.artist_similarity.similar_artist is 'An artist whose songs are recommended for the first artist''s songs.';
comment on column music.artist_similarity.song_pairs is 'Recommendations from a song of artist to a song of similar_artist.';
comment on column music.artist_similarity.average_similarity is 'Average Jaccard similarity of those song pairs.';
comment on column music.artist_similarity.shared_playlists is 'Playlists shared by those song pairs, summed.';

create or replace view music.previous_recommendations as
select
    track_id,
    recommended_track_id,
    rank,
    similarity,
    shared_playlists
from {previous_recommendations};

comment on view music.previous_recommendations is
    'The recommendations of the version published before the live one (empty when there is none), to compare runs.';

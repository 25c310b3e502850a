-- View music.most_recommended_tracks: recreated by every publish and rollback (warehouse.versions.finish_swap).

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

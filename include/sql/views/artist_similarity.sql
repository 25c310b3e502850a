-- View music.artist_similarity: recreated by every publish and rollback (warehouse.versions.finish_swap).

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

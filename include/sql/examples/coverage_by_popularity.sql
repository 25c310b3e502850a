-- How well songs of each popularity band are served: how many have
-- recommendations, how many, and how similar the best one is.
with bands as (
    select
        tracks.track_id,
        case
            when tracks.playlist_count < 5 then '1: 2-4 playlists'
            when tracks.playlist_count < 20 then '2: 5-19 playlists'
            when tracks.playlist_count < 100 then '3: 20-99 playlists'
            else '4: 100+ playlists'
        end as popularity_band
    from music.tracks as tracks
),

per_song as (
    select
        bands.popularity_band,
        count(recommendations.rank) as recommendations,
        max(recommendations.similarity) as best_similarity
    from bands
    left join music.recommendations as recommendations
        on bands.track_id = recommendations.track_id
    group by bands.track_id, bands.popularity_band
)

select
    popularity_band,
    count(*) as songs,
    round(avg((recommendations > 0)::int)::numeric, 3) as share_with_recommendations,
    round(avg(recommendations)::numeric, 1) as average_recommendations,
    round(avg(best_similarity)::numeric, 3) as average_best_similarity
from per_song
group by popularity_band
order by popularity_band;

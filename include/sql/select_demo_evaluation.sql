-- The demo's quality table: the live version's overall figures (every seed category together), ours first,
-- then the baselines; no row when the live version was not evaluated (holdout_fraction 0).
select
    method,
    holdout_fraction,
    cases,
    r_precision,
    ndcg,
    recall_10,
    recall_500,
    clicks,
    hit_rate,
    coverage,
    popularity_ratio,
    own_artist_share
from music.evaluation_latest
where seed_category = 'all'
order by
    case method
        when 'published' then 1
        when 'most_popular' then 2
        else 3
    end,
    method

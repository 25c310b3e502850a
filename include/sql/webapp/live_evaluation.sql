-- The live version's offline evaluation, every seed category together: ours first, then the baselines.
-- No row when it was not evaluated (published with holdout_fraction 0, or before evaluations were recorded).
select
    method,
    cases,
    r_precision,
    ndcg,
    run_id,
    published_at,
    holdout_fraction
from music.evaluation_latest
where seed_category = 'all'
order by
    case method
        when 'published' then 1
        when 'most_popular' then 2
        else 3
    end,
    method

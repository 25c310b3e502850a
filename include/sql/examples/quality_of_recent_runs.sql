-- How good the last evaluated versions were, newest first: the published recommendations' R-precision and
-- NDCG over every held-out case (seed category 'all', see music.evaluation), the two baselines' on the same
-- split beside them, and how far the published figures moved since the evaluated version before.
-- Versions published with holdout_fraction 0 have no evaluation and are left out (the change then compares
-- with the evaluated one before them). Figures of runs with another holdout_fraction or source are
-- measured on other playlists: compare those with care. Change the limit to see more.
with overall as (
    select
        run_id,
        method,
        cases,
        r_precision,
        ndcg
    from music.evaluation
    where seed_category = 'all'
),

per_run as (
    select
        runs.run_id,
        runs.status,
        runs.published_at,
        (runs.params ->> 'holdout_fraction')::double precision as holdout_fraction,
        max(overall.cases) filter (where overall.method = 'published') as cases,
        max(overall.r_precision) filter (where overall.method = 'published') as r_precision,
        max(overall.ndcg) filter (where overall.method = 'published') as ndcg,
        max(overall.r_precision) filter (where overall.method = 'most_popular') as most_popular_r_precision,
        max(overall.ndcg) filter (where overall.method = 'most_popular') as most_popular_ndcg,
        max(overall.r_precision) filter (where overall.method = 'cosine_knn') as cosine_knn_r_precision,
        max(overall.ndcg) filter (where overall.method = 'cosine_knn') as cosine_knn_ndcg
    from music.runs as runs
    inner join overall
        on runs.run_id = overall.run_id
    group by runs.run_id  -- one row per run (its other columns follow from the key)
),

compared as (
    select
        per_run.*,
        per_run.r_precision - lag(per_run.r_precision) over (order by per_run.run_id) as r_precision_change,
        per_run.ndcg - lag(per_run.ndcg) over (order by per_run.run_id) as ndcg_change
    from per_run
)

select
    run_id,
    status,
    published_at,
    holdout_fraction,
    cases,
    round(r_precision::numeric, 4) as r_precision,
    round(r_precision_change::numeric, 4) as r_precision_change,
    round(ndcg::numeric, 4) as ndcg,
    round(ndcg_change::numeric, 4) as ndcg_change,
    round(most_popular_r_precision::numeric, 4) as most_popular_r_precision,
    round(most_popular_ndcg::numeric, 4) as most_popular_ndcg,
    round(cosine_knn_r_precision::numeric, 4) as cosine_knn_r_precision,
    round(cosine_knn_ndcg::numeric, 4) as cosine_knn_ndcg
from compared
order by run_id desc
limit 10;

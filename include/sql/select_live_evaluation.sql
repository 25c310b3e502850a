-- The live version's overall evaluation of its published recommendations, and what it was evaluated on.
select
    runs.run_id,
    runs.dag_run_id,
    runs.source_fingerprint,
    (runs.params ->> 'holdout_fraction')::double precision as holdout_fraction,
    (runs.params ->> 'holdout_max_playlists')::integer as holdout_max_playlists,
    evaluation.cases,
    evaluation.ndcg,
    evaluation.r_precision
from music.runs
inner join music.evaluation
    on runs.run_id = evaluation.run_id
where
    runs.status = 'live'
    and evaluation.method = 'published'
    and evaluation.seed_category = 'all'

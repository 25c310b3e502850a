-- View music.evaluation_latest: recreated by every publish and rollback (warehouse.versions.finish_swap).

create or replace view music.evaluation_latest as
select
    evaluation.run_id,
    evaluation.method,
    evaluation.seed_category,
    evaluation.cases,
    evaluation.r_precision,
    evaluation.ndcg,
    evaluation.recall_10,
    evaluation.recall_100,
    evaluation.recall_500,
    evaluation.clicks,
    evaluation.hit_rate,
    evaluation.coverage,
    evaluation.popularity_ratio,
    evaluation.own_artist_share,
    runs.dag_run_id,
    runs.published_at,
    (runs.params ->> 'holdout_fraction')::double precision as holdout_fraction
from music.evaluation
inner join music.runs
    on evaluation.run_id = runs.run_id
where runs.status = 'live';

comment on view music.evaluation_latest is
    'The offline evaluation of the live version (music.evaluation of the run whose status is live), beside its baselines.';
comment on column music.evaluation_latest.run_id is 'The version evaluated: music.runs.run_id.';
comment on column music.evaluation_latest.method is
    'published: item-kNN summing the published Jaccard similarities (music.recommendations); most_popular: the songs in most training playlists; cosine_knn: exact item-kNN by cosine similarity of the playlist sets, with as many neighbours per song as published (params.top_k). Both item-kNN lists are filled up to 500 songs with the most popular ones not yet listed.';
comment on column music.evaluation_latest.seed_category is
    'How many of a held-out playlist''s first songs were shown: 1, 5, 10 or 25 (a playlist counts in every category it is longer than); all: every case.';
comment on column music.evaluation_latest.cases is 'Held-out (playlist, seed category) pairs evaluated.';
comment on column music.evaluation_latest.r_precision is
    'Mean share of the hidden songs found in the first |hidden| recommendations.';
comment on column music.evaluation_latest.ndcg is 'Mean NDCG@500 (binary relevance, discount 1/log2(rank + 1)).';
comment on column music.evaluation_latest.recall_10 is
    'Mean share of the hidden songs found in the first 10 recommendations.';
comment on column music.evaluation_latest.recall_100 is
    'Mean share of the hidden songs found in the first 100 recommendations.';
comment on column music.evaluation_latest.recall_500 is
    'Mean share of the hidden songs found in the first 500 recommendations.';
comment on column music.evaluation_latest.clicks is
    'Mean refreshes of 10 songs before the first hidden song shows up (51 when none is in the 500): lower is better.';
comment on column music.evaluation_latest.hit_rate is
    'Share of cases with a hidden song in the first 10 recommendations.';
comment on column music.evaluation_latest.coverage is
    'Share of the training catalogue found in at least one case''s first 10 (grows with the number of cases).';
comment on column music.evaluation_latest.popularity_ratio is
    'Median over cases of (median playlist count of the first 10) / (median playlist count of the seeds): above 1, more popular than the seeds.';
comment on column music.evaluation_latest.own_artist_share is
    'Share of first-10 recommendations by an artist of the case''s seed songs.';
comment on column music.evaluation_latest.dag_run_id is 'The Airflow DAG run that produced the live version.';
comment on column music.evaluation_latest.published_at is 'When the live version was published.';
comment on column music.evaluation_latest.holdout_fraction is 'Share of playlists held out for the evaluation (params.holdout_fraction).';

-- The offline evaluation of each published version: one row per run, method and seed category (idempotent).

create table if not exists music.evaluation (
    run_id bigint not null references music.runs (run_id) on delete cascade,
    method text not null check (method in ('published', 'most_popular', 'cosine_knn')),
    seed_category text not null check (seed_category in ('1', '5', '10', '25', 'all')),
    cases integer not null check (cases >= 0),
    r_precision double precision,
    ndcg double precision,
    recall_10 double precision,
    recall_100 double precision,
    recall_500 double precision,
    clicks double precision,
    hit_rate double precision,
    coverage double precision,
    popularity_ratio double precision,
    own_artist_share double precision,
    primary key (run_id, method, seed_category)
);

comment on table music.evaluation is
    'How good each published version''s recommendations are: playlist continuation (RecSys Challenge 2018 style) on the run''s held-out playlists (params.holdout_fraction, chosen by a hash of the playlist id), beside two baselines on the same split. The published tables are computed without the held-out playlists. Accuracy figures are means over the cases; NULL where a category has no case.';
comment on column music.evaluation.run_id is 'The version evaluated: music.runs.run_id.';
comment on column music.evaluation.method is
    'published: item-kNN summing the published Jaccard similarities (music.recommendations); most_popular: the songs in most training playlists; cosine_knn: exact item-kNN by cosine similarity of the playlist sets, with as many neighbours per song as published (params.top_k). Both item-kNN lists are filled up to 500 songs with the most popular ones not yet listed.';
comment on column music.evaluation.seed_category is
    'How many of a held-out playlist''s first songs were shown: 1, 5, 10 or 25 (a playlist counts in every category it is longer than); all: every case.';
comment on column music.evaluation.cases is 'Held-out (playlist, seed category) pairs evaluated.';
comment on column music.evaluation.r_precision is 'Mean share of the hidden songs found in the first |hidden| recommendations.';
comment on column music.evaluation.ndcg is 'Mean NDCG@500 (binary relevance, discount 1/log2(rank + 1)).';
comment on column music.evaluation.recall_10 is 'Mean share of the hidden songs found in the first 10 recommendations.';
comment on column music.evaluation.recall_100 is 'Mean share of the hidden songs found in the first 100 recommendations.';
comment on column music.evaluation.recall_500 is 'Mean share of the hidden songs found in the first 500 recommendations.';
comment on column music.evaluation.clicks is
    'Mean refreshes of 10 songs before the first hidden song shows up (51 when none is in the 500): lower is better.';
comment on column music.evaluation.hit_rate is 'Share of cases with a hidden song in the first 10 recommendations.';
comment on column music.evaluation.coverage is
    'Share of the training catalogue found in at least one case''s first 10 (grows with the number of cases).';
comment on column music.evaluation.popularity_ratio is
    'Median over cases of (median playlist count of the first 10) / (median playlist count of the seeds): above 1, more popular than the seeds.';
comment on column music.evaluation.own_artist_share is 'Share of first-10 recommendations by an artist of the case''s seed songs.';

-- One row of the published version's offline evaluation (one method, one seed category).
insert into music.evaluation (
    run_id, method, seed_category, cases, r_precision, ndcg, recall_10, recall_100, recall_500, clicks, hit_rate,
    coverage, popularity_ratio, own_artist_share
)
values (
    %(run_id)s, %(method)s, %(seed_category)s, %(cases)s, %(r_precision)s, %(ndcg)s, %(recall_10)s, %(recall_100)s,
    %(recall_500)s, %(clicks)s, %(hit_rate)s, %(coverage)s, %(popularity_ratio)s, %(own_artist_share)s
)

-- Replace the live tables by the staging tables. Runs in the same transaction
-- as the load: readers see the old tables until commit, then the new ones.
drop view if exists music.recommendations_named;
drop table if exists music.recommendations;
drop table if exists music.tracks;

alter table music.tracks_staging rename to tracks;
alter table music.tracks rename constraint tracks_staging_pkey to tracks_pkey;
alter table music.tracks rename constraint tracks_staging_playlist_count_check to tracks_playlist_count_check;
alter index music.tracks_staging_search_idx rename to tracks_search_idx;
alter index music.tracks_staging_name_idx rename to tracks_name_idx;

alter table music.recommendations_staging rename to recommendations;
alter table music.recommendations rename constraint recommendations_staging_pkey to recommendations_pkey;
alter table music.recommendations
    rename constraint recommendations_staging_track_id_fkey to recommendations_track_id_fkey;
alter table music.recommendations
    rename constraint recommendations_staging_recommended_track_id_fkey to recommendations_recommended_track_id_fkey;
alter table music.recommendations rename constraint recommendations_staging_pair_key to recommendations_pair_key;
alter table music.recommendations rename constraint recommendations_staging_rank_check to recommendations_rank_check;
alter table music.recommendations
    rename constraint recommendations_staging_similarity_check to recommendations_similarity_check;
alter table music.recommendations
    rename constraint recommendations_staging_not_self_check to recommendations_not_self_check;

analyze music.tracks;
analyze music.recommendations;

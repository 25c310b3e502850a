-- Keys and checks on the loaded staging tables, built before the swap so the
-- swap itself only renames. A violation aborts the publish.
alter table music.tracks_staging
    add constraint tracks_staging_pkey primary key (track_id),
    add constraint tracks_staging_playlist_count_check check (playlist_count > 0);

alter table music.recommendations_staging
    add constraint recommendations_staging_pkey primary key (track_id, rank),
    add constraint recommendations_staging_track_id_fkey
        foreign key (track_id) references music.tracks_staging (track_id),
    add constraint recommendations_staging_recommended_track_id_fkey
        foreign key (recommended_track_id) references music.tracks_staging (track_id),
    add constraint recommendations_staging_pair_key unique (track_id, recommended_track_id),
    add constraint recommendations_staging_rank_check check (rank >= 1),
    add constraint recommendations_staging_similarity_check check (similarity > 0 and similarity <= 1),
    add constraint recommendations_staging_not_self_check check (track_id <> recommended_track_id);

-- Name lookups: trigram index for autocomplete (LIKE '%...%'), btree for exact lookups.
create index tracks_staging_search_idx on music.tracks_staging
    using gin (music.fold_name(artist || ' ' || track) music.gin_trgm_ops);
create index tracks_staging_name_idx on music.tracks_staging (music.fold_name(artist), music.fold_name(track));

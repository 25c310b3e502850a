-- Keys, checks and lookup indexes of the live tables, built on the staging tables once they are
-- loaded (stage), so the validation can use them and the swap itself only moves tables.
-- Named as the live objects will be.
alter table music_staging.tracks
    alter column track_id set not null,
    alter column artist set not null,
    alter column track set not null,
    alter column playlist_count set not null,
    add constraint tracks_pkey primary key (track_id),
    add constraint tracks_playlist_count_check check (playlist_count > 0);

alter table music_staging.recommendations
    alter column track_id set not null,
    alter column recommended_track_id set not null,
    alter column rank set not null,
    alter column similarity set not null,
    alter column shared_playlists set not null,
    add constraint recommendations_pkey primary key (track_id, rank),
    add constraint recommendations_pair_key unique (track_id, recommended_track_id),
    add constraint recommendations_rank_check check (rank >= 1),
    add constraint recommendations_similarity_check check (similarity > 0 and similarity <= 1),
    add constraint recommendations_not_self_check check (track_id <> recommended_track_id);

-- Which songs recommend a given song ("most recommended", reverse lookups). Built before the foreign
-- keys: checking recommended_track_id against the songs then reads both indexes (2 s for 31M rows
-- here, against 13 s without it; docs/performance.md).
create index recommendations_recommended_track_id_idx on music_staging.recommendations (recommended_track_id);

-- PostgreSQL checks each new foreign key with one anti-join over the whole table, run with work_mem
-- raised to maintenance_work_mem. Allowed hash joins, it hashes the songs: 7.0 to 7.4 s for both keys
-- on 31.4M pairs. Without, it merges the two indexes built above: 4.5 to 5.2 s (docs/performance.md).
-- Reset after the statement: the swap may run this file inside its own transaction.
set local enable_hashjoin = off;
alter table music_staging.recommendations
    add constraint recommendations_track_id_fkey
        foreign key (track_id) references music_staging.tracks (track_id),
    add constraint recommendations_recommended_track_id_fkey
        foreign key (recommended_track_id) references music_staging.tracks (track_id);
reset enable_hashjoin;

-- Name lookups: trigram index for autocomplete (LIKE '%...%'), btree for exact lookups.
create index tracks_search_idx on music_staging.tracks
    using gin (music.fold_name(artist || ' ' || track) music.gin_trgm_ops);
create index tracks_name_idx on music_staging.tracks (music.fold_name(artist), music.fold_name(track));

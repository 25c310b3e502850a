-- Empty staging tables for one run, loaded with COPY and validated before the swap.
drop table if exists music_staging.recommendations;
drop table if exists music_staging.tracks;

create table music_staging.tracks (
    track_id bigint,
    artist text,
    track text,
    playlist_count integer
);

create table music_staging.recommendations (
    track_id bigint,
    recommended_track_id bigint,
    rank integer,
    similarity double precision,
    shared_playlists integer
);

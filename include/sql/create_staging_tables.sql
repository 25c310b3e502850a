-- Empty staging tables for one publish. They live only inside the publishing
-- transaction: a failed publish rolls them back with everything else.
drop table if exists music.recommendations_staging;
drop table if exists music.tracks_staging;

create table music.tracks_staging (
    track_id bigint not null,
    artist text not null,
    track text not null,
    playlist_count integer not null
);

create table music.recommendations_staging (
    track_id bigint not null,
    recommended_track_id bigint not null,
    rank integer not null,
    similarity double precision not null,
    shared_playlists integer not null
);

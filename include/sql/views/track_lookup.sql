-- View music.track_lookup: recreated by every publish and rollback (warehouse.versions.finish_swap).

create or replace view music.track_lookup as
select
    track_id,
    artist,
    track,
    playlist_count,
    music.fold_name(artist) as artist_folded,
    music.fold_name(track) as track_folded
from music.tracks;

comment on view music.track_lookup is
    'Songs found by name whatever the case and accents: where artist_folded = music.fold_name(''Bjork'') and track_folded = music.fold_name(''joga''). Indexed (tracks_name_idx).';
comment on column music.track_lookup.track_id is 'Key of the song in music.tracks.';
comment on column music.track_lookup.artist is 'The artist, in the song''s most frequent spelling.';
comment on column music.track_lookup.track is 'The song''s name, in its most frequent spelling.';
comment on column music.track_lookup.playlist_count is 'Distinct playlists (user, playlist name) holding the song.';
comment on column music.track_lookup.artist_folded is 'The artist in lower case without accents: compare with music.fold_name(...).';
comment on column music.track_lookup.track_folded is 'The song''s name in lower case without accents: compare with music.fold_name(...).';

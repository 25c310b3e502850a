-- One song by artist and track name, case and accents ignored; the most popular
-- when several songs share the folded names. Uses tracks_name_idx.
select
    track_id,
    artist,
    track,
    playlist_count
from music.tracks
where
    music.fold_name(artist) = music.fold_name(%(artist)s)
    and music.fold_name(track) = music.fold_name(%(track)s)
order by playlist_count desc, track_id
limit 1

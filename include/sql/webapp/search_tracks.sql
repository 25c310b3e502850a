-- Autocomplete: songs whose "artist track" contains what was typed (case and
-- accents ignored, words in order), most popular first. Uses tracks_search_idx.
select
    track_id,
    artist,
    track,
    playlist_count
from music.tracks
where music.fold_name(artist || ' ' || track) like music.fold_name(%(pattern)s)
order by playlist_count desc, track_id
limit %(limit)s

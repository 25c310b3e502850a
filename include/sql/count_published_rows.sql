-- Rows of the live tables, for the demo's summary.
select
    (select count(*) from music.tracks) as tracks,
    (select count(*) from music.recommendations) as recommendations

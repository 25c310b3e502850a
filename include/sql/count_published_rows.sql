-- Row counts of the live tables, checked against the validated Spark outputs.
select
    (select count(*) from music.tracks) as tracks,
    (select count(*) from music.recommendations) as recommendations;

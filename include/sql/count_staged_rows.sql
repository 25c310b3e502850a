-- Row counts of the staging tables, checked against the validated Spark outputs.
select
    (select count(*) from music_staging.tracks) as tracks,
    (select count(*) from music_staging.recommendations) as recommendations;

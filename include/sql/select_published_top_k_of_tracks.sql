-- The live recommendations of some songs, best first (a benchmark's sample, scored against the exact answer).
select
    track_id,
    recommended_track_id,
    rank
from music.recommendations
where track_id = any(%(track_ids)s)
order by track_id, rank

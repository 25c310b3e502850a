-- How many recommendations per song were published (the run's top_k).
select coalesce(max(rank), 0) as top_k
from music.recommendations

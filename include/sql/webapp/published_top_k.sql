-- How many recommendations per song the live version was computed with (its top_k param).
select (params ->> 'top_k')::integer as top_k
from music.runs
where status = 'live'

-- Planner statistics for the staged tables, before the validation's queries and the swap
-- (they move with the tables).
analyze music_staging.tracks;
analyze music_staging.recommendations;

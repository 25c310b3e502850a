-- Fresh planner statistics for the tables just made live.
analyze music.tracks;
analyze music.recommendations;

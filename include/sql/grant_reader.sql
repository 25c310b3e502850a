-- music_reader may read everything in music and nothing else.
grant usage on schema music to music_reader;
grant select on all tables in schema music to music_reader;
revoke all on schema music_staging, music_history from music_reader;

-- Whether music.evaluation exists yet (a warehouse never published to has none).
select to_regclass('music.evaluation') is not null

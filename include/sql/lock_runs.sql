-- One publish or rollback at a time: each holds this lock until it commits.
lock table music.runs in share row exclusive mode;

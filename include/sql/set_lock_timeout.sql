-- How long this transaction waits for any one lock before giving up (milliseconds): a swap that waits
-- behind a reader's lock makes every later reader queue behind it, so it waits only a moment.
set local lock_timeout = %(milliseconds)s

-- Failed logins, counted per account and per client address, so brute force meets a
-- growing delay. Kept in the database (not in memory) so a restart does not reset it.
-- `subject` is 'account:<email>' or 'address:<ip>'.
CREATE TABLE login_throttle (
    subject       TEXT PRIMARY KEY NOT NULL,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL,   -- first failure of the current window (ms)
    locked_until  INTEGER NOT NULL    -- no attempt is checked before this time (ms)
) STRICT;

-- A connect attempt also remembers the session that started it (its SHA-256, like the
-- sessions table). The callback is accepted from that session, or — when that session has
-- ended meanwhile (the owner took long on ITS) — from a new login of the same user. A
-- second live browser of the same user cannot use a token it never saw.
ALTER TABLE connect_attempts ADD COLUMN session_hash TEXT;

-- The per-service-key rate limit of `POST /api/v1/shops/{id}/verify` (each one an ITS call):
-- one row per verification let through, kept only for the window it is counted in (older
-- rows are deleted as new ones arrive). In the database rather than in memory so that the
-- count is exact however many requests run at once (the insert takes the write lock) and
-- a restart does not reset it.
CREATE TABLE api_verify_calls (
    id             INTEGER PRIMARY KEY,
    service_key_id BLOB NOT NULL REFERENCES service_keys (id) ON DELETE CASCADE,
    at             INTEGER NOT NULL
) STRICT;

CREATE INDEX api_verify_calls_by_key_at ON api_verify_calls (service_key_id, at);

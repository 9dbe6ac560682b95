-- Bulk re-verification ("Verify all connected shops"). The job's progress lives here, not
-- in memory, so a page reload (or another admin) sees it. At most one job runs at a time:
-- the partial unique index refuses a second 'running' row, whatever the app does.
-- A job left 'running' by a process that stopped is marked 'interrupted' at the next start.

CREATE TABLE verify_jobs (
    id               BLOB PRIMARY KEY NOT NULL,
    started_by       BLOB REFERENCES users (id) ON DELETE SET NULL,
    state            TEXT NOT NULL CHECK (state IN ('running', 'finished', 'cancelled', 'interrupted')),
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    total            INTEGER NOT NULL CHECK (total >= 0),
    done             INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),
    failures         INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0 AND failures <= done),
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    CHECK ((state = 'running') = (finished_at IS NULL))
) STRICT;
CREATE UNIQUE INDEX verify_jobs_one_running ON verify_jobs (state) WHERE state = 'running';
CREATE INDEX verify_jobs_by_created ON verify_jobs (created_at);

-- The scheduler asks, every minute, for connected shops verified longest ago.
CREATE INDEX shops_by_state_verified ON shops (state, last_verified_at);

-- An attempt that moved its shop to `pending` remembers where the shop was, so that when
-- the owner walks away (the attempt's 15 minutes pass without a callback) the shop goes
-- back exactly there: its state and, for `failed`, the reason shown with it. NULL: the
-- attempt did not move its shop (a shop with a live key keeps its state while connecting).
ALTER TABLE connect_attempts ADD COLUMN previous_state TEXT
    CHECK (previous_state IS NULL OR previous_state IN ('not_connected', 'failed', 'disconnected'));
ALTER TABLE connect_attempts ADD COLUMN previous_failure_code TEXT;
ALTER TABLE connect_attempts ADD COLUMN previous_failure_detail TEXT;

-- The expiry sweep looks for pending attempts past their time.
CREATE INDEX connect_attempts_pending_by_expiry ON connect_attempts (expires_at) WHERE state = 'pending';

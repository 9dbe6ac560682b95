-- The partner's own systems: service keys for the JSON API, connect links that open one
-- shop's connect page without a password, and signed webhooks fed by a durable outbox.

-- Service API keys. The secret is shown once; only its SHA-256 is kept, so a copy of the
-- database cannot be used to call the API. `prefix` (the first characters of the secret)
-- lets an admin tell keys apart. Scopes are a space-separated subset of
-- `shops:read keys:read connect:write`.
CREATE TABLE service_keys (
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX service_keys_by_created ON service_keys (created_at);

-- Every shop key handed out by `GET /api/v1/shops/{id}/key`: the audit trail (the shop's
-- history says it in words) and the sliding window the per-key rate limit counts.
CREATE TABLE key_reads (
    id             INTEGER PRIMARY KEY,
    service_key_id BLOB NOT NULL REFERENCES service_keys (id) ON DELETE CASCADE,
    shop_id        BLOB NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    at             INTEGER NOT NULL
) STRICT;
CREATE INDEX key_reads_by_key_at ON key_reads (service_key_id, at);
CREATE INDEX key_reads_by_shop ON key_reads (shop_id);

-- Partner users created through the API are found again by the partner's own user id.
ALTER TABLE users ADD COLUMN external_user_id TEXT;
CREATE UNIQUE INDEX users_by_external_id ON users (external_user_id) WHERE external_user_id IS NOT NULL;

-- `GET /api/v1/shops/ext:<id>` looks shops up by the partner's id alone; the API's list
-- pages by (created_at, id), which never changes, so a cursor never skips nor repeats.
CREATE INDEX shops_by_external_id ON shops (external_shop_id) WHERE external_shop_id IS NOT NULL;
CREATE INDEX shops_by_created ON shops (created_at, id);
CREATE INDEX shops_by_state_created ON shops (state, created_at, id);

-- One-time links (30 minutes) that let a shop owner open the connect page of one shop
-- without a password. Only the token's hash is stored; one UPDATE consumes it.
CREATE TABLE connect_links (
    id             BLOB PRIMARY KEY NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    shop_id        BLOB NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    user_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    return_url     TEXT,                  -- checked against RETURN_URL_ORIGINS when created
    service_key_id BLOB REFERENCES service_keys (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    session_hash   TEXT                   -- the session the link opened (to find return_url)
) STRICT;
CREATE INDEX connect_links_by_shop ON connect_links (shop_id);
CREATE INDEX connect_links_by_session ON connect_links (session_hash) WHERE session_hash IS NOT NULL;

-- A session opened by a connect link may see one shop only (NULL: an ordinary login).
ALTER TABLE sessions ADD COLUMN scope_shop_id BLOB REFERENCES shops (id) ON DELETE CASCADE;

-- Webhook endpoints. The signing secret must be usable to sign, so it is kept sealed
-- (AES-256-GCM under SECRET_KEY, like shop keys) rather than hashed; it is shown once.
-- An endpoint that keeps failing is paused (`paused_at`, `pause_reason`) until an admin
-- resumes it; its deliveries wait, in order, meanwhile.
CREATE TABLE webhook_endpoints (
    id                BLOB PRIMARY KEY NOT NULL,
    url               TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    event_types       TEXT NOT NULL,      -- space-separated, e.g. 'connection.connected connection.failed'
    secret_ciphertext BLOB NOT NULL,
    secret_nonce      BLOB NOT NULL,
    secret_key_id     TEXT NOT NULL,
    secret_prefix     TEXT NOT NULL,
    paused_at         INTEGER,
    pause_reason      TEXT,
    created_by        BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL
) STRICT;

-- The outbox: one row per connection change worth telling (connected, needs_reauth,
-- failed, disconnected), written by `events::record` in the transaction of the change.
-- The shop's ids and status are copied as they were at that moment, so a later change
-- does not rewrite history. `seq` orders the events; `id` is the public event id.
CREATE TABLE webhook_events (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    type             TEXT NOT NULL,
    shop_id          BLOB NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    external_shop_id TEXT,
    its_shop_id      INTEGER,
    status           TEXT NOT NULL,
    occurred_at      INTEGER NOT NULL
) STRICT;

-- One row per (event, endpoint), fanned out in the same transaction as the event. The
-- worker only takes, per endpoint and shop, the pending delivery of the oldest event
-- (in order per shop); it claims one by moving `next_attempt_at` past a lease, so a
-- process that dies mid-attempt leaves it to be retried (at least once).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    event_seq       INTEGER NOT NULL REFERENCES webhook_events (seq) ON DELETE CASCADE,
    endpoint_id     BLOB NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    shop_id         BLOB NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (endpoint_id, event_seq)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_head ON webhook_deliveries (endpoint_id, shop_id, event_seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);

-- Every HTTP attempt: when, the answer's status (NULL: no answer), how long, and the
-- first bytes of the answer or the error, for the dashboard.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms  INTEGER NOT NULL,
    excerpt     TEXT
) STRICT;
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);

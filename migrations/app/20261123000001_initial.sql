-- The first schema of shoplink. Times are INTEGER unix epoch milliseconds (UTC): they
-- sort and compare cheaply in indexes, which the admin list's keyset pagination relies on.
-- Ids that appear in URLs are random UUIDs (16-byte BLOBs), never sequential, so they
-- cannot be guessed or counted.

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'owner')),
    password_hash TEXT NOT NULL,           -- argon2id PHC string
    disabled_at   INTEGER,
    created_at    INTEGER NOT NULL
) STRICT;

-- Server-side sessions: the cookie carries a random id, the table only its SHA-256, so a
-- copy of the database cannot be replayed as a login. Deleting a row ends a session at once.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,            -- synchroniser token for this session's forms
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL          -- absolute end of the session
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE shops (
    -- A stable integer key for the search index (an implicit rowid may change on VACUUM);
    -- never shown, never in a URL.
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL UNIQUE,
    owner_id         BLOB NOT NULL REFERENCES users (id),
    name             TEXT NOT NULL,
    search_name      TEXT NOT NULL,        -- name folded: lower case, no diacritics (search)
    phone            TEXT,
    email            TEXT,
    external_shop_id TEXT,                 -- the partner's own id for the shop
    its_shop_id      INTEGER UNIQUE,       -- the provider's id; one shop of ours per ITS shop
    its_shop_name    TEXT,
    state            TEXT NOT NULL DEFAULT 'not_connected' CHECK (state IN
                     ('not_connected', 'pending', 'connected', 'needs_reauth', 'failed', 'disconnected')),
    failure_code     TEXT,                 -- why the last attempt failed (catalogue key)
    failure_detail   TEXT,                 -- the provider's own code and message, shown as given
    -- The shop key, sealed with AES-256-GCM (see crypto.rs). All three are set or none is.
    key_ciphertext   BLOB,
    key_nonce        BLOB,
    key_id           TEXT,
    last_verified_at INTEGER,
    updated_at       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    CHECK ((key_ciphertext IS NULL) = (key_nonce IS NULL) AND (key_nonce IS NULL) = (key_id IS NULL)),
    -- No half-connected shops: a connected shop always has its key and its ITS id.
    CHECK (state NOT IN ('connected', 'needs_reauth') OR (key_ciphertext IS NOT NULL AND its_shop_id IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX shops_by_owner_external_id ON shops (owner_id, external_shop_id)
    WHERE external_shop_id IS NOT NULL;
CREATE INDEX shops_by_owner_updated ON shops (owner_id, updated_at, id);
CREATE INDEX shops_by_state_updated ON shops (state, updated_at, id);
CREATE INDEX shops_by_updated ON shops (updated_at, id);
CREATE INDEX shops_by_name ON shops (search_name, id);

-- One row per press of "Kết nối Zalo". The token in the callback URL is ours: only its
-- SHA-256 is stored, and the row is consumed by a single UPDATE so it works exactly once.
CREATE TABLE connect_attempts (
    id          BLOB PRIMARY KEY NOT NULL,
    shop_id     BLOB NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'consumed', 'finished', 'cancelled')),
    relogins    INTEGER NOT NULL DEFAULT 0, -- how many times ITS asked the shop to log in again
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER,
    outcome     TEXT
) STRICT;
CREATE INDEX connect_attempts_by_user_state ON connect_attempts (user_id, state);
CREATE INDEX connect_attempts_by_shop ON connect_attempts (shop_id);

-- The history of every shop: every state change, with who or what caused it.
CREATE TABLE shop_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id    BLOB NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,              -- 'user:<uuid>', 'its', 'system'
    from_state TEXT,
    to_state   TEXT NOT NULL,
    reason     TEXT                        -- catalogue key, optionally ': ' and the provider's words
) STRICT;
CREATE INDEX shop_events_by_shop ON shop_events (shop_id, id);

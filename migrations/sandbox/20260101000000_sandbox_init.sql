-- The built-in ITS sandbox's own database (a separate file from the app's).
-- Times are Unix seconds (UTC). Shop ids are the provider-style large positive integers.

-- Small key/value facts about the fake provider itself (e.g. the partner's account id).
CREATE TABLE sandbox_settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- Shops that "logged in" on the sandbox's login page.
CREATE TABLE sandbox_shops (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id > 0),
    name       TEXT NOT NULL,
    owner_name TEXT,
    email      TEXT,
    phone      TEXT,
    closed_at  INTEGER,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sandbox_shops_by_email ON sandbox_shops (email) WHERE email IS NOT NULL;
CREATE INDEX sandbox_shops_by_phone ON sandbox_shops (phone) WHERE phone IS NOT NULL;
CREATE INDEX sandbox_shops_newest ON sandbox_shops (created_at DESC, id DESC);

-- The partner-shop relation (the sandbox knows one partner). The shop key is the relation's
-- secret: the same while active, a new one after every re-link.
CREATE TABLE sandbox_links (
    shop_id          INTEGER PRIMARY KEY NOT NULL REFERENCES sandbox_shops (id) ON DELETE CASCADE,
    shop_key         TEXT NOT NULL UNIQUE,
    active           INTEGER NOT NULL CHECK (active IN (0, 1)),
    external_shop_id TEXT,
    external_user_id TEXT,
    linked_at        INTEGER NOT NULL,
    unlinked_at      INTEGER
) STRICT;

CREATE INDEX sandbox_links_by_external_shop_id
    ON sandbox_links (external_shop_id, linked_at)
    WHERE active = 1 AND external_shop_id IS NOT NULL;

-- One-time login requests (`request:…` tokens). Only the SHA-256 of the token is stored.
CREATE TABLE sandbox_requests (
    token_hash       TEXT PRIMARY KEY NOT NULL,
    shop_id          INTEGER,
    email            TEXT,
    phone            TEXT,
    name             TEXT,
    shop_name        TEXT,
    external_shop_id TEXT,
    external_user_id TEXT,
    redirect_url     TEXT,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    consumed_at      INTEGER
) STRICT;

CREATE INDEX sandbox_requests_by_expiry ON sandbox_requests (expires_at);

-- The shop's Zalo Official Accounts, connected through ITS with the shop key
-- (its-contract.md, "The shop's Zalo Official Account"). Times are unix epoch milliseconds
-- like everywhere else; Zalo and ITS ids are int64 values kept as their decimal text,
-- exactly as the provider sends them (never through a float).

-- Zalo apps whose secret we hold. `shop_id` NULL is the partner's one app for all its
-- shops (set on /admin/settings; ZALO_APP_ID/ZALO_APP_SECRET in the environment take its
-- place when set); otherwise a shop's own app, typed by its owner on the OA step. The
-- secret is sealed like a shop key (crypto.rs, `Binding::ZaloAppSecret`), listed in
-- store/sealed.rs so `rotate-key` re-seals it, and never shown again.
CREATE TABLE zalo_apps (
    id                BLOB PRIMARY KEY NOT NULL,
    shop_id           BLOB UNIQUE REFERENCES shops (id) ON DELETE CASCADE,
    app_id            TEXT NOT NULL CHECK (length(app_id) BETWEEN 1 AND 19 AND app_id NOT GLOB '*[^0-9]*'),
    secret_ciphertext BLOB NOT NULL,
    secret_nonce      BLOB NOT NULL,
    secret_key_id     TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
-- At most one partner app.
CREATE UNIQUE INDEX zalo_apps_one_partner_app ON zalo_apps (shop_id IS NULL) WHERE shop_id IS NULL;

-- One row per press of "Kết nối Zalo OA" or "Gia hạn": the grant in flight. ITS puts a
-- `state` in the permission page's URL and Zalo hands it back in the callback, unsigned:
-- only its SHA-256 is stored, tied to the shop, the user and the session that started it,
-- and one UPDATE consumes it, so it works once, for 15 minutes, from that browser only.
-- `code_hash` keeps Zalo's `code` single use on our side as well. `renew_oa_id` is set for
-- a renewal (only that OA may come back). `app_row_id` is the `zalo_apps` row used (NULL
-- when the partner app came from the environment); `app_id` is the app id sent to ITS.
CREATE TABLE zalo_oa_grants (
    id           BLOB PRIMARY KEY NOT NULL,
    shop_id      BLOB NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL,
    state_hash   TEXT NOT NULL UNIQUE,
    code_hash    TEXT UNIQUE,
    app_row_id   BLOB REFERENCES zalo_apps (id) ON DELETE SET NULL,
    app_id       TEXT NOT NULL,
    renew_oa_id  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'consumed', 'finished', 'failed', 'cancelled')),
    outcome      TEXT,                    -- why it ended (a stable name, see services)
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    consumed_at  INTEGER
) STRICT;
CREATE INDEX zalo_oa_grants_by_shop ON zalo_oa_grants (shop_id, created_at);
CREATE INDEX zalo_oa_grants_by_expiry ON zalo_oa_grants (status, expires_at);

-- The shop's OAs as ITS last described them (ConnectOA, ListOA). An OA sends ZNS for one
-- shop only: `oa_id` is unique partner-wide. `status` is the provider's letter (`Z` new,
-- `P` connected, `N` disconnected) or, for a value we do not know, its text. The
-- `*_notified_for` columns hold the `expires_at` a `zalo_oa.expiring` / `.expired` webhook
-- was last sent for: once per OA per expiry window.
CREATE TABLE zalo_oas (
    oa_id                 TEXT PRIMARY KEY NOT NULL CHECK (length(oa_id) BETWEEN 1 AND 19 AND oa_id NOT GLOB '*[^0-9]*'),
    shop_id               BLOB NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    avatar_url            TEXT,
    is_verified           INTEGER NOT NULL CHECK (is_verified IN (0, 1)),
    app_id                TEXT,
    status                TEXT NOT NULL,
    daily_quota           INTEGER NOT NULL,
    remaining_quota       INTEGER NOT NULL,
    current_quality       TEXT NOT NULL CHECK (current_quality IN ('HIGH', 'MEDIUM', 'LOW', 'UNDEFINED', 'unknown')),
    last_week_quality     TEXT NOT NULL CHECK (last_week_quality IN ('HIGH', 'MEDIUM', 'LOW', 'UNDEFINED', 'unknown')),
    expires_at            INTEGER,        -- when the OA's refresh token expires
    expiring_notified_for INTEGER,
    expired_notified_for  INTEGER,
    connected_at          INTEGER NOT NULL,
    last_read_at          INTEGER NOT NULL, -- the last ConnectOA/ListOA answer it came from
    updated_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX zalo_oas_by_shop ON zalo_oas (shop_id, oa_id);

-- The OA side of a shop's history (the shop page and the admin's history show it beside
-- `shop_events`): connected, renewed, status or quality changes, expiry, test sends.
-- `reason` is a stable name and, after ': ', words the provider gave (never a secret).
CREATE TABLE zalo_oa_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BLOB NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    oa_id   TEXT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,                -- 'user:<uuid>', 'its', 'system'
    kind    TEXT NOT NULL CHECK (kind IN ('connected', 'renewed', 'connect_failed', 'disconnected',
                                          'status_changed', 'quality_low', 'expiring', 'expired',
                                          'test_sent', 'test_failed')),
    reason  TEXT
) STRICT;
CREATE INDEX zalo_oa_events_by_shop ON zalo_oa_events (shop_id, id);

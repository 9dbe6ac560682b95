-- The sandbox's Zalo side (its-contract.md, "The shop's Zalo Official Account"): the fake
-- Zalo apps, each shop's Official Accounts, the grants in flight (ITS's `state`, Zalo's
-- `code`), the OA connections ITS keeps, and the ZNS test messages "delivered" to the
-- sandbox phone page. Times are Unix seconds (UTC); ids are provider-style large integers.

-- Zalo apps, known by their id. The first AuthorizeOA with an unknown app id registers it
-- with the secret it carries (the sandbox cannot ask Zalo); later calls must send the same
-- secret. `secret_rejected` is the operator's "make the app secret wrong" switch: while it
-- is set, every secret is refused, as when the secret was reset on Zalo's developer site.
CREATE TABLE sandbox_zalo_apps (
    app_id          INTEGER PRIMARY KEY NOT NULL CHECK (app_id > 0),
    secret_hash     TEXT NOT NULL,
    secret_rejected INTEGER NOT NULL DEFAULT 0 CHECK (secret_rejected IN (0, 1)),
    created_at      INTEGER NOT NULL
) STRICT;

-- A shop's Official Accounts on "Zalo", created the first time the shop asks for a grant:
-- one ready for ZNS, one without a paid OA package. The quota counts the sends of
-- `quota_day` (days since the epoch); a new day starts again from `daily_quota`.
CREATE TABLE sandbox_zalo_oas (
    oa_id             INTEGER PRIMARY KEY NOT NULL CHECK (oa_id > 0),
    shop_id           INTEGER NOT NULL REFERENCES sandbox_shops (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL,
    is_verified       INTEGER NOT NULL CHECK (is_verified IN (0, 1)),
    has_package       INTEGER NOT NULL CHECK (has_package IN (0, 1)),
    daily_quota       INTEGER NOT NULL CHECK (daily_quota >= 0),
    remaining_quota   INTEGER NOT NULL CHECK (remaining_quota >= 0),
    quota_day         INTEGER NOT NULL,
    current_quality   TEXT NOT NULL CHECK (current_quality IN ('HIGH', 'MEDIUM', 'LOW', 'UNDEFINED')),
    last_week_quality TEXT NOT NULL CHECK (last_week_quality IN ('HIGH', 'MEDIUM', 'LOW', 'UNDEFINED')),
    created_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX sandbox_zalo_oas_by_shop ON sandbox_zalo_oas (shop_id, oa_id);

-- One grant = one AuthorizeOA (or RefreshToken) call: ITS's `state` (an integer, in the
-- permission page's URL) and, once the OA admin allowed, Zalo's `code` (only its hash),
-- single use and short-lived. `oa_id` is set for a RefreshToken grant (only that OA may be
-- picked); `chosen_oa_id` is the OA picked on the permission page.
CREATE TABLE sandbox_zalo_grants (
    state           INTEGER PRIMARY KEY NOT NULL CHECK (state > 0),
    shop_id         INTEGER NOT NULL REFERENCES sandbox_shops (id) ON DELETE CASCADE,
    app_id          INTEGER NOT NULL REFERENCES sandbox_zalo_apps (app_id),
    redirect_uri    TEXT NOT NULL,
    oa_id           INTEGER REFERENCES sandbox_zalo_oas (oa_id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    chosen_oa_id    INTEGER REFERENCES sandbox_zalo_oas (oa_id) ON DELETE CASCADE,
    code_hash       TEXT UNIQUE,
    code_expires_at INTEGER,
    code_used_at    INTEGER,
    denied_at       INTEGER,
    CHECK ((code_hash IS NULL) = (code_expires_at IS NULL))
) STRICT;

CREATE INDEX sandbox_zalo_grants_by_expiry ON sandbox_zalo_grants (expires_at);

-- The OAs ITS has connected for a shop (what ListOA lists). `expires_at` is when the OA's
-- refresh token expires; the operator's page can move it (soon, past). `redirect_uri` is
-- the last grant's, reused by RefreshToken (which only names the OA).
CREATE TABLE sandbox_zalo_connections (
    oa_id         INTEGER PRIMARY KEY NOT NULL REFERENCES sandbox_zalo_oas (oa_id) ON DELETE CASCADE,
    shop_id       INTEGER NOT NULL REFERENCES sandbox_shops (id) ON DELETE CASCADE,
    app_id        INTEGER NOT NULL REFERENCES sandbox_zalo_apps (app_id),
    connection_id INTEGER NOT NULL UNIQUE,
    status        TEXT NOT NULL CHECK (status IN ('Z', 'P', 'N')),
    expires_at    INTEGER NOT NULL,
    redirect_uri  TEXT NOT NULL,
    webhook_url   TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX sandbox_zalo_connections_by_shop ON sandbox_zalo_connections (shop_id, oa_id);

-- ZNS messages sent through the sandbox, shown on its "phone" page, newest first.
CREATE TABLE sandbox_zalo_messages (
    id             INTEGER PRIMARY KEY NOT NULL CHECK (id > 0),
    msg_id         TEXT NOT NULL,
    shop_id        INTEGER NOT NULL REFERENCES sandbox_shops (id) ON DELETE CASCADE,
    oa_id          INTEGER NOT NULL REFERENCES sandbox_zalo_oas (oa_id) ON DELETE CASCADE,
    phone          TEXT NOT NULL,
    template_id    INTEGER NOT NULL,
    template_data  TEXT NOT NULL,
    rendered       TEXT NOT NULL,
    tracking_id    TEXT NOT NULL DEFAULT '',
    is_development INTEGER NOT NULL CHECK (is_development IN (0, 1)),
    sent_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX sandbox_zalo_messages_newest ON sandbox_zalo_messages (sent_at DESC, id DESC);

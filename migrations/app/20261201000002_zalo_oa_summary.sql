-- What the partner admin's OA filters and the overview need, per shop, kept exact by
-- triggers in the same transaction as every change to `zalo_oas` (issue 13: nothing an
-- admin clicks may cost time that grows with the number of shops).
--
-- Three layers, each maintained from the one before it:
--   zalo_oas  --(triggers: recompute the shop's few OAs)-->  shops.oa_*  (the summary)
--   shops.oa_* --(triggers: old vs new)-->  shop_oa_flags (the filters' one index)
--                                      and  shop_oa_counts (the overview's counters)

-- The summary of a shop's OAs (a shop has one or two, so recomputing them is a seek of
-- `zalo_oas_by_shop`, never a scan):
--   oa_count         every OA of the shop
--   oa_connected     OAs with status `P`
--   oa_disconnected  OAs not connected: `N`, and also `Z` (new) or a status we do not know,
--                    since none of them can send ZNS
--   oa_low           OAs whose delivery quality over the last 48 h is `LOW`
--   oa_quota_low     OAs with less than 10 % of their daily ZNS quota left
--   oa_expires_at    the soonest refresh-token expiry among them (NULL: none known)
ALTER TABLE shops ADD COLUMN oa_count        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN oa_connected    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN oa_disconnected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN oa_low          INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN oa_quota_low    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shops ADD COLUMN oa_expires_at   INTEGER;

-- One row per shop per OA filter it matches: `none`, `connected`, `disconnected`,
-- `quality_low`, `quota_low` (key 0), and `expires` (key = the soonest expiry). One
-- primary key serves every filter: a filtered page seeks (flag, key) and walks shops newest
-- first (`shop_seq` DESC), or by soonest expiry for `expires`, where six partial indexes
-- per sort order on `shops` would have been needed. `shop_seq` is `shops.seq`.
CREATE TABLE shop_oa_flags (
    flag     TEXT NOT NULL,
    key      INTEGER NOT NULL,
    shop_seq INTEGER NOT NULL,
    PRIMARY KEY (flag, key, shop_seq)
) STRICT, WITHOUT ROWID;

-- Shops per OA filter for the overview (the `expires` row counts shops with any known
-- expiry; "expires within 14 days" is a range of `shop_oa_flags`, counted in its key).
CREATE TABLE shop_oa_counts (
    flag TEXT PRIMARY KEY NOT NULL,
    n    INTEGER NOT NULL CHECK (n >= 0)
) STRICT, WITHOUT ROWID;

-- Existing rows: the summary, then the flags and counters from it.
UPDATE shops SET (oa_count, oa_connected, oa_disconnected, oa_low, oa_quota_low, oa_expires_at) =
    (SELECT COUNT(*), COALESCE(SUM(o.status = 'P'), 0), COALESCE(SUM(o.status <> 'P'), 0),
            COALESCE(SUM(o.current_quality = 'LOW'), 0),
            COALESCE(SUM(o.daily_quota > 0 AND o.remaining_quota * 10 < o.daily_quota), 0),
            MIN(o.expires_at)
     FROM zalo_oas o WHERE o.shop_id = shops.id)
WHERE id IN (SELECT shop_id FROM zalo_oas);

INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'none', 0, seq FROM shops WHERE oa_count = 0;
INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'connected', 0, seq FROM shops WHERE oa_connected > 0;
INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'disconnected', 0, seq FROM shops WHERE oa_disconnected > 0;
INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'quality_low', 0, seq FROM shops WHERE oa_low > 0;
INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'quota_low', 0, seq FROM shops WHERE oa_quota_low > 0;
INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'expires', oa_expires_at, seq FROM shops WHERE oa_expires_at IS NOT NULL;

INSERT INTO shop_oa_counts (flag, n)
SELECT column1, 0 FROM (VALUES ('none'), ('connected'), ('disconnected'), ('quality_low'),
                               ('quota_low'), ('expires'));
UPDATE shop_oa_counts SET n = (SELECT COUNT(*) FROM shop_oa_flags f WHERE f.flag = shop_oa_counts.flag);

-- zalo_oas -> shops.oa_*: the shop's OAs, recomputed (one or two rows).
CREATE TRIGGER zalo_oas_summary_after_insert AFTER INSERT ON zalo_oas BEGIN
    UPDATE shops SET (oa_count, oa_connected, oa_disconnected, oa_low, oa_quota_low, oa_expires_at) =
        (SELECT COUNT(*), COALESCE(SUM(o.status = 'P'), 0), COALESCE(SUM(o.status <> 'P'), 0),
                COALESCE(SUM(o.current_quality = 'LOW'), 0),
                COALESCE(SUM(o.daily_quota > 0 AND o.remaining_quota * 10 < o.daily_quota), 0),
                MIN(o.expires_at)
         FROM zalo_oas o WHERE o.shop_id = new.shop_id)
    WHERE id = new.shop_id;
END;

-- Only when something the summary reads changed: a ListOA re-read that changes nothing but
-- `last_read_at` costs no write to `shops`.
CREATE TRIGGER zalo_oas_summary_after_update AFTER UPDATE ON zalo_oas
WHEN old.shop_id IS NOT new.shop_id OR old.status IS NOT new.status
  OR old.current_quality IS NOT new.current_quality OR old.daily_quota IS NOT new.daily_quota
  OR old.remaining_quota IS NOT new.remaining_quota OR old.expires_at IS NOT new.expires_at
BEGIN
    UPDATE shops SET (oa_count, oa_connected, oa_disconnected, oa_low, oa_quota_low, oa_expires_at) =
        (SELECT COUNT(*), COALESCE(SUM(o.status = 'P'), 0), COALESCE(SUM(o.status <> 'P'), 0),
                COALESCE(SUM(o.current_quality = 'LOW'), 0),
                COALESCE(SUM(o.daily_quota > 0 AND o.remaining_quota * 10 < o.daily_quota), 0),
                MIN(o.expires_at)
         FROM zalo_oas o WHERE o.shop_id = shops.id)
    WHERE id IN (old.shop_id, new.shop_id);
END;

-- A shop deleted with its OAs (ON DELETE CASCADE): the update finds no shop row, and the
-- shop's own delete trigger below takes its flags and counts away.
CREATE TRIGGER zalo_oas_summary_after_delete AFTER DELETE ON zalo_oas BEGIN
    UPDATE shops SET (oa_count, oa_connected, oa_disconnected, oa_low, oa_quota_low, oa_expires_at) =
        (SELECT COUNT(*), COALESCE(SUM(o.status = 'P'), 0), COALESCE(SUM(o.status <> 'P'), 0),
                COALESCE(SUM(o.current_quality = 'LOW'), 0),
                COALESCE(SUM(o.daily_quota > 0 AND o.remaining_quota * 10 < o.daily_quota), 0),
                MIN(o.expires_at)
         FROM zalo_oas o WHERE o.shop_id = old.shop_id)
    WHERE id = old.shop_id;
END;

-- shops.oa_* -> flags and counters, from the old and new values of the one row.
CREATE TRIGGER shop_oa_flags_after_insert AFTER INSERT ON shops BEGIN
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'none', 0, new.seq WHERE new.oa_count = 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'connected', 0, new.seq WHERE new.oa_connected > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'disconnected', 0, new.seq WHERE new.oa_disconnected > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'quality_low', 0, new.seq WHERE new.oa_low > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'quota_low', 0, new.seq WHERE new.oa_quota_low > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'expires', new.oa_expires_at, new.seq WHERE new.oa_expires_at IS NOT NULL;
    UPDATE shop_oa_counts SET n = n + CASE flag
        WHEN 'none' THEN new.oa_count = 0
        WHEN 'connected' THEN new.oa_connected > 0
        WHEN 'disconnected' THEN new.oa_disconnected > 0
        WHEN 'quality_low' THEN new.oa_low > 0
        WHEN 'quota_low' THEN new.oa_quota_low > 0
        WHEN 'expires' THEN new.oa_expires_at IS NOT NULL
        ELSE 0 END;
END;

CREATE TRIGGER shop_oa_flags_after_update
AFTER UPDATE OF oa_count, oa_connected, oa_disconnected, oa_low, oa_quota_low, oa_expires_at ON shops
WHEN old.oa_count IS NOT new.oa_count OR old.oa_connected IS NOT new.oa_connected
  OR old.oa_disconnected IS NOT new.oa_disconnected OR old.oa_low IS NOT new.oa_low
  OR old.oa_quota_low IS NOT new.oa_quota_low OR old.oa_expires_at IS NOT new.oa_expires_at
BEGIN
    DELETE FROM shop_oa_flags WHERE flag = 'none' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'connected' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'disconnected' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'quality_low' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'quota_low' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'expires' AND key = old.oa_expires_at AND shop_seq = old.seq;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'none', 0, new.seq WHERE new.oa_count = 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'connected', 0, new.seq WHERE new.oa_connected > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'disconnected', 0, new.seq WHERE new.oa_disconnected > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'quality_low', 0, new.seq WHERE new.oa_low > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'quota_low', 0, new.seq WHERE new.oa_quota_low > 0;
    INSERT INTO shop_oa_flags (flag, key, shop_seq) SELECT 'expires', new.oa_expires_at, new.seq WHERE new.oa_expires_at IS NOT NULL;
    UPDATE shop_oa_counts SET n = n + CASE flag
        WHEN 'none' THEN (new.oa_count = 0) - (old.oa_count = 0)
        WHEN 'connected' THEN (new.oa_connected > 0) - (old.oa_connected > 0)
        WHEN 'disconnected' THEN (new.oa_disconnected > 0) - (old.oa_disconnected > 0)
        WHEN 'quality_low' THEN (new.oa_low > 0) - (old.oa_low > 0)
        WHEN 'quota_low' THEN (new.oa_quota_low > 0) - (old.oa_quota_low > 0)
        WHEN 'expires' THEN (new.oa_expires_at IS NOT NULL) - (old.oa_expires_at IS NOT NULL)
        ELSE 0 END;
END;

CREATE TRIGGER shop_oa_flags_after_delete AFTER DELETE ON shops BEGIN
    DELETE FROM shop_oa_flags WHERE flag = 'none' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'connected' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'disconnected' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'quality_low' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'quota_low' AND key = 0 AND shop_seq = old.seq;
    DELETE FROM shop_oa_flags WHERE flag = 'expires' AND key = old.oa_expires_at AND shop_seq = old.seq;
    UPDATE shop_oa_counts SET n = n - CASE flag
        WHEN 'none' THEN old.oa_count = 0
        WHEN 'connected' THEN old.oa_connected > 0
        WHEN 'disconnected' THEN old.oa_disconnected > 0
        WHEN 'quality_low' THEN old.oa_low > 0
        WHEN 'quota_low' THEN old.oa_quota_low > 0
        WHEN 'expires' THEN old.oa_expires_at IS NOT NULL
        ELSE 0 END;
END;

-- The `zalo_oa.*` webhooks (issue 12) go through the same outbox as `connection.*`: the
-- event carries, beside the shop's ids, the OA as it was when the change happened (a JSON
-- object: oa_id, name, status, quotas, qualities, expires_at), copied in the same
-- transaction like the shop's ids are. NULL for the shop's own connection events.
ALTER TABLE webhook_events ADD COLUMN oa TEXT;

-- The `external_shop_id` we send to ITS must be ours and unique across the whole partner
-- (ITS records it on the partner–shop relation when the shop approves, and the callback is
-- confirmed through it). An id an owner typed by hand is only a label: it moves to a column
-- of its own, `owner_ref`, outside the API's `ext:` namespace and never sent to ITS.
--
-- Kept as `external_shop_id`: values the partner's own systems assigned through the API
-- (the shop of a partner user created by a connect link), the oldest one where several
-- shops share a value. Everything else moves to `owner_ref`.
ALTER TABLE shops ADD COLUMN owner_ref TEXT;

UPDATE shops SET owner_ref = external_shop_id, external_shop_id = NULL
WHERE external_shop_id IS NOT NULL
  AND (NOT EXISTS (SELECT 1 FROM users u WHERE u.id = shops.owner_id AND u.external_user_id IS NOT NULL)
       OR EXISTS (SELECT 1 FROM shops o JOIN users ou ON ou.id = o.owner_id
                  WHERE o.external_shop_id = shops.external_shop_id
                    AND ou.external_user_id IS NOT NULL
                    AND (o.created_at < shops.created_at
                         OR (o.created_at = shops.created_at AND o.seq < shops.seq))));

DROP INDEX shops_by_owner_external_id;
DROP INDEX shops_by_external_id;
-- One shop per external id across the whole partner.
CREATE UNIQUE INDEX shops_by_external_id ON shops (external_shop_id) WHERE external_shop_id IS NOT NULL;
-- An owner's label is unique among that owner's shops only (it is just for them).
CREATE UNIQUE INDEX shops_by_owner_ref ON shops (owner_id, owner_ref) WHERE owner_ref IS NOT NULL;

-- The search index also finds a shop by its owner's label.
DROP TRIGGER shops_search_after_insert;
DROP TRIGGER shops_search_after_update;
CREATE TRIGGER shops_search_after_insert AFTER INSERT ON shops BEGIN
    INSERT INTO shops_search (rowid, haystack)
    VALUES (new.seq, new.search_name || ' ' || coalesce(new.phone, '') || ' ' || coalesce(lower(new.email), '') || ' '
            || coalesce(lower(new.external_shop_id), '') || ' ' || coalesce(lower(new.owner_ref), '') || ' '
            || coalesce(new.its_shop_id, ''));
END;
CREATE TRIGGER shops_search_after_update
AFTER UPDATE OF search_name, phone, email, external_shop_id, owner_ref, its_shop_id ON shops BEGIN
    UPDATE shops_search
    SET haystack = new.search_name || ' ' || coalesce(new.phone, '') || ' ' || coalesce(lower(new.email), '') || ' '
                   || coalesce(lower(new.external_shop_id), '') || ' ' || coalesce(lower(new.owner_ref), '') || ' '
                   || coalesce(new.its_shop_id, '')
    WHERE rowid = new.seq;
END;
UPDATE shops_search
SET haystack = (SELECT s.search_name || ' ' || coalesce(s.phone, '') || ' ' || coalesce(lower(s.email), '') || ' '
                       || coalesce(lower(s.external_shop_id), '') || ' ' || coalesce(lower(s.owner_ref), '') || ' '
                       || coalesce(s.its_shop_id, '')
                FROM shops s WHERE s.seq = shops_search.rowid)
WHERE rowid IN (SELECT seq FROM shops WHERE owner_ref IS NOT NULL);

-- The ITS shop id a connect attempt asked about (NULL: the attempt started without one and
-- is confirmed through our own `external_shop_id`). The callback must name this shop.
ALTER TABLE connect_attempts ADD COLUMN its_shop_id INTEGER;
CREATE INDEX connect_attempts_by_session ON connect_attempts (session_hash, state) WHERE session_hash IS NOT NULL;

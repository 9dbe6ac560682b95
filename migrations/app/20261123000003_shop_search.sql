-- Search for the admin list. People type part of a name without accents ("cua hang hoa"),
-- a piece of a phone number or an email, an external id or an ITS shop id. A trigram FTS5
-- index answers "contains" queries for three or more characters without scanning the
-- table; `search_name` is already folded (lower case, no diacritics) by the app.
-- The index row's rowid is the shop's `seq`, kept in step by the triggers below.

CREATE VIRTUAL TABLE shops_search USING fts5(haystack, tokenize = 'trigram');

INSERT INTO shops_search (rowid, haystack)
SELECT seq, search_name || ' ' || coalesce(phone, '') || ' ' || coalesce(lower(email), '') || ' '
       || coalesce(lower(external_shop_id), '') || ' ' || coalesce(its_shop_id, '')
FROM shops;

CREATE TRIGGER shops_search_after_insert AFTER INSERT ON shops BEGIN
    INSERT INTO shops_search (rowid, haystack)
    VALUES (new.seq, new.search_name || ' ' || coalesce(new.phone, '') || ' ' || coalesce(lower(new.email), '') || ' '
            || coalesce(lower(new.external_shop_id), '') || ' ' || coalesce(new.its_shop_id, ''));
END;

-- Only the searched columns: state changes (the frequent updates) do not touch the index.
CREATE TRIGGER shops_search_after_update
AFTER UPDATE OF search_name, phone, email, external_shop_id, its_shop_id ON shops BEGIN
    UPDATE shops_search
    SET haystack = new.search_name || ' ' || coalesce(new.phone, '') || ' ' || coalesce(lower(new.email), '') || ' '
                   || coalesce(lower(new.external_shop_id), '') || ' ' || coalesce(new.its_shop_id, '')
    WHERE rowid = new.seq;
END;

CREATE TRIGGER shops_search_after_delete AFTER DELETE ON shops BEGIN
    DELETE FROM shops_search WHERE rowid = old.seq;
END;

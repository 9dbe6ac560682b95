-- A million shops on one small node: nothing an admin clicks may cost time that grows with
-- the number of shops.

-- Shops per connection state for the overview, kept exact by triggers in the same
-- transaction as every insert, state change and delete: reading them is six rows, where
-- `SELECT state, COUNT(*) FROM shops GROUP BY state` walks every shop (110-130 ms at a
-- million). WITHOUT ROWID: the state is the key, the row is the count.
CREATE TABLE shop_state_counts (
    state TEXT PRIMARY KEY NOT NULL,
    n     INTEGER NOT NULL CHECK (n >= 0)
) STRICT, WITHOUT ROWID;

INSERT INTO shop_state_counts (state, n)
SELECT column1, 0 FROM (VALUES ('not_connected'), ('pending'), ('connected'), ('needs_reauth'),
                               ('failed'), ('disconnected'));
UPDATE shop_state_counts
SET n = (SELECT COUNT(*) FROM shops WHERE shops.state = shop_state_counts.state);

-- An UPSERT, so a state added by a later migration counts without another seeding step.
CREATE TRIGGER shop_state_counts_after_insert AFTER INSERT ON shops BEGIN
    INSERT INTO shop_state_counts (state, n) VALUES (new.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER shop_state_counts_after_update
AFTER UPDATE OF state ON shops WHEN old.state IS NOT new.state BEGIN
    UPDATE shop_state_counts SET n = n - 1 WHERE state = old.state;
    INSERT INTO shop_state_counts (state, n) VALUES (new.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER shop_state_counts_after_delete AFTER DELETE ON shops BEGIN
    UPDATE shop_state_counts SET n = n - 1 WHERE state = old.state;
END;

-- Sorting by name within a state or an owner seeks these instead of walking the whole
-- name index and skipping the other states' rows (a rare state meant most of the table).
CREATE INDEX shops_by_state_name ON shops (state, search_name, id);
CREATE INDEX shops_by_owner_name ON shops (owner_id, search_name, id);

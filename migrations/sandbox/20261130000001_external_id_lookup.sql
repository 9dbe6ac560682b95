-- `AuthorizeShop{external_shop_id}` finds the relation that recorded the id whether or not
-- it is still active (an unlinked one answers `shop_request`, a closed account
-- `account_closed`), so the lookup needs every relation, not only the active ones.
DROP INDEX sandbox_links_by_external_shop_id;
CREATE INDEX sandbox_links_by_external_shop_id
    ON sandbox_links (external_shop_id, active, linked_at)
    WHERE external_shop_id IS NOT NULL;

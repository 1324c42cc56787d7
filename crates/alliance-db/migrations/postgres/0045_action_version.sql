-- An officer's edit form, opened before a partner's progress update and sent after it, wrote
-- its stale status over the update (and two officers' edits overwrote each other). Each
-- change of an action now counts up its version; an edit names the version its form was
-- opened on and is refused when the action has moved on. (`updated_at` is kept to the second,
-- too coarse to tell two changes in one second apart.)
ALTER TABLE actions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

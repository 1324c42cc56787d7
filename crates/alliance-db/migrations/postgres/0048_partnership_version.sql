-- Two administrators saving the partnership's profile (or its charter) from pages opened at
-- the same time: the second save wrote its stale fields over the first. The profile now counts
-- its changes, as other edited records do since 0046 (`alliance_db::versions`).
ALTER TABLE partnership ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

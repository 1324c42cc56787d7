-- Owner-approved sharing and the keyed audit chain (issue 14).
--
-- An agreement gains an optional end date and the reference and date of the DPIA it rests on.
-- A grant becomes a request that takes effect only once an administrator of the organisation
-- that owns the dataset approves it; nobody decides their own request (the CHECK below), and a
-- decided grant names who decided it. Grants made before this migration were never approved by
-- an owner: they become requests and give no access until approved.
ALTER TABLE agreements ADD COLUMN end_date TEXT;                      -- YYYY-MM-DD, optional
ALTER TABLE agreements ADD COLUMN dpia_reference TEXT NOT NULL DEFAULT '';
ALTER TABLE agreements ADD COLUMN dpia_date TEXT;                     -- YYYY-MM-DD, optional

ALTER TABLE agreement_grants ADD COLUMN status TEXT NOT NULL DEFAULT 'requested'
    CHECK (status IN ('requested', 'approved', 'refused'));
ALTER TABLE agreement_grants ADD COLUMN requested_by TEXT NOT NULL DEFAULT 'migration 0023 (granted before owner approval)';
ALTER TABLE agreement_grants ADD COLUMN requested_at TEXT NOT NULL DEFAULT '';
ALTER TABLE agreement_grants ALTER COLUMN requested_by DROP DEFAULT;
ALTER TABLE agreement_grants ALTER COLUMN requested_at DROP DEFAULT;
ALTER TABLE agreement_grants ADD COLUMN decided_by TEXT;
ALTER TABLE agreement_grants ADD COLUMN decided_at TEXT;
ALTER TABLE agreement_grants ADD COLUMN decided_by_org BIGINT REFERENCES organisations(id);
-- When the lapse of an approved grant was first seen and audited.
ALTER TABLE agreement_grants ADD COLUMN lapse_recorded_at TEXT;
ALTER TABLE agreement_grants ADD CONSTRAINT agreement_grants_decision
    CHECK ((status = 'requested') = (decided_by IS NULL));
ALTER TABLE agreement_grants ADD CONSTRAINT agreement_grants_not_own_request
    CHECK (decided_by IS NULL OR (decided_by <> requested_by AND decided_at IS NOT NULL AND decided_by_org IS NOT NULL));

-- The audit chain is keyed (HMAC-SHA-256 with a key kept outside the database) from here on.
-- Rows already written were chained with plain SHA-256: this one row says how many, so that
-- they are verified under the old rule and every later row under the keyed one.
CREATE TABLE audit_chain_upgrade (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    legacy_rows BIGINT NOT NULL
);
INSERT INTO audit_chain_upgrade (id, legacy_rows) SELECT 1, COALESCE(MAX(id), 0) FROM audit_log;

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

CREATE TABLE agreement_grants_0023 (
    agreement_id INTEGER NOT NULL REFERENCES agreements(id),
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    dataset TEXT NOT NULL REFERENCES datasets(slug),
    level TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'refused')),
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decided_by_org INTEGER REFERENCES organisations(id),
    lapse_recorded_at TEXT,            -- when the lapse of an approved grant was first seen and audited
    PRIMARY KEY (agreement_id, org_id, dataset),
    CHECK ((status = 'requested') = (decided_by IS NULL)),
    CHECK (decided_by IS NULL OR (decided_by <> requested_by AND decided_at IS NOT NULL AND decided_by_org IS NOT NULL))
);
INSERT INTO agreement_grants_0023 (agreement_id, org_id, dataset, level, status, requested_by, requested_at)
    SELECT agreement_id, org_id, dataset, level, 'requested', 'migration 0023 (granted before owner approval)', ''
    FROM agreement_grants;
DROP TABLE agreement_grants;
ALTER TABLE agreement_grants_0023 RENAME TO agreement_grants;

-- The audit chain is keyed (HMAC-SHA-256 with a key kept outside the database) from here on.
-- Rows already written were chained with plain SHA-256: this one row says how many, so that
-- they are verified under the old rule and every later row under the keyed one.
CREATE TABLE audit_chain_upgrade (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    legacy_rows INTEGER NOT NULL
);
INSERT INTO audit_chain_upgrade (id, legacy_rows) SELECT 1, COALESCE(MAX(id), 0) FROM audit_log;

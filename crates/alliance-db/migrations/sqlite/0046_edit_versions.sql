-- Two people editing one record at once: the second form sent wrote its stale fields over the
-- first one's change (an indicator's target, a funding allocation, an intervention, a strategy's
-- wording, an agreement, a directory service), and an administrator's page left open
-- reactivated a leaver another administrator had just deactivated. Each such record now counts
-- its changes, as actions do since 0045; an edit names the version its form was opened on and
-- is refused when the record has moved on (`alliance_db::versions`).
ALTER TABLE indicators ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE funding_streams ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE funding_allocations ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE interventions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE priorities ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE commitments ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agreements ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE support_services ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

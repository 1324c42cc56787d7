-- The commissioned service that delivers an intervention (issue 17): an intervention of the
-- register may name the referral service it commissions, so its evaluation can show the
-- service's referrals and outcomes beside the crime figures. Nullable: most interventions
-- (patrols, lighting) deliver no referral service.
ALTER TABLE interventions ADD COLUMN referral_service_id TEXT REFERENCES referral_services(service_id);

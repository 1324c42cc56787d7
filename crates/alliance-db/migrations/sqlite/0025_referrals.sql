-- Referrals (issue 17): commissioned services that take referrals, and the referrals made to
-- them with consent and the least personal data (rules: alliance_core::referrals).
--
-- A commissioned service is a service of the directory of help (support_services) flagged as
-- taking referrals, with the organisation that runs it (its users receive the referrals), the
-- personal fields it needs and its eligibility (JSON of alliance_core's PersonalDataPolicy and
-- Eligibility, capacity included).
CREATE TABLE referral_services (
    service_id TEXT PRIMARY KEY REFERENCES support_services(id),
    run_by_org_id INTEGER NOT NULL REFERENCES organisations(id),
    policy TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    takes_referrals INTEGER NOT NULL DEFAULT 1 CHECK (takes_referrals IN (0, 1)),
    updated_at TEXT NOT NULL
);

-- One referral. The personal fields (name, birth, contact, the consent record and the two
-- organisations) are columns that erasure sets to NULL; what is kept after erasure (service,
-- source, needs, age band, sex, postcode district, dates, decline reason, outcome) is never NULLed.
-- The CHECKs make a referral without consent impossible, and an erased one with a personal field.
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES referral_services(service_id),
    referring_org_id INTEGER REFERENCES organisations(id),
    receiving_org_id INTEGER REFERENCES organisations(id),
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    other_needs TEXT NOT NULL DEFAULT '',       -- need codes, comma-separated
    name_kind TEXT CHECK (name_kind IN ('initials', 'full-name')),
    name TEXT,
    date_of_birth TEXT,                         -- YYYY-MM-DD
    age INTEGER,
    sex TEXT,
    postcode_district TEXT,
    contact_route TEXT,
    contact_detail TEXT,
    age_band TEXT,                              -- on the referral date; kept after erasure
    consent_given_by TEXT,
    consent_date TEXT,
    consent_method TEXT,
    lawful_basis TEXT,
    lawful_basis_reason TEXT,
    status TEXT NOT NULL CHECK (status IN ('received', 'accepted', 'declined', 'engaged', 'closed', 'withdrawn')),
    received_on TEXT NOT NULL,
    accepted_on TEXT,
    declined_on TEXT,
    decline_reason TEXT,
    withdrawn_on TEXT,
    engaged_on TEXT,
    closed_on TEXT,
    outcome TEXT,
    created_at TEXT NOT NULL,
    erased_at TEXT,                             -- RFC 3339; personal fields gone from then on
    CHECK (erased_at IS NOT NULL OR (consent_given_by IS NOT NULL AND consent_date IS NOT NULL
        AND lawful_basis IS NOT NULL AND referring_org_id IS NOT NULL AND receiving_org_id IS NOT NULL)),
    CHECK (lawful_basis IS NULL OR lawful_basis <> 'consent' OR consent_given_by <> 'not-sought'),
    CHECK (erased_at IS NULL OR (name IS NULL AND name_kind IS NULL AND date_of_birth IS NULL AND age IS NULL
        AND contact_route IS NULL AND contact_detail IS NULL AND consent_given_by IS NULL AND consent_date IS NULL
        AND consent_method IS NULL AND lawful_basis IS NULL AND lawful_basis_reason IS NULL
        AND referring_org_id IS NULL AND receiving_org_id IS NULL)),
    CHECK (erased_at IS NULL OR status IN ('declined', 'withdrawn', 'closed')),
    CHECK ((status = 'declined' AND declined_on IS NOT NULL AND decline_reason IS NOT NULL)
        OR (status <> 'declined' AND declined_on IS NULL AND decline_reason IS NULL)),
    CHECK ((status = 'closed' AND closed_on IS NOT NULL AND outcome IS NOT NULL)
        OR (status <> 'closed' AND closed_on IS NULL AND outcome IS NULL)),
    CHECK ((status = 'withdrawn') = (withdrawn_on IS NOT NULL))
);
CREATE INDEX referrals_service ON referrals (service_id);
CREATE INDEX referrals_referring_org ON referrals (referring_org_id);
CREATE INDEX referrals_receiving_org ON referrals (receiving_org_id);

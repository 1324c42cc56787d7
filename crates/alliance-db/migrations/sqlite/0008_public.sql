-- The public side: the Safer Places for Women & Girls Charter, reports of places where someone
-- felt unsafe (with moderation), "you said, we did" responses, and the directory of support
-- services (Open Referral UK shape). Optional values are TEXT (NULL) or integers; no NULL doubles.

-- The charter's commitments: configurable, at most six active ones (checked in alliance_db::public).
CREATE TABLE charter_commitments (
    id INTEGER PRIMARY KEY,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
INSERT INTO charter_commitments (position, title, description) VALUES
    (1, 'A safer environment', 'Creating a safer environment to reduce the risk of crime.'),
    (2, 'Staff who can identify and respond to vulnerability', 'Developing staff''s understanding, skills and confidence to identify and respond to vulnerability.'),
    (3, 'A way to report unacceptable behaviour', 'Providing a mechanism which enables staff, and the public, to report unacceptable behaviour while at work or using the organisation''s services.');

-- An organisation's application to the charter. status: 'submitted' | 'verified' | 'returned'.
CREATE TABLE charter_signatories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    org_type TEXT NOT NULL,
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    staff_trained INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    return_reason TEXT,
    submitted_at TEXT NOT NULL,
    verified_at TEXT,
    verified_by TEXT,
    renewal_due TEXT                  -- YYYY-MM-DD: a year after verification or renewal
);
CREATE INDEX charter_signatories_status ON charter_signatories (status);

-- Venues of a signatory. The location is the named area (ward, LSOA or district) the venue is
-- in; the point (WGS84 text 'lon,lat') only when the organisation gave one.
CREATE TABLE charter_venues (
    id INTEGER PRIMARY KEY,
    signatory_id INTEGER NOT NULL REFERENCES charter_signatories(id),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    area_code TEXT,
    area_name TEXT,
    district_code TEXT,
    point TEXT
);
CREATE INDEX charter_venues_signatory ON charter_venues (signatory_id);

-- How a signatory meets each commitment it agreed to.
CREATE TABLE charter_pledges (
    signatory_id INTEGER NOT NULL REFERENCES charter_signatories(id),
    commitment_id INTEGER NOT NULL REFERENCES charter_commitments(id),
    how_met TEXT NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (signatory_id, commitment_id)
);

-- A report of a place where someone felt unsafe. Nothing identifies the reporter: no IP
-- address, no free text. status: 'pending' | 'approved' | 'rejected'.
-- cell: the 250 m British National Grid cell ('E_N' of its south-west corner), the finest
-- precision ever shown publicly; point: the precise WGS84 'lon,lat', for staff only, only
-- when the reporter clicked a map.
CREATE TABLE unsafe_reports (
    id INTEGER PRIMARY KEY,
    submitted_at TEXT NOT NULL,
    status TEXT NOT NULL,
    moderated_at TEXT,
    moderated_by TEXT,
    place TEXT NOT NULL,              -- what the reporter typed or 'Point on the map'
    area_kind TEXT,                   -- 'ward' | 'lsoa21' | 'lsoa11' | 'district'
    area_code TEXT,
    area_name TEXT,
    ward_code TEXT,
    district_code TEXT,
    cell TEXT,
    point TEXT,
    incident_date TEXT NOT NULL,      -- YYYY-MM-DD
    time_of_day TEXT NOT NULL,        -- 'morning' | 'afternoon' | 'evening' | 'night'
    reasons TEXT NOT NULL,            -- comma-separated slugs
    age_band TEXT,
    gender TEXT
);
CREATE INDEX unsafe_reports_status ON unsafe_reports (status);

-- "You said, we did": the partnership's published responses, tied to an area.
CREATE TABLE public_responses (
    id INTEGER PRIMARY KEY,
    area_kind TEXT NOT NULL,          -- 'ward' | 'district'
    area_code TEXT NOT NULL,
    area_name TEXT NOT NULL,
    you_said TEXT NOT NULL,
    we_did TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL
);

-- The directory of support services and positive activities (Open Referral UK fields).
CREATE TABLE support_services (
    id TEXT PRIMARY KEY,              -- the ORUK service id
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    organisation_name TEXT NOT NULL,
    organisation_description TEXT NOT NULL,
    url TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    min_age INTEGER NOT NULL,         -- 0 when open to all ages
    max_age INTEGER NOT NULL,         -- 200 when no upper limit
    needs TEXT NOT NULL,              -- comma-separated need slugs (ORUK taxonomy terms)
    areas TEXT NOT NULL,              -- ORUK service_area: '|'-separated area names
    opening_times TEXT NOT NULL,      -- ORUK regular_schedule description
    kind TEXT NOT NULL,               -- 'support' | 'activity'
    updated_at TEXT NOT NULL
);

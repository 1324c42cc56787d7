-- Partner data: emergency department assaults (ISTV / Cardiff Model), the places they are
-- geocoded against, and partner indicator series.

CREATE TABLE ed_assaults (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    site_code TEXT NOT NULL,           -- ODS site code of the treating department
    arrival_at TEXT,                   -- local date-time YYYY-MM-DDTHH:MM:SS; empty when not sent
    assault_at TEXT NOT NULL,          -- local date-time YYYY-MM-DDTHH:MM:SS
    assault_month TEXT NOT NULL,       -- YYYY-MM of assault_at
    method TEXT NOT NULL,              -- code of alliance_ingest::ed::codes::ASSAULT_METHODS
    method_other TEXT,
    location_type TEXT NOT NULL,       -- code of alliance_ingest::ed::codes::LOCATION_TYPES
    location_description TEXT,
    location_key TEXT,                 -- normalised description (alliance_core::geo::gazetteer::normalise)
    age_band TEXT,
    sex TEXT,
    geo_status TEXT NOT NULL,          -- 'matched', 'queued' (low or no match), 'resolved', 'unlocatable', 'none' (no text)
    geo_confidence TEXT,               -- 'high', 'medium', 'low' (of the automatic match)
    geo_score REAL,
    geo_kind TEXT,                     -- 'street' or 'venue'
    geo_name TEXT,
    district_code TEXT,
    longitude REAL,
    latitude REAL
);
CREATE INDEX ed_assaults_import ON ed_assaults (import_id);
CREATE INDEX ed_assaults_month ON ed_assaults (assault_month);
CREATE INDEX ed_assaults_queue ON ed_assaults (geo_status, location_key);

-- Known venues (pubs, clubs, shops...) to geocode against, besides police street names.
CREATE TABLE venues (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                -- e.g. 'pub', 'nightclub', 'takeaway'
    district_code TEXT,
    longitude REAL NOT NULL,
    latitude REAL NOT NULL,
    source TEXT NOT NULL,              -- who added it: 'cli', 'charter', 'web:<user>'
    UNIQUE (name, district_code)
);

-- A person's choice of place for a location description (by its normalised text); applied
-- to every assault with that text, now and in later imports.
CREATE TABLE ed_geocode_resolutions (
    location_key TEXT PRIMARY KEY,
    geo_kind TEXT,                     -- NULL when the person said the place cannot be located
    geo_name TEXT,
    district_code TEXT,
    longitude REAL,
    latitude REAL,
    resolved_by TEXT NOT NULL,
    resolved_at TEXT NOT NULL
);

CREATE TABLE partner_indicator_values (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    indicator TEXT NOT NULL,
    area_code TEXT NOT NULL,
    area_kind TEXT NOT NULL,           -- 'lsoa', 'ward', 'district'
    period TEXT NOT NULL,              -- as given: YYYY-MM, YYYY-Qn or YYYY/YY
    period_kind TEXT NOT NULL,         -- 'month', 'quarter', 'financial-year'
    period_start TEXT NOT NULL,        -- first month YYYY-MM
    period_end TEXT NOT NULL,          -- last month YYYY-MM
    age_band TEXT NOT NULL DEFAULT '', -- '' = all ages
    sex TEXT NOT NULL DEFAULT '',      -- '' = all
    value REAL NOT NULL
);
CREATE INDEX partner_indicator_values_import ON partner_indicator_values (import_id);
CREATE UNIQUE INDEX partner_indicator_values_key ON partner_indicator_values (indicator, area_code, period, age_band, sex);

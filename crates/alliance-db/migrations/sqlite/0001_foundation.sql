-- Foundation: import provenance, police recorded crime, area reference data.

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,              -- 'police', 'areas'
    kind TEXT NOT NULL,                -- 'street', 'outcomes', 'imd-2019', 'lsoa21', ...
    unit TEXT NOT NULL,                -- what a newer file replaces, e.g. 'staffordshire/2025-03/street'
    force TEXT,
    month TEXT,
    file_name TEXT NOT NULL,
    checksum TEXT NOT NULL,            -- SHA-256 of the file as given
    rows_read INTEGER NOT NULL DEFAULT 0,
    rows_added INTEGER NOT NULL DEFAULT 0,
    rows_replaced INTEGER NOT NULL DEFAULT 0,
    rows_without_location INTEGER NOT NULL DEFAULT 0,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,         -- RFC 3339, UTC
    superseded_by INTEGER REFERENCES imports(id)
);
CREATE INDEX imports_current_unit ON imports (unit, superseded_by);

CREATE TABLE police_crimes (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    crime_id TEXT,                     -- empty for anti-social behaviour; may repeat
    crime_key INTEGER,                 -- integer key of crime_id (see alliance_core::domain::police::crime_key)
    month TEXT NOT NULL,               -- YYYY-MM
    longitude REAL,
    latitude REAL,
    location TEXT NOT NULL,            -- 'On or near ...' or 'No location'
    lsoa_code TEXT,                    -- 2011 codes to 2022-12, 2021 codes from 2023-01
    crime_type TEXT NOT NULL,
    street_outcome TEXT,               -- 'Last outcome category' of the street file
    outcome TEXT,                      -- latest outcome: from outcomes files when any, else street_outcome
    outcome_month TEXT                 -- month of that outcome when it came from an outcomes file
);
CREATE INDEX police_crimes_import ON police_crimes (import_id);
CREATE INDEX police_crimes_crime_key ON police_crimes (crime_key) WHERE crime_key IS NOT NULL;
CREATE INDEX police_crimes_month ON police_crimes (month);

CREATE TABLE police_outcomes (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    crime_id TEXT NOT NULL,
    crime_key INTEGER NOT NULL,
    month TEXT NOT NULL,               -- the month the outcome was recorded
    lsoa_code TEXT,
    outcome_type TEXT NOT NULL
);
CREATE INDEX police_outcomes_import ON police_outcomes (import_id);
CREATE INDEX police_outcomes_crime_key ON police_outcomes (crime_key, month, id);

CREATE TABLE districts (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

-- One row per LSOA code of either census (unchanged codes are one row in both).
CREATE TABLE lsoas (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    district_code TEXT,
    in_2011 INTEGER NOT NULL DEFAULT 0,
    in_2021 INTEGER NOT NULL DEFAULT 0,
    population INTEGER,
    population_source TEXT,
    imd_rank INTEGER,
    imd_decile INTEGER,
    imd_source TEXT
);
CREATE INDEX lsoas_district ON lsoas (district_code);

CREATE TABLE area_boundaries (
    kind TEXT NOT NULL,                -- 'lsoa11', 'lsoa21', 'ward'
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    district_code TEXT,
    geometry TEXT NOT NULL,            -- GeoJSON geometry, WGS84
    PRIMARY KEY (kind, code)
);

-- LSOA 2011 -> 2021 links derived from the boundaries; weight = share of the 2011 area.
CREATE TABLE lsoa_links (
    lsoa11 TEXT NOT NULL,
    lsoa21 TEXT NOT NULL,
    weight REAL NOT NULL,
    PRIMARY KEY (lsoa11, lsoa21)
);

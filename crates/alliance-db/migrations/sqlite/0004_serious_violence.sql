-- The serious violence definition, as data: versioned definitions, and per version the
-- mapping of each source's categories to serious violence groups, and the groups a source
-- cannot show. The default definition is stored as version 1 on first use (from
-- alliance_core::analytics::sna::definition::default_definition).

CREATE TABLE sv_definitions (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created TEXT NOT NULL,             -- RFC 3339, UTC
    created_by TEXT NOT NULL,
    notes TEXT NOT NULL
);

CREATE TABLE sv_mappings (
    definition_id INTEGER NOT NULL REFERENCES sv_definitions(id),
    position INTEGER NOT NULL,
    source TEXT NOT NULL,              -- 'police_crime_type', 'police_offence_code', 'ed_assault_method', 'icd10'
    category TEXT NOT NULL,            -- as the source writes it (matched case-insensitively)
    sv_group TEXT NOT NULL,            -- 'homicide', 'knife_and_sharp_object', 'firearms', 'serious_assault', ...
    fit TEXT NOT NULL,                 -- 'exact', 'broader', 'proxy'
    in_headline INTEGER NOT NULL,         -- 0/1: counts towards the headline serious violence total
    note TEXT NOT NULL,
    PRIMARY KEY (definition_id, position)
);

CREATE TABLE sv_gaps (
    definition_id INTEGER NOT NULL REFERENCES sv_definitions(id),
    position INTEGER NOT NULL,
    source TEXT NOT NULL,
    sv_group TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (definition_id, position)
);

-- The SNA reads only the mapped crime types, grouped by month, LSOA and outcome: a covering
-- index makes those scans index-only.
CREATE INDEX police_crimes_sna ON police_crimes (crime_type, month, lsoa_code, outcome);

-- Intervention register and stored evaluations.

CREATE TABLE interventions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    intervention_type TEXT NOT NULL,   -- patrols, lighting_cctv, target_hardening, navigator, mentoring, education, other
    strategy_priority TEXT,            -- free text until the governance register links priorities
    strategy_priority_id INTEGER,      -- the priority, once linked
    lead_organisation TEXT,
    organisation_id INTEGER,           -- the lead organisation, once organisations exist
    funding_stream TEXT,
    funding_pence INTEGER,             -- amount in pence (no floating point for money)
    start_date TEXT,                   -- YYYY-MM-DD
    end_date TEXT,                     -- YYYY-MM-DD
    place_kind TEXT NOT NULL,          -- 'geojson' (polygons and points with radius_metres), 'lsoa', 'ward'
    place_codes TEXT NOT NULL DEFAULT '', -- comma-separated codes for 'lsoa' and 'ward'
    place_geometry TEXT,               -- GeoJSON in WGS84 for 'geojson'
    crime_types TEXT NOT NULL DEFAULT '', -- one data.police.uk crime type per line; empty for all
    emmie_effect TEXT,                 -- reduced, mixed, no_effect, increased
    emmie_effect_quality TEXT,         -- quality of evidence: strong, moderate, limited, none (the same for the four below)
    emmie_mechanism TEXT,
    emmie_moderators TEXT,
    emmie_implementation TEXT,
    emmie_economic_cost TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE intervention_evaluations (
    id INTEGER PRIMARY KEY,
    intervention_id INTEGER NOT NULL REFERENCES interventions(id),
    design TEXT NOT NULL,              -- EvaluationDesign JSON
    basis TEXT NOT NULL,               -- areas, data used and the input of the statistics (JSON)
    result TEXT NOT NULL,              -- EvaluationResult JSON
    import_ids TEXT NOT NULL,          -- comma-separated import ids the counts came from
    data_from TEXT,                    -- first month counted
    data_to TEXT,                      -- last month counted
    run_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    run_at TEXT NOT NULL               -- last run (re-runs update it)
);
CREATE INDEX intervention_evaluations_intervention ON intervention_evaluations (intervention_id);

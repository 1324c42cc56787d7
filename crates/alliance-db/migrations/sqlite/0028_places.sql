-- The place register (issue 15): parks, town centres, streets and zones a partnership names,
-- drawn on the map or uploaded as GeoJSON, used as evaluation areas by name. Names are unique
-- whatever their case, so "Hanley Park" and "hanley park" cannot both exist and two requests
-- adding the same place at once leave one.
CREATE TABLE places (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- A GeoJSON FeatureCollection in WGS84, as checked by alliance_core::domain::place.
    geometry TEXT NOT NULL,
    shapes BIGINT NOT NULL CHECK (shapes > 0),
    vertices BIGINT NOT NULL CHECK (vertices > 0),
    square_metres REAL NOT NULL CHECK (square_metres > 0),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX places_name ON places (lower(name));

-- Where each LSOA's located police records lie: the box of their longitudes and latitudes,
-- kept by every street import in its own transaction (alliance-db/src/police/extents.rs).
-- A read of the records in a small box (an evaluation's areas, the SNA of a place) takes the
-- LSOAs whose box meets it and reads their records by the area index (migration 0038),
-- instead of every record of its months: on the national archive (20 million records) a
-- park over 24 months read 13 million records by the month index.
-- Records with a location but no LSOA code are kept under the code ''.
CREATE TABLE police_lsoa_extents (
    lsoa_code TEXT PRIMARY KEY,
    min_lon DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL
);

INSERT INTO police_lsoa_extents (lsoa_code, min_lon, max_lon, min_lat, max_lat)
SELECT COALESCE(lsoa_code, ''), MIN(longitude), MAX(longitude), MIN(latitude), MAX(latitude)
FROM police_crimes WHERE longitude IS NOT NULL AND latitude IS NOT NULL
GROUP BY COALESCE(lsoa_code, '');

-- Police records counted by import, month, crime type and district, kept current by every
-- police and area import in the import's own transaction (alliance-db/src/police/month_counts.rs).
-- The dashboard, the public figures and `alliance counts` group these few rows (about a
-- hundred per force and month) instead of scanning every record on each request: at the
-- national archive's size (20 million records) a scan took seconds per page.
CREATE TABLE police_month_counts (
    import_id BIGINT NOT NULL REFERENCES imports(id),
    month TEXT NOT NULL,
    crime_type TEXT NOT NULL,
    district_code TEXT,          -- NULL: no location, or an LSOA without a stored district
    n BIGINT NOT NULL
);
CREATE INDEX police_month_counts_import ON police_month_counts (import_id);
CREATE INDEX police_month_counts_month ON police_month_counts (month);

INSERT INTO police_month_counts (import_id, month, crime_type, district_code, n)
SELECT c.import_id, c.month, c.crime_type, l.district_code, COUNT(*)
FROM police_crimes c LEFT JOIN lsoas l ON l.code = c.lsoa_code
GROUP BY c.import_id, c.month, c.crime_type, l.district_code;

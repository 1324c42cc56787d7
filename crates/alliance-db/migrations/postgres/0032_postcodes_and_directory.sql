-- Postcodes (issue 16): an ONS Postcode Directory or Code-Point Open file a deployment
-- downloads (Open Government Licence), imported by `alliance import postcodes`. Each import
-- replaces the whole table. Used by the public report form, the directory search and the
-- charter map to place a postcode.
CREATE TABLE postcodes (
    postcode TEXT PRIMARY KEY,          -- normalised: upper case, one space ('ST1 1AA')
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    lsoa_code TEXT,                     -- as the file gives it (2021 when it has both)
    district_code TEXT                  -- local authority district (GSS code)
);
CREATE INDEX postcodes_district ON postcodes (district_code);

-- The directory of help edited on the web: where a service is (a postcode, so the public can
-- search by distance), who last changed it, and a withdrawal (kept for the record, never
-- shown to the public).
ALTER TABLE support_services ADD COLUMN postcode TEXT NOT NULL DEFAULT '';
ALTER TABLE support_services ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
ALTER TABLE support_services ADD COLUMN withdrawn_at TEXT;
ALTER TABLE support_services ADD COLUMN withdrawn_by TEXT;

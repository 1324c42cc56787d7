-- National scale (issue 18): the partnership-scale questions read one area's records out of a
-- national archive. Measured on 19.7 million street rows (SQLite, 2026-12-03) the SNA of
-- Staffordshire's nine districts took 10.7 s because each scan read every record to keep the
-- area's 3%. The SNA's covering index now leads with the LSOA, then the month: a query joined to
-- `lsoas` by district reads only the area's LSOAs' entries of the months asked (index only), and
-- a query without an area reads the whole index as before. Same columns, so a bulk import's
-- rebuild costs what it did (`police/pg_deferred.rs`).
DROP INDEX IF EXISTS police_crimes_sna;
CREATE INDEX police_crimes_sna ON police_crimes (lsoa_code, month, crime_type, outcome);
-- A bulk run that was interrupted with the index dropped rebuilds it from its recorded SQL.
UPDATE police_deferred_indexes
SET sql = 'CREATE INDEX police_crimes_sna ON police_crimes USING btree (lsoa_code, month, crime_type, outcome)'
WHERE name = 'police_crimes_sna';

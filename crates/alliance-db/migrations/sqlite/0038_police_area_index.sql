-- National scale (issue 18): the partnership-scale questions read one area's records out of a
-- national archive. Measured on 19.7 million street rows (SQLite, 2026-12-03) the SNA of
-- Staffordshire's nine districts took 10.7 s and of Stoke-on-Trent 11.9 s, because each scan
-- read every record to keep the area's 3%. With the records indexed by LSOA and month, a query
-- joined to `lsoas` by district reads only the area's LSOAs' records of the months asked.
-- Its keys arrive in random order, so a bulk import drops it and rebuilds it by one sort at its
-- end (`police/sqlite_bulk/bulk.rs`), like the Crime ID indexes.
CREATE INDEX IF NOT EXISTS police_crimes_area ON police_crimes (lsoa_code, month);

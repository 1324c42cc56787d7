-- PostgreSQL only: its police records' month, LSOA, crime type and outcome columns take the
-- collation "C" (see migrations/postgres/0041). SQLite's text already compares byte by byte
-- (BINARY), so nothing changes here.
SELECT 1;

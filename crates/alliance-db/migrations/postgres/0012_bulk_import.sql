-- Bulk police imports into SQLite drop the police tables' indexes by Crime ID for the run and
-- rebuild them at its end (see alliance-db/src/police/sqlite_bulk/bulk.rs). These two tables hold
-- what a run still owes, so an interrupted run is finished when the database is next opened.
-- (PostgreSQL imports do not use them; the tables keep both backends' schemas the same.)

-- The SQL of each index dropped for a run in progress.
CREATE TABLE police_deferred_indexes (
    name TEXT PRIMARY KEY,
    sql TEXT NOT NULL
);

-- Crimes whose latest outcome must be recomputed once the indexes are back: by the import
-- that added or names them, or by key (the crimes a replaced outcomes import named).
CREATE TABLE police_refresh_pending (
    import_id BIGINT,
    crime_key BIGINT
);

-- A SQLite bulk run into a database that already holds police data (a partnership that
-- imports its own force first and a region or the nation later) seeds its map of latest
-- outcomes from the outcomes already stored, so its street files' crimes take their latest
-- outcome as they are inserted. Its outcomes files' refreshes then concern only the crimes
-- stored before each of them: `crimes_up_to` is the highest crime id at that file's commit
-- (NULL: every crime the file names, as before). See alliance-db/src/police/sqlite_bulk/bulk.rs.
ALTER TABLE police_refresh_pending ADD COLUMN crimes_up_to BIGINT;

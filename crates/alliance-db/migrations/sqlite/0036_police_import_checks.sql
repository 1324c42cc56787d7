-- PostgreSQL police imports (issue 18): on PostgreSQL the police tables' foreign keys to
-- `imports` become statement-level checks (see migrations/postgres/0036). SQLite keeps its
-- foreign keys (its bulk import connection does not check them per row; see
-- alliance-db/src/police/sqlite_bulk.rs), so there is nothing to change here.
SELECT 1;

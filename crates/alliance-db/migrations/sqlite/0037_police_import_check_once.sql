-- PostgreSQL police imports (issue 18): the statement-level import check of PostgreSQL's
-- migration 0036 reads a statement's new rows once (see migrations/postgres/0037). SQLite keeps
-- its foreign keys, so there is nothing to change here.
SELECT 1;

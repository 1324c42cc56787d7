-- National scale (issue 18): the dashboard groups the whole summary `police_month_counts` by
-- month and crime type on every request. At 19.7 million records the summary holds about
-- 200,000 rows (import × crime type × district), and grouping them through a sort took about
-- 200 ms (SQLite, 2026-12-03). An index in that order, holding every column the pages read,
-- serves the grouping in index order without reading the table (about 40 ms) and the
-- month-range queries that the month index served, so it replaces that index.
DROP INDEX IF EXISTS police_month_counts_month;
CREATE INDEX police_month_counts_cover ON police_month_counts (month, crime_type, district_code, n);

-- A form sent twice (a double click, a retry after a slow answer, two tabs) made two records:
-- two identical funding allocations counted twice in the Board pack, two meetings, two
-- public reports inflating the published figures. Such a form now carries a one-time key;
-- the first submission stores it here with what it made, under the primary key, and a
-- repeat finds it and makes nothing (`alliance_db::submissions`). A key is kept a day: long
-- enough for any retry, and the table stays small.
CREATE TABLE form_submissions (
    submission_key TEXT PRIMARY KEY,
    made_id BIGINT,
    created_at TEXT NOT NULL
);
CREATE INDEX form_submissions_created_at ON form_submissions (created_at);

-- The partnership this deployment serves (issue 16): one row, its profile as JSON
-- (`alliance_core::partnership::Profile`). The CHECK makes a second profile impossible, so two
-- set-up requests racing each other cannot both succeed.
CREATE TABLE partnership (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    profile TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Governance and performance: the strategy (priorities, commitments), the action plan with
-- its append-only history, the performance framework (indicators and values), funding,
-- meetings. Money is whole pence (BIGINT); dates are YYYY-MM-DD text; quarters 'YYYYQn'
-- (calendar quarters); financial years 'YYYY/YY'. Organisations are referred to by id
-- (organisations of migration 0002); interventions (migration 0006) by a nullable id with no
-- foreign key so this migration does not depend on that table.

CREATE TABLE strategies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    period_start TEXT NOT NULL,        -- first year, e.g. '2024'
    period_end TEXT NOT NULL,          -- last year, e.g. '2029'
    aim TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE priorities (
    id INTEGER PRIMARY KEY,
    strategy_id INTEGER NOT NULL REFERENCES strategies(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    UNIQUE (strategy_id, name)
);

CREATE TABLE commitments (
    id INTEGER PRIMARY KEY,
    priority_id INTEGER NOT NULL REFERENCES priorities(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL                 -- completes "we will ..."
);
CREATE INDEX commitments_priority ON commitments (priority_id);

CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    commitment_id INTEGER NOT NULL REFERENCES commitments(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_org_id INTEGER NOT NULL,     -- organisations(id)
    lead_person TEXT NOT NULL,
    start_date TEXT,
    due_date TEXT,
    status TEXT NOT NULL,              -- alliance_core::governance::ActionStatus
    intervention_id INTEGER,           -- interventions(id) when that table exists; no FK
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX actions_owner ON actions (owner_org_id);
CREATE INDEX actions_commitment ON actions (commitment_id);

CREATE TABLE action_milestones (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    title TEXT NOT NULL,
    due_date TEXT,
    done_on TEXT
);

CREATE TABLE action_dependencies (
    action_id INTEGER NOT NULL REFERENCES actions(id),
    depends_on INTEGER NOT NULL REFERENCES actions(id),
    PRIMARY KEY (action_id, depends_on)
);

-- Dated progress updates by the owning organisation's users.
CREATE TABLE action_updates (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    on_date TEXT NOT NULL,             -- the date the update reports on
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    by_user TEXT NOT NULL,
    by_org_id INTEGER,
    recorded_at TEXT NOT NULL
);
CREATE INDEX action_updates_action ON action_updates (action_id);

-- Append-only: every change to an action, one row per field changed.
CREATE TABLE action_history (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    effective_on TEXT NOT NULL,        -- YYYY-MM-DD the change takes effect (the update's date)
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    by_user TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX action_history_action ON action_history (action_id);
CREATE TRIGGER action_history_no_update BEFORE UPDATE ON action_history
BEGIN SELECT RAISE(ABORT, 'action_history is append-only'); END;
CREATE TRIGGER action_history_no_delete BEFORE DELETE ON action_history
BEGIN SELECT RAISE(ABORT, 'action_history is append-only'); END;

CREATE TABLE indicators (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                -- 'input' | 'output' | 'outcome'
    definition TEXT NOT NULL,
    unit TEXT NOT NULL,
    frequency TEXT NOT NULL,           -- 'quarterly' | 'annual' | 'monthly'
    direction TEXT NOT NULL,           -- 'up' | 'down': which way is good
    baseline DOUBLE PRECISION,
    baseline_period TEXT,
    target DOUBLE PRECISION,
    tolerance DOUBLE PRECISION,        -- absolute, in the indicator's unit
    owner_org_id INTEGER,
    priority_id INTEGER,
    source TEXT NOT NULL,              -- 'entered' or 'computed:<rule>'
    created_at TEXT NOT NULL
);

CREATE TABLE indicator_values (
    indicator_id INTEGER NOT NULL REFERENCES indicators(id),
    period TEXT NOT NULL,              -- 'YYYYQn'
    value DOUBLE PRECISION NOT NULL,
    note TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at TEXT NOT NULL,
    PRIMARY KEY (indicator_id, period)
);

CREATE TABLE funding_streams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    funder TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE funding_amounts (
    stream_id INTEGER NOT NULL REFERENCES funding_streams(id),
    financial_year TEXT NOT NULL,      -- '2025/26'
    amount_pence BIGINT NOT NULL,
    PRIMARY KEY (stream_id, financial_year)
);

CREATE TABLE funding_allocations (
    id INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL REFERENCES funding_streams(id),
    financial_year TEXT NOT NULL,
    org_id INTEGER,
    intervention_id INTEGER,           -- interventions(id); no FK
    purpose TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE funding_spend (
    allocation_id INTEGER NOT NULL REFERENCES funding_allocations(id),
    quarter TEXT NOT NULL,             -- 'YYYYQn'
    amount_pence BIGINT NOT NULL,
    evaluation_pence BIGINT NOT NULL,  -- the part of amount spent on evaluation
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (allocation_id, quarter)
);

CREATE TABLE meetings (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,                -- 'board' | 'delivery-group'
    held_on TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE meeting_attendees (
    meeting_id INTEGER NOT NULL REFERENCES meetings(id),
    org_id INTEGER NOT NULL,
    person TEXT NOT NULL
);

-- Decisions, escalations to the Board, and actions arising (which join the action plan).
CREATE TABLE meeting_items (
    id INTEGER PRIMARY KEY,
    meeting_id INTEGER NOT NULL REFERENCES meetings(id),
    kind TEXT NOT NULL,                -- 'decision' | 'escalation' | 'action'
    text TEXT NOT NULL,
    action_id INTEGER
);
CREATE INDEX meeting_items_meeting ON meeting_items (meeting_id);

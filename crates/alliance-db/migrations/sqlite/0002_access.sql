-- Access and trust: organisations, users, sessions, datasets and data-sharing agreements,
-- API tokens, and the hash-chained audit log.

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    org_type TEXT NOT NULL,            -- alliance_core::access::OrgType, e.g. 'health'
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,        -- stored lower-case
    name TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    role TEXT NOT NULL,                -- alliance_core::access::Role, e.g. 'partner-user'
    password_hash TEXT NOT NULL,       -- argon2id, PHC string
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,                 -- RFC 3339 UTC; sign-in refused until then
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,       -- SHA-256 (hex) of the cookie's token; the token itself is never stored
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE datasets (
    slug TEXT PRIMARY KEY,             -- 'police-recorded-crime', 'ed-assaults', 'indicators:education', ...
    name TEXT NOT NULL,
    owner_org_id INTEGER REFERENCES organisations(id),
    open_data INTEGER NOT NULL DEFAULT 0
);
INSERT INTO datasets (slug, name, open_data) VALUES
    ('police-recorded-crime', 'Police recorded crime (data.police.uk)', 1),
    ('ed-assaults', 'Emergency department assaults (ISTV, Cardiff Model)', 0),
    ('indicators:education', 'Partner indicators: school suspensions and exclusions', 0),
    ('indicators:youth-justice', 'Partner indicators: youth justice first-time entrants', 0),
    ('indicators:probation', 'Partner indicators: probation caseload', 0),
    ('indicators:health', 'Partner indicators: ambulance call-outs and hospital admissions for assault', 0);

CREATE TABLE agreements (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    purpose TEXT NOT NULL,
    lawful_basis TEXT NOT NULL,
    review_date TEXT NOT NULL,         -- YYYY-MM-DD
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE agreement_parties (
    agreement_id INTEGER NOT NULL REFERENCES agreements(id),
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (agreement_id, org_id)
);

-- What an agreement grants: an organisation, a dataset, a level ('none', 'aggregate', 'record').
CREATE TABLE agreement_grants (
    agreement_id INTEGER NOT NULL REFERENCES agreements(id),
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    dataset TEXT NOT NULL REFERENCES datasets(slug),
    level TEXT NOT NULL,
    PRIMARY KEY (agreement_id, org_id, dataset)
);

CREATE TABLE dpias (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    datasets TEXT NOT NULL,            -- the datasets it assesses, comma-separated slugs
    completed_on TEXT NOT NULL,        -- YYYY-MM-DD
    review_date TEXT NOT NULL,         -- YYYY-MM-DD
    summary TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,   -- SHA-256 (hex) of the token; shown once, never stored
    scopes TEXT NOT NULL,              -- space-separated, e.g. 'upload:police read:counts'
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

-- Append-only: each row's hash is SHA-256(prev_hash || canonical row); see alliance_db::audit.
-- prev_hash is unique so two writers racing for the same predecessor cannot fork the chain.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT NOT NULL,
    prev_hash TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_action ON audit_log (action);

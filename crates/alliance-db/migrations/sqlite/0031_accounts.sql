-- Accounts (issue 16): invitations and password resets by e-mail, and the partnership's logo.

-- A single-use link sent by e-mail: an invitation to set up an account (purpose
-- 'invitation': the invitee's name, organisation and role wait here until they choose a
-- password) or a password reset (purpose 'reset': the user's id). Only the SHA-256 of the
-- link's random token is stored. A link works while used_at is NULL and expires_at (RFC 3339
-- UTC) is later than now; using it sets used_at in the same transaction as its change.
CREATE TABLE account_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    email TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    name TEXT,
    org_id INTEGER REFERENCES organisations(id),
    role TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    CHECK ((purpose = 'invitation' AND name IS NOT NULL AND org_id IS NOT NULL AND role IS NOT NULL)
        OR (purpose = 'reset' AND user_id IS NOT NULL))
);
CREATE INDEX account_tokens_email ON account_tokens (email);

-- The partnership's logo (one row): a PNG checked by alliance_core::logo (magic bytes, chunk
-- structure, dimensions, size), stored as hex so both backends keep it as text.
CREATE TABLE partnership_logo (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    png_hex TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

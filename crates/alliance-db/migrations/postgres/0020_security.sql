-- Security: abuse limits kept in the database (so every server on it shares them), API
-- token expiry, and an index to purge expired sessions.

-- Hits of one client on one limited action in one fixed window (see alliance_db::access::limits).
CREATE TABLE rate_limits (
    scope TEXT NOT NULL,               -- 'sign-in', 'unsafe-report', 'charter-join', ...
    client TEXT NOT NULL,              -- HMAC-SHA256 (hex) of the client's address group under the day's secret
    window_start BIGINT NOT NULL,      -- Unix seconds, a multiple of the window's length
    hits BIGINT NOT NULL,
    PRIMARY KEY (scope, client, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- The key of each UTC day's client hashes, made by the first server to need it and deleted
-- the day after: an address never reaches the database, and a key cannot be linked across days.
CREATE TABLE rate_limit_secrets (
    day BIGINT PRIMARY KEY,            -- days since 1970-01-01 UTC
    secret TEXT NOT NULL               -- 32 random bytes, hex
);

-- RFC 3339 UTC; a token is refused from then on. Tokens made before this migration get a
-- year from now, so no working integration stops at once.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
UPDATE api_tokens SET expires_at = to_char((now() AT TIME ZONE 'UTC') + INTERVAL '1 year', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

CREATE INDEX sessions_expiry ON sessions (expires_at);

-- The operator console. IF NOT EXISTS: before this migration the console made its own
-- tables, with these very definitions, when it opened.
CREATE TABLE IF NOT EXISTS console_operators (name TEXT PRIMARY KEY, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS console_sessions (token_hash TEXT PRIMARY KEY,
    operator TEXT NOT NULL, csrf TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS console_audit (seq BIGINT PRIMARY KEY, ts REAL NOT NULL,
    operator TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, why TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS console_notes (account TEXT NOT NULL, ts REAL NOT NULL,
    operator TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS console_notes_account ON console_notes (account, ts);
CREATE TABLE IF NOT EXISTS console_appeals (id TEXT PRIMARY KEY, ts REAL NOT NULL,
    account TEXT NOT NULL, message_id TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS console_releases (seq BIGINT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE, sender TEXT NOT NULL, recipients TEXT NOT NULL,
    text TEXT, operator TEXT NOT NULL, ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS console_decisions (message_id TEXT PRIMARY KEY,
    label TEXT NOT NULL, operator TEXT NOT NULL, ts REAL NOT NULL, action TEXT NOT NULL,
    message_ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS console_decisions_ts ON console_decisions (message_ts);
CREATE TABLE IF NOT EXISTS console_campaigns (campaign TEXT PRIMARY KEY,
    status TEXT NOT NULL, operator TEXT NOT NULL, ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS console_cursors (name TEXT PRIMARY KEY, seq BIGINT NOT NULL);
-- Failed logins per name and per address, for the login limit every node enforces alike.
CREATE TABLE IF NOT EXISTS console_login_failures (key TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS console_login_failures_key ON console_login_failures (key, ts);

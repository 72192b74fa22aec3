-- The operator console, shared by every node: one login, one audit log, one release queue.
CREATE TABLE console_operators (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL);
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY, operator TEXT NOT NULL, csrf TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION NOT NULL);
CREATE TABLE console_audit (
    seq BIGINT PRIMARY KEY, ts DOUBLE PRECISION NOT NULL, operator TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, why TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE console_notes (
    account TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL, operator TEXT NOT NULL,
    text TEXT NOT NULL);
CREATE INDEX console_notes_account ON console_notes (account, ts);
CREATE TABLE console_appeals (
    id TEXT PRIMARY KEY, ts DOUBLE PRECISION NOT NULL, account TEXT NOT NULL,
    message_id TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE console_releases (
    seq BIGINT PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, sender TEXT NOT NULL,
    recipients TEXT NOT NULL, text TEXT, operator TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL);
CREATE TABLE console_decisions (
    message_id TEXT PRIMARY KEY, label TEXT NOT NULL, operator TEXT NOT NULL,
    ts DOUBLE PRECISION NOT NULL, action TEXT NOT NULL, message_ts DOUBLE PRECISION NOT NULL);
CREATE INDEX console_decisions_ts ON console_decisions (message_ts);
CREATE TABLE console_campaigns (
    campaign TEXT PRIMARY KEY, status TEXT NOT NULL, operator TEXT NOT NULL,
    ts DOUBLE PRECISION NOT NULL);
-- How far a reader of the release queue has gone (the Matrix resend notices).
CREATE TABLE console_cursors (name TEXT PRIMARY KEY, seq BIGINT NOT NULL);
-- Failed logins per name and per address, for the login limit every node enforces alike.
CREATE TABLE console_login_failures (key TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL);
CREATE INDEX console_login_failures_key ON console_login_failures (key, ts);

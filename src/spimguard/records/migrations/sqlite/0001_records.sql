-- The verdict log, reports and campaign messages (IF NOT EXISTS: databases made
-- before versioned migrations already hold these tables).
CREATE TABLE IF NOT EXISTS verdict_log (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, type TEXT NOT NULL, account TEXT NOT NULL,
    session TEXT NOT NULL, action TEXT NOT NULL, score REAL NOT NULL, signals TEXT NOT NULL,
    text_sha256 TEXT NOT NULL, text TEXT, fingerprint TEXT NOT NULL, domains TEXT NOT NULL,
    result BLOB NOT NULL, keep BLOB NOT NULL DEFAULT x'');
CREATE INDEX IF NOT EXISTS verdict_log_ts ON verdict_log (ts);
CREATE INDEX IF NOT EXISTS verdict_log_account ON verdict_log (account, ts)
    WHERE action NOT IN ('', 'deliver');
CREATE INDEX IF NOT EXISTS verdict_log_session ON verdict_log (account, session, ts);
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, reporter TEXT NOT NULL, message_id TEXT NOT NULL,
    label TEXT NOT NULL, text TEXT NOT NULL, sender TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reports_message ON reports (message_id);
CREATE INDEX IF NOT EXISTS reports_ts ON reports (ts);
CREATE TABLE IF NOT EXISTS campaign_messages (
    campaign TEXT NOT NULL, id TEXT NOT NULL, ts REAL NOT NULL, sender TEXT NOT NULL,
    session TEXT NOT NULL, client TEXT NOT NULL, ip TEXT NOT NULL, recipients TEXT NOT NULL,
    text TEXT NOT NULL, action TEXT NOT NULL, domains TEXT NOT NULL,
    PRIMARY KEY (campaign, id));
CREATE INDEX IF NOT EXISTS campaign_messages_ts ON campaign_messages (ts);

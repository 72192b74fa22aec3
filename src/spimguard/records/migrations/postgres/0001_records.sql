-- The verdict log, reports and campaign messages that every node shares.
CREATE TABLE verdict_log (
    id TEXT PRIMARY KEY, ts DOUBLE PRECISION NOT NULL, type TEXT NOT NULL,
    account TEXT NOT NULL, session TEXT NOT NULL, action TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL, signals TEXT NOT NULL, text_sha256 TEXT NOT NULL,
    text TEXT, fingerprint TEXT NOT NULL, domains TEXT NOT NULL, result BYTEA NOT NULL,
    keep BYTEA NOT NULL DEFAULT '', digest TEXT NOT NULL DEFAULT '');
CREATE INDEX verdict_log_ts ON verdict_log (ts);
CREATE INDEX verdict_log_account ON verdict_log (account, ts)
    WHERE action NOT IN ('', 'deliver');
CREATE INDEX verdict_log_session ON verdict_log (account, session, ts);
CREATE TABLE reports (
    id TEXT PRIMARY KEY, ts DOUBLE PRECISION NOT NULL, reporter TEXT NOT NULL,
    message_id TEXT NOT NULL, label TEXT NOT NULL, text TEXT NOT NULL, sender TEXT NOT NULL);
CREATE INDEX reports_message ON reports (message_id);
CREATE INDEX reports_ts ON reports (ts);
CREATE TABLE campaign_messages (
    campaign TEXT NOT NULL, id TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL,
    sender TEXT NOT NULL, session TEXT NOT NULL, client TEXT NOT NULL, ip TEXT NOT NULL,
    recipients TEXT NOT NULL, text TEXT NOT NULL, action TEXT NOT NULL, domains TEXT NOT NULL,
    PRIMARY KEY (campaign, id));
CREATE INDEX campaign_messages_ts ON campaign_messages (ts);
-- What /healthz writes to prove the store takes writes: one row per node.
CREATE TABLE health (node TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL);

-- The verdict log in time order (session 37, ``tail37``): its rowid (``at``) is the row's
-- whole second of ``ts`` shifted 31 bits, plus the row's place among that second's rows,
-- so the table itself is the order by time that ``verdict_log_ts`` was, and that index,
-- one more b-tree page every commit writes (a batch of one wrote 1.07 of its 19.1 WAL
-- frames a message there), goes. Every query by time reads a range of rowids
-- (``records/sqlite.py``). The constraint refuses a row whose rowid is not of its
-- second: a release before this one inserts with no ``at`` (the largest rowid plus one),
-- and would break the order silently; its first commit fails instead, naming why.
-- A copy, not ALTER TABLE ... RENAME: a view of a missing table (``state/sqlite.py``'s
-- ``counters``) fails any rename in the file.
CREATE TABLE verdict_log_before_37 AS SELECT * FROM verdict_log;
DROP TABLE verdict_log;
CREATE TABLE verdict_log (
    at INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts REAL NOT NULL, type TEXT NOT NULL,
    account TEXT NOT NULL, session TEXT NOT NULL, action TEXT NOT NULL, score REAL NOT NULL,
    signals TEXT NOT NULL, text_sha256 TEXT NOT NULL, text TEXT, fingerprint TEXT NOT NULL,
    domains TEXT NOT NULL, result BLOB NOT NULL, keep BLOB NOT NULL DEFAULT x'',
    digest TEXT NOT NULL DEFAULT '',
    CONSTRAINT "rows in time order since session 37's release: no downgrade"
        CHECK (at IS NOT NULL AND at >> 31 = CAST(ts AS INTEGER)));
INSERT INTO verdict_log (at, id, ts, type, account, session, action, score, signals,
    text_sha256, text, fingerprint, domains, result, keep, digest)
    SELECT (CAST(ts AS INTEGER) << 31) - 1 + ROW_NUMBER() OVER (
            PARTITION BY CAST(ts AS INTEGER) ORDER BY rowid),
        id, ts, type, account, session, action, score, signals, text_sha256, text,
        fingerprint, domains, result, keep, digest
    FROM verdict_log_before_37;
DROP TABLE verdict_log_before_37;
-- RECENT (an account's verdicts that stopped or warned, newest first): rare rows only.
CREATE INDEX verdict_log_account ON verdict_log (account, ts)
    WHERE action NOT IN ('', 'deliver');
-- TIMELINE_SESSION and TIMELINE (an account's rows since a time, of a session or all).
CREATE INDEX verdict_log_session ON verdict_log (account, session, ts);

-- The digest of each event's canonical body: a repeated id with other content is a conflict.
ALTER TABLE verdict_log ADD COLUMN digest TEXT NOT NULL DEFAULT '';

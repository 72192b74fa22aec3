-- Every text a read orders or groups by compares by code point, as SQLite and the memory
-- records do, whatever collation the database was made with. A database made on a host
-- whose locale is en_US.UTF-8 (Debian's default for initdb) ordered ids by its locale:
-- "apple" before "Zed", where SQLite puts "Zed" first. Two messages of one campaign at the
-- same second then came out of PostgreSQL in another order than out of SQLite, and the
-- evidence bundle's integrity hash differed with the node's store; a listing's LIMIT cut
-- other rows. Changing a column's collation rebuilds the indexes that hold it (the table
-- itself is not rewritten): on a large verdict log, run `spimguard db upgrade` in a quiet
-- hour.
ALTER TABLE verdict_log ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account TYPE TEXT COLLATE "C", ALTER COLUMN session TYPE TEXT COLLATE "C",
    ALTER COLUMN action TYPE TEXT COLLATE "C";
ALTER TABLE reports ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE campaign_messages ALTER COLUMN campaign TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE console_operators ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE console_appeals ALTER COLUMN id TYPE TEXT COLLATE "C";

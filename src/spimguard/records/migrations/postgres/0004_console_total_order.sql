-- The console's listings in one order on every store: notes of one time by their operator
-- and text, decisions on messages of one time by the message's id (session 49, `left49`).
-- Before, notes were ordered by time alone and decisions by the message's time alone, so
-- rows at one time came out as each store happened to keep them (PostgreSQL's heap, SQLite's
-- rowid, the memory store's insertion). The columns that now break those ties compare by
-- code point, as 0003 made every other ordered column: SQLite and the memory store compare
-- so. No index is needed: ties are few, and sorted after the index's walk on time. The
-- tables are small (operators' actions); their indexes on these columns are rebuilt.
ALTER TABLE console_notes ALTER COLUMN operator TYPE TEXT COLLATE "C",
    ALTER COLUMN text TYPE TEXT COLLATE "C";
ALTER TABLE console_decisions ALTER COLUMN message_id TYPE TEXT COLLATE "C";

"""Embedded, durable state in SQLite: the default when nothing else is installed.

The state of every key a batch touches is held in process memory, in a
``MemoryState`` that answers exactly as the memory backend does: a key is
loaded from the file on first use (one ``IN (...)`` statement per table for all
the keys of a read, or of a batch's planned reads, that are not held yet; a
write's key as its note comes to it), then read and written in memory.
``commit`` writes what changed since the last commit, one statement per table
and kind of change (``executemany``), and commits: so a batch of n events
costs O(new keys) lookups and O(changed keys) rows, not one statement per
primitive per event, and nothing is acknowledged before it is in the file.
``rollback`` drops the held copy with the transaction (the file is the truth).

Held keys are bounded (``cached``): past it, the oldest half is let go after
commits, when the file holds everything they say, ``_LET_GO`` keys a commit, so no one
batch pays for all of them (issue 18: a batch that stalls sets the p99). Members trimmed
in memory (by a set's cap) are deleted from the file at the commit.

What a commit costs is the pages it writes to the WAL: each b-tree page a row
changes, whole (4 KiB). Keys are spread over the tables at random, so a changed
key is about one page per table it lives in, and the layout keeps that to one:
no index beside the tables (the sweep, once in 20,000 events, scans), and a
member set's header (expiry, TTL, cap) is a row among its members, under the
member ``x''``: a BLOB, which no member name (TEXT) equals and which sorts after
every one, so a touch rewrites the page that holds the set, not also a page of a
header table. On the mixed load a batch of one wrote 48.8 pages, now 29.

A counter is one row of ``counts``: its (bucket, count) pairs packed as the memory holds
them (``memory.pack_counter``) and its expiry, upserted whole when it changes, so a
changed counter is one row of O(buckets) bytes, not its rows deleted and one inserted a
bucket (3.6 rows and two statements an event at batches of one, session 31). Files of
that layout, a row a bucket in ``counters``, are converted when they open
(``_convert_counters``).

A hashed set (``hashed.py``) is one row of ``hashed_sets``: its packed value and, for
the sweep, its expiry. The key its members are hashed with is made once, by the first
process to open the file, and kept in it (``state_keys``): every process on the file,
and the file reopened, hashes alike. Sets of a hashed keyspace that a file holds by
name are converted when it opens (``_convert_hashed``), as are hashed sets of the
earlier, 8-, 4- or 3-byte layouts (``_convert_digests``: all at once, as the hot copy reads
this layout alone).

A ``Puts`` (one value under several keys: bulk's cluster id under a text's six bands, every
message) is one row of ``puts``, its value and expiry under an id that is a digest of its
keys (``_put_id``), and a row of ``put_keys`` a key, naming the put it was last put by; a
value a ``Put``, an ``Append`` or a ``Delete`` wrote last is a row of ``kv``. A key reads
as the row of whichever table holds it (one statement for both, ``_LOAD_VALUES``). Why:
a commit writes a page of each b-tree a row changes, and six bands of random keys were six
pages of ``kv`` a message (7.2 of 19.1 WAL frames a message at batches of one); a text put
again by its next copy (86 % of puts on the mixed load: a campaign's copies, and the
phrases people repeat) puts the same six keys, so it rewrites one ``puts`` row and no
key's (a new text writes six key rows and a put's: one page more than it did). The band
lookup stays a probe of an index: a key's ``put_keys`` row by its primary key, then its
put's by its own. A key is never in both tables when this release wrote it last, and is
moved out of the other one at its next write (``_flush_values``); a file of an earlier
release, whose bands are kv rows, reads as it did and needs no pass when it opens. A put
is swept when it expires, a key's row when its put has expired or gone (``_SWEEP_PUT_KEYS``);
a put no key names any more (its six bands each put since by other texts) waits for its
expiry, an hour or a day.

A sided record (``sided.py``) is one row of ``sided_sets``: its names, its times and, for
the sweep, when it first has something to drop (``Record.due``); the whole row is
rewritten when it changes. The plain sets each side was kept in before (``talked:A``,
...) are converted into it once, when the file first opens with the keyspace declared
(``_convert_sided``).

A row's ``layout`` says how its times are kept: 3, the held layout with a side's head
held only where it is not derived (``sided._derived``: session 35), the bytes the memory
holds, loaded and written as they are; 2, session 34's, every side's head held and the
times after the least in six bytes each (``sided._SIX``), and 1, the same with every
time in eight (a record whose times do not fit six, or a row an earlier release wrote):
each converted at load (``sided.earlier``), heads dropped where derived and times made
six where they fit, and written as 3 at its next change; NULL, the layout before them (a
double a member-side), converted at load (``sided.loaded``) and written in the held
layout at the record's next change or sweep, so a file of an earlier release needs no
pass over it when it opens: the column is added (``_SIDED_LAYOUT``) and its rows read as
they were. A layout 3 row means what its keyspace's declared TTLs say (a side with no
head reads with its declared TTL): the file records them (``_check_ttls``) and a release
that declares others refuses it. A layout a release does not know is refused
(``StateUnavailable``), never read as another: the releases before layout 3 refuse such
rows, so a file of this release given back to one, or shared with a process of one,
fails loudly on each record written since, and never answers from them (downgrade is
not supported: delete those rows, or keep the release).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress, groupby, islice, repeat
from operator import attrgetter, is_, itemgetter, or_
from typing import Any, NamedTuple

import msgspec

from ..errors import StateUnavailable
from . import hashed, sided
from .memory import (
    COUNTER,
    EVERY_TABLE,
    HASHED_SET,
    MEMBER_SET,
    SIDED_RECORD,
    VALUE,
    MemberSet,
    MemoryState,
    pack_counter,
    unpack_counter,
)
from .ops import (
    SWEEP_PARTS,
    Append,
    Count,
    Delete,
    Get,
    Gets,
    Incr,
    Put,
    Puts,
    Query,
    Remove,
    Replace,
    Sided,
    Since,
    Touch,
    Write,
    hashed_prefixes,
    is_hashed,
    is_sided,
    renamed_keyspaces,
    side_space,
    sided_keyspaces,
    space_of,
)

# Where session 31's release kept counters, a row a bucket: a view of a table no file has,
# so that release, opening a file of this one, fails loudly at its first count ("no such
# table: main.counters of a later release ..."), where its ``CREATE TABLE IF NOT EXISTS
# counters`` made an empty table and counted every counter from nothing, silently, and
# the next open of this release replaced the counts with those (``_convert_counters``).
# On a file of that layout it does nothing (the name is taken) until the conversion drops
# the table and makes it. (A view of a missing table fails ``ALTER TABLE ... RENAME`` of
# any table: drop it first, should a later layout rename one.)
_OLD_COUNTERS = """CREATE VIEW IF NOT EXISTS counters (key, bucket, n, exp) AS SELECT
    key, 0, 0, 0 FROM "counters of a later release: kept in counts, a row a key (no downgrade)"
"""
_SCHEMA = _OLD_COUNTERS + """;
-- A counter is one row: its (bucket, count) pairs packed as the memory holds them
-- (``memory.pack_counter``) and its expiry.
CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, value BLOB NOT NULL,
    exp REAL NOT NULL) WITHOUT ROWID;
-- A set's header is its row with member x'': ts is the set's expiry; ttl and cap are
-- the header's alone.
CREATE TABLE IF NOT EXISTS members (
    key TEXT NOT NULL, member TEXT NOT NULL, ts REAL NOT NULL, ttl REAL, cap INTEGER,
    PRIMARY KEY (key, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, exp REAL NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hashed_sets (key TEXT PRIMARY KEY, value BLOB NOT NULL,
    exp REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sided_sets (key TEXT PRIMARY KEY, names BLOB NOT NULL,
    times BLOB NOT NULL, exp REAL NOT NULL, layout INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_keys (name TEXT PRIMARY KEY, value BLOB NOT NULL)
    WITHOUT ROWID;
-- Values a ``Puts`` wrote, one row a put (its id: ``_put_id`` of its keys) and a row a key
-- naming it (session 37: see the module's docstring).
CREATE TABLE IF NOT EXISTS puts (key TEXT PRIMARY KEY, value BLOB NOT NULL, exp REAL NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS put_keys (key TEXT PRIMARY KEY, put TEXT NOT NULL) WITHOUT ROWID;
-- Where the sweep's lap in parts stands in each table it sweeps (``SQLiteState.sweep_part``):
-- the parts of the lap swept, the key the next part starts at, the rows its parts left.
CREATE TABLE IF NOT EXISTS sweep_lap (tbl TEXT PRIMARY KEY, part INTEGER NOT NULL,
    start NOT NULL, behind INTEGER NOT NULL) WITHOUT ROWID;
-- The events judged since the last maintenance pass, as of the sweep's last part (its one
-- row written in the part's transaction): where a restarted process's count resumes.
CREATE TABLE IF NOT EXISTS since_pass (one INTEGER PRIMARY KEY CHECK (one = 1),
    events INTEGER NOT NULL);
-- Indexes older files have: by expiry and by age, for the sweep alone.
DROP INDEX IF EXISTS members_by_age;
DROP INDEX IF EXISTS counters_exp;
DROP INDEX IF EXISTS kv_exp;
"""
# Files written before the headers moved in among the members keep them in a table of
# their own: moved once, when such a file opens.
_HEADERS_MOVED = """
BEGIN;
ALTER TABLE members ADD COLUMN ttl REAL;
ALTER TABLE members ADD COLUMN cap INTEGER;
INSERT OR REPLACE INTO members (key, member, ts, ttl, cap)
    SELECT key, x'', exp, ttl, cap FROM member_sets;
DROP TABLE member_sets;
COMMIT;
"""
# Files written before sided rows said their layout: the column added (NULL, the earlier
# layout, in every row there is), once, when such a file opens.
_SIDED_LAYOUT = "ALTER TABLE sided_sets ADD COLUMN layout INTEGER"
_HELD = 1  # ``sided_sets.layout`` of a row of session 34's held layout, times in eight bytes
_SIXES = 2  # ``sided_sets.layout`` of a row of session 34's held layout, times in six bytes
_DERIVED = 3  # ``sided_sets.layout`` of a row of the held layout, heads held only if not derived
_HEADER = "x''"  # the member a set's header is filed under (see above)
_KEYS = msgspec.msgpack.Encoder()  # of a put's keys, for its id (``_put_id``)
_CHUNK = 500  # keys per IN (...) list, under SQLite's parameter limit
# The ``state_keys`` row of a file whose hashed sets are all of today's layout
# (``hashed.py``'s Elias-Fano lists, session 38's) ...
_ELIAS_FANO = "hashed-sets:elias-fano"
# ... and session 37's (3-byte digests), which this release deletes: a node of that release
# opening the file then converts it, and fails on the first set of today's (``hashed``'s
# docstring) where it would read it as its own; one that found none to fail on and wrote
# sets of its layout puts the row back, so the next open of this release converts them.
_DIGESTS_CUT = "hashed-sets:3-byte-digests"  # (and 4 bytes: the name of a file of then)
_CONVERT_CHUNK = 1_000  # hashed sets a transaction of ``_convert_digests``
_CACHED = 100_000  # keys held in memory between commits, at most (about 1 KB each)
# Held keys let go, and queries known no longer freed, after one commit at most: letting go
# of half the held copy at once (50,000 keys, ~2 µs each) and freeing 100,000 known queries
# (~0.25 µs each) stalled one batch 110 and 25 ms, every few thousand events on the mixed
# load (session 32). A few hundred of each cost a commit well under a millisecond, and
# the half is let go within ~100 commits, long before the copy grows by another half.
_LET_GO = 500
# The tables a sweep goes through; every key of one lies in ``_EVERY_KEY`` (any TEXT sorts
# before any BLOB, ``x''`` the least).
_SWEPT = ("counts", "members", "kv", "hashed_sets", "sided_sets", "puts", "put_keys")
_EVERY_KEY: tuple[str | bytes, str | bytes] = ("", b"")
# Where a part of the sweep's lap ends: the key ``share`` rows on from where it starts, a
# walk of the table's index in SQLite's own code (``SQLiteState._part_end``); where that is
# the same key (a member set of more rows than a share), the key after it.
_SLICE = "SELECT key FROM {} WHERE key >= ? ORDER BY key LIMIT 1 OFFSET ?"
_NEXT_KEY = "SELECT key FROM {} WHERE key > ? ORDER BY key LIMIT 1"
# A part's member sets past their expiry, then members past their set's TTL, then the
# stalest beyond a set's cap: all within the part's keys (``key >= ? AND key < ?``), each
# deleted row's key returned, and the member of each row of a set left.
_SWEEP_SETS = (
    f"DELETE FROM members WHERE key >= ?1 AND key < ?2 AND key IN (SELECT key FROM members "
    f"WHERE key >= ?1 AND key < ?2 AND member = {_HEADER} AND ts <= ?3) RETURNING key")
_SWEEP_MEMBERS = (
    f"DELETE FROM members WHERE key >= ?1 AND key < ?2 AND member <> {_HEADER} AND ts <= ?3 - "
    f"(SELECT h.ttl FROM members h WHERE h.key = members.key AND h.member = {_HEADER}) "
    f"RETURNING key, member")
_OVERSIZED = (f"SELECT h.key, h.cap FROM members h WHERE h.key >= ? AND h.key < ? AND "
              f"h.member = {_HEADER} AND (SELECT COUNT(*) FROM members m WHERE m.key = h.key) "
              f"> h.cap + 1")
_SWEEP_CAPPED = (f"DELETE FROM members WHERE key = ?1 AND member IN (SELECT member FROM "
                 f"members WHERE key = ?1 AND member <> {_HEADER} ORDER BY ts DESC, "
                 f"member DESC LIMIT -1 OFFSET ?2) RETURNING member")

# A part's keys of puts expired or gone (``_sweep_ranges``): their rows are dropped with
# the puts; a key's is its own (a put of six keys is one item).
_SWEEP_PUT_KEYS = ("DELETE FROM put_keys WHERE key >= ?1 AND key < ?2 AND NOT EXISTS (SELECT 1 "
                   "FROM puts p WHERE p.key = put_keys.put AND p.exp > ?3) RETURNING key")

# Which table a primitive's key lives in: counters, member sets, values, hashed sets or
# sided records; one bit each, so what is held of a key is one number
# (``SQLiteState._held``), the held copy's own bits (``MemoryState.forget``).
_COUNTER, _SET, _VALUE, _HASHED, _SIDED = COUNTER, MEMBER_SET, VALUE, HASHED_SET, SIDED_RECORD
_KINDS = (_COUNTER, _SET, _VALUE, _HASHED, _SIDED)
# A query's, by its class (``SQLiteState._hold``); any other is of a member set, told by
# its keyspace (``_set_kind``). A log (``Since``) is one value: its count and kept entries
# (``ops.encode_log``). A ``Gets`` (0) asks a value at each of its keys.
_KIND: dict[type, int] = {Count: _COUNTER, Get: _VALUE, Since: _VALUE, Gets: 0}
_KEY_OF = attrgetter("key")


def _upsert(table: str, keys: tuple[str, ...], rest: tuple[str, ...],
            given: dict[str, str] | None = None) -> str:
    """A row put by its key, updated where it is when there: ``INSERT OR REPLACE`` deletes
    the row and inserts it anew, two changes to the b-tree where one does. On the mixed load
    a commit of one event wrote 23.9 WAL frames with REPLACE, 22.3 with this (8 events:
    147.9, 142.7). ``given``: key columns written as SQL, not bound (``_PUT_HEADER``)."""
    columns = ", ".join(keys + rest)
    values = ", ".join((given or {}).get(column, "?") for column in keys + rest)
    updated = ", ".join(f"{column} = excluded.{column}" for column in rest)
    return (f"INSERT INTO {table} ({columns}) VALUES ({values}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updated}")


# What a statement binds is an int, a float, a str or a bytearray: the sqlite3 module binds
# those as they are, and passes anything else (None, bytes) through its adapters first, a
# registry look-up and two failed attribute look-ups whose AttributeError is built and
# dropped: ~3,300 instructions a value (callgrind); on the mixed load 28,000 instructions
# an event at batches of 500 (8.5 values), of the 373,000 SQLite cost beyond the memory
# backend, and 68,000 at batches of one (session 24, ``sqlgap``; the verdict log's three
# are the records'). So a blob is bound as a bytearray (a copy, ~75 ns against
# ~1.6 µs), a member row leaves its header's columns out (NULL in every member row there
# is, written or not) and a header's member is the statement's ``x''``, not a parameter.
_PUT_VALUE = _upsert("kv", ("key",), ("value", "exp"))
_PUT_COUNT = _upsert("counts", ("key",), ("value", "exp"))
_PUT_HASHED = _upsert("hashed_sets", ("key",), ("value", "exp"))
_PUT_SIDED = _upsert("sided_sets", ("key",), ("names", "times", "exp", "layout"))
_PUT_MEMBER = _upsert("members", ("key", "member"), ("ts",))
_PUT_HEADER = _upsert("members", ("key", "member"), ("ts", "ttl", "cap"),
                      given={"member": _HEADER})
_PUT_PUT = _upsert("puts", ("key",), ("value", "exp"))
_PUT_KEY = _upsert("put_keys", ("key",), ("put",))
# A value's key, value, expiry and where it is (``SQLiteState._where``): kv's row, or the put
# its ``put_keys`` row names. The keys are bound twice, once a half, each in a place of its
# own (``?``). Numbered (``?1``, ..., named in both halves), each place was looked up among
# the numbers by a walk of them as SQLite compiled the text, O(keys²) a statement, and a
# batch's list of keys is a text compiled anew: ~6,000 instructions an event at batches of
# 500 (callgrind, ``sqlite3VListNumToName``), against two binds more a key loaded (~1.5 an
# event). Session 42, ``sqlite42``.
_LOAD_VALUES = ("SELECT key, value, exp, NULL FROM kv WHERE key IN ({0}) UNION ALL "
                "SELECT k.key, p.value, p.exp, k.put FROM put_keys k JOIN puts p ON "
                "p.key = k.put WHERE k.key IN ({0})")
_VALUE_CHUNK = _CHUNK // 2  # keys a value load: each bound twice
_IN_KV, _NOWHERE = "", "\x00"  # ``SQLiteState._where`` of a value in kv, or in no table


def _put_id(keys: tuple[str, ...]) -> str:
    """The id of the ``puts`` row of a ``Puts`` of ``keys``: a digest of the keys, in
    order (128 bits of BLAKE2b of their msgpack encoding, which no other tuple shares), so
    the same keys put again find their row without a look-up, and a row is only ever
    named by the keys it was put under."""
    return hashlib.blake2b(_KEYS.encode(keys), digest_size=16).hexdigest()


def _after(prefix: str) -> str:
    """The least string after every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _sided_row(record: sided.Record, ttls: Sequence[float], names: bytearray | None = None
               ) -> tuple[bytearray, bytearray, float, int]:
    """A record's names (``names``, when already encoded), times, ``exp`` and ``layout`` as
    ``sided_sets`` keeps them (its keyspace's sides' declared TTLs ``ttls``): its times the
    bytes held, with no conversion (bound as bytearrays: see ``_PUT_VALUE``)."""
    if names is None:
        names = bytearray(sided.encode_names(record.names))
    return names, bytearray(record.times), record.due(ttls), _DERIVED


def _sided_record(key: str, names: bytes, times: bytes, layout: int | None) -> sided.Record:
    """The record of the ``sided_sets`` row at ``key``, of any layout: one of an earlier
    release (every side's head held, or a double a member-side) converted as it loads, less
    the sides its keyspace retired since; a layout this release does not know (a later
    one's) is refused, never read as another."""
    if layout == _DERIVED:
        return sided.Record(sided.decode_names(names), times)
    space = space_of(key)
    if layout in (_HELD, _SIXES) and sided.in_sixes(times) == (layout == _SIXES):
        return sided.earlier(sided.decode_names(names), times, space.ttls, space.retired)
    if layout is None:
        return sided.loaded(sided.decode_names(names), times, space.ttls, space.retired)
    raise StateUnavailable(f"a sided record of layout {layout!r}, from a later release")


def _set_kind(key: str) -> int:
    """The table a member set's key lives in, by its keyspace (``SQLiteState._set_kinds``)."""
    return _HASHED if is_hashed(key) else _SIDED if is_sided(key) else _SET


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Swept(NamedTuple):
    """What a part of the sweep deleted or rewrote, by the held copy's table it is in
    (``SQLiteState._agree``): keys whose counter, value (a ``kv`` or a ``put_keys`` row)
    or hashed set went, member sets gone whole, the members a set left lost (past its TTL
    or its cap), and the sided records rewritten as the part computed them (None: gone)."""

    counters: list[str]
    values: list[str]
    hashed: list[str]
    sets: list[str]
    members: dict[str, list[str]]
    sided: dict[str, sided.Record | None]


class SQLiteState:
    def __init__(self, conn: sqlite3.Connection, cached: int = _CACHED,
                 before_commit: Callable[[], None] | None = None) -> None:
        self._conn = conn
        self._cached = cached
        # What else writes on this connection and must go into the same transaction
        # (the records' waiting rows): written just before each commit.
        self._before_commit = before_commit
        try:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'member_sets'").fetchone():
                conn.executescript(_HEADERS_MOVED)
            conn.executescript(_SCHEMA)
            self._add_layout()
            with conn:
                conn.execute("INSERT OR IGNORE INTO state_keys VALUES ('member-hash', ?)",
                             (hashed.new_key(),))
            self._hash_key: bytes = conn.execute(
                "SELECT value FROM state_keys WHERE name = 'member-hash'").fetchone()[0]
            self._convert_hashed()
            self._convert_digests()
            self._check_ttls()
            self._convert_sided()
            self._convert_renamed()
            self._convert_counters()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"cannot create the state tables: {exc}") from exc
        # The batch's statements run on this one cursor, made once: ``conn.execute`` and
        # ``conn.executemany`` make a cursor for each call and free it after, ~1,300
        # instructions a statement (callgrind, a one-row upsert: 13,100 against 11,800), and
        # a batch of one runs ~12 (its BEGIN, its loads, a write a table). Only statements
        # whose rows are read to the end run here: a cursor left on a row keeps its read
        # transaction, and the WAL, open (session 45, ``sqlite45``).
        self._cursor = conn.cursor()
        self._hot = self._fresh_hot()
        # key -> the kinds (bits) of it the hot copy is true for: asked for every read and
        # write, so a look-up of the key alone (its hash kept by the string), no tuple built.
        self._held: dict[str, int] = {}
        # Queries whose keys are held: a query object is hashed once (``cache_hash``) and the
        # engine asks the same objects it planned, so an event's read of a batch held ahead
        # checks each query with one set probe, no (kind, key) built. Emptied whenever a
        # held key may be let go; a query missing here is only checked the long way.
        self._known: set[Query] = set()
        # Known queries no longer known, freed ``_LET_GO`` a commit (``_free_some``).
        self._unknown: list[set[Query]] = []
        # Held past the bound: the oldest keys are being let go, ``_LET_GO`` a commit, until
        # half of ``cached`` are left.
        self._letting_go = False
        # The query lists held ahead (``hold``) since the last commit, by identity: the
        # engine reads each one, the very list it planned, once an event, and such a read
        # looks none of its queries up. Checking them in ``_known`` was ~50 probes a
        # message into a set of up to ``cached`` queries, each a cache miss: 2-3 % of the
        # engine's CPU on the mixed load. Emptied at every ``_let_go``: whenever a held key
        # may go, and at every commit (the lists are one batch's: kept longer, they would
        # keep its plans alive).
        self._planned: dict[int, Sequence[Query]] = {}
        # A member set's key -> its table (``_set_kind``): told by its keyspace's prefix,
        # two ``startswith`` of a tuple (each ~350 instructions: ``str.startswith`` parses
        # its arguments as a tuple), asked of ~32 queries and writes an event at batches
        # of 500 (session 24, ``sqlgap``); looked up here once known. Emptied with the
        # held copy, or past ``cached`` keys.
        self._set_kinds: dict[str, int] = {}
        self._changed_values: set[str] = set()
        # A value key the batch put last with a ``Puts`` -> that put's keys (the row they
        # share at the commit: ``_flush_values``).
        self._put_by: dict[str, tuple[str, ...]] = {}
        # A value key -> where the file holds it, as loaded or last written: ``_IN_KV``, a
        # ``puts`` row's id, or ``_NOWHERE``; a key not here may be in either table. Let go
        # with the key.
        self._where: dict[str, str] = {}
        self._changed_counters: set[str] = set()
        self._changed_sets: set[str] = set()  # headers (expiry, TTL, cap)
        self._rewritten_sets: set[str] = set()  # every member row to rewrite
        self._changed_members: dict[str, set[str]] = {}  # key -> members to upsert or drop
        self._changed_hashed: set[str] = set()
        self._changed_sided: set[str] = set()
        # A held sided key -> the names its row was last written with, and their encoding
        # (``_names_of``); let go with the key.
        self._names: dict[str, tuple[tuple[str, ...], bytearray]] = {}
        self._version = -1  # PRAGMA data_version when the held copy was last checked
        # The open transaction is this store's own, begun under the write lock (``_begin``)
        # and checked for other processes' commits then: none can commit until it ends.
        self._locked = False

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection it commits on: what writes in its transactions is told by it."""
        return self._conn

    def _fresh_hot(self) -> MemoryState:
        hot = MemoryState(self._hash_key)
        hot.trimmed = []
        return hot

    def _add_layout(self) -> None:
        """Add ``sided_sets.layout`` to a file of an earlier release, under the write lock
        (a process opening the file beside this one finds it added)."""
        def added() -> bool:
            return any(column[1] == "layout" for column in
                       self._conn.execute("PRAGMA table_info(sided_sets)"))

        if added():
            return
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            if not added():
                self._conn.execute(_SIDED_LAYOUT)

    def _convert_hashed(self) -> None:
        """Sets of a hashed keyspace held by name (a file of the earlier layout) become
        hashed sets, in one transaction: each member still alive at the set's newest
        touch is kept, and the set's time is that newest touch (its members, but for
        those written at once by a Replace, then live a little longer than they did)."""
        hasher = hashed.Hasher(self._hash_key)
        with self._conn:
            for prefix in hashed_prefixes():
                bounds = (prefix, _after(prefix))
                sets: dict[str, dict[str, float]] = {}
                headers: dict[str, float] = {}
                for key, member, ts, ttl in self._conn.execute(
                        "SELECT key, member, ts, ttl FROM members WHERE key >= ? AND key < ?",
                        bounds):
                    if type(member) is bytes:
                        headers[key] = ttl
                    else:
                        sets.setdefault(key, {})[member] = ts
                rows = []
                for key, ttl in headers.items():
                    members = sets.get(key, {})
                    time = max(members.values(), default=0.0)
                    blob = hashed.pack(time, ttl, (hasher.digest(m) for m, ts in
                                                   members.items() if ts > time - ttl))
                    rows.append((key, blob, hashed.expiry(blob)))
                self._conn.executemany("INSERT OR REPLACE INTO hashed_sets VALUES (?, ?, ?)",
                                       rows)
                self._conn.execute("DELETE FROM members WHERE key >= ? AND key < ?", bounds)

    def _convert_digests(self) -> None:
        """Hashed sets of the earlier layouts (``hashed.current``) converted, their expiry
        with them, a chunk of keys a transaction under the write lock (a process beside
        one already writing converts what is still old, nothing newer; an open cut short
        resumes), then the file marked done so that later opens do not scan it: unless
        session 37's mark is there (``_DIGESTS_CUT``), deleted first."""
        run = self._conn.execute
        marks = {name for (name,) in run("SELECT name FROM state_keys WHERE name IN (?, ?)",
                                         (_ELIAS_FANO, _DIGESTS_CUT))}
        if marks == {_ELIAS_FANO}:
            return
        with self._conn:
            run("DELETE FROM state_keys WHERE name = ?", (_DIGESTS_CUT,))
        after = ""
        while True:
            with self._conn:
                run("BEGIN IMMEDIATE")
                chunk = run("SELECT key, value FROM hashed_sets WHERE key > ? ORDER BY key "
                            "LIMIT ?", (after, _CONVERT_CHUNK)).fetchall()
                rows = [(blob, hashed.expiry(blob), key) for key, value in chunk
                        if (blob := hashed.current(value)) is not value]
                self._conn.executemany("UPDATE hashed_sets SET value = ?, exp = ? "
                                       "WHERE key = ?", rows)
                if len(chunk) < _CONVERT_CHUNK:
                    run("INSERT OR IGNORE INTO state_keys VALUES (?, x'')", (_ELIAS_FANO,))
                    return
            after = chunk[-1][0]

    def _check_ttls(self) -> None:
        """Each sided keyspace's declared TTLs (``ops.sided_keyspace``) as the file first
        held them (a ``state_keys`` row each), or this release's recorded: a record of
        layout 3 holds no head for a side touched with its declared TTL, which is then
        part of what its bytes mean, so a file whose keyspace declares another now is
        refused (``StateUnavailable``), never read with it (a member kept 180 days read as
        kept 90). A file of an earlier release holds every head: its TTLs are recorded
        as this release opens it."""
        run = self._conn.execute
        for space in sided_keyspaces():
            name = f"sided-ttls:{space.prefix}"
            declared = sided.packed_ttls(space.ttls)
            with self._conn:
                run("INSERT OR IGNORE INTO state_keys VALUES (?, ?)", (name, declared))
            held = run("SELECT value FROM state_keys WHERE name = ?", (name,)).fetchone()[0]
            sided.check_ttls(space.prefix, space.ttls, held, "file")

    def _convert_sided(self) -> None:
        """The plain sets each side of a sided keyspace was kept in before become the
        sides of its records, in one transaction (members, times, expiry and TTL as they
        were: every answer stays), then the file is marked so that later opens do not
        look again."""
        run = self._conn.execute
        for space in sided_keyspaces():
            done = f"sided:{space.prefix}"
            if run("SELECT 1 FROM state_keys WHERE name = ?", (done,)).fetchone():
                continue
            with self._conn:
                run("BEGIN IMMEDIATE")
                records: dict[str, sided.Record] = {}
                for side, former in enumerate(space.formerly):
                    if former:
                        self._moved_sets(former, space.prefix.__add__, space, side, records)
                self._converted(records, space, done)

    def _convert_renamed(self) -> None:
        """The plain sets an earlier release kept where a sided record's side is now, at a
        key not their prefix swapped (``ops.renamed_sets``: the takeover detector's pitch
        sets, guests of the account's ties since session 36), become that side of their
        records as ``_convert_sided``'s do (the first open of this release converts, before
        it writes: no record is there yet; the keys' map is one to one), once a file."""
        run = self._conn.execute
        for former, (into, side_name) in renamed_keyspaces().items():
            done = f"renamed:{former}"
            if run("SELECT 1 FROM state_keys WHERE name = ?", (done,)).fetchone():
                continue
            space, side = side_space(side_name)
            with self._conn:
                run("BEGIN IMMEDIATE")
                records: dict[str, sided.Record] = {}
                self._moved_sets(former, into, space, side, records)
                self._converted(records, space, done)

    def _converted(self, records: dict[str, sided.Record], space: Sided, done: str) -> None:
        """Write a conversion's records and mark it ``done`` (in the caller's transaction)."""
        self._conn.executemany(
            "INSERT INTO sided_sets (key, names, times, exp, layout) VALUES (?, ?, ?, ?, ?)",
            [(key, *_sided_row(r, space.ttls)) for key, r in records.items()])
        self._conn.execute("INSERT INTO state_keys VALUES (?, x'')", (done,))

    def _moved_sets(self, former: str, into: Callable[[str], str | None], space: Sided,
                    side: int, records: dict[str, sided.Record]) -> None:
        """The plain sets at ``former`` merged into ``side`` of ``records`` (each at
        ``into`` of its key's part past ``former``; None: dropped), then deleted: members,
        times, expiry and TTL as they were, so every answer stays."""
        run = self._conn.execute
        bounds = (former, _after(former))
        sets: dict[str, dict[str, float]] = {}
        headers: dict[str, tuple[float, float]] = {}
        for key, member, ts, ttl in run(
                "SELECT key, member, ts, ttl FROM members WHERE key >= ? AND key < ?", bounds):
            if type(member) is bytes:
                headers[key] = (ts, ttl)
            else:
                sets.setdefault(key, {})[member] = ts
        for key, (expiry, ttl) in headers.items():
            moved = into(key[len(former):])
            if moved is not None:
                records[moved] = sided.merged(records.get(moved), side, space.ttls,
                                              sets.get(key, {}), expiry, ttl)
        run("DELETE FROM members WHERE key >= ? AND key < ?", bounds)

    def _convert_counters(self) -> None:
        """Counters of the earlier layout, a row a bucket (``counters``), become a row a
        key (``counts``), in one transaction under the write lock, and the old table goes
        (a process opening the file beside this one finds it gone). Each key's rows were
        written together with one expiry; the greatest is kept, as their load kept it,
        and its buckets in bucket order, as their load read them."""
        run = self._conn.execute

        def old() -> bool:
            return run("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                       "name = 'counters'").fetchone() is not None

        if not old():
            return
        with self._conn:
            run("BEGIN IMMEDIATE")
            if not old():
                return
            # A key with a ``counts`` row too (a file converted before the view below
            # was kept, then counted in by session 31's release, which made the table
            # anew and counted from nothing): both are counts of it, added, not one
            # replacing the other.
            had = dict(run("SELECT key, value FROM counts WHERE key IN "
                           "(SELECT DISTINCT key FROM counters)").fetchall())

            def rows() -> Iterator[tuple[str, bytes, float]]:
                # Streamed, a key at a time: a list of them all held ~500 MB a million
                # keys (session 32, ``review32b``).
                for key, group in groupby(run("SELECT key, bucket, n, exp FROM counters "
                                              "ORDER BY key, bucket"), itemgetter(0)):
                    buckets = list(group)
                    counted = unpack_counter(had[key]) if key in had else {}
                    for _, bucket, n, _ in buckets:
                        counted[bucket] = counted.get(bucket, 0.0) + n
                    yield key, pack_counter(counted), max(exp for *_, exp in buckets)

            self._conn.executemany(
                "INSERT INTO counts VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "value = excluded.value, exp = max(exp, excluded.exp)", rows())
            run("DROP TABLE counters")
            run("DELETE FROM sweep_lap WHERE tbl = 'counters'")
            run(_OLD_COUNTERS)

    # -- reads -----------------------------------------------------------------------
    def read(self, queries: Sequence[Query], now: float) -> list[Any]:
        try:
            # (``_fresh`` would return at once: a batch's reads are all in its transaction.)
            if not (self._locked and self._conn.in_transaction):
                self._fresh()
            if self._planned.get(id(queries)) is not queries:
                self._hold_queries(queries)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state read failed: {exc}") from exc
        return self._hot.read(queries, now)

    def begin(self) -> None:
        """Open the batch's transaction under the write lock, before its first statement
        (the verdict log's look for repeated ids, on this connection too): the batch then
        asks whether another process committed once (``PRAGMA data_version``), not at its
        first read and again at its first write, and no other process commits between
        what it reads and what it writes. At batches of one that was 2.3 checks an event,
        each read outside a transaction taking and dropping the WAL's read lock too."""
        try:
            self._begin()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state begin failed: {exc}") from exc

    def _begin(self) -> None:
        """The write lock from now to the commit, and a look at what others committed."""
        if not self._locked:
            if not self._conn.in_transaction:
                self._cursor.execute("BEGIN IMMEDIATE")
            self._fresh()
            self._locked = True

    def hold(self, reads: Iterable[Sequence[Query]]) -> None:
        """Load the keys of every query of ``reads`` (a batch's, planned ahead, one list an
        event) not held yet: one statement per table, where each event's read would have
        made its own. Until the next commit, a read of one of these lists (the same object)
        is answered without looking its queries up (``_planned``).

        Whether another process committed is not asked here but at the batch's first
        read, which follows at once: what that finds let go takes these lists' keys with
        it, and they load afresh. Asked here too, it was a third ``PRAGMA data_version``
        a batch (with the read's and the write lock's), ~4 µs of a batch of one."""
        try:
            lists = list(reads)
            # The batch's distinct queries straight from its lists, in C: neither one list
            # of all of them (~25 an event, a third distinct) nor a look for a first
            # query not known, which a batch all but always has.
            self._hold_new(set().union(*lists))
            self._planned.update(zip(map(id, lists), lists, strict=True))
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state read failed: {exc}") from exc

    def _hold_queries(self, queries: Sequence[Query]) -> None:
        """Load the keys of ``queries`` not held yet; a query seen before (``_known``) is
        checked by one set probe, the rest sifted in C."""
        if not self._known.issuperset(queries):
            self._hold_new(set(queries))

    def _hold_new(self, new: set[Query]) -> None:
        """Load the keys of the queries of ``new`` (taken: emptied of those known) not
        held yet, and know them from then on."""
        known = self._known
        new -= known
        self._hold(new)
        known |= new

    def _hold(self, queries: Iterable[Query]) -> None:
        """Load the keys of ``queries`` not held yet: one statement per table for all of
        them. Held keys (all of them, mostly, once a batch's were loaded) cost a lookup
        each. A query is looked at whole, not as its ``parts`` (``ops.split``): a
        ``Tally``'s two are of its one key and table, a ``Gets``'s each a value at one of
        its keys, so splitting built ~7 query objects an event (two frames each) for
        nothing but their keys; and each (class, key) is looked at once, the pairs told
        apart in C: a batch of 500 holds ~9 new queries an event, of ~4 pairs (the
        ``Tally``s of one sender's sets, one a message). Session 41, ``sqlite41``.

        The pairs are (table, key), each query's table told by its class in C (``_SET``:
        by its key, below): a set's ``Tally``, ``Distinct`` and ``Contains`` of one key are
        one pair, looked at once. On the mixed load a batch of 500 held 3,472 (class, key)
        pairs of 2,673 keys; each pair was a turn of this loop (session 43, ``hold43``)."""
        held, set_kinds = self._held, self._set_kinds
        wanted: dict[str, int] = {}  # key -> kinds of it to load
        queries = tuple(queries)
        classes = tuple(map(type, queries))
        tables = map(_KIND.get, classes, repeat(_SET))
        for kind, key in set(zip(tables, map(_KEY_OF, queries), strict=True)):
            if kind == _SET:
                kind = set_kinds.get(key, 0) or set_kinds.setdefault(key, _set_kind(key))
            if kind and not held.get(key, 0) & kind:
                wanted[key] = wanted.get(key, 0) | kind
        if Gets in classes:  # a value at each of its keys
            for gets in compress(queries, map(is_, classes, repeat(Gets))):
                for key in gets.keys:  # type: ignore[union-attr]
                    if not held.get(key, 0) & _VALUE:
                        wanted[key] = wanted.get(key, 0) | _VALUE
        if wanted:
            self._load(wanted)

    def _load(self, wanted: dict[str, int]) -> None:
        """Load each key of ``wanted`` from the tables of its kinds (bits), one statement
        per table for all of them, and hold it as of those kinds from then on.

        A key is wanted of one kind but where a ``Delete`` or a planner asks two tables of
        it: filed by one look-up, not five tests (a batch of keys new to the held copy,
        what a platform's store meets at every batch, wants thousands: session 43,
        ``hold43``)."""
        held = self._held
        missing: dict[int, list[str]] = {kind: [] for kind in _KINDS}
        for key, kinds_of in wanted.items():
            one = missing.get(kinds_of)
            if one is not None:
                one.append(key)
                continue
            for kind in _KINDS:
                if kinds_of & kind:
                    missing[kind].append(key)
        try:
            self._read_missing(missing)
        except BaseException:
            # A row's load that raised left the cursor on its statement, whose read
            # transaction a rollback does not end (Python 3.11 resets no cursor): the
            # WAL stayed pinned until the store's next statement (``review45``). Closing
            # it resets the statement, as base's cursor a statement was freed.
            self._cursor.close()
            self._cursor = self._conn.cursor()
            raise
        held.update(zip(wanted, map(or_, map(held.get, wanted, repeat(0)), wanted.values()),
                        strict=True))

    def _read_missing(self, missing: dict[int, list[str]]) -> None:
        """Hold the rows of ``missing``'s keys, a statement a table and chunk (``_load``),
        each statement's rows read to the end on the store's cursor."""
        run = self._cursor.execute  # each statement's rows read to the end, below
        where = self._where
        for chunk in _chunks(missing[_VALUE], _VALUE_CHUNK):
            where.update(zip(chunk, repeat(_NOWHERE)))
            # A put's keys after kv's, so that one in both (never written so) reads as put.
            for key, value, exp, put in run(_LOAD_VALUES.format(",".join("?" * len(chunk))),
                                            (*chunk, *chunk)):
                self._hot.load_value(key, value, exp)
                where[key] = put or _IN_KV
        for chunk in _chunks(missing[_HASHED]):
            marks = ",".join("?" * len(chunk))
            for key, value in run(f"SELECT key, value FROM hashed_sets WHERE key IN ({marks})",
                                  tuple(chunk)):
                self._hot.load_hashed(key, value)
        for chunk in _chunks(missing[_SIDED]):
            marks = ",".join("?" * len(chunk))
            for key, names, times, layout in run(
                    f"SELECT key, names, times, layout FROM sided_sets WHERE key IN ({marks})",
                    tuple(chunk)):
                self._hot.load_sided(key, _sided_record(key, names, times, layout))
        for chunk in _chunks(missing[_COUNTER]):
            marks = ",".join("?" * len(chunk))
            for key, value, exp in run(
                    f"SELECT key, value, exp FROM counts WHERE key IN ({marks})", tuple(chunk)):
                self._hot.load_counter(key, value, exp)
        for chunk in _chunks(missing[_SET]):
            marks = ",".join("?" * len(chunk))
            members: dict[str, dict[str, float]] = {}
            headers: list[tuple[str, float, float, int]] = []
            for key, member, ts, ttl, cap in run(
                    f"SELECT key, member, ts, ttl, cap FROM members WHERE key IN ({marks}) "
                    "ORDER BY key, ts, member", tuple(chunk)):
                if type(member) is bytes:
                    headers.append((key, ts, ttl, cap))
                else:
                    members.setdefault(key, {})[member] = ts
            for key, exp, ttl, cap in headers:
                self._hot.load_set(key, members.get(key, {}), exp, ttl, cap)

    def _fresh(self) -> None:
        """Let the held copy go if another process committed to the file since the last
        look (an operator's ``spimguard lists import`` beside a running server): checked
        when this connection has no transaction open, or has just opened one, so nothing
        of its own is pending then. A transaction begun under the write lock (``_begin``)
        was checked as it began, and no other process commits until it ends."""
        if self._conn.in_transaction and (self._locked or self._changed()):
            return
        version = self._cursor.execute("PRAGMA data_version").fetchone()[0]  # (its one row)
        if version != self._version:
            self._version = version
            self._let_go(everything=True)

    def _changed(self) -> bool:
        return bool(self._changed_values or self._changed_counters or self._changed_sets
                    or self._rewritten_sets or self._changed_members or self._changed_hashed
                    or self._changed_sided)

    # -- writes ----------------------------------------------------------------------
    def write(self, writes: Sequence[Write], now: float) -> None:
        try:
            # The write lock from the first change (or the batch's start: ``begin``) to
            # the commit, as when each write was a statement: no other process commits
            # between what this one read and what it writes.
            if not self._locked:
                self._begin()
            notes = _NOTES
            for op in writes:
                notes[op.__class__](self, op, now)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state write failed: {exc}") from exc
        self._hot.write(writes, now)

    # What each kind of write changes, for the next commit to write: one is called per
    # write (``_NOTES``, by type: a batch makes ~15 writes an event, and a chain of
    # isinstance tests cost each of them several). A write that adds to what is there
    # (Incr, Touch, Remove, Append) needs it held, and its note loads it if it is not
    # (``_load``: a key of the batch's reads or own touches, ``Engine._plan_batch``, is
    # held already: every one on the mixed load); Put, Puts and Replace overwrite. Why in
    # the note: a pass of its own over the call's writes (filtered, then each looked up
    # again in ``_hold``) was ~a quarter of what SQLite added to a write call (session 31,
    # ``batch31``). O(1) a write held, one statement a key that is not.
    def _note_incr(self, op: Incr, now: float) -> None:
        key = op.key
        if not self._held.get(key, 0) & _COUNTER:
            self._load({key: _COUNTER})
        self._changed_counters.add(key)

    def _note_append(self, op: Append, now: float) -> None:
        key = op.key
        if not self._held.get(key, 0) & _VALUE:
            self._load({key: _VALUE})
        self._changed_values.add(key)
        self._put_by.pop(key, None)

    def _note_put(self, op: Put, now: float) -> None:
        self._changed_values.add(op.key)
        self._held[op.key] = self._held.get(op.key, 0) | _VALUE
        self._put_by.pop(op.key, None)

    def _note_puts(self, op: Puts, now: float) -> None:
        """``_note_put`` of each key, in C (bulk's six bands a message), the keys noted as
        this put's (``_put_by``)."""
        held, keys = self._held, op.keys
        self._changed_values.update(keys)
        held.update(zip(keys, map(_VALUE.__or__, map(held.get, keys, repeat(0))), strict=True))
        self._put_by.update(zip(keys, repeat(keys)))

    def _note_touch(self, op: Touch, now: float) -> None:
        """The commonest write (4.4 an event on the mixed load), so ``_kind_of_set`` and
        ``_note_members`` are written out here: two frames fewer a touch."""
        key = op.key
        if op.side:
            kind = _SIDED
        else:
            kinds = self._set_kinds
            kind = kinds.get(key) or kinds.setdefault(key, _set_kind(key))
        if not self._held.get(key, 0) & kind:
            self._load({key: kind})
        if kind == _SIDED:
            self._changed_sided.add(key)
        elif kind == _HASHED:
            self._changed_hashed.add(key)
        else:
            held = self._hot.member_set(key)
            if held is None or held[1] <= now:
                self._rewritten_sets.add(key)  # expired: it starts afresh
            self._changed_members.setdefault(key, set()).update(op.members)
            self._changed_sets.add(key)

    def _note_remove(self, op: Remove, now: float) -> None:
        key = op.key
        kind = self._kind_of_set(key)
        if not self._held.get(key, 0) & kind:
            self._load({key: kind})
        if kind == _HASHED:
            self._changed_hashed.add(key)
        else:
            self._note_members(key, op.members)

    def _kind_of_set(self, key: str) -> int:
        """The table of a member set's key (``_set_kind``), remembered (``_set_kinds``)."""
        kinds = self._set_kinds
        return kinds.get(key) or kinds.setdefault(key, _set_kind(key))

    def _note_replace(self, op: Replace, now: float) -> None:
        if is_hashed(op.key):
            self._note_hashed(op.key)
            return
        self._rewritten_sets.add(op.key)
        self._changed_sets.add(op.key)
        self._held[op.key] = self._held.get(op.key, 0) | _SET

    def _note_delete(self, op: Delete, now: float) -> None:
        key = op.key
        self._changed_values.add(key)
        self._put_by.pop(key, None)
        self._changed_counters.add(key)
        self._rewritten_sets.add(key)
        self._changed_sets.add(key)
        self._changed_hashed.add(key)
        self._changed_sided.add(key)
        self._held[key] = EVERY_TABLE

    def _note_hashed(self, key: str) -> None:
        self._changed_hashed.add(key)
        self._held[key] = self._held.get(key, 0) | _HASHED

    def _note_members(self, key: str, members: tuple[str, ...]) -> None:
        self._changed_members.setdefault(key, set()).update(members)
        self._changed_sets.add(key)

    def _flush(self) -> None:
        """Write every change since the last commit: one statement per table and kind."""
        hot, run = self._hot, self._cursor.executemany

        def many(statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
            if rows:  # a statement with nothing to do still costs ~8 µs; most have nothing
                run(statement, rows)

        self._flush_values(many)
        blobs = [(k, hot.hashed_set(k)) for k in self._changed_hashed]
        many(_PUT_HASHED,
             [(k, bytearray(b), hashed.expiry(b)) for k, b in blobs if b is not None])
        many("DELETE FROM hashed_sets WHERE key = ?", [(k,) for k, b in blobs if b is None])
        records = [(k, hot.sided_record(k)) for k in self._changed_sided]
        many(_PUT_SIDED, [(k, *_sided_row(r, space_of(k).ttls, self._names_of(k, r.names)))
                          for k, r in records if r is not None])
        many("DELETE FROM sided_sets WHERE key = ?", [(k,) for k, r in records if r is None])
        counters = [(k, hot.packed_counter(k)) for k in self._changed_counters]
        many(_PUT_COUNT, [(k, bytearray(c[0]), c[1]) for k, c in counters if c is not None])
        many("DELETE FROM counts WHERE key = ?", [(k,) for k, c in counters if c is None])
        # Each changed set once: its member rows, then its header.
        rewritten, changed_members = self._rewritten_sets, self._changed_members
        many("DELETE FROM members WHERE key = ?", [(k,) for k in rewritten])
        rows: list[tuple[str, str, float]] = []
        headers: list[tuple[str, float, float, int]] = []
        gone: list[tuple[str, str]] = []
        headless: list[tuple[str]] = []
        for key in self._changed_sets:
            entry = hot.member_set(key)  # (``held`` above is a counter's)
            now_in: MemberSet | dict[str, float] = entry[0] if entry is not None else {}
            if key in rewritten:
                rows.extend((key, m, ts) for m, ts in now_in.items())
            else:
                for member in changed_members.get(key, ()):
                    if member in now_in:
                        rows.append((key, member, now_in[member]))
                    else:
                        gone.append((key, member))
            if entry is None:
                headless.append((key,))
            else:
                headers.append((key, entry[1], entry[2], entry[3]))
        assert hot.trimmed is not None
        gone.extend((key, member) for key, member in hot.trimmed
                    if key not in rewritten and member not in (hot.member_set(key) or ({},))[0])
        hot.trimmed.clear()
        many(_PUT_MEMBER, rows)
        many(_PUT_HEADER, headers)
        many("DELETE FROM members WHERE key = ? AND member = ?", gone)
        many(f"DELETE FROM members WHERE key = ? AND member = {_HEADER}", headless)
        self._forget_changes()

    def _flush_values(self, many: Callable[[str, Sequence[tuple[Any, ...]]], None]) -> None:
        """Write the changed values: a key a ``Puts`` put last as a row of its put's (the
        put's value and expiry once, in ``puts``) and, where the file does not name that
        row already, its ``put_keys`` row; any other in ``kv``. Each leaves the table it
        was in (``_where``: where not known, both are told)."""
        hot, where, put_by = self._hot, self._where, self._put_by
        kv_rows: list[tuple[str, bytearray, float]] = []
        puts: dict[str, tuple[str, bytearray, float]] = {}
        key_rows: list[tuple[str, str]] = []
        out_of_kv: list[tuple[str]] = []
        out_of_puts: list[tuple[str]] = []
        ids: dict[tuple[str, ...], str] = {}
        for key in self._changed_values:
            held, was, keys = hot.value(key), where.get(key), put_by.get(key)
            if held is None:
                now_in = _NOWHERE
            elif keys is None:
                now_in = _IN_KV
                kv_rows.append((key, bytearray(held[0]), held[1]))
            else:
                now_in = ids.get(keys) or ids.setdefault(keys, _put_id(keys))
                puts[now_in] = (now_in, bytearray(held[0]), held[1])
                if was != now_in:
                    key_rows.append((key, now_in))
            if now_in != _IN_KV and (was is None or was == _IN_KV):
                out_of_kv.append((key,))
            if now_in in (_IN_KV, _NOWHERE) and was not in (_IN_KV, _NOWHERE):
                out_of_puts.append((key,))  # (a put's row the upsert above moves)
            where[key] = now_in
        many(_PUT_VALUE, kv_rows)
        many("DELETE FROM kv WHERE key = ?", out_of_kv)
        many(_PUT_PUT, list(puts.values()))
        many(_PUT_KEY, key_rows)
        many("DELETE FROM put_keys WHERE key = ?", out_of_puts)

    def _names_of(self, key: str, names: tuple[str, ...]) -> bytearray:
        """``sided.encode_names(names)``, from the names the key's row was last written
        with when these are the same tuple (a touch keeps it when it adds no one) or those
        and more at the end (a touch that adds names appends them): encoded whole at every
        write, a record's names cost ~2,500 instructions a name (a record of 9 names 22,700,
        ``sqlheld``), 1.65 records an event at batches of one."""
        held = self._names.get(key)
        if held is not None and held[0] is names:
            return held[1]
        if held is not None and len(names) > len(held[0]) and names[:len(held[0])] == held[0]:
            blob = held[1] + sided.encode_names(names[len(held[0]):])
        else:
            blob = bytearray(sided.encode_names(names))
        self._names[key] = (names, blob)
        return blob

    def _forget_changes(self) -> None:
        for changed in (self._changed_values, self._changed_counters, self._changed_sets,
                        self._rewritten_sets, self._changed_members, self._changed_hashed,
                        self._changed_sided, self._put_by):
            changed.clear()

    def _let_go(self, everything: bool = False) -> None:
        """Drop held keys: all of them, or past the bound the oldest, ``_LET_GO`` a call
        (or all past ``cached``, if more), until half are left; and the batch's planned
        reads (called at every commit, and whenever held keys may go). Known queries go
        with any key (one may ask it), and are freed a few a call (``_free_some``)."""
        self._planned.clear()
        if everything or len(self._known) > self._cached:
            self._forget_known()
        if everything or len(self._set_kinds) > self._cached:
            self._set_kinds.clear()
        if everything:
            self._hot = self._fresh_hot()
            self._held.clear()
            self._names.clear()
            self._where.clear()
            self._letting_go = False
        elif self._letting_go or len(self._held) > self._cached:
            self._forget_known()
            held, hot, names, where = self._held, self._hot, self._names, self._where
            # More than ``_LET_GO`` when a batch brought more (batches of thousands of
            # events): never more than ``cached`` held after a commit (``_free_some``).
            for key in list(islice(held, max(_LET_GO, len(held) - self._cached))):
                hot.forget(key)
                del held[key]
                names.pop(key, None)
                where.pop(key, None)
            self._letting_go = len(held) > self._cached // 2
        self._free_some()

    def _forget_known(self) -> None:
        """Know no query: the set is put aside to be freed a few a call, not freed here."""
        if self._known:
            self._unknown.append(self._known)
            self._known = set()

    def _free_some(self) -> None:
        """Free up to ``_LET_GO`` queries no longer known; more when over ``cached`` wait
        (batches of thousands of events), so they never hold more than the bound."""
        unknown = self._unknown
        waiting = sum(map(len, unknown))
        budget = max(_LET_GO, waiting - self._cached)
        while unknown and budget:
            last = unknown[-1]
            count = min(budget, len(last))
            for _ in repeat(None, count):
                last.pop()
            budget -= count
            if not last:
                unknown.pop()

    def commit(self) -> None:
        self._locked = False  # the transaction ends here, or is rolled back
        try:
            self._flush()
            if self._before_commit is not None:
                self._before_commit()
            self._conn.commit()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state commit failed: {exc}") from exc
        self._let_go()

    def rollback(self) -> None:
        self._locked = False
        self._forget_changes()
        self._let_go(everything=True)
        try:
            self._conn.rollback()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state rollback failed: {exc}") from exc

    def sweep(self, now: float) -> int:
        self._locked = False  # the transaction ends here, or is rolled back
        try:
            self._flush()
            if self._before_commit is not None:
                self._before_commit()
            dropped = self._sweep_ranges(dict.fromkeys(_SWEPT, _EVERY_KEY), now)[0]
            self._conn.commit()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state sweep failed: {exc}") from exc
        self._let_go(everything=True)  # the file changed under the held copy
        return dropped

    def sweep_part(self, now: float, since_pass: int) -> int:
        """The lap's next part: a slice of each table's rows by primary key (``key >= ? AND
        key < ?``: a walk of its index, where a sweep of everything scans every row), from
        where the part before ended to an even share of the rows ahead on (``_part_end``);
        the lap's last part to the table's end. Rows written during the lap ahead of it are
        swept in their turn, those behind it at the next lap.

        Where each table's lap stands is its row of ``sweep_lap``, written in the part's own
        transaction: a restart resumes the lap (a process restarted more often than a lap
        took began it again, and never swept its later parts), a part rolled back is
        redone by the next, a crash at worst redoes one, and processes on one file share a
        lap. So is ``since_pass``, in its row of ``since_pass``. The held copy is changed
        as the part changed the file (``_agree``)."""
        try:
            self._begin()
            self._flush()
            run, first = self._conn.execute, (0, _EVERY_KEY[0], 0)
            stood = {table: (part, start, behind) for table, part, start, behind in
                     run("SELECT tbl, part, start, behind FROM sweep_lap")}
            ranges: dict[str, tuple[str | bytes, str | bytes]] = {}
            for table in _SWEPT:
                part, start, behind = stood.get(table, first)
                ranges[table] = (start, _EVERY_KEY[1] if part >= SWEEP_PARTS - 1 else
                                 self._part_end(table, start, behind, SWEEP_PARTS - part))
            dropped, swept = self._sweep_ranges(ranges, now)
            lap = []
            for table, (start, end) in ranges.items():
                part, _, behind = stood.get(table, first)
                if part >= SWEEP_PARTS - 1:
                    lap.append((table, *first))
                else:
                    left = run(f"SELECT COUNT(*) FROM {table} WHERE key >= ? AND key < ?",
                               (start, end)).fetchone()[0]
                    lap.append((table, part + 1, end, behind + left))
            self._conn.executemany("INSERT OR REPLACE INTO sweep_lap VALUES (?, ?, ?, ?)", lap)
            run("INSERT OR REPLACE INTO since_pass VALUES (1, ?)", (since_pass,))
            self._agree(swept, now)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state sweep failed: {exc}") from exc
        return dropped

    def _agree(self, swept: _Swept, now: float) -> None:
        """Make the held copy agree with the file a part of the sweep changed under it, by
        the part's own changes, each to a key held of that kind: what it deleted is
        dropped from the held copy, a member set it thinned loses the same members, a
        sided record it rewrote is held as the part computed it (``_sweep_sided``), not
        read back. The held copy was the file's own at the part's start (``_flush``), so
        it is the file's after: a key stays held, of the kinds it was (``_held``), with
        nothing there where the file has no row, as a load finding none leaves it. So every
        query known stays answered from held keys, and the query lists held ahead stay
        held (``_known``, ``_planned``): forgetting the keys made the batch after each part
        look all of its queries up again (~2.6 more an event on the mixed load: session 31,
        ``batch31``). Why not load them again (sessions 31-38): on the replay's state at
        30,000 messages that was 1.4 ms of a 2.5 ms part, 176 keys forgotten from every
        table (~4 µs each: each table's look-ups) and looked for in the file, where most
        (137 counters) were gone (session 39, ``sweep39``). O(changes), no statement."""
        held, hot, where = self._held, self._hot, self._where
        for kind, keys in ((_COUNTER, swept.counters), (_HASHED, swept.hashed),
                           (_SET, swept.sets), (_VALUE, swept.values)):
            for key in keys:
                if held.get(key, 0) & kind:
                    hot.forget(key, kind)
        # In no table now (a key is in one at most: ``_flush_values``).
        where.update((key, _NOWHERE) for key in swept.values if key in where)
        thinned = [Remove(key, tuple(gone)) for key, gone in swept.members.items()
                   if held.get(key, 0) & _SET]
        if thinned:
            hot.write(thinned, now)
        for key, record in swept.sided.items():
            if held.get(key, 0) & _SIDED:
                # Dropped first, where it is: a guest's record of its own past
                # ``LODGED_NAMES`` names may be lodged in its host once thinned.
                hot.forget(key, _SIDED)
                self._names.pop(key, None)
                if record is not None:
                    hot.load_sided(key, record)

    def _part_end(self, table: str, start: str | bytes, behind: int, parts: int
                  ) -> str | bytes:
        """Where a part of ``table`` from ``start`` ends, ``parts`` being left in the lap
        with this one and ``behind`` the rows its parts left: an even share of the rows
        ahead on (``_SLICE``, a walk of that many rows of its index; the table's count, of
        its pages), or its end (``_EVERY_KEY``'s), once there: the lap's later parts find
        nothing left in it. A share of the whole table fell behind: the parts thin what
        they pass, so the count shrank, each share with it, and the last part took a
        fifth of the table (9,603 items, 33 ms on the mixed load). Each part cuts its own
        slice, from the table as it is then: the lap's first part cut every slice."""
        run, end = self._conn.execute, _EVERY_KEY[1]
        if start == end:
            return end
        ahead = run(f"SELECT COUNT(*) FROM {table}").fetchone()[0] - behind
        share = 1 + max(ahead, 0) // parts
        found = run(_SLICE.format(table), (start, share)).fetchone()
        if found is not None and found[0] == start:
            found = run(_NEXT_KEY.format(table), (start,)).fetchone()
        return end if found is None else found[0]

    def _sweep_ranges(self, ranges: dict[str, tuple[str | bytes, str | bytes]], now: float
                      ) -> tuple[int, _Swept]:
        """Sweep each table's keys in its range, ``key >= start AND key < end``; returns the
        items dropped and what was deleted or rewritten (``_Swept``)."""
        run = self._conn.execute
        swept = _Swept([], [], [], [], {}, {})
        dropped = 0
        for table, keys in (("counts", swept.counters), ("kv", swept.values),
                            ("hashed_sets", swept.hashed)):
            if table in ranges:
                gone = run(f"DELETE FROM {table} WHERE key >= ? AND key < ? AND exp <= ? "
                           "RETURNING key", (*ranges[table], now)).fetchall()
                dropped += len(gone)
                keys.extend(key for key, in gone)
        if "puts" in ranges:  # the items are its keys, swept with ``put_keys`` below
            run("DELETE FROM puts WHERE key >= ? AND key < ? AND exp <= ?",
                (*ranges["puts"], now))
        if "put_keys" in ranges:  # a key whose put expired or went
            gone = run(_SWEEP_PUT_KEYS, (*ranges["put_keys"], now)).fetchall()
            dropped += len(gone)
            swept.values.extend(key for key, in gone)
        if "sided_sets" in ranges:
            dropped += self._sweep_sided(ranges["sided_sets"], now, swept.sided)
        if "members" in ranges:
            bounds, members = ranges["members"], swept.members
            gone = run(_SWEEP_SETS, (*bounds, now)).fetchall()  # a row each, header and members
            dropped += len(gone)
            swept.sets.extend(dict.fromkeys(key for key, in gone))
            for key, member in run(_SWEEP_MEMBERS, (*bounds, now)):
                members.setdefault(key, []).append(member)
            for key, cap in run(_OVERSIZED, bounds).fetchall():
                # Stalest first; ties by member, as Redis drops them.
                members.setdefault(key, []).extend(
                    member for member, in run(_SWEEP_CAPPED, (key, cap)))
            dropped += sum(map(len, members.values()))
        return dropped, swept

    def _sweep_sided(self, bounds: tuple[str | bytes, str | bytes], now: float,
                     swept: dict[str, sided.Record | None]) -> int:
        """Sided records in ``bounds`` with something to drop by ``now`` (their ``exp``:
        ``Record.due``), swept as the memory backend sweeps them, each key's record left
        put in ``swept`` (None: deleted whole); returns those deleted whole."""
        due = self._conn.execute("SELECT key, names, times, layout FROM sided_sets WHERE "
                                 "key >= ? AND key < ? AND exp <= ?", (*bounds, now)).fetchall()
        left = [(key, sided.swept(_sided_record(key, names, times, layout), now,
                                  space_of(key).ttls)) for key, names, times, layout in due]
        self._conn.executemany("UPDATE sided_sets SET names = ?, times = ?, exp = ?, "
                               "layout = ? WHERE key = ?",
                               [(*_sided_row(r, space_of(key).ttls), key)
                                for key, r in left if r is not None])
        gone = [(key,) for key, r in left if r is None]
        self._conn.executemany("DELETE FROM sided_sets WHERE key = ?", gone)
        swept.update(left)
        return len(gone)

    def since_pass(self) -> int:
        try:
            row = self._conn.execute("SELECT events FROM since_pass").fetchone()
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state read failed: {exc}") from exc
        return row[0] if row else 0

    def ping(self) -> None:
        """The file is the records' too: ``SQLiteRecords.ping`` proves it takes writes."""

    def close(self) -> None:
        self._conn.close()


_NOTES: dict[type, Callable[[SQLiteState, Any, float], None]] = {
    Incr: SQLiteState._note_incr, Put: SQLiteState._note_put, Touch: SQLiteState._note_touch,
    Remove: SQLiteState._note_remove, Replace: SQLiteState._note_replace,
    Delete: SQLiteState._note_delete, Append: SQLiteState._note_append,
    Puts: SQLiteState._note_puts}

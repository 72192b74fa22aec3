from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from spimguard.db import connect
from spimguard.state.conformance import T0, check_backend
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Get, Incr, Put
from spimguard.state.sqlite import SQLiteState


def test_memory_backend_conforms() -> None:
    check_backend(MemoryState())


def test_sqlite_backend_conforms(tmp_path: Path) -> None:
    check_backend(SQLiteState(connect(tmp_path / "s.db")))


def test_redis_backend_conforms(redis_url: str, redis_namespace: str) -> None:
    from spimguard.state.redis import RedisState

    check_backend(RedisState(redis_url, redis_namespace))


def test_redis_reads_the_earlier_layout_of_member_sets(redis_url: str,
                                                      redis_namespace: str) -> None:
    """A store written before the sets held their own expiry and TTL (both in shared
    structures then) answers as it did, keeps its TTLs and drops the structures."""
    import redis

    from spimguard.state.ops import Contains, Distinct, Members, Touch
    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    raw.zadd(f"{ns}seen:a", {"old": T0, "new": T0 + 50})
    raw.zadd(f"{ns}expiry", {f"{ns}seen:a": T0 + 150, f"{ns}gone": T0 + 100,
                             f"{ns}untimed": T0 + 1000})
    raw.hset(f"{ns}ttl", mapping={f"{ns}seen:a": 100.0, f"{ns}gone": 100.0})
    raw.zadd(f"{ns}gone", {"x": T0})
    raw.zadd(f"{ns}untimed", {"y": T0})
    state = RedisState(redis_url, ns)
    assert state.read([Contains("seen:a", ("old", "new")), Members("seen:a"),
                       Distinct("seen:a", 1000), Contains("gone", ("x",)),
                       Members("untimed")], T0 + 120) == [
        (False, True), ("new",), 1, (False,), ("y",)]
    assert not raw.exists(f"{ns}expiry", f"{ns}ttl")
    state.write([Touch("seen:a", ("late",), ttl=100.0)], T0 + 130)
    assert state.read([Members("seen:a")], T0 + 151) == [("late",)]
    assert not raw.exists(f"{ns}expiry", f"{ns}ttl"), "a set keeps its own expiry and TTL"


def test_redis_unreachable_is_a_clear_error() -> None:
    import pytest

    from spimguard.errors import StateUnavailable
    from spimguard.state.redis import RedisState

    with pytest.raises(StateUnavailable, match="cannot reach Redis"):
        RedisState("redis://127.0.0.1:1/0")


def test_sqlite_state_survives_reopen(tmp_path: Path) -> None:
    state = SQLiteState(connect(tmp_path / "s.db"))
    state.write([Incr("c", 4.0), Put("v", [1, 2])], T0)
    state.commit()
    state.close()
    again = SQLiteState(connect(tmp_path / "s.db"))
    assert again.read([Count("c", 60), Get("v")], T0) == [4.0, [1, 2]]


def test_uncommitted_writes_are_not_kept(tmp_path: Path) -> None:
    state = SQLiteState(connect(tmp_path / "s.db"))
    state.write([Incr("c", 4.0)], T0)
    state.close()  # closing without commit rolls back
    again = SQLiteState(connect(tmp_path / "s.db"))
    assert again.read([Count("c", 60)], T0) == [0.0]


def test_memory_counter_prunes_old_buckets() -> None:
    state = MemoryState()
    for minute in range(200):
        state.write([Incr("c", 1.0, bucket=60, ttl=600)], T0 + minute * 60)
    buckets, _ = state.counter("c") or ({}, 0.0)
    assert len(buckets) <= 17
    assert state.read([Count("c", 600, 60)], T0 + 199 * 60) == [10.0]


def test_sqlite_answers_as_memory_through_commits_evictions_and_reopens(tmp_path: Path) -> None:
    """SQLite holds touched keys in memory and writes changes at commit: whatever it lets
    go of, reloads or reopens, it answers as the memory backend does. Equal queries are
    asked as one object, as the engine asks what it planned (``SQLiteState._known``)."""
    import random

    from spimguard.state.ops import Contains, Delete, Distinct, Members, Remove, Replace, Touch

    rng = random.Random(7)
    memory, path = MemoryState(), tmp_path / "s.db"
    sqlite = SQLiteState(connect(path), cached=6)
    keys = [f"k{i}" for i in range(12)]
    people = [f"p{i}" for i in range(8)]
    asked: dict[object, object] = {}
    for step in range(600):
        now = T0 + step * 7
        key = rng.choice(keys)
        some = tuple(rng.sample(people, rng.randint(1, 3)))
        kind = int(key[1:]) % 3  # a key keeps one kind, as detectors use them
        writes = {0: [Incr(key, 1.0, bucket=60, ttl=rng.choice([300, 3000]))],
                  1: [rng.choice([Touch(key, some, ttl=900, cap=5), Replace(key, some, ttl=900),
                                  Remove(key, some), Touch(key, some, ttl=900, cap=5)])],
                  2: [rng.choice([Put(key, {"n": step}, ttl=500), Delete(key)])]}[kind]
        for state in (memory, sqlite):
            state.write(writes, now)
        queries = [Count(k, 600, 60) if int(k[1:]) % 3 == 0 else
                   Get(k) if int(k[1:]) % 3 == 2 else
                   rng.choice([Distinct(k, 600), Contains(k, some), Members(k)])
                   for k in rng.sample(keys, 4)]
        queries = [asked.setdefault(q, q) for q in queries]
        assert sqlite.read(queries, now) == memory.read(queries, now), step
        if step % 5 == 0:
            sqlite.commit()
        if step % 97 == 0:
            sqlite.commit()
            sqlite.close()
            sqlite = SQLiteState(connect(path), cached=6)


def test_sqlite_rollback_forgets_held_changes(tmp_path: Path) -> None:
    state = SQLiteState(connect(tmp_path / "s.db"))
    state.write([Incr("c", 1.0), Put("v", 1)], T0)
    state.commit()
    state.write([Incr("c", 5.0), Put("v", 2)], T0)
    assert state.read([Count("c", 60), Get("v")], T0) == [6.0, 2]
    state.rollback()
    assert state.read([Count("c", 60), Get("v")], T0) == [1.0, 1]


def test_sqlite_sees_what_another_process_committed(tmp_path: Path) -> None:
    """An operator's tool writing the same file beside a running server (lists import):
    the server's held copy gives way to the file's new state at its next read."""
    server = SQLiteState(connect(tmp_path / "s.db"))
    server.write([Put("list", "old"), Incr("learnt", 1.0)], T0)
    server.commit()
    assert server.read([Get("list"), Count("learnt", 60)], T0) == ["old", 1.0]
    tool = SQLiteState(connect(tmp_path / "s.db"))
    tool.write([Put("list", "new"), Incr("learnt", 1.0)], T0)
    tool.commit()
    assert server.read([Get("list"), Count("learnt", 60)], T0) == ["new", 2.0]
    server.write([Incr("learnt", 1.0)], T0)
    server.commit()
    assert tool.read([Count("learnt", 60)], T0) == [3.0]


def test_memory_sets_answer_alike_packed_and_past_the_packing_size() -> None:
    """Small member sets are packed, large ones dicts: across the boundary (growing by
    touches, trimmed by the cap, shrunk by removals and TTL sweeps) every answer is what
    a plain ordered dict of member -> last touch gives."""
    import random

    from spimguard.state.ops import Contains, Distinct, Members, Remove, Replace, Touch

    rng = random.Random(11)
    state, model = MemoryState(), {}  # model: member -> time, oldest touched first
    people = [f"p{i}" for i in range(260)]
    cap, ttl = 200, 5_000.0
    for step in range(400):
        now = T0 + step * 10 + rng.choice([0, 0, 0.5])
        some = rng.sample(people, rng.choice([1, 3, 40]))
        op = rng.random()
        if op < 0.7:
            state.write([Touch("s", tuple(some), ttl=ttl, cap=cap)], now)
            for member in sorted(set(some)):
                model.pop(member, None)
                model[member] = now
            for stale in list(model)[: max(0, len(model) - cap)]:
                del model[stale]
        elif op < 0.9:
            state.write([Remove("s", tuple(some))], now)
            for member in some:
                model.pop(member, None)
        elif op < 0.95:
            state.write([Replace("s", tuple(some), ttl=ttl)], now)
            model = dict.fromkeys(sorted(set(some)), now)
        else:
            state.sweep(now)
            model = {m: t for m, t in model.items() if t + ttl > now}
        probe = tuple(rng.sample(people, 5))
        window = rng.choice([15.0, 300.0, 4_000.0])
        assert state.read([Members("s"), Contains("s", probe), Distinct("s", window)], now) == [
            tuple(model), tuple(p in model for p in probe),
            sum(1 for t in model.values() if t > now - window)], step


def test_a_changed_key_costs_one_page_of_wal(tmp_path: Path) -> None:
    """A commit writes each b-tree page it changed, whole, to the WAL: a key written is
    one page, its table's, with no index or header table beside it to move too.

    One exception is SQLite's, not ours: a table WITHOUT ROWID is an index b-tree, whose
    interior pages hold whole rows, and a row there that changes size is replaced by a
    leaf's (its interior page and one or two leaves written). Where the rows land follows the
    first commit's order, so 1-2 % of hash seeds put one of the three there (seed 85):
    the pages are read off ``dbstat`` and that case allowed only where it occurs."""
    from spimguard.state.ops import Touch

    path = tmp_path / "s.db"
    conn = connect(path)
    state = SQLiteState(conn)
    state.write([w for i in range(3000) for w in (
        Incr(f"c{i}", 1.0, ttl=3600), Put(f"v{i}", i, ttl=3600),
        Touch(f"s{i}", ("a", "b"), ttl=3600, cap=10))], T0)
    state.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    wal = path.parent / "s.db-wal"
    # Rows that keep their size (a page that splits is three): a count in the same bucket,
    # a value as long, a member touched again; each committed alone, its pages read off.
    for table, write in (("counts", Incr("c1500", 1.0, ttl=3600)),
                         ("kv", Put("v1500", 9999, ttl=7200)),
                         ("members", Touch("s1500", ("b",), ttl=7200, cap=10))):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        state.write([write], T0 + 1)
        state.commit()
        frames = wal.read_bytes()
        # Each frame: a 24-byte header whose first 4 bytes are the page's number, then the
        # page. Counted by page, not by frame: SQLite may write a frame of a page again.
        pages = {int.from_bytes(frames[at:at + 4], "big")
                 for at in range(32, len(frames), 24 + page)}
        owners = conn.execute(
            f"SELECT name, pagetype FROM dbstat WHERE pageno IN ({','.join('?' * len(pages))})",
            sorted(pages)).fetchall()
        assert {name for name, _ in owners} == {table}, f"{write} wrote {owners}"
        interior = sum(kind == "internal" for _, kind in owners)
        assert interior <= 1 and len(pages) - interior <= 1 + interior, (
            f"{write} wrote {owners}")


def test_a_file_of_the_old_layout_opens_and_answers_as_before(tmp_path: Path) -> None:
    """Files written before the set headers moved in among the members (and before the
    expiry and age indexes went) open, keep every key, and take writes."""
    import sqlite3

    from spimguard.state.ops import Contains, Distinct, Members, Touch

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(f"""
        CREATE TABLE counters (key TEXT NOT NULL, bucket INTEGER NOT NULL, n REAL NOT NULL,
            exp REAL NOT NULL, PRIMARY KEY (key, bucket)) WITHOUT ROWID;
        CREATE TABLE member_sets (key TEXT PRIMARY KEY, exp REAL NOT NULL, ttl REAL NOT NULL,
            cap INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE members (key TEXT NOT NULL, member TEXT NOT NULL, ts REAL NOT NULL,
            PRIMARY KEY (key, member)) WITHOUT ROWID;
        CREATE INDEX members_by_age ON members (key, ts);
        CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, exp REAL NOT NULL)
            WITHOUT ROWID;
        CREATE INDEX counters_exp ON counters (exp);
        CREATE INDEX kv_exp ON kv (exp);
        INSERT INTO counters VALUES ('c', {int(T0 // 60)}, 4.0, {T0 + 3600});
        INSERT INTO member_sets VALUES ('s', {T0 + 3600}, 3600, 3);
        INSERT INTO members VALUES ('s', 'b', {T0}), ('s', 'a', {T0 + 1});
        INSERT INTO kv VALUES ('v', '[1,2]', {T0 + 3600});
    """)
    old.close()
    state = SQLiteState(connect(path))
    asked = [Count("c", 60), Get("v"), Members("s"), Distinct("s", 3600)]
    assert state.read(asked, T0 + 2) == [4.0, [1, 2], ("b", "a"), 2]
    state.write([Touch("s", ("c", "d"), ttl=3600, cap=3)], T0 + 3)
    state.commit()
    state.close()
    again = SQLiteState(connect(path))
    assert again.read([Members("s"), Contains("s", ("b", "d"))], T0 + 4) == [
        ("a", "c", "d"), (False, True)]
    names = {row[0] for row in again._conn.execute("SELECT name FROM sqlite_master")}
    assert not names & {"member_sets", "members_by_age", "counters_exp", "kv_exp"}, names


def test_memory_sets_past_their_ttl_answer_as_gone_before_any_touch_or_sweep() -> None:
    """Members touched a TTL ago or longer, and sets past their expiry, answer as gone at
    once, whichever form the set has (one time for all, packed times, a dict) and whatever
    TTL its last write gave it: what reads skip is what a later touch or sweep drops."""
    import random

    from spimguard.state.ops import Contains, Distinct, Members, Remove, Replace, Touch

    rng = random.Random(13)
    state = MemoryState()
    model: dict[str, float] = {}  # member -> time, oldest touched first
    expiry = ttl = 0.0
    people = [f"p{i}" for i in range(260)]
    now = T0
    for step in range(600):
        now += rng.choice([10.0, 10.0, 0.5, 700.0])
        some = rng.sample(people, rng.choice([1, 3, 40, 150]))
        # TTLs vary from write to write: a longer one revives nothing already gone, and a
        # shorter one drops members a longer one would have kept.
        op, ttl_now = rng.random(), rng.choice([1_500.0, 3_000.0])
        if op < 0.6:
            state.write([Touch("s", tuple(some), ttl=ttl_now, cap=200)], now)
            model = {m: t for m, t in model.items() if t > now - ttl} if expiry > now else {}
            for member in sorted(set(some)):
                model.pop(member, None)
                model[member] = now
            model = {m: t for m, t in model.items() if t > now - ttl_now}
            for stale in list(model)[: max(0, len(model) - 200)]:
                del model[stale]
            expiry, ttl = max(expiry, now + ttl_now), ttl_now
        elif op < 0.85:
            state.write([Remove("s", tuple(some))], now)
            for member in some:
                model.pop(member, None)
        else:
            state.write([Replace("s", tuple(some), ttl=ttl_now)], now)
            model = dict.fromkeys(sorted(set(some)), now)
            expiry, ttl = now + ttl_now, ttl_now
        # Later: a read between this write and the next, when more may have gone stale.
        later = now + rng.choice([0.0, 5.0, 1_499.0, 2_999.0])
        live = {m: t for m, t in model.items() if t > later - ttl} if expiry > later else {}
        probe = tuple(rng.sample(people, 12))
        window = rng.choice([15.0, 300.0, 2_000.0, 4_000.0])
        assert state.read([Members("s"), Contains("s", probe), Distinct("s", window)],
                          later) == [
            tuple(live), tuple(p in live for p in probe),
            sum(1 for t in live.values() if t > later - window)], step


def test_sqlite_keeps_no_row_of_what_a_touch_found_gone(tmp_path: Path) -> None:
    """A set past its expiry, touched again with a longer TTL, is stored afresh: the file
    holds no row of its old members for a reopen to load back."""
    from spimguard.state.ops import Members, Touch

    state = SQLiteState(connect(tmp_path / "s.db"))
    state.write([Touch("s", ("a", "b"), ttl=1_500, cap=10)], T0)
    state.commit()
    state.write([Touch("s", ("c",), ttl=3_000, cap=10)], T0 + 1_600)
    state.commit()
    state.close()
    again = SQLiteState(connect(tmp_path / "s.db"))
    assert again.read([Members("s")], T0 + 1_600) == [("c",)]
    stored = again._conn.execute("SELECT member FROM members WHERE key = 's'").fetchall()
    assert sorted(m for (m,) in stored if type(m) is str) == ["c"]


def test_redis_keeps_a_short_account_record_in_its_ties_hash(redis_url: str,
                                                             redis_namespace: str) -> None:
    """An account's record (a lodged value) is a field of its ties' hash while short, a key
    of its own when long, one place at a time; the ties answer as without it; a record
    written before the layout (its own key) is read, and moved at its next write."""
    import redis

    from spimguard import accounts
    from spimguard.state.ops import RAW, Delete, Distinct, Members, Touch
    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    record, ties, field = accounts.key("@a:s"), accounts.tie_record("@a:s"), b"\xf5"
    state.write([Touch(ties, ("@b:s",), 300.0, 10, accounts.TALKED),
                 Put(record, b"short", 5000.0)], T0)
    assert not raw.exists(ns + record)
    assert raw.hget(ns + ties, field) == RAW + struct.pack("<d", T0 + 5000.0) + b"short"
    assert raw.object("encoding", ns + ties) == b"listpack"
    assert raw.ttl(ns + ties) > 5000, "the hash lives as long as its longest part"
    asked = [Get(record), Members(ties, accounts.TALKED), Distinct(ties, 1000.0,
                                                                  accounts.TALKED)]
    assert state.read(asked, T0 + 1) == [b"short", ("@b:s",), 1]
    state.write([Put(record, b"x" * 80, 5000.0)], T0 + 2)
    assert raw.exists(ns + record) and raw.hget(ns + ties, field) is None
    assert raw.object("encoding", ns + ties) == b"listpack"
    assert state.read(asked, T0 + 3) == [b"x" * 80, ("@b:s",), 1]
    state.write([Put(record, b"short", 50.0)], T0 + 4)
    assert not raw.exists(ns + record)
    assert state.read(asked, T0 + 60) == [None, ("@b:s",), 1], "expired in event time"
    state.write([Delete(record)], T0 + 61)
    assert raw.hget(ns + ties, field) is None
    assert state.read(asked, T0 + 62) == [None, ("@b:s",), 1]
    # Written by a node of before: its own key, read until the next write moves it.
    other = accounts.key("@c:s")
    raw.set(ns + other, RAW + struct.pack("<d", T0 + 100.0) + b"old", ex=1000)
    assert state.read([Get(other)], T0 + 62) == [b"old"]
    state.write([Put(other, b"new", 100.0)], T0 + 63)
    assert not raw.exists(ns + other)
    assert raw.hgetall(ns + accounts.tie_record("@c:s")).keys() == {field}
    assert state.read([Get(other), Members(accounts.tie_record("@c:s"), accounts.TALKED)],
                      T0 + 64) == [b"new", ()]
    state.close()


def test_redis_claimed_write_checks_a_lodged_value_where_it_was_read(
        redis_url: str, redis_namespace: str) -> None:
    """A claimed event's write of a lodged value applies only if the value is as its read
    found it, in its own key of before or in its host's field (else ``Contention``)."""
    import pytest
    import redis

    from spimguard import accounts
    from spimguard.errors import Contention
    from spimguard.state.ops import RAW
    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state, record = RedisState(redis_url, ns), accounts.key("@a:s")
    raw.set(ns + record, RAW + struct.pack("<d", T0 + 100.0) + b"old", ex=1000)
    claim, answers = state.claim_read("e1", "d1", [Get(record)], T0)
    assert claim.mine and answers == [b"old"]
    state.write_claimed("e1", [Put(record, b"mine", 100.0)], T0, b"out")
    assert not raw.exists(ns + record)
    claim, answers = state.claim_read("e2", "d2", [Get(record)], T0 + 1)
    assert answers == [b"mine"]
    state.write([Put(record, b"theirs", 100.0)], T0 + 1)  # another node, meanwhile
    with pytest.raises(Contention):
        state.write_claimed("e2", [Put(record, b"lost", 100.0)], T0 + 1, b"out")
    claim, answers = state.claim_read("e3", "d3", [Get(record)], T0 + 2)
    assert answers == [b"theirs"]
    state.write_claimed("e3", [Put(record, b"kept", 100.0)], T0 + 2, b"out")
    assert state.read([Get(record)], T0 + 3) == [b"kept"]
    state.close()



def _redis_with_listpack_value(url: str, value: str | None) -> Any:
    """A client of the test Redis whose CONFIG answers hash-max-listpack-value with
    ``value``, or refuses as a managed Redis's does (None): the server is shared, so its
    own setting is left alone."""
    import redis

    class Configured(redis.Redis):
        def config_get(self, pattern: str = "*", *args: Any, **kwargs: Any) -> Any:
            if value is None:
                raise redis.ResponseError("unknown command 'CONFIG'")
            return {pattern: value}

    return Configured.from_url(url)


def test_redis_lodges_the_takeover_record_and_contact_list_in_the_ties_hash(
        redis_url: str, redis_namespace: str) -> None:
    """Under a hash-max-listpack-value that takes them, an account's takeover record and
    contact list are fields of its ties' hash (no key of their own), answer as keys of
    their own did, and a contact list grown past the value moves to its own key (and back
    when written short); the detector's other ``tk:`` keys keep theirs. What a node of
    before wrote (their own keys) is read, and moved at the next write."""
    from spimguard import accounts
    from spimguard.detectors.takeover import record
    from spimguard.state import hashed
    from spimguard.state.ops import RAW, Contains, Distinct, Replace, Touch
    from spimguard.state.redis import RedisState

    ns = redis_namespace
    raw = _redis_with_listpack_value(redis_url, "1024")
    state = RedisState(redis_url, ns, client=raw)
    account = "@a:s"
    # A key of the retired "tk:heard:" keyspace (session 36), as a node of before wrote it
    # and an upgraded store keeps for one reply window: another keyspace's, never lodged.
    tk, heard, contacts = record.key(account), "tk:heard:@a:s:@b%3As", accounts.contacts(
        account)
    ties = ns + accounts.tie_record(account)
    state.write([Put(tk, b"r" * 300, 5000.0), Put(heard, 1.0, 5000.0),
                 Replace(contacts, ("@b:s", "@c:s"), 9000.0)], T0)
    assert not raw.exists(ns + tk) and not raw.exists(ns + contacts)
    assert raw.hkeys(ties) and set(raw.hkeys(ties)) == {b"\xf6", b"\xf7"}  # ``redis._LODGED_BYTES``
    assert raw.exists(ns + heard), "tk:heard: is not the takeover record"
    assert raw.ttl(ties) > 9000, "the hash lives as long as its longest part"
    asked = [Get(tk), Get(heard), Contains(contacts, ("@b:s", "@x:s")),
             Distinct(contacts, 1000.0)]
    assert state.read(asked, T0 + 1) == [b"r" * 300, 1.0, (True, False), 2]
    crowd = tuple(f"@{i}:s" for i in range(700))  # ~15 bits each: ~1,300 bytes, past 1,024
    state.write([Touch(contacts, crowd, 9000.0, cap=10_000)], T0 + 2)
    assert raw.exists(ns + contacts) and raw.hget(ties, b"\xf7") is None
    held = len({state._hasher.digest(m) for m in ("@b:s", "@c:s", *crowd)})  # 702 or a pair less
    assert state.read([Contains(contacts, ("@b:s", "@699:s")), Distinct(contacts, 1e6)],
                      T0 + 3) == [(True, True), held]
    state.write([Replace(contacts, ("@d:s",), 9000.0)], T0 + 4)
    assert not raw.exists(ns + contacts) and raw.hget(ties, b"\xf7")
    assert state.read([Contains(contacts, ("@b:s", "@d:s"))], T0 + 5) == [(False, True)]
    # Written by a node of before: their own keys, read until the next write moves them.
    old = RedisState(redis_url, ns, client=_redis_with_listpack_value(redis_url, "64"))
    other = "@o:s"
    old.write([Put(record.key(other), b"o" * 300, 5000.0),
               Replace(accounts.contacts(other), crowd[:100], 9000.0)], T0)
    assert raw.exists(ns + record.key(other)) and raw.exists(ns + accounts.contacts(other))
    asked = [Get(record.key(other)), Contains(accounts.contacts(other), ("@0:s", "@x:s"))]
    assert state.read(asked, T0 + 1) == [b"o" * 300, (True, False)]
    state.write([Put(record.key(other), b"n" * 300, 5000.0),
                 Touch(accounts.contacts(other), ("@x:s",), 9000.0)], T0 + 2)
    assert not raw.exists(ns + record.key(other))
    assert not raw.exists(ns + accounts.contacts(other))
    assert state.read(asked, T0 + 3) == [b"n" * 300, (True, True)]
    # A node of before writing during a rolling upgrade: its key, written after the field,
    # is what reads find (and what the next write replaces).
    assert raw.hget(ties.replace("@a:s", other), b"\xf7"), "the field is there"
    raw.set(ns + record.key(other), RAW + struct.pack("<d", T0 + 5000.0) + b"b" * 300)
    raw.set(ns + accounts.contacts(other),
            hashed.pack(T0 + 4, 9000.0, [state._hasher.digest("@y:s")]))
    assert state.read([*asked, Contains(accounts.contacts(other), ("@y:s",))], T0 + 5) == [
        b"b" * 300, (False, False), (True,)]
    state.close()
    old.close()


def test_redis_reads_the_listpack_value_and_warns_below_the_recommended(
        redis_url: str, redis_namespace: str, caplog: Any) -> None:
    """Spimguard never sets the server's hash-max-listpack-value (shared, and a managed
    Redis refuses CONFIG): it lodges what fits the value it finds, warns when that is
    below ``RECOMMENDED_LISTPACK_VALUE``, and takes a Redis hiding CONFIG at Redis's
    default (64), which keeps every hash compact whatever the server's value is."""
    import logging

    from spimguard.state.redis import RECOMMENDED_LISTPACK_VALUE, RedisState

    for value, limit, warned in (("1024", 1024, False), ("64", 64, True), (None, 64, True)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="spimguard.state"):
            state = RedisState(redis_url, redis_namespace,
                               client=_redis_with_listpack_value(redis_url, value))
        assert state._compact == limit
        assert any(str(RECOMMENDED_LISTPACK_VALUE) in r.getMessage()
                   for r in caplog.records) == warned, value
        state.close()


def test_every_takeover_key_but_the_record_is_another_keyspace() -> None:
    """The takeover record lodges as "tk:" + the account; the detector's other keys
    (``keys.OTHERS``) never do, whatever the account's id."""
    from spimguard import accounts
    from spimguard.detectors.takeover import keys, record
    from spimguard.state.ops import lodging

    account, session = "@tk:s", "dev"
    others = [keys.burst(account, session), keys.text(account, session, None),
              keys.same_text(account, session, None), keys.shape(account, session, 10),
              keys.lifelong(account, session), "tk:heard:@tk:s:@b%3As",  # retired, session 36
              keys.doubted(account)]
    assert all(key.startswith(keys.OTHERS) and lodging(key) is None for key in others)
    assert lodging(record.key(account)) == (accounts.tie_record(account), "t")


def test_a_sweep_to_the_horizon_keeps_what_a_late_event_reads_and_no_more() -> None:
    """A sweep goes up to an hour (``ops.MAX_LATENESS``) behind the latest time judged
    (``sweep_horizon``): what expired within that hour is still read by an event that
    late, and stays; what expired before it goes, whatever was written a year late."""
    from spimguard.state.ops import MAX_LATENESS, sweep_horizon

    state = MemoryState()
    state.write([Put("old", 1, 60), Put("recent", 2, MAX_LATENESS)], T0)
    latest = T0 + 60 + MAX_LATENESS + 1  # "old" expired an hour and a second before it
    state.write([Put("now", 3, 60)], latest)
    state.write([Put(f"late{n}", n, 60) for n in range(100)], T0 - 365 * 86_400)
    state.sweep(sweep_horizon(latest))
    assert state.value("old") is None
    assert state.value("late0") is None
    assert state.value("recent") is not None
    assert state.read([Get("recent")], latest - MAX_LATENESS) == [2]


def test_no_write_sweeps_the_store(monkeypatch: Any) -> None:
    """A write never walks the whole store: the engine sweeps it a part at a time
    (``sweep_part``). A sweep inside a write, every 50,000 writes, stalled one batch
    30-100 ms every few thousand events on the memory store and SQLite's held copy
    alike, and set the server's p99 (issue 18, session 32)."""
    swept: list[float] = []
    monkeypatch.setattr(MemoryState, "_sweep_keys",
                        lambda self, lap, now: swept.append(now) or 0)
    state = MemoryState()
    for n in range(600):
        state.write([Put(f"k{n}-{i}", i, 60) for i in range(100)], T0 + n)
    assert swept == []

"""Hashed member sets (contact lists): the answers of a set of names whose members share
the set's last write's time, in every backend, across reopens, nodes and old layouts."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spimguard import accounts
from spimguard.db import connect
from spimguard.state import StateBackend, hashed
from spimguard.state.conformance import HASHED, T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    FOREVER,
    Contains,
    Delete,
    Distinct,
    Query,
    Remove,
    Replace,
    Touch,
    Write,
    is_hashed,
    lodging,
)
from spimguard.state.redis import lodged_field
from spimguard.state.sqlite import SQLiteState
from test_contacts38 import _elias_fano


class _Model:
    """What a hashed set means, written from its definition, not from ``hashed.py``: the
    members (a touch past the cap admits new ones by name), one time, one TTL."""

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.time, self.ttl = 0.0, 0.0

    def live(self, now: float) -> bool:
        return self.time + self.ttl > now

    def write(self, op: Write, now: float) -> None:
        if isinstance(op, Replace):
            self.members, self.time, self.ttl = set(op.members), now, op.ttl
        elif isinstance(op, Remove):
            self.members -= set(op.members)
        elif isinstance(op, Touch) and op.members:
            if not self.live(now):
                self.members, self.time = set(), now
            new = sorted(set(op.members) - self.members)
            self.members |= set(new[:max(op.cap - len(self.members), 0)])
            self.time, self.ttl = max(self.time, now), op.ttl
        elif isinstance(op, Delete):
            self.members, self.time, self.ttl = set(), 0.0, 0.0

    def answer(self, query: Query, now: float) -> Any:
        live = self.live(now)
        if isinstance(query, Contains):
            return tuple(live and m in self.members for m in query.members)
        assert isinstance(query, Distinct)
        return len(self.members) if live and self.time > now - query.window else 0


def _run(state: StateBackend, again: Callable[[], StateBackend] | None = None) -> None:
    rng = random.Random(18)
    key, model = HASHED + "model", _Model()
    people = [f"@p{i}:s" for i in range(30)] + ["\u00ff", "", "\ud800"]
    now = T0
    for step in range(300):
        now += rng.choice([0.0, 1.0, 40.0, 400.0])
        at = now - rng.choice([0.0, 0.0, 0.0, 50.0])  # now and then an event from the past
        some = tuple(rng.sample(people, rng.choice([1, 2, 5, 12])))
        ops: list[Write] = [Touch(key, some, ttl=1_000.0, cap=rng.choice([8, 20, 100])),
                            Touch(key, some, ttl=FOREVER), Touch(key, (), ttl=10.0),
                            Replace(key, some, ttl=rng.choice([500.0, 2_000.0])),
                            Remove(key, some), Delete(key)]
        op = ops[rng.choice([0, 0, 0, 1, 2, 3, 4, 5])]
        state.write([op], at)
        model.write(op, at)
        queries: list[Query] = [Contains(key, tuple(rng.sample(people, 6))),
                                Distinct(key, rng.choice([30.0, 600.0, FOREVER]))]
        assert state.read(queries, now) == [model.answer(q, now) for q in queries], (step, op)
        state.commit()
        if again is not None and step % 50 == 49:
            state.close()
            state = again()


def test_memory_hashed_sets_answer_as_their_definition() -> None:
    _run(MemoryState())


def test_sqlite_hashed_sets_answer_as_their_definition_across_reopens(tmp_path: Path) -> None:
    """The hash key is the file's own: a reopened file finds what it hashed before."""
    path = tmp_path / "s.db"
    _run(SQLiteState(connect(path)), lambda: SQLiteState(connect(path), cached=2))


def test_redis_hashed_sets_answer_as_their_definition_on_any_node(
        redis_url: str, redis_namespace: str) -> None:
    """Every node of the store hashes with its key: the next node finds what one wrote."""
    from spimguard.state.redis import RedisState

    _run(RedisState(redis_url, redis_namespace), lambda: RedisState(redis_url, redis_namespace))


def test_redis_claimed_writes_touch_hashed_sets_as_plain_writes(
        redis_url: str, redis_namespace: str) -> None:
    """A claimed event's writes (one script) merge into a hashed set as ``write`` does."""
    from spimguard.state.redis import RedisState

    one, two = RedisState(redis_url, redis_namespace), RedisState(redis_url, redis_namespace)
    key = accounts.contacts("@a:s")
    one.write([Replace(key, ("@b:s",), ttl=1000.0)], T0)
    claim, _ = two.claim_read("e1", "digest", [], T0 + 1)
    assert claim.mine
    two.write_claimed("e1", [Touch(key, ("@c:s", "@b:s"), ttl=FOREVER)], T0 + 1, b"done")
    assert one.read([Contains(key, ("@b:s", "@c:s", "@d:s")), Distinct(key, FOREVER)],
                    T0 + 5000) == [(True, True, False), 2]


def test_contact_lists_are_hashed_and_keep_no_names(tmp_path: Path) -> None:
    """The store holds no contact's name, and two stores hash a name differently (the key
    is each store's own: an attacker cannot make a name that collides in any)."""
    assert is_hashed(accounts.contacts("@a:s")) and not is_hashed(accounts.tie_record("@a:s"))
    path = tmp_path / "s.db"
    state = SQLiteState(connect(path))
    state.write([Replace(accounts.contacts("@a:s"), ("@victim-contact:s",), ttl=1000.0)], T0)
    state.commit()
    state.close()
    assert not any(b"victim-contact" in f.read_bytes() for f in tmp_path.glob("s.db*"))
    blobs = [SQLiteState(connect(tmp_path / name)) for name in ("x.db", "y.db")]
    for other in blobs:
        other.write([Replace("contacts:a", ("@b:s",), ttl=1000.0)], T0)
        other.commit()
    held = [other._conn.execute("SELECT value FROM hashed_sets").fetchone()[0] for other in blobs]
    assert held[0] != held[1]


def test_listing_a_hashed_set_fails_clearly() -> None:
    from spimguard.state.ops import Members

    with pytest.raises(TypeError, match="keeps hashes, not names"):
        MemoryState().read([Members(accounts.contacts("@a:s"))], T0)


def test_sqlite_contact_lists_by_name_convert_when_the_file_opens(tmp_path: Path) -> None:
    """A file whose contact lists are member rows answers alike once opened, holds them as
    hashed sets, and keeps the other sets by name."""
    path = tmp_path / "old.db"
    SQLiteState(connect(path)).close()  # today's tables, then the rows of the names layout
    old = sqlite3.connect(path)
    old.executescript(f"""
        DELETE FROM state_keys;
        INSERT INTO members VALUES ('contacts:@a:s', '@b:s', {T0}, NULL, NULL),
            ('contacts:@a:s', '@c:s', {T0 + 5}, NULL, NULL),
            ('contacts:@a:s', x'', {T0 + 105}, 100, 10),
            ('contacts:@gone:s', '@b:s', {T0 - 500}, NULL, NULL),
            ('contacts:@gone:s', x'', {T0 - 400}, 100, 10),
            ('talked:@a:s', '@b:s', {T0}, NULL, NULL),
            ('talked:@a:s', x'', {T0 + 100}, 100, 10);
    """)
    old.commit()
    old.close()
    state = SQLiteState(connect(path))
    assert state.read([Contains(accounts.contacts("@a:s"), ("@b:s", "@c:s", "@d:s")),
                       Distinct(accounts.contacts("@a:s"), FOREVER),
                       Distinct(accounts.contacts("@gone:s"), FOREVER),
                       Contains(accounts.tie_record("@a:s"), ("@b:s",), accounts.TALKED)],
                      T0 + 50) == [
        (True, True, False), 2, 0, (True,)]
    rows = state._conn.execute("SELECT key FROM members WHERE key LIKE 'contacts:%'").fetchall()
    assert rows == [], rows


def test_redis_contact_lists_in_sorted_sets_convert_when_a_node_opens(
        redis_url: str, redis_namespace: str) -> None:
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    raw.zadd(f"{ns}contacts:@a:s", {"@b:s": T0, "@c:s": T0 + 5, b"\xff": T0 + 105,
                                    b"\xfe": -100.0})
    raw.expire(f"{ns}contacts:@a:s", 5000)
    raw.zadd(f"{ns}talked:@a:s", {"@b:s": T0, b"\xff": T0 + 100, b"\xfe": -100.0})
    state = RedisState(redis_url, ns)
    assert raw.type(f"{ns}contacts:@a:s") == b"string"
    assert 0 < raw.ttl(f"{ns}contacts:@a:s") <= 5000, "the safety-net EXPIRE is kept"
    assert state.read([Contains(accounts.contacts("@a:s"), ("@b:s", "@c:s", "@d:s")),
                       Distinct(accounts.contacts("@a:s"), FOREVER),
                       Contains(accounts.tie_record("@a:s"), ("@b:s",), accounts.TALKED)],
                      T0 + 50) == [
        (True, True, False), 2, (True,)]
    # The ``talked`` set had no EXPIRE: its record keeps a touch's safety net, not the
    # second that lost it under a loaded machine (session 34's flaky run).
    assert raw.ttl(f"{ns}{accounts.tie_record('@a:s')}") > 3_600


def test_redis_nodes_agree_on_the_hash_key_after_redis_lost_everything(
        redis_url: str, redis_namespace: str) -> None:
    """A Redis restarted empty loses the key with the sets: the next node to open sets a
    new one, and a node already running takes it up at its next read or write (a write
    hashed with the old key is refused whole and made again), claimed or not."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    one = RedisState(redis_url, ns)
    key = accounts.contacts("@a:s")
    for lost in range(3):
        raw.delete(*raw.keys(ns + "*"))
        two = RedisState(redis_url, ns)  # a node started after the loss: a new key
        if lost == 0:
            one.write([Replace(key, ("@b:s",), ttl=1000.0)], T0)
        elif lost == 1:
            assert one.claim_read(f"e{lost}", "d", [], T0)[0].mine
            one.write_claimed(f"e{lost}", [Touch(key, ("@b:s",), ttl=1000.0)], T0, b"x")
        else:
            assert one.read([Contains(key, ("@b:s",))], T0) == [(False,)]
            two.write([Replace(key, ("@b:s",), ttl=1000.0)], T0)
        for node in (one, two):
            assert node.read([Contains(key, ("@b:s", "@c:s"))], T0 + 1) == [(True, False)], (
                lost, node is one)


def test_redis_answers_a_full_contact_list_without_sending_it(
        redis_url: str, redis_namespace: str) -> None:
    """A Contains or Distinct on a hashed set is answered in Redis: the reply is the
    answers, not the set. Sent whole, a full contact list is 80 KB, and an attacker's sock
    accounts with full lists would make each message pull one for each of its 64
    recipients. Bytes read from the socket, counted."""
    import socket

    import redis

    from spimguard.state.redis import RedisState

    class Counted:
        """A socket that counts the bytes it receives (``recv`` or ``recv_into``)."""

        def __init__(self, sock: socket.socket) -> None:
            self.sock, self.received = sock, 0

        def recv(self, *args: Any) -> bytes:
            data = self.sock.recv(*args)
            self.received += len(data)
            return data

        def recv_into(self, *args: Any) -> int:
            n = self.sock.recv_into(*args)
            self.received += n
            return n

        def __getattr__(self, name: str) -> Any:
            return getattr(self.sock, name)

    sockets: list[Counted] = []

    class Counting(redis.Connection):
        def _connect(self) -> Any:
            sockets.append(Counted(super()._connect()))
            return sockets[-1]

    client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(
        redis_url, connection_class=Counting))
    state = RedisState(redis_url, redis_namespace, client=client)
    key = accounts.contacts("@sock:s")
    members = tuple(f"@c{i}:s" for i in range(10_000))
    state.write([Replace(key, members, ttl=FOREVER)], T0)
    # The set keeps 3-byte keyed digests, and the key is drawn per store: ~3 pairs of
    # 10,000 members share one in a store, and a stranger shares a member's with
    # probability 6e-4 (300 strangers: 0.18 expected, 4 or more once in 20,000 stores).
    # The answers are what the stored digests say, exactly.
    stored = {state._hasher.digest(m) for m in members}
    asked = [f"@c{i}:s" for i in range(0, 10_000, 37)] + [f"@x{i}:s" for i in range(300)]
    assert state.read([Contains(key, tuple(asked))], T0) == [
        tuple(state._hasher.digest(a) in stored for a in asked)]
    assert sum(state._hasher.digest(a) in stored for a in asked[271:]) <= 3
    queries = [Contains(key, ("@c5000:s", "@stranger:s")), Distinct(key, FOREVER)]
    received = sum(s.received for s in sockets)
    assert state.read(queries, T0 + 1) == [
        (True, state._hasher.digest("@stranger:s") in stored), len(stored)]
    assert len(stored) >= 9_980
    assert sum(s.received for s in sockets) - received < 100


def test_redis_does_not_find_a_digest_across_two_members(
        redis_url: str, redis_namespace: str) -> None:
    """A digest whose bytes are the end of a member and the start of the next (as the
    3-byte layout held them, searched as bytes) is not in: the set's digests are decoded
    (session 38's Elias-Fano layout holds no digest's bytes whole)."""
    import redis

    from spimguard.state.redis import RedisState

    state = RedisState(redis_url, redis_namespace)
    key = accounts.contacts("@a:s")
    wanted = state._hasher.digest("@wanted:s").to_bytes(3, "big")
    around = [b"\0" + wanted[:2], wanted[2:] + b"\xff" * 2]  # this order once sorted
    blob = hashed.pack(T0, 1000.0, (int.from_bytes(d, "big") for d in around))
    redis.Redis.from_url(redis_url).set(redis_namespace + key, blob)
    assert state.read([Contains(key, ("@wanted:s",)), Distinct(key, FOREVER)], T0) == [
        (False,), 2]


def test_a_redis_that_may_evict_any_key_is_refused(redis_url: str,
                                                   redis_namespace: str) -> None:
    """The member hash key has no TTL: under an ``allkeys-*`` policy Redis may evict it
    and keep the lists, which would then read every contact as a stranger."""
    import redis

    from spimguard.errors import StateUnavailable
    from spimguard.state.redis import RedisState

    class Evicting(redis.Redis):
        def config_get(self, pattern: str = "*", *args: Any, **kwargs: Any) -> Any:
            return {"maxmemory-policy": "allkeys-lru"}

    with pytest.raises(StateUnavailable, match="allkeys-lru"):
        RedisState(redis_url, redis_namespace, client=Evicting.from_url(redis_url))
    RedisState(redis_url, redis_namespace)  # the test Redis: noeviction


def _in_8_bytes(key: bytes, time: float, ttl: float, names: list[str],
                colliding: str = "") -> bytes:
    """A set of the earlier layout, written from its definition: its time and TTL as two
    doubles, then each name's keyed 8-byte BLAKE2b as a little-endian number, sorted;
    with ``colliding``, one more digest whose low 4 bytes are that name's."""
    def digest(name: str) -> int:
        return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8, key=key).digest(),
                              "little")

    digests = {digest(n) for n in names}
    if colliding:
        digests.add(digest(colliding) ^ (1 << 40))
    return struct.pack(f"<dd{len(digests)}Q", time, ttl, *sorted(digests))


_ASKED = ("@b:s", "@c:s", "@d:s")


def test_sqlite_hashed_sets_of_the_8_byte_layout_convert_when_the_file_opens(
        tmp_path: Path) -> None:
    """Each digest is cut to its low 3 bytes, so the file needs no names: a set answers
    as before (two digests that now collide count once), in today's layout."""
    path = tmp_path / "old.db"
    SQLiteState(connect(path)).close()
    old = sqlite3.connect(path)
    (key,) = old.execute("SELECT value FROM state_keys WHERE name = 'member-hash'").fetchone()
    old.execute("DELETE FROM state_keys WHERE name <> 'member-hash'")  # a file of then
    old.executemany("INSERT INTO hashed_sets VALUES (?, ?, ?)", [
        ("contacts:@a:s", _in_8_bytes(key, T0, 100.0, ["@b:s", "@c:s"], "@b:s"), T0 + 100),
        ("contacts:@big:s", _in_8_bytes(key, T0, 100.0, [f"@{i}:s" for i in range(2_500)]),
         T0 + 100)])
    old.commit()
    old.close()
    state = SQLiteState(connect(path))
    hasher = hashed.Hasher(key)
    big = len({hasher.digest(f"@{i}:s") for i in range(2_500)})  # ~0.2 pairs collide
    stranger = hasher.digest("@x:s") in {hasher.digest(f"@{i}:s") for i in range(2_500)}
    assert state.read([Contains("contacts:@a:s", _ASKED), Distinct("contacts:@a:s", FOREVER),
                       Contains("contacts:@big:s", ("@7:s", "@2499:s", "@x:s")),
                       Distinct("contacts:@big:s", FOREVER)], T0 + 50) == [
        (True, True, False), 2, (True, True, stranger), big]
    rows = dict(state._conn.execute("SELECT key, length(value) || ' ' || exp FROM hashed_sets"))
    size = len(_elias_fano(T0, 100.0, {hasher.digest(f"@{i}:s") for i in range(2_500)}))
    small = len(_elias_fano(T0, 100.0, {hasher.digest("@b:s"), hasher.digest("@c:s")}))
    assert rows == {"contacts:@a:s": f"{small} {T0 + 100}",
                    "contacts:@big:s": f"{size} {T0 + 100}"}


def test_redis_hashed_sets_of_the_8_byte_layout_convert_where_first_asked_or_written(
        redis_url: str, redis_namespace: str) -> None:
    """A script converts a set of the earlier layout the first time it reads or writes it
    (in place, its EXPIRE kept), small or large; a node that finds the store's key is not
    its own converts the sets it was sent."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    key = state._hash_key
    sets = {"@a:s": ["@b:s", "@c:s"], "@touched:s": ["@b:s"], "@removed:s": ["@b:s", "@c:s"],
            "@big:s": [f"@{i}:s" for i in range(300)]}
    for account, names in sets.items():
        raw.set(ns + accounts.contacts(account),
                _in_8_bytes(key, T0, 100.0, names, names[0]), ex=5000)
    state.write([Touch(accounts.contacts("@touched:s"), ("@c:s",), ttl=100.0),
                 Remove(accounts.contacts("@removed:s"), ("@b:s",))], T0 + 1)
    assert state.read([q for account in ("@a:s", "@touched:s", "@removed:s") for q in (
        Contains(accounts.contacts(account), _ASKED), Distinct(accounts.contacts(account),
                                                               FOREVER))]
                      + [Contains(accounts.contacts("@big:s"), ("@7:s", "@299:s", "@x:s")),
                         Distinct(accounts.contacts("@big:s"), FOREVER)], T0 + 50) == [
        (True, True, False), 2, (True, True, False), 2, (False, True, False), 1,
        (True, True, False), 300]
    sizes = {account: len(_in_redis(raw, ns, accounts.contacts(account)) or b"")
             for account in sets}
    held = {"@a:s": ["@b:s", "@c:s"], "@touched:s": ["@b:s", "@c:s"], "@removed:s": ["@c:s"],
            "@big:s": sets["@big:s"]}
    assert sizes == {account: len(_elias_fano(T0, 100.0, map(state._hasher.digest, names)))
                     for account, names in held.items()}
    assert not raw.exists(ns + accounts.contacts("@touched:s")), "moved to its ties at a touch"
    assert 0 < raw.ttl(ns + accounts.contacts("@a:s")) <= 5000, "the safety-net EXPIRE is kept"

    other = b"k" * 16  # the store's key is another's: the node is sent the sets as they are
    raw.set(ns + "state-key:member-hash", other)
    raw.set(ns + accounts.contacts("@a:s"), _in_8_bytes(other, T0, 100.0, ["@c:s"], "@c:s"))
    assert state.read([Contains(accounts.contacts("@a:s"), _ASKED),
                       Distinct(accounts.contacts("@a:s"), FOREVER)], T0 + 50) == [
        (False, True, False), 1]


def _backends(tmp_path: Path, redis_url: str, redis_namespace: str) -> list[StateBackend]:
    from spimguard.state.redis import RedisState

    return [MemoryState(), SQLiteState(connect(tmp_path / "s.db")),
            RedisState(redis_url, redis_namespace)]


def _stored(state: StateBackend, key: str) -> bytes:
    if isinstance(state, MemoryState):
        return state.hashed_set(key) or b""
    if isinstance(state, SQLiteState):
        state.commit()
        return state._conn.execute("SELECT value FROM hashed_sets WHERE key = ?",
                                   (key,)).fetchone()[0]
    return _in_redis(state._redis, state.ns, key) or b""


def _in_redis(raw: Any, ns: str, key: str) -> bytes | None:
    """A hashed set as Redis holds it: in its host record's hash if lodged there
    (``ops.lodged_keyspace``), else under its own key."""
    place = lodging(key)
    lodged = place and raw.hget(ns + place[0], lodged_field(place[1]))
    return lodged or raw.get(ns + key)


def test_a_set_is_its_elias_fano_bytes_in_every_backend(
        tmp_path: Path, redis_url: str, redis_namespace: str) -> None:
    """(Session 30-37: 3 bytes a contact and a 12-byte header; session 38: ~2.4 bytes a
    contact of 56 and a 10-byte header.)"""
    key = accounts.contacts("@a:s")
    for state in _backends(tmp_path, redis_url, redis_namespace):
        digest = (hashed.Hasher(state._hash_key) if isinstance(state, SQLiteState)
                  else state._hasher).digest  # type: ignore[attr-defined]
        state.write([Replace(key, tuple(f"@{i}:s" for i in range(56)), ttl=FOREVER)], T0)
        state.write([Touch(key, ("@56:s", "@0:s"), ttl=FOREVER)], T0 + 1)
        assert _stored(state, key) == _elias_fano(T0 + 1, FOREVER, {
            digest(f"@{i}:s") for i in range(57)}), state
        state.write([Remove(key, ("@56:s",))], T0 + 2)
        assert _stored(state, key) == _elias_fano(T0 + 1, FOREVER, {
            digest(f"@{i}:s") for i in range(56)}), state
        assert state.read([Contains(key, ("@0:s", "@55:s", "@56:s")), Distinct(key, FOREVER)],
                          T0 + 3) == [(True, True, False), 56], state


def test_a_ttl_is_whole_seconds_rounded_up_and_a_set_of_time_0_is_today_s(
        tmp_path: Path, redis_url: str, redis_namespace: str) -> None:
    """A set whose time is 0 holds 0, not minus 0 (the sign bit that marks the 4- and
    3-byte layouts, session 38); a TTL of a quarter second lasts one."""
    key = accounts.contacts("@a:s")
    for state in _backends(tmp_path, redis_url, redis_namespace):
        state.write([Touch(key, ("@b:s",), ttl=0.25)], 0.0)
        assert not _stored(state, key)[7] & 0x80 and len(_stored(state, key)) % 8, state
        assert state.read([Contains(key, ("@b:s",)), Distinct(key, 10.0)], 0.9) == [
            (True,), 1], state
        assert state.read([Contains(key, ("@b:s",)), Distinct(key, 10.0)], 1.0) == [
            (False,), 0], state


def test_redis_node_under_another_key_is_sent_a_lodged_set_where_it_is(
        redis_url: str, redis_namespace: str) -> None:
    """A node whose hash key is not the store's is sent the sets as they are, a contact
    list lodged in its ties' hash (``ops.lodged_keyspace``) from there, and answers from
    them under the store's key."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    key = accounts.contacts("@a:s")
    state.write([Replace(key, ("@b:s",), ttl=FOREVER)], T0)
    host, field = lodging(key) or ("", "")
    assert raw.hget(ns + host, lodged_field(field)) and not raw.exists(ns + key)
    other = b"k" * 16  # another node keyed the store: the field holds its digests
    raw.set(ns + "state-key:member-hash", other)
    raw.hset(ns + host, lodged_field(field), hashed.pack(T0, FOREVER, [
        hashed.Hasher(other).digest("@c:s")]))
    assert state.read([Contains(key, _ASKED), Distinct(key, FOREVER)], T0 + 1) == [
        (False, True, False), 1]
    assert state._hash_key == other
    state.close()

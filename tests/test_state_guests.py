"""A session's record lodged in its account's (``ops.guest_keyspace``): swept as a key of
its own was, in one pass, by every backend that sweeps; in Redis, moved into the account's
ties hash when a node opens a store of the earlier layout, and let go once dead."""

from __future__ import annotations

import struct
from pathlib import Path

from spimguard import accounts
from spimguard.db import connect
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    MAX_LATENESS,
    Contains,
    Delete,
    Distinct,
    Members,
    Query,
    Touch,
    Write,
)
from spimguard.state.sqlite import SQLiteState

TIES, S1, S2 = accounts.tie_record("@a:s"), keys.lifelong("@a:s", "s1"), keys.lifelong("@a:s", "s2")
WRITES: list[Write] = [Touch(TIES, ("@b:s",), 1_000.0, 10, accounts.TALKED),
                       Touch(S1, ("@c:s",), 50.0, 10, keys.PALS),
                       Touch(S2, ("@d:s",), 500.0, 10, keys.LIFE),
                       Touch(S2, ("@e:s",), 50.0, 10, keys.PALS)]
READS: list[Query] = [Members(TIES, accounts.TALKED), Members(S1, keys.PALS),
                      Members(S2, keys.LIFE), Members(S2, keys.PALS)]


def test_memory_sweeps_lodged_session_records_in_one_pass() -> None:
    """A sweep drops a session's record whose sides all expired, and a side's members past
    its TTL, as it did a key of its own; the account's object goes with its last part."""
    state = MemoryState()
    state.write(WRITES, T0)
    host = state.accounts()[TIES]
    assert [name for name, _ in host.guest_items()] == [b"s1", b"s2"]
    state.sweep(T0 + 60)
    assert [name for name, _ in host.guest_items()] == [b"s2"], "s1 expired: gone"
    record = state.sided_record(S2)
    assert record is not None and record.names == ("@d:s",), "a side's past its TTL: gone"
    assert state.read(READS, T0 + 60) == [("@b:s",), (), ("@d:s",), ()]
    state.sweep(T0 + 600)
    assert not host.guests and state.sided_record(S2) is None
    state.sweep(T0 + 1_100)
    assert not state.accounts(), "nothing left: the account's object let go"


def test_memory_keeps_a_large_session_record_as_a_record_of_its_own() -> None:
    """Past 32 names a session's record leaves its account's object for a record of its
    own, touched in place (a lodged one is rewritten whole at each touch); it answers the
    same, and a sweep drops it in one pass as it did."""
    state, crowd = MemoryState(), tuple(f"@p{i}:s" for i in range(40))
    state.write([Touch(S1, crowd[:32], 50.0, 100, keys.PALS)], T0)
    assert [name for name, _ in state.accounts()[TIES].guest_items()] == [b"s1"]
    state.write([Touch(S1, crowd[32:], 50.0, 100, keys.PALS)], T0 + 1)
    assert TIES not in state.accounts() and S1 in state.accounts(), "a record of its own"
    assert state.read([Members(S1, keys.PALS)], T0 + 2) == [  # in (time, name) order
        (*sorted(crowd[:32]), *sorted(crowd[32:]))]
    state.sweep(T0 + 50.5)
    assert state.read([Members(S1, keys.PALS)], T0 + 50.5) == [tuple(sorted(crowd[32:]))]
    state.sweep(T0 + 60)
    assert not state.accounts()


def test_memory_lodges_a_few_sessions_an_account_however_many_it_has(tmp_path: Path) -> None:
    """Whoever logs in to an account chooses its number of sessions, and lodged ones are
    scanned and rewritten at each touch of one: an account lodges at most eight, the rest
    are records of their own (in the memory backend and in SQLite's held copy, loaded from
    its rows), and 1,000 sessions answer alike in both; a session dropped by a sweep makes
    room for a new one."""
    sessions = [keys.lifelong("@a:s", f"s{i}") for i in range(1_000)]
    writes: list[Write] = [Touch(key, (f"@p{i % 5}:s", f"@q{i % 3}:s"), 50.0 + i % 2 * 1_000,
                                 10, (keys.LIFE, keys.PALS)[i % 3 % 2])
                           for i, key in enumerate(sessions)]
    reads: list[Query] = [Members(key, side) for key in sessions
                          for side in (keys.LIFE, keys.PALS)]
    state, path = MemoryState(), tmp_path / "s.db"
    durable = SQLiteState(connect(path))
    for now in (T0, T0 + 5):  # then again, last first: lodged and not, touched once made
        state.write(writes[::-1] if now > T0 else writes, now)
        durable.write(writes[::-1] if now > T0 else writes, now)
    durable.commit()
    durable.close()
    reopened = SQLiteState(connect(path))
    assert state.read(reads, T0 + 30) == reopened.read(reads, T0 + 30)
    assert [name for name, _ in state.accounts()[TIES].guest_items()] == [
        f"s{i}".encode() for i in range(8)], "the first eight touched lodged"
    for store in (state, reopened._hot):  # the held copy: the first eight loaded
        held = store.accounts()
        lodged = [keys.lifelong("@a:s", name.decode()) for name, _ in held[TIES].guest_items()]
        assert len(lodged) == 8 and sorted([*lodged, *(k for k in held if k != TIES)]) == sorted(
            sessions), "the others records of their own"
    full = state.accounts()[TIES].held
    for store in (state, reopened):
        store.write([Touch(keys.lifelong("@a:s", "late"), ("@r:s",), 50.0, 10, keys.PALS)],
                    T0 + 30)
    assert state.accounts()[TIES].held is full, \
        "a session with no room leaves the lodged bytes (and the reads cached on them) alone"
    state.sweep(T0 + 60)  # s0, s2, s4, s6 (a TTL of 50 s) gone, s8 too
    state.write([Touch(keys.lifelong("@a:s", "new"), ("@n:s",), 50.0, 10, keys.PALS)], T0 + 60)
    assert [name for name, _ in state.accounts()[TIES].guest_items()] == [
        b"s1", b"s3", b"s5", b"s7", b"new"]
    assert state.read([*reads, Members(keys.lifelong("@a:s", "new"), keys.PALS)], T0 + 60) == [
        *reopened.read(reads, T0 + 60), ("@n:s",)]
    reopened.close()


def test_sqlite_sweeps_and_keeps_session_records_as_rows_of_their_own(tmp_path: Path) -> None:
    """SQLite's rows are as before (a session's record a row of its own), its cache lodges
    them, and a sweep drops the expired ones in one pass."""
    path = tmp_path / "s.db"
    state = SQLiteState(connect(path))
    state.write(WRITES, T0)
    state.commit()
    rows = lambda: sorted(k for (k,) in connect(path).execute(  # noqa: E731
        "SELECT key FROM sided_sets"))
    assert rows() == sorted([TIES, S1, S2])
    state.sweep(T0 + 60)
    assert rows() == sorted([TIES, S2])
    assert state.read(READS, T0 + 60) == [("@b:s",), (), ("@d:s",), ()]
    state.sweep(T0 + 600)
    assert rows() == [TIES]
    state.close()
    assert SQLiteState(connect(path)).read(READS, T0 + 600) == [("@b:s",), (), (), ()]


def test_redis_moves_session_records_of_the_earlier_layout_into_the_ties_hash(
        redis_url: str, redis_namespace: str) -> None:
    """A store written by the earlier release (a session's record a hash of its own, each
    side's head a field of its own, ``\\xff`` and the side's index) is converted when a node
    opens it: the record's fields move behind ``\\xff\\xfe<session>:`` into the account's
    ties hash, the heads into one field, the EXPIRE kept; every answer as before."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    head = struct.Struct("<dIII")  # a side's expiry, TTL, count and age (20 bytes)

    def old_record(key: str, side: int, name: str, ttl: int) -> None:
        """One member on one side (of the first four), touched at T0 (``redis._time``)."""
        raw.hset(ns + key, mapping={
            name.encode(): bytes((1 << 2 * side,)) + struct.pack("<d", T0),
            b"\xff" + bytes((side,)): head.pack(T0 + ttl, ttl, 1, ttl)})
        raw.expire(ns + key, ttl + 3_600)

    old_record(TIES, 0, "@b:s", 1_000)
    old_record(S1, 1, "@c:s", 50)  # PALS: the session record's second side
    old_record(S2, 0, "@d:s", 500)
    state = RedisState(redis_url, ns)
    assert state.read(READS, T0 + 10) == [("@b:s",), ("@c:s",), ("@d:s",), ()]
    assert not raw.exists(ns + S1) and not raw.exists(ns + S2), "moved into the ties hash"
    fields = raw.hgetall(ns + TIES)
    assert b"\xff\x00" not in fields and b"\xff" in fields, "the heads in one field"
    assert {f for f in fields if f.startswith(b"\xff\xfe")} == {
        b"\xff\xfes1:@c:s", b"\xff\xfes1:\xff", b"\xff\xfes2:@d:s", b"\xff\xfes2:\xff"}
    assert raw.ttl(ns + TIES) > 1_000, "the longest EXPIRE kept"
    model = MemoryState()
    model.write([Touch(TIES, ("@b:s",), 1_000.0, 10, accounts.TALKED),
                 Touch(S1, ("@c:s",), 50.0, 10, keys.PALS),
                 Touch(S2, ("@d:s",), 500.0, 10, keys.LIFE)], T0)
    for now in (T0 + 20, T0 + 70):
        state.write(WRITES[1:], now)
        model.write(WRITES[1:], now)
        assert state.read(READS, now + 30) == model.read(READS, now + 30)
    state.close()


def test_redis_lets_a_dead_session_record_go_at_its_hosts_next_whole_rewrite(
        redis_url: str, redis_namespace: str) -> None:
    """A session's record whose every side expired an event's lateness ago is deleted from
    the ties hash by the next touch that rewrites a record of it whole (the host's EXPIRE,
    kept alive by the account, would never free it); a live one stays."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    state.write(WRITES, T0)
    later = T0 + 500 + MAX_LATENESS
    state.write([Touch(S2, ("@f:s",), 5_000.0, 10, keys.LIFE)], T0 + 400)
    # The ties' TALKED side: @b:s is past a TTL of 10 s, so the touch rewrites it whole.
    state.write([Touch(TIES, ("@g:s",), 10.0, 10, accounts.TALKED)], later)
    guests = {f for f in raw.hkeys(ns + TIES) if f.startswith(b"\xff\xfe")}
    assert guests == {b"\xff\xfes2:@d:s", b"\xff\xfes2:@f:s", b"\xff\xfes2:@e:s",
                      b"\xff\xfes2:\xff"}, "s1 let go, s2 (alive) kept"
    assert state.read(READS, later) == [("@g:s",), (), ("@d:s", "@f:s"), ()]
    state.close()


def _sessions_model(writes: list[Write], now: float) -> MemoryState:
    model = MemoryState()
    model.write(writes, now)
    return model


def test_redis_keeps_its_ties_hash_small_and_compact_whatever_sessions_send(
        redis_url: str, redis_namespace: str) -> None:
    """A session that grows past ``ops.LODGED_NAMES`` members, and sessions too many for
    the ties hash's room (``redis._LODGED_FIELDS``), keep keys of their own: the account's
    ties hash stays under the bound and compact (a listpack), so a whole rewrite of the
    ties reads no more; every answer as a memory store's."""
    import redis

    from spimguard.state.redis import _LODGED_FIELDS, RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    ties = [Touch(TIES, tuple(f"@t{i}:s" for i in range(20)), 1_000.0, 20, accounts.TALKED)]
    crowd = [f"@p{i}:s" for i in range(300)]
    grown: list[Write] = [Touch(S1, tuple(crowd[at:at + 10]), 500.0, 5_000, side)
                          for at in range(0, 300, 10) for side in (keys.LIFE, keys.PALS)]
    many: list[Write] = [Touch(keys.lifelong("@a:s", f"m{i}"), (f"@q{i}:s", f"@r{i}:s"),
                               500.0, 10, keys.PALS) for i in range(100)]
    for writes in (ties, grown, many):
        state.write(writes, T0)
        assert raw.hlen(ns + TIES) <= _LODGED_FIELDS
        assert raw.object("encoding", ns + TIES) == b"listpack"
    assert raw.exists(ns + S1), "the big session: a key of its own"
    reads: list[Query] = [Members(TIES, accounts.TALKED), Members(S1, keys.LIFE),
                          Members(S1, keys.PALS),
                          *(Members(keys.lifelong("@a:s", f"m{i}"), keys.PALS)
                            for i in range(0, 100, 9))]
    model = _sessions_model(ties + grown + many, T0)
    assert state.read(reads, T0 + 1) == model.read(reads, T0 + 1)
    state.write([Touch(TIES, ("@new:s",), 1_000.0, 20, accounts.TALKED)], T0 + 2)  # whole
    model.write([Touch(TIES, ("@new:s",), 1_000.0, 20, accounts.TALKED)], T0 + 2)
    assert state.read(reads, T0 + 3) == model.read(reads, T0 + 3)
    state.write([Delete(S1)], T0 + 4)
    assert not raw.exists(ns + S1), "a Delete finds it where it is"
    state.close()


def test_redis_moves_a_big_session_the_earlier_release_lodged_at_its_next_touch(
        redis_url: str, redis_namespace: str) -> None:
    """A store of the earlier release, whose big session is lodged in the ties hash
    (``stouch`` behind its prefix, as every touch of it was), opens and answers the same;
    the session's next touch moves it to a key of its own, and the hash shrinks."""
    import redis

    from spimguard.state import sided
    from spimguard.state.redis import RedisState, _flat, _guest_prefix, _seconds

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    crowd = tuple(f"@p{i}:s" for i in range(200))
    # LIFE, PALS: as the earlier release wrote it (no declared TTL: every head held)
    earlier = [("sg.stouch", ns + TIES, _guest_prefix("s1"), side, 2, b"", repr(T0),
                repr(500.0), repr(0.0), b"", 5_000, _seconds(500.0),
                sided.encode_names(list(crowd))) for side in (0, 1)]
    state._apply(args=_flat(earlier))
    assert raw.hlen(ns + TIES) == 201 and not raw.exists(ns + S1)
    reads: list[Query] = [Members(S1, keys.LIFE), Members(S1, keys.PALS),
                          Contains(S1, ("@p3:s", "@x:s"), keys.PALS),
                          Distinct(S1, 100.0, keys.LIFE)]
    writes: list[Write] = [Touch(S1, crowd, 500.0, 5_000, side) for side in (keys.LIFE, keys.PALS)]
    model = _sessions_model(writes, T0)
    opened = RedisState(redis_url, ns)
    assert opened.read(reads, T0 + 1) == model.read(reads, T0 + 1)
    touch: list[Write] = [Touch(S1, ("@late:s",), 500.0, 5_000, keys.PALS)]
    opened.write(touch, T0 + 2)
    model.write(touch, T0 + 2)
    assert raw.exists(ns + S1) and raw.hlen(ns + TIES) == 0, "moved out whole"
    assert opened.read(reads, T0 + 3) == model.read(reads, T0 + 3)
    state.close()
    opened.close()


def test_redis_leaves_a_big_session_record_of_an_older_layout_as_its_own_key(
        redis_url: str, redis_namespace: str) -> None:
    """A session's record kept as a key of its own by a release before session 20's, too
    big to lodge (past ``ops.LODGED_NAMES``), stays its key when a node opens the store
    (a small one moves in); each answers as before."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    head = struct.Struct("<dIII")  # a side's expiry, TTL, count and age (20 bytes)
    crowd = [f"@p{i}:s" for i in range(40)]
    for key, names in ((S1, crowd), (S2, crowd[:2])):
        raw.hset(ns + key, mapping={
            **{name.encode(): bytes((1 << 2,)) + struct.pack("<d", T0) for name in names},
            b"\xff\x01": head.pack(T0 + 500, 500, len(names), 500)})  # PALS, a field a side
        raw.expire(ns + key, 4_000)
    state = RedisState(redis_url, ns)
    assert raw.exists(ns + S1) and not raw.exists(ns + S2), "the big one stays its own key"
    reads: list[Query] = [Members(S1, keys.PALS), Members(S2, keys.PALS)]
    assert state.read(reads, T0 + 1) == [tuple(sorted(crowd)), tuple(sorted(crowd[:2]))]
    state.close()

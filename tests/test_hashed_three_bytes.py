"""Contact lists in 3-byte digests (session 30): the stored form written from its
definition, round trips against a model, and the 4-byte form of session 29's release read
and converted in place by every backend (SQLite when the file opens, Redis's scripts where
they first find a set: under its own key or lodged in its account's ties hash)."""

from __future__ import annotations

import hashlib
import math
import random
import sqlite3
import struct
from pathlib import Path
from typing import Any

from spimguard import accounts
from spimguard.db import connect
from spimguard.state import hashed
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import FOREVER, Contains, Distinct, Remove, Touch, lodging
from spimguard.state.redis import lodged_field
from spimguard.state.sqlite import SQLiteState
from test_contacts38 import _elias_fano


def _keyed(key: bytes, name: str) -> int:
    """A name's keyed 8-byte BLAKE2b as a little-endian number (every layout's source)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8, key=key).digest(),
                          "little")


def _three(time: float, ttl: float, digests: set[int]) -> bytes:
    """Today's form from its definition: minus the time, the TTL in whole seconds, each
    digest's low 24 bits big-endian, sorted, and a zero byte where the length is a
    multiple of 4."""
    blob = struct.pack("<dI", -time, math.ceil(ttl)) + b"".join(
        (d & 0xFFFFFF).to_bytes(3, "big") for d in sorted({d & 0xFFFFFF for d in digests}))
    return blob + b"\0" if len(blob) % 4 == 0 else blob


def _four(time: float, ttl: float, digests: set[int]) -> bytes:
    """Session 29's form: the same header, then each digest's low 32 bits little-endian,
    sorted as numbers."""
    low = sorted({d & 0xFFFFFFFF for d in digests})
    return struct.pack(f"<dI{len(low)}I", -time, math.ceil(ttl), *low)


def test_a_set_is_its_definition_and_answers_as_a_set_of_its_digests() -> None:
    """Round trips over random sets (sizes across the pad's four cases, up to past the
    256 Redis reads whole): packed as defined, converted from both earlier forms to the
    same bytes, and Contains, Distinct, touches past a cap and removals as a model of the
    digests says."""
    rng = random.Random(30)
    for size in [0, 1, 2, 3, 4, 5, 8, 55, 56, 57, 255, 256, 257, 300]:
        digests = {rng.getrandbits(64) for _ in range(size)}
        time, ttl = T0 + rng.random() * 1e5, float(rng.choice([3600, 86400, 365 * 86400]))
        blob = hashed.pack(time, ttl, (d & 0xFFFFFF for d in digests))
        assert hashed.current(_three(time, ttl, digests)) == blob, size  # (session 38's)
        assert blob == _elias_fano(time, ttl, digests), size
        assert hashed.current(blob) is blob
        assert hashed.current(_four(time, ttl, digests)) == blob, size
        old = struct.pack(f"<dd{len(digests)}Q", time, float(ttl), *sorted(digests))
        assert hashed.current(old) == blob, size
        held = {d & 0xFFFFFF for d in digests}
        asked = [d & 0xFFFFFF for d in rng.sample(sorted(digests), min(size, 5))] + [
            rng.getrandbits(24) for _ in range(20)]
        assert hashed.contains(blob, asked, time) == tuple(a in held for a in asked)
        assert hashed.contains(blob, asked, time + ttl) == (False,) * len(asked)
        assert hashed.distinct(blob, 10.0, time + 1) == len(held)
        fresh = list(dict.fromkeys(rng.getrandbits(24) for _ in range(7)))
        cap = len(held) + 3
        grown = hashed.touched(blob, fresh, time + 5, ttl, cap)
        new = [d for d in fresh if d not in held][:3]
        assert grown == _elias_fano(time + 5, ttl, held | set(new)), size
        gone = asked[:3]
        assert hashed.without(grown, gone) == _elias_fano(
            time + 5, ttl, (held | set(new)) - set(gone))


def test_sqlite_converts_a_file_of_4_byte_digests_when_it_opens(tmp_path: Path) -> None:
    """A file written by session 29's release (its sets in 4 bytes a member, marked done
    with them) answers as before once opened, its rows in 3 bytes a member."""
    path = tmp_path / "s29.db"
    SQLiteState(connect(path)).close()
    old = sqlite3.connect(path)
    (key,) = old.execute("SELECT value FROM state_keys WHERE name = 'member-hash'").fetchone()
    old.execute("DELETE FROM state_keys WHERE name <> 'member-hash'")
    old.execute("INSERT INTO state_keys VALUES ('hashed-sets:4-byte-digests', x'')")
    names = [f"@{i}:s" for i in range(56)]
    old.executemany("INSERT INTO hashed_sets VALUES (?, ?, ?)", [
        ("contacts:@a:s", _four(T0, 100.0, {_keyed(key, n) for n in names}), T0 + 100),
        ("contacts:@b:s", _four(T0, FOREVER,
                                {_keyed(key, "@a:s")}), T0 + FOREVER)])
    old.commit()
    old.close()
    state = SQLiteState(connect(path))
    assert state.read([Contains("contacts:@a:s", ("@0:s", "@55:s", "@x:s")),
                       Distinct("contacts:@a:s", FOREVER),
                       Contains("contacts:@b:s", ("@a:s", "@x:s"))], T0 + 50) == [
        (True, True, False), 56, (True, False)]
    rows = dict(state._conn.execute("SELECT key, value FROM hashed_sets"))
    assert rows["contacts:@a:s"] == _elias_fano(T0, 100.0, {_keyed(key, n) for n in names})
    assert rows["contacts:@b:s"] == _elias_fano(T0, FOREVER, {_keyed(key, "@a:s")})


def test_redis_reads_and_converts_4_byte_sets_in_their_own_keys_and_lodged(
        redis_url: str, redis_namespace: str) -> None:
    """Redis's scripts read session 29's sets where they are: under their own key
    (converted in place at the first read, a large one too: past the 256 members a read
    takes whole, bisected in place), lodged in the ties hash (read as converted, written
    in 3 bytes at its next touch or removal); Contains and Distinct answered in Lua."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    key = state._hash_key
    small = [f"@{i}:s" for i in range(56)]
    big = [f"@{i}:s" for i in range(400)]
    raw.set(ns + accounts.contacts("@own:s"), _four(T0, 1000.0, {_keyed(key, n)
                                                                 for n in small}), ex=5000)
    raw.set(ns + accounts.contacts("@big:s"), _four(T0, 1000.0, {_keyed(key, n)
                                                                 for n in big}), ex=5000)
    lodged = {}
    for account in ("@lodged:s", "@touched:s", "@removed:s"):
        host, field = lodging(accounts.contacts(account)) or ("", "")
        lodged[account] = (ns + host, lodged_field(field))
        raw.hset(ns + host, lodged_field(field),
                 _four(T0, 1000.0, {_keyed(key, n) for n in small}))
        raw.expire(ns + host, 5000)
    state.write([Touch(accounts.contacts("@touched:s"), ("@new:s",), ttl=1000.0),
                 Remove(accounts.contacts("@removed:s"), ("@0:s",))], T0 + 1)
    queries = [q for account in ("@own:s", "@lodged:s", "@touched:s", "@removed:s") for q in (
        Contains(accounts.contacts(account), ("@0:s", "@55:s", "@new:s", "@x:s")),
        Distinct(accounts.contacts(account), FOREVER))] + [
        Contains(accounts.contacts("@big:s"), ("@0:s", "@200:s", "@399:s", "@x:s")),
        Distinct(accounts.contacts("@big:s"), FOREVER)]
    probes, big_probes = ("@0:s", "@55:s", "@new:s", "@x:s"), ("@0:s", "@200:s", "@399:s", "@x:s")

    def answers(names: list[str], asked: tuple[str, ...]) -> list[Any]:
        """What the stored 3-byte set answers: membership and count by the digests' low 24
        bits, which the store's random key can make collide (1 in ~200 at 400 names)."""
        held = {_keyed(key, n) & 0xFFFFFF for n in names}
        return [tuple(_keyed(key, n) & 0xFFFFFF in held for n in asked), len(held)]

    expected = [*answers(small, probes), *answers(small, probes),
                *answers([*small, "@new:s"], probes), *answers(small[1:], probes),
                *answers(big, big_probes)]
    assert expected[::2] == [(True, True, False, False)] * 2 + [
        (True, True, True, False), (False, True, False, False), (True, True, True, False)]
    assert state.read(queries, T0 + 50) == expected
    assert raw.get(ns + accounts.contacts("@own:s")) == _elias_fano(
        T0, 1000.0, {_keyed(key, n) for n in small})
    assert raw.get(ns + accounts.contacts("@big:s")) == _elias_fano(
        T0, 1000.0, {_keyed(key, n) for n in big})
    assert 0 < raw.ttl(ns + accounts.contacts("@own:s")) <= 5000
    assert len(raw.hget(*lodged["@lodged:s"]) or b"") == 12 + 4 * 56, "read, not rewritten"
    assert _where(raw, ns, "@touched:s") == _elias_fano(
        T0 + 1, 1000.0, {_keyed(key, n) for n in [*small, "@new:s"]})
    assert _where(raw, ns, "@removed:s") == _elias_fano(
        T0, 1000.0, {_keyed(key, n) for n in small[1:]})


def _where(raw: Any, ns: str, account: str) -> bytes | None:
    """A contact list where Redis holds it: its own key (too long for the test Redis's
    listpack values), else its field in its ties hash."""
    host, field = lodging(accounts.contacts(account)) or ("", "")
    return raw.get(ns + accounts.contacts(account)) or raw.hget(ns + host, lodged_field(field))


def test_every_backend_holds_a_contact_in_3_bytes(tmp_path: Path, redis_url: str,
                                                 redis_namespace: str) -> None:
    """The same set is the same bytes in memory, SQLite and Redis (their keys made
    alike), in 3 bytes a member."""
    from spimguard.state.redis import RedisState

    key = accounts.contacts("@a:s")
    names = tuple(f"@{i}:s" for i in range(55))
    stored = []
    for state in (MemoryState(), SQLiteState(connect(tmp_path / "s.db")),
                  RedisState(redis_url, redis_namespace)):
        state.write([Touch(key, names, ttl=FOREVER)], T0)
        state.write([Touch(key, ("@55:s",), ttl=FOREVER)], T0 + 1)
        hasher = (hashed.Hasher(state._hash_key) if isinstance(state, SQLiteState)
                  else state._hasher)
        assert state.read([Contains(key, ("@0:s", "@55:s", "@56:s"))], T0 + 2) == [
            (True, True, hasher.digest("@56:s") in {hasher.digest(n) for n in names})]
        stored.append((state, hasher))
    for state, hasher in stored:
        want = _elias_fano(T0 + 1, FOREVER, {hasher.digest(n) for n in (*names, "@55:s")})
        if isinstance(state, MemoryState):
            got = state.hashed_set(key)
        elif isinstance(state, SQLiteState):
            state.commit()
            got = state._conn.execute("SELECT value FROM hashed_sets WHERE key = ?",
                                      (key,)).fetchone()[0]
        else:
            got = _where(state._redis, state.ns, "@a:s")
        assert got == want, state  # (12 + 3 * 56 + 1 bytes until session 38: 148 now)

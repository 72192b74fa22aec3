"""Contact lists as Elias-Fano lists (session 38, ``contacts38``): the stored form written
from its definition (bit by bit, not with ``hashed.py``'s code), every earlier layout read
and rewritten in it, Redis's scripts writing the very bytes Python writes, corrupt values
refused in both, the form smaller on the benchmark's lists, and session 37's release
refusing a store or file that holds it."""

from __future__ import annotations

import math
import random
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest

from spimguard import accounts
from spimguard.db import connect
from spimguard.errors import StateUnavailable
from spimguard.state import hashed, sided
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    FOREVER,
    Contains,
    Distinct,
    Remove,
    Replace,
    Touch,
    lodging,
    sided_keyspaces,
)
from spimguard.state.redis import lodged_field
from spimguard.state.sqlite import SQLiteState

_TTL_CODES = {31_536_000: 1, 3_153_600_000: 2}  # CONTACTS_TTL, FOREVER: one byte each


def _elias_fano(time: float, ttl: float, digests: Any) -> bytes:
    """Today's form from its definition: the time as a double (-0 as 0), the TTL's code
    (or 0 and its whole seconds in 4 bytes), the count in 7 bits a byte, low first, then
    each digest's low L = floor(log2(2^24 / n)) bits, then for each its high bits' rise in
    zeros and a one, bits from each byte's top down, zeros to the byte's end, and a zero
    byte where the length is a multiple of 8."""
    return _in_order(time, ttl, sorted({d & 0xFFFFFF for d in digests}))


def _in_order(time: float, ttl: float, held: list[int]) -> bytes:
    """``_elias_fano`` of ``held`` as given (a corrupt value where they do not increase)."""
    n = len(held)
    seconds = max(math.ceil(min(ttl, 2**32 - 1)), 0)
    code = _TTL_CODES.get(seconds)
    blob = struct.pack("<d", time + 0.0) + (
        bytes((code,)) if code else b"\0" + struct.pack("<I", seconds))
    left = n
    while True:
        blob += bytes((left & 0x7F | (0x80 if left >> 7 else 0),))
        left >>= 7
        if not left:
            break
    low = max(0, math.floor(math.log2(2**24 / n))) if n else 0
    bits: list[int] = []
    for d in held:
        bits += [(d >> (low - 1 - k)) & 1 for k in range(low)]
    before = 0
    for d in held:
        bits += [0] * ((d >> low) - before) + [1]
        before = d >> low
    bits += [0] * (-len(bits) % 8)
    blob += bytes(int("".join(map(str, bits[at:at + 8])), 2) for at in range(0, len(bits), 8))
    return blob + b"\0" if len(blob) % 8 == 0 else blob


def _three(time: float, ttl: float, digests: Any) -> bytes:
    """Session 30-37's form: minus the time, the TTL as 4 bytes, 3-byte big-endian digests
    sorted, and a zero byte where the length is a multiple of 4."""
    blob = struct.pack("<dI", -time, math.ceil(ttl)) + b"".join(
        d.to_bytes(3, "big") for d in sorted({d & 0xFFFFFF for d in digests}))
    return blob + b"\0" if len(blob) % 4 == 0 else blob


def _earlier(time: float, ttl: float, digests: set[int]) -> list[bytes]:
    """A set in each earlier layout: 8-byte digests (the first), 4-byte, 3-byte."""
    return [struct.pack(f"<dd{len(digests)}Q", time, float(ttl), *sorted(digests)),
            struct.pack(f"<dI{len(digests)}I", -time, math.ceil(ttl),
                        *sorted({d & 0xFFFFFFFF for d in digests})),
            _three(time, ttl, digests)]


def _edge_lists() -> list[list[int]]:
    draw = random.Random(38)
    return [[], [0], [0xFFFFFF], [0, 0xFFFFFF], [0, 1], list(range(100)),  # all high parts 0
            [0xFFFFFF - i for i in range(300)],  # all the highest
            [1 << 23] * 3,  # one digest thrice
            *(draw.sample(range(1 << 24), n) for n in (1, 2, 3, 7, 55, 127, 128, 129, 1000)),
            draw.sample(range(1 << 24), 10_000)]  # a full list (``max_contacts``)


def test_a_set_is_its_definition_and_answers_as_a_set_of_its_digests() -> None:
    """Edge and random lists (0, 1, 2 members, all of one high part, the digests 0 and
    2^24 - 1, counts each side of a second count byte, a full list), TTLs in the table and
    not, the time 0: packed as defined, never of an earlier layout's length, answering
    Contains, Distinct, a touch past a cap and a removal as the model says."""
    draw = random.Random(7)
    for digests in _edge_lists():
        held = set(digests)
        for time, ttl in ((T0, accounts.CONTACTS_TTL), (0.0, FOREVER), (T0 + 0.5, 100.25)):
            blob = hashed.pack(time, ttl, digests)
            assert blob == _elias_fano(time, ttl, digests), (len(held), ttl)
            assert len(blob) % 8 and not blob[7] & 0x80
            hashed._decoded.clear()  # decoded, not what ``pack`` kept
            asked = sorted(held)[:3] + [draw.randrange(1 << 24) for _ in range(9)]
            assert hashed.contains(blob, asked, time) == tuple(a in held for a in asked)
            assert hashed.contains(blob, asked, time + math.ceil(ttl)) == (False,) * len(asked)
            assert hashed.distinct(blob, 10.0, time + 1) == len(held)
            fresh = list(dict.fromkeys([*sorted(held)[:2], *(draw.randrange(1 << 24)
                                                              for _ in range(40))]))
            grown = hashed.touched(blob, fresh, time + 5, ttl, len(held) + 3)
            new = [d for d in fresh if d not in held][:3]
            assert grown == _elias_fano(time + 5, ttl, held | set(new))
            assert hashed.touched(blob, fresh, time + 5, ttl, len(held)) == _elias_fano(
                time + 5, ttl, held)
            assert hashed.without(grown, asked) == _elias_fano(
                time + 5, ttl, (held | set(new)) - set(asked))


def test_the_size_is_the_docstring_s_formula() -> None:
    """8 + (1 or 5) + the count's bytes + ceil((n (L + 1) + h_last) / 8), + 1 in 8."""
    draw = random.Random(1)
    for n in [0, 1, 2, 5, 55, 127, 128, 500, 4_096, 10_000]:
        digests = sorted(draw.sample(range(1 << 24), n))
        low = max(0, 24 - (n - 1).bit_length()) if n else 0
        last = digests[-1] >> low if n else 0
        size = 9 + len(hashed._count(n)) + math.ceil((n * (low + 1) + last) / 8)
        assert len(hashed.pack(T0, accounts.CONTACTS_TTL, digests)) == size + (size % 8 == 0)
        assert len(hashed.pack(T0, 60.0, digests)) == size + 4 + ((size + 4) % 8 == 0)


def test_smaller_than_the_3_byte_layout_on_the_benchmark_s_lists() -> None:
    """The template's lists (``benchmarks/memory.py``: 54.7 digests on average, CONTACTS_TTL)
    and every count up to a full list: fewer bytes than the 3-byte layout took, ~28 fewer
    at the template's average (its 177-byte row: −25 at least)."""
    draw = random.Random(2)
    saved = []
    for n in [*range(0, 400), 1_000, 10_000]:
        digests = draw.sample(range(1 << 24), n)
        new = len(hashed.pack(T0, accounts.CONTACTS_TTL, digests))
        assert new < len(_three(T0, accounts.CONTACTS_TTL, digests)), n
        if 45 <= n <= 65:
            saved.append(len(_three(T0, accounts.CONTACTS_TTL, digests)) - new)
    assert sum(saved) / len(saved) >= 25


def test_every_earlier_layout_reads_and_is_rewritten() -> None:
    """The 8-, 4- and 3-byte layouts (what session 37's ``current`` read) convert to
    today's bytes, their digests cut to 3 bytes (two that then collide count once)."""
    draw = random.Random(3)
    for n in (0, 1, 2, 55, 56, 300):
        digests = {draw.getrandbits(64) for _ in range(n)}
        want = _elias_fano(T0, 1000.0, digests)
        for old in _earlier(T0, 1000.0, digests):
            assert hashed.current(old) == want, (n, len(old))
        assert hashed.current(want) is want
    zero = _earlier(0.0, 1.0, {5})  # a time of 0: minus 0 in the 4- and 3-byte layouts
    assert {hashed.current(b) for b in zero} == {_elias_fano(0.0, 1.0, {5})}


def _corrupt() -> list[tuple[str, bytes]]:
    """Values no layout holds: each cut or changed past what its count says."""
    good = hashed.pack(T0, accounts.CONTACTS_TTL, random.Random(4).sample(range(1 << 24), 55))
    count = 9  # the time, the TTL's code, then the count (55: one byte)
    over = bytearray(hashed.pack(T0, accounts.CONTACTS_TTL, [0xFFFFFF]))
    return [("truncated", good[:-1]), ("no count", good[:9]), ("short", good[:6] + b"\0\0"),
            ("a byte more", good + b"\1"),
            ("a count past its bits", good[:count] + bytes((56,)) + good[count + 1:]),
            ("a count of many bytes", good[:count] + b"\xff" * 30 + good[count:]),
            ("no such TTL code", good[:8] + b"\x09" + good[9:]),
            # n = 1: L = 24, the high part is its one 1 alone; a zero before it overflows
            ("a high part past 2^(24 - L)", bytes(over[:13]) + b"\x40"),
            ("digests not increasing", _in_order(T0, 60.0, [5, 3])),
            ("a digest twice", _in_order(T0, 60.0, [7, 7, 9])),
            ("a pad that is not zero", hashed.pack(T0, 60.0, [1, 2, 3])[:-1] + b"\1")]


def test_a_corrupt_value_is_refused_in_python() -> None:
    """Truncated, a byte more, a count past its bits or of many bytes, an unknown TTL code,
    a high part past 2^(24 - L), digests out of order, a pad not zero: ``CorruptSet``, at
    once (no loop runs past the value), for a read, a touch and a removal."""
    for name, blob in _corrupt():
        if len(blob) % 8 == 0:
            blob += b"\0"  # still never an earlier layout's length
        hashed._decoded.clear()
        for use in (lambda b: hashed.contains(b, [1], T0), lambda b: hashed.without(b, [1]),
                    lambda b: hashed.touched(b, [1, 2], T0, 60.0, 100)):
            with pytest.raises(hashed.CorruptSet):
                use(blob)
                raise AssertionError(name)


def _in_redis(raw: Any, ns: str, key: str) -> bytes | None:
    """A hashed set as Redis holds it: its own key, else its field in its host's hash."""
    place = lodging(key)
    lodged = place and raw.hget(ns + place[0], lodged_field(place[1]))
    return raw.get(ns + key) or lodged or None


@pytest.mark.parametrize("server", ["redis_url", "compact"])
def test_redis_writes_the_bytes_python_writes(server: str, request: pytest.FixtureRequest,
                                              redis_namespace: str) -> None:
    """Seeded touches (under and past their caps, of members held and new, with each TTL
    kind), removals and replaces of lists from 0 to ~1,200 members, through Redis's
    scripts and through the memory store with the same key: the same stored bytes after
    each write (under their own keys, and lodged in the ties hash on a server at the
    recommended listpack value), and the same answers."""
    import redis

    from spimguard.state.redis import RedisState

    url = request.getfixturevalue(server)
    ns = redis_namespace if server == "redis_url" else "contacts38:"
    raw, state = redis.Redis.from_url(url), RedisState(url, ns)
    model = MemoryState(hash_key=state._hash_key)
    draw = random.Random(38)
    for step in range(160):
        key = accounts.contacts(f"@u{draw.randrange(5)}:s")
        now = T0 + 10 * step
        names = tuple(f"@p{draw.randrange(4_000)}:s"
                      for _ in range(draw.choice([0, 1, 3, 40, 300, 1_200])))
        ttl = draw.choice([accounts.CONTACTS_TTL, FOREVER, 3600.0, 7.5])
        op = draw.choice([Touch(key, names, ttl, draw.choice([2, 60, 500, 10_000])),
                          Remove(key, names), Replace(key, names, ttl)])
        state.write([op], now)
        model.write([op], now)
        stored = _in_redis(raw, ns, key)
        assert stored == model.hashed_set(key), (step, op)
        assert stored is None or (not stored[7] & 0x80 and len(stored) % 8), "today's layout"
        asked = [Contains(key, (*names[:6], "@nobody:s")), Distinct(key, FOREVER),
                 Distinct(key, 15.0)]
        assert state.read(asked, now + 5) == model.read(asked, now + 5), step
    if server == "compact":
        raw.flushdb()  # its own server


def test_redis_reads_each_earlier_layout_and_rewrites_it_at_its_next_write(
        redis_url: str, redis_namespace: str) -> None:
    """3-byte sets (session 37's) under their own keys are converted at the first read;
    lodged in the ties hash, read as converted and rewritten at the next touch or removal;
    8- and 4-byte ones as before."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    names = [f"@{i}:s" for i in range(56)]
    digests = {state._hasher.digest(n) for n in names}
    for n, old in enumerate(_earlier(T0, 1000.0, digests)):
        raw.set(ns + accounts.contacts(f"@own{n}:s"), old, ex=5000)
    for account in ("@lodged:s", "@touched:s", "@removed:s"):
        host, field = lodging(accounts.contacts(account)) or ("", "")
        raw.hset(ns + host, lodged_field(field), _three(T0, 1000.0, digests))
    state.write([Touch(accounts.contacts("@touched:s"), ("@new:s",), ttl=1000.0),
                 Remove(accounts.contacts("@removed:s"), ("@0:s",))], T0 + 1)
    accounts_asked = ["@own0:s", "@own1:s", "@own2:s", "@lodged:s", "@touched:s", "@removed:s"]
    assert state.read([q for a in accounts_asked for q in (
        Contains(accounts.contacts(a), ("@0:s", "@55:s", "@new:s", "@x:s")),
        Distinct(accounts.contacts(a), FOREVER))], T0 + 50) == [
        *[(True, True, False, False), 56] * 4, (True, True, True, False), 57,
        (False, True, False, False), 55]
    for n in range(3):
        assert raw.get(ns + accounts.contacts(f"@own{n}:s")) == _elias_fano(T0, 1000.0, digests)
    assert _in_redis(raw, ns, accounts.contacts("@lodged:s")) == _three(T0, 1000.0, digests)
    new = digests | {state._hasher.digest("@new:s")}
    assert _in_redis(raw, ns, accounts.contacts("@touched:s")) == _elias_fano(
        T0 + 1, 1000.0, new)
    assert _in_redis(raw, ns, accounts.contacts("@removed:s")) == _elias_fano(
        T0, 1000.0, digests - {state._hasher.digest("@0:s")})


def test_redis_refuses_a_corrupt_value_with_an_error(redis_url: str,
                                                     redis_namespace: str) -> None:
    """A corrupt value under a contact list's key: a read and a touch fail with Redis's
    script error named (``StateUnavailable``), the value left as it was."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    key = accounts.contacts("@a:s")
    for name, blob in _corrupt():
        if len(blob) % 8 == 0:
            blob += b"\0"
        raw.set(ns + key, blob)
        with pytest.raises(StateUnavailable, match="corrupt"):
            state.read([Contains(key, ("@b:s",))], T0)
            raise AssertionError(name)
        with pytest.raises(StateUnavailable, match="corrupt"):
            state.write([Touch(key, ("@b:s",), 60.0, 100)], T0)
        assert raw.get(ns + key) == blob, name


def test_sqlite_converts_session_37_s_sets_and_drops_its_mark(tmp_path: Path) -> None:
    """A file of session 37 (3-byte sets, its mark) is converted when it opens, and loses
    that mark: a node of session 37 opening it after converts again and fails on the first
    of today's sets (its ``current`` takes one for the first layout: TypeError, or
    struct.error under 16 bytes). One that found none and wrote 3-byte sets with its mark
    back is converted again at the next open of this release."""
    path = tmp_path / "s37.db"
    SQLiteState(connect(path)).close()
    old = sqlite3.connect(path)
    (key,) = old.execute("SELECT value FROM state_keys WHERE name = 'member-hash'").fetchone()
    hasher = hashed.Hasher(key)
    names = [f"@{i}:s" for i in range(56)]
    digests = {hasher.digest(n) for n in names}

    def as_session_37() -> None:
        old.execute("DELETE FROM state_keys WHERE name LIKE 'hashed-sets:%'")
        old.execute("INSERT INTO state_keys VALUES ('hashed-sets:3-byte-digests', x'')")
        old.execute("INSERT OR REPLACE INTO hashed_sets VALUES (?, ?, ?)",
                    ("contacts:@a:s", _three(T0, FOREVER, digests), T0 + FOREVER))
        old.commit()

    as_session_37()
    for _ in range(2):
        state = SQLiteState(connect(path))
        assert state.read([Contains("contacts:@a:s", ("@0:s", "@55:s", "@x:s")),
                           Distinct("contacts:@a:s", FOREVER)], T0 + 50) == [
            (True, True, hasher.digest("@x:s") in digests), 56]
        state.close()
        marks = {name for (name,) in old.execute("SELECT name FROM state_keys")}
        assert "hashed-sets:3-byte-digests" not in marks
        (value,) = old.execute("SELECT value FROM hashed_sets").fetchone()
        assert value == _elias_fano(T0, FOREVER, digests)
        with pytest.raises((TypeError, struct.error)):
            _session_37_current(value)
        as_session_37()


def _session_37_current(blob: bytes) -> bytes:
    """Session 37's ``hashed.current`` on a value whose time's sign bit is clear (its first
    layout's branch, as it was)."""
    assert not blob[7] & 0x80
    time, ttl = struct.unpack_from("<dd", blob)
    body = memoryview(blob)[16:].cast("Q")
    return struct.pack(f"<dI{len(body)}I", -time, math.ceil(ttl), *sorted(body))


def test_session_37_fails_on_every_set_of_today_s_layout() -> None:
    """Its Python fails on each (none is of a length its first layout has)."""
    draw = random.Random(5)
    for n in range(0, 130):
        for ttl in (FOREVER, 60.0):
            blob = hashed.pack(T0, ttl, draw.sample(range(1 << 24), n))
            with pytest.raises((TypeError, struct.error)):
                _session_37_current(blob)


def test_a_redis_store_opened_by_this_release_is_refused_by_session_37_s(
        redis_url: str, redis_namespace: str) -> None:
    """The declared TTLs' mark gains a third byte (4): session 37's check takes off its
    two (2, 3), reads the rest as doubles and refuses; a store of session 37's is taken
    over (its mark extended) and its sets read."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    RedisState(redis_url, ns).close()
    marks = list(raw.scan_iter(match=ns + "sided-ttls:*"))
    assert marks
    for name in marks:
        held = raw.get(name)
        assert held.endswith(b"\x02\x03\x04")
        space = next(s for s in sided_keyspaces() if name.decode().endswith(s.prefix))
        with pytest.raises(ValueError):  # session 37's: ``held.removesuffix(_BASES + _NAMES)``
            sided.check_ttls(space.prefix, space.ttls, held.removesuffix(b"\x02\x03"), "x")
        raw.set(name, held.removesuffix(b"\x04"))  # as session 37 left it
    state = RedisState(redis_url, ns)
    assert all(raw.get(name).endswith(b"\x02\x03\x04") for name in marks)
    state.close()


def test_redis_answers_a_large_set_in_place_as_python_does(redis_url: str,
                                                           redis_namespace: str) -> None:
    """A set of ``BIG`` (256) digests or more is searched in place by the read script
    (``hfinder``: each question's bucket bisected): for sets with the digests 0, 1 and
    2^24 - 1, runs of one bucket and random ones, every held digest, its neighbours and
    random others answer as the set says."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state = RedisState(redis_url, ns)
    draw = random.Random(9)
    for n in (255, 256, 257, 1_000, 10_000):
        held = {0, 1, 0xFFFFFF, *range(5_000, 5_000 + n // 8)}
        held |= set(draw.sample(range(1 << 24), n - len(held)))
        key = ns + f"big{n}"
        blob = hashed.pack(T0, 1000.0, held)
        assert blob == _elias_fano(T0, 1000.0, held)
        raw.set(key, blob)
        asked = sorted({x for d in held for x in (d - 1, d, d + 1) if 0 <= x < 1 << 24}
                       | {draw.randrange(1 << 24) for _ in range(500)})
        for at in range(0, len(asked), 4_000):
            part = asked[at:at + 4_000]
            reply = state._read_hashed(
                keys=[state._hash_name, key, ns + "no-host"],
                args=[state._hash_key, T0 + 1, 1, "", 1, "c", hashed.packed(part)])
            assert reply[0] == 1 and reply[1] == bytes(
                ord("1") if d in held else ord("0") for d in part), n

"""Redis's hosts (an account's ties hash): a lodged value's field is one byte and a lodged
guest's a byte and its name (session 37's ``lodged_field``, ``_guest_field``), where
session 36's release wrote two bytes before each (~6 bytes an account). Every first byte of
such a field is one no member's name (UTF-8, surrogatepass) starts with; a store of
session 36's is renamed when a node of this release opens it, and marked so that a node of
session 36's refuses it. A derived head's count is one byte while under 256 (5 bytes where
8), heads of 8 read as written."""

from __future__ import annotations

import struct

import pytest

from spimguard import accounts
from spimguard.detectors.takeover import keys, record
from spimguard.errors import StateUnavailable
from spimguard.state import ops, sided
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Distinct, Get, Members, Put, Query, Touch, Write

NS = "redis37:"
ACCOUNT = "@a:s"
TIES = accounts.tie_record(ACCOUNT)
SESSION = keys.lifelong(ACCOUNT, "s1")
T0 = 1_700_000_000.25


def _lead_bytes() -> dict[int, str]:
    """A character for each first byte a member's name can start with, every code point
    encoded as a store encodes a name (UTF-8, surrogatepass: a lone surrogate too)."""
    leads: dict[int, str] = {}
    for point in range(0x110000):
        leads.setdefault(chr(point).encode("utf-8", "surrogatepass")[0], chr(point))
    return leads


def _account_writes(people: list[str]) -> list[Write]:
    """An account's ties touched with ``people``, its record, takeover record and contacts
    (its three lodged values) and a session's record (a lodged guest: first, while the
    hash has room for it, ``redis._LODGED_FIELDS``)."""
    return [Touch(SESSION, ("@b:s",), 3_000.0, 10, keys.LIFE),
            Touch(TIES, tuple(people), 5_000.0, 1_000, accounts.TALKED),
            Put(accounts.key(ACCOUNT), b"acct", 5_000.0),
            Put(record.key(ACCOUNT), b"t" * 40, 5_000.0),
            ops.Replace(accounts.contacts(ACCOUNT), ("@b:s", "@c:s"), 9_000.0)]


def _reads(people: list[str]) -> list[Query]:
    return [Members(TIES, accounts.TALKED), Distinct(TIES, 4_000.0, accounts.TALKED),
            Contains(TIES, tuple(people), accounts.TALKED), Get(accounts.key(ACCOUNT)),
            Get(record.key(ACCOUNT)), Contains(accounts.contacts(ACCOUNT), ("@b:s", "@x:s")),
            Members(SESSION, keys.LIFE)]


def test_the_hosts_lodged_fields_are_a_byte_and_a_guests_a_byte_and_its_name(
        compact: str) -> None:
    """The ties hash holds its members, its heads (``\\xff``), its record, takeover record
    and contacts under a byte each (0xF5, 0xF6, 0xF7) and a session's record under 0xFE
    and the session (session 36's: ``\\xff\\xff`` and the name, ``\\xff\\xfe`` and the
    session)."""
    import redis

    from spimguard.state.redis import RedisState

    raw, state = redis.Redis.from_url(compact), RedisState(compact, NS)
    state.write(_account_writes(["@b:s", "@c:s"]), T0)
    assert set(raw.hkeys(NS + TIES)) == {b"@b:s", b"@c:s", b"\xff", b"\xf5", b"\xf6", b"\xf7",
                                         b"\xfes1"}
    assert raw.hget(NS + TIES, b"\xf5") == ops.RAW + struct.pack("<d", T0 + 5_000.0) + b"acct"
    state.close()


def test_no_member_name_starts_with_a_byte_a_hosts_field_does(compact: str) -> None:
    """Members named with every first byte the encoder produces (0x00-0x7F, 0xC2-0xF4),
    an empty name among them, answer as memory's beside the lodged values and a guest:
    through a read of all (``_own``), a whole rewrite past the cap (the Lua ``is_member``
    in ``stouch``'s ``every``), and the record's deletion (``sdelete``), which leaves the
    lodged values and the guest. Reading the lodged fields as members (a filter that
    tested session 36's 0xFF alone) would list them."""
    import redis

    from spimguard.state.redis import _FIRST_NAMED, RedisState

    leads = _lead_bytes()
    assert max(leads) < _FIRST_NAMED and len(leads) == 128 + 51
    people = ["", *leads.values()]
    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    writes = _account_writes(people)
    for store in (state, model):
        store.write(writes, T0)
    assert state.read(_reads(people), T0 + 1) == model.read(_reads(people), T0 + 1)
    assert len(state.read([Members(TIES, accounts.TALKED)], T0 + 1)[0]) == len(people)
    whole: list[Write] = [Touch(TIES, ("@new:s",), 5_000.0, 100, accounts.TALKED)]
    for store in (state, model):
        store.write(whole, T0 + 2)
    assert state.read(_reads(people), T0 + 3) == model.read(_reads(people), T0 + 3)
    assert all(f[:1] < b"\xf5" or f == b"\xff" or len(f) == 1 or f[:1] == b"\xfe"
               for f in raw.hkeys(NS + TIES))
    gone: list[Write] = [ops.Delete(TIES)]
    for store in (state, model):
        store.write(gone, T0 + 4)
    assert state.read(_reads(people), T0 + 5) == model.read(_reads(people), T0 + 5)
    assert set(raw.hkeys(NS + TIES)) == {b"\xf5", b"\xf6", b"\xf7", b"\xfes1"}
    state.close()


def _as_session_36(raw: object, ns: str) -> None:
    """The store as session 36's release left it: its hosts' lodged fields named
    ``\\xff\\xff`` and the keyspace's name, its guests ``\\xff\\xfe`` and the guest's, the
    declared TTLs' mark without session 37's byte, and no host keyspace renamed."""
    client = raw  # redis.Redis
    for key in client.scan_iter(match=ns + "*", _type="hash"):  # type: ignore[attr-defined]
        for name, value in client.hgetall(key).items():  # type: ignore[attr-defined]
            old = {b"\xf5": b"\xff\xff", b"\xf6": b"\xff\xfft", b"\xf7": b"\xff\xffc"}.get(
                name, b"\xff" + name if name[:1] == b"\xfe" else None)
            if old is not None:
                client.hset(key, old, value)  # type: ignore[attr-defined]
                client.hdel(key, name)  # type: ignore[attr-defined]
    for key in client.scan_iter(match=ns + "sided-ttls:*"):  # type: ignore[attr-defined]
        client.set(key, client.get(key).removesuffix(b"\x04").removesuffix(b"\x03"))  # type: ignore[attr-defined]
    for key in client.scan_iter(match=ns + "state-key:member-hash:converted:names:*"):  # type: ignore[attr-defined]
        client.delete(key)  # type: ignore[attr-defined]


def test_a_store_of_session_36_is_renamed_at_open_and_answers_as_before(compact: str) -> None:
    """Session 36's names (two bytes before each) read as they were written once a node of
    this release opens the store, which renames them; a field of the new name a node of
    this release wrote meanwhile is the later write and stays."""
    import redis

    from spimguard.state.redis import RedisState

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    people = ["@b:s", "@c:s"]
    writes = _account_writes(people)
    for store in (state, model):
        store.write(writes, T0)
    state.close()
    _as_session_36(raw, NS)
    assert b"\xff\xfft" in raw.hkeys(NS + TIES) and b"\xff\xfes1" in raw.hkeys(NS + TIES)
    raw.hset(NS + TIES, b"\xf5", ops.RAW + struct.pack("<d", T0 + 5_000.0) + b"newer")
    model.write([Put(accounts.key(ACCOUNT), b"newer", 5_000.0)], T0)
    state = RedisState(compact, NS)
    assert set(raw.hkeys(NS + TIES)) == {b"@b:s", b"@c:s", b"\xff", b"\xf5", b"\xf6", b"\xf7",
                                         b"\xfes1"}
    assert state.read(_reads(people), T0 + 1) == model.read(_reads(people), T0 + 1)
    again: list[Write] = [Touch(SESSION, ("@c:s",), 3_000.0, 10, keys.LIFE),
                          Put(record.key(ACCOUNT), b"u" * 40, 5_000.0)]
    for store in (state, model):
        store.write(again, T0 + 2)
    assert state.read(_reads(people), T0 + 3) == model.read(_reads(people), T0 + 3)
    state.close()


def test_a_store_this_release_opened_is_refused_by_session_36s_check(
        redis_url: str, redis_namespace: str) -> None:
    """Session 36's check of a keyspace's declared TTLs (``sided.check_ttls`` on the value
    less its ``\\x02``) refuses the store once a node of this release opened it, as it
    opened the store before; this release opens both."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    ties = ops.space_of(TIES)
    name = f"{ns}sided-ttls:{ties.prefix}"
    raw.set(name, sided.packed_ttls(ties.ttls) + b"\x02")  # session 36's
    sided.check_ttls(ties.prefix, ties.ttls, raw.get(name).removesuffix(b"\x02"), "Redis")
    RedisState(redis_url, ns).close()
    assert raw.get(name) == sided.packed_ttls(ties.ttls) + b"\x02\x03\x04"  # (and session 38's)
    with pytest.raises((ValueError, StateUnavailable)):
        sided.check_ttls(ties.prefix, ties.ttls, raw.get(name).removesuffix(b"\x02"), "Redis")
    RedisState(redis_url, ns).close()  # opened again: as it is
    assert raw.get(name) == sided.packed_ttls(ties.ttls) + b"\x02\x03\x04"  # (and session 38's)


def _widened(heads: bytes) -> bytes:
    """A heads field (``redis.hsplit``) with each 5-byte derived head as session 35-36's
    releases wrote it: its count in four bytes (8)."""
    at = 3 if heads[:1] == b"\x02" else 0  # its base, if it has one
    out = bytearray(heads[:at])
    while at < len(heads):
        n, head = heads[at], heads[at + 1:at + 1 + heads[at]]
        if n == 5:
            head = struct.pack("<II", *struct.unpack("<BI", head))
        out += bytes((len(head),)) + head
        at += 1 + n
    return bytes(out)


def test_a_derived_head_counts_in_one_byte_under_256_and_reads_session_36s(
        compact: str) -> None:
    """A derived head (a side of the declared TTL) is its count in one byte and its oldest
    in four (5 bytes, where session 35-36's wrote 8) while it counts under 256, 8 bytes
    past; heads of session 36's layout read as written and are 5 bytes after the next
    touch; every answer memory's."""
    import redis

    from spimguard.state.redis import RedisState, _side_head

    raw, state, model = redis.Redis.from_url(compact), RedisState(compact, NS), MemoryState()
    crowd = [f"@{i}:s" for i in range(300)]
    writes: list[Write] = [
        Touch(TIES, tuple(crowd), accounts.TALKED_TTL, 1_000, accounts.TALKED),
        Touch(TIES, tuple(crowd[:2]), accounts.TALKED_TTL, 1_000, accounts.OWNER_WROTE)]
    for store in (state, model):
        store.write(writes, T0)
    side = {s: ops.slot_of(TIES, s)[0] for s in (accounts.TALKED, accounts.OWNER_WROTE)}
    heads = raw.hget(NS + TIES, b"\xff")
    assert len(_side_head(heads, side[accounts.TALKED]) or b"") == 8
    assert len(_side_head(heads, side[accounts.OWNER_WROTE]) or b"") == 5
    reads: list[Query] = [q for s in side for q in (
        Members(TIES, s), Distinct(TIES, 40.0, s), Contains(TIES, ("@0:s", "@299:s"), s))]
    assert state.read(reads, T0 + 1) == model.read(reads, T0 + 1)
    raw.hset(NS + TIES, b"\xff", _widened(heads))
    assert len(_side_head(raw.hget(NS + TIES, b"\xff"), side[accounts.OWNER_WROTE])) == 8
    assert state.read(reads, T0 + 1) == model.read(reads, T0 + 1)
    again: list[Write] = [Touch(TIES, ("@x:s",), accounts.TALKED_TTL, 1_000,
                                accounts.OWNER_WROTE)]
    for store in (state, model):
        store.write(again, T0 + 2)
    assert len(_side_head(raw.hget(NS + TIES, b"\xff"), side[accounts.OWNER_WROTE])) == 5
    assert state.read(reads, T0 + 3) == model.read(reads, T0 + 3)
    state.close()

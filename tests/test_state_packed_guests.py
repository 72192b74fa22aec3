"""A session's record lodged in its account's Redis ties hash as one field (session 26,
``redis.ppack``): every answer as memory's, whatever the sessions send, and a session an
earlier release lodged as a field a member read as it is, then packed at its next touch.

On a redis-server of the tests' own at the hash-max-listpack-value the project recommends
(``redis.RECOMMENDED_LISTPACK_VALUE``), where sessions are packed; the machine's server
may keep Redis's default 64 bytes, under which they stay a field a member (``gfields``),
as ``test_state_lodging_review`` and ``test_state_guests`` run them there."""

from __future__ import annotations

import random
from typing import Any

from spimguard import accounts
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import MAX_LATENESS, Contains, Delete, Distinct, Members, Query, Touch
from test_state_lodging_review import ACCOUNT, SESSIONS, SIDES, TIES, _run, _steps

NS = "sg:"


def _guests(raw: Any) -> list[bytes]:
    """The ties' guests' fields: packed (``redis._GUEST``) or a field a member (behind
    ``redis._guest_prefix``)."""
    return [f for f in raw.hkeys(NS + TIES) if f[:1] == b"\xfe" or f[:2] == b"\xff\xfe"]


def test_redis_lodges_each_session_in_one_field_and_answers_as_memory(compact: str) -> None:
    """The lodging review's log (sessions of up to 40 names, hostile ids, deletes, sweeps):
    after every step each lodged session is one field of the ties hash, which stays a
    listpack, and every read answers as memory's. On the earlier layout (a field a member
    behind ``\\xff\\xfe<session>:``) it fails at the first lodged touch."""
    import redis

    from spimguard.state.redis import RedisState

    raw = redis.Redis.from_url(compact)
    state = RedisState(compact, NS)

    def packed() -> None:
        guests = _guests(raw)
        assert all(b":" not in f for f in guests), guests
        if guests:
            assert raw.object("encoding", NS + TIES) == b"listpack"

    log = _steps(random.Random(26), 600)
    found = _run(state, log, packed)
    memory = _run(MemoryState(), log)
    for step, (got, expected) in enumerate(zip(found, memory, strict=True)):
        assert got == expected, (step, log[step])
    assert _guests(raw), "some session lodged"
    state.close()


def _held(raw: Any) -> int:
    """The ties hash's bytes in a listpack: each field's name and value, ~4 bytes framing."""
    return sum(len(f) + len(v) + 4 for f, v in raw.hgetall(NS + TIES).items())


def _as_earlier_release(raw: Any) -> None:
    """Each lodged session's field made the fields the earlier release wrote: its heads and
    each member behind its prefix (the same bytes a field)."""
    from spimguard.state.redis import _unpacked

    for field in _guests(raw):
        heads, members = _unpacked(raw.hget(NS + TIES, field))
        pre = b"\xff" + field + b":"  # (``redis._guest_prefix``)
        raw.hset(NS + TIES, mapping={pre + b"\xff": heads, **{
            pre + name: value for name, value in members.items()}})
        raw.hdel(NS + TIES, field)


def test_redis_reads_a_session_the_earlier_release_lodged_and_packs_it_when_touched(
        compact: str) -> None:
    """Sessions an earlier release lodged (a field a member) answer as before; a touch packs
    the touched one into one field (the hash's bytes shrink, its fields go), a Delete takes
    all its fields, and a dead one goes at the host's next whole rewrite."""
    import redis

    from spimguard.state.redis import RedisState

    raw = redis.Redis.from_url(compact)
    state, model = RedisState(compact, NS), MemoryState()
    names = [f"@p{i}:s" for i in range(12)]
    ids = ["s1", "s2", "s3", "s4"]
    sessions = [keys.lifelong(ACCOUNT, s) for s in ids]
    first = [Touch(TIES, ("@b:s",), 20.0, 10, accounts.TALKED),
             *(Touch(session, tuple(names[i:i + 4 + i]), 500.0 + 4_000 * (i == 3), 60, side)
               for i, session in enumerate(sessions) for side in SIDES)]
    state.write(first, T0)
    model.write(first, T0)
    reads: list[Query] = [q for session in sessions for side in SIDES for q in (
        Members(session, side), Distinct(session, 100.0, side),
        Contains(session, ("@p1:s", "@p6:s", "@x:s"), side))]
    assert len(_guests(raw)) == 4
    _as_earlier_release(raw)
    assert len(_guests(raw)) == 4 + 4 + 5 + 6 + 7 and all(b":" in f for f in _guests(raw))
    assert state.read(reads, T0 + 1) == model.read(reads, T0 + 1)
    before = _held(raw)
    again = [Touch(sessions[0], ("@p0:s",), 500.0, 60, keys.PALS)]  # a name it has
    state.write(again, T0 + 2)
    model.write(again, T0 + 2)
    assert {f.split(b":")[0] for f in _guests(raw) if b":" not in f} == {b"\xfes1"}
    # Each of s1's four members: its prefix again (5 bytes) and a field's framing (4), less
    # its two lengths in the packed field; @p0:s's second time is 6 bytes more (its top two
    # bytes the first time's: ``redis._time``'s code 3); its field's name a byte shorter
    # than its prefix less ":" (``redis._GUEST``).
    assert _held(raw) == before - 4 * 7 + 6 - 1, "packed: fewer bytes"
    assert state.read(reads, T0 + 3) == model.read(reads, T0 + 3)
    gone = [Delete(sessions[1])]
    state.write(gone, T0 + 4)
    model.write(gone, T0 + 4)
    assert not [f for f in _guests(raw) if f.startswith((b"\xfes2", b"\xff\xfes2"))]
    # Past s1's and s3's lives and the lateness: the ties' touch (its member past its TTL)
    # rewrites the hash whole, which lets the dead go; s4 (a longer TTL) stays unpacked.
    later = T0 + 600 + MAX_LATENESS
    ties = [Touch(TIES, ("@c:s",), 20.0, 10, accounts.TALKED)]
    state.write(ties, later)
    model.write(ties, later)
    model.sweep(later)
    assert {f.split(b":")[0] for f in _guests(raw)} == {b"\xff\xfes4"}
    assert state.read(reads, later) == model.read(reads, later)
    state.close()


def test_redis_moves_a_session_out_of_its_field_past_the_lodging_limits(compact: str) -> None:
    """A lodged session that grows past ``ops.LODGED_NAMES``, or whose one field would pass
    the server's hash-max-listpack-value (long names), is written to a key of its own,
    its field deleted; answers as memory's throughout, the ties hash a listpack."""
    import redis

    from spimguard.state.ops import LODGED_NAMES
    from spimguard.state.redis import RedisState

    raw = redis.Redis.from_url(compact)
    state, model = RedisState(compact, NS), MemoryState()
    grown, wide = keys.lifelong(ACCOUNT, SESSIONS[-1]), keys.lifelong(ACCOUNT, "w")
    steps = [[Touch(TIES, ("@b:s",), 5_000.0, 10, accounts.TALKED)]]
    steps += [[Touch(grown, (f"@p{i}:s",), 500.0, 5_000, SIDES[i % 2])]
              for i in range(LODGED_NAMES + 2)]
    steps += [[Touch(wide, (f"@{'q' * 100}{i}:s",), 500.0, 5_000, keys.PALS)] for i in range(12)]
    reads: list[Query] = [Members(grown, keys.LIFE), Members(grown, keys.PALS),
                          Distinct(wide, 10.0, keys.PALS), Members(wide, keys.PALS)]
    for at, writes in enumerate(steps):
        state.write(writes, T0 + at)
        model.write(writes, T0 + at)
        assert state.read(reads, T0 + at) == model.read(reads, T0 + at), at
        assert raw.object("encoding", NS + TIES) == b"listpack"
        if 1 <= at <= LODGED_NAMES:  # one field while it holds up to LODGED_NAMES
            assert _guests(raw) == [b"\xfe" + SESSIONS[-1].encode()], at
    assert raw.exists(NS + grown) and raw.exists(NS + wide) and not _guests(raw)
    state.close()

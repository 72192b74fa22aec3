"""The lodging rules (session 21) as a spammer would push them: many sessions an account,
sessions grown past ``ops.LODGED_NAMES``, hostile session ids, deletes, sweeps and late
touches; memory, SQLite and Redis answer every read alike, and Redis's ties hash stays
within ``redis._LODGED_FIELDS`` however the sessions come."""

from __future__ import annotations

import random
from pathlib import Path

from spimguard import accounts
from spimguard.db import connect
from spimguard.detectors.takeover import keys
from spimguard.state.conformance import T0
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Contains, Delete, Distinct, Members, Query, Touch, Write
from spimguard.state.sqlite import SQLiteState

ACCOUNT = "@a:s"
TIES = accounts.tie_record(ACCOUNT)
# Hostile ids: empty, ":" (lodged in another host), the last code points, long.
HOSTILE = ["", "x:y", ":", "\xff", "\uffff", "s" * 500]
SESSIONS = HOSTILE + [f"s{i}" for i in range(14)]
SIDES = (keys.LIFE, keys.PALS)


def _steps(rng: random.Random, steps: int) -> list[tuple[float, list[Write], list[Query]]]:
    """A log of writes, each with the reads asked after it."""
    crowd = [f"@p{i}:s" for i in range(70)] + ["\xff", ""]
    now, out = T0 + 10_000, []
    for _ in range(steps):
        now += rng.choice([0.0, 1.0, 7.0, 30.0, 90.0, 300.0])
        session = keys.lifelong(ACCOUNT, rng.choice(SESSIONS))
        roll = rng.random()
        writes: list[Write]
        if roll < 0.06:
            writes = [Delete(session)]
        elif roll < 0.12:
            writes = [Touch(TIES, tuple(rng.sample(crowd, rng.choice([1, 5, 30]))), 1_000.0,
                            100, accounts.TALKED)]
        else:
            writes = [Touch(session, tuple(rng.sample(crowd, rng.choice([1, 1, 2, 6, 12, 40]))),
                            rng.choice([50.0, 500.0, 5_000.0]), rng.choice([10, 60, 5_000]),
                            rng.choice(SIDES))]
        asked = keys.lifelong(ACCOUNT, rng.choice(SESSIONS))
        side = rng.choice(SIDES)
        window = rng.choice([10.0, 400.0])
        reads: list[Query] = [Members(asked, side), Distinct(asked, window, side),
                              Contains(asked, tuple(rng.sample(crowd, 3)), side),
                              Members(TIES, accounts.TALKED)]
        out.append((now, writes, reads))
    return out


def _run(state: object, log: list[tuple[float, list[Write], list[Query]]],
         check: object = None) -> list[object]:
    answers = []
    for step, (now, writes, reads) in enumerate(log):
        state.write(writes, now)  # type: ignore[attr-defined]
        if step % 25 == 24:
            state.sweep(now)  # type: ignore[attr-defined]
        if check is not None:
            check()  # type: ignore[operator]
        answers.append(state.read(reads, now + 1))  # type: ignore[attr-defined]
    return answers


def test_sessions_answer_alike_in_memory_and_sqlite(tmp_path: Path) -> None:
    log = _steps(random.Random(21), 600)
    memory = _run(MemoryState(), log)
    sqlite = SQLiteState(connect(tmp_path / "s.db"))
    assert _run(sqlite, log) == memory
    sqlite.close()


def test_sessions_answer_alike_in_redis_and_its_ties_hash_stays_bounded(
        redis_url: str, redis_namespace: str) -> None:
    import redis

    from spimguard.state.redis import _LODGED_FIELDS, RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    log = _steps(random.Random(21), 600)
    memory = _run(MemoryState(), log)
    state = RedisState(redis_url, ns)

    def bounded() -> None:
        fields = raw.hlen(ns + TIES)
        guests = sum(1 for f in raw.hkeys(ns + TIES) if f.startswith(b"\xff\xfe"))
        assert not guests or fields <= _LODGED_FIELDS

    found = _run(state, log, bounded)
    for step, (got, expected) in enumerate(zip(found, memory, strict=True)):
        assert got == expected, (step, log[step])
    state.close()


def test_redis_takes_a_session_id_that_is_not_utf8_as_the_earlier_release_did(
        redis_url: str, redis_namespace: str) -> None:
    """A session id, or a name it writes to, holding a lone surrogate (bytes that were
    not UTF-8) is stored and answered, lodged or moved to its key of its own, as session
    20's release did and the memory backend does (Redis's client refuses such a key or
    field given as text)."""
    from spimguard.state.redis import RedisState

    state, model = RedisState(redis_url, redis_namespace), MemoryState()
    crowd = ("\udcff", *(f"@p{i}:s" for i in range(40)))
    for session in ("\udcff", "a\udc80b"):
        key = keys.lifelong(ACCOUNT, session)
        for names in (crowd[:2], crowd):  # lodged, then moved out
            writes: list[Write] = [Touch(key, names, 500.0, 100, keys.PALS)]
            state.write(writes, T0)
            model.write(writes, T0)
            reads: list[Query] = [Members(key, keys.PALS), Distinct(key, 100.0, keys.PALS),
                                  Contains(key, ("\udcff", "@p3:s", "@x:s"), keys.PALS)]
            assert state.read(reads, T0 + 1) == model.read(reads, T0 + 1)
        state.write([Delete(key)], T0 + 2)
        assert state.read([Members(key, keys.PALS)], T0 + 3) == [()]
    state.close()


def test_redis_keeps_the_ties_hash_compact_whatever_a_session_id_or_name_is_long(
        redis_url: str, redis_namespace: str) -> None:
    """A session whose id, or a name it writes to, is too long for a compact hash's field
    (the server's hash-max-listpack-value) keeps a key of its own, lodged or not yet: one
    such field would turn the account's ties hash into a hashtable for good."""
    import redis

    from spimguard.state.redis import RedisState

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state, model = RedisState(redis_url, ns), MemoryState()
    long = "\xe9" * state._compact  # two bytes each in UTF-8
    sessions = [keys.lifelong(ACCOUNT, "s1"), keys.lifelong(ACCOUNT, long)]
    log: list[Write] = [Touch(TIES, ("@b:s",), 1_000.0, 10, accounts.TALKED),
                        Touch(sessions[0], ("@c:s",), 500.0, 10, keys.PALS),  # lodged
                        Touch(sessions[0], (f"@{long}:s",), 500.0, 10, keys.PALS),
                        Touch(sessions[1], ("@c:s",), 500.0, 10, keys.LIFE)]
    for at, write in enumerate(log):
        state.write([write], T0 + at)
        model.write([write], T0 + at)
        assert raw.object("encoding", ns + TIES) == b"listpack", write
    reads: list[Query] = [Members(TIES, accounts.TALKED),
                          *(Members(key, side) for key in sessions for side in SIDES)]
    assert state.read(reads, T0 + 9) == model.read(reads, T0 + 9)
    state.close()


def test_redis_counts_a_session_another_node_moves_out_between_a_distincts_trips(
        redis_url: str, redis_namespace: str) -> None:
    """A Distinct whose window leaves out some member counts the fields in a trip of its
    own: if another node moves the session out of the ties hash meanwhile (``gtouch``),
    it counts them at the session's key, never none of them."""
    from spimguard.state.redis import RedisState

    node, other = RedisState(redis_url, redis_namespace), RedisState(redis_url, redis_namespace)
    session = keys.lifelong(ACCOUNT, "s1")
    node.write([Touch(session, ("@c:s",), 500.0, 100, keys.PALS)], T0)
    node.write([Touch(session, ("@d:s",), 500.0, 100, keys.PALS)], T0 + 100)
    real = node._redis.hgetall

    def moved_meanwhile(key: object) -> object:
        other.write([Touch(session, tuple(f"@p{i}:s" for i in range(40)), 500.0, 100,
                           keys.PALS)], T0 + 100)
        return real(key)

    node._redis.hgetall = moved_meanwhile  # type: ignore[method-assign]
    assert node.read([Distinct(session, 50.0, keys.PALS)], T0 + 101) in ([1], [41])
    node.close()
    other.close()


def test_redis_lodges_again_a_session_whose_key_of_its_own_expired(
        redis_url: str, redis_namespace: str) -> None:
    """A session moved out to a key of its own is touched there while the key lives (its
    members past their TTL read as gone), and lodges again once Redis's EXPIRE let the key
    go (its ``_seconds``: past the event-time TTL and the lateness): each read as memory's,
    which sweeps the record of its own and lodges the session's next touch."""
    import redis

    from spimguard.state.redis import RedisState, _guest_prefix

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    state, model = RedisState(redis_url, ns), MemoryState()
    session = keys.lifelong(ACCOUNT, "s1")
    reads: list[Query] = [Members(session, side) for side in SIDES]
    steps: list[tuple[float, list[Write]]] = [
        (T0, [Touch(session, tuple(f"@p{i}:s" for i in range(40)), 50.0, 100, keys.PALS)]),
        (T0 + 60, [Touch(session, ("@b:s",), 50.0, 100, keys.LIFE)]),  # dead: still its key
        (T0 + 5_000, [Touch(session, ("@c:s",), 50.0, 100, keys.PALS)])]  # its key expired
    for now, writes in steps:
        if now > T0 + 4_000:
            raw.delete(ns + session)  # as Redis's EXPIRE would have by now
            model.sweep(now)
        state.write(writes, now)
        model.write(writes, now)
        assert state.read(reads, now + 1) == model.read(reads, now + 1), now
    assert not raw.exists(ns + session)
    assert raw.hexists(ns + TIES, _guest_prefix("s1") + b"\xff"), "lodged again"
    state.close()


# Session 22: a session id holding ":" named another account's record as its host (the key
# split at its last ":"). The attacker's account and the victim, whose id is the
# attacker's and the start of the attacker's session ids; the victim's sessions are named
# as the attacker's would be, past their ":" (the attacker's "x:1" was the victim's "1").
VICTIM = ACCOUNT + ":x"
CLAIMING = [f"x:{i}" for i in range(10)] + [
    "y:z", ":", "x:", "%", "%3A", "%253A", "\\:", "x\\", "x:%", "q:" * 300]
# SQLite refuses a lone surrogate in any key (a session id of the API never holds one:
# its JSON decoder refuses it), memory and Redis take it.
SURROGATE = "x:\udcff"
VICTIMS = [str(i) for i in range(8)]


def _claims(rng: random.Random, steps: int, claiming: list[str]
            ) -> list[tuple[float, list[Write], list[Query]]]:
    """A log of the attacker's sessions (``claiming``) and the victim's, each writing to
    names of its own account's people only, with every session's record read after each
    write."""
    now, out = T0 + 10_000, []
    sessions = [(ACCOUNT, s) for s in claiming] + [(VICTIM, s) for s in VICTIMS]
    reads: list[Query] = [Members(keys.lifelong(a, s), side)
                          for a, s in sessions for side in SIDES]
    for _ in range(steps):
        now += rng.choice([0.0, 1.0, 30.0])
        account, session = rng.choice(sessions)
        people = [f"@{'e' if account == ACCOUNT else 'v'}{i}:s" for i in range(20)]
        out.append((now, [Touch(keys.lifelong(account, session),
                                tuple(rng.sample(people, rng.choice([1, 2, 3]))),
                                100_000.0, 100, rng.choice(SIDES))], reads))
    return out


def _check_own(answers: list[list[object]], claiming: list[str]) -> None:
    """Each session's record holds only the names its own account's sessions wrote."""
    for answer in answers:
        for at, members in enumerate(answer):
            mark = "@e" if at < 2 * len(claiming) else "@v"
            assert all(str(m).startswith(mark) for m in members), (at, members)  # type: ignore[attr-defined]


def _lodged_in_memory(state: MemoryState) -> dict[str, list[bytes]]:
    """The guests each account's ties lodge, by their key."""
    return {key: [name for name, _ in host.guest_items()]
            for key, host in state.accounts().items() if key.startswith(TIES[:-len(ACCOUNT)])}


def _assert_own_hosts(lodged: dict[str, list[bytes]]) -> None:
    assert set(lodged) <= {TIES, accounts.tie_record(VICTIM)}, "no phantom host"
    assert sorted(lodged[accounts.tie_record(VICTIM)]) == [s.encode() for s in VICTIMS], \
        "the victim's guest slots hold its own sessions alone"
    assert len(lodged[TIES]) == 8, "the attacker's sessions lodge in its own record"


def test_sessions_lodge_in_their_own_accounts_record_whatever_their_ids_hold(
        tmp_path: Path) -> None:
    """A session id holding ":" (or "%", the escape of ``ops.guest_key``) lodges in its own
    account's record, never in another's (``@a:s``'s ``x:1`` in ``@a:s:x``'s) nor in one
    of an account that does not exist (``@a:s:y``'s): memory's guest slots and SQLite's
    held copy hold each account's own sessions, and each record answers apart."""
    log = _claims(random.Random(22), 400, CLAIMING)
    memory = MemoryState()
    answers = _run(memory, log)
    _assert_own_hosts(_lodged_in_memory(memory))
    _check_own(answers, CLAIMING)
    sqlite = SQLiteState(connect(tmp_path / "s.db"))
    assert _run(sqlite, log) == answers
    _assert_own_hosts(_lodged_in_memory(sqlite._hot))
    sqlite.close()


def test_redis_lodges_sessions_in_their_own_accounts_ties_hash_whatever_their_ids_hold(
        redis_url: str, redis_namespace: str) -> None:
    """As in memory: the victim's ties hash holds the fields of its own sessions alone, no
    hash is made for an account that does not exist, and Redis answers as memory does."""
    import redis

    from spimguard.state.redis import RedisState, _guest_prefix

    raw, ns = redis.Redis.from_url(redis_url), redis_namespace
    claiming = [*CLAIMING, SURROGATE]
    log = _claims(random.Random(22), 400, claiming)
    state, memory = RedisState(redis_url, ns), MemoryState()
    answers = _run(memory, log)
    assert _run(state, log) == answers
    _check_own(answers, claiming)
    _assert_own_hosts(_lodged_in_memory(memory))
    state.close()
    ties = {key for key in raw.keys(ns.encode() + TIES.encode() + b"*")}
    assert ties <= {(ns + TIES).encode(), (ns + accounts.tie_record(VICTIM)).encode()}, \
        "no phantom host"
    own = tuple(_guest_prefix(s) for s in VICTIMS)
    guests = [f for f in raw.hkeys(ns + accounts.tie_record(VICTIM)) if f[:2] == b"\xff\xfe"]
    assert guests and all(f.startswith(own) for f in guests), guests


def test_a_session_whose_id_holds_a_colon_starts_afresh_after_the_upgrade(
        tmp_path: Path) -> None:
    """README, upgrading to session 22's release: a store written by the earlier release
    keeps a session whose id holds ":" (or "%") at the key it made then, which this release
    no longer asks: the session's record reads as one first seen, and what it held stays
    where it was (another account's session it was one key with still reads it) until its
    TTL lets it go."""
    earlier = f"{keys.lifelong('', '')[:-1]}{ACCOUNT}:x:1"  # the earlier release's key
    path = tmp_path / "s.db"
    store = SQLiteState(connect(path))
    store.write([Touch(earlier, ("@e1:s",), 500.0, 10, keys.PALS)], T0)
    store.commit()
    store.close()
    store = SQLiteState(connect(path))
    assert store.read([Members(keys.lifelong(ACCOUNT, "x:1"), keys.PALS),
                       Members(keys.lifelong(VICTIM, "1"), keys.PALS)], T0 + 1) == [
        (), ("@e1:s",)]
    store.sweep(T0 + 100_000)  # past its TTL and the lateness
    store.commit()
    store.close()
    db = connect(path)
    assert not db.execute("SELECT key FROM sided_sets").fetchall(), "let go at its TTL"
    db.close()

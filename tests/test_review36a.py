"""Session 36's review (``review36a``): ``heard36``'s ``LastTouch`` (a member's last touch
time, if within a window) attacked two ways.

1. A differential of the three stores: a hostile log (crafted member names, late touches up
   to ``MAX_LATENESS``, touches with TTLs other than the declared, caps of one, Deletes,
   sweeps, SQLite reopened and a new ``RedisState`` now and then) of the account's ties,
   the conformance keyspace's sided records, a guest lodged in them, a host whose records
   keep retired places and its lodged guests (``test_review35c``'s) and plain sets, at
   times either side of 2**30 and 2**31 s and near zero; every step asks ``LastTouch`` of
   every side of every record for random members, at random times (at, just before and
   just past a side's end; before the touch: a late reader), with windows of 0, a ulp, a
   fraction, the TTLs, a trillion, infinity, NaN and negative ones. Memory, SQLite and
   Redis must each answer as plain sets touched alike do (their ``LastTouch`` the
   reference).
2. From the spammer's seat: who, besides the sender's own delivered messages, can make an
   account "heard from" the sender (``TakeoverDetector._asked``)."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, engine_on_store, event, message
from sided_diff import renewed, written
from spimguard import Engine, accounts, open_engine
from spimguard.db import connect
from spimguard.detectors.base import Context
from spimguard.detectors.takeover import keys
from spimguard.detectors.takeover.detector import TakeoverDetector
from spimguard.detectors.takeover.settings import TakeoverSettings
from spimguard.events import RECEIVED
from spimguard.state.conformance import GUEST, GUEST_SIDES, SIDED, SIDES
from spimguard.state.memory import MemoryState
from spimguard.state.ops import (
    MAX_LATENESS,
    Delete,
    LastTouch,
    Members,
    Query,
    Touch,
    Write,
    guest_key,
)
from spimguard.state.redis import RedisState
from spimguard.state.sqlite import SQLiteState
from test_review35c import _GUEST as HOST_GUEST
from test_review35c import _GUEST_SIDES as HOST_GUEST_SIDES
from test_review35c import _HOST, _HOST_SIDES
from test_review35c import _TTLS as HOST_TTLS

_SESSION_TTL = float(TakeoverSettings().session_ttl)
_TIES = (accounts.TALKED, accounts.OWNER_WROTE, accounts.RECIPROCATED)
# Each record, its sides and the TTLs its touches name (the declared first: no head held).
_RECORDS: tuple[tuple[str, tuple[str, ...], tuple[float, ...]], ...] = (
    (accounts.tie_record("@a:s"), _TIES, (accounts.TALKED_TTL, 100.0)),
    (accounts.tie_record("@b%3a:s:@c"), _TIES, (accounts.TALKED_TTL,)),
    (keys.lifelong("@a:s", "dev1"), (keys.LIFE, keys.PALS), (_SESSION_TTL, 60.0)),
    (SIDED + "x", SIDES, (100.0, 200.0, 60.0, 500.0)),
    (GUEST + "x:s1", GUEST_SIDES, (200.0, 60.0)),
    (_HOST + "a", _HOST_SIDES, (100.0, 200.0, 300.0)),
    (_HOST + "b", _HOST_SIDES, (300.0,)),
)
_GUESTS = ("s1", "s\u00ff")  # guests of the host's record "a" (``test_review35c``)
_PLAIN = ("r36a-plain:one", "r36a-plain:two")  # plain sets: Redis's sorted-set path
_PEOPLE = ("p0", "p1", "@b:t", "@b%3at", "\u00ff", "", "x" * 300, "1.2.3.0", "p:1")
# Where a time's top bytes change (2**30 s, 2**31 s), an ordinary time, and near zero.
_STARTS = (2.0 ** 30 - 150.0, 2.0 ** 31 - 150.0, 2.0 ** 31 + 0.25, 1_700_000_000.0, 0.0, 0.5)
_WINDOWS = (0.0, 5e-324, 0.5, 10.0, 100.0, 199.999, 200.0, 1800.0, 1e12, math.inf,
            math.nan, -1.0, -math.inf)
# Windows whose sums with a time round (a tenth, 1800.7), and the sides' TTLs.
_ENDS = (0.1, 0.3, 1.1, 100.0, 200.0, 1800.0, 1800.7, 4_000.0)


def _guest_records() -> tuple[tuple[str, tuple[str, ...], tuple[float, ...]], ...]:
    return tuple((guest_key(HOST_GUEST, "a", s), HOST_GUEST_SIDES,
                  tuple(HOST_TTLS[side] for side in HOST_GUEST_SIDES)) for s in _GUESTS)


_ALL = (*_RECORDS, *_guest_records())


def _asks(rng: random.Random) -> list[tuple[str, float]]:
    return [(rng.choice(_PEOPLE), rng.choice(_WINDOWS)) for _ in range(3)]


def _differential(seed: int, tmp_path: Path, url: str, namespace: str, steps: int) -> int:
    """The log of the module's docstring, ``steps`` long: asserts every answer alike and
    returns how many answers were a time (not None), so a run that asked only the absent
    is seen as proving nothing."""
    rng = random.Random(seed)
    path = tmp_path / "s.db"
    memory, model = MemoryState(), MemoryState()
    on_disk, shared = SQLiteState(connect(path)), RedisState(url, namespace)
    now = swept = newest = rng.choice(_STARTS)
    times = 0
    touched: list[float] = []
    try:
        for step in range(steps):
            jump = rng.choice((0.0, 0.1, 0.3, 1.0, 7.0, 30.7, 90.0, 1e-6, -40.0)) * rng.choice(
                (1, 10))
            if rng.random() < 0.06:  # late, as far as an event may be
                jump = -rng.choice((MAX_LATENESS, 1800.0, 150.0))
            now = max(now + jump, swept, newest - MAX_LATENESS)
            newest = max(newest, now)
            writes: list[Write] = []
            plain: list[Write] = []
            roll = rng.random()
            if roll < 0.15:  # a plain set, as every backend keeps one
                key = rng.choice(_PLAIN)
                members = tuple(rng.sample(_PEOPLE, rng.choice((1, 2))))
                ttl, cap = rng.choice((100.0, 200.0, 1800.0)), rng.choice((1, 2, 10))
                writes, plain = [Touch(key, members, ttl, cap)], [Touch(key, members, ttl, cap)]
            elif roll < 0.93:
                key, sides, ttls = rng.choice(_ALL)
                side = rng.choice(sides)
                members = tuple(rng.sample(_PEOPLE, rng.choice((1, 1, 2, 3))))
                ttl = ttls[0] if rng.random() < 0.75 else rng.choice((*ttls, 100.5))
                cap = rng.choice((1, 2, 3, 10))
                writes = [Touch(key, members, ttl, cap, side)]
                plain = [Touch(f"plain:{key}/{side}", members, ttl, cap)]
            else:
                key, sides, _ = rng.choice(_ALL)
                writes, plain = [Delete(key)], [Delete(f"plain:{key}/{s}") for s in sides]
            if written(rng, (memory, on_disk, shared), model, writes, plain, now):
                swept = now
            on_disk, shared = renewed(rng, on_disk, shared, 0.05, path, url, namespace)
            later = now + rng.choice((0.0, 20.0, 99.0, 1e-6, -30.0, -1e-6))
            if rng.random() < 0.3:  # where a side ends, by its newest touch, and a ulp apart
                end = newest + rng.choice((100.0, 200.0, 300.0, 1800.0, 4_000.0, 8_000.0))
                later = rng.choice((end, math.nextafter(end, 0.0), math.nextafter(end, math.inf)))
            asks = _asks(rng)
            touched.append(now)
            if rng.random() < 0.35:  # a window's very end after a touch, and a ulp apart:
                # where ``now - window < ts`` and ``ts + window > now`` round apart
                t, w = rng.choice(touched[-12:]), rng.choice(_ENDS)
                later = rng.choice((t + w, math.nextafter(t + w, 0.0),
                                    math.nextafter(t + w, math.inf)))
                asks = [(m, w) for m, _ in asks]
            # Never before the last sweep: the engine sweeps ``MAX_LATENESS`` behind its clock
            # (``maintenance.sweep_horizon``), so no event reads earlier than a sweep; what
            # expired before it reads as gone wherever it was dropped, and as there where not.
            later = max(later, swept)
            for key, sides, _ in _ALL:
                for side in sides:
                    queries: list[Query] = [LastTouch(key, m, w, side) for m, w in asks]
                    twin = f"plain:{key}/{side}"
                    expected = model.read([LastTouch(twin, m, w) for m, w in asks], later)
                    times += sum(e is not None for e in expected)
                    for name, state in (("memory", memory), ("sqlite", on_disk),
                                        ("redis", shared)):
                        got = state.read(queries, later)
                        assert got == expected, (seed, step, name, key, side, asks,
                                                      now, later, got, expected)
            for key in _PLAIN:
                queries = [LastTouch(key, m, w) for m, w in asks]
                expected = model.read(queries, later)
                for name, state in (("memory", memory), ("sqlite", on_disk), ("redis", shared)):
                    assert state.read(queries, later) == expected, (seed, step, name, key)
    finally:
        on_disk.close()
        shared.close()
    return times


@pytest.mark.parametrize("seed", [36, 361, 362, 2038])
def test_last_touch_answers_alike_in_every_store_on_a_hostile_log(
        seed: int, tmp_path: Path, compact: str) -> None:
    """The differential of the module's docstring, one seed a run (seeds 36, 361, 362 and
    2038; ``_STARTS`` picks where each begins)."""
    assert _differential(seed, tmp_path, compact, f"review36a-{seed}:", 300) > 100


# -- 2. From the spammer's seat: who makes an account "heard" from a peer ---------------------

BACKENDS = ["memory", "sqlite", "redis"]
_WINDOW = TakeoverSettings().reply_window


def _heard_as_judged(judge: Engine) -> list[tuple[str, float | None]]:
    """What the takeover detector read of ``Plan.heard`` for each message it judged, as it
    judged it (the event's id and the answer), kept as the engine goes, on any store."""
    seen: list[tuple[str, float | None]] = []
    takeover = next(d for d in judge.detectors if isinstance(d, TakeoverDetector))
    writes = takeover.writes

    def keeping(ctx: Context, facts: Any, outcome: Any) -> Any:
        memo = takeover._plan(ctx)
        if memo is not None and memo.plan.heard is not None:
            seen.append((ctx.event.id, facts[memo.plan.heard]))
        return writes(ctx, facts, outcome)

    takeover.writes = keeping  # type: ignore[method-assign]
    return seen


@pytest.mark.parametrize("backend", BACKENDS)
def test_in_a_batch_a_reply_is_heard_only_after_the_message_it_answers(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """@r's link comes first in its batch and reads nothing from @v (@v had not written);
    in a later batch @v writes to @r and @r answers with a link: the answer reads @v's
    message (the engine's own touch of @r's ties, applied before the batch's next event),
    on every store. Fails if the ties' touches were held to the batch's end, or read
    before the batch's earlier events wrote (the retired key was an event's own write)."""
    judge = engine_on_store(backend, tmp_path, request)
    seen = _heard_as_judged(judge)
    cfg = judge.config
    asked = message(cfg, "v1", "@v:s", ["@r:s"], "are you there? send me the page", T0 + 5)
    answer = message(cfg, "r1", "@r:s", ["@v:s"], "here https://example.com/x", T0 + 10)
    later = message(cfg, "v2", "@v:s", ["@w:s"], "thanks, got it", T0 + 20)
    judge.process_batch([answer, later])
    judge.process_batch([asked, message(cfg, "r2", "@r:s", ["@v:s"],
                                        "here again https://example.com/x", T0 + 30)])
    # v1 is late (T0 + 5, after T0 + 20 was judged): it reads r1's later touch, a time
    # after its own, as the retired key's Get did (its value alive until T0 + 10 + window).
    assert seen == [("r1", None), ("v2", None), ("v1", T0 + 10), ("r2", T0 + 5)], seen
    judge.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fan_out_at_exactly_the_cap_makes_heard_and_one_past_it_does_not(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A delivered message to exactly ``MAX_TALKED_FANOUT`` people makes each "heard" from
    the sender; one delivered to one more moves no one's time (``test_heard36``'s fan-out
    case was blocked as well, so it could not tell). Both delivered: the sender lists them
    and they list it back."""
    judge = engine_on_store(backend, tmp_path, request)
    cfg, most = judge.config, accounts.MAX_TALKED_FANOUT
    people = [f"@p{i}:s" for i in range(most + 1)]
    judge.process(event(cfg, type="contacts", id="roster", ts=T0 - 20 * 86_400,
                        account="@b:t", contacts=people))
    for p in people:
        judge.process(event(cfg, type="contacts", id="c-" + p, ts=T0 - 20 * 86_400,
                            account=p, contacts=["@b:t"]))
    at_cap = judge.process(message(cfg, "x50", "@b:t", people[:most], "see you all at five", T0))
    past = judge.process(message(cfg, "x51", "@b:t", people, "see you all at six", T0 + 10))
    assert (at_cap.action, past.action) == ("deliver", "deliver")
    heard = [accounts.heard(p, "@b:t", _WINDOW) for p in (people[0], people[most - 1],
                                                         people[most])]
    assert judge.state.read(heard, T0 + 11) == [T0, T0, None]
    judge.close()


def _last_touches(state: Any, sided: bool, now: float) -> list[object]:
    """Every member's ``LastTouch`` of every former plain set (``test_sided_records``), as
    its side of the converted record or as the set itself, at windows either side of the
    times' spacing and at the window's very end."""
    from test_sided_records import _FORMER, _PEOPLE

    reads: list[Query] = []
    for owner in _PEOPLE:
        for side, former in _FORMER.items():
            key, name = ((accounts.tie_record(owner), side) if sided
                         else (former + owner, ""))
            reads += [LastTouch(key, m, w, name) for m in _PEOPLE
                      for w in (0.0, 5.0, 20.0, 60.0, 299.0, math.inf)]
    return list(state.read(reads, now))


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_last_touch_of_records_converted_from_plain_sets(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Plain sets as the release before sided records wrote them (``talked:``,
    ``tk:recip:``, ``tk:wrote:``; late touches, caps of three), converted when the store
    opens: each member's ``LastTouch`` of its side is the plain set's, at the last touch's
    time and later, whatever the window."""
    from conftest import forget_conversions
    from test_sided_records import _old_touches

    if backend == "sqlite":
        path = tmp_path / "old.db"

        def make() -> Any:
            return SQLiteState(connect(path))

        def forget() -> None:
            forget_conversions(path, "sided:%")
    else:
        import redis

        url, ns = request.getfixturevalue("redis_url"), request.getfixturevalue(
            "redis_namespace")
        raw = redis.Redis.from_url(url)

        def make() -> Any:
            return RedisState(url, ns)

        def forget() -> None:
            raw.delete(*raw.keys(f"{ns}state-key:member-hash:converted:ties:*"))
    model, old = MemoryState(), make()
    for now, touch in _old_touches():
        old.write([touch], now)
        model.write([touch], now)
    old.commit()
    old.close()
    forget()
    state = make()
    last = _old_touches()[-1][0]
    found = 0
    for now in (last, last + 5.0, last + 60.0, last + 200.0, last + 299.0):
        expected = _last_touches(model, False, now)
        assert _last_touches(state, True, now) == expected, now
        found += sum(e is not None for e in expected)
    assert found > 50
    state.close()


def test_an_account_is_never_heard_from_itself_nor_vouches_for_itself() -> None:
    """From the spammer's seat, the same account on both sides: notes to itself (each
    delivered) made the account "heard" from itself, so each next note was a reply (two
    make a session a conversing one, its burst halved: ``replies_trusted``) and the account
    a vouching correspondent of its own (one of ``trusted_correspondents``' three, the
    count that makes an account established without a month's age: a throwaway needed two
    socks, not three). Listing itself did the same through ``listed_back``. Now neither
    counts: no ``Plan.heard`` is asked of a note to itself, and the account is never on
    its own ``RECIPROCATED`` side. Fails on main: four notes put @v on its own side, and
    the three after the first were judged with @v heard from itself."""
    judge = open_engine(config())
    seen = _heard_as_judged(judge)
    cfg = judge.config
    judge.process(event(cfg, type="contacts", id="own", ts=T0 - 86_400, account="@v:s",
                        contacts=["@v:s", "@w:s"]))
    for i in range(4):
        assert judge.process(message(cfg, f"n{i}", "@v:s", ["@v:s"], f"note to self {i}",
                                     T0 + 60 * i)).action in RECEIVED
    judge.process(message(cfg, "both", "@v:s", ["@v:s", "@w:s"], "a note to us", T0 + 300))
    assert [answer for _, answer in seen] == [], seen
    assert judge.state.read([Members(keys.reciprocated("@v:s"), keys.RECIPROCATED)],
                            T0 + 301) == [()]
    # ... while others hear as before: @w heard from @v (the note to both), @v from @w.
    judge.process(message(cfg, "w1", "@w:s", ["@v:s"], "are you coming?", T0 + 400))
    judge.process(message(cfg, "v1", "@v:s", ["@w:s"], "yes, on my way", T0 + 460))
    assert seen == [("w1", T0 + 300), ("v1", T0 + 400)], seen
    judge.close()

"""The takeover detector reads its burst sets, its vouching correspondents and the contact
list's size only when its judgement reaches them (``Context.deferred``,
``base.read_more``), and answers as if it had read them with the rest: on every backend,
in batches of any size, with the effects of the batch's earlier events."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.config import Config
from spimguard.detectors.base import Context, Facts, Outcome
from spimguard.engine import Engine
from spimguard.errors import StateUnavailable
from spimguard.events import Event
from spimguard.state.ops import Query, Write

DAY = 86_400.0
HOME = {"id": "im-android", "ip": "198.51.100.20"}
HOSTING = {"id": "MobileFunster 2.1", "ip": "203.0.113.7"}
PROMO = "hey! I found cheap ringtones here http://cheap-tones.biz/r?u={i}"
FRIENDS = [f"friend{i}" for i in range(12)]


def life_then_attack(cfg: Config) -> list[Event]:
    """Ten days of an account younger than ``established_after`` (so whether it is
    established asks its vouching correspondents) chatting from home with four friends who
    list it back, then an intruder's sign-in, contact read and pitches to its dormant
    contacts, the owner's phone still chatting in between."""
    events: list[Event] = [event(cfg, type="contacts", id="c", ts=T0 - 10 * DAY,
                                 account="alice", contacts=FRIENDS)]
    events += [event(cfg, type="contacts", id=f"c-{f}", ts=T0 - 10 * DAY, account=f,
                     contacts=["alice"]) for f in FRIENDS[:4]]
    for day in range(10):
        ts = T0 - (10 - day) * DAY
        events.append(event(cfg, type="login", id=f"l{day}", ts=ts, account="alice",
                            session="phone", ip=HOME["ip"], client={"id": HOME["id"]}))
        events += [message(cfg, f"d{day}-{i}", "alice", [FRIENDS[(day + i) % 4]],
                           f"see you at {i + 5} tonight", ts + 60 + i, session="phone",
                           client=HOME) for i in range(3)]
    events += [event(cfg, type="login", id="evil-login", ts=T0, account="alice",
                     session="evil", ip=HOSTING["ip"], client={"id": HOSTING["id"]}),
               event(cfg, type="contacts_read", id="evil-read", ts=T0 + 5, account="alice",
                     session="evil", count=12)]
    for i in range(4, 12):
        events.append(message(cfg, f"spam{i}", "alice", [FRIENDS[i]], PROMO.format(i=i),
                              T0 + 10 + i * 3, session="evil", client=HOSTING))
        events.append(message(cfg, f"own{i}", "alice", [FRIENDS[i % 4]], "running late",
                              T0 + 11 + i * 3, session="phone", client=HOME))
    return events


def answers(engine: Engine, events: list[Event], batch: int) -> list[bytes]:
    return [msgspec.json.encode(r) for start in range(0, len(events), batch)
            for r in engine.process_batch(events[start:start + batch])]


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_burst_in_one_batch_answers_as_events_judged_one_by_one(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The burst a batch's pitches make is counted with the batch's earlier pitches, read
    when each pitch's judgement asks: the SQLite store holds them with the batch's keys,
    Redis reads them in the event's claim, memory answers them as asked."""
    storage: dict[str, Any] = {"backend": backend}
    if backend == "redis":
        storage.update(redis_url=request.getfixturevalue("redis_url"),
                       redis_namespace=request.getfixturevalue("redis_namespace"))
    cfg = config(official_clients=["im-android"], storage=storage,
                 records={"evidence_key": "test-evidence-key"})
    events = life_then_attack(cfg)
    alone = answers(open_engine(config(official_clients=["im-android"])), events, 1)
    batched = open_engine(cfg, tmp_path)
    loads: list[str] = []
    if backend == "sqlite":  # ... held with the batch's keys: no statement of their own
        batched.state._conn.set_trace_callback(loads.append)  # type: ignore[attr-defined]
    assert answers(batched, events, len(events)) == alone
    for table in ("kv", "counts", "members", "sided_sets", "hashed_sets"):
        assert sum(f"FROM {table} WHERE key IN" in s for s in loads) <= 1, table
    codes = [{s["code"] for s in msgspec.json.decode(r).get("signals", [])} for r in alone]
    assert any("ACCOUNT_HIJACK_BURST" in c for c in codes)  # the pitches burst ...
    assert any("FAMILIAR_SENDER" in c for c in codes)  # ... and the owner is known


class Watched:
    """The takeover detector, its reads during ``detect`` and ``writes`` watched."""

    def __init__(self, inner: Any, read: list[tuple[str, Sequence[Query]]]) -> None:
        self._inner, self._read = inner, read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def detect(self, ctx: Context, facts: Facts) -> Any:
        more = ctx.more
        if ctx.message is None:  # nothing of another event is deferred (``more`` is lent to
            assert not ctx.deferred  # every event: a bulk cluster's home is read through it)
            return self._inner.detect(ctx, facts)
        assert more is not None  # the engine reads what is deferred while detecting

        def watched(queries: Sequence[Query]) -> None:
            self._read.append((ctx.event.id, queries))
            more(queries)

        ctx.more = watched
        try:
            return self._inner.detect(ctx, facts)
        finally:  # the detectors after it (velocity's deferred reads) are not watched
            ctx.more = more

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        assert ctx.more is None  # no read once the verdict is known
        return self._inner.writes(ctx, facts, outcome)  # type: ignore[no-any-return]


def test_only_a_risky_sessions_message_reads_the_burst() -> None:
    """The owner's messages from home read none of the burst's sets, nor the contact
    list's size; the intruder's read them, with the account's vouching correspondents only
    while it is younger than ``established_after``."""
    cfg = config(official_clients=["im-android"])
    engine = open_engine(cfg)
    read: list[tuple[str, Sequence[Query]]] = []
    at = next(i for i, d in enumerate(engine.detectors) if d.name == "takeover")
    engine.detectors[at] = Watched(engine.detectors[at], read)
    answers(engine, life_then_attack(cfg), 500)
    keys = {}
    for event_id, queries in read:
        keys.setdefault(event_id, set()).update(q.key for q in queries)
    assert not any(k.startswith(("tk:to:", "tk:session:", "tk:doubted:", "contacts:"))
                   for e, found in keys.items() if e.startswith("own") for k in found)
    assert {"tk:to:alice:evil", "tk:doubted:alice", "contacts:alice"} <= keys["spam4"]
    # Established from its correspondents: asked of the owner's messages (its writes learn
    # from a vouched session), from the day its history could make it established.
    assert any("ties:alice" in found for e, found in keys.items() if e.startswith("own"))


def test_a_store_failing_a_deferred_read_fails_the_event_not_the_detector(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A read made during ``detect`` fails as the event's up-front read would: the batch
    is refused (the store's fail mode decides), not judged without the takeover detector's
    signals as if the detector had failed."""
    cfg = config(official_clients=["im-android"])
    engine = open_engine(cfg)
    read = engine.state.read

    def failing(queries: Sequence[Query], now: float) -> list[Any]:
        if any(q.key.startswith("tk:doubted:") for q in queries):  # read only when deferred
            raise StateUnavailable("the store went away mid-batch")
        return read(queries, now)

    monkeypatch.setattr(engine.state, "read", failing)
    with pytest.raises(StateUnavailable):
        answers(engine, life_then_attack(cfg), 500)

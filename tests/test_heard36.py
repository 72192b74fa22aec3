"""Session 36 (``heard36``): "the peer wrote to the account within ``reply_window``" is read
from the account's ties (``accounts.heard``: a ``LastTouch`` of the ``TALKED`` side), no
longer put under ``tk:heard:<account>:<peer>`` a recipient a delivered message. It answers
where that key's ``Get`` did, at the window's very edge and at any time, on every store;
only the peer's own delivered messages make the account "heard" from it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, engine_on_store, event, message
from spimguard import Engine, accounts, open_engine, text
from spimguard.db import connect
from spimguard.detectors.base import Context
from spimguard.detectors.takeover import TakeoverSettings, plan
from spimguard.events import RECEIVED
from spimguard.state.conformance import check_last_touch
from spimguard.state.memory import MemoryState
from spimguard.state.ops import MAX_LATENESS, Get, LastTouch, Put, Write
from spimguard.state.sqlite import SQLiteState

WINDOW = TakeoverSettings().reply_window
BACKENDS = ["memory", "sqlite", "redis"]


def _heard(judge: Engine, account: str, peer: str) -> LastTouch:
    """What the takeover detector's plan reads of a message from ``account`` to ``peer``
    alone: when the peer last wrote to it."""
    probe = message(judge.config, "probe", account, [peer], "see you at five", T0,
                    session="phone")
    found = plan.plan(TakeoverSettings(), Context(probe, view=text.view(probe.text)))
    assert found is not None and found.heard is not None
    return found.heard


def _writes_of(judge: Engine) -> list[Write]:
    """Every write the engine applies from now on, kept as it goes to the store."""
    kept: list[Write] = []
    write = judge.state.write

    def keeping(writes: Any, now: float) -> None:
        kept.extend(writes)
        write(writes, now)

    judge.state.write = keeping  # type: ignore[method-assign]
    return kept


def test_last_touch_answers_at_the_edges_as_a_put_did_memory() -> None:
    check_last_touch(MemoryState())


def test_last_touch_answers_at_the_edges_as_a_put_did_sqlite(tmp_path: Path) -> None:
    check_last_touch(SQLiteState(connect(tmp_path / "s.db")))


def test_last_touch_answers_at_the_edges_as_a_put_did_redis(redis_url: str,
                                                           redis_namespace: str) -> None:
    from spimguard.state.redis import RedisState

    check_last_touch(RedisState(redis_url, redis_namespace))


@pytest.mark.parametrize("backend", BACKENDS)
def test_heard_is_read_from_the_ties_where_the_key_answered(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """@b's delivered message to @a at a time with a fraction: the plan of @a's message to
    @b reads its time up to the window's end and nothing from then on, exactly where a value
    put then with the window as its TTL (the retired key) answers, read from the same
    store; @a is heard from nobody else, and @b from nobody."""
    judge = engine_on_store(backend, tmp_path, request)
    sent = T0 + 0.3
    verdict = judge.process(message(judge.config, "b1", "@b:s", ["@a:s"], "see you at five",
                                    sent))
    assert verdict.action in RECEIVED
    heard = _heard(judge, "@a:s", "@b:s")
    assert heard == LastTouch(accounts.tie_record("@a:s"), "@b:s", WINDOW, accounts.TALKED)
    judge.state.write([Put("retired-form", sent, WINDOW)], sent)
    for now in (sent, sent + WINDOW - 1, math.nextafter(sent + WINDOW, 0.0), sent + WINDOW,
                sent + WINDOW + 1):
        found, key = judge.state.read([heard, Get("retired-form")], now)
        assert found == key == (sent if now < sent + WINDOW else None), now
    assert judge.state.read([_heard(judge, "@a:s", "@c:s"), _heard(judge, "@b:s", "@a:s")],
                            sent + 1) == [None, None]
    judge.close()


def test_a_delivered_message_puts_no_heard_key() -> None:
    """No ``tk:heard:`` key is written (one put a recipient a delivered message, session 35),
    and the fact is the recipients' ties' touch, written all the same."""
    judge = open_engine(config())
    kept = _writes_of(judge)
    verdict = judge.process(message(judge.config, "b1", "@b:s", ["@a:s", "@c:s"],
                                    "see you at five", T0))
    assert verdict.action in RECEIVED
    assert [w.key for w in kept if w.key.startswith("tk:heard:")] == []
    assert judge.state.read([_heard(judge, "@a:s", "@b:s"), _heard(judge, "@c:s", "@b:s"),
                             Get("tk:heard:@a:s:@b%3As")], T0 + 1) == [T0, T0, None]


def test_a_late_message_moves_last_wrote_no_earlier() -> None:
    """"The peer last wrote" is its latest message: one judged late (older than the one
    before it, within ``ops.MAX_LATENESS``) left the retired key at its own time, its
    reply window ending before the later message's did; the ties keep the later time."""
    judge = open_engine(config())
    judge.process(message(judge.config, "b1", "@b:s", ["@a:s"], "see you at five", T0 + 100))
    judge.process(message(judge.config, "b0", "@b:s", ["@a:s"], "on my way", T0 + 50))
    heard = _heard(judge, "@a:s", "@b:s")
    assert judge.state.read([heard], T0 + 50 + WINDOW)[0] == T0 + 100
    assert judge.state.read([heard], T0 + 100 + WINDOW)[0] is None
    assert MAX_LATENESS > 50


def test_a_leftover_heard_key_excuses_nothing() -> None:
    """A ``tk:heard:`` key a node of before put (or one an attacker wrote into the store's
    old keyspace) is never read: @a is heard from @b only by @b's own messages. It expires
    within ``reply_window`` and a sweep drops it."""
    judge = open_engine(config())
    judge.state.write([Put("tk:heard:@a:s:@b%3As", T0, WINDOW)], T0)
    assert judge.state.read([_heard(judge, "@a:s", "@b:s")], T0 + 1) == [None]
    judge.state.sweep(T0 + WINDOW + MAX_LATENESS + 1)
    assert judge.state.read([Get("tk:heard:@a:s:@b%3As")], T0 + 1) == [None]


def test_only_the_peers_own_messages_make_the_account_heard_from_it() -> None:
    """What could forge "@a heard from @b": ids joined in a key (``t`` writing to
    ``@a:s:@b`` was ``@a:s`` hearing from ``@b:t`` before session 23's escaping; the ties
    join nothing: a record an account, its members names as they are), an invitation, a
    message to more than ``MAX_TALKED_FANOUT`` people, or @a's own message to @b. None
    does."""
    judge = open_engine(config())
    sends = [("x1", "t", ["@a:s:@b"]), ("x2", "@b:t", ["@a:s:@b"]),
             ("x3", "@a:s", ["@b:t"]),
             ("x4", "@b:t", ["@a:s", *(f"@p{i}:s" for i in range(accounts.MAX_TALKED_FANOUT))])]
    # (x4 is blocked as well: a fan-out to strangers.)
    for id_, sender, to in sends:
        judge.process(message(judge.config, id_, sender, to, "see you at five", T0))
    judge.process(event(judge.config, type="invite", id="x5", sender="@b:t",
                        recipients=["@a:s"], ts=T0, conversation="!room:s"))
    assert judge.state.read([_heard(judge, "@a:s", "@b:t")], T0 + 1) == [None]
    judge.process(message(judge.config, "x6", "@b:t", ["@a:s"], "see you at five", T0 + 2))
    assert judge.state.read([_heard(judge, "@a:s", "@b:t")], T0 + 3) == [T0 + 2]

"""Review (session 32, ``review32a``) of ``pool32``: an answer to cold outreach counts once,
when first given (``velocity._answers``: the answerer's membership in the cold writer's
``vel:answered:`` set is read with its correspondents). Read from the spammer's seat; the
numbers are strangers reached (delivered or warned), on main c70371f and on 892a476 (before
``pool32``). The attacks are judged with content, bulk and reputation off (the rule alone),
the innocents with every detector on (``test_cold_outreach``'s conventions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.engine import Engine
from test_cold_outreach import (
    HOUR,
    OFFERS,
    RULE_ALONE,
    _on,
    held,
    organiser,
)

BOTS = tuple(f"bot{b}" for b in range(4))
SOCKS = tuple(f"sock{s}" for s in range(20))


def _pool(engine: Engine) -> float:
    """Four bots and 20 socks, first seen at T0, nobody but the bots writing to the socks:
    the time two days and an hour later (all past ``new_account_age``)."""
    for a in (*BOTS, *SOCKS):
        engine.process(event(engine.config, type="contacts", id=f"c-{a}", ts=T0, account=a,
                             contacts=[]))
    return T0 + 49 * HOUR


def _reached(out: list[Any], who: list[int]) -> list[int]:
    reached = [0] * len(BOTS)
    for k, v in zip(who, out, strict=True):
        reached[k] += not held(v)
    return reached


# -- the change holds in a batch, on every backend -----------------------------------------

def _pool_in_one_batch(engine: Engine, batch: bool) -> list[int]:
    """review31a's pool as one log: each bot's "hi" to each sock and each sock's answer,
    each sock's "ok" to each bot 25 h later, then each bot's 40 strangers a minute apart.
    ``batch``: the whole log is one ``process_batch`` (a replay, or a server catching up),
    so the "ok"s read the ``vel:answered:`` sets the same batch's answers wrote."""
    t, log = _pool(engine), []
    for s in SOCKS:
        for b in BOTS:
            log.append(message(engine.config, f"w{s}{b}", b, [s], "hi", t))
            t += 1
        for b in BOTS:
            log.append(message(engine.config, f"a{s}{b}", s, [b], "hello", t))
            t += 1
    t += 25 * HOUR
    for s in SOCKS:
        for b in BOTS:
            log.append(message(engine.config, f"r{s}{b}", s, [b], "ok", t))
            t += 1
    who = [k for _ in range(40) for k in range(len(BOTS))]
    log += [message(engine.config, f"m{i}-{b}", b, [f"t{b}-{i}"], OFFERS[i % 3], t + 60 * i)
            for i in range(40) for b in BOTS]
    out = (list(engine.process_batch(log)) if batch
           else [engine.process(e) for e in log])
    return _reached(out[-len(who):], who)


@pytest.mark.parametrize("batch", [False, True], ids=["event-by-event", "one-batch"])
@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_sock_pools_answers_count_once_in_a_batch_on_every_backend(
        backend: str, batch: bool, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The first answers, the next morning's "ok"s and the pitches in one batch: a later
    event's ``Contains`` of ``vel:answered:`` sees the batch's earlier touches (SQLite from
    its held copy, Redis with the rest), so an "ok" is no second answer on any backend,
    event by event or batched. Each bot reaches 9 of 40 (as with no socks); on 892a476 40
    of 40, every backend, either way (the "ok"s renewed each answer into the day)."""
    engine = (open_engine(config(detectors=RULE_ALONE)) if backend == "memory"
              else _on(backend, tmp_path, request))
    assert _pool_in_one_batch(engine, batch) == [9] * len(BOTS)


# -- what is still let through ---------------------------------------------------------------

def _pool_answering_the_pitch_day(before: int) -> list[int]:
    """Each bot writes "hi" to ``before`` of the socks the day before it pitches (under the
    day's bar, and under the week's: the socks say nothing yet); on the pitch day those
    socks answer, the bots write to the other socks, which answer at once, and each bot
    writes to 40 strangers a minute apart."""
    e = open_engine(config(detectors=RULE_ALONE))
    t = _pool(e)
    for s in SOCKS[:before]:
        for b in BOTS:
            assert not held(e.process(message(e.config, f"w{s}{b}", b, [s], "hi", t)))
            t += 1
    t += 25 * HOUR
    for s in SOCKS[:before]:
        for b in BOTS:
            e.process(message(e.config, f"a{s}{b}", s, [b], "hello", t))
            t += 1
    for s in SOCKS[before:]:
        for b in BOTS:
            assert not held(e.process(message(e.config, f"w{s}{b}", b, [s], "hi", t)))
            t += 1
        for b in BOTS:
            e.process(message(e.config, f"a{s}{b}", s, [b], "hello", t))
            t += 1
    who = [k for _ in range(40) for k in range(len(BOTS))]
    out = [e.process(message(e.config, f"m{i}-{b}", b, [f"t{b}-{i}"], OFFERS[i % 3],
                             t + 60 * i)) for i in range(40) for b in BOTS]
    return _reached(out, who)


@pytest.mark.xfail(strict=True, reason=(
    "open (review32a): the day's rule counts an answer in the day it is given, the cold "
    "message it answers in the day that was written. Bots that write 'hi' to 9 socks the "
    "day before they pitch (9: under the day's bar and the week's), the socks answering on "
    "the pitch day, and 11 socks written to and answering that day: each bot reaches 29 of "
    "40 strangers (20 with all 20 socks the same hour; 25 with 5 the day before; 9 with no "
    "socks), on main c70371f and on 892a476 alike. Yesterday's 9 socks are 9 answerers "
    "today and none of today's strangers. Once per (bot, sock), as the pool's door: the "
    "next day's 9 deferred socks are that day's strangers. Closing it counts an answer in "
    "its cold message's day (an answered set dated by the cold message, or a join of the "
    "day's strangers with the answerers): a read no backend makes yet, and a shop's "
    "customers answering 30 h late would offset no day of theirs"))
def test_a_sock_pool_answering_on_the_pitch_day_cold_messages_of_the_day_before() -> None:
    assert max(_pool_answering_the_pitch_day(9)) <= 20


# -- the price, over the week ----------------------------------------------------------------

@pytest.mark.xfail(strict=True, reason=(
    "cost (pool32), over a week: an established organiser writes to 6 people on one day, 5 "
    "answer and every answerer writes to it each morning after; then 14 a day, 3 of them "
    "answering each day. pool32's xfail (two days) says 12 of 14 on the second day; the "
    "rest of the week is 0 of 14 a day: the day's held messages are strangers of the "
    "rolling day too (counted whatever the verdict) and a held message is never answered, "
    "so the next morning's first stranger is held and every one after it. Main c70371f: "
    "6/6, 12/14, then 0/14 five days, 18 of 90 after the first day; 892a476: 90 of 90 (the "
    "friends' mornings were the day's answers). The same organiser whose first day is "
    "14 with 3 answering was held alike on both (12/14, then 0/14). 12 a day with 4 "
    "answering, or 14 with 5: never held, either. Session 33 (outreach33, "
    "cold_forgiven): the day's withheld strangers, up to ten, are forgiven the day, so "
    "one hold is a day's: 6/6, then 12/14 each of the six days, 72 of 84 after the first "
    "day; what is left is the day's bar itself (13 strangers past 3 answers)"))
def test_an_organiser_whose_new_friends_keep_writing_over_a_week() -> None:
    assert not any(held(v) for v in organiser(((6, 5), *((14, 3),) * 6)))

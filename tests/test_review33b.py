"""Session 33's review of ``outreach33`` (``review33b``): whom the withheld set forgives.

``outreach33`` forgave up to ``cold_forgiven`` (10) of the day's withheld strangers
(``vel:withheld:``, the strangers of a cold message that was held or blocked): nobody can
answer a message they never saw. But the set kept a stranger the account reached after
its held message (a message to ten at once, held; then one to each, delivered: all ten
forgiven, 19 of 19 a day), and took in a stranger it had reached before (nine reached,
then a second message to each held for its words: nine forgiven, nine more reached, 18 a
day). The set now holds the strangers who never heard from the account: a held message
withholds only its unheard strangers (new to its one-to-one set, or withheld), and a
received one takes its withheld ones out. Numbers are distinct strangers reached a day;
base is 08e8778 (before ``outreach33``), main cfcd212 (after).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import config, message
from spimguard import open_engine
from spimguard.engine import Engine
from test_cold_outreach import DAY, HOUR, OFFERS, RULE_ALONE, _on, established, held, lived, send

# A day and two hours: each day's messages out of the day before's window
NEXT = DAY + 2 * HOUR
SPAM = "Claim your free prize now! Click https://bit.ly/win-cash-now to get $500 gift card today"
HI = ("hi, we met at the meetup last week, are you still looking for a flatmate?",
      "hey! saw your post about the bike, is it still for sale?",
      "hello, your cousin gave me your number, about the sofa you're selling")


def _pool(engine: Engine, socks: int) -> float:
    """An aged bot that writes to ``socks`` people of their own (aged, with friends), each
    answering it at once: a week's answers to cover 4 old strangers each (the week's
    quarter). Its first day's start."""
    for s in range(socks):
        lived(engine, f"sock{s}")
    t = established(engine, "bot")
    for s in range(socks):
        send(engine, f"s{s}", "bot", f"sock{s}", t + HOUR + 60 * s, text="hi there")
        engine.process(message(engine.config, f"a{s}", f"sock{s}", ["bot"], "hey, who is this?",
                               t + HOUR + 60 * s + 30))
    return t + HOUR + NEXT


def _held_then_resent(engine: Engine, days: int, batch: int = 1) -> list[int]:
    """The pooled bot, each day: one message to ten new strangers at once (held: ten in
    the day), then one to each of them, then nine new ones, ``batch`` messages a batch.
    Distinct strangers reached a day."""
    start, out = _pool(engine, 20), []
    for d in range(days):
        ts, k = start + d * NEXT, 19 * d
        group = [f"t{k + j}" for j in range(10)]
        events = [message(engine.config, f"g{d}", "bot", group, OFFERS[d % 3], ts),
                  *(message(engine.config, f"r{d}-{p}", "bot", [p], OFFERS[j % 3],
                            ts + 60 * (j + 1)) for j, p in enumerate(group)),
                  *(message(engine.config, f"n{d}-{j}", "bot", [f"t{k + 10 + j}"],
                            OFFERS[j % 3], ts + 60 * (j + 11)) for j in range(9))]
        reached: set[str] = set()
        for i in range(0, len(events), batch):
            for e, v in zip(events[i:i + batch], engine.process_batch(events[i:i + batch]),
                            strict=True):
                if not held(v):
                    reached.update(e.recipients)
        out.append(len(reached))
    return out


def test_a_stranger_reached_after_a_hold_is_no_longer_forgiven() -> None:
    """The bot with a week's answers (20 socks): on main a held message to ten left ten
    withheld strangers, and each stranger's delivered message after kept it there, forgiven
    the day though reached: 19 of 19 a day (57 in three days). Base 0 a day (the held ten
    counted in the day); here the withheld set loses each stranger reached, and the day
    holds at the tenth: 9 a day, as the bot's nine a day with no hold."""
    assert _held_then_resent(open_engine(config(detectors=RULE_ALONE)), 3) == [9, 9, 9]


def _reheld(socks: int, days: int) -> list[int]:
    """An aged bot, every detector on: each day nine strangers reached with a plain
    message, then a second, held for its words (a prize and a shortened link), to each of
    them, then nine new strangers written plainly. Distinct strangers reached a day."""
    e = open_engine(config())
    start, out, k = _pool(e, socks), [], 0
    for d in range(days):
        ts, reached = start + d * NEXT, set()
        first = [f"t{k + j}" for j in range(9)]
        for j, p in enumerate(first):
            reached |= {p} if not held(send(e, f"h{p}", "bot", p, ts, text=HI[j % 3])) else set()
            ts += 300
        for p in first:
            assert held(send(e, f"x{p}", "bot", p, ts, text=SPAM))
            ts += 300
        for j in range(9):
            p = f"t{k + 9 + j}"
            reached |= {p} if not held(send(e, f"n{p}", "bot", p, ts, text=HI[j % 3])) else set()
            ts += 300
        out.append(len(reached))
        k += 18
    return out


def test_a_held_message_to_a_stranger_reached_before_withholds_nobody() -> None:
    """Nine strangers reached, then a second message to each held for its content: on main
    the nine were withheld and forgiven, and the bot reached nine more, 18 in the day (with
    a week's answers, 18 a day for three days, 63 in five). They had heard from it: here,
    and on base, they stay the day's, 9 (36 in five with the answers; 9 with none: the
    week's rule holds from the next day)."""
    assert _reheld(socks=0, days=1) == [9]


@pytest.mark.xfail(strict=True, reason=(
    "cost (review33b, the same on base and main): holds by other detectors withhold "
    "strangers too, and those the day forgives are the week's old at once. An organiser "
    "(14 people a day, 4 answering within 15 minutes) whose first day's first ten "
    "messages carry a prize text with a shortened link (held: CONTENT_SPAM, LINK_SHORTENER) "
    "reaches 0 of 14 that day (the week's rule: ten old strangers, none answered: nobody "
    "could) and 0 of 14 each of the next four days (the first day's 14 are old, none "
    "answered, and each day's first four, who would answer, are held before they can): "
    "0 of 70, base 0 and main 0; 6 held of "
    "14, 60 of 70 on main and here. Telling a content hold's strangers from a bot's "
    "writing on is the hold's reason in the withheld set, which it does not keep"))
def test_an_organiser_whose_links_were_held_is_held_for_the_week() -> None:
    e = open_engine(config())
    for k in range(70):
        lived(e, f"p{k}")
    t, out = established(e, "org"), []
    for k in range(70):
        d, i = divmod(k, 14)
        ts = t + d * DAY + HOUR + i * 1800
        text = SPAM if d == 0 and i < 10 else ("hi, I run the Thursday climbing group, want "
                                                "to join us?")
        out.append(e.process(message(e.config, f"m{k}", "org", [f"p{k}"], text, ts)))
        if i < 4 and not held(out[-1]):
            e.process(message(e.config, f"a{k}", f"p{k}", ["org"], "sounds fun!", ts + 900))
    assert sum(not held(v) for v in out[14:]) >= 40


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_reached_strangers_leave_the_withheld_set_alike_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The held message to ten and the messages to each after, in batches of three
    (the group and two of its strangers in one): a received message takes its strangers
    out of the withheld set (a ``Remove``), read with the day's set; on SQLite and Redis as
    the memory backend judges (main: 19 a day on every backend)."""
    mine: list[Any] = _held_then_resent(open_engine(config(detectors=RULE_ALONE)), 2, batch=3)
    assert mine == [9, 9]
    assert _held_then_resent(_on(backend, tmp_path, request), 2, batch=3) == mine

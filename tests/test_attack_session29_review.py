"""Red team, session 29 (``review``): the session's merges attacked.

``quality`` added NEW_ACCOUNT_DIRECT (``detectors/velocity.py``): a days-old account writing
one to one in the clear to ``new_account_direct_strangers`` (5) strangers in the hour is
held, link or not. Its innocents are newcomers writing to friends, answering people, and
greeting rooms; its spammer reads the rule and stays under it. The mend here (the rule counts
the strangers written to one to one, not the members a room post reached) fails on main
(94bfefc); what stays open is a strict xfail with its numbers (``docs/red-team-log.md``,
session 29, ``review``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.engine import Engine

HOUR = 3600

# What a newcomer writes to people it knows (English chat the bundled model lets through).
HELLOS = ("hey it's me, finally on here", "hi! saved your number :)", "hello hello",
          "yo, guess who joined", "hi, this is my account now", "hey, you around later?",
          "morning! it's Sam", "hi there, it's me")

# Pitches the content model never trained on (the talyguryn set's kind, no link): the
# attacks are judged with content, bulk and reputation off, as the rule alone judges them
# (a spammer who reads the code varies its words past bulk and writes what the model
# never saw; ``test_velocity.py`` judges the rule so too).
OFFERS = ("Нужны люди на пару часов, оплата 3000 сразу, пиши в личку",
          "Есть тема на удалёнке, доход от 2000 в день, подробности в лс",
          "Ищу партнёров для сотрудничества, всё расскажу, напиши мне")
RULE_ALONE = {"content": {"enabled": False}, "bulk": {"enabled": False},
              "reputation": {"enabled": False}}


def held(verdict: Any) -> bool:
    return verdict.action in ("hold", "block")


def codes(verdict: Any) -> set[str]:
    return {s.code for s in verdict.signals}


def room_of(engine: Engine, size: int) -> list[str]:
    """A community room of ``size`` members a month old (``room`` event), "new" joining it
    now: its members, "new" last."""
    members = [f"u{i}" for i in range(size)]
    engine.process(event(engine.config, type="room", id="club", ts=T0 - 30 * 86_400,
                         account="u0", conversation="club", members=members))
    engine.process(event(engine.config, type="room", id="join", ts=T0, account="new",
                         conversation="club", members=["new"]))
    return [*members, "new"]


def post(engine: Engine, id: str, sender: str, members: list[str], text: str,
         ts: float) -> Any:
    return engine.process(message(engine.config, id, sender,
                                  [m for m in members if m != sender], text, ts,
                                  conversation="club"))


# -- (a) innocents: the mend -----------------------------------------------------------

@pytest.mark.parametrize("size", [30, 200])
def test_a_newcomer_greeting_a_room_then_thanking_a_member_one_to_one_is_not_held(
        size: int) -> None:
    """A newcomer greets the room, a member welcomes it there, and it thanks the member one
    to one: one chat opened. On main the greeting's members (by name, 64 of a room past 50)
    stood among the hour's strangers and made the thank-you the "fifth" one-to-one
    stranger: blocked (NEW_ACCOUNT_DIRECT 8 + velocity 6). The rule's own principle is
    that a room greeting is one post and a pitch goes one by one: it counts the strangers
    written to one to one (``vel:direct:``), the greeting's members never."""
    e = open_engine(config())
    members = room_of(e, size)
    post(e, "hello", "new", members, "hi all, new here 👋", T0 + 5)
    post(e, "welcome", "u3", members, "welcome!", T0 + 30)
    thanks = e.process(message(e.config, "thanks", "new", ["u3"], "thanks for the welcome!",
                               T0 + 60))
    assert not held(thanks) and "NEW_ACCOUNT_DIRECT" not in codes(thanks), thanks


def test_a_room_greeting_does_not_buy_one_to_one_strangers() -> None:
    """The mend's other side: a days-old account that posts into a room of strangers and
    then writes one to one to strangers is held from the fifth of those, as without the
    post: the post buys it nothing (its members count for velocity's evidence). On main
    every one of them was held, from the first (the post's 64 members counted)."""
    e = open_engine(config(detectors=RULE_ALONE))
    members = [f"u{i}" for i in range(200)]
    e.process(message(e.config, "hello", "bot", members, "hi all", T0, conversation="club"))
    out = [e.process(message(e.config, f"m{i}", "bot", [f"t{i}"], OFFERS[i % 3],
                             T0 + 60 + 20 * i)) for i in range(8)]
    assert [held(v) for v in out] == [False] * 4 + [True] * 4
    assert "NEW_ACCOUNT_DIRECT" in codes(out[4])


# -- (a) innocents that pass on main (guards) -----------------------------------------

def test_a_newcomer_writing_to_friends_who_wrote_first_is_not_held() -> None:
    """Guard: friends who wrote to the newcomer first are its correspondents, however many
    it answers in its first hour (a mutation that counts correspondents fails it)."""
    e = open_engine(config())
    friends = [f"f{i}" for i in range(8)]
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="new", contacts=friends))
    for i, friend in enumerate(friends):
        e.process(message(e.config, f"w{i}", friend, ["new"], "welcome!! 🎉", T0 + 10 + i))
    out = [e.process(message(e.config, f"m{i}", "new", [friend], HELLOS[i], T0 + 60 + 120 * i))
           for i, friend in enumerate(friends)]
    assert not any(held(v) for v in out) and not any(codes(v) for v in out)


def test_a_new_support_account_answering_customers_who_wrote_first_is_not_held() -> None:
    e = open_engine(config())
    for i in range(20):
        e.process(message(e.config, f"q{i}", f"cust{i}", ["shop"],
                          "hi, my order hasn't arrived yet", T0 + 30 * i))
    out = [e.process(message(e.config, f"a{i}", "shop", [f"cust{i}"],
                             "Sorry about that! it ships today, tracking to follow",
                             T0 + 700 + 30 * i)) for i in range(20)]
    assert not any(held(v) for v in out) and "NEW_ACCOUNT_DIRECT" not in {
        c for v in out for c in codes(v)}


def test_a_newcomer_answering_the_posters_of_a_small_room_is_not_held() -> None:
    """A room of at most 50 (``accounts.MAX_TALKED_FANOUT``): a member's post to it makes
    the poster a correspondent of each member, the newcomer too."""
    e = open_engine(config())
    members = room_of(e, 30)
    for i in range(8):
        post(e, f"p{i}", f"u{i}", members, "anyone know a good bike shop?", T0 + 10 + i)
    out = [e.process(message(e.config, f"m{i}", "new", [f"u{i}"], "try the one on main st",
                             T0 + 60 + 120 * i)) for i in range(8)]
    assert not any(held(v) for v in out)


# -- (a) innocents left held ------------------------------------------------------------

@pytest.mark.xfail(strict=True, reason=(
    "open: a newcomer on a phone-book platform writing to a sixth friend it lists, in its "
    "first day, before any of them lists it back (the platform learns their phone books at "
    "their next sync): held (score ~10-11), each later one too; the first five pass "
    "(UNVOUCHED_ALLOWANCE). At that moment only the sender's own list speaks for the tie, "
    "which a bot writes too: letting a list vouch reopens the rule to a bot at the cost of "
    "one contacts event. The shape is also the 'hi mum, new number' scam's"))
def test_a_phone_book_newcomer_writing_to_eight_friends_in_its_first_hour() -> None:
    e = open_engine(config())
    friends = [f"f{i}" for i in range(10)]
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="new", contacts=friends))
    out = [e.process(message(e.config, f"m{i}", "new", [friends[i]], HELLOS[i],
                             T0 + 60 + 120 * i)) for i in range(8)]
    assert not any(held(v) for v in out)


@pytest.mark.xfail(strict=True, reason=(
    "open: in a room of more than 50 (MAX_TALKED_FANOUT) a post makes no correspondents, so a "
    "newcomer answering its posters one to one holds from the fifth in the hour (score "
    "~11): the shape of a bot that joins public groups and writes to their members, told "
    "apart only by a reply's thread, which no event carries"))
def test_a_newcomer_answering_five_posters_of_a_big_room_one_to_one() -> None:
    e = open_engine(config())
    members = room_of(e, 200)
    for i in range(8):
        post(e, f"p{i}", f"u{i}", members, "anyone know a good bike shop?", T0 + 10 + i)
    out = [e.process(message(e.config, f"m{i}", "new", [f"u{i}"], "try the one on main st",
                             T0 + 60 + 120 * i)) for i in range(8)]
    assert not any(held(v) for v in out)


# -- (b) the spammer who reads the rule ------------------------------------------------

def bot_run(engine: Engine, hours: int, per_hour: int, start: float = T0,
            sender: str = "bot") -> list[Any]:
    out, n = [], 0
    for h in range(hours):
        for k in range(per_hour):
            out.append(engine.process(message(engine.config, f"{sender}-{n}", sender,
                                              [f"{sender}-t{n}"], OFFERS[n % 3],
                                              start + h * HOUR + k * 60)))
            n += 1
    return out


def test_socks_that_wrote_to_the_bot_buy_it_no_stranger() -> None:
    """Socks vouch only for themselves one to one: a bot three socks wrote to is held from
    its fifth target in the hour, as one none wrote to (fails on bc3862e: all delivered)."""
    e = open_engine(config(detectors=RULE_ALONE))
    for s in range(3):
        e.process(message(e.config, f"s{s}", f"sock{s}", ["bot"], "hi", T0 + s))
    out = bot_run(e, 1, 10, T0 + 60)
    assert [held(v) for v in out] == [False] * 4 + [True] * 6


@pytest.mark.xfail(strict=True, reason=(
    "open: four strangers an hour stay under the bar: 96 a day, 192 a bot in its first 48 h, "
    "all delivered (NEW_ACCOUNT_STRANGERS 3 points x youth, under warn); after 48 h the bot "
    "is no newcomer. Counting a newcomer's strangers over its youth would hold the "
    "marketplace newcomer writing to five sellers in two days"))
def test_four_strangers_an_hour_for_two_days() -> None:
    out = bot_run(open_engine(config(detectors=RULE_ALONE)), 48, 4)
    assert Counter(v.action for v in out)["deliver"] < 10


@pytest.mark.xfail(strict=True, reason=(
    "open: an account aged past new_account_age (48 h) before use, one event to be first "
    "seen (no 'account' event with its creation time from the server): 40 strangers in "
    "an hour, all delivered with the rule alone (velocity's group is capped at 6: warn at "
    "most). Cost: two days of stock per account"))
def test_an_account_aged_two_days_before_use() -> None:
    e = open_engine(config(detectors=RULE_ALONE))
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="bot", contacts=[]))
    out = bot_run(e, 1, 40, T0 + 49 * HOUR)
    assert sum(held(v) for v in out) >= 30


@pytest.mark.xfail(strict=True, reason=(
    "open: a conversation of two recipients is a room (accounts.in_room) whether or not the "
    "server stated it, and a room post is never NEW_ACCOUNT_DIRECT: a bot naming a fresh "
    "conversation for each pair of targets reached 60 strangers in 30 minutes, none "
    "held (24 warned). Closing it by rooms.py's principle (an unstated conversation is the "
    "client's claim) holds a newcomer's greeting on a platform that states no rooms"))
def test_pairs_of_targets_in_conversations_of_the_bots_own_naming() -> None:
    e = open_engine(config(detectors=RULE_ALONE))
    out = [e.process(message(e.config, f"m{i}", "bot", [f"t{2 * i}", f"t{2 * i + 1}"],
                             OFFERS[i % 3], T0 + 60 * i, conversation=f"g{i}"))
           for i in range(30)]
    assert sum(held(v) for v in out) >= 25

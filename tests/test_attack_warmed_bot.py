"""Red team: a throwaway that vouches for itself (session 11).

A bot lists its targets in its own contact list (a list is the account's own claim: on most
IM platforms anyone may add anyone to their own roster) and, for a day, trades 22 bland lines
with one sock of its own from its own app and network. That makes it "established" (a clean
history of ``trusted_messages`` over ``familiar_after``) and its session the owner's habit
(``FAMILIAR_SENDER``: usual app, usual network, to "its contacts"), so the policy takes four
points off and bounds what the words and the volume say to a warning; and its targets, being
on its own list, are no strangers to the velocity detector. The same pitch from a bot that
did not warm up is blocked.

The rule these tests hold the code to: evidence that a session is the owner's, and that a
recipient is no stranger, rests on what the sender cannot manufacture alone: recipients who
list it back or wrote to it, and a history with people who are not its own ring. A
recipient only the sender lists is *unvouched* (``accounts.Standing``): it earns no trust,
and it is no stranger either while the sender writes to a handful of such people (a new
user's friends have mostly not added it yet: review F2); a list worked through is.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import accounts, open_engine
from spimguard.engine import Engine

PITCH = "hey {n}! Ringtones for your phone, new hits every week at tones-shop.com, only $1"
TARGETS = [f"target{i}" for i in range(30)]
BOT_APP = {"id": "botapp", "ip": "203.0.113.8"}


def warmed_bot() -> tuple[Engine, float]:
    """The bot, 26 hours after its first line, its own list naming every target."""
    engine = open_engine(config(official_clients=["im-android"]))
    cfg = engine.config
    engine.process(event(cfg, type="contacts", id="c-bot", ts=T0, account="bot",
                         contacts=["sock", *TARGETS]))
    engine.process(event(cfg, type="contacts", id="c-sock", ts=T0, account="sock",
                         contacts=["bot"]))
    ts = T0
    for k in range(22):
        ts = T0 + k * 4300
        engine.process(message(cfg, f"s{k}", "sock", ["bot"], "ok", ts, session="sock-s",
                               client={"id": "botapp", "ip": "203.0.113.7"}))
        engine.process(message(cfg, f"b{k}", "bot", ["sock"], "sure thing", ts + 60,
                               session="bot-s", client=BOT_APP))
    return engine, ts + 120


def pitch_all(engine: Engine, start: float) -> list[Any]:
    return [engine.process(message(engine.config, f"p{i}", "bot", [target],
                                   PITCH.format(n=target), start + i * 20, session="bot-s",
                                   client=BOT_APP))
            for i, target in enumerate(TARGETS)]


def test_the_pitch_from_a_bot_that_did_not_warm_up_is_stopped() -> None:
    """The premise: the same 30 messages from the same app, no warm-up, no list."""
    engine = open_engine(config(official_clients=["im-android"]))
    verdicts = pitch_all(engine, T0)
    stopped = sum(v.action in ("hold", "block") for v in verdicts)
    assert stopped >= 25, [v.action for v in verdicts]


def test_a_one_sided_list_and_a_sock_do_not_vouch_for_a_bot() -> None:
    engine, start = warmed_bot()
    verdicts = pitch_all(engine, start)
    familiar = [v.id for v in verdicts if any(s.code == "FAMILIAR_SENDER" for s in v.signals)]
    assert not familiar, "recipients who never listed the bot back nor wrote to it"
    stopped = sum(v.action in ("hold", "block") for v in verdicts)
    assert stopped >= 25, [v.action for v in verdicts]  # today: 27 delivered, 3 warned


def test_a_one_sided_list_of_300_targets_does_not_carry_a_pitch() -> None:
    """A bot lists 300 targets and pitches each in turn: past the handful a new user writes
    to first (``UNVOUCHED_ALLOWANCE``), its targets count as strangers and every pitch is
    stopped; none is delivered, and the first few are judged on their words (warned)."""
    engine = open_engine(config(official_clients=["im-android"]))
    cfg = engine.config
    targets = [f"mark{i}" for i in range(300)]
    engine.process(event(cfg, type="contacts", id="c-bot", ts=T0, account="bot",
                         contacts=targets))
    actions = [engine.process(message(cfg, f"p{i}", "bot", [target], PITCH.format(n=target),
                                      T0 + 60 + i * 20, session="bot-s",
                                      client=BOT_APP)).action
               for i, target in enumerate(targets)]
    free = accounts.UNVOUCHED_ALLOWANCE
    assert "deliver" not in actions[:free], actions[:free]
    assert set(actions[free:]) <= {"hold", "block"}, sorted(set(actions[free:]))


CASUAL = ["hey {n}, I'm on here now! saw this and thought of you "
          "https://www.corner-bakery-news.net/story/42",
          "{n} look at this lol https://youtu.be/dQw4w9WgXcQ",
          "hi {n}, new number, this is me. the pics from saturday: "
          "https://photos.app.goo.gl/aBcD123",
          "{n}! found the recipe https://smittenkitchen.com/2019/10/apple-cake/",
          "{n}, that shop I told you about https://tiny-knits-studio.shop/sale"]


@pytest.mark.parametrize("friends", [1, 3, accounts.UNVOUCHED_ALLOWANCE])
def test_a_new_user_sharing_a_link_with_friends_who_have_not_added_it_yet(
        friends: int) -> None:
    """Review F2: a new account writes a casual line with a link to each of the friends in
    its phone book, none of whom has listed it back yet. They vouch for nothing (no
    trust discount), and they are no strangers either: delivered or warned, never held."""
    engine = open_engine(config(official_clients=["im-android"]))
    cfg = engine.config
    stopped = []
    for t, text in enumerate(CASUAL):
        me, pals = f"new{t}", [f"pal{t}-{i}" for i in range(friends)]
        engine.process(event(cfg, type="contacts", id=f"c-{me}", ts=T0, account=me,
                             contacts=[*pals, "mum", "work"]))
        for i, pal in enumerate(pals):
            verdict = engine.process(message(cfg, f"{me}-{i}", me, [pal], text.format(n=pal),
                                             T0 + 120 + 90 * i, session=f"{me}-s",
                                             client={"id": "im-android",
                                                     "ip": f"198.51.100.{t + 9}"}))
            if verdict.action not in ("deliver", "warn"):
                stopped.append((text, i, [s.code for s in verdict.signals]))
    assert not stopped


def day_of_chat(engine: Engine, account: str, people: list[str], listed: list[str]) -> float:
    """``account`` lists ``people``, ``listed`` of them list it back, and it writes 22 lines
    to ``listed`` in turn over 26 hours from its own app and network; the time after."""
    cfg = engine.config
    engine.process(event(cfg, type="contacts", id=f"c-{account}", ts=T0, account=account,
                         contacts=people))
    for who in listed:
        engine.process(event(cfg, type="contacts", id=f"c-{who}", ts=T0, account=who,
                             contacts=[account]))
    ts = T0
    for k in range(22):
        ts = T0 + 60 + k * 4300
        engine.process(message(cfg, f"{account}-{k}", account, [listed[k % len(listed)]],
                               "sure thing", ts, session=f"{account}-s", client=BOT_APP))
    return ts + 60


@pytest.mark.parametrize("alone", [False, True])
@pytest.mark.parametrize(("listed", "established"), [(["sock"], False),
                                                     (["ann", "ben", "cat"], True)])
def test_a_day_of_clean_lines_establishes_an_account_with_three_people_not_one(
        listed: list[str], established: bool, alone: bool) -> None:
    """Mutual contacts vouch for an established sender's first line (CONTACTS_MUTUAL); a
    day of lines establishes the account only when three people who list it back got
    them, never when one sock got them all. Alike when the takeover detector, whose
    judgement that is, is disabled for the first line (``alone``): the relationship
    detector then reads the record and the vouching correspondents itself, when its
    judgement reaches them (``TakeoverDetector.plan_established``)."""
    engine = open_engine(config(official_clients=["im-android"]))
    cfg = engine.config
    now = day_of_chat(engine, "new", [*listed, "dan"], listed)
    if alone:
        engine.disabled["takeover"] = "test"
    engine.process(event(cfg, type="contacts", id="c-dan", ts=T0, account="dan",
                         contacts=["new"]))
    verdict = engine.process(message(cfg, "first", "new", ["dan"], "hi dan, lunch?", now,
                                     session="new-s", client=BOT_APP))
    assert ("CONTACTS_MUTUAL" in {s.code for s in verdict.signals}) is established


def test_familiar_sender_needs_recipients_who_list_the_account_back() -> None:
    """A month-old account on its usual app and network: FAMILIAR_SENDER to a friend who
    lists it back, not to someone only on its own list."""
    engine = open_engine(config(official_clients=["im-android"]))
    cfg = engine.config
    engine.process(event(cfg, type="account", id="a-old", ts=T0, account="old",
                         created=T0 - 60 * 86_400))
    now = day_of_chat(engine, "old", ["ann", "ben", "cat", "lurker"], ["ann", "ben", "cat"])
    verdicts = {who: engine.process(message(cfg, f"to-{who}", "old", [who], "see you at 8",
                                            now + n, session="old-s", client=BOT_APP))
                for n, who in enumerate(("ann", "lurker"))}
    assert {who: "FAMILIAR_SENDER" in {s.code for s in v.signals}
            for who, v in verdicts.items()} == {"ann": True, "lurker": False}


LINK_LINE = "hey {n}, that shop I told you about https://tiny-knits-studio.shop/sale"


def test_a_campaign_spread_across_bots_within_the_allowance_is_bulk() -> None:
    """Session 12's red team: 40 bots each list five targets (within
    ``UNVOUCHED_ALLOWANCE``) and send them one line in turn. No message reaches a stranger,
    and with more bots than the cluster keeps senders of each copy is a new sender's first
    (reach 1); bulk saw no campaign and 174 of the 200 copies were delivered with a warning.
    A cluster whose recipients never vouched for its senders is one."""
    engine = open_engine(config(official_clients=["im-android"]))
    cfg = engine.config
    bots = 40
    for b in range(bots):
        engine.process(event(cfg, type="contacts", id=f"c{b}", ts=T0, account=f"bot{b}",
                             contacts=[f"t{b}-{i}" for i in range(5)]))
    verdicts = [engine.process(message(cfg, f"m{b}-{i}", f"bot{b}", [f"t{b}-{i}"],
                                       LINK_LINE.format(n=f"t{b}-{i}"),
                                       T0 + 60 + 20 * (i * bots + b), session=f"bot{b}-s",
                                       client={"id": "botapp", "ip": f"203.0.{b}.8"}))
                for i in range(5) for b in range(bots)]
    bulk = sum(any(s.code == "BULK_NEAR_DUPLICATE" for s in v.signals) for v in verdicts)
    stopped = sum(v.action in ("hold", "block") for v in verdicts)
    assert bulk >= 190 and stopped >= 190, (bulk, stopped)


def test_a_bot_working_through_its_list_five_an_hour_is_stopped() -> None:
    """Session 12's red team: the allowance counted in velocity's hour let a bot pitch five
    of its listed targets an hour, every hour (120 a day, all delivered with a warning).
    A newcomer's first lines to its friends span a day, and so does the allowance."""
    engine = open_engine(config(official_clients=["im-android"]))
    cfg = engine.config
    targets = [f"mark{i}" for i in range(60)]
    engine.process(event(cfg, type="contacts", id="c-bot", ts=T0, account="bot",
                         contacts=targets))
    actions = [engine.process(message(cfg, f"p{i}", "bot", [target],
                                      LINK_LINE.format(n=target),
                                      T0 + 60 + (i // 5) * 3601 + (i % 5) * 30,
                                      session="bot-s", client=BOT_APP)).action
               for i, target in enumerate(targets)]
    free = accounts.UNVOUCHED_ALLOWANCE
    assert set(actions[free:]) <= {"hold", "block"}, actions


SHOP = "hi {n}, we just opened a little shop for phone cases, have a look at casecorner.shop"


def _shop_pitches(warm: bool, replies: int = 0) -> list[Any]:
    """A three-day-old bot pitches 30 people who never listed it; ``warm``: it first said a
    bland line to each (delivered), and the first ``replies`` of them answered it."""
    engine = open_engine(config())
    cfg = engine.config
    targets = [f"t{i}" for i in range(30)]
    engine.process(message(cfg, "first", "bot", ["sock"], "hey", T0))
    if warm:
        for i, t in enumerate(targets):
            engine.process(message(cfg, f"h{i}", "bot", [t], "hey, how are you doing",
                                   T0 + 600 * i))
        for i, t in enumerate(targets[:replies]):
            engine.process(message(cfg, f"r{i}", t, ["bot"], "fine thanks, you?",
                                   T0 + 600 * i + 300))
    start = T0 + 86400 * 2.5
    return [engine.process(message(cfg, f"p{i}", "bot", [t], SHOP.format(n=t),
                                   start + 120 * i)) for i, t in enumerate(targets)]


def test_a_bland_line_first_does_not_make_its_targets_vouch() -> None:
    """The bot's own delivered line is not its targets' doing: only what they did (listing it
    back, writing to it) vouches. Before: the 30 lines made all 30 correspondents, and the
    pitch was 30 warned against 23 warned and 7 held from the bot that had not warmed up."""
    def stopped(verdicts: list[Any]) -> int:
        return sum(v.action in ("hold", "block") for v in verdicts)

    cold, warmed = _shop_pitches(False), _shop_pitches(True)
    assert stopped(cold) >= 5, [v.action for v in cold]
    assert stopped(warmed) >= stopped(cold), [v.action for v in warmed]


def test_a_target_who_answered_vouches() -> None:
    """The other side of the rule: a reply is the recipient's own act, so the ten who
    answered the bot's line are its correspondents and no strangers to it."""
    verdicts = _shop_pitches(True, replies=10)
    strangers = [v.id for v in verdicts
                 if any(s.code == "VELOCITY_STRANGERS" for s in v.signals)]
    assert not any(i in strangers for i in (f"p{k}" for k in range(10))), strangers

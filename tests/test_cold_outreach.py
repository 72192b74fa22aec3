"""COLD_OUTREACH (session 30, ``strangers``; session 31, ``strangers31``): cold outreach
nobody answers, at any age.

A spammer who reads NEW_ACCOUNT_DIRECT ages its accounts past ``new_account_age`` or
paces under its hourly bar (``test_attack_session29_review.py``). What neither changes is
whom the pitches go to and that nobody answers them: an account writing one to one, in a
day, to ``cold_strangers`` (10) more strangers than there are people who answered it, is
held, whatever its age, unless those are at least half of them; and over the week, the
strangers whose day has passed, ten past the week's answerers, unless those are a quarter
of them (session 31). An answer counts from an account past ``new_account_age`` with three
correspondents besides the one it answers, to a cold message of that one's (session 31:
whoever wrote to the account counted, socks too), once, when first given (session 32:
an answerer's later messages renewed it each day). The attacks are judged with content,
bulk and reputation off (the rule alone), the innocents with every detector on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.engine import Engine

HOUR = 3600
DAY = 86_400
RULE_ALONE = {"content": {"enabled": False}, "bulk": {"enabled": False},
              "reputation": {"enabled": False}}
OFFERS = ("Нужны люди на пару часов, оплата 3000 сразу, пиши в личку",
          "Есть тема на удалёнке, доход от 2000 в день, подробности в лс",
          "Ищу партнёров для сотрудничества, всё расскажу, напиши мне")


def held(verdict: Any) -> bool:
    return verdict.action in ("hold", "block")


def codes(verdict: Any) -> set[str]:
    return {s.code for s in verdict.signals}


def established(engine: Engine, account: str) -> float:
    """``account`` first seen 30 days before T0 (one event of its own): T0."""
    engine.process(event(engine.config, type="contacts", id=f"seen-{account}",
                         ts=T0 - 30 * DAY, account=account, contacts=[]))
    return T0


def lived(engine: Engine, account: str) -> None:
    """``account`` first seen 30 days before T0, and four friends of its own who wrote to
    it 20 days before T0: a person's standing (made before the test's first event at T0)."""
    established(engine, account)
    for k in range(4):
        engine.process(message(engine.config, f"life-{account}-{k}", f"pal-{account}-{k}",
                               [account], "see you at lunch?", T0 - 20 * DAY + k))


def send(engine: Engine, id: str, sender: str, to: str, ts: float, kind: str = "clear",
         text: str = "") -> Any:
    if kind == "sealed":
        return engine.process(event(engine.config, type="message", id=id, sender=sender,
                                    recipients=[to], ts=ts, encrypted=True, size=240))
    link = " https://tonez-club.biz/r" if kind == "link" else ""
    body = text or OFFERS[sum(map(ord, id)) % 3] + link
    return engine.process(message(engine.config, id, sender, [to], body, ts))


# -- the spammer who read NEW_ACCOUNT_DIRECT ---------------------------------------------

@pytest.mark.parametrize("kind", ["clear", "link", "sealed"])
def test_an_established_account_writing_to_a_days_strangers_nobody_answers_is_held(
        kind: str) -> None:
    """Twelve strangers over a day, one every 90 minutes, from an account seen 30 days ago
    (aged stock, or a hijacked one): the first nine reach them, the tenth on are held
    (COLD_OUTREACH, 8 points). On main (e709bda) all twelve were delivered or warned."""
    e = open_engine(config(detectors=RULE_ALONE))
    t = established(e, "bot")
    out = [send(e, f"m{i}", "bot", f"t{i}", t + i * 5400, kind) for i in range(12)]
    assert [held(v) for v in out] == [False] * 9 + [True] * 3
    assert "COLD_OUTREACH" in codes(out[9]) and "COLD_OUTREACH" not in codes(out[8])


def test_a_newcomer_under_the_hourly_bar_is_held_from_its_days_tenth_stranger() -> None:
    """A days-old account at four strangers an hour (under NEW_ACCOUNT_DIRECT's five):
    COLD_OUTREACH says it (the newcomer's signals say nothing), from the day's tenth."""
    e = open_engine(config(detectors=RULE_ALONE))
    out = [send(e, f"m{i}", "bot", f"t{i}", T0 + (i // 4) * HOUR + (i % 4) * 60)
           for i in range(16)]
    assert [held(v) for v in out] == [False] * 9 + [True] * 7
    assert all("NEW_ACCOUNT_DIRECT" not in codes(v) for v in out)


def test_answers_vouch_for_cold_messages() -> None:
    """A salesperson writing to 24 prospects over a day, two in three answering within
    the half hour: more than ten strangers past those who answered by the day's end, but
    not most of them ignoring it (``cold_answered_share``). The same account with the
    answers dropped is held from its tenth (the tests above): answers are what this rule
    reads. The prospects are people (``lived``: session 31 counts no other answer)."""
    e = open_engine(config(detectors=RULE_ALONE))
    for i in range(24):
        if i % 3:
            lived(e, f"p{i}")
    t, out = established(e, "seller"), []
    for i in range(24):
        out.append(send(e, f"m{i}", "seller", f"p{i}", t + i * HOUR))
        if i % 3:
            e.process(message(e.config, f"a{i}", f"p{i}", ["seller"], "how much?",
                              t + i * HOUR + 1200))
    assert not any(held(v) for v in out) and not any("COLD_OUTREACH" in codes(v) for v in out)


# -- innocents (guards) ----------------------------------------------------------------

def test_a_marketplace_newcomer_writing_to_five_sellers_in_two_days_is_not_held() -> None:
    """A new buyer asks five sellers about their listings over two days; three answer."""
    e = open_engine(config())
    out = []
    for i in range(5):
        ts = T0 + i * 10 * HOUR
        out.append(e.process(message(e.config, f"m{i}", "buyer", [f"seller{i}"],
                                     "hi, is the bike from your listing still for sale?", ts)))
        if i < 3:
            e.process(message(e.config, f"a{i}", f"seller{i}", ["buyer"],
                              "yes it is, want to see it?", ts + 1800))
    assert not any(held(v) for v in out) and not any(codes(v) & {
        "COLD_OUTREACH", "NEW_ACCOUNT_DIRECT"} for v in out)


def _sixteen_sellers(people: bool) -> list[Any]:
    """An established buyer asks sixteen sellers over a day, half of them answering within
    the hour; ``people``: the answering sellers have lives of their own (``lived``)."""
    e = open_engine(config())
    for i in range(1, 16, 2):
        if people:
            lived(e, f"seller{i}")
    t, out = established(e, "buyer"), []
    for i in range(16):
        out.append(e.process(message(e.config, f"m{i}", "buyer", [f"seller{i}"],
                                     "hi, is the bike from your listing still for sale?",
                                     t + i * HOUR)))
        if i % 2:
            e.process(message(e.config, f"a{i}", f"seller{i}", ["buyer"], "sold, sorry",
                              t + i * HOUR + 900))
    return out


def test_a_buyer_asking_many_sellers_who_answer_is_not_held() -> None:
    """Sixteen strangers, eight who answered, never ten past them."""
    out = _sixteen_sellers(people=True)
    assert not any(held(v) for v in out) and not any("COLD_OUTREACH" in codes(v) for v in out)


def test_an_established_support_account_answering_forty_customers_is_not_held() -> None:
    """Strangers who wrote first are correspondents, never cold, however many a day."""
    e = open_engine(config())
    t = established(e, "shop")
    for i in range(40):
        e.process(message(e.config, f"q{i}", f"cust{i}", ["shop"],
                          "hi, my order hasn't arrived yet", t + 60 * i))
    out = [e.process(message(e.config, f"a{i}", "shop", [f"cust{i}"],
                             "Sorry about that! it ships today, tracking to follow",
                             t + 3000 + 60 * i)) for i in range(40)]
    assert not any(held(v) for v in out) and not any("COLD_OUTREACH" in codes(v) for v in out)


def test_an_established_account_inviting_twelve_friends_it_lists_is_not_held() -> None:
    """Someone tells twelve friends from its phone book about the platform in one evening;
    none answers for hours, none has listed it back yet. They are unvouched, not strangers,
    and the people an account lists are never its cold outreach (an owner greeting its
    whole phone book is not: ``test_encrypted.py``'s carol, 80 of them). Counted past the
    allowance as velocity counts them, the tenth on were held."""
    e = open_engine(config())
    friends = [f"f{i}" for i in range(12)]
    e.process(event(e.config, type="contacts", id="c", ts=T0 - 30 * DAY, account="inviter",
                    contacts=friends))
    out = [e.process(message(e.config, f"m{i}", "inviter", [f], "hey, I'm on here now!",
                             T0 + 300 * i)) for i, f in enumerate(friends)]
    assert not any(held(v) for v in out) and not any("COLD_OUTREACH" in codes(v) for v in out)


# -- alike on every backend ------------------------------------------------------------

def _cold_day(engine: Engine) -> list[str]:
    """Each verdict's action and COLD_OUTREACH's words (its count of answers: t2, a person,
    answers once)."""
    lived(engine, "t2")
    t = established(engine, "bot")
    one = [send(engine, f"m{i}", "bot", f"t{i}", t + i * 600) for i in range(12)]
    engine.process(message(engine.config, "ans", "t2", ["bot"], "who is this?", t + 7300))
    many = engine.process_batch([message(engine.config, f"b{i}", "bot", [f"u{i}"],
                                         OFFERS[i % 3], t + 8000 + i) for i in range(4)])
    return [" ".join([v.action, *(s.detail for s in v.signals if s.code == "COLD_OUTREACH")])
            for v in (*one, *many)]  # type: ignore[union-attr]


def _on(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    """An engine with the rule alone on ``backend`` (SQLite, or the tests' Redis)."""
    storage: dict[str, Any] = {"backend": backend}
    if backend == "redis":
        storage.update(redis_url=request.getfixturevalue("redis_url"),
                       redis_namespace=request.getfixturevalue("redis_namespace"))
    shared = open_engine(config(storage=storage, detectors=RULE_ALONE,
                                records={"evidence_key": "test-evidence-key"}), tmp_path)
    return shared


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_cold_outreach_is_read_alike_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The day's and the week's sets (``vel:direct:``, ``vel:answered:``), and an answer's
    reads (the answered account's ``vel:direct:``, the answerer's ``TALKED`` side), are
    read deferred: on SQLite from the batch's held keys, on Redis with the rest; event by
    event and in a batch, as the memory backend judges."""
    shared = _on(backend, tmp_path, request)
    mine = _cold_day(open_engine(config(detectors=RULE_ALONE)))
    assert sum(v.startswith("hold") for v in mine) >= 3
    assert mine[-1].endswith("1 people answered it")
    assert _cold_day(shared) == mine


# -- session 30's open doors, and the reader's next ones --------------------------------

def _paced(per_day: int, days: int) -> list[Any]:
    e = open_engine(config(detectors=RULE_ALONE))
    t = established(e, "bot")
    return [send(e, f"m{d}-{i}", "bot", f"t{d}-{i}", t + d * DAY + i * HOUR)
            for d in range(days) for i in range(per_day)]


def test_nine_strangers_a_day_for_a_week() -> None:
    """Nine strangers a day, under the day's bar, from an account seen 30 days ago: on main
    (9be8ce7) 63 of 63 delivered over the week. The strangers of the days before have had
    their day to answer, and nobody did: from the third day's first, ten of them past the
    week's answerers (``cold_old_strangers``) hold it, 18 of 63 delivered."""
    out = _paced(9, 7)
    assert not any(held(v) for v in out[:18]) and all(held(v) for v in out[18:])
    assert "COLD_OUTREACH" in codes(out[18])


def test_four_strangers_a_day_for_four_weeks() -> None:
    """The reader's next pace, four a day for four weeks: main delivered 112 of 112; held
    from the fourth day, 13 delivered."""
    assert sum(not held(v) for v in _paced(4, 28)) == 13


@pytest.mark.xfail(strict=True, reason=(
    "open: one stranger a day stays under the week's bar (six days' strangers before the "
    "day, fewer than cold_old_strangers): 28 of 28 delivered over four weeks, one account "
    "(main: the same). What the week's bar leaves an account is under ten unanswered a "
    "week; a longer window pays a set kept longer for every account writing cold"))
def test_one_stranger_a_day_for_four_weeks() -> None:
    assert sum(not held(v) for v in _paced(1, 28)) < 10


@pytest.mark.xfail(strict=True, reason=(
    "open: an answer's words are not read, and a quarter answered is the week's share: nine "
    "strangers a day for a week, one target in four (people of their own) answering 'who "
    "is this?', reach 63 of 63 (main the same; one in five: 45 of 63). Whether an answer "
    "welcomes the message is the content's question, and a reply's meaning in a language "
    "the model never saw is no better known than the pitch's"))
def test_nine_a_day_one_target_in_four_asking_who_it_is() -> None:
    e = open_engine(config(detectors=RULE_ALONE))
    for k in range(0, 63, 4):
        lived(e, f"t{k}")
    t, out = established(e, "bot"), []
    for k in range(63):
        ts = t + (k // 9) * DAY + (k % 9) * HOUR
        out.append(send(e, f"m{k}", "bot", f"t{k}", ts))
        if k % 4 == 0:
            e.process(message(e.config, f"a{k}", f"t{k}", ["bot"], "who is this?", ts + 600))
    assert sum(not held(v) for v in out) < 30


def test_socks_that_write_to_the_bot_buy_it_nothing() -> None:
    """20 socks that each said 'hi' to the bot, then 40 strangers in an hour, at 49 h: on
    main (9be8ce7) 40 of 40 delivered (whoever wrote to the account offset its cold
    messages). A sock that wrote first answered no cold message: 9 delivered."""
    e = open_engine(config(detectors=RULE_ALONE))
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="bot", contacts=[]))
    t = T0 + 49 * HOUR
    for s in range(20):
        e.process(message(e.config, f"s{s}", f"sock{s}", ["bot"], "hi", t - 600 + s))
    out = [send(e, f"m{i}", "bot", f"t{i}", t + 60 * i) for i in range(40)]
    assert sum(not held(v) for v in out) == 9


def _socks_answer(farm: bool) -> list[Any]:
    """The bot (first seen at T0) and 20 socks made with it; the bot writes to each first at
    49 h and each answers, then 40 strangers in an hour. ``farm``: each sock was written to
    by three of the others the day they were made."""
    e = open_engine(config(detectors=RULE_ALONE))
    for a in ("bot", *(f"sock{s}" for s in range(20))):
        e.process(event(e.config, type="contacts", id=f"c-{a}", ts=T0, account=a, contacts=[]))
    if farm:
        for s in range(20):
            for k in range(1, 4):
                e.process(message(e.config, f"f{s}-{k}", f"sock{(s + k) % 20}", [f"sock{s}"],
                                  "hey", T0 + HOUR + 10 * s + k))
    t = T0 + 49 * HOUR
    for s in range(20):
        e.process(message(e.config, f"b{s}", "bot", [f"sock{s}"], "hi", t - 1200 + s))
        e.process(message(e.config, f"r{s}", f"sock{s}", ["bot"], "hello!", t - 600 + s))
    return [send(e, f"m{i}", "bot", f"t{i}", t + 60 * i) for i in range(40)]


def test_socks_that_answer_the_bot_with_no_life_of_their_own_buy_it_nothing() -> None:
    """The reader's next step: the bot writes first to 20 socks aged past 48 h, and they
    answer. On main 20 of 40 delivered; a sock that nobody but the bot writes to is no
    person whose answer says the message was wanted: none."""
    assert sum(not held(v) for v in _socks_answer(farm=False)) == 0


@pytest.mark.xfail(strict=True, reason=(
    "open: socks that write to each other have correspondents of their own: 20 aged socks, "
    "each written to by three of the others, answer the bot and buy it 20 strangers in an "
    "hour (20 of 40 delivered, main the same). Telling a farm from friends is the second "
    "round of ties (whether the correspondents are people), a read after a read"))
def test_a_sock_farm_answering_the_bot() -> None:
    assert sum(not held(v) for v in _socks_answer(farm=True)) < 10


@pytest.mark.xfail(strict=True, reason=(
    "cost: an answer from an account with no life of its own (under 48 h, or fewer than "
    "three correspondents besides the one it answers) counts for nothing, so a buyer asking "
    "16 sellers in a day, half answering, all of them accounts first seen at their answer, "
    "is held from its tenth (9 of 16 delivered; main 16 of 16). Sellers on a platform have "
    "customers; a marketplace's own newcomers selling their first thing do not"))
def test_a_buyer_whose_sellers_are_new_accounts() -> None:
    assert not any(held(v) for v in _sixteen_sellers(people=False))


@pytest.mark.xfail(strict=True, reason=(
    "cost: a buyer asking two sellers a day for a week whom none answers is held from its "
    "sixth day (11 of 14 delivered; main 14 of 14): ten strangers whose day has passed, "
    "none answering, are the week's bar whoever writes them"))
def test_a_buyer_nobody_answers_for_a_week() -> None:
    e = open_engine(config())
    t = established(e, "buyer")
    out = [e.process(message(e.config, f"m{d}-{i}", "buyer", [f"s{d}-{i}"],
                             "hi, is the bike from your listing still for sale?",
                             t + d * DAY + i * HOUR)) for d in range(7) for i in range(2)]
    assert not any(held(v) for v in out)


def test_a_buyer_asking_five_sellers_a_day_for_a_week_two_in_five_answering() -> None:
    """The week's share is a quarter, not the day's half: a buyer whose sellers (people)
    answer two in five is never held (with half it was from the sixth day, 6 of 35)."""
    e = open_engine(config())
    for k in range(35):
        if k % 5 < 2:
            lived(e, f"s{k}")
    t, out = established(e, "buyer"), []
    for k in range(35):
        ts = t + (k // 5) * DAY + (k % 5) * HOUR
        out.append(e.process(message(e.config, f"m{k}", "buyer", [f"s{k}"],
                                     "hi, is the bike from your listing still for sale?", ts)))
        if k % 5 < 2:
            e.process(message(e.config, f"a{k}", f"s{k}", ["buyer"], "yes, still there",
                              ts + 1800))
    assert not any(held(v) for v in out)


def test_a_bot_in_a_busy_small_room_is_not_answered_by_its_talkers() -> None:
    """An aged account in a room of 40 whose 20 talkers post in the day (a post to at most
    50 fills ``TALKED``): on main 40 of 40 of its one-to-one strangers delivered. A room
    post answers no cold message: 9 delivered."""
    e = open_engine(config(detectors=RULE_ALONE))
    members = [f"u{i}" for i in range(40)]
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="bot", contacts=[]))
    t = T0 + 49 * HOUR
    for i in range(20):
        e.process(message(e.config, f"p{i}", f"u{i}", [*members[:i], *members[i + 1:], "bot"],
                          "anyone around tonight?", t - 3000 + 60 * i, conversation="club"))
    out = [send(e, f"m{i}", "bot", f"t{i}", t + 60 * i) for i in range(40)]
    assert sum(not held(v) for v in out) == 9


@pytest.mark.xfail(strict=True, reason=(
    "open: the people an account lists are never cold (an owner greeting its phone book, "
    "none answering yet, is not cold outreach), so an account aged past 48 h that lists "
    "its 40 targets (one contacts event) writes to them all in an hour: 40 of 40 delivered "
    "with the rule alone, as on main. A days-old one is held by NEW_ACCOUNT_DIRECT's "
    "allowance (four an hour for 48 h, listed: 5 delivered of 192)"))
def test_an_aged_account_that_lists_its_targets() -> None:
    e = open_engine(config(detectors=RULE_ALONE))
    e.process(event(e.config, type="contacts", id="c", ts=T0, account="bot",
                    contacts=[f"t{i}" for i in range(40)]))
    out = [send(e, f"m{i}", "bot", f"t{i}", T0 + 49 * HOUR + 60 * i) for i in range(40)]
    assert sum(held(v) for v in out) >= 30


# -- review31a: the reader of ``_answers`` (session 31) ------------------------------------

def _shared_socks(days: int, wait: int = 25) -> list[int]:
    """Four aged bots share 20 socks that nobody but the bots writes to: each bot writes
    "hi" to each sock at 49 h, each sock answers each bot (its footprint is the three other
    bots, ``cold_answer_footprint``); from ``wait`` hours later, every day, each sock says
    "ok" to each bot again (none when ``wait`` is 0: the bots write at once) and each bot
    writes to 40 strangers. How many strangers each bot reached."""
    e = open_engine(config(detectors=RULE_ALONE))
    bots, socks = [f"bot{b}" for b in range(4)], [f"sock{s}" for s in range(20)]
    for a in (*bots, *socks):
        e.process(event(e.config, type="contacts", id=f"c-{a}", ts=T0, account=a, contacts=[]))
    t = T0 + 49 * HOUR
    for s in socks:
        for b in bots:
            assert not held(e.process(message(e.config, f"w{s}{b}", b, [s], "hi", t)))
            t += 1
        for b in bots:
            e.process(message(e.config, f"a{s}{b}", s, [b], "hello", t))
            t += 1
    reached = [0] * 4
    for d in range(days):
        td = t + wait * HOUR + d * DAY
        for s in socks if wait else ():
            for b in bots:
                e.process(message(e.config, f"r{d}{s}{b}", s, [b], "ok", td))
                td += 1
        for i in range(40):
            for k, b in enumerate(bots):
                reached[k] += not held(send(e, f"m{d}-{i}-{b}", b, f"t{b}-{d}-{i}", td + 60 * i))
    return reached


def test_a_sock_pools_answers_count_once_not_each_morning() -> None:
    """review31a's shared pool (pool32): four aged bots whose "hi" 20 aged socks answered
    (each sock's footprint the three other bots), the socks saying "ok" to each bot every
    morning after. On main (892a476) each "ok" counted again, in the day it was said,
    though the cold message it answered was days old: each bot reached 40 of 40 strangers
    the next day. An answer is one fact, counted when first given: the socks' answers are
    in the day before, and each bot reaches 9 (as with no socks)."""
    assert _shared_socks(days=1) == [9] * 4


def test_a_sock_pools_answers_buy_no_week() -> None:
    """The same pool over a week of 40 strangers a day: main 100 of 280 each bot; the
    answers counted once, 9 (the first day's nine; from the next, the week's old
    strangers past the 20 answers hold)."""
    assert _shared_socks(days=7) == [9] * 4


@pytest.mark.xfail(strict=True, reason=(
    "open (pool32): the footprint that makes an answer count is met by the bots "
    "themselves. Four aged bots that write to the same 20 aged socks (nobody else writes "
    "to them) give each sock three correspondents besides any one bot, so each sock's "
    "first answer counts for every bot: each reaches 20 of 40 strangers the hour it uses "
    "the pool (main 892a476 the same; 9 with no socks), once (a sock answers a bot once: "
    "it is a correspondent after). Any number of bots can use a pool once each. "
    "Correspondents that are not cold writers themselves is the second round of ties (a "
    "read of each correspondent's cold outreach); a footprint that leaves out this week's "
    "cold writers only delays a pool a week (last week's bots are this week's footprint)"))
def test_bots_using_a_sock_pool_the_hour_they_pitch() -> None:
    assert max(_shared_socks(days=1, wait=0)) < 10


@pytest.mark.xfail(strict=True, reason=(
    "cost (review31a): the week's quarter holds a small shop that writes one to one to the "
    "customers who ordered on its site (strangers here: none wrote first), five a day, one "
    "in five (people) answering 'thanks!': held from its sixth day, 25 of 35 delivered "
    "(main 9be8ce7: 35 of 35); one in four answering is never held (35 of 35), nor three a "
    "day at one in three. Customers who ordered by writing to the shop are correspondents "
    "and never counted"))
def test_a_shop_writing_to_five_customers_a_day_one_in_five_answering() -> None:
    e = open_engine(config())
    for k in range(35):
        if k % 5 == 0:
            lived(e, f"c{k}")
    t, out = established(e, "shop"), []
    for k in range(35):
        ts = t + (k // 5) * DAY + (k % 5) * HOUR
        out.append(e.process(message(e.config, f"m{k}", "shop", [f"c{k}"],
                                     f"hi! your order #{k} has shipped, tracking to follow",
                                     ts)))
        if k % 5 == 0:
            e.process(message(e.config, f"a{k}", f"c{k}", ["shop"], "thanks!", ts + 1800))
    assert not any(held(v) for v in out)


@pytest.mark.xfail(strict=True, reason=(
    "cost (pool32): an answer counts once, so yesterday's answerers who keep writing are "
    "no answers today. An established organiser writes to 6 people on one day, 5 answer "
    "and write to it every morning after; the next day it writes to 14, of whom 3 answer: "
    "held from that day's 13th, 12 of 14 delivered (main 892a476: 14 of 14, the five "
    "friends' mornings counted as the day's answers); 13 a day after 5 answering of 6: "
    "12 of 13. The shape is the shared sock pool's (socks that answered once, then 'ok' "
    "every morning): what tells them apart is whether the answerers are people, not when "
    "they wrote"))
def test_an_organiser_whose_new_friends_keep_writing() -> None:
    assert not any(held(v) for v in organiser(((6, 5), (14, 3))))


def organiser(plan: tuple[tuple[int, int], ...]) -> list[Any]:
    """An established organiser writes, each day of ``plan``, to ``n`` people (each with a
    life of its own) half an hour apart, the first ``answering`` of them answering within
    15 minutes; every one who answered writes to it each morning after. Its verdicts."""
    e = open_engine(config())
    for k in range(sum(n for n, _ in plan)):
        lived(e, f"p{k}")
    t, out, talking, k = established(e, "org"), [], [], 0
    for d, (n, answering) in enumerate(plan):
        td = t + d * DAY
        for j, q in enumerate(talking):
            e.process(message(e.config, f"c{d}-{q}", f"p{q}", ["org"], "morning! see you "
                              "tonight?", td + j))
        for i in range(n):
            ts = td + HOUR + i * 1800
            out.append(e.process(message(e.config, f"m{k}", "org", [f"p{k}"], "hi, I run the "
                                         "Thursday climbing group, want to join us?", ts)))
            if i < answering:
                e.process(message(e.config, f"a{k}", f"p{k}", ["org"], "sounds fun!",
                                  ts + 900))
                talking.append(k)
            k += 1
    return out


def _cold_week(engine: Engine) -> list[str]:
    """Nine strangers a day for three days, event by event and in batches: t3, a person,
    answers the day after its cold message and again the day after that (one answerer in
    the week); t12 writes to the bot an hour before the bot's first message to it (a
    correspondent, never counted). Each verdict's action and COLD_OUTREACH's words."""
    for k in (3, 12):
        lived(engine, f"t{k}")
    t, out = established(engine, "bot"), []
    for d in range(3):
        ts = t + d * DAY
        if d:
            engine.process(message(engine.config, f"a{d}", "t3", ["bot"], "who is this?", ts))
        if d == 1:
            engine.process(message(engine.config, "a12", "t12", ["bot"], "hi?", ts + 10))
        out += [send(engine, f"m{d}-{i}", "bot", f"t{d * 9 + i}", ts + 600 + i * 60)
                for i in range(5)]
        out += engine.process_batch([message(engine.config, f"b{d}-{i}", "bot",
                                             [f"t{d * 9 + i}"], OFFERS[i % 3],
                                             ts + 900 + i) for i in range(5, 9)])
    return [" ".join([v.action, *(s.detail for s in v.signals if s.code == "COLD_OUTREACH")])
            for v in out]


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_the_weeks_rule_and_late_answers_are_read_alike_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Review (review31a): the week's rule (``cold_long_window``) and answers that come the
    day after the message they answer, on each backend as the memory backend judges them
    (the day's test above spans two hours). The third day is held by the week's rule."""
    shared = _on(backend, tmp_path, request)
    mine = _cold_week(open_engine(config(detectors=RULE_ALONE)))
    assert any("days ago" in v for v in mine), mine
    assert _cold_week(shared) == mine


PHISH = ("URGENT: your account will be suspended, verify your password now at "
         "http://secure-paypa1-login.xyz/verify")


def test_an_answer_the_engine_blocked_is_no_answer() -> None:
    """Review (review31a): an answer counts as the engine's ``TALKED`` tie does, only if it
    was delivered or warned. An aged bot writes to 20 people (each with a life of its
    own), each 'answers' with a phishing message the engine blocks, then the bot writes to
    40 strangers in 40 minutes. On cab15ce the blocked answers counted (20 of 40
    delivered, '20 people answered it'); on main 9be8ce7 and here none: 0 of 40."""
    e = open_engine(config(detectors={"bulk": {"enabled": False},
                                      "reputation": {"enabled": False}}))
    for k in range(20):
        lived(e, f"p{k}")
    t = established(e, "bot")
    for k in range(20):
        send(e, f"w{k}", "bot", f"p{k}", t + k, text=f"hello p{k}, we met at the conference?")
        answer = e.process(message(e.config, f"a{k}", f"p{k}", ["bot"], PHISH, t + 30 + k))
        assert answer.action == "block"
    out = [send(e, f"m{i}", "bot", f"t{i}", t + 600 + 60 * i,
                text=f"hi t{i}, long time no see, how are you doing?") for i in range(40)]
    assert sum(not held(v) for v in out) == 0
    assert any("0 people answered it" in s.detail for v in out for s in v.signals)

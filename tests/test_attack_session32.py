"""Red team, session 32 (``sites32``): the site per pitch (a registrable domain for every
pitch, ``test_attack_session31``'s door) across the seller's victims. Session 31 bounds one
account's unproven sessions at 14 links whatever the sites (``keys.linked``,
``popular_share_ties``); every count the takeover detector keeps is the account's, so the
seller's 14 domains buy 14 pitches in every account it holds. Through ``engine.process``;
the numbers are pitches that reached their targets (delivered or warned), on main 892a476
and on 4d496ae. The open finding is a strict xfail with its numbers
(``docs/red-team-log.md``, session 32, ``sites32``).

``campaign32`` closes it for one wording: the same words with a site from another account's
unproven session, the most of the text's recent senders, from a session that has pitched
three already, is one hand in many accounts (``BULK_UNPROVEN_SESSIONS``, detectors/bulk.py).
A wording a victim stays open (strict xfail).
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from test_attack_session25 import HOSTING_IP, NAMES, OFFICIAL_APP
from test_attack_session30 import reached, suspended
from test_takeover import DAY, OFFICIAL, live_a_month

VICTIMS = ("alice", "bob", "carol")
PITCHES = 20


def _victims(victims: tuple[str, ...] = VICTIMS) -> Any:
    """Accounts with a month of life each (three daily friends) and a birthday line to
    each of their other 57 contacts 100 days ago (none of them a dormant tie)."""
    engine = open_engine(config(official_clients=OFFICIAL))
    live_a_month(engine, *victims)
    for account in victims:
        for f in range(3, 60):
            engine.process(message(engine.config, f"{account}-bd{f}", account,
                                   [f"{account}-friend{f}"], "happy birthday!! have a great day",
                                   T0 - 100 * DAY + 60 * f, session="phone",
                                   client={"id": "im-android", "ip": "198.51.100.20"}))
    return engine


WORDINGS = ("hey {n}! I found cheap ringtones here http://{s}/r",
            "{n} look, ringtones for almost nothing at http://{s}/r",
            "omg {n} these tones cost nothing, get yours: http://{s}/r")


def _one_seller_many_victims(victims: tuple[str, ...] = VICTIMS, apart: float = 3,
                             fresh: bool = False, reworded: bool = False,
                             interleaved: bool = False, split: bool = False
                             ) -> list[list[Any]]:
    """The seller signs in to each victim (the official app's id, its server) and gives
    each of 20 friends its own site, ``apart`` seconds apart: the same 20 registrable
    domains in every account (``fresh``: its own 20 in each), site i to each victim's
    i-th friend, in one wording (``reworded``: one a victim); victim after victim, 10
    minutes between (``interleaved``: pitch i to every victim, then pitch i + 1).
    ``split``: the words without the link, then the link alone (the verdicts kept are
    the link's)."""
    engine = _victims(victims)
    cfg = engine.config
    for k, account in enumerate(victims):
        engine.process(event(cfg, type="login", id=f"{account}-in", ts=T0 - 60 + k,
                             account=account, session="seller", ip=HOSTING_IP,
                             client={"id": OFFICIAL_APP}))
    order = ([(k, i) for i in range(PITCHES) for k in range(len(victims))] if interleaved
             else [(k, i) for k in range(len(victims)) for i in range(PITCHES)])
    out: list[list[Any]] = [[] for _ in victims]
    for j, (k, i) in enumerate(order):
        account = victims[k]
        site = f"cheap-tones{k}x{i}.biz" if fresh else f"cheap-tones{i}.biz"
        words = WORDINGS[k % len(WORDINGS) if reworded else 0]
        at = T0 + apart * j + (0 if interleaved else 600 * k)
        text = words.format(n=NAMES[i % 10], s=site)
        if split:
            link = f"http://{site}/r"
            engine.process(message(cfg, f"{account}-w{i}", account,
                                   [f"{account}-friend{3 + i}"], text.replace(link, ""),
                                   at - 1, session="seller",
                                   client={"id": OFFICIAL_APP, "ip": HOSTING_IP}))
            text = link
        out[k].append(engine.process(message(
            cfg, f"{account}-p{i}", account, [f"{account}-friend{3 + i}"], text, at,
            session="seller", client={"id": OFFICIAL_APP, "ip": HOSTING_IP})))
    return out


def test_a_pitch_from_another_victims_unproven_session_is_the_same_hand() -> None:
    """The first victim's account gives the seller its 14 (its own counts); each later
    one 3 (BULK_UNPROVEN_SESSIONS from its session's fourth pitch: ``unproven_sent``).
    42 of 60 on main 2340d0e, 20 of 60 here."""
    first, *later = _one_seller_many_victims()
    assert reached(first) <= 14 and suspended(first)
    assert all(reached(verdicts) <= 3 and suspended(verdicts) for verdicts in later)
    assert any(s.code == "BULK_UNPROVEN_SESSIONS" for s in later[0][3].signals)


def test_five_victims_fresh_domains_eleven_minutes_apart() -> None:
    """Five victims, 11 minutes a pitch (each victim ~4 hours after the one before, past
    a text's hour of memory: the unproven sessions' words are kept a day), a fresh
    domain a pitch in each: 70 of 100 on main 2340d0e, 26 here (14 + 4 × 3)."""
    out = _one_seller_many_victims(("alice", "bob", "carol", "dave", "erin"), apart=660,
                                   fresh=True)
    assert reached(out[0]) <= 14
    assert all(reached(verdicts) <= 3 for verdicts in out[1:])


def test_the_seller_interleaving_its_victims() -> None:
    """Pitch i to every victim before pitch i + 1: every account's session is the
    same hand from the second account on. 70 of 100 on main 2340d0e, 19 here (7 + 4 × 3)."""
    out = _one_seller_many_victims(("alice", "bob", "carol", "dave", "erin"),
                                   interleaved=True)
    assert all(reached(verdicts) <= 7 for verdicts in out)
    assert sum(map(reached, out)) <= 19


@pytest.mark.xfail(strict=True, reason="open: the seller words its pitch anew for each "
                   "victim (one template a victim, the same in all its pitches there): "
                   "14 reached in every account, 42 of 60, on main 2340d0e and here. "
                   "Words are the seller's choice: BULK_UNPROVEN_SESSIONS needs the same "
                   "words in two accounts' unproven sessions (red-team log, campaign32). "
                   "Session 33 (unproven33): 42 of 60 on main 08e8778 and the branch, with "
                   "the same 20 domains in every victim and with fresh ones per victim; a "
                   "per-site count of accounts' unproven sessions would close only the "
                   "first (the seller's answer: a domain per pitch per victim)")
def test_a_pitch_reworded_for_each_victim() -> None:
    _, *later = _one_seller_many_victims(reworded=True)
    assert all(reached(verdicts) <= 3 for verdicts in later)


SHARED = "Check out Casa Lupita on OpenTable, dinner saturday? http://casa-lupita.mx/menu"


def new_phones_share(engine: Any, accounts: tuple[str, ...], first: int = 0,
                     lines: int = 0) -> list[Any]:
    """Each of ``accounts`` signs in on a new phone (her app, a new network of her own),
    five minutes after the one before, writes ``lines`` lines to the friends she writes
    to daily (``live_a_month``'s first three) and shares ``SHARED`` with two friends (from
    her ``first``-th), 30 s apart: the verdicts of the shares."""
    cfg, out = engine.config, []
    for k, account in enumerate(accounts):
        at, ip = T0 + 300 * k, f"192.0.2.{10 + k}"
        engine.process(event(cfg, type="login", id=f"{account}-np", ts=at - 60,
                             account=account, session="newphone", ip=ip,
                             client={"id": "im-android"}))
        for i in range(lines):
            engine.process(message(cfg, f"{account}-o{i}", account,
                                   [f"{account}-friend{i}"],
                                   f"new phone! it's me {i}", at - 50 + i, session="newphone",
                                   client={"id": "im-android", "ip": ip}))
        out += [engine.process(message(
            cfg, f"{account}-s{i}", account, [f"{account}-friend{first + i}"], SHARED,
            at + 30 * i, session="newphone", client={"id": "im-android", "ip": ip}))
            for i in range(2)]
    return out


def test_two_owners_new_phones_one_share_text_to_two_friends_each() -> None:
    """Guard (passes on main too): two unrelated owners, each on a new phone (her app,
    a new network of her own) five minutes apart, give one local restaurant to two
    friends each with the same share-sheet words: sharing, not a push (a session's
    third message is the first ``unproven_sent`` lets the rule see)."""
    engine = open_engine(config(official_clients=OFFICIAL))
    live_a_month(engine, "alice", "bob")
    out = new_phones_share(engine, ("alice", "bob"))
    assert [v.action for v in out] == ["deliver"] * 4
    assert not suspended(out)

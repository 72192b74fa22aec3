"""Red team, session 32 (``sites32``): the site per pitch (a registrable domain for every
pitch, ``test_attack_session31``'s door) across the seller's victims. Session 31 bounds one
account's unproven sessions at 14 links whatever the sites (``keys.linked``,
``popular_share_ties``); every count the takeover detector keeps is the account's, so the
seller's 14 domains buy 14 pitches in every account it holds. Through ``engine.process``;
the numbers are pitches that reached their targets (delivered or warned), on main 892a476
and on 4d496ae. The open finding is a strict xfail with its numbers
(``docs/red-team-log.md``, session 32, ``sites32``).
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


def _victims() -> Any:
    """Three accounts with a month of life each (three daily friends) and a birthday line
    to each of their other 57 contacts 100 days ago (none of them a dormant tie)."""
    engine = open_engine(config(official_clients=OFFICIAL))
    live_a_month(engine, *VICTIMS)
    for account in VICTIMS:
        for f in range(3, 60):
            engine.process(message(engine.config, f"{account}-bd{f}", account,
                                   [f"{account}-friend{f}"], "happy birthday!! have a great day",
                                   T0 - 100 * DAY + 60 * f, session="phone",
                                   client={"id": "im-android", "ip": "198.51.100.20"}))
    return engine


def _one_seller_many_victims() -> list[list[Any]]:
    """The seller signs in to each victim in turn (the official app's id, its server) and
    gives each of 20 friends its own site, 3 s apart: the same 20 registrable domains in
    every account, site i to each victim's i-th friend."""
    engine = _victims()
    cfg = engine.config
    out, at = [], T0
    for account in VICTIMS:
        engine.process(event(cfg, type="login", id=f"{account}-in", ts=at - 60,
                             account=account, session="seller", ip=HOSTING_IP,
                             client={"id": OFFICIAL_APP}))
        out.append([engine.process(message(
            cfg, f"{account}-p{i}", account, [f"{account}-friend{3 + i}"],
            f"hey {NAMES[i % 10]}! I found cheap ringtones here http://cheap-tones{i}.biz/r",
            at + 3 * i, session="seller", client={"id": OFFICIAL_APP, "ip": HOSTING_IP}))
            for i in range(PITCHES)])
        at += 3 * PITCHES + 600
    return out


@pytest.mark.xfail(strict=True, reason="open: one seller, three victims, the same 20 "
                   "registrable domains in each (site i to each victim's i-th friend, 3 s "
                   "apart): 14 reached in every account (14 delivered, 6 held, suspended), 42 "
                   "of 60 (five victims: 70 of 100; at 11 minutes the same), on main 892a476 "
                   "and 4d496ae. Every count is the account's (keys.spread, keys.linked); a "
                   "count of the site over all accounts' unproven sessions grows with the "
                   "platform (a local site shared from new phones), and a site's age in the "
                   "platform's link history (rep:first) is seeded by one message from any "
                   "account: no scale-free, unforgeable fact found (red-team log, sites32)")
def test_a_site_pitched_from_another_victims_account_is_no_new_site() -> None:
    first, *later = _one_seller_many_victims()
    assert reached(first) <= 14 and suspended(first)
    assert all(reached(verdicts) <= 3 for verdicts in later)

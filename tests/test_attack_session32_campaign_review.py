"""Red team, session 32's review of ``campaign32`` (``review32c``): BULK_UNPROVEN_SESSIONS
waited for the message's *session* to have delivered ``unproven_sent`` (3) messages in the
day, and a session id is the seller's to choose: signing in anew every third pitch (a login
is free: the password is the seller's) kept every session under the gate, and the door
``campaign32`` closed (3 victims, 20 pitches each, the same words) was open again, 42 of
60 reached on main e82c8db, as before it. The gate now counts the account's unproven
sessions' messages of the day (``Record.sent_unproven``): one hand however many session
ids it takes; a familiar or proven session's messages do not count (the owner's own
phone is not the hand). Through ``engine.process``; the numbers are pitches that reached
their targets (delivered or warned).
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from test_attack_session25 import HOSTING_IP, NAMES, OFFICIAL_APP
from test_attack_session30 import reached, suspended
from test_attack_session32 import PITCHES, SHARED, VICTIMS, WORDINGS, _victims, new_phones_share
from test_takeover import OFFICIAL, live_a_month


def _rotating_seller(rotate: int, victims: tuple[str, ...] = VICTIMS) -> list[list[Any]]:
    """``test_attack_session32``'s seller, its 20 pitches a victim 3 s apart in one
    wording, signing in to the victim's account anew (a new session id, the official app,
    its server) before every ``rotate``-th pitch."""
    engine = _victims(victims)
    cfg = engine.config
    out: list[list[Any]] = [[] for _ in victims]
    for k, account in enumerate(victims):
        for i in range(PITCHES):
            at, session = T0 + 3 * (k * PITCHES + i) + 600 * k, f"seller{i // rotate}"
            if i % rotate == 0:
                engine.process(event(cfg, type="login", id=f"{account}-in{i}", ts=at - 1,
                                     account=account, session=session, ip=HOSTING_IP,
                                     client={"id": OFFICIAL_APP}))
            out[k].append(engine.process(message(
                cfg, f"{account}-p{i}", account, [f"{account}-friend{3 + i}"],
                WORDINGS[0].format(n=NAMES[i % 10], s=f"cheap-tones{i}.biz"), at,
                session=session, client={"id": OFFICIAL_APP, "ip": HOSTING_IP})))
    return out


def test_a_fresh_session_every_third_pitch_is_still_one_hand() -> None:
    """A new session every 3 pitches (and every 2): 42 of 60 reached on main e82c8db (14
    in each account, as with no BULK_UNPROVEN_SESSIONS), 20 here (14, 3, 3), as with one
    session a victim."""
    for rotate in (3, 2):
        first, *later = _rotating_seller(rotate)
        assert reached(first) <= 14
        assert all(reached(verdicts) <= 3 and suspended(verdicts) for verdicts in later)
        assert any(s.code == "BULK_UNPROVEN_SESSIONS" for s in later[0][3].signals)


def test_the_owners_own_phone_does_not_open_the_gate() -> None:
    """Guard (passes on main too): the owner wrote five messages from her own phone
    today, then shares one restaurant from a new phone to two friends with the words
    another owner's new phone shared: her phone's messages are not an unproven
    session's, so her new phone's are its first two, sharing, not a push."""
    engine = open_engine(config(official_clients=OFFICIAL))
    live_a_month(engine, "alice", "bob")
    cfg = engine.config
    for i in range(5):
        engine.process(message(cfg, f"alice-own{i}", "alice", [f"alice-friend{i}"],
                               f"see you at {i + 5} then", T0 - 900 + 60 * i, session="phone",
                               client={"id": "im-android", "ip": "198.51.100.20"}))
    out = new_phones_share(engine, ("bob", "alice"), first=10)
    assert [v.action for v in out] == ["deliver"] * 4
    assert not suspended(out)




def owner_after_a_sock(poisoned: bool, engine: Any = None) -> list[Any]:
    """An owner on a new phone (her app, a network of her own) writes three lines to her
    friends from it, then shares a restaurant with four more with the share sheet's words;
    ``poisoned``: ten minutes before, the attacker's own aged account (no hijack: a month
    of life, its password the attacker's) signed in from a new network and sent those
    words once. On ``engine`` (a new one in memory by default)."""
    engine = engine or open_engine(config(official_clients=OFFICIAL))
    live_a_month(engine, "alice", "mallory")
    cfg = engine.config
    if poisoned:
        engine.process(event(cfg, type="login", id="mallory-in", ts=T0 - 600,
                             account="mallory", session="new", ip="203.0.113.40",
                             client={"id": "im-android"}))
        engine.process(message(cfg, "mallory-m", "mallory", ["mallory-friend1"], SHARED,
                               T0 - 500, session="new",
                               client={"id": "im-android", "ip": "203.0.113.40"}))
    ip = "192.0.2.77"
    engine.process(event(cfg, type="login", id="alice-np", ts=T0 - 60, account="alice",
                         session="newphone", ip=ip, client={"id": "im-android"}))
    for i in range(3):
        engine.process(message(cfg, f"alice-o{i}", "alice", [f"alice-friend{i}"],
                               f"new phone! it's alice {i}", T0 + i, session="newphone",
                               client={"id": "im-android", "ip": ip}))
    return [engine.process(message(cfg, f"alice-s{i}", "alice", [f"alice-friend{10 + i}"],
                                   SHARED, T0 + 60 + 30 * i, session="newphone",
                                   client={"id": "im-android", "ip": ip})) for i in range(4)]


def test_an_attackers_own_account_poisons_a_share_text_for_owners_on_new_phones() -> None:
    """Poisoning needs no hijack: the attacker's own aged account signs in from a new
    network (an unproven session at will) and sends the share-sheet words once. An owner
    on a new phone who wrote 3 lines from it today was held on all 4 of her shares
    (BULK_UNPROVEN_SESSIONS; 1 of 4 unpoisoned: the 4th, the burst's) on main 08e8778,
    for a day (the cluster TTL). The gate counts the unproven sessions' messages with a
    site (``unproven33``): her lines are no pitch, and her shares are as unpoisoned."""
    clean = [v.action for v in owner_after_a_sock(False)]
    poisoned = [v.action for v in owner_after_a_sock(True)]
    assert clean.count("hold") == 1
    assert poisoned.count("hold") <= 1


@pytest.mark.xfail(strict=True, reason="open: the seller's own aged accounts dilute the "
                   "share. Four socks (a month of life each, their own phones) send the "
                   "pitch once in each of its 10 greetings to their own contacts before the "
                   "seller signs in to 3 victims (20 pitches each, one session each): the "
                   "unproven are under unproven_share of the recent senders and 42 of 60 "
                   "reach, as before campaign32 (0, 1, 2 socks: 20; 3 socks: 31; 4: 42), on "
                   "main e82c8db and here. Session 33 (unproven33, main 08e8778 and the "
                   "branch alike): 5 victims, 0-2 socks 26 of 100, 3: 37, 4: 48, 5: 59, 6: "
                   "70: about a sock a victim. Who the proven senders sent to is not in the "
                   "cluster, and a sock writing only to its own conversing contacts (other "
                   "socks) would pass any such test (red-team log, review32c, unproven33)")
def test_the_sellers_own_accounts_dilute_the_unproven_share() -> None:
    engine = _victims()
    cfg = engine.config
    socks = [f"sock{i}" for i in range(4)]
    live_a_month(engine, *socks)
    for s, account in enumerate(socks):
        for n in range(10):
            engine.process(message(cfg, f"{account}-d{n}", account, [f"{account}-friend{n}"],
                                   WORDINGS[0].format(n=NAMES[n], s=f"cheap-tones{n}.biz"),
                                   T0 - 300 + 10 * s + n, session="phone",
                                   client={"id": "im-android", "ip": "198.51.100.20"}))
    out: list[list[Any]] = [[] for _ in VICTIMS]
    for k, account in enumerate(VICTIMS):
        engine.process(event(cfg, type="login", id=f"{account}-in", ts=T0 - 60 + k,
                             account=account, session="seller", ip=HOSTING_IP,
                             client={"id": OFFICIAL_APP}))
        for i in range(PITCHES):
            out[k].append(engine.process(message(
                cfg, f"{account}-p{i}", account, [f"{account}-friend{3 + i}"],
                WORDINGS[0].format(n=NAMES[i % 10], s=f"cheap-tones{i}.biz"),
                T0 + 3 * (k * PITCHES + i) + 600 * k, session="seller",
                client={"id": OFFICIAL_APP, "ip": HOSTING_IP})))
    assert all(reached(verdicts) <= 3 for verdicts in out[1:])

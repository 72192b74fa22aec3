"""The whole filter attacked by a spammer who reads the code (red team, session 47).

Each test is a campaign the merged code delivered (``# main:`` says how much of it) and
the principle that now stops it, or a strict xfail naming a gap left open.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, event, message
from spimguard.engine import Engine
from test_takeover import engine_with_history, mutual

# Another address in the owner's own /24 (``engine_with_history`` writes from .20).
NEIGHBOUR = "198.51.100.91"
PITCH = ("{name}, got my new ringing sound from here, love it https://tunes-{n}.shop/{i}",
         "hey {name} this place has the funniest alert sounds lol https://tunes-{n}.shop/x{i}",
         "{name}! have you tried these tunes for your phone? https://tunes-{n}.shop/?r={i}")
NAMES = ("Sam", "Alex", "Maria", "Jo", "Priya", "Chen")


def owner() -> Engine:
    """An account with a month of life from home and 60 contacts who all list it back."""
    engine = engine_with_history()
    mutual(engine, "alice")
    return engine


def owner_place_burst(engine: Engine, sites: int = 1, pitch: tuple[str, ...] = PITCH,
                      apart: float = 3.0, first: int = 0) -> list[Any]:
    """The seller's software on the owner's own network (the owner's computer, or a
    residential proxy in its /24) with the owner's app id: no contact list read, words
    varied per recipient, one site (or ``sites`` of them, in turn), ``apart`` seconds
    apart, to the whole list in order from its ``first``."""
    cfg = engine.config
    return [engine.process(message(
        cfg, f"w{i}", "alice", [f"alice-friend{i}"],
        pitch[i % len(pitch)].format(name=NAMES[i % len(NAMES)], n=i % sites, i=i),
        T0 + 10 + apart * i, session="worm", client={"id": "im-android", "ip": NEIGHBOUR}))
        for i in range(first, 40)]


def delivered(verdicts: list[Any]) -> int:
    """Messages that reached their recipient with no notice beside them."""
    return sum(v.action == "deliver" for v in verdicts)


def test_one_little_known_site_to_the_whole_list_from_the_owners_own_place_is_warned(
        ) -> None:
    """The owner's network and app say who holds the device, not what runs on it: one
    little-known site to many of the ties the account had not been writing to, within
    minutes, is a broadcast, and FAMILIAR_SENDER is withheld from it
    (``TakeoverDetector._broadcast``): its words and link count as any contact's."""
    engine = owner()
    verdicts = owner_place_burst(engine)
    assert delivered(verdicts) <= 3, [v.action for v in verdicts]  # main: 40 of 40
    assert not any(v.signals and v.signals[-1].code == "FAMILIAR_SENDER"
                   for v in verdicts[3:])


def test_a_site_per_pitch_from_the_owners_own_place_is_warned() -> None:
    """A site per pitch: each site reaches one person, the burst to the ties the account
    had not been writing to is the broadcast all the same."""
    assert delivered(owner_place_burst(owner(), sites=40)) <= 6  # main: 38 of 40


OPENER = "hey {name}, long time! how are you?"
ANSWER = "omg hi!! long time, how are you?"


def test_openers_from_the_owners_own_place_then_the_site_as_each_answers_reply_are_warned(
        ) -> None:
    """The seller that draws answers first, from the owner's own place: an opener to
    each contact two minutes apart, and the site as the reply to each who answers. An
    opener makes its recipient one the account writes to, so the reply goes to no
    dormant tie; the burst is the openers' (``burst.broadcast``)."""
    engine = owner()
    cfg, at, pitches = engine.config, T0, []
    worm = {"session": "worm", "client": {"id": "im-android", "ip": NEIGHBOUR}}
    for i in range(3, 40):
        at += 120
        friend = f"alice-friend{i}"
        engine.process(message(cfg, f"o{i}", "alice", [friend],
                               OPENER.format(name=NAMES[i % len(NAMES)]), at, **worm))
        if i % 2:
            engine.process(message(cfg, f"a{i}", friend, ["alice"], ANSWER, at + 30,
                                   session="own", client={"id": "im-ios", "ip": "192.0.2.9"}))
            pitches.append(engine.process(message(
                cfg, f"p{i}", "alice", [friend], f"all good! btw {PITCH[0]}".format(
                    name=NAMES[i % len(NAMES)], n=0, i=i), at + 60, **worm)))
    assert delivered(pitches) <= 2, [v.action for v in pitches]  # main: 19 of 19


# -- gaps left open ------------------------------------------------------------------------

@pytest.mark.xfail(strict=True, reason="warned, not held: between contacts who list each "
                   "other the words and the link's shape are bounded to a warn (policy.py), "
                   "and the owner's own place is the owner's to all other evidence; a hold "
                   "here would hold Gran's e-card from her phone to twenty contacts "
                   "(test_attack_session29's guard) and the owner's restaurant link to eight "
                   "friends (test_attack_session30's): nothing but the words tells them apart "
                   "(session 47)")
def test_the_broadcast_from_the_owners_own_place_is_held() -> None:
    assert sum(v.action in ("deliver", "warn") for v in owner_place_burst(owner())) <= 6


POPULAR_PITCH = ("{name}, got my new ringing sound from here https://sites.google.com/view/"
                 "tunes-club/r{i}",)


@pytest.mark.xfail(strict=True, reason="the seller's page on a popular host (Google Sites) "
                   "from the owner's own place: FAMILIAR_SENDER is withheld past "
                   "popular_share_ties people, but neither the words nor a popular site's "
                   "link say anything, so all 40 are delivered (session 47)")
def test_a_popular_hosts_page_from_the_owners_own_place() -> None:
    assert delivered(owner_place_burst(owner(), pitch=POPULAR_PITCH)) <= 15


@pytest.mark.xfail(strict=True, reason="a broadcast paced past the burst window from the "
                   "owner's own place: the window's counts see one person each, and the "
                   "session-life sets (burst._slow_burst, keys.spread) are kept only for "
                   "sessions already doubted; reports stop it later (session 47)")
def test_a_broadcast_one_pitch_every_eleven_minutes_from_the_owners_own_place() -> None:
    verdicts = owner_place_burst(owner(), apart=660, first=3)
    assert sum(v.action in ("deliver", "warn") for v in verdicts) <= 15


@pytest.mark.xfail(strict=True, reason="an end-to-end encrypted broadcast from the owner's "
                   "own place: no site to name, and one size class to every contact is also "
                   "the owner's new-year greeting; SEALED_BULK judges unfamiliar sessions "
                   "only (session 47)")
def test_an_encrypted_broadcast_from_the_owners_own_place() -> None:
    engine = owner()
    cfg = engine.config
    verdicts = [engine.process(event(
        cfg, type="message", id=f"w{i}", sender="alice", recipients=[f"alice-friend{i}"],
        ts=T0 + 10 + 3 * i, encrypted=True, size=236, session="worm",
        client={"id": "im-android", "ip": NEIGHBOUR})) for i in range(40)]
    assert sum(v.action in ("deliver", "warn") for v in verdicts) <= 15


@pytest.mark.xfail(strict=True, reason="bland words and a plain link to a fresh domain from "
                   "the owner's own place: FAMILIAR_SENDER is withheld, but nothing else "
                   "speaks (reputation's spread counts senders from spread_soft 4, and one "
                   "account is one sender), so 40 of 40 are delivered until recipients "
                   "report it (session 47)")
def test_a_bland_pitch_with_a_plain_link_from_the_owners_own_place() -> None:
    bland = ("{name} look at this https://riverside-photos-{n}.com/a{i}",)
    assert delivered(owner_place_burst(owner(), pitch=bland)) <= 15

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

HOME = "198.51.100.20"  # where the account's month of life was written from
NEIGHBOUR = "198.51.100.91"  # another address in the owner's own /24
PITCH = ("{name}, got my new ringing sound from here, love it https://tunes-{n}.shop/{i}",
         "hey {name} this place has the funniest alert sounds lol https://tunes-{n}.shop/x{i}",
         "{name}! have you tried these tunes for your phone? https://tunes-{n}.shop/?r={i}")
NAMES = ("Sam", "Alex", "Maria", "Jo", "Priya", "Chen")


def owner_place_burst(engine: Engine, account: str = "alice", count: int = 40,
                      sites: int = 1, pitch: tuple[str, ...] = PITCH) -> list[Any]:
    """The seller's software on the owner's own network (the owner's computer, or a
    residential proxy in its /24) with the owner's app id: no contact list read, words
    varied per recipient, one site (or ``sites`` of them, in turn), 3 s apart, to the
    whole list in order."""
    cfg = engine.config
    return [engine.process(message(
        cfg, f"{account}-w{i}", account, [f"{account}-friend{i}"],
        pitch[i % len(pitch)].format(name=NAMES[i % len(NAMES)], n=i % sites, i=i),
        T0 + 10 + 3 * i, session="worm", client={"id": "im-android", "ip": NEIGHBOUR}))
        for i in range(count)]


def test_one_little_known_site_to_the_whole_list_from_the_owners_own_place_is_stopped(
        ) -> None:
    """The owner's network and app say who holds the device, not what runs on it: one
    little-known site to many of the ties the account had not been writing to, within
    minutes, is the broadcast whatever the device (``TakeoverDetector._broadcast``)."""
    engine = engine_with_history()
    mutual(engine, "alice")
    verdicts = owner_place_burst(engine)
    reached = sum(v.action in ("deliver", "warn") for v in verdicts)
    assert reached <= 6, [v.action for v in verdicts]  # main: 40 of 40
    assert any(v.account_action.action != "none" for v in verdicts)


def test_a_site_per_pitch_from_the_owners_own_place_is_stopped() -> None:
    """A site per pitch: each site reaches one person, the burst to the ties the account
    had not been writing to is the broadcast all the same."""
    engine = engine_with_history()
    mutual(engine, "alice")
    verdicts = owner_place_burst(engine, sites=40)
    assert sum(v.action in ("deliver", "warn") for v in verdicts) <= 7  # main: 40 of 40


POPULAR_PITCH = ("{name}, got my new ringing sound from here https://sites.google.com/view/"
                 "tunes-club/r{i}",)


def test_a_popular_hosts_page_from_the_owners_own_place_is_stopped_as_far_as_its_shares(
        ) -> None:
    """A popular site vouches for what is shared, not for how far: the seller's page on
    Google Sites reaches ``popular_share_ties`` people from the owner's place, as from
    any session nothing proves the owner's."""
    engine = engine_with_history()
    mutual(engine, "alice")
    verdicts = owner_place_burst(engine, pitch=POPULAR_PITCH)
    assert sum(v.action in ("deliver", "warn") for v in verdicts) <= 15  # main: 40 of 40


OPENER = "hey {name}, long time! how are you?"
ANSWER = "omg hi!! long time, how are you?"


def test_openers_from_the_owners_own_place_then_the_site_as_each_answers_reply_are_stopped(
        ) -> None:
    """The seller that draws answers first, from the owner's own place: an opener to
    each contact two minutes apart, and the site as the reply to each who answers. An
    opener makes its recipient one the account writes to, so the reply goes to no
    dormant tie; the burst is the openers' (``burst.broadcast``)."""
    engine = engine_with_history()
    mutual(engine, "alice")
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
    reached = sum(v.action in ("deliver", "warn") for v in pitches)
    assert reached <= 3, [v.action for v in pitches]  # main: 18 of 18


# -- gaps left open ------------------------------------------------------------------------

@pytest.mark.xfail(strict=True, reason="a broadcast paced past the burst window from the "
                   "owner's own place: the window's counts see one person each, and the "
                   "session-life sets (burst._slow_burst, keys.spread) are kept only for "
                   "sessions already doubted; reports stop it later (session 47)")
def test_a_broadcast_one_pitch_every_eleven_minutes_from_the_owners_own_place() -> None:
    engine = engine_with_history()
    mutual(engine, "alice")
    cfg = engine.config
    verdicts = [engine.process(message(
        cfg, f"w{i}", "alice", [f"alice-friend{i}"],
        PITCH[i % len(PITCH)].format(name=NAMES[i % len(NAMES)], n=0, i=i),
        T0 + 660 * i, session="worm", client={"id": "im-android", "ip": NEIGHBOUR}))
        for i in range(3, 40)]
    assert sum(v.action in ("deliver", "warn") for v in verdicts) <= 15


@pytest.mark.xfail(strict=True, reason="an end-to-end encrypted broadcast from the owner's "
                   "own place: no site to name, and one size class to every contact is also "
                   "the owner's new-year greeting; SEALED_BULK judges unfamiliar sessions "
                   "only (session 47)")
def test_an_encrypted_broadcast_from_the_owners_own_place() -> None:
    engine = engine_with_history()
    mutual(engine, "alice")
    cfg = engine.config
    verdicts = [engine.process(event(
        cfg, type="message", id=f"w{i}", sender="alice", recipients=[f"alice-friend{i}"],
        ts=T0 + 10 + 3 * i, encrypted=True, size=236, session="worm",
        client={"id": "im-android", "ip": NEIGHBOUR})) for i in range(40)]
    assert sum(v.action in ("deliver", "warn") for v in verdicts) <= 15

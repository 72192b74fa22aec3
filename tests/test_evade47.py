"""The whole filter attacked by a spammer who reads the code (red team, session 47).

Each test is a campaign the merged code delivered (``# main:`` says how much of it) and
the principle that now stops it, or a strict xfail naming a gap left open.
"""

from __future__ import annotations

from typing import Any

from conftest import T0, message
from spimguard.engine import Engine
from test_takeover import engine_with_history, mutual

HOME = "198.51.100.20"  # where the account's month of life was written from
NEIGHBOUR = "198.51.100.91"  # another address in the owner's own /24
PITCH = ("{name}, got my new ringing sound from here, love it https://tunes-{n}.shop/{i}",
         "hey {name} this place has the funniest alert sounds lol https://tunes-{n}.shop/x{i}",
         "{name}! have you tried these tunes for your phone? https://tunes-{n}.shop/?r={i}")
NAMES = ("Sam", "Alex", "Maria", "Jo", "Priya", "Chen")


def owner_place_burst(engine: Engine, account: str = "alice", count: int = 40,
                      sites: int = 1) -> list[Any]:
    """The seller's software on the owner's own network (the owner's computer, or a
    residential proxy in its /24) with the owner's app id: no contact list read, words
    varied per recipient, one site (or ``sites`` of them, in turn), 3 s apart, to the
    whole list in order."""
    cfg = engine.config
    return [engine.process(message(
        cfg, f"{account}-w{i}", account, [f"{account}-friend{i}"],
        PITCH[i % len(PITCH)].format(name=NAMES[i % len(NAMES)], n=i % sites, i=i),
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

"""The broadcast from the owner's own place counted over the account, link or none
(session 48, ``wide48``).

FAMILIAR_SENDER says the owner is talking with its friends; the account writing within
minutes to many ties it had not been writing to is not that, whichever of its sessions
sends it and whatever it carries (``TakeoverDetector._broadcast``, ``keys.aired``). Each
test fails on main (``# main:`` says how) but the guards, which say so.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, event, message
from test_evade47 import NAMES, NEIGHBOUR, PITCH, delivered, owner
from test_review47 import SHORTCODE

OWN_PHONE = {"id": "im-android", "ip": "198.51.100.20"}  # ``engine_with_history``'s own
WORM = {"id": "im-android", "ip": NEIGHBOUR}  # the seller's software in the owner's /24


def down_the_list(texts: tuple[str, ...], per_session: int, client: dict[str, str],
                  people: int = 40, apart: float = 3.0) -> list[Any]:
    """``people`` messages down the contact list from its start (three friends the owner
    writes to, then ties it had not been writing to), ``apart`` seconds apart, a sign-in
    and a new session every ``per_session`` of them (0: one session, no sign-in)."""
    engine = owner()
    cfg, verdicts = engine.config, []
    for i in range(people):
        at, session = T0 + 10 + apart * i, f"s{i // per_session}" if per_session else "phone"
        if per_session and i % per_session == 0:
            engine.process(event(cfg, type="login", id=f"L{i}", ts=at - 1, account="alice",
                                 session=session, ip=client["ip"],
                                 client={"id": client["id"]}))
        verdicts.append(engine.process(message(
            cfg, f"m{i}", "alice", [f"alice-friend{i}"],
            texts[i % len(texts)].format(name=NAMES[i % len(NAMES)], n=0, i=i), at,
            session=session, client=client)))
    return verdicts


def familiar(verdicts: list[Any]) -> int:
    """Verdicts that carried FAMILIAR_SENDER."""
    return sum(any(s.code == "FAMILIAR_SENDER" for s in v.signals) for v in verdicts)


@pytest.mark.parametrize("per_session", [1, 2, 3], ids=lambda n: f"a session every {n}")
def test_a_new_session_every_few_pitches_from_the_owners_place_is_warned(
        per_session: int) -> None:
    """Session ids and sign-ins are the client's choice: the familiar sessions' dormant
    ties in the burst window are counted together (``keys.aired``), so the broadcast is
    the account's, not each session's three people."""
    verdicts = down_the_list(PITCH, per_session, WORM)
    assert delivered(verdicts) <= 6, [v.action for v in verdicts]  # main: 40 of 40


@pytest.mark.parametrize("per_session", [0, 1], ids=["one session", "a session each"])
def test_a_shortcode_broadcast_from_the_owners_place_is_judged_on_its_words(
        per_session: int) -> None:
    """A premium shortcode has no link, and is the broadcast all the same: FAMILIAR_SENDER
    is withheld from the fourth tie the account had not been writing to on (three friends
    it writes to come first), and its words judged as any contact's (those the content
    model scores at warn are warned: the rest is the strict xfail in
    ``test_review47``)."""
    verdicts = down_the_list(SHORTCODE, per_session, WORM)
    assert familiar(verdicts) <= 6  # main: 40 of 40
    assert sum(v.action == "warn" for v in verdicts) >= 10  # main: 0


GREETINGS = ("Merry Christmas {name}! hope you have a lovely day with the family x",
             "hi {name}, this is my new number, save it! the old one is gone :) 07700 900123")


@pytest.mark.parametrize("per_session", [0, 1], ids=["one session", "a session each"])
@pytest.mark.parametrize("text", GREETINGS, ids=["a holiday greeting", "a new number"])
def test_the_owners_own_announcement_to_everyone_is_delivered_on_its_words(
        text: str, per_session: int) -> None:
    """The principle's price, paid by nobody: the owner's own phone at home greeting 20
    contacts 30 s apart (three it writes to, 17 it had not been writing to) is a broadcast,
    so FAMILIAR_SENDER is withheld from the fourth such tie on, and every one is delivered
    on its words all the same."""
    verdicts = down_the_list((text,), per_session, OWN_PHONE, people=20, apart=30.0)
    assert [v.action for v in verdicts] == ["deliver"] * 20
    assert familiar(verdicts) == 6  # main: 20 (the broadcast unseen)


def test_the_owners_photo_link_to_two_friends_keeps_its_familiar_sender() -> None:
    """Guard (passes on main): a link to a little-known site passed on to two ties the
    account had not been writing to is no broadcast: FAMILIAR_SENDER, delivered."""
    engine = owner()
    cfg = engine.config
    verdicts = [engine.process(message(
        cfg, f"p{i}", "alice", [f"alice-friend{i}"],
        f"look at our holiday pics {NAMES[i % 6]} https://annas-photos.net/album{i}",
        T0 + 10 + 20 * i, session="phone", client=OWN_PHONE)) for i in (10, 11)]
    assert [v.action for v in verdicts] == ["deliver", "deliver"]
    assert familiar(verdicts) == 2


def test_the_owners_line_to_a_friend_during_the_worms_broadcast_reads_nothing_more() -> None:
    """Guard (passes on main): the owner's own phone chatting with a friend it writes to
    while the worm broadcasts from its /24 keeps FAMILIAR_SENDER: a line with no link to a
    friend the account writes to is no step of a broadcast (``_broadcast`` reads nothing
    for it)."""
    engine = owner()
    cfg = engine.config
    for i in range(3, 20):
        engine.process(message(cfg, f"w{i}", "alice", [f"alice-friend{i}"],
                               PITCH[i % 3].format(name=NAMES[i % 6], n=0, i=i),
                               T0 + 10 + 3 * i, session="worm", client=WORM))
    verdict = engine.process(message(cfg, "own", "alice", ["alice-friend1"],
                                     "running late, see you at six", T0 + 100,
                                     session="phone", client=OWN_PHONE))
    assert verdict.action == "deliver" and familiar([verdict]) == 1

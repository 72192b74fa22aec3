"""The broadcast from the owner's own place counted over the account (session 48,
``wide48``).

FAMILIAR_SENDER says the owner is talking with its friends; the account giving a link
within minutes to many ties it had not been writing to is not that, whichever of its
sessions sends it (``TakeoverDetector._broadcast``, ``keys.aired``). Each test fails on
main (``# main:`` says how) but the guards, which say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import T0, engine_on_store, event, message
from spimguard.detectors.takeover.detector import TakeoverDetector
from test_evade47 import NAMES, NEIGHBOUR, PITCH, delivered, owner
from test_takeover import live_a_month, mutual

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


GREETINGS = ("Merry Christmas {name}! hope you have a lovely day with the family x",
             "hi {name}, this is my new number, save it! the old one is gone :) 07700 900123")


@pytest.mark.parametrize("per_session", [0, 1], ids=["one session", "a session each"])
@pytest.mark.parametrize("text", GREETINGS, ids=["a holiday greeting", "a new number"])
def test_the_owners_own_announcement_to_everyone_is_delivered(
        text: str, per_session: int) -> None:
    """Guard (passes on main): the owner's own phone at home greeting 20 contacts 30 s
    apart (three it writes to, 17 it had not been writing to), one session or a sign-in
    each: the broadcast FAMILIAR_SENDER is there for, kept on every one, all delivered."""
    verdicts = down_the_list((text,), per_session, OWN_PHONE, people=20, apart=30.0)
    assert [v.action for v in verdicts] == ["deliver"] * 20
    assert familiar(verdicts) == 20


def test_the_owners_greeting_sent_to_the_whole_list_at_once_is_delivered() -> None:
    """Guard (passes on main; fails with FAMILIAR_SENDER withheld from a broadcast with no
    link, which wide48 tried and took back): the app's "send to all" of the owner's New
    Year greeting, 60 contacts half a second apart. Its velocity and near-duplicate points
    (~4 at the end) are the owner's volume, which FAMILIAR_SENDER's four points keep under
    warn; with no link there is nothing else to judge in their place."""
    engine = owner()
    cfg = engine.config
    verdicts = [engine.process(message(
        cfg, f"g{i}", "alice", [f"alice-friend{i}"],
        "Happy New Year!! wishing you all the best for 2027 x", T0 + 10 + 0.5 * i,
        session="phone", client=OWN_PHONE)) for i in range(60)]
    assert [v.action for v in verdicts] == ["deliver"] * 60
    assert familiar(verdicts) == 60


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


def test_a_store_written_by_session_47s_release_opens_and_counts_the_broadcast(
        tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """Upgrading (README, session 48): a SQLite store as session 47's release left it (its
    writes but the familiar sessions' set, ``keys.aired``, which it never kept), with a
    month of the owner's life and the worm's first ten pitches, opens with nothing to
    convert, and the worm's next pitches, a session each, are counted over the account
    from then on. main: 30 of 30 delivered."""
    released = TakeoverDetector.writes

    def as_session_47(self: TakeoverDetector, ctx: Any, facts: Any, outcome: Any) -> Any:
        return [w for w in released(self, ctx, facts, outcome)
                if not getattr(w, "key", "").endswith("%aired")]

    with monkeypatch.context() as old:
        old.setattr(TakeoverDetector, "writes", as_session_47)
        engine = engine_on_store("sqlite", tmp_path, request)
        live_a_month(engine, "alice")
        mutual(engine, "alice")
        for i in range(10):
            engine.process(message(engine.config, f"w{i}", "alice", [f"alice-friend{i}"],
                                   PITCH[i % 3].format(name=NAMES[i % 6], n=0, i=i),
                                   T0 + 10 + 3 * i, session=f"s{i}", client=WORM))
        engine.close()
    engine = engine_on_store("sqlite", tmp_path, request)
    verdicts = [engine.process(message(
        engine.config, f"w{i}", "alice", [f"alice-friend{i}"],
        PITCH[i % 3].format(name=NAMES[i % 6], n=0, i=i), T0 + 10 + 3 * i, session=f"s{i}",
        client=WORM)) for i in range(10, 40)]
    engine.close()
    assert delivered(verdicts) <= 3, [v.action for v in verdicts]


@pytest.mark.xfail(strict=True, reason="a broadcast paced at three people a burst window (one "
                   "pitch every 201 s, a new session each) from the owner's own place: the "
                   "account's familiar sessions together (keys.aired) see three ties in any "
                   "window, under pitch_ties (4), and the session-life sets are kept only for "
                   "sessions already doubted: 40 of 40 delivered over 2 h 11 min, as with one "
                   "session (review47's pacing row; evade47's eleven-minute xfail, four times "
                   "sooner) (wide48)")
def test_a_broadcast_three_people_a_window_from_the_owners_place_is_warned() -> None:
    assert delivered(down_the_list(PITCH, 1, WORM, apart=201.0)) <= 15

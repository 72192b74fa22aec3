"""Session 30 (``popular``): the seller's pitch on a popular site, sent from the server it
warmed by answering alice's friends (red team, session 29's strongest open finding: 50 of
50 reached, no account action). A popular site vouches for what is shared, not for how
far: the account's earned networks (``profile.earned``) share popular sites with up to
``popular_share_ties`` of its dormant ties within ``pitch_trust_after``; past that a
message is judged as from the new network it was. Numbers are pitches that reached their
targets (delivered or warned); the base figures are main e709bda's
(``docs/red-team-log.md``, session 30, ``popular``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, event, message
from spimguard.detectors.takeover.settings import TakeoverSettings
from test_attack_session25 import NAMES, engine_on
from test_attack_session29 import _answer_then_blast, _proven_by_answers, reached
from test_takeover import DAY

# 15; read so, the file also runs against a release without it (where it must fail)
SHARE_TIES: int = getattr(TakeoverSettings(), "popular_share_ties", 15)


def _video_each(i: int) -> str:
    return f"hey {NAMES[i % 10]}! ringtones here https://www.youtube.com/watch?v=tones{i}"


def _video_one(i: int) -> str:
    return f"hey {NAMES[i % 10]}! ringtones here https://www.youtube.com/watch?v=tones"


def _google_site(i: int) -> str:
    return f"hey {NAMES[i % 10]}! ringtones here https://sites.google.com/view/cheap-tones{i}"


def _own_site(i: int) -> str:
    return f"hey {NAMES[i % 10]}! ringtones here https://cheap-tones.biz/r?u={i}"


@pytest.mark.parametrize(("after", "text"), [
    (1.2, _video_each), (1.2, _video_one), (5, _video_each), (1.2, _google_site)])
def test_the_sellers_pitch_on_a_popular_site_from_its_warmed_server(
        after: float, text: Callable[[int], str]) -> None:
    """The seller's session answers three of alice's friends who wrote to her; ``after``
    days later its server pitches 50 dormant ties 3 s apart with a popular site's page (a
    video whose description sells the ringtones, one id each or one for all; a Google
    Site). On main 50 of 50 reached (46 delivered, 4 warned), no account action: a popular
    site from an earned network was the owner's at any reach. Now the first 15
    (``popular_share_ties``) reach, the rest are held, sending suspended."""
    verdicts = _answer_then_blast(3, after, text)
    assert reached(verdicts) <= SHARE_TIES
    assert all(v.action == "hold" for v in verdicts[SHARE_TIES:])
    assert any(v.account_action.action == "suspend_sending" for v in verdicts)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_the_shares_are_read_alike_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The earned networks' shares (``keys.shares``, read when the judgement reaches them)
    are read with the batch's keys on SQLite and in the event's claim on Redis."""
    verdicts = _answer_then_blast(3, 1.2, _video_each, engine=engine_on(backend, tmp_path,
                                                                        request))
    assert [v.action for v in verdicts] == [v.action for v in _answer_then_blast(
        3, 1.2, _video_each)]
    assert reached(verdicts) <= SHARE_TIES


def _paced(text: Callable[[int], str]) -> list[Any]:
    """The same answers, then 40 pitches 11 minutes apart (past ``burst_window``), each
    from a fresh sign-in on the seller's server."""
    return _answer_then_blast(3, 1.2, text, apart=660, fresh=True, pitches=40)


def test_a_paced_seller_with_a_session_a_pitch_counts_as_one() -> None:
    """The popular pitch spread out, a fresh session each: the count is the account's
    earned networks' together, whatever the pace or the sessions. On main 40 of 40 reached,
    no account action; now 20 (the 15 shares, then the slow burst over the account's
    unproven sessions; 21 while its sessions did not inherit its incident)."""
    verdicts = _paced(_video_each)
    assert reached(verdicts) <= SHARE_TIES + 5
    assert sum(v.action == "hold" for v in verdicts) >= 19


def test_a_held_seller_does_not_pass_its_own_challenge_by_signing_in_again() -> None:
    """Its own site, a pitch every 11 minutes from a fresh session each: the fifth is held
    and the account challenged, and on main the seller's next sign-in on its warmed server
    (a network known before the incident) passed the challenge (CHALLENGE_PASSED): the
    network was proven, its pitches the owner's from then on: 39 of 40 reached. An earned
    network is the account's for chat, not the owner's proof (``incidents.
    owner_signed_in``), nor the owner's place an incident's sessions are exempt from
    (``incidents.inherited``): now 5 of 40, the rest held (6 with the first alone)."""
    verdicts = _paced(_own_site)
    assert reached(verdicts) <= 5
    assert not any("CHALLENGE_PASSED" in {s.code for s in v.signals} for v in verdicts)


# -- the owner's (guards) ----------------------------------------------------------------


def _shares(text: str, people: range, days: float = 1.2, gap: float = 20) -> list[Any]:
    """A day after her new phone proved its network by answering three friends, she sends
    ``text`` to each of ``people`` (alice-friend<n>), ``gap`` seconds apart."""
    engine, phone, when = _proven_by_answers(days)
    return [engine.process(message(engine.config, f"s{i}", "alice", [f"alice-friend{n}"], text,
                                   when + gap * i, session="today", client=phone))
            for i, n in enumerate(people)]


def _innocent(verdicts: list[Any]) -> None:
    assert all(v.action in ("deliver", "warn") for v in verdicts)
    assert {v.account_action.action for v in verdicts} == {"none"}


def test_her_new_phone_shares_one_video_with_fifteen_seldom_written_friends() -> None:
    """Guard: the most the share's reach allows, one video to 15 dormant ties."""
    _innocent(_shares("omg look https://www.youtube.com/watch?v=1", range(20, 20 + SHARE_TIES)))


def test_her_new_phone_shares_videos_with_friends_she_writes_to_daily() -> None:
    """Guard: popular links to the three friends she writes to every day, many times: none
    is a dormant tie, nothing is counted."""
    _innocent(_shares("haha https://www.youtube.com/watch?v=2", [0, 1, 2] * 8))


def test_her_new_phone_greets_many_contacts_at_new_year_with_no_link() -> None:
    """Guard: a greeting with no link to 40 seldom-written contacts from the first-week
    network: no site, nothing to count."""
    _innocent(_shares("Happy New Year!! love, alice", range(20, 60), gap=5))


def test_her_new_phone_shares_a_video_in_a_room() -> None:
    """Guard: three posts with a video to a room (stated by the IM server a month ago) of
    30 of her seldom-written friends: a settled room is one target (``rooms``). A
    conversation no server states is the client's claim: its 30 members are 30 dormant
    ties, held from this network with a little-known site on main and now with a popular
    one too (the price, ``docs/red-team-log.md``)."""
    engine, phone, when = _proven_by_answers(1.2)
    members = [f"alice-friend{n}" for n in range(20, 50)]
    engine.process(event(engine.config, type="room", id="room-reunion", ts=when - 30,
                         account="alice", conversation="reunion", members=["alice", *members],
                         since=T0 - 30 * DAY))
    posts = [engine.process(message(engine.config, f"room{i}", "alice", members,
                                    "for the reunion https://www.youtube.com/watch?v=3",
                                    when + 600 * i, session="today", client=phone,
                                    conversation="reunion")) for i in range(3)]
    _innocent(posts)


@pytest.mark.xfail(strict=True, reason=(
    "the price: her New Year video to 20 seldom-written contacts from a phone network in "
    "its first week (proven by answering friends, not by a challenge) reaches 15; the 16th "
    "to 20th are held and sending suspended, as a little-known e-card site is held from "
    "the 4th (homenet). On main all 20 reached. A passed challenge, or the network a week "
    "old, lifts it"))
def test_her_new_year_video_to_twenty_from_a_first_week_network() -> None:
    _innocent(_shares("Happy New Year!! https://www.youtube.com/watch?v=ny", range(20, 40)))


@pytest.mark.xfail(strict=True, reason=(
    "the price: the same video posted three times to a conversation of 30 seldom-written "
    "friends that the IM server never stated a room (the client's claim): 30 dormant ties, "
    "past 15, so held and sending suspended from the first post; on main delivered. With a "
    "little-known site it was held on main too (homenet)"))
def test_her_video_to_an_unstated_conversation_of_thirty() -> None:
    engine, phone, when = _proven_by_answers(1.2)
    members = [f"alice-friend{n}" for n in range(20, 50)]
    _innocent([engine.process(message(engine.config, f"room{i}", "alice", members,
                                      "for the reunion https://www.youtube.com/watch?v=3",
                                      when + 600 * i, session="today", client=phone,
                                      conversation="reunion")) for i in range(3)])

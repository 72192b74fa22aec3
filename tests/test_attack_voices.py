"""Red team, session 14: who counts as a person among a session's reporters (``trust.voice``),
tried from the seat of an attacker who wants a victim's phone held (SESSION_REPORTED) and
from the seat of the people it must still hear.

Each test frames the victim as ``test_attack_learning._framed`` does (a month on its own
phone, encrypted lines in a group its planted reporters sit in, each reporting every line,
a different one first each time) and asserts what the victim's phone sends next: to a
friend, to someone new, to its three friends. Findings still open are
``xfail(strict=True)``; a fix turns each into a regression test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import T0, event, message
from spimguard.engine import Engine
from test_adversarial import full_engine, report
from test_attack_learning import _aged, _framed, _ring

Made = Callable[[Engine, list[str]], None]
SOCKS = [f"t{k}" for k in range(10)]


def _born(engine: Engine, accounts: list[str], days: float) -> None:
    for who in accounts:
        engine.process(event(engine.config, type="account", id=f"a-{who}", ts=T0 - 900,
                             account=who, created=T0 - days * 86_400))


def _planted(days: float) -> Made:
    """Accounts ``days`` old put in the victim's group, where its three friends chat: each
    hears the friends (three correspondents, none of its own making)."""
    def made(engine: Engine, socks: list[str]) -> None:
        _born(engine, socks, days)
        room = ["vic", "f1", "f2", "f3", *socks]
        for k, who in enumerate(["f1", "f2", "f3"]):
            engine.process(message(engine.config, f"chat{k}", who,
                                   [p for p in room if p != who],
                                   "who's bringing snacks saturday", T0 - 400 + k,
                                   conversation="g"))
    return made


def _aged_ring(days: float) -> Made:
    def made(engine: Engine, socks: list[str]) -> None:
        _born(engine, socks, days)
        _ring(engine, socks)
    return made


def _filler(days: float) -> Made:
    """One more account, outside the group, writes each planted account a line."""
    def made(engine: Engine, socks: list[str]) -> None:
        _born(engine, socks, days)
        engine.process(message(engine.config, "fill", "filler", socks, "hey", T0 - 300))
    return made


@pytest.mark.parametrize("days", [3, 31])
def test_accounts_planted_in_the_victims_active_group_cannot_get_its_phone_held(
        days: float) -> None:
    """Before: three accounts two days old (or a month), put in the group where the
    victim's friends chat, had three correspondents each (the friends), were three
    people, and three reported lines held the victim's next line to someone new and
    warned its lines to its friends. Ties within the reported message's audience are
    not a life of one's own."""
    assert _framed(SOCKS[:3], 3, made=_planted(days)) == ["deliver"] * 3


def test_two_day_old_accounts_in_a_ring_cannot_get_the_victims_phone_held() -> None:
    """Before: three accounts aged past ``new_reporter_age`` that wrote each other a line
    were three people (warn, hold, warn): the ring is all within the audience."""
    assert _framed(SOCKS[:3], 3, made=_aged_ring(3)) == ["deliver"] * 3


def _intruded(engine: Engine, sender: str, audience: list[str], reporters: list[str],
              room: str) -> list[str]:
    """An intruder on ``sender``'s account ("evil" session) writes three encrypted lines
    to ``audience`` in ``room``, and ``reporters`` report each, a different one first:
    the signals on its next line."""
    ts = T0
    for m in range(3):
        ts += 600
        engine.process(message(engine.config, f"ev{m}", sender, audience, "", ts,
                               encrypted=True, size=120, session="evil", conversation=room))
        for who in reporters[m:] + reporters[:m]:
            ts += 5
            report(engine, f"r{m}-{who}", who, f"ev{m}", ts=ts)
    verdict = engine.process(message(engine.config, "next", sender, ["someone"], "",
                                     ts + 60, encrypted=True, size=120, session="evil"))
    return sorted(s.code for s in verdict.signals)


def _family(age_days: float) -> list[str]:
    """A family of four (``age_days`` old, no friends outside it) chats in its group; an
    intruder on dad's phone ("evil" session) writes three encrypted lines there, and the
    other three report each; the signals on the intruder's next line."""
    engine = full_engine()
    family = ["dad", "mum", "kid1", "kid2"]
    _born(engine, family, age_days)
    for k, who in enumerate(family):
        engine.process(message(engine.config, f"chat{k}", who,
                               [p for p in family if p != who],
                               "dinner at grandma's sunday?", T0 - 800 + k,
                               conversation="fam"))
    return _intruded(engine, "dad", family[1:], family[1:], "fam")


YOUNG_FAMILY = (
    "red team, session 14: a family of accounts under a month old whose only ties are "
    "each other (the group an intruder writes in) is one voice: three of them reporting "
    "three of the intruder's lines no longer mark its session (before the audience rule: "
    "SESSION_REPORTED, held). Indistinguishable by the reporters' own facts from three "
    "accounts planted in the victim's group; the cost of closing that attack.")


FILLER = (
    "red team, session 14: one filler account outside the group writing a line to each "
    "of three accounts aged two days makes each a person (a correspondent outside the "
    "audience); each reports first on some line, so the per-message circle comparison "
    "never sees the shared filler: ten lines reported -> warn, hold, warn. trust.py's "
    "open filler hole, cheaper for sessions (one filler, not full_footprint a sock); "
    "closing it takes circles compared across a session's reporters.")
QUIET_SOCKS = (
    "red team, session 14: ten accounts a month old, each with a delivered line to "
    "anyone (not the victim, not each other), are ten people by the quiet rule: ten "
    "reported lines -> warn, hold, warn (main: deliver x3; five such accounts: deliver, "
    "warn, deliver). The price trust.voice names for hearing quiet month-old users.")


@pytest.mark.parametrize(("socks", "made"), [
    pytest.param(3, _filler(3), id="one-filler",
                 marks=pytest.mark.xfail(strict=True, reason=FILLER)),
    pytest.param(10, _aged(31), id="month-old-with-a-line",
                 marks=pytest.mark.xfail(strict=True, reason=QUIET_SOCKS)),
])
def test_planted_reporters_with_a_bought_life_cannot_get_the_phone_held(
        socks: int, made: Made) -> None:
    assert _framed(SOCKS[:socks], 10, made=made) == ["deliver"] * 3


def _stuffed(days: float) -> list[str]:
    """Three recipients ``days`` old, each written to by three friends of its own and
    writing each back; an intruder ("evil" session) puts the recipients' friends in the
    audience of its three encrypted lines (a group it makes of them all), and the
    recipients report each: the signals on its next line."""
    engine = full_engine()
    reporters = [f"r{i}" for i in range(3)]
    pals = [f"{who}~pal{k}" for who in reporters for k in range(3)]
    _born(engine, reporters, days)
    for who in reporters:
        for k in range(3):
            engine.process(message(engine.config, f"pal-{who}-{k}", f"{who}~pal{k}", [who],
                                   "see you at 7", T0 - 800 + k))
            engine.process(message(engine.config, f"back-{who}-{k}", who,
                                   [f"{who}~pal{k}"], "sure, see you", T0 - 700 + k))
    return _intruded(engine, "alice", reporters + pals, reporters, "trap")


STUFFED = (
    "red team, session 14: the audience is the sender's choice, so an intruder who "
    "knows its reporters' friends and adds them to its audience makes reporters under "
    "a month old one voice: three ten-day-old recipients with three friends each, "
    "friends in the audience, no longer mark its session (before the audience rule: "
    "SESSION_REPORTED). The cost of the rule; it takes knowing every friend of each.")


@pytest.mark.parametrize(("scene", "days"), [
    (_family, 31),
    pytest.param(_family, 3, marks=pytest.mark.xfail(strict=True, reason=YOUNG_FAMILY)),
    (_stuffed, 31),
    pytest.param(_stuffed, 10, marks=pytest.mark.xfail(strict=True, reason=STUFFED)),
])
def test_the_people_an_intruder_writes_to_still_mark_its_session(
        scene: Callable[[float], list[str]], days: float) -> None:
    """The honest side of the audience rule: month-old recipients are people by their own
    lines to others (``quiet_reporter_age``), a family whose only ties are each other
    (``_family``) and recipients whose friends the intruder added to its audience
    (``_stuffed``: the audience is the sender's choice)."""
    assert "SESSION_REPORTED" in scene(days)

"""Session 41, ``calls41``: fewer Python calls an event on the judging path.

A speed change (every verdict as before): the per-event NamedTuples ``calls40`` left
(``accounts.Standing``, the takeover ``Plan`` and ``_People``, velocity's ``_Plan`` and
``_Cold``, relationship's and reputation's ``_Plan``, the records' ``Answer``) as msgspec
structs, made in C where a NamedTuple's ``__new__`` is a Python lambda's frame. The tests
hold each to main's fields, order, defaults and immutability, and the places that read a
tuple's shape (velocity's deferred reads, the engine's test of a stored answer) to what
main gave. Only ``test_made_without_a_python_frame`` fails on main (that is the change);
the others guard properties main had and the change must keep.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import msgspec
import pytest

from conftest import T0, engine, message
from spimguard import accounts, records
from spimguard.detectors import relationship, reputation, velocity
from spimguard.detectors.takeover import plan
from spimguard.state.ops import Contains, Get

_NONE: Any = msgspec.NODEFAULT

# Main's NamedTuples: each field, in main's order (their makers pass most by position),
# with main's default (``_NONE``: none).
_AS_MAIN: dict[Any, tuple[tuple[str, Any], ...]] = {
    accounts.Standing: (("strangers", _NONE), ("unvouched", _NONE)),
    plan.Plan: (("record", _NONE), ("contacts_n", _NONE), ("restrictions", _NONE),
                ("reads", _NONE), ("later", ()), ("session", ""), ("burst", None),
                ("contacts", None), ("talked", None), ("same_text", None), ("heard", None),
                ("text_to", None), ("spread", ()), ("unlisted", 0), ("sought", None),
                ("shape", None), ("life", None), ("pals", None), ("listed_back", ()),
                ("wrote", None), ("doubted", None), ("doubted_life", None),
                ("doubted_pals", None), ("back", ()), ("reciprocated", None), ("room", None),
                ("shares", None)),
    plan._People: (("plan", _NONE), ("listed_back", _NONE), ("clear_reads", _NONE)),
    velocity._Plan: tuple((name, _NONE) for name in (
        "people", "rate", "targets_seen", "strangers", "unvouched", "ties", "back",
        "carried", "direct", "cold", "answer", "everyone", "reads", "later", "deferred",
        "counted")),
    velocity._Cold: tuple((name, _NONE) for name in (
        "day", "answered", "week", "answered_week", "withheld")),
    relationship._Plan: tuple((name, _NONE) for name in (
        "people", "listed", "listed_back", "wrote_back", "reads")),
    reputation._Plan: tuple((name, _NONE) for name in (
        "domains", "owners", "popular", "allowed", "people", "unnamed", "ties", "back")),
    records.Answer: (("digest", _NONE), ("result", _NONE)),
}
_KINDS = pytest.mark.parametrize("kind", list(_AS_MAIN), ids=lambda k: k.__qualname__)


def _fields(kind: Any) -> tuple[tuple[str, Any], ...]:
    """A NamedTuple's or a struct's fields with their defaults, in order."""
    if hasattr(kind, "_fields"):  # main's NamedTuple
        return tuple((name, kind._field_defaults.get(name, _NONE)) for name in kind._fields)
    return tuple((f.name, f.default) for f in msgspec.structs.fields(kind))


def _required(kind: Any) -> int:
    return sum(default is _NONE for _, default in _AS_MAIN[kind])


@_KINDS
def test_fields_order_and_defaults_are_main_s(kind: Any) -> None:
    """Made by position (``Plan(*own, reads=...)``, ``_Plan(people, *windows, ...)``,
    ``Answer(row[1], row[2])`` in every record store), a field out of order would be
    another's value."""
    assert _fields(kind) == _AS_MAIN[kind]
    names = [name for name, _ in _AS_MAIN[kind]]
    made = kind(*range(len(names)))
    assert [getattr(made, name) for name in names] == list(range(len(names)))
    least = kind(*range(_required(kind)))
    assert [getattr(least, name) for name, _ in _AS_MAIN[kind][_required(kind):]] == [
        default for _, default in _AS_MAIN[kind][_required(kind):]]


@_KINDS
def test_immutable_equal_by_value(kind: Any) -> None:
    """As immutable as main's tuple, and equal to another made of the same values (tests
    and the record stores' conformance compare them)."""
    names = [name for name, _ in _AS_MAIN[kind]]
    made = kind(*range(len(names)))
    with pytest.raises(AttributeError):
        setattr(made, names[0], None)
    assert made == kind(*range(len(names))) and made != kind(*range(1, len(names) + 1))
    assert hash(made) == hash(kind(*range(len(names))))


@_KINDS
def test_made_without_a_python_frame(kind: Any) -> None:
    """The change itself: building one runs no Python function (main's ran its
    ``__new__``, a lambda)."""
    args = tuple(range(len(_AS_MAIN[kind])))
    called: list[str] = []

    def seen(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            called.append(frame.f_code.co_qualname)

    sys.setprofile(seen)
    try:
        kind(*args)
    finally:
        sys.setprofile(None)
    assert called == []


def test_an_empty_answer_is_still_an_answer() -> None:
    """The engine takes a stored answer by ``self._answered.get(id) or known.get(id)``: an
    answer with an empty digest (a log entry older than digests) and result is one all
    the same, as main's two-tuple was."""
    assert bool(records.Answer("", b""))
    found = records.Answer("", b"") or None
    assert found is not None


@pytest.mark.parametrize("recipients", [["bob"], ["bob", "carol", "bob"]])
def test_velocity_defers_in_main_s_order(recipients: list[str]) -> None:
    """Velocity's deferred reads: the ties, then ``direct``, then the cold sets in
    ``_Cold``'s field order, then a one-to-one message's answers, as main unpacked the
    tuple."""
    judge = engine()
    detector = next(d for d in judge.detectors if d.name == "velocity")
    sent = message(judge.config, "m1", "alice", recipients, "hello there", T0)
    ctx = judge._plan(sent, []).ctx
    found = detector._plan(ctx, ctx.message)
    assert found.cold is not None and found.direct is not None
    cold = found.cold
    assert found.deferred == (*found.later, found.direct, cold.day, cold.answered, cold.week,
                              cold.answered_week, cold.withheld, *(found.answer or ()))
    assert (found.answer is not None) == (len(set(recipients)) == 1)


@pytest.mark.parametrize("text", ["hello there", "see https://shop.example/x now", ""])
def test_a_takeover_plan_keeps_the_account_parts_of_its_people_plan(text: str) -> None:
    """``_people_plan`` copies the account's plan with the message's parts
    (``msgspec.structs.replace``, main's ``_replace``): the account's three reads are
    the account plan's, and what a risky session reads is ``later`` past the vouching
    correspondents and the popular shares, as ``Plan.risky`` slices it."""
    judge = engine()
    sent = message(judge.config, "m1", "alice", ["bob", "carol"], text, T0)
    ctx = judge._plan(sent, []).ctx
    detector = next(d for d in judge.detectors if d.name == "takeover")
    found = plan.plan(detector.cfg, ctx)
    assert found is not None
    account = plan._account_plan("alice", False)
    assert (found.record, found.contacts_n, found.restrictions) == (
        account.record, account.contacts_n, account.restrictions)
    assert found.record == Get(found.record.key) and found.session
    assert found.later[:2] == (found.reciprocated, found.shares)
    assert found.contacts_n in found.risky() and found.burst in found.risky()
    assert found.reciprocated not in found.risky() and found.shares not in found.risky()


def test_standing_reads_as_main_s() -> None:
    """``accounts.standing`` of recipients past the ties' cap: strangers and unvouched by
    name, as main's tuple held them."""
    people = ("bob", "carol", "dave")
    contacts, talked = accounts.ties("alice", people)
    back = accounts.listed_back("alice", people)
    facts: dict[Any, Any] = {contacts: [True, False, True], talked: [False, False, True]}
    facts.update({q: [q is back[0]] for q in back})
    assert isinstance(back[0], Contains)
    found = accounts.standing(("bob", "carol", "dave", "erin"), (contacts, talked), facts,
                              back)
    assert (found.strangers, found.unvouched) == (["carol", "erin"], [])
    alone = accounts.standing(people, (contacts, talked), facts, back)
    assert alone == accounts.Standing(["carol"], [])

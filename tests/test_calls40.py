"""Session 40, ``calls40``: fewer Python calls an event on the judging path.

A speed change (every verdict as before): an event's ``account`` read by an
``attrgetter`` property; the plan memo's look-up in ``Planning._plan`` where five
detectors' wrappers called ``base.once``; five per-event NamedTuples as msgspec structs;
``accounts.listed_back`` by ``map`` and ``lists.host_suffixes`` by a loop. The tests hold
each to what main's spelling gave (kept here), on hostile inputs: look-alike, dotted,
empty, bidi and overlong names, repeated recipients, caps of none to many. All pass on
main but the memo's, which names ``Planning``'s ``_make_plan`` (main's takeover and
sessions called theirs ``_planned``, with other arguments for sessions).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import T0, engine, message
from spimguard import accounts, lists
from spimguard.detectors import bulk, content, velocity
from spimguard.detectors.base import once
from spimguard.engine import _Planned
from spimguard.events import Contacts, Invite, Message, Report
from spimguard.state.ops import Contains
from spimguard.text import MAX_HOST_CHARS

NAMES = st.text(st.sampled_from("aAıİ\u0307é\u0301 .-_0\u200b\u202e:"), max_size=6)
HOSTS = st.text(st.sampled_from("a.-xé\u0301"), max_size=12) | st.builds(
    lambda label, n, tail: (label + ".") * n + tail,
    st.sampled_from(["a", "ab", "", "x-y"]), st.integers(0, MAX_HOST_CHARS), NAMES)
SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(NAMES.filter(bool), st.lists(NAMES.filter(bool), min_size=1, max_size=4),
       NAMES.filter(bool))
def test_an_events_account_is_the_field_that_holds_it(sender: str, recipients: list[str],
                                                      reporter: str) -> None:
    """A message's and an invite's ``account`` is its sender, a report's its reporter, as
    main's ``def`` properties gave; no kind can be handed another, and it is no field
    (the wire and the digest carry none)."""
    for kind in (Message, Invite):
        sent = kind(id="m", ts=T0, sender=sender, recipients=recipients, text="hi")
        assert sent.account == sender and type(sent.account) is str
        assert "account" not in msgspec.structs.asdict(sent)
        with pytest.raises(AttributeError):
            sent.account = "someone else"  # type: ignore[misc]
    report = Report(id="r", ts=T0, reporter=reporter, message_id="m", label="spam")
    assert report.account == reporter and "account" not in msgspec.json.decode(
        msgspec.json.encode(report))
    assert Contacts(id="c", ts=T0, account=sender, contacts=[]).account == sender


def _listed_back_as_main(sender: str, recipients: list[str], cap: int
                         ) -> tuple[Contains, ...]:
    me = (sender,)
    return tuple(Contains(accounts.contacts(p), me)
                 for p in tuple(dict.fromkeys(recipients))[:cap])


@SLOW
@given(NAMES, st.lists(NAMES, max_size=9), st.integers(-2, 10))
def test_listed_back_asks_what_main_asked(sender: str, recipients: list[str], cap: int
                                          ) -> None:
    """Each of the first ``cap`` distinct recipients asked whether it lists the sender,
    in order, repeats once, the sender among them too: the same queries as main's."""
    found = accounts.listed_back(sender, recipients, cap)
    assert found == _listed_back_as_main(sender, recipients, cap)
    assert type(found) is tuple and all(type(q) is Contains for q in found)


def _suffixes_as_main(host: str) -> tuple[str, ...]:
    if len(host) > MAX_HOST_CHARS:
        host = host[-MAX_HOST_CHARS - 1:].partition(".")[2]
        if not host:
            return ()
    labels = host.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


@SLOW
@given(HOSTS)
def test_a_hosts_suffixes_are_main_s(host: str) -> None:
    """Empty labels (leading, doubled and trailing dots), the empty host, a host past
    ``MAX_HOST_CHARS`` cut at a dot or at none: the suffixes main's join gave."""
    assert lists.host_suffixes(host) == _suffixes_as_main(host)


@pytest.mark.parametrize("host", ["", ".", "..", "a.", ".a", "a..b", "é\u0301.x",
                                  "a." * 200 + "com", "a" * 300, "b" * 254 + ".c"])
def test_a_hosts_suffixes_at_the_edges(host: str) -> None:
    assert lists.host_suffixes(host) == _suffixes_as_main(host)


# The NamedTuples main built by a Python ``__new__``, now structs: their fields in main's
# order (their makers pass them by position) and as immutable as main's.
_AS_MAIN = {
    _Planned: ("ctx", "own", "active", "queries"),
    content._Scored: ("teachable", "trained", "shifts", "at"),
    velocity._Reach: ("now", "strangers", "unvouched", "count", "listed", "carriers"),
    bulk._Plan: ("keys", "reads", "queries", "ties", "back", "turn"),
    bulk._Read: ("cluster", "fresh", "strangers", "arrival", "listed", "decay"),
}


@pytest.mark.parametrize("kind", list(_AS_MAIN), ids=lambda k: k.__qualname__)
def test_a_plans_fields_stay_in_main_s_order(kind: Any) -> None:
    names = getattr(kind, "_fields", None) or kind.__struct_fields__
    assert tuple(names) == _AS_MAIN[kind]
    made = kind(*range(len(names)))
    assert [getattr(made, name) for name in names] == list(range(len(names)))
    if kind is not _Planned:  # the engine's own, never handed on: main's was a tuple too
        with pytest.raises(AttributeError):
            setattr(made, names[0], None)


@pytest.mark.parametrize("name", ["reputation", "bulk", "sealed_bulk", "takeover", "sessions"])
def test_a_detectors_plan_is_made_once_an_event_and_kept_as_once_keeps_it(name: str) -> None:
    """Asked by ``reads``, ``detect`` and ``writes``, the plan is made at the first ask
    and kept under the detector's name, the memo ``once`` keeps (takeover's peers test
    that key to know whether it planned the event); a plan of None is kept too."""
    judge = engine()
    detector = next(d for d in judge.detectors if d.name == name)
    made: list[Any] = []
    make = detector._make_plan

    def counting(ctx: Any) -> Any:
        made.append(ctx)
        return make(ctx)

    detector._make_plan = counting  # type: ignore[method-assign]
    sent = message(judge.config, "m1", "alice", ["bob", "bob", "carol"],
                   "see https://example.test/x now", T0)
    ctx = judge._plan(sent, []).ctx
    first = detector._plan(ctx)
    assert detector._plan(ctx) is first and detector._plan(ctx) is first and made == [ctx]
    assert once(ctx, name, counting, ctx) is first and made == [ctx]
    fresh = judge._plan(sent, []).ctx
    fresh.scratch[name] = None
    assert detector._plan(fresh) is None and made == [ctx]

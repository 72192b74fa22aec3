"""Session 43's ``plan43``: planning an event, split further and cut.

``benchmarks/judge_split.py`` now splits planning (``Engine._plan_batch``) into the context,
the text view, the recipients' names, the engine's own reads, each detector's ``reads`` and
the batched detectors' ``prepare`` (content's features and margins, waves' MinHash). The
cuts: a detector's ``reads`` is asked only for the events its class declares it can name a
query for (``detectors.base.reads_for``: rules never, content and waves for reports), and
the declaration must hold; and the relationship detector's plan takes the event's
``shared_ties`` instead of making the same queries again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spimguard.detectors import base
from spimguard.engine import Engine
from spimguard.events import Message, Report
from test_judge42 import _engine, _events, _judged, judge_split


def _recording_reads(engine: Engine, log: list[tuple[str, bool, int]]) -> None:
    """Each detector's ``reads`` logs (its name, whether the event is a report, how many
    queries it gave)."""
    for detector in engine.detectors:
        def reads(ctx: Any, _d: Any = detector, _r: Any = detector.reads) -> Any:
            out = _r(ctx)
            log.append((_d.name, isinstance(ctx.event, Report), len(out)))
            return out
        detector.reads = reads  # type: ignore[method-assign]


def test_a_detector_is_asked_for_reads_only_for_the_events_it_declares() -> None:
    """Rules never reads, content and waves read for reports only: the engine asks them
    nothing else (a call cost ~900 instructions, three a message)."""
    engine = _engine()
    asked: list[tuple[str, bool, int]] = []
    _recording_reads(engine, asked)
    _judged(engine, _events(engine), 50)
    declared = {d.name: base.reads_for(d) for d in engine.detectors}
    assert {n for n, w in declared.items() if w == base.READS_NONE} == {"rules"}
    assert {n for n, w in declared.items() if w == base.READS_REPORTS} == {"content", "waves"}
    by_name: dict[str, set[bool]] = {}
    for name, report, _ in asked:
        by_name.setdefault(name, set()).add(report)
    assert "rules" not in by_name
    assert by_name["content"] == by_name["waves"] == {True}
    assert all(by_name[n] == {False, True} for n, w in declared.items()
               if w == base.READS_ANY)


def test_every_reads_declaration_holds_what_was_skipped_was_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked of every detector for every event (the declarations ignored), a detector
    names queries only for the events its class declares; and the answers are the ones
    given when the engine skips the others."""
    events = _events(_engine(), users=30, count=500)
    expected = _judged(_engine(), events, 50)
    monkeypatch.setattr("spimguard.engine.reads_for", lambda _: base.READS_ANY)
    engine = _engine()
    given: list[tuple[str, bool, int]] = []
    _recording_reads(engine, given)
    assert _judged(engine, events, 50) == expected
    declared = {d.name: base.reads_for(d) for d in engine.detectors}
    assert {(n, r) for n, r, _ in given} >= {(n, r) for n in declared for r in (False, True)}
    named = {(n, r) for n, r, k in given if k}
    assert {n for n, _ in named} & {n for n, w in declared.items() if w == base.READS_NONE} \
        == set()
    assert {n for n, r in named if not r} & {
        n for n, w in declared.items() if w == base.READS_REPORTS} == set()
    assert ("content", True) in named and ("waves", True) in named  # the test can tell


def test_a_subclass_that_reads_again_without_declaring_is_asked_for_every_event() -> None:
    """``reads_for`` speaks for the ``reads`` beside it (as ``writes_for``, ``review42``):
    a plugin that subclasses rules to read something is asked, not silently never."""
    from spimguard.detectors.rules import RulesDetector

    class _ReadingRules(RulesDetector):
        def reads(self, ctx: Any) -> Any:
            return ()

    assert base.reads_for(RulesDetector({})) == base.READS_NONE
    assert base.reads_for(_ReadingRules({})) == base.READS_ANY


def test_the_relationship_plan_takes_the_events_shared_ties() -> None:
    """The relationship detector's queries are the very objects of the event's
    ``shared_ties`` (bulk's, velocity's, reputation's), not equal ones made again; and a
    message to more than ``max_people`` or to its sender has no plan, as before."""
    engine = _engine()
    relationship = next(d for d in engine.detectors if d.name == "relationship")
    for recipients in (["b"], ["b", "c", "b"], ["c", "d", "e", "f", "g"]):
        sent = Message(id=f"m{len(recipients)}", ts=1.0, sender="a", recipients=recipients,
                       text="hello there")
        ctx = engine._plan(sent, engine._roles().enabled).ctx
        plan = relationship._plan(ctx)
        (listed, wrote_back), back = base.shared_ties(ctx, sent)
        assert plan.listed is listed and plan.wrote_back is wrote_back
        assert len(plan.listed_back) == len(back)
        assert all(a is b for a, b in zip(plan.listed_back, back, strict=True))
        assert plan.people == tuple(dict.fromkeys(recipients))
    for recipients in (["a", "b"], ["b", "c", "d", "e", "f", "g"]):
        sent = Message(id="n", ts=1.0, sender="a", recipients=recipients, text="hi")
        assert relationship._plan(engine._plan(sent, engine._roles().enabled).ctx) is None


def test_the_split_counts_planning_by_part(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The planning rows of the split are reached: the context, the text view, each
    batched detector's ``prepare`` and content's and waves' parts of it (a row never
    reached would read 0 in the table, as if free). Not the hashing of texts itself:
    the parts of a text hashed by an earlier test in the process are kept. The steps'
    wrappers are taken off after (a class's methods stay wrapped otherwise, and a later
    test in the worker meets them: ``test_takeover43``'s frames)."""
    engine = _engine()
    for _, holder, attribute in judge_split._targets(engine):
        monkeypatch.setattr(holder, attribute, getattr(holder, attribute))
    counts: dict[str, list[int]] = {}
    judge_split.wrap_steps(engine, tmp_path, counts)()
    events = _events(engine, count=120)
    messages = sum(type(e) is Message for e in events)
    _judged(engine, events, 60)
    assert counts["    Context (made, with its __post_init__)"][0] == len(events)
    assert counts["    text.view (the message's text view)"][0] == messages
    for row in ("  prepare: content", "  prepare: waves",
                "    features.batch_parts (content's hashed features)",
                "    the trained model's margins (one sparse product)",
                "    neighbours.sketches (waves' MinHash)"):
        assert counts[row][0] > 0, row

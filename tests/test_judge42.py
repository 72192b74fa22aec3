"""Session 42's ``judge42``: judging an event, split by detector and step, and cut.

``benchmarks/judge_split.py`` counts each step of ``Engine._process`` by calling it through
a C function of its own (a module compiled for the run): the engine's code must name none
of them, and a wrapped engine must judge as one unwrapped. The cuts: a detector's
``writes`` is asked only for the events its class declares it can write for
(``detectors.base.writes_for``), and a declaration must hold (what the skipped calls
would have given is nothing, every answer the same); and an event after which nobody
else learnt anything moves the learnt count on without a call to ``_refresh_learners``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from spimguard import decode_event, load_config, open_engine
from spimguard.detectors import base
from spimguard.engine import Engine
from spimguard.events import Event, Message, Report
from spimguard.sim import network

# The benchmark's modules from this tree's ``benchmarks`` (as ``test_batch41`` imports them).
with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import engine as engine_benchmark
    import judge_split

SRC = Path(__file__).resolve().parents[1] / "src" / "spimguard"


def _engine() -> Engine:
    cfg = load_config(environ={}, storage={"backend": "memory"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    return open_engine(cfg, None)


def _events(engine: Engine, users: int = 20, count: int = 300) -> list[Event]:
    """The mixed load's first events, and a spam and a ham report of some of its messages
    (the load has none: reports are what three detectors write for)."""
    events = [decode_event(line, engine.config.limits)
              for line in engine_benchmark.load(users, 1)[:count]]
    messages = [e for e in events if type(e) is Message]
    reports = [Report(id=f"r{i}", ts=m.ts + 1, reporter=m.recipients[0], message_id=m.id,
                      label="spam" if i % 3 else "ham")
               for i, m in enumerate(messages[::12])]
    return sorted(events + reports, key=lambda e: e.ts)


def _judged(engine: Engine, events: list[Event], size: int) -> list[bytes]:
    out = []
    for start in range(0, len(events), size):
        out += [msgspec.json.encode(r) for r in engine.process_batch(events[start:start + size])]
    engine.close()
    return out


def test_no_engine_code_names_a_function_the_judge_split_counts_a_step_by() -> None:
    """The split's C functions are its own module's (``judge_steps``, compiled for the
    run): no module of ``src`` names it or one of them, which would make a step's count
    hold another's; and no two steps share a function."""
    naming = [str(path.relative_to(SRC)) for path in sorted(SRC.rglob("*.py"))
              if re.search(r"judge_step", path.read_text())]
    assert naming == []
    symbols = [judge_split._symbol(label) for label, _, _ in judge_split.STEPS]
    assert len(set(symbols)) == len(symbols)
    assert all(s.startswith("judge_step_") for s in symbols)


@pytest.mark.parametrize("size", [1, 7])
def test_an_engine_whose_steps_the_judge_split_wraps_judges_as_one_unwrapped(
        size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every wrapper hands its step's answer back, a step's exception too: the same
    verdicts, in the same order; and every step was reached (its count is the table's).
    The modules' functions are put back after (a test of one, ``test_decode43``'s frames,
    would meet the wrapper in the same process)."""
    plain = _engine()
    events = _events(plain)
    expected = _judged(plain, events, size)
    wrapped = _engine()
    for _, holder, attribute in judge_split._targets(wrapped):
        monkeypatch.setattr(holder, attribute, getattr(holder, attribute))
    counts: dict[str, list[int]] = {}
    judge_split.wrap_steps(wrapped, tmp_path, counts)()
    assert _judged(wrapped, events, size) == expected
    assert counts["empty"][0] == counts["calls of the empty step"][1] == (
        judge_split._CALIBRATION)
    assert counts["    trust.weigh (reports)"][0] > 0
    assert counts["    detect: takeover"][0] == len(events)
    # The wrapped calls made inside a step are counted in it (what is taken off it), in
    # its parent's too.
    judging, judge = counts["_process: judging an event, all of it"], counts[
        "  _judge (all but the repeats' answers)"]
    assert judging[1] >= judge[0] + judge[1] > counts["    detect: takeover"][0]


def test_a_detector_is_asked_for_writes_only_for_the_events_it_declares() -> None:
    """Four detectors never write and three write for reports only; the engine asks them
    nothing else (each call cost ~1,000 instructions a message)."""
    engine = _engine()
    asked: dict[str, list[bool]] = {}
    for detector in engine.detectors:
        def writes(ctx: Any, facts: Any, outcome: Any, _d: Any = detector,
                   _w: Any = detector.writes) -> Any:
            asked.setdefault(_d.name, []).append(ctx.trust is not None)
            return _w(ctx, facts, outcome)
        detector.writes = writes  # type: ignore[method-assign]
    _judged(engine, _events(engine), 50)
    declared = {d.name: base.writes_for(d) for d in engine.detectors}
    assert {n for n, w in declared.items() if w == base.WRITES_NONE} == {
        "rules", "attachments", "links", "relationship"}
    assert {n for n, w in declared.items() if w == base.WRITES_REPORTS} == {
        "content", "waves", "sessions"}
    for name, kind in declared.items():
        if kind == base.WRITES_NONE:
            assert name not in asked, name
        elif kind == base.WRITES_REPORTS:
            assert asked[name] and all(asked[name]), name
        else:
            assert False in asked[name] and True in asked[name], name


def test_every_declaration_holds_what_was_skipped_was_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked of every detector for every event (the declarations ignored), a detector
    gives writes only for the events its class declares; and the answers are the ones
    given when the engine skips the others."""
    events = _events(_engine(), users=30, count=500)
    expected = _judged(_engine(), events, 50)
    monkeypatch.setattr("spimguard.engine.writes_for", lambda _: base.WRITES_ANY)
    engine = _engine()
    given: list[tuple[str, bool, int]] = []
    for detector in engine.detectors:
        def writes(ctx: Any, facts: Any, outcome: Any, _d: Any = detector,
                   _w: Any = detector.writes) -> Any:
            out = _w(ctx, facts, outcome)
            given.append((_d.name, ctx.trust is not None, len(out)))
            return out
        detector.writes = writes  # type: ignore[method-assign]
    assert _judged(engine, events, 50) == expected
    declared = {d.name: base.writes_for(d) for d in engine.detectors}
    assert {(n, r) for n, r, _ in given} >= {(n, r) for n in declared for r in (False, True)}
    wrote = {(n, r) for n, r, k in given if k}
    assert {n for n, _ in wrote} & {n for n, w in declared.items() if w == base.WRITES_NONE} \
        == set()
    assert {n for n, r in wrote if not r} & {
        n for n, w in declared.items() if w == base.WRITES_REPORTS} == set()
    assert ("content", True) in wrote  # the reports taught something: the test can tell


def test_an_event_after_which_nobody_else_learnt_costs_no_refresh() -> None:
    """The learnt count moves on in ``_judge`` itself when no other node learnt anything;
    a change logged by another node (a write to the log outside this engine's count) is
    still caught up on, before the next verdict."""
    engine = _engine()
    calls: list[Any] = []
    refresh = engine._refresh_learners

    def counted(version: Any) -> None:
        calls.append(version)
        refresh(version)
    engine._refresh_learners = counted  # type: ignore[method-assign]
    events = _events(engine)
    engine.process_batch(events[:100])
    assert calls == []
    engine.state.write([base.learnt()], engine.clock)  # another node's, as the log shows it
    engine.state.commit()
    engine.process_batch(events[100:110])
    assert len(calls) == 1
    assert engine._learnt_seen == calls[0][0]
    engine.close()

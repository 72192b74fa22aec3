"""Session 42's merged changes attacked (``review42``): each test a finding, failing on the
branch as merged."""

from __future__ import annotations

from collections.abc import Sequence

from conftest import T0, engine, message
from spimguard.detectors.base import Context, Facts, Outcome
from spimguard.detectors.rules import RulesDetector
from spimguard.state.ops import Get, Put, Write


class _RememberingRules(RulesDetector):
    """An operator's detector made from a bundled one (the way to keep its lists and add
    a memory): it overrides ``writes`` and declares nothing of ``writes_for``."""

    name = "rules"

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        return [Put(f"review42:seen:{ctx.event.id}", 1)]


def test_a_subclass_that_writes_is_asked_though_its_parent_declared_it_writes_nothing() -> None:
    """``writes_for`` is read from the class, so a subclass inherits its parent's
    ``WRITES_NONE`` and the engine never calls the ``writes`` it overrides: what it means
    to keep is dropped, silently (no error, no log). A declaration holds for the
    ``writes`` beside it: a class that overrides ``writes`` without declaring again
    writes for any event, as one that never declared."""
    from spimguard.detectors.base import WRITES_ANY, WRITES_NONE, writes_for  # (not on base)

    assert writes_for(RulesDetector({})) == WRITES_NONE
    assert writes_for(_RememberingRules({})) == WRITES_ANY
    judge = engine()
    judge.detectors = [_RememberingRules({}) if d.name == "rules" else d
                       for d in judge.detectors]
    judge.process(message(judge.config, "m1", "alice", ["bob"], "merhaba, nasılsın?", T0))
    assert judge.read_state([Get("review42:seen:m1")]) == [1]

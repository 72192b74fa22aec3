"""A detector that raises: production answers anyway, the test suite does not look away."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import DetectorFailures, engine, message


class Raising:
    """A real detector whose ``detect`` fails, as a bug would make it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def detect(self, ctx: Any, facts: Any) -> Any:
        raise RuntimeError("detector bug")


def test_a_failing_detector_is_logged_answered_and_fails_the_test(
        no_detector_failures: DetectorFailures) -> None:
    judge = engine()
    judge.detectors[0] = Raising(judge.detectors[0])
    result = judge.process(message(judge.config, "m1", "alice", ["bob"], "hi, lunch today?"))
    assert result.action == "deliver"  # production behaviour: the message is answered
    assert no_detector_failures.failures and "detector bug" in no_detector_failures.failures[0]
    with pytest.raises(pytest.fail.Exception, match="detector failure"):
        no_detector_failures.check()  # what the autouse fixture does after every test
    no_detector_failures.failures.clear()  # this test's failure was on purpose


def test_other_engine_errors_are_not_detector_failures(
        no_detector_failures: DetectorFailures) -> None:
    """A detector disabled by bad settings is logged at ERROR too, on purpose: not a failure."""
    judge = engine(detectors={"links": {"no_such_setting": 1}})
    assert "is not a setting of links" in judge.disabled["links"]
    assert not no_detector_failures.failures


class PreparingBadly:
    """A batched detector whose ``prepare`` fails halfway, leaving wrong scores behind."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def prepare(self, batch: Any) -> None:
        for ctx in batch:
            ctx.scratch[self._inner.name] = "half done"
        raise RuntimeError("prepare bug")


def test_a_failing_prepare_leaves_each_event_to_score_itself(
        no_detector_failures: DetectorFailures) -> None:
    """What a failed ``prepare`` left in the contexts is dropped: every message is judged
    as by a healthy engine, and the failure is logged."""
    healthy, judge = engine(), engine()
    at = next(i for i, d in enumerate(judge.detectors) if d.name == "content")
    judge.detectors[at] = PreparingBadly(judge.detectors[at])
    texts = ["hi, lunch today?", "WIN a FREE iPhone now, claim your prize at prize-win.top",
             "running late, 10 min"]
    events = [message(judge.config, f"m{i}", f"s{i}", ["bob"], text, 1_700_000_000 + i)
              for i, text in enumerate(texts)]
    assert judge.process_batch(events) == healthy.process_batch(events)
    assert no_detector_failures.failures and "prepare bug" in no_detector_failures.failures[0]
    no_detector_failures.failures.clear()  # this test's failure was on purpose

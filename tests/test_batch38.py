"""``benchmarks/tail.py --virtual``: each level is a share of the saturation of the
messages judged just before it, not of the warm-up's (session 38, ``batch38``: the
warm-up ends in the load's first day, the levels judge its second, ~25 % costlier a
message, so "70 %" was ~88 % of what the levels' own messages allow).

No timing: a made-up engine whose CPU is its batches' sizes (``time.thread_time``
replaced), so the rates the replay derives are exact. ``tail`` is this tree's benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import tail


class _Engine:
    """Judges nothing; each message costs ``each`` seconds of (made-up) CPU, kept in
    ``clock``, and each batch handed over is kept in ``batches``."""

    def __init__(self, each: float) -> None:
        self.each = each
        self.clock = 0.0
        self.batches: list[list[int]] = []

    def process_batch(self, events: list[int]) -> list[None]:
        self.batches.append(list(events))
        self.clock += self.each * len(events)
        return [None] * len(events)


def _clocked(monkeypatch: pytest.MonkeyPatch, engine: _Engine) -> None:
    monkeypatch.setattr(tail.time, "thread_time", lambda: engine.clock)


def test_saturation_is_of_the_messages_it_judges_in_sixteens(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate of ``count`` messages from ``start``, in batches of 16 (the last one what
    is left), the loop's share a check added to each."""
    engine = _Engine(each=0.001)
    _clocked(monkeypatch, engine)
    rate = tail._saturation(engine, list(range(100)), 10, 40, 0.0005)
    assert [b[0] for b in engine.batches] == [10, 26, 42]
    assert [len(b) for b in engine.batches] == [16, 16, 8]
    assert rate == pytest.approx(1 / 0.0015)


class _NoSpans:
    """No periodic work to tell apart (``tail._Spans``'s reading, empty)."""

    @staticmethod
    def take() -> tuple[dict[str, float], dict[str, int]]:
        return {}, {}


class _Costlier(_Engine):
    """Messages numbered from 0: each before ``later`` costs 1 ms, each after 2 ms (a
    load whose second day is costlier than its first)."""

    def __init__(self, later: int) -> None:
        super().__init__(each=0.001)
        self.later = later

    def process_batch(self, events: list[int]) -> list[None]:
        self.each = 0.001 if events[0] < self.later else 0.002
        return super().process_batch(events)


@pytest.mark.parametrize(("warm_rate", "rate"), [(False, 250), (True, 500)])
def test_a_level_is_a_share_of_what_its_own_messages_allow(
        monkeypatch: pytest.MonkeyPatch, warm_rate: bool, rate: int) -> None:
    """Messages cost 1 ms through the warm-up and 2 ms after it: a level of 50 % offers
    half the later messages' saturation (250/s, no loop cost), not half the warm-up's
    (500/s), which ``warm_rate`` keeps (session 36's replay)."""
    engine = _Costlier(later=300)
    _clocked(monkeypatch, engine)
    rows = dict(tail._replay(engine, list(range(2_000)), _NoSpans(), (0.5,), 1.0, 0.0,
                             300, False, 64, warm_rate))
    assert rows["virtual saturation (batches of 16) over the warm-up's last third, "
                "messages a second of CPU"] == "1,000"
    assert any(name.startswith(f"virtual 50% ({rate}/s)") for name in rows)
    assert ("virtual saturation before 50% (its 64 messages, batches of 16)" in rows) == (
        not warm_rate)

"""Session 44's ``stateio44``: the state layer's ops split on the cold load.

``benchmarks/state_split.py --cold`` records the memory state's calls while the engine
judges ``cold_instructions.py``'s cold load (every text new, no takeover record kept
decoded) and replays them under callgrind, so the cold load's state work (~340,000
instructions an event in ``judge_split.py --cold``) is split by op kind and keyspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spimguard.detectors.takeover import detector

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import cold_instructions
    import engine as judging  # the benchmarks' engine.py: it opens the engine
    import state_split

needs_chat = pytest.mark.skipif(not cold_instructions.CHAT.is_file(),
                                reason="the UCI SMS Spam Collection is not on this machine")


def _keys(calls: list[tuple[str, list[Any], float]], space: str) -> set[str]:
    """Every key under ``space`` the recorded calls read or wrote."""
    return {key for _, ops, _ in calls for op in ops
            for key in (op.keys if hasattr(op, "keys") else (op.key,))
            if key.startswith(space)}


@needs_chat
def test_the_split_records_the_cold_loads_calls_with_no_record_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same events' accounts read, more texts' band keys (each text new), and the
    engine opened with no takeover record kept decoded (as ``cold_instructions.py``
    counts), set back after."""
    kept: list[int] = []
    opened = judging.open_engine

    def opening(*args: Any, **kwargs: Any) -> Any:
        kept.append(detector._DECODED_KEPT)
        return opened(*args, **kwargs)

    monkeypatch.setattr(judging, "open_engine", opening)
    before = detector._DECODED_KEPT
    warm = state_split.record(20, 1, 500)
    cold = state_split.record(20, 1, 500, cold=True)
    assert kept == [before, 0] and before != 0
    assert before == detector._DECODED_KEPT
    assert _keys(cold, "acct:") == _keys(warm, "acct:") != set()
    assert len(_keys(cold, "bulk:")) > 2 * len(_keys(warm, "bulk:")) > 0

"""The memory backend's remembered key kinds (``MemoryState._kind_of``): bounded, and when
full the older half let go, so the keys asked last are not asked again, and every answer
stays what the prefixes make it."""

from __future__ import annotations

import pytest

from spimguard.state.conformance import LODGED
from spimguard.state.memory import _KINDS_KEPT, MemoryState
from spimguard.state.ops import Get, Put


def test_a_full_kind_memory_keeps_the_keys_asked_last(monkeypatch: pytest.MonkeyPatch) -> None:
    """One key past the bound lets the older half go: the last thousand keys asked before
    it are answered remembered (a memory cleared whole asked each again: 247,468 misses
    of 997,213 look-ups on the 2,000-user load, 204,483 so), the lodged values as put."""
    state = MemoryState()
    lodged = [f"{LODGED}h{i}" for i in range(50)]
    state.write([Put(key, i) for i, key in enumerate(lodged)], 100.0)
    asked: list[str] = []
    real = MemoryState._kind_of
    monkeypatch.setattr(MemoryState, "_kind_of",
                        lambda self, key: asked.append(key) or real(self, key))
    plain = [f"plain:k{i}" for i in range(_KINDS_KEPT + 1)]
    assert state.read([Get(key) for key in plain], 101.0) == [None] * len(plain)
    assert asked == plain, "each asked once: the lodged keys were remembered at their put"
    asked.clear()
    assert state.read([Get(key) for key in plain[-1_000:]], 102.0) == [None] * 1_000
    assert asked == [], "the keys asked last are remembered"
    assert state.read([Get(key) for key in lodged], 103.0) == list(range(50))
    assert len(state._kinds) <= _KINDS_KEPT

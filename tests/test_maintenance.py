"""Issue 18: maintenance keeps storage bounded, whatever shape the sweep takes.

A sweep that never finishes its round is a leak: every key that expired must be gone from
the store within a bounded number of events (``MAINTAIN_EVERY``), and not before its pass.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import T0, config, message
from spimguard import engine as engine_module
from spimguard import open_engine
from spimguard.state.ops import Incr, Put, Touch


@pytest.mark.parametrize("every", [5, 12])
def test_expired_keys_go_within_a_round_of_maintenance(monkeypatch: pytest.MonkeyPatch,
                                                       every: int) -> None:
    monkeypatch.setattr(engine_module, "MAINTAIN_EVERY", every)
    judge = open_engine(config())
    state: Any = judge.state  # the memory store: its tables are looked at
    stale = range(80)
    state.write([w for n in stale for w in (
        Incr(f"vel:old{n}", 1.0, ttl=60.0), Put(f"bulk:old{n}", n, ttl=60.0),
        Touch(f"vel:set{n}", ("x",), ttl=60.0))], T0)

    def held() -> int:
        return sum(f"vel:old{n}" in state._counters or f"bulk:old{n}" in state._values
                   or f"vel:set{n}" in state._members for n in stale)

    later = T0 + 86_400.0
    for n in range(every):
        assert held() == len(stale), f"swept before its pass (event {n})"
        judge.process(message(judge.config, f"m{n}", "a", ["b"], "hi", later + n))
    assert held() == 0, f"expired keys left after {every} events"

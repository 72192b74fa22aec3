"""Member sets touched many times at one time, and at times older than their newest: the
memory backend (whose large sets keep such touches in a loose tail, ``memory._Large``)
and SQLite answer as a plain model does, and a cap or a touch past the TTL drops the
same members in the same order, (time, name): what Redis's sorted sets drop."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spimguard.db import connect
from spimguard.state.conformance import T0
from spimguard.state.memory import _PACKED, MemoryState
from spimguard.state.ops import Contains, Distinct, Members, Remove, Replace, Touch
from spimguard.state.sqlite import SQLiteState

# Names in no order (so a touch's names fall among those of its time, not after them).
_PEOPLE = random.Random(5).sample([f"p{i:03d}" for i in range(2 * _PACKED + 40)],
                                  2 * _PACKED + 40)
_TTL = 600.0

# A step: what it does, how far the clock moves (mostly not at all: many touches at one
# time; -7 is an event older than the last), whom (a run of names, often one, past
# ``_PACKED`` at times), and the cap or TTL it writes with.
_steps = st.lists(st.tuples(
    st.sampled_from(["touch"] * 8 + ["remove", "replace", "sweep", "read_later"]),
    st.sampled_from([0.0] * 6 + [1.0, 1.0, -7.0, 400.0]),
    st.tuples(st.integers(0, len(_PEOPLE) - 1),
              st.sampled_from([1, 1, 1, 1, 2, 5, 40, _PACKED + 20])),
    st.sampled_from([_PACKED // 2, _PACKED + 30, 2 * _PACKED, 10_000]),
    st.sampled_from([_TTL, _TTL / 2])), min_size=1, max_size=80)


def _run(start: int, size: int) -> list[str]:
    return (_PEOPLE + _PEOPLE)[start:start + size]


class _Model:
    """A member set as its definition says: member -> time, in (time, name) order."""

    def __init__(self) -> None:
        self.members: dict[str, float] = {}
        self.expiry = self.ttl = 0.0

    def ordered(self) -> list[str]:
        return [m for m, _ in sorted(self.members.items(), key=lambda p: (p[1], p[0]))]

    def touch(self, some: list[str], now: float, ttl: float, cap: int) -> list[str]:
        """The touch; what it dropped, in order."""
        dropped: list[str] = []
        if self.expiry <= now:
            dropped, self.members, self.ttl = self.ordered(), {}, ttl
        for member in some:
            self.members[member] = max(self.members.get(member, now), now)
        cutoff = now - min(ttl, self.ttl)
        order = self.ordered()
        stale = sum(1 for m in order if self.members[m] <= cutoff)
        for member in order[:max(stale, len(order) - cap)]:
            del self.members[member]
            dropped.append(member)
        self.expiry, self.ttl = max(self.expiry, now + ttl), ttl
        return dropped

    def sweep(self, now: float) -> set[str]:
        """A sweep at ``now``: what it drops of a set still live (those past the TTL)."""
        if self.expiry <= now:
            self.members = {}
            return set()
        stale = {m for m, t in self.members.items() if t <= now - self.ttl}
        for member in stale:
            del self.members[member]
        return stale

    def answers(self, now: float, probe: tuple[str, ...], window: float) -> list[object]:
        live = ({m: t for m, t in self.members.items() if t > now - self.ttl}
                if self.expiry > now else {})
        return [tuple(m for m in self.ordered() if m in live),
                tuple(p in live for p in probe),
                sum(1 for t in live.values() if t > now - min(window, self.ttl))]


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps=_steps)
def test_sets_touched_at_equal_and_older_times_answer_and_drop_as_a_model(
        steps: list[tuple[str, float, tuple[int, int], int, float]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _check(steps, Path(folder) / "s.db")


def _check(steps: list[tuple[str, float, tuple[int, int], int, float]], path: Path) -> None:
    memory, model = MemoryState(), _Model()
    memory.trimmed = []
    sqlite = SQLiteState(connect(path), cached=2)
    now = T0
    for at, (kind, step, run, cap, ttl) in enumerate(steps):
        now += step
        some = _run(*run)
        writes = {"touch": [Touch("s", tuple(some), ttl, cap)],
                  "remove": [Remove("s", tuple(some))],
                  "replace": [Replace("s", tuple(some), ttl)]}.get(kind, [])
        for state in (memory, sqlite):
            state.write(writes, now)
        if kind == "touch":
            dropped = model.touch(some, now, ttl, cap)
            assert [m for _, m in memory.trimmed] == dropped, at
        elif kind == "remove":
            for member in some:
                model.members.pop(member, None)
        elif kind == "replace":
            model.members = dict.fromkeys(some, now)
            model.expiry, model.ttl = now + ttl, ttl
        elif kind == "sweep":
            memory.sweep(now)
            # A sweep drops what reads already hide: an expired set whole (reported to no
            # one: its key goes), else the members past the TTL, reported as trimmed.
            swept = {m for _, m in memory.trimmed}
            assert swept == model.sweep(now), at
        memory.trimmed.clear()
        later = now + (ttl / 3 if kind == "read_later" else 0.0)
        probe = (*some[:5], "nobody")
        queries = [Members("s"), Contains("s", probe), Distinct("s", 300.0)]
        expected = model.answers(later, probe, 300.0)
        assert memory.read(queries, later) == expected, at
        assert sqlite.read(queries, later) == expected, at
        if at % 4 == 3:  # SQLite's held copy let go of and read again from the file
            sqlite.commit()
            sqlite.close()
            sqlite = SQLiteState(connect(path), cached=2)
    sqlite.close()

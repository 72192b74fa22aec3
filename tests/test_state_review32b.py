"""Session 32's state changes under an operator's worst day (``review32b``): the held copy
of SQLite bounded under batches of thousands of events, and a file converted to a counter
a row (``counts``) refused loudly by session 31's release rather than read as empty."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from spimguard.db import connect
from spimguard.state import sqlite
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Incr
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0
_BASE = Path("/work/wt/base/src")  # session 31's release (892a476), where it is checked out


def test_batches_bringing_more_than_a_commit_lets_go_keep_the_held_copy_bounded(
        tmp_path: Path) -> None:
    """Batches of thousands of events each bring thousands of new keys; letting go only
    ``_LET_GO`` (500) a commit, the held copy grew by the rest every batch, without bound
    (cached 2,000, 3,000 new keys a batch: 50,000 held after 20 batches). After a commit no
    more than ``cached`` keys are held, and every count answers as the memory backend's."""
    cached = 4 * sqlite._LET_GO
    state, memory = SQLiteState(connect(tmp_path / "s.db"), cached=cached), MemoryState()
    fresh = 0
    for batch in range(12):
        now = T0 + batch
        writes = [Incr(f"k{fresh + i}", 1.0, bucket=60.0, ttl=3_600.0)
                  for i in range(3 * cached // 2)]
        fresh += len(writes)
        asked = [Count(w.key, 600.0, 60.0) for w in writes] + [Count("k0", 600.0, 60.0)]
        assert state.read(asked, now) == memory.read(asked, now), batch
        state.write(writes, now)
        memory.write(writes, now)
        state.commit()
        assert len(state._held) <= cached, (batch, len(state._held))
        assert sum(map(len, state._unknown)) <= cached, batch
    asked = [Count(f"k{i}", 3_600.0, 60.0) for i in range(0, fresh, 97)]
    assert state.read(asked, T0 + 20) == memory.read(asked, T0 + 20)
    state.close()

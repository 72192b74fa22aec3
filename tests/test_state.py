from __future__ import annotations

from pathlib import Path

from spimguard.db import connect
from spimguard.state.conformance import T0, check_backend
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Get, Incr, Put
from spimguard.state.sqlite import SQLiteState


def test_memory_backend_conforms() -> None:
    check_backend(MemoryState())


def test_sqlite_backend_conforms(tmp_path: Path) -> None:
    check_backend(SQLiteState(connect(tmp_path / "s.db")))


def test_redis_backend_conforms(redis_url: str, redis_namespace: str) -> None:
    from spimguard.state.redis import RedisState

    check_backend(RedisState(redis_url, redis_namespace))


def test_redis_unreachable_is_a_clear_error() -> None:
    import pytest

    from spimguard.errors import StateUnavailable
    from spimguard.state.redis import RedisState

    with pytest.raises(StateUnavailable, match="cannot reach Redis"):
        RedisState("redis://127.0.0.1:1/0")


def test_sqlite_state_survives_reopen(tmp_path: Path) -> None:
    state = SQLiteState(connect(tmp_path / "s.db"))
    state.write([Incr("c", 4.0), Put("v", [1, 2])], T0)
    state.commit()
    state.close()
    again = SQLiteState(connect(tmp_path / "s.db"))
    assert again.read([Count("c", 60), Get("v")], T0) == [4.0, [1, 2]]


def test_uncommitted_writes_are_not_kept(tmp_path: Path) -> None:
    state = SQLiteState(connect(tmp_path / "s.db"))
    state.write([Incr("c", 4.0)], T0)
    state.close()  # closing without commit rolls back
    again = SQLiteState(connect(tmp_path / "s.db"))
    assert again.read([Count("c", 60)], T0) == [0.0]


def test_memory_counter_prunes_old_buckets() -> None:
    state = MemoryState()
    for minute in range(200):
        state.write([Incr("c", 1.0, bucket=60, ttl=600)], T0 + minute * 60)
    buckets, _ = state._counters["c"]
    assert len(buckets) <= 17
    assert state.read([Count("c", 600, 60)], T0 + 199 * 60) == [10.0]

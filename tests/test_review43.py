"""Session 43's merged changes attacked from the attacker's and the operator's seats
(``review43``): each test a finding, failing on the branch as merged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spimguard.state.memory import MemoryState
from spimguard.state.ops import Count, Incr

T = 1_700_000_035.0  # 5 s into a 10 s bucket, 55 s into a 60 s one


@pytest.fixture
def redis_state(redis_url: str, redis_namespace: str) -> Iterator[object]:
    from spimguard.state.redis import RedisState

    yield RedisState(redis_url, redis_namespace)


@pytest.mark.parametrize(("window", "bucket"), [(5.0, 10.0), (30.0, 60.0), (0.0, 10.0)])
def test_a_count_whose_window_is_shorter_than_its_bucket_reads_as_the_memorys(
        redis_state: object, window: float, bucket: float) -> None:
    """A setting may make a window shorter than its bucket (velocity's ``rate_window`` of
    5 s counts by 10 s buckets; takeover's ``burst_window`` of 30 s by ``burst_bucket``'s
    60): while ``now`` and ``now - window`` fall in one bucket the window covers none.
    The memory (and SQLite, through it) answers 0; Redis sent an HMGET of no field,
    which Redis refuses, and the whole read failed (``StateUnavailable``): every message
    of the platform, about half the time."""
    written = [Incr("review43:rate", 1.0, bucket, 3_600.0)]
    memory = MemoryState()
    memory.write(written, T - 1.0)
    redis_state.write(written, T - 1.0)  # type: ignore[attr-defined]
    asked = [Count("review43:rate", window, bucket), Count("review43:rate", 600.0, bucket)]
    assert redis_state.read(asked, T) == memory.read(asked, T) == [0, 1.0]  # type: ignore[attr-defined]

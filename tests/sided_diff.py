"""A step of the differential runs that drive backends beside plain sets (``test_review35b``,
``test_review35c``): the same writes to each backend and their plain-set twins to the
reference, and now and then a sweep of all at that time; and the stores committed, and now
and then reopened."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from spimguard.db import connect
from spimguard.state import StateBackend
from spimguard.state.ops import Write
from spimguard.state.redis import RedisState
from spimguard.state.sqlite import SQLiteState


def written(rng: random.Random, states: Sequence[StateBackend], plain: StateBackend,
            writes: list[Write], expected: list[Write], now: float) -> bool:
    """``writes`` applied to every state at ``now``, ``expected`` to ``plain``; then, one
    step in 25, every one of them swept at ``now``. Whether they were swept."""
    for state in states:
        state.write(writes, now)
    plain.write(expected, now)
    if rng.random() < 0.04:
        for state in (*states, plain):
            state.sweep(now)
        return True
    return False


def renewed(rng: random.Random, on_disk: SQLiteState, shared: RedisState, chance: float,
            path: Path, url: str, namespace: str) -> tuple[SQLiteState, RedisState]:
    """Both stores committed; with probability ``chance``, closed and opened afresh on the
    same file and namespace (a restart: what they read back is all they have)."""
    on_disk.commit()
    shared.commit()
    if rng.random() >= chance:
        return on_disk, shared
    on_disk.close()
    shared.close()
    return SQLiteState(connect(path)), RedisState(url, namespace)


# Each log's keyspace: its sides' declared TTLs (an account's ties, a session's pair, four
# sides of other TTLs), and where its times start (either side of the edges where a
# double's top two bytes change: ``test_review35b``'s, and an ordinary time).
_LOG_TTLS = ((180 * 86400.0,) * 3, (3600.0, 3600.0), (100.0, 200.0, 60.0, 500.0))
_LOG_STARTS = (2.0 ** 30 - 500.0, 2.0 ** 30 + 11 * 2.0 ** 26 - 300.0, 2.0 ** 31 - 400.0,
               1_700_000_000.0)


def touch_log(seed: int, steps: int = 60) -> list[bytes]:
    """The bytes (names, then times) of one sided record after each of ``steps`` random
    ``sided.touched_sides`` calls (``test_ties44``'s differential run, against the stored
    digests of the code before the small record's fast way): mostly the mixed load's
    shapes (one name a part, the declared TTL, times moving forward or staying), and
    now and then every other one the general loop takes (several names, another TTL, a
    late touch, a jump past a side's TTL, caps of one to three, crowds past ``_INDEXED``
    names and records of one time)."""
    import random

    from spimguard.state import sided

    rng = random.Random(seed)
    ttls = _LOG_TTLS[seed % len(_LOG_TTLS)]
    now = _LOG_STARTS[seed // len(_LOG_TTLS) % len(_LOG_STARTS)]
    people = [f"p{i}" for i in range(rng.choice((3, 8, 40)))]
    record: sided.Record | None = None
    out: list[bytes] = []
    for _ in range(steps):
        roll = rng.random()
        if roll < 0.04:
            now -= rng.uniform(0.0, 30.0)  # late
        elif roll < 0.07:
            now += max(ttls) * rng.uniform(0.5, 1.5)  # past some side's TTL
        elif roll < 0.85:
            now += rng.choice((0.0, 0.25, 1.0, 7.0, rng.uniform(0.0, 50.0)))
        parts: list[sided.Part] = []
        for side in rng.sample(range(len(ttls)), rng.choice((1, 1, 2))):
            fresh = list(dict.fromkeys(rng.choice(people) for _ in range(
                1 if rng.random() < 0.85 else rng.randint(2, 4))))
            ttl = ttls[side] if rng.random() < 0.9 else rng.choice((30.0, 7200.0))
            parts.append((side, fresh, ttl, rng.choice((1, 2, 3, 3, 50))))
        record = sided.touched_sides(record, ttls, parts, now)
        out.append(sided.encode_names(record.names) + record.times)
    return out

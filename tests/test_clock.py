"""Issue 13, finding 3: no single event moves the engine's clock, or sweeps its records."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import engine
from spimguard import engine as engine_module
from spimguard import open_engine
from spimguard.events import Message

YEAR_2099 = 4_070_908_800.0
HOUR = 3600.0  # more than the default skew allowed (300 s)


def far_future(id: str) -> Message:
    """What an adapter could build from a remote server's timestamp, unchecked."""
    return Message(id=id, ts=YEAR_2099, sender="mallory", recipients=["bob"], text="hi")


def test_a_future_event_moves_the_clock_no_further_than_the_allowed_skew() -> None:
    judge = engine()
    judge.process(far_future("m1"))
    assert judge.clock <= time.time() + HOUR


def test_a_poisoned_clock_kept_on_disk_is_bounded_at_start(tmp_path: Path) -> None:
    from conftest import config

    settings = config(storage={"backend": "sqlite", "data_dir": str(tmp_path)})
    first = open_engine(settings, tmp_path)
    first.state.write([engine_module.Put(engine_module._CLOCK, YEAR_2099, 1e12)], 0.0)
    first.state.commit()
    first.close()
    again = open_engine(settings, tmp_path)
    assert again.clock <= time.time() + HOUR
    again.close()


def test_one_future_event_does_not_purge_todays_records() -> None:
    judge = engine()
    now = time.time()
    judge.process(Message(id="today", ts=now - 60, sender="alice", recipients=["bob"],
                          text="lunch?"))
    judge._since_maintenance = engine_module.MAINTAIN_EVERY - 1  # the next event sweeps
    judge.process(far_future("m2"))
    assert judge.records.answers(["today"])

"""Session 33 (issue 18): an embedded store's commit writes the engine's clock's row only
where the verdict log committed with it does not tell the clock, and a restart (the
process killed after a commit) finds the clock exactly as it was."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from conftest import T0, config, message
from spimguard import Engine, open_engine
from spimguard import engine as engine_module
from spimguard.state.ops import Get, Put

YEAR_2099 = 4_070_908_800.0


def _open(folder: Path) -> Engine:
    return open_engine(config(storage={"backend": "sqlite", "data_dir": str(folder)}), folder)


def _clock_rows(engine: Engine, written: list[str]) -> None:
    """Note each statement of ``engine``'s connection that writes the clock's row."""
    conn: sqlite3.Connection = engine.state._conn  # type: ignore[attr-defined]
    conn.set_trace_callback(
        lambda sql: written.append(sql)
        if sql.startswith("INSERT INTO kv ") and engine_module._CLOCK in sql else None)


def _restarted(engine: Engine, folder: Path) -> Engine:
    """The engine as a new process finds it: its connection closed after its last commit
    (closing commits nothing: what a kill -9 leaves)."""
    clock = engine.clock
    engine.close()
    again = _open(folder)
    assert again.clock == clock
    return again


def test_commits_of_one_message_write_no_clock_row(tmp_path: Path) -> None:
    # Base (08e8778): every commit wrote it, 12 rows.
    judge = _open(tmp_path)
    written: list[str] = []
    _clock_rows(judge, written)
    for i in range(12):
        judge.process(message(judge.config, f"m{i}", f"u{i % 3}", [f"v{i}"], "lunch?",
                              T0 + 60 * i))
    assert judge.clock == T0 + 660
    assert written == []
    # Written once, at the first open: a node of before fails at start (a list is no time)
    # where a file without the row would start it at no clock (base: None).
    assert judge.state.read([Get(engine_module._CLOCK)], T0)[0] == [None, 0.0]
    _restarted(judge, tmp_path).close()


def test_a_restart_finds_the_clock_after_late_repeated_and_future_events(
        tmp_path: Path) -> None:
    judge = _open(tmp_path)
    written: list[str] = []
    cfg = judge.config
    steps = [
        [message(cfg, "a1", "ann", ["bob"], "hi", T0), message(cfg, "a2", "bob", ["ann"],
                                                                "hey", T0 + 10)],
        [message(cfg, "late", "cat", ["ann"], "sorry, late", T0 - 5)],  # logged behind it
        [message(cfg, "a1", "ann", ["bob"], "hi", T0)],  # a repeat: logs nothing
        [message(cfg, "a3", "ann", ["bob"], "and you?", T0 + 20)],
        # Dated past the wall clock's bound: logged at 2099, the clock at the bound.
        [message(cfg, "far", "mallory", ["bob"], "hi", YEAR_2099)],
        [message(cfg, "a4", "ann", ["bob"], "still there?", T0 + 30)],
        [message(cfg, "far", "mallory", ["bob"], "hi", YEAR_2099)],
        [message(cfg, "a5", "bob", ["ann"], "yes", T0 + 40)],
    ]
    for batch in steps:
        _clock_rows(judge, written)
        judge.process_batch(batch)
        assert judge.clock < YEAR_2099
        judge = _restarted(judge, tmp_path)
    bound = judge.clock
    assert time.time() - 3600 < bound < time.time() + 3600
    judge.close()
    # Only the commits whose log does not tell the clock write it: the event past the
    # bound and its repeat (the bound moved on). Base (08e8778): 4, the first and a3's too.
    assert len(written) == 2


def test_a_bare_clock_of_before_is_made_a_pair_on_open(tmp_path: Path) -> None:
    """The release before wrote the clock at every commit as a bare time; a node of it
    reading a state the log now tells must fail at start (``float < list``), not misread."""
    judge = _open(tmp_path)
    judge.process(message(judge.config, "m1", "ann", ["bob"], "hi", T0))
    judge.state.write([Put(engine_module._CLOCK, T0 + 5, 1e12)], T0)  # as before: a time
    judge.state.commit()
    judge.close()
    again = _open(tmp_path)
    assert again.clock == T0 + 5
    assert again.state.read([Get(engine_module._CLOCK)], T0)[0] == [T0 + 5, T0 + 5]
    again.process(message(again.config, "m2", "ann", ["bob"], "there?", T0 + 9))
    _restarted(again, tmp_path).close()

"""``benchmarks/tail.py``: what it tells apart in a batch's time, on records made up here
(no timing: the benchmark prints the figures; these check what its rows count).

``tail`` is this tree's benchmark (below)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# The benchmark's module from this tree's ``benchmarks`` (not on the test command's path:
# the path is put back once it is imported, as ``test_speed_benchmark`` does per test).
with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import tail


def _batch(at: float, size: int, wall: float, cpu: float, **rest: float) -> dict[str, Any]:
    found = {"at": at, "size": size, "wall": wall, "cpu": cpu, "others": 0.0,
             "preempted": 0, "yielded": 0, "commit": 0.0, "sweep": 0.0, "maintain": 0.0,
             "sweeps": 0, "maintained": 0, "oldest": 0.0}
    found.update(rest)
    return found


def test_a_long_batch_is_told_from_a_costly_one() -> None:
    """A batch long by its wall clock but cheap in CPU (another process held the core)
    counts as long by wall only; one whose own CPU passed 10 ms counts by both; what is
    left after the CPU of both threads is charged to the machine or the disk."""
    batches = [_batch(0.0, 1, 0.002, 0.002),
               _batch(1.0, 1, 0.030, 0.002, others=0.001),  # off-CPU for 27 ms
               _batch(2.0, 12, 0.015, 0.014, sweeps=1, sweep=0.003),
               _batch(3.0, 1, 0.002, 0.002)]
    rows = dict(tail.summary("level", batches, [(2.001, 2, "spimguard-engine", 0.01, 0.009, 0)]))
    assert rows["  batches over 10 ms: by wall / by the engine's CPU, %"] == "50.0 / 25.0"
    assert rows["  the long batches: engine CPU ≥ 10 ms / wall unaccounted ≥ 5 ms "
                "(off-CPU: the machine, the disk), %"] == "50 / 50"
    assert rows["  the long batches: with a sweep part / maintenance / a collection, %"] == (
        "50 / 0 / 50")
    assert rows["  collections during the level: gen 0 / 1 / 2; gen-2 CPU ms total"] == (
        "0 / 0 / 1; 9.0")


def test_collections_outside_the_level_are_not_its_own() -> None:
    batches = [_batch(10.0, 1, 0.001, 0.001), _batch(11.0, 1, 0.001, 0.001)]
    rows = dict(tail.summary("level", batches, [(5.0, 2, "MainThread", 0.1, 0.1, 0)]))
    assert rows["  collections during the level: gen 0 / 1 / 2; gen-2 CPU ms total"] == (
        "0 / 0 / 0; 0.0")


def test_a_lone_check_waits_a_batch_own_cost_then_goes() -> None:
    """The fill rule replayed: alone, a check waits until its wait is the batch's own
    cost; a check arriving meanwhile joins, and the two then wait half as long more."""
    assert tail._filled([0.0, 1.0], 0, 0.0, 0.002) == (1, 0.002)
    end, start = tail._filled([0.0, 0.001, 1.0], 0, 0.0, 0.002)
    assert end == 2
    assert start == pytest.approx(0.0015)  # 0.001 waited by the first, then 0.0005 each


def test_a_backlog_past_the_cost_starts_at_once() -> None:
    """Checks that waited longer in all than a batch's own cost are taken at once, as
    the greedy group commit takes them: under load the rule waits for nothing."""
    arrivals = [0.0, 0.001, 0.002, 0.5]
    assert tail._filled(arrivals, 0, 0.010, 0.002) == (3, 0.010)


def test_a_full_batch_starts_at_once() -> None:
    assert tail._filled([0.0] * 5, 0, 0.0, 1.0, most=3) == (3, 0.0)


def test_the_share_past_which_the_engine_is_never_idle() -> None:
    """A batch of one costing twice a message's share in batches of 16 (with no loop
    cost) keeps the thread busy from half of saturation on."""
    rows = dict(tail.fixed_cost(0.002, 0.001, 0.0))
    assert rows["  the engine's thread never idle past this share of saturation, %"] == "50"
    assert rows["virtual: a batch of one's CPU ms; of which the batch's own (beside its "
                "message's), ms"] == "2.00; 1.07"


def _statements_a_message(size: int, tmp_path: Any) -> float:
    """SQL statements (and rows of an ``executemany``) the SQLite store runs for each
    message judged in batches of ``size``, after 800 messages in batches of 16."""
    from engine import load
    from spimguard import decode_event, load_config, open_engine
    from spimguard.sim.network import OFFICIAL_CLIENTS

    cfg = load_config(environ={}, storage={"backend": "sqlite"},
                      official_clients=list(OFFICIAL_CLIENTS))
    events = [decode_event(line, cfg.limits) for line in load(300, 1)
              if b'"type":"message"' in line][:960]
    engine = open_engine(cfg, tmp_path / str(size))
    try:
        for start in range(0, 800, 16):
            engine.process_batch(events[start:start + 16])
        said: list[str] = []
        engine.state.conn.set_trace_callback(said.append)
        for start in range(800, 960, size):
            engine.process_batch(events[start:start + size])
        engine.state.conn.set_trace_callback(None)
    finally:
        engine.close()
    return len(said) / 160


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "the gap this pass measured and left (docs/speed-log.md, tail36): a batch of one "
    "runs 10.1 statements and rows beyond its message's share in batches of 16 (25.2 "
    "against 15.1 a message, here; 24.3 against 14.4 at session 36's merge of texts36). "
    "batch36 counted it by kind (benchmarks/batch_cost.py): of 9.6, 3.75 are the batch's "
    "own four statements (BEGIN, PRAGMA data_version, the answers' SELECT, COMMIT: ~7 us "
    "of SQLite's CPU together, tests/test_batch36.py pins them), 1.4 the held keys' loads "
    "(4.4 new keys a message, one statement a table a batch) and 4.4 rows a batch of 16 "
    "writes once for the messages that share a key (members 2.2, kv 1.1, sided_sets 0.8, "
    "counts 0.3): what batching saves, not a cost a batch pays whatever its size, so no "
    "cut to the store's statements brings this under 2; the CPU gap is mostly WAL frames "
    "(19.3 against 4.3 a message: pages the batch's rows share)"))
def test_a_batch_of_one_costs_its_message_and_little_more(tmp_path: Any) -> None:
    assert _statements_a_message(1, tmp_path) <= _statements_a_message(16, tmp_path) + 2

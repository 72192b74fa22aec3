"""Instructions of the memory state's ops, by kind and keyspace, counted by callgrind: where
the state layer's share of judging an event goes. ``--cold``: ``cold_instructions.py``'s cold
load of the same events (every text new, no takeover record kept decoded), whose state work
``judge_split.py --cold`` finds the largest part nobody had split.

    python benchmarks/state_split.py [--users 150 --days 1] [--batch 500] [--cold]

The mixed load (``instructions.py``'s) is judged once, uncounted, on the memory backend,
with every ``read`` and ``write`` call of its ``MemoryState`` recorded (the queries, the
writes, the time; one pickle, so a value put under several keys stays one object). A
fresh ``MemoryState`` of the same hash key then replays the calls under callgrind, each
op through its kind's method as ``read`` and ``write`` call it, but called through a C
function of its own a (kind, keyspace) (``judge_split.py``'s technique and its
calibration: each step's inclusive cost less the wrapper's). A sided touch is held and
applied at the next touch of another record or the call's end (``_touch_held``): the
applications are rows of their own, by the applied record's keyspace, and a touch's row
is net of the applications made inside it (their own symbol, by the touch's label).

The store answers the same as the engine's did (the same calls in the same order), so
the rows are the engine's state work but for the interpreter's caches: the replay runs
no detector between the ops.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import cold_instructions
import engine
from judge_split import _library, _symbol, inclusive
from table import show

_CALIBRATION = 2000
_EMPTY, _OUTER = "empty", "calls of the empty step"
_KEY = b"state-split-key!"  # the replay store's hash key (``hashed.KEY_BYTES``)


def _space(op: Any) -> str:
    """The keyspace of an op's (first) key, with its side if it has one."""
    key = op.key if hasattr(op, "key") else op.keys[0]
    space = key.split(":", 1)[0] + ":"
    side = getattr(op, "side", "")
    return f"{space}{side}" if side else space


def _nothing(*_: Any) -> None:
    pass


def _label(op: Any, kind: str) -> str:
    return f"{kind} {type(op).__name__} {_space(op)}"


def record(users: int, days: int, batch: int, cold: bool = False
           ) -> list[tuple[str, list[Any], float]]:
    """The memory state's calls while the engine judges the load: ("r" or "w", ops, now)."""
    from spimguard.detectors.takeover import detector
    from spimguard.state.memory import MemoryState

    calls: list[tuple[str, list[Any], float]] = []
    read, write = MemoryState.read, MemoryState.write

    def reading(self: MemoryState, queries: Any, now: float) -> Any:
        calls.append(("r", list(queries), now))
        return read(self, queries, now)

    def writing(self: MemoryState, writes: Any, now: float) -> None:
        calls.append(("w", list(writes), now))
        write(self, writes, now)

    lines = (cold_instructions.cold_load if cold else engine.load)(users, days)
    MemoryState.read, MemoryState.write = reading, writing  # type: ignore[method-assign]
    kept = detector._DECODED_KEPT
    if cold:
        detector._DECODED_KEPT = 0
    try:
        engine.judged(lines, batch)
    finally:
        MemoryState.read, MemoryState.write = read, write  # type: ignore[method-assign]
        detector._DECODED_KEPT = kept
    return calls


def labels(calls: list[tuple[str, list[Any], float]]) -> list[str]:
    """Every step's label the replay may call: each op's, and a held touch's application
    by keyspace at the call's end, or inside each write's label (a touch of another
    record, a lodged put or a delete applies the touches held first)."""
    found = {_label(op, "read" if kind == "r" else "write") for kind, ops, _ in calls
             for op in ops}
    sided = {_space(op) for kind, ops, _ in calls for op in ops
             if kind == "w" and getattr(op, "side", "")}
    spaces = {s.split(":", 1)[0] + ":" for s in sided}
    applied = [f"apply {s}" for s in spaces]
    inside = [f"inside {t}" for t in found if t.startswith("write ")]
    return sorted(found) + applied + inside


def child(calls_file: str, folder: str) -> None:
    """What callgrind runs: the calls replayed, each op through its step's C function."""
    from spimguard.state.memory import _NOT_ASKED, MemoryState

    calls, names = pickle.loads(Path(calls_file).read_bytes())
    symbols = [_symbol(n) for n in names] + [_symbol(_EMPTY), _symbol(_OUTER)]
    library = _library(symbols, Path(folder))
    through = {n: getattr(library, s) for n, s in zip(names, symbols, strict=False)}
    counts: dict[str, int] = Counter()
    state = MemoryState(_KEY)
    answers, appliers = MemoryState._answers, MemoryState._appliers
    held = MemoryState._touch_held
    current = [""]  # the label of the op running (a touch's applications are inside it)

    def touch_held(self: MemoryState) -> None:
        label = (f"inside {current[0]}" if current[0]
                 else "apply " + self._touching[1].split(":", 1)[0] + ":")
        counts[label] += 1
        through[label](held, self)

    MemoryState._touch_held = touch_held  # type: ignore[method-assign]
    empty, outer = getattr(library, symbols[-2]), getattr(library, symbols[-1])

    def calibrate() -> None:
        for _ in range(_CALIBRATION):
            empty(_nothing, 1, 2, 3)
    outer(calibrate)
    for kind, ops, now in calls:
        if kind == "r":  # (``read``'s own start)
            state._decoded.clear()
            state._asked = _NOT_ASKED
            for q in ops:
                label = _label(q, "read")
                counts[label] += 1
                through[label](answers[q.__class__], state, q, now)
            continue
        state._encoded.clear()
        for op in ops:
            label = current[0] = _label(op, "write")
            counts[label] += 1
            through[label](appliers[op.__class__], state, op, now)
        current[0] = ""
        if state._parts:
            touch_held(state)
    (Path(folder) / "counts.json").write_text(json.dumps(counts))


def main(users: int = 150, days: int = 1, batch: int = 500, cold: bool = False
         ) -> list[tuple[str, str]]:
    calls = record(users, days, batch, cold)
    events = len(__import__("engine").load(users, days))
    names = labels(calls)
    assert len({_symbol(n) for n in names}) == len(names), "two steps' symbols are one"
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        calls_file = folder / "calls.pkl"
        calls_file.write_bytes(pickle.dumps((calls, names)))
        out = folder / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        sys.executable, __file__, "--child", str(calls_file), str(folder)],
                       check=True, capture_output=True,
                       env={**os.environ, "PYTHONHASHSEED": "0"})
        found = inclusive(out)
        counts = json.loads((folder / "counts.json").read_text())
    inside = found.get(_symbol(_EMPTY), 0) / _CALIBRATION
    wrapped = (found.get(_symbol(_OUTER), 0) - found.get(_symbol(_EMPTY), 0)) / _CALIBRATION
    net = {n: found.get(_symbol(n), 0) - inside * c for n, c in counts.items()}
    for n, c in counts.items():  # a touch's row less the applications inside it
        if n.startswith("inside "):
            net[n[7:]] -= found.get(_symbol(n), 0) + wrapped * c
    rows = [(f"{'cold' if cold else 'mixed'} load: {users:,} users, {days} days, "
             f"{events:,} events; batches of {batch}", ""),
            ("read / write calls an event",
             f"{sum(k == 'r' for k, _, _ in calls) / events:.2f} / "
             f"{sum(k == 'w' for k, _, _ in calls) / events:.2f}"),
            ("a wrapped call's cost inside its function / in its caller, taken off",
             f"{inside:,.0f} / {wrapped:,.0f}"),
            ("instructions an event / ops an event / instructions an op", "")]
    total = {"read": 0.0, "write": 0.0, "apply": 0.0, "inside": 0.0}
    for n in sorted(net, key=lambda n: -net[n]):
        total[n.split(" ", 1)[0]] += net[n]
        rows.append((n, f"{net[n] / events:,.0f} / {counts[n] / events:.2f} / "
                        f"{net[n] / counts[n]:,.0f}"))
    rows.append(("reads, all / writes, all (touches' applications in them) / applications",
                 f"{total['read'] / events:,.0f} / "
                 f"{(total['write'] + total['apply'] + total['inside']) / events:,.0f} / "
                 f"{(total['apply'] + total['inside']) / events:,.0f}"))
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    child(sys.argv[2], sys.argv[3])
elif __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for option, default in (("--users", 150), ("--days", 1), ("--batch", 500)):
        parser.add_argument(option, type=int, default=default)
    parser.add_argument("--cold", action="store_true",
                        help="cold_instructions.py's cold load: texts new, no record kept")
    show(main(**vars(parser.parse_args())))

"""Instructions an event in each batch-level step of the engine, by batch size, counted by
callgrind: where a small batch's fixed cost goes, deterministic and load-independent.

    python benchmarks/batch_split.py [--users 150 --days 1] [--sizes 1,500]

``instructions.py`` counts the whole engine; this splits it. Callgrind names only C
functions, and every Python function runs inside the same C function (the interpreter's
eval loop), so a Python step has no inclusive cost of its own in its output. Here each
step is called, in the counted child only, through a C function of the standard library
that nothing else the engine runs calls (``STEPS``: ``functools.reduce``,
``itertools.starmap``, ...; not ``filterfalse``, which ``Engine._read_more`` calls, nor
``groupby``, SQLite's): that function's inclusive cost is then the step's, every Python
frame it ran included. Nothing in ``src`` is changed or pays for it. A wrapper costs a
few thousand instructions a call, counted in its step's figure and its parent's (a batch
of one makes seven wrapped calls; a batch of 500 one each but ``_process``'s).
``test_batch41`` checks that ``src`` calls none of these functions, which would make a
step's count include another's.

The default load is ``instructions.py``'s (``--users 150 --days 1``, 3,250 events), each
size a run of its own (~10 minutes each on a loaded machine). Per size: instructions an
event in each step, and a batch of one's excess over the last size's (the fixed cost a
batch of one pays, step by step). The collector's passes (``gc_collect_main``) are
counted wherever they fall, the start-up's included (both sizes pay the same start-up).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import operator
import os
import pickle
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import engine
from table import show

# (step, what it wraps, the C function callgrind names it by)
STEPS = (
    ("process_batch: a batch, all of it", "engine.process_batch", "functools_reduce"),
    ("  judging its events (_process)", "engine._process", "calliter_iternext"),
    ("  planning (_plan_batch, detectors' prepare)", "engine._plan_batch", "starmap_next"),
    ("    content's prepare (the model's scores)", "content.prepare",
     "methodcaller_call"),
    ("    waves' prepare (sketches)", "waves.prepare", "_operator_call"),
    ("  detectors' batch end (_finish: takeover records)", "engine._finish",
     "takewhile_next"),
    ("  commit (_commit: the clock's row, the stores')", "engine._commit", "dropwhile_next"),
    ("the collector's passes (anywhere, start-up too)", "", "gc_collect_main"),
)
_NO_ANSWER = object()


def _through_reduce(step: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *a, **k: functools.reduce(lambda _, __: step(*a, **k), (0,), None)


def _through_starmap(step: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *a, **k: next(itertools.starmap(lambda: step(*a, **k), ((),)))


def _through_call(step: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *a, **k: operator.call(step, *a, **k)


def _boxed(iterate: Callable[[Callable[[Any], Any], list[Any]], None]
           ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A wrapper through an iterator that calls a predicate: the step's answer is kept in
    a box (the predicate's own answer steers the iterator)."""
    def wrap(step: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*a: Any, **k: Any) -> Any:
            box: list[Any] = []
            iterate(lambda _: box.append(step(*a, **k)), box)
            return box[0]
        return wrapped
    return wrap


_THROUGH: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "functools_reduce": _through_reduce,
    "starmap_next": _through_starmap,
    "_operator_call": _through_call,
    "takewhile_next": _boxed(
        lambda put, _: next(itertools.takewhile(lambda x: put(x) is None, (0,)), None)),
    "dropwhile_next": _boxed(
        lambda put, _: next(itertools.dropwhile(put, (0,)), None)),
    "methodcaller_call": lambda step: lambda *a, **k: operator.methodcaller(
        "__call__", *a, **k)(step),
    "calliter_iternext": _boxed(
        lambda put, _: next(iter(lambda: put(None), _NO_ANSWER))),
}


def wrap_steps(engine: Any) -> None:
    """Each of ``STEPS`` called through its C function, on this engine (its instance's
    attributes, and its detectors')."""
    detectors = {d.name: d for d in engine.detectors}
    for _, target, function in STEPS:
        if not target:
            continue
        owner, name = target.split(".")
        holder = engine if owner == "engine" else detectors[owner]
        setattr(holder, name, _THROUGH[function](getattr(holder, name)))


def child(lines_file: str, batch: int) -> None:
    """What callgrind runs: the engine, its steps wrapped, over the saved load."""
    from spimguard import decode_event, load_config, open_engine
    from spimguard.sim import network

    lines = pickle.loads(Path(lines_file).read_bytes())
    cfg = load_config(environ={}, storage={"backend": "memory"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    engine = open_engine(cfg, None)
    wrap_steps(engine)
    events = [decode_event(line, cfg.limits) for line in lines]
    for start in range(0, len(events), batch):
        engine.process_batch(events[start:start + batch])
    engine.close()


def inclusive(out: Path) -> dict[str, int]:
    """Each C function's inclusive instructions in the main thread's callgrind file."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                           str(out)], check=True, capture_output=True, text=True).stdout
    found: dict[str, int] = {}
    for count, function in re.findall(r"^\s*([\d,]+) \([^)]*\)\s+\S*?:(\w+) \[", text, re.M):
        found.setdefault(function, int(count.replace(",", "")))
    return found


def counted(lines_file: Path, batch: int, folder: Path) -> dict[str, int]:
    out = folder / f"callgrind.{batch}.out"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                    "--separate-threads=yes", sys.executable, __file__, "--child",
                    str(lines_file), str(batch)], check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"})
    return inclusive(folder / f"{out.name}-01")


def main(users: int = 150, days: int = 1, sizes: tuple[int, ...] = (1, 500)
         ) -> list[tuple[str, str]]:
    lines = engine.load(users, days)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        lines_file = folder / "lines.pkl"
        lines_file.write_bytes(pickle.dumps(lines))
        found = {size: counted(lines_file, size, folder) for size in sizes}
    rows = [(f"mixed load: {users:,} users, {days} days, events", f"{len(lines):,}"),
            ("instructions an event, batches of " + " / ".join(map(str, sizes))
             + (f" / one's excess over {sizes[-1]}" if sizes[0] == 1 else ""), "")]
    for step, _, function in STEPS:
        each = [found[size].get(function, 0) // len(lines) for size in sizes]
        extra = [each[0] - each[-1]] if sizes[0] == 1 and len(sizes) > 1 else []
        rows.append((step, " / ".join(f"{n:,}" for n in each + extra)))
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    child(sys.argv[2], int(sys.argv[3]))
elif __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,500",
                        help="batch sizes, comma-separated (1 first: its excess is shown)")
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()
    show(main(args.users, args.days, tuple(int(s) for s in args.sizes.split(","))))

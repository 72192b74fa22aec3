"""A part of SQLite's sweep (``SQLiteState.sweep_part``) on the replay's state: its CPU.

    python benchmarks/sweep_part.py build DIR      # once: the state, saved in DIR
    python benchmarks/sweep_part.py parts DIR [K] [split] [forget]
    python benchmarks/sweep_part.py live [N] [split]

``build``: ``tail.py --virtual``'s warm-up (30,000 messages of ``load(2000, 2)`` in batches
of 16) into DIR, with the keys the engine held then and the horizon its parts sweep at.
``parts``: a copy of DIR's file, those keys held, K parts at that horizon, each in thread
CPU (``split``: by the store's methods, each wrapped: the wrappers cost a little of each;
``forget``: ``MemoryState.forget`` too). Under ``valgrind --tool=callgrind`` with K and
with 0, the difference over K is a part's instructions (session 39, ``sweep39``).
``live``: the warm-up, then N more messages in batches of 16, each part the engine takes
timed. Why a copy of one saved state: the same parts, on the same keys, for every tree.
"""

from __future__ import annotations

import pickle
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from engine import load
from spimguard import Config, decode_event, load_config, open_engine
from spimguard.db import connect
from spimguard.maintenance import sweep_horizon
from spimguard.sim.network import OFFICIAL_CLIENTS
from spimguard.state import memory, sqlite

SPLIT: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)
INSIDE = [False]


def wrap(cls: Any, name: str) -> None:
    work = getattr(cls, name, None)
    if work is None:
        return

    def timed(*args: Any, **kw: Any) -> Any:
        if not INSIDE[0]:
            return work(*args, **kw)
        began = time.thread_time()
        try:
            return work(*args, **kw)
        finally:
            SPLIT[name] += time.thread_time() - began
            CALLS[name] += 1
    setattr(cls, name, timed)


def events() -> tuple[Config, list[Any]]:
    cfg = load_config(environ={}, storage={"backend": "sqlite"},
                      official_clients=list(OFFICIAL_CLIENTS))
    lines = [line for line in load(2000, 2) if b'"type":"message"' in line]
    return cfg, [decode_event(line, cfg.limits) for line in lines]


def build(out: Path) -> None:
    cfg, evs = events()
    out.mkdir(parents=True, exist_ok=True)
    eng = open_engine(cfg, out)
    for at in range(0, 30_000, 16):
        eng.process_batch(evs[at:at + 16])
    held = dict(eng.state._held)  # type: ignore[attr-defined]
    now = sweep_horizon(min(eng.clock, time.time()))
    eng.close()
    (out / "held.pickle").write_bytes(pickle.dumps((held, now)))
    print("held", len(held), "now", now)


def _splits() -> None:
    for cls in (sqlite.SQLiteState,):
        for name in ("_flush", "_sweep_ranges", "_sweep_sided", "_reload", "_load", "_part_end",
                     "_agree"):
            wrap(cls, name)
    if "forget" in sys.argv:
        wrap(memory.MemoryState, "forget")


def parts(saved: Path, k: int) -> None:
    held, now = pickle.loads((saved / "held.pickle").read_bytes())
    if "split" in sys.argv:
        _splits()
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(saved / "spimguard.db", Path(folder) / "s.db")
        conn = connect(Path(folder) / "s.db")
        state = sqlite.SQLiteState(conn)
        state.begin()  # the file's version seen: the held copy is not let go at the first part
        state._load(held)
        state.commit()
        cpus: list[float] = []
        for _ in range(k):
            INSIDE[0] = True
            began = time.thread_time()
            state.sweep_part(now, 0)
            cpus.append(time.thread_time() - began)
            INSIDE[0] = False
            state.commit()
        state.close()
    report(cpus)


def report(cpus: list[float]) -> None:
    if not cpus:
        return
    cpus_ms = [c * 1e3 for c in cpus]
    print(f"parts {len(cpus)}: mean {sum(cpus_ms) / len(cpus):.3f} ms, "
          f"longest {max(cpus_ms):.3f}, total {sum(cpus_ms):.1f}")
    for name, spent in sorted(SPLIT.items(), key=lambda kv: -kv[1]):
        print(f"  {name:16s} {spent * 1e3 / len(cpus):8.3f} ms a part, "
              f"{CALLS[name] / len(cpus):8.1f} calls")


def live(n: int) -> None:
    cfg, evs = events()
    if "split" in sys.argv:
        _splits()
    cpus: list[float] = []
    work = sqlite.SQLiteState.sweep_part

    def part(self: Any, now: float, since: int) -> int:
        INSIDE[0] = True
        began = time.thread_time()
        try:
            return work(self, now, since)
        finally:
            cpus.append(time.thread_time() - began)
            INSIDE[0] = False
    with tempfile.TemporaryDirectory() as folder:
        eng = open_engine(cfg, Path(folder))
        for at in range(0, 30_000, 16):
            eng.process_batch(evs[at:at + 16])
        sqlite.SQLiteState.sweep_part = part  # type: ignore[method-assign]
        for at in range(30_000, 30_000 + n, 16):
            eng.process_batch(evs[at:at + 16])
        eng.close()
    report(cpus)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "build":
        build(Path(sys.argv[2]))
    elif mode == "parts":
        parts(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 40)
    else:
        live(int(sys.argv[2]) if len(sys.argv) > 2 else 4000)

"""What a hand-off between the event loop and the engine's thread costs /v1/check.

    python benchmarks/handoff.py [--checks 20000 --rounds 3]

The group commit (``server/grouping.py``) as the server runs it, on uvloop, with an
engine that judges nothing (``api._Idle``), this process pinned to one core as
``speed.py`` pins the server: checks sent one at a time (each a batch of one: a round
trip to the engine's thread and back, as at light load) and four at a time. For each,
the CPU time a check and the context switches a check, voluntary and not, of all this
process's threads (``/proc/self/task/*/status``), the least of several rounds. Counts,
not rates: on a shared machine a switch is a switch, while time is whatever the rest of
the machine left (the involuntary ones also count other processes taking the core, so
compare runs at a like load).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import uvloop

from api import _Idle
from spimguard import load_config
from spimguard.events import Message
from spimguard.server.grouping import GroupCommit
from table import Rows, show


def switches() -> tuple[int, int]:
    """Voluntary and involuntary context switches of all this process's threads so far."""
    counts = [0, 0]
    for task in Path("/proc/self/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                counts[name.startswith("non")] += int(value)
    return counts[0], counts[1]


async def _round(checks: int, together: int) -> tuple[float, float, float]:
    """CPU seconds, voluntary and involuntary switches a check, ``together`` at a time."""
    config = load_config(environ={}, storage={"backend": "memory"}, api_token="x")
    group = GroupCommit(_Idle(config))  # type: ignore[arg-type]

    def message(i: int) -> Message:
        return Message(id=f"m{i}", ts=time.time(), sender="a", recipients=["b"], text="hi")

    for i in range(200):  # the thread started and warm
        await group.judge(message(i))
    voluntary, involuntary = switches()
    began = time.process_time()
    for start in range(0, checks, together):
        await asyncio.gather(*(group.judge(message(i)) for i in range(start, start + together)))
    cpu = time.process_time() - began
    after = switches()
    group.close()
    return cpu / checks, (after[0] - voluntary) / checks, (after[1] - involuntary) / checks


def main(checks: int = 20_000, rounds: int = 3) -> Rows:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rows: Rows = []
    for together in (1, 4):
        found = [uvloop.run(_round(checks, together)) for _ in range(rounds)]
        cpu = min(f[0] for f in found)
        least = min(found, key=lambda f: f[1] + f[2])
        rows += [(f"checks {together} at a time: CPU µs a check (least)", f"{cpu * 1e6:.1f}"),
                 ("  context switches a check, voluntary / involuntary (least)",
                  f"{least[1]:.2f} / {least[2]:.2f}")]
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    show(main(args.checks, args.rounds))

"""Engine throughput in-process on one core, on the simulator's mixed load.

    python benchmarks/run.py            # every benchmark
    python benchmarks/engine.py [--users 2000 --days 2]

The load is ``spimguard simulate --scenario mixed`` (bundled texts): ordinary
life, hijacked accounts, bots, phishing and the benign-bulk traps, in event
order. Events are encoded and decoded before the clock starts; the figure is
messages judged per second (logins and contact events ride along), committed
in batches of 500 as ``/v1/events`` does. Each backend runs on a fresh store.

Each rate is given twice: per second of wall clock, and per second of the process's
CPU time. On a shared machine the first follows the other processes' load; the second
moves much less with it, so before/after comparisons there use it.

**CPU µs an event by batch size (1, 8, 500).** The server's group commit hands the engine
what arrived while the last batch ran: 1 to 3 events at 30-70 % of its saturation, ~8 at
it (``speed.py``'s "messages a batch"), never 500. What a batch pays once (planning, the
detectors' numpy calls, the takeover records put at its end, the commit) is shared by
500 events here but by one or a few there, so the HTTP figures follow this curve, not the
rate above. Each size judges the same events on a fresh memory store, after the same
warm-up in batches of 500 (``batch_curve``).

**The rare slow batch (``batch_tail``).** The p99 at a share of saturation is set by the
few batches that take far longer than the rest (every check queued behind one waits it
out), so the CPU of batches of one to three on SQLite is given by its percentiles and
longest, beside the count over 10 ms.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import msgspec

from spimguard import decode_event, load_config, open_engine
from spimguard.backends import build_detectors
from spimguard.sim import network, scenarios, texts
from spimguard.text import _view as uncached_view  # the work, not the cache that saves it
from table import show


def load(users: int, days: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    plan = scenarios.plan(network.build(users, rng), texts.load(), "mixed", days, rng)
    return [msgspec.json.encode({**p.body, "id": f"e{n}", "ts": p.ts})
            for n, p in enumerate(plan.events)]


def run(backend: str, lines: list[bytes], data_dir: Path | None,
        only: set[str] | None = None) -> tuple[float, float]:
    """Messages judged per second of wall clock and per second of CPU time; with ``only``,
    every other detector disabled (as an operator's ``disabled`` would)."""
    cfg = load_config(environ={}, storage={"backend": backend},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    engine = open_engine(cfg, data_dir)
    if only is not None:
        engine.disabled.update({d.name: "benchmark" for d in engine.detectors
                                if d.name not in only})
    events = [decode_event(line, cfg.limits) for line in lines]
    messages = sum(type(e).__name__ == "Message" for e in events)
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(events), 500):
        engine.process_batch(events[start:start + 500])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.close()
    return messages / elapsed, messages / cpu


def judged(lines: list[bytes], batch: int) -> None:
    """The load judged by a fresh memory engine, ``batch`` events at once: the run whose
    calls ``state_split.py`` and ``record_encode.py`` catch."""
    cfg = load_config(environ={}, storage={"backend": "memory"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    engine = open_engine(cfg, None)
    events = [decode_event(line, cfg.limits) for line in lines]
    for start in range(0, len(events), batch):
        engine.process_batch(events[start:start + batch])
    engine.close()


def batch_curve(lines: list[bytes], sizes: tuple[int, ...] = (1, 8, 500)
                ) -> list[tuple[str, str]]:
    """CPU µs an event, memory backend, judged in batches of each size: the load's first
    third (at most 5,000 events) in batches of 500 to warm the stores and learners, then
    the next events (at most 10,000) in batches of the size, timed, on a fresh store each.
    A first, untimed pass fills the process's caches (text views, URL verdicts), which
    the sizes judged after it would otherwise find warmer than the first. The same code
    serves SQLite and Redis: what a small batch costs more here, it costs there too."""
    cfg = load_config(environ={}, storage={"backend": "memory"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    events = [decode_event(line, cfg.limits) for line in lines]
    warm = min(5_000, len(events) // 3)
    timed = events[warm:warm + 10_000]

    def cpu_us(size: int) -> float:
        engine = open_engine(cfg, None)
        for start in range(0, warm, 500):
            engine.process_batch(events[start:min(start + 500, warm)])
        cpu = time.process_time()
        for start in range(0, len(timed), size):
            engine.process_batch(timed[start:start + size])
        cpu = time.process_time() - cpu
        engine.close()
        return cpu / len(timed) * 1e6

    cpu_us(500)
    return [(f"engine, memory backend, batches of {size}: CPU µs an event",
             f"{cpu_us(size):,.0f}") for size in sizes]


def batch_tail(lines: list[bytes], seed: int = 1) -> list[tuple[str, str]]:
    """The CPU a batch of one to three events takes on SQLite, the server's store, as the
    group commit hands them at 30-70 % of saturation: its median, p99, p99.9 and longest,
    and the batches over 10 ms. One batch that stalls holds up every check queued behind
    it, so the server's p99 follows these rare batches, not the mean (a whole-store sweep
    inside a write, every 50,000 writes, was one: session 32). The load's first third
    (at most 15,000 events) in batches of 500 warms the store, then the next (at most
    40,000) in batches of 1-3 (seeded). Thread CPU, not wall clock: another process on
    the core moves it little. The process's start-up objects (the decoded load among
    them) are frozen out of the garbage collector's passes, as the server freezes its
    own (``server.app``), so a full collection here costs what it costs the server."""
    import gc

    cfg = load_config(environ={}, storage={"backend": "sqlite"},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    events = [decode_event(line, cfg.limits) for line in lines]
    warm = min(15_000, len(events) // 3)
    timed = events[warm:warm + 40_000]
    sizes = random.Random(seed)
    costs: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(cfg, Path(folder))
        for start in range(0, warm, 500):
            engine.process_batch(events[start:min(start + 500, warm)])
        gc.collect()
        gc.freeze()
        try:
            at = 0
            while at < len(timed):
                size = sizes.randint(1, 3)
                cpu = time.thread_time()
                engine.process_batch(timed[at:at + size])
                costs.append(time.thread_time() - cpu)
                at += size
        finally:
            gc.unfreeze()
            engine.close()
    costs.sort()

    def at_share(q: float) -> str:
        return f"{costs[min(len(costs) - 1, int(q * len(costs)))] * 1000:.1f}"

    return [("engine, SQLite, batches of 1-3: CPU ms a batch, p50 / p99 / p99.9 / longest",
             f"{at_share(0.5)} / {at_share(0.99)} / {at_share(0.999)} / {costs[-1] * 1000:.1f}"),
            ("  the same, batches over 10 ms (of all)",
             f"{sum(c > 0.010 for c in costs):,} of {len(costs):,}")]


def text_view_us(lines: list[bytes]) -> float:
    texts_ = [body["text"] for body in map(msgspec.json.decode, lines) if "text" in body]
    texts_ = texts_[:20_000]
    started = time.perf_counter()
    for text in texts_:
        uncached_view(text)
    return (time.perf_counter() - started) / len(texts_) * 1e6


def detector_costs(lines: list[bytes]) -> list[tuple[str, str]]:
    """What each detector adds to a message, memory backend: CPU µs a message with that
    detector alone, minus the engine with none (the skeleton: planning, the account
    record, the policy, the verdict log). A detector alone reads and writes only its own
    state, so the parts do not add up to the whole exactly; they say where the time is."""
    def us(only: set[str]) -> float:
        return 1e6 / run("memory", lines, None, only)[1]

    names = [d.name for d in build_detectors(load_config(environ={}))[0]]
    skeleton = us(set())
    rows = [("engine with no detector, CPU µs a message", f"{skeleton:.0f}")]
    rows += [(f"  + {name} alone, CPU µs a message", f"{us({name}) - skeleton:+.0f}")
             for name in names]
    return rows


def main(users: int = 2000, days: int = 2) -> list[tuple[str, str]]:
    lines = load(users, days)
    rows = [(f"mixed load: {users:,} users, {days} days, events", f"{len(lines):,}"),
            ("text view (uncached), µs per message", f"{text_view_us(lines):.1f}")]
    memory, memory_cpu = run("memory", lines, None)
    rows.append(("engine, memory backend, messages/s (target 10,000)", f"{memory:,.0f}"))
    rows.append(("  the same, messages per CPU second", f"{memory_cpu:,.0f}"))
    with tempfile.TemporaryDirectory() as folder:
        sqlite, sqlite_cpu = run("sqlite", lines, Path(folder))
    rows.append(("engine, SQLite backend, messages/s (target 6,000)", f"{sqlite:,.0f}"))
    rows.append(("  the same, messages per CPU second", f"{sqlite_cpu:,.0f}"))
    rows.append(("SQLite / memory (target ≥ 0.5)", f"{sqlite / memory:.2f}"))
    return rows + batch_curve(lines) + batch_tail(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--detectors", action="store_true",
                        help="also what each detector alone adds to a message")
    args = parser.parse_args()
    rows = main(args.users, args.days)
    if args.detectors:
        rows += detector_costs(load(args.users, args.days))
    show(rows)

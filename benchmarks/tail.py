"""Why a /v1/check batch is long, from inside the server: each batch's CPU, not its wall.

    python benchmarks/tail.py [--warm 24] [--seconds 8] [--rate 1200] [--json out.json]

Runs ``spimguard serve`` (SQLite, the embedded defaults) pinned to one core, as
``speed.py`` does, with probes installed in the server process before it starts, and
drives it from this process on the other core: the saturation load for ``--warm``
seconds (closed loop, as ``speed.py``'s rounds grow the state before its levels), then
30/50/70 % of ``--rate`` (open loop), or of a round at saturation for half a level's
seconds just before each (the load's later messages cost more: ``virtual``). Per batch
the server records what does not depend on the machine's load: its size, the engine
thread's CPU (``RUSAGE_THREAD``) and its involuntary context switches, the other
threads' CPU meanwhile (the event loop, the checkpointer), the collector's passes
(``gc.callbacks``: generation, thread, CPU), the sweep parts and maintenance passes and
the commit's CPU, and the wait of its oldest message. What is left of a batch's wall
clock after its CPU and the other threads' is the machine (other processes) or the disk.

The table: per level, batches, size p50/p90/max, CPU p50/p99, the share of batches
over 10 ms by wall and by CPU, and for the batches over 10 ms of wall what they held.

Per check, a stage trace (``_trace_checks``, session 40): its bytes first seen by the
loop, the app's lane entered, handed to the engine's thread, its batch's start and end,
its answer settled on the loop, its task resumed, its answer written; per level each
stage's p50 / p99 and what the slowest 1 % spent in each. The client's p99 (in the
level's name, from when each request was due) less the server's says what lies outside
the server: the client's own loop, the kernel, the loop's turn before it read the bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from api import TOKEN, messages, offer, saturate
from engine import load
from spimguard.sim.network import OFFICIAL_CLIENTS
from table import Rows, free_port, show

# The server's side: run as ``python tail.py --probe OUT serve ...``.
_PROBE = "--probe"


def _install(out: str) -> None:
    """Probes in this (the server's) process; what they found written to ``out`` at shutdown."""
    import gc
    import resource
    import threading

    from spimguard import engine as engine_module
    from spimguard.server import grouping

    batches: list[dict[str, Any]] = []
    collections: list[tuple[float, int, str, float, float, int]] = []
    started: dict[int, tuple[float, float]] = {}

    def collected(phase: str, info: dict[str, int]) -> None:
        ident = threading.get_ident()
        if phase == "start":
            started[ident] = (time.monotonic(), time.thread_time())
        elif ident in started:
            wall, cpu = started.pop(ident)
            collections.append((wall, info["generation"], threading.current_thread().name,
                                time.monotonic() - wall, time.thread_time() - cpu,
                                info["collected"]))

    gc.callbacks.append(collected)
    spans: dict[str, float] = {"commit": 0.0, "sweep": 0.0, "maintain": 0.0}
    counts: dict[str, int] = {"sweep": 0, "maintain": 0}

    def timed(name: str, work: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            cpu = time.thread_time()
            try:
                return work(*args)
            finally:
                spans[name] += time.thread_time() - cpu
                if name in counts:
                    counts[name] += 1
        return wrapper

    engine_class = engine_module.Engine
    engine_class._commit = timed("commit", engine_class._commit)  # type: ignore[method-assign]
    # The module's functions, not the engine's methods: ``Engine._sweep_part`` runs at
    # every batch and sweeps only one in ``SWEEP_EVERY`` events.
    engine_module.sweep_part = timed("sweep", engine_module.sweep_part)
    engine_module.maintain = timed("maintain", engine_module.maintain)
    judge = grouping.GroupCommit._judge
    checks = grouping.GroupCommit._checks

    def probed_checks(self: Any, taken: list[Any]) -> Any:
        oldest = min((queued for _, _, queued in taken), default=time.monotonic())
        self._probe_oldest = time.monotonic() - oldest
        return checks(self, taken)

    def probed(self: Any, batch: list[Any]) -> Any:
        for key in spans:
            spans[key] = 0.0
        swept, maintained = counts["sweep"], counts["maintain"]
        mine = resource.getrusage(resource.RUSAGE_THREAD)
        whole = time.process_time()
        began = time.monotonic()
        try:
            return judge(self, batch)
        finally:
            ended = time.monotonic()
            after = resource.getrusage(resource.RUSAGE_THREAD)
            cpu = (after.ru_utime + after.ru_stime) - (mine.ru_utime + mine.ru_stime)
            batches.append({
                "at": began, "size": len(batch), "wall": ended - began, "cpu": cpu,
                "others": time.process_time() - whole - cpu,
                "preempted": after.ru_nivcsw - mine.ru_nivcsw,
                "yielded": after.ru_nvcsw - mine.ru_nvcsw,
                "commit": spans["commit"], "sweep": spans["sweep"],
                "maintain": spans["maintain"], "sweeps": counts["sweep"] - swept,
                "maintained": counts["maintain"] - maintained,
                "oldest": getattr(self, "_probe_oldest", 0.0)})

    grouping.GroupCommit._judge = probed  # type: ignore[method-assign]
    grouping.GroupCommit._checks = probed_checks  # type: ignore[method-assign]
    checks_traced = _trace_checks(grouping)

    close = grouping.GroupCommit.close

    def dump(self: Any) -> None:
        """At the server's shutdown (its lifespan's end closes the group commit): uvicorn
        raises SIGTERM again once shut down, so ``atexit`` would never run."""
        close(self)
        Path(out).write_text(json.dumps({"batches": batches, "collections": collections,
                                         "checks": checks_traced}))

    grouping.GroupCommit.close = dump  # type: ignore[method-assign]


# A check's stages, in order, as ``_trace_checks`` stamps them (``time.monotonic``).
STAGES = ("received", "app", "handed", "start", "end", "settled", "resumed", "written")
# What lies between two stages, for the table: (name, from, to).
SPANS = (("bytes in to the app's task", "received", "app"),
         ("body read and decoded", "app", "handed"),
         ("queued for its batch", "handed", "start"),
         ("its batch", "start", "end"),
         ("answer back on the loop", "end", "settled"),
         ("its task resumed", "settled", "resumed"),
         ("answer written", "resumed", "written"),
         ("all, in the server", "received", "written"))


def _trace_checks(grouping: Any) -> list[dict[str, float]]:
    """Stamp every /v1/check's stages in the server (``STAGES``): the loop's first sight of
    its bytes (the protocol's ``data_received``, carried into the request's task by a
    context variable, which the task copies as uvicorn makes it), the app's lane entered,
    the message handed to the engine's thread, its batch's start and end, the answer
    settled on the loop (``grouping._settle``), the request's task resumed, the answer
    written. Probes, not the server's code: what a slow check waited for, outside the
    stages ``/metrics`` measures. Returns the list the traces go into."""
    import contextvars

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from spimguard.server import app as app_module

    now = time.monotonic
    received: contextvars.ContextVar[float] = contextvars.ContextVar("received", default=0.0)
    current: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
        "trace", default=None)
    traces: list[dict[str, float]] = []
    by_id: dict[str, dict[str, float]] = {}
    by_future: dict[int, dict[str, float]] = {}
    data_received = HttpToolsProtocol.data_received

    def stamped(self: Any, data: bytes) -> None:
        received.set(now())
        data_received(self, data)

    HttpToolsProtocol.data_received = stamped  # type: ignore[method-assign]
    lane = app_module.Express.express

    async def express(self: Any, scope: Any, receive: Any, send: Any) -> None:
        trace = {"received": received.get(), "app": now()}
        current.set(trace)
        await lane(self, scope, receive, send)
        if "written" in trace:
            traces.append(trace)

    app_module.Express.express = express  # type: ignore[method-assign]
    judge_marked = grouping.GroupCommit.judge_marked

    async def marked(self: Any, message: Any) -> Any:
        trace = current.get()
        if trace is not None:
            trace["handed"] = now()
            by_id[message.id] = trace
        try:
            return await judge_marked(self, message)
        finally:
            if trace is not None:
                trace["resumed"] = now()
                by_id.pop(message.id, None)

    grouping.GroupCommit.judge_marked = marked  # type: ignore[method-assign]
    judge = grouping.GroupCommit._judge

    def judged(self: Any, batch: list[Any]) -> Any:
        began = now()
        try:
            return judge(self, batch)
        finally:
            ended = now()
            for message, future in batch:
                trace = by_id.get(message.id)
                if trace is not None:
                    trace["start"], trace["end"] = began, ended
                    by_future[id(future)] = trace

    grouping.GroupCommit._judge = judged  # type: ignore[method-assign]
    settle = grouping._settle

    def settled(answers: list[Any], *rest: Any) -> None:
        at = now()
        for future, _, _ in answers:
            trace = by_future.pop(id(future), None)
            if trace is not None:
                trace["settled"] = at
        settle(answers, *rest)

    grouping._settle = settled
    send_json = app_module.send_json

    async def written(send: Any, body: bytes) -> None:
        await send_json(send, body)
        trace = current.get()
        if trace is not None:
            trace["written"] = now()

    app_module.send_json = written
    return traces


def stages(name: str, traces: list[dict[str, float]]) -> Rows:
    """A level's checks by stage (``SPANS``): p50 / p99 of each, and what the slowest 1 %
    (by their time in the server) spent in each, on average."""
    whole = [t for t in traces if all(k in t and t[k] > 0 for k in STAGES)]
    if not whole:
        return [(f"{name}: traced checks", "none")]

    def span(t: dict[str, float], a: str, b: str) -> float:
        return (t[b] - t[a]) * 1000

    slowest = sorted(whole, key=lambda t: span(t, "received", "written"))
    slowest = slowest[-max(1, len(whole) // 100):]
    rows: Rows = [(f"{name}: traced checks; a check's stages, ms p50 / p99 / the slowest "
                   "1 %'s mean", f"{len(whole):,}")]
    for label, a, b in SPANS:
        each = [span(t, a, b) for t in whole]
        rows.append((f"  {label}", f"{_q(each, .5):.2f} / {_q(each, .99):.2f} / "
                     f"{statistics.mean(span(t, a, b) for t in slowest):.2f}"))
    return rows


def _serve(folder: Path, out: Path, core: int | None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, _PROBE, str(out), "serve", "--port", str(port),
         "--data-dir", str(folder), "--log-level", "warning"],
        env={**os.environ, "SPIMGUARD_API_TOKEN": TOKEN,
             "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(OFFICIAL_CLIENTS)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=None if core is None else lambda: os.sched_setaffinity(0, {core}))
    stop = time.monotonic() + 180
    while time.monotonic() < stop and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.02)
    process.kill()
    raise RuntimeError("spimguard did not start")


def _q(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary(name: str, batches: list[dict[str, Any]],
            collections: list[tuple[float, int, str, float, float, int]]) -> Rows:
    """What the batches of one level held, the long ones (over 10 ms of wall) apart."""
    if not batches:
        return [(name, "no batches")]
    long = [b for b in batches if b["wall"] > 0.01]
    first, last = batches[0]["at"], batches[-1]["at"] + batches[-1]["wall"]
    gcs = [c for c in collections if first <= c[0] <= last]

    def share(part: list[Any]) -> str:
        return f"{100 * len(part) / len(batches):.1f}"

    def mean(key: str, of: list[dict[str, Any]]) -> float:
        return statistics.mean(b[key] for b in of) if of else 0.0

    sizes = [b["size"] for b in batches]
    rows: Rows = [
        (f"{name}: batches, messages a batch p50 / p90 / max",
         f"{len(batches):,}, {_q(sizes, .5):.0f} / {_q(sizes, .9):.0f} / {max(sizes)}"),
        ("  a batch's CPU ms p50 / p90 / p99 / max", " / ".join(
            f"{_q([b['cpu'] for b in batches], q) * 1000:.1f}" for q in (.5, .9, .99, 1))),
        ("  CPU ms a message (all batches)",
         f"{sum(b['cpu'] for b in batches) / sum(sizes) * 1000:.2f}"),
        ("  batches over 10 ms: by wall / by the engine's CPU, %",
         f"{share(long)} / {share([b for b in batches if b['cpu'] > 0.01])}"),
        ("  oldest message's wait at the batch's start over 10 ms, % of batches",
         share([b for b in batches if b["oldest"] > 0.01])),
        ("  collections during the level: gen 0 / 1 / 2; gen-2 CPU ms total",
         " / ".join(str(sum(c[1] == g for c in gcs)) for g in (0, 1, 2))
         + f"; {sum(c[4] for c in gcs if c[1] == 2) * 1000:.1f}"),
        ("  the longest collection's CPU ms; cyclic garbage they freed, objects gen 0 / 1 / 2",
         f"{max((c[4] for c in gcs), default=0.0) * 1000:.1f}; "
         + " / ".join(str(sum(c[5] for c in gcs if c[1] == g)) for g in (0, 1, 2))),
        ("  collections' CPU ms by thread",
         ", ".join(f"{t} {sum(c[4] for c in gcs if c[2] == t) * 1000:.1f}"
                   for t in sorted({c[2] for c in gcs})) or "none"),
        ("  sweep parts / maintenance passes; their CPU ms total",
         f"{sum(b['sweeps'] for b in batches)} / {sum(b['maintained'] for b in batches)}; "
         f"{sum(b['sweep'] for b in batches) * 1000:.1f} / "
         f"{sum(b['maintain'] for b in batches) * 1000:.1f}"),
    ]
    if long:
        rows += [
            ("  the long batches: messages, wall, engine CPU, others' CPU, commit CPU, ms",
             f"{mean('size', long):.1f}, {mean('wall', long) * 1000:.1f}, "
             f"{mean('cpu', long) * 1000:.1f}, {mean('others', long) * 1000:.1f}, "
             f"{mean('commit', long) * 1000:.2f}"),
            ("  the rest:        messages, wall, engine CPU, others' CPU, commit CPU, ms",
             ", ".join(f"{mean(k, [b for b in batches if b['wall'] <= 0.01]) * m:.{d}f}"
                       for k, m, d in (("size", 1, 1), ("wall", 1000, 1), ("cpu", 1000, 1),
                                       ("others", 1000, 1), ("commit", 1000, 2)))),
            ("  the long batches: with a sweep part / maintenance / a collection, %", " / ".join(
                f"{100 * n / len(long):.0f}" for n in (
                    sum(b["sweeps"] > 0 for b in long), sum(b["maintained"] > 0 for b in long),
                    sum(any(b["at"] <= c[0] <= b["at"] + b["wall"] for c in gcs)
                        for b in long)))),
            ("  the long batches: engine CPU ≥ 10 ms / wall unaccounted ≥ 5 ms "
             "(off-CPU: the machine, the disk), %", " / ".join(
                 f"{100 * n / len(long):.0f}" for n in (
                     sum(b["cpu"] >= 0.01 for b in long),
                     sum(b["wall"] - b["cpu"] - b["others"] >= 0.005 for b in long)))),
            ("  preempted (involuntary switches) a long / other batch", "{:.1f} / {:.1f}".format(
                mean("preempted", long),
                mean("preempted", [b for b in batches if b["wall"] <= 0.01]))),
        ]
    return rows


class _Spans:
    """CPU the engine's thread spent, since the last ``take``, in the periodic work a batch
    may carry: sweep parts, maintenance passes, commits, and the collector's passes by
    generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        import gc

        from spimguard import engine as engine_module

        self.cpu: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self._gc_began = 0.0
        for name in ("sweep_part", "maintain"):
            setattr(engine_module, name, self._timed(name, getattr(engine_module, name)))
        engine_module.Engine._commit = self._timed(  # type: ignore[method-assign]
            "commit", engine_module.Engine._commit)
        gc.callbacks.append(self._collected)

    def _add(self, name: str, cpu: float) -> None:
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu
        self.count[name] = self.count.get(name, 0) + 1

    def _timed(self, name: str, work: Any) -> Any:
        def timed(*args: Any) -> Any:
            began = time.thread_time()
            try:
                return work(*args)
            finally:
                self._add(name, time.thread_time() - began)
        return timed

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.thread_time()
        else:
            self._add(f"gc{info['generation']}", time.thread_time() - self._gc_began)

    def take(self) -> tuple[dict[str, float], dict[str, int]]:
        found = self.cpu, self.count
        self.cpu, self.count = {}, {}
        return found


def _filled(arrivals: list[float], taken: int, clock: float, fixed: float,
            most: int = 256) -> tuple[int, float]:
    """Where a batch that waits to fill would end and start (the next step this pass
    measured, not the server's policy): the engine, free at ``clock``, starts once the
    waits of the checks queued add up to ``fixed`` (a batch's own cost: a ski-rental
    rule, waiting no longer in all than one more batch would cost), taking what arrived
    by then."""
    start = max(clock, arrivals[taken])
    end = taken
    while True:
        while end < len(arrivals) and end - taken < most and arrivals[end] <= start:
            end += 1
        if end - taken >= most:
            return end, start
        queued = arrivals[taken:end]
        waited = sum(start - a for a in queued)
        due = start + max(0.0, fixed - waited) / len(queued)
        if end < len(arrivals) and arrivals[end] < due:
            start = arrivals[end]
            continue
        return end, due


def _saturation(engine: Any, events: list[Any], start: int, count: int,
                loop_cost: float) -> float:
    """Messages a second of CPU (the loop's ``loop_cost`` a check added) that the engine
    judges ``events[start:start + count]`` at, in batches of 16 (the saturation rounds'
    size)."""
    cpu = 0.0
    for at in range(start, start + count, 16):
        began = time.thread_time()
        engine.process_batch(events[at:min(at + 16, start + count)])
        cpu += time.thread_time() - began
    return count / (cpu + count * loop_cost)


def virtual(shares: tuple[float, ...] = (0.3, 0.5, 0.7), seconds: float = 8.0,
            loop_cost: float = 0.17e-3, warm: int = 30_000, fill: bool = False,
            probe: int = 1_500, warm_rate: bool = False) -> Rows:
    """The group commit's queue replayed on a clock of CPU time, in this process: the
    engine (SQLite, the server's defaults) judges the load's messages as the server's
    engine thread would take them at ``shares`` of its saturation, each batch everything
    that arrived by the time the last one ended (at most 256, ``GroupCommit``'s bound),
    and the clock moves by the batch's thread CPU plus ``loop_cost`` (the event loop's
    CPU a check, ``speed.py``'s "the rest of the server") for each message arriving
    meanwhile, which takes the same core. No other process moves this clock: what it
    shows is the code's own tail. The first ``warm`` messages, in batches of 16, grow
    the store first. The server's collector policy (``server.app._FreezeSurvivors``) is
    installed. Each level's long batches (over 10 ms) are then told apart: their share of
    the CPU that went to the periodic work (sweep parts, maintenance, full collections)
    against judging.

    Saturation, of what each level judges: the ``probe`` messages just before it, judged
    in batches of 16 (its rate, messages a second of CPU, the loop's share added). Why
    not the warm-up's last third (session 36; ``warm_rate`` keeps it): the warm-up ends
    in the load's first day, and the levels judge its second, whose messages cost ~25 %
    more at batches of 16 (0.64-0.69 ms of CPU against 0.82-0.87 from message 32,000 on,
    session 38): "70 %" of the first day's rate was ~88 % of the second day's."""
    import gc

    from spimguard import decode_event, load_config, open_engine
    from spimguard.server.app import _FreezeSurvivors

    spans = _Spans()
    cfg = load_config(environ={}, storage={"backend": "sqlite"},
                      official_clients=list(OFFICIAL_CLIENTS))
    lines = [line for line in load(2000, 2) if b'"type":"message"' in line]
    events = [decode_event(line, cfg.limits) for line in lines]
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(cfg, Path(folder))
        freezing = _FreezeSurvivors()
        gc.callbacks.append(freezing)
        gc.collect()
        try:
            return _replay(engine, events, spans, shares, seconds, loop_cost, warm, fill,
                           probe, warm_rate)
        finally:
            gc.callbacks.remove(freezing)
            gc.unfreeze()
            engine.close()


def _replay(engine: Any, events: list[Any], spans: Any, shares: tuple[float, ...],
            seconds: float, loop_cost: float, warm: int, fill: bool, probe: int,
            warm_rate: bool) -> Rows:
    """``virtual``'s warm-up and levels on ``engine`` (anything with ``process_batch``),
    ``events`` judged in order; ``spans`` what the periodic work took (``_Spans``)."""
    rows: Rows = []
    timed_from = warm - warm // 3
    _saturation(engine, events, 0, timed_from, loop_cost)
    saturation = _saturation(engine, events, timed_from, warm - timed_from, loop_cost)
    rows.append(("virtual saturation (batches of 16) over the warm-up's last third, "
                 "messages a second of CPU", f"{saturation:,.0f}"))
    at = warm
    fixed = 0.0
    if fill:  # the batch's own cost, from batches of one (the next 300 messages)
        if not warm_rate:
            saturation = _saturation(engine, events, at, probe, loop_cost)
            at += probe
        began = time.thread_time()
        for one in range(at, at + 300):
            engine.process_batch(events[one:one + 1])
        fixed = max(0.0, (time.thread_time() - began) / 300 - 1 / saturation
                    + loop_cost) * 16 / 15
        at += 300
        rows.append(("virtual: batches wait to fill up to a batch's own cost, ms",
                     f"{fixed * 1000:.2f}"))
    spans.take()
    alone: list[float] = []  # the CPU of each batch of one message, every level
    each: list[float] = []  # a message's CPU at batches of 16, before each level
    for share in shares:
        if not warm_rate:
            saturation = _saturation(engine, events, at, probe, loop_cost)
            at += probe
            rows.append((f"virtual saturation before {share:.0%} (its {probe:,} messages, "
                         "batches of 16)", f"{saturation:,.0f}"))
            spans.take()
        each.append(1 / saturation - loop_cost)
        rate = share * saturation
        count = int(rate * seconds)
        arrivals = [i / rate for i in range(count)]
        clock, taken = 0.0, 0
        sizes: list[int] = []
        took: list[float] = []
        cpus: list[float] = []
        parts: list[tuple[dict[str, float], dict[str, int]]] = []
        waits: list[float] = []
        latencies: list[float] = []
        while taken < count:
            if fill:
                end, clock = _filled(arrivals, taken, clock, fixed)
            else:
                clock = max(clock, arrivals[taken])
                end = taken
                while end < count and end - taken < 256 and arrivals[end] <= clock:
                    end += 1
            began = time.thread_time()
            engine.process_batch(events[at + taken:at + end])
            cpu = time.thread_time() - began
            parts.append(spans.take())
            span = cpu * (1 + rate * loop_cost)
            waits += [clock - arrivals[i] for i in range(taken, end)]
            clock += span
            latencies += [clock - arrivals[i] for i in range(taken, end)]
            sizes.append(end - taken)
            took.append(span)
            cpus.append(cpu)
            taken = end
        at += count
        rows += _virtual_rows(share, rate, sizes, took, cpus, parts, waits, latencies,
                              sum(took) / clock)
        alone += [cpu for cpu, size in zip(cpus, sizes, strict=True) if size == 1]
    if alone:
        rows += fixed_cost(statistics.mean(alone), statistics.mean(each), loop_cost)
    return rows


def fixed_cost(alone: float, each: float, loop_cost: float) -> Rows:
    """What a batch costs beside its messages, from a batch of one's CPU (``alone``) and a
    message's in batches of 16 (``each``), and the share of saturation past which the
    engine's thread is never idle: where a batch of one takes longer (with the loop's
    share of the core) than the interval between two checks, each batch ends with the
    next check already waiting, and batches grow only as the queue does."""
    fixed = max(0.0, alone - each) * 16 / 15
    busy_from = 1 / (alone + loop_cost) / (1 / (each + loop_cost))
    return [("virtual: a batch of one's CPU ms; of which the batch's own (beside its "
             "message's), ms", f"{alone * 1000:.2f}; {fixed * 1000:.2f}"),
            ("  the engine's thread never idle past this share of saturation, %",
             f"{100 * busy_from:.0f}")]


def _virtual_rows(share: float, rate: float, sizes: list[int], took: list[float],
                  cpus: list[float], parts: list[tuple[dict[str, float], dict[str, int]]],
                  waits: list[float], latencies: list[float], busy: float) -> Rows:
    def pct(values: list[float], over: float = 0.01) -> str:
        return f"{100 * sum(v > over for v in values) / len(values):.1f}"

    long = [i for i, span in enumerate(took) if span > 0.01]
    periodic = ("sweep_part", "maintain", "gc2")

    def cpu_in(name: str, which: list[int]) -> float:
        return sum(parts[i][0].get(name, 0.0) for i in which)

    everything = list(range(len(took)))
    rows: Rows = [
        (f"virtual {share:.0%} ({rate:,.0f}/s): batches, messages a batch mean / p90 / max; "
         "busy %", f"{len(sizes):,}, {statistics.mean(sizes):.1f} / {_q(sizes, .9):.0f} / "
         f"{max(sizes)}; {100 * busy:.0f}"),
        ("  a batch's CPU ms mean / p99 / max; CPU ms a message",
         f"{statistics.mean(cpus) * 1000:.1f} / {_q(cpus, .99) * 1000:.1f} / "
         f"{max(cpus) * 1000:.1f}; {sum(cpus) / sum(sizes) * 1000:.2f}"),
        ("  checks that waited / batches that took over 10 ms, %",
         f"{pct(waits)} / {pct(took)}"),
        ("  a check's time in the server p50 / p95 / p99 ms", " / ".join(
            f"{_q(latencies, q) * 1000:.1f}" for q in (.5, .95, .99))),
        ("  sweep parts / maintenance passes / full collections (their CPU ms)", " / ".join(
            f"{sum(p[1].get(name, 0) for p in parts)} ({cpu_in(name, everything) * 1000:.0f})"
            for name in periodic)),
        ("  commit CPU ms a batch; gen 0+1 collections' CPU ms a batch",
         f"{cpu_in('commit', everything) / len(took) * 1000:.2f}; "
         f"{(cpu_in('gc0', everything) + cpu_in('gc1', everything)) / len(took) * 1000:.2f}")]
    if long:
        total = sum(cpus[i] for i in long)
        rows.append(("  the long batches: messages mean; CPU share in sweep / maintenance / "
                     "full collections, %", f"{statistics.mean(sizes[i] for i in long):.1f}; "
                     + " / ".join(f"{100 * cpu_in(name, long) / total:.0f}"
                                  for name in periodic)))
        first = [i for i in long if i == 0 or took[i - 1] <= 0.01]
        rows.append(("  runs of long batches: count; the first one's messages mean; what "
                     "it held: sweep / maintenance / full collection, %",
                     f"{len(first)}; {statistics.mean(sizes[i] for i in first):.1f}; "
                     + " / ".join(f"{100 * held / len(first):.0f}" for held in (
                         sum(parts[i][1].get(name, 0) > 0 for i in first)
                         for name in periodic))))
    return rows


def main(warm: float = 24.0, seconds: float = 8.0, rate: float = 0.0,
         dump: Path | None = None) -> Rows:
    lines = load(2000, 2)
    bodies = [line for line in lines if b'"type":"message"' in line]
    requests = messages("/v1/check", bodies)
    cores = sorted(os.sched_getaffinity(0))
    server_core = cores[0] if len(cores) > 1 else None
    phases: list[tuple[str, float, float]] = []
    given = rate > 0
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "probe.json"
        process, port = _serve(Path(folder) / "data", out, server_core)
        if len(cores) > 1:
            os.sched_setaffinity(0, {cores[-1]})
        try:
            began = time.monotonic()
            achieved, _ = asyncio.run(saturate(port, requests, warm, 16))
            phases.append((f"saturation ({achieved:,.0f}/s)", began, time.monotonic()))
            for share in (0.3, 0.5, 0.7):
                if not given:  # a round on the messages the level judges next (``virtual``)
                    began = time.monotonic()
                    rate, _ = asyncio.run(saturate(port, requests, seconds / 2, 16))
                    phases.append((f"saturation before {share:.0%} ({rate:,.0f}/s)", began,
                                   time.monotonic()))
                began = time.monotonic()
                try:
                    achieved, lat = asyncio.run(offer(port, requests, share * rate, seconds))
                except RuntimeError as exc:  # a 503: the queue's bound reached
                    said = str(exc)[:40]
                else:
                    said = f"{achieved:,.0f}/s, p99 {_q(lat, .99) * 1000:.1f} ms"
                phases.append((f"{share:.0%} of {rate:,.0f}/s ({said})", began,
                               time.monotonic()))
        finally:
            process.terminate()
            process.wait(60)
            if len(cores) > 1:
                os.sched_setaffinity(0, set(cores))
        found = json.loads(out.read_text())
        if dump:
            dump.write_text(json.dumps({**found, "phases": phases}))
    rows: Rows = [("load average at the end", " ".join(
        f"{x:.2f}" for x in os.getloadavg()))]
    for name, began, ended in phases:
        rows += summary(name, [b for b in found["batches"] if began <= b["at"] <= ended],
                        found["collections"])
        rows += stages(name, [t for t in found["checks"] if began <= t["app"] <= ended])
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == _PROBE:
        _install(sys.argv[2])
        sys.argv = ["spimguard", *sys.argv[3:]]
        from spimguard.cli import main as cli

        cli()
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warm", type=float, default=24.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="the rate the levels are shares of (default: a round's just before "
                             "each)")
    parser.add_argument("--json", type=Path, help="where to keep every batch's record")
    parser.add_argument("--virtual", action="store_true",
                        help="the queue replayed in-process on a clock of CPU time instead")
    parser.add_argument("--fill", action="store_true",
                        help="with --virtual: batches wait to fill up to a batch's own cost")
    parser.add_argument("--warm-rate", action="store_true",
                        help="with --virtual: levels are shares of the warm-up's saturation "
                             "(session 36's), not of their own messages'")
    args = parser.parse_args()
    show(virtual(seconds=args.seconds, fill=args.fill, warm_rate=args.warm_rate)
         if args.virtual
         else main(args.warm, args.seconds, args.rate, args.json))

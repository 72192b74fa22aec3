"""The HTTP API under load: /v1/check and /v1/events beside /healthz, start-up time.

    python benchmarks/api.py [--seconds 8]
    python benchmarks/api.py --own-work [--requests 5000 --rounds 5]

Starts ``spimguard serve`` on the embedded defaults (SQLite, one process) pinned
to one core, and drives it from this process pinned to the other, over
kept-alive HTTP/1.1 connections with requests built beforehand:

- saturation: 32 connections each sending as soon as its answer came (closed
  loop): requests/s and p50/p95/p99 latency;
- fixed offered loads (open loop, 30 % / 50 % / 70 % of the endpoint's measured
  saturation): requests are due on a schedule and latency counts from when each
  was due, so a stalled server is charged for the queue it causes;
- /healthz measured the same way in the same run, as the ceiling of this
  server and client: the ratio says what spimguard's work costs;
- for /v1/check at each level, where the server spent its time (``/metrics``:
  waiting for a batch to start, the batch, the CPU the batch took).

With ``--own-work``, the server's own work instead: the app built as ``serve`` builds
it but driven in this process over ASGI (no sockets, no uvicorn) on uvloop, with an
engine that judges nothing (every message delivered with one signal), 16 requests at a
time so that /v1/check's batching runs as under load. The CPU time a /v1/check and a
/healthz take (routing, middleware, the body, decoding, the batching and its thread, the
counters, the answer's encoding), the least and the median of several rounds: on a shared
machine the least is the one other work disturbed least. (Callgrind's counts are no
steadier here: the start-up they would be taken net of moved by more than 2,000
requests' worth between runs.)

Messages come from the simulator's mixed load (bundled texts), each with its
own id, in event order, never repeated (a repeated id would be answered from
the log: past the end of the load, ``messages`` sends them again under new
ids); /v1/events carries batches of 100 of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec

from engine import load
from spimguard.sim.network import OFFICIAL_CLIENTS
from table import Rows, latency, serve, show

TOKEN = "benchmark-token"
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
_CLOSE = re.compile(rb"^connection:\s*close\b", re.IGNORECASE | re.MULTILINE)


def _request(method: str, path: str, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class Connection:
    """A kept-alive connection that reopens once when the server closed it while idle
    (uvicorn closes after 5 s without a request; the request is then simply resent),
    and is not reused after an answer that says ``Connection: close`` (Rspamd's workers
    close after every answer: each request then pays its own connect, as Rspamd's
    clients do)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, raw: bytes) -> None:
        for attempt in (1, 2):
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            try:
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                self.streams = None
                if attempt == 2:
                    raise
                continue
            if not head.startswith(b"HTTP/1.1 2"):
                raise RuntimeError(f"server answered {head[:60]!r}")
            match = _LENGTH.search(head)
            await reader.readexactly(int(match.group(1)) if match else 0)
            if _CLOSE.search(head):
                writer.close()
                self.streams = None
            return

    def close(self) -> None:
        if self.streams:
            self.streams[1].close()


class Load:
    """Requests handed out in order. Past the end of the list, ``again`` (when given)
    makes request ``i`` of lap ``k`` anew; without it the list repeats as it is (for
    requests that carry no id: /healthz, Rspamd's mails)."""

    def __init__(self, requests: list[bytes],
                 again: Callable[[int, int], bytes] | None = None) -> None:
        self.requests = requests
        self.again = again
        self.next = 0

    def take(self) -> bytes:
        lap, index = divmod(self.next, len(self.requests))
        self.next += 1
        return self.again(index, lap) if lap and self.again else self.requests[index]

    @property
    def laps(self) -> float:
        return self.next / len(self.requests)


def messages(path: str, bodies: list[bytes]) -> Load:
    """Each message of the load as a request to ``path``, never the same id twice: past
    the end, each lap sends the messages again under ids of its own and later by the
    load's span times the lap, as the same people writing the same again. A repeated id
    would be answered from the log without judging, which is not the work measured."""
    span = _span(bodies)

    def again(index: int, lap: int) -> bytes:
        message = msgspec.json.decode(bodies[index])
        message["id"] = f"{message['id']}~{lap}"
        message["ts"] += lap * span
        return _request("POST", path, msgspec.json.encode(message))

    return Load([_request("POST", path, body) for body in bodies], again)


def _span(bodies: list[bytes]) -> float:
    """Seconds from the load's first message to one second past its last."""
    times = [msgspec.json.decode(body)["ts"] for body in (bodies[0], bodies[-1])]
    return times[1] - times[0] + 1.0


async def saturate(port: int, load: Load, seconds: float, connections: int = 32) -> tuple[
        float, list[float]]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        connection = Connection(port)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await connection.exchange(load.take())
            latencies.append(time.perf_counter() - started)
        connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return len(latencies) / (time.perf_counter() - began), latencies


async def offer(port: int, load: Load, rate: float, seconds: float,
                connections: int = 64) -> tuple[float, list[float]]:
    """Open loop: request i is due at start + i/rate; latency counts from then."""
    due: asyncio.Queue[float] = asyncio.Queue()
    latencies: list[float] = []
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)

    async def worker() -> None:
        connection = Connection(port)
        while True:
            when = await due.get()
            if when < 0:
                break
            await connection.exchange(load.take())
            latencies.append(time.perf_counter() - when)
        connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    for i in range(total):
        when = start + i / rate
        delay = when - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait(when)
    for _ in workers:
        due.put_nowait(-1.0)
    await asyncio.gather(*workers)
    return len(latencies) / (time.perf_counter() - start), latencies


_SPLIT = ("spimguard_check_wait_seconds", "spimguard_batch_seconds",
          "spimguard_batch_cpu_seconds", "spimguard_batch_messages")
SPLIT_ROW = "  in the server: wait for a batch / a batch (its CPU), mean ms; messages a batch"


_SLOW = '_bucket{le="0.01"}'  # the histograms' bucket of 10 ms, the p99 goal
SLOW_ROW = "  in the server: checks that waited / batches that took over 10 ms, %"


def totals(port: int) -> dict[str, float]:
    """The sums and counts of the server's /v1/check histograms so far, and how many
    took up to 10 ms (``/metrics``)."""
    found = {}
    for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text.splitlines():
        name, _, value = line.partition(" ")
        if name.rpartition("_")[0] in _SPLIT and name.endswith(("_sum", "_count", _SLOW)):
            found[name] = float(value)
    return found


def slow(before: dict[str, float], after: dict[str, float]) -> str:
    """Between two ``totals``, the share of checks that waited over 10 ms for their batch
    to start and of batches that took over 10 ms: beside a p99 over 10 ms, whether the
    server's queue and batches account for it, or the HTTP layer and the machine do."""
    def over(name: str) -> float:
        count = after[name + "_count"] - before[name + "_count"]
        fast = after[name + _SLOW] - before[name + _SLOW]
        return 100 * (count - fast) / count if count else 0.0
    return f"{over(_SPLIT[0]):.1f} / {over(_SPLIT[1]):.1f}"


def split(before: dict[str, float], after: dict[str, float]) -> str:
    """Where /v1/check's time went between two ``totals``: waiting for its batch to
    start, the batch (the engine's judging and commit; the CPU it took, the rest was
    the disk or the core taken by other work), and how many a batch held."""
    def mean(name: str) -> float:
        count = after[name + "_count"] - before[name + "_count"]
        return (after[name + "_sum"] - before[name + "_sum"]) / count if count else 0.0
    wait, batch, cpu, size = (mean(name) for name in _SPLIT)
    return f"{wait * 1000:.1f} / {batch * 1000:.1f} ({cpu * 1000:.1f}) / {size:.1f}"


def _endpoint(port: int, name: str, load: Load, health: Load, ceiling: float,
              seconds: float, connections: int, per_request: int = 1) -> Rows:
    """One endpoint at saturation and at 30/50/70 % of it, /healthz at the same rates."""
    before = totals(port)
    saturated, lat = asyncio.run(saturate(port, load, seconds, connections))
    after = totals(port)
    unit = "events/s" if per_request > 1 else "requests/s"
    rows: Rows = [(f"{name} at saturation, {unit}", f"{saturated * per_request:,.0f}"),
                  ("  p50 / p95 / p99 ms", latency(lat)),
                  ("  requests/s ÷ /healthz's (target ≥ 0.5 for /v1/check)",
                   f"{saturated / ceiling:.2f}")]
    if per_request == 1:
        rows.append((SPLIT_ROW, split(before, after)))
    for share in (0.3, 0.5, 0.7):
        rate = share * saturated
        before = totals(port)
        achieved, lat = asyncio.run(offer(port, load, rate, seconds))
        after = totals(port)
        _, beside = asyncio.run(offer(port, health, rate, seconds))
        target = " (target p99 < 10)" if share == 0.7 and per_request == 1 else ""
        rows.append((f"{name} at {share:.0%} ({achieved:,.0f} req/s), p50/p95/p99 ms{target}",
                     latency(lat)))
        if per_request == 1:
            rows.append((SPLIT_ROW, split(before, after)))
        rows.append(("  /healthz offered the same rate, p50/p95/p99 ms", latency(beside)))
    return rows


def main(seconds: float = 8.0) -> Rows:
    lines = load(2000, 2)
    bodies = [line for line in lines if b'"type":"message"' in line]
    # Batches of messages only: the load's opening contact lists and logins are cheap and
    # would flatter the saturation figure that the fixed loads are then offered against.
    batches = [_request("POST", "/v1/events", b'{"events":[' + b",".join(bodies[i:i + 100])
                        + b"]}") for i in range(0, len(bodies), 100)]
    health = Load([_request("GET", "/healthz")])
    rows: Rows = []
    with tempfile.TemporaryDirectory() as folder:
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        process, url, startup = serve(Path(folder), {
            "SPIMGUARD_API_TOKEN": TOKEN, "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(OFFICIAL_CLIENTS)},
            cpu=cores[0] if len(cores) > 1 else None)
        if len(cores) > 1:
            os.sched_setaffinity(0, {cores[-1]})
        port = int(url.rsplit(":", 1)[1])
        try:
            rows.append(("start-up to first /healthz answer, s", f"{startup:.2f}"))
            ceiling, lat = asyncio.run(saturate(port, health, seconds))
            rows.append(("/healthz at saturation, requests/s", f"{ceiling:,.0f}"))
            rows.append(("  p50 / p95 / p99 ms", latency(lat)))
            rows += _endpoint(port, "/v1/check", messages("/v1/check", bodies), health,
                              ceiling, seconds, 32)
            rows += _endpoint(port, "/v1/events (100 per batch)", Load(batches), health,
                              ceiling, seconds, 4, per_request=100)
        finally:
            process.terminate()
            process.wait(10)
    return rows


class _Idle:
    """An engine that judges nothing: what is left of a request is the server's work."""

    records = None

    def __init__(self, config: Any) -> None:
        self.config = config
        self.disabled: dict[str, str] = {}

    def process_batch(self, events: list[Any], fresh: list[bool] | None = None) -> list[Any]:
        from spimguard.events import SignalOut, Verdict

        if fresh is not None:
            fresh.extend(True for _ in events)
        return [Verdict(e.id, "deliver", 0.4, [SignalOut("SIGNAL", 0.4, "a detail")])
                for e in events]

    def health(self) -> dict[str, str]:
        return {"state": "ok", "records": "ok"}

    def close(self) -> None:
        pass


def own_cost(bodies: list[bytes], path: str, n: int) -> float:
    """CPU seconds a request of ``n`` to ``path`` (16 at a time) through the app."""
    from spimguard import load_config
    from spimguard.server import create_app

    config = load_config(environ={}, storage={"backend": "memory"}, api_token=TOKEN)
    app = create_app(_Idle(config))  # type: ignore[arg-type]
    head = [(b"host", b"bench"), (b"authorization", f"Bearer {TOKEN}".encode())]

    async def one(i: int) -> None:
        body = bodies[i % len(bodies)] if path == "/v1/check" else b""
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST" if body else "GET", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [*head, (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
        status: list[int] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if not messages:
                await asyncio.sleep(3600)  # the client stays, as a kept-alive one does
            return messages.pop()

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [200]:
            raise RuntimeError(f"{path} answered {status}")

    async def run() -> float:
        async with app.router.lifespan_context(app):  # its start-up not counted
            began = time.process_time()
            for start in range(0, n, 16):
                await asyncio.gather(*(one(i) for i in range(start, min(n, start + 16))))
            return (time.process_time() - began) / n

    import uvloop  # what uvicorn runs the app on

    return uvloop.run(run())


def own_work(requests: int = 5000, rounds: int = 5) -> Rows:
    """The CPU time the server's own work takes a /v1/check and a /healthz."""
    now = time.time()  # every message dated now: none is refused as ahead of the clock
    bodies = [msgspec.json.encode({**msgspec.json.decode(line), "id": f"m{i}", "ts": now})
              for i, line in enumerate(line for line in load(300, 1)
                                       if b'"type":"message"' in line)]
    rows: Rows = []
    for path in ("/v1/check", "/healthz"):
        costs = sorted(own_cost(bodies, path, requests) for _ in range(rounds))
        rows.append((f"{path}, the server's own CPU a request, µs: least / median",
                     f"{costs[0] * 1e6:.1f} / {statistics.median(costs) * 1e6:.1f}"))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--own-work", action="store_true",
                        help="the server's own CPU a request, in process, instead")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    show(own_work(args.requests, args.rounds) if args.own_work else main(args.seconds))

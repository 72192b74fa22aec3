"""The HTTP API under load: /v1/check and /v1/events beside /healthz, start-up time.

    python benchmarks/api.py [--seconds 8]

Starts ``spimguard serve`` on the embedded defaults (SQLite, one process) pinned
to one core, and drives it from this process pinned to the other, over
kept-alive HTTP/1.1 connections with requests built beforehand:

- saturation: 32 connections each sending as soon as its answer came (closed
  loop): requests/s and p50/p95/p99 latency;
- fixed offered loads (open loop, 30 % / 50 % / 70 % of the endpoint's measured
  saturation): requests are due on a schedule and latency counts from when each
  was due, so a stalled server is charged for the queue it causes;
- /healthz measured the same way in the same run, as the ceiling of this
  server and client: the ratio says what spimguard's work costs.

Messages come from the simulator's mixed load (bundled texts), each with its
own id; /v1/events carries batches of 100 events.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import load
from spimguard.sim.network import OFFICIAL_CLIENTS
from table import Rows, show

TOKEN = "benchmark-token"
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


def _request(method: str, path: str, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    raw: bytes) -> None:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 2"):
        raise RuntimeError(f"server answered {head[:60]!r}")
    match = _LENGTH.search(head)
    await reader.readexactly(int(match.group(1)) if match else 0)


class Load:
    """Requests handed out in order, each once (ids must not repeat)."""

    def __init__(self, requests: list[bytes]) -> None:
        self.requests = requests
        self.next = 0

    def take(self) -> bytes:
        raw = self.requests[self.next % len(self.requests)]
        self.next += 1
        return raw


async def saturate(port: int, load: Load, seconds: float, connections: int = 32) -> tuple[
        float, list[float]]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await _exchange(reader, writer, load.take())
            latencies.append(time.perf_counter() - started)
        writer.close()

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
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            when = await due.get()
            if when < 0:
                break
            await _exchange(reader, writer, load.take())
            latencies.append(time.perf_counter() - when)
        writer.close()

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


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _latency(values: list[float]) -> str:
    return f"{_pct(values, 0.5):.1f} / {_pct(values, 0.95):.1f} / {_pct(values, 0.99):.1f}"


def start_server(folder: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    env = {**os.environ, "SPIMGUARD_API_TOKEN": TOKEN,
           "SPIMGUARD_OFFICIAL_CLIENTS": ",".join(OFFICIAL_CLIENTS)}
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "spimguard", "serve", "--port", str(port), "--data-dir",
         str(folder), "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cores[0]})) if len(cores) > 1 else None)
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[-1]})
    raw = _request("GET", "/healthz")
    while True:
        if process.poll() is not None:
            raise RuntimeError("the server exited at start-up")
        try:
            asyncio.run(_once(port, raw))
            return process, time.perf_counter() - started
        except OSError:
            time.sleep(0.02)


async def _once(port: int, raw: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await _exchange(reader, writer, raw)
    writer.close()


def main(seconds: float = 8.0, port: int = 18_731) -> Rows:
    lines = load(2000, 2)
    bodies = [line for line in lines if b'"type":"message"' in line]
    checks = [_request("POST", "/v1/check", body) for body in bodies]
    batches = [_request("POST", "/v1/events", b'{"events":[' + b",".join(lines[i:i + 100])
                        + b"]}") for i in range(0, len(lines), 100)]
    health = [_request("GET", "/healthz")]
    rows: Rows = []
    with tempfile.TemporaryDirectory() as folder:
        process, startup = start_server(Path(folder), port)
        try:
            rows.append(("start-up to first /healthz answer, s", f"{startup:.2f}"))
            ceiling, h_lat = asyncio.run(saturate(port, Load(health), seconds))
            rows.append(("/healthz at saturation, requests/s", f"{ceiling:,.0f}"))
            rows.append(("  p50 / p95 / p99 ms", _latency(h_lat)))
            load_checks = Load(checks)
            saturated, c_lat = asyncio.run(saturate(port, load_checks, seconds))
            rows.append(("/v1/check at saturation, requests/s", f"{saturated:,.0f}"))
            rows.append(("  p50 / p95 / p99 ms", _latency(c_lat)))
            rows.append(("/v1/check ÷ /healthz (target ≥ 0.5)", f"{saturated / ceiling:.2f}"))
            for share in (0.3, 0.5, 0.7):
                achieved, lat = asyncio.run(offer(port, load_checks, share * saturated,
                                                  seconds))
                target = " (target p99 < 10)" if share == 0.7 else ""
                rows.append((f"/v1/check at {share:.0%} of saturation ({achieved:,.0f}/s), "
                             f"p50 / p95 / p99 ms{target}", _latency(lat)))
            per_second, e_lat = asyncio.run(saturate(port, Load(batches), seconds, 4))
            rows.append(("/v1/events (100 per batch) at saturation, events/s",
                         f"{per_second * 100:,.0f}"))
            rows.append(("  per batch p50 / p95 / p99 ms", _latency(e_lat)))
        finally:
            process.terminate()
            process.wait(10)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    show(main(parser.parse_args().seconds))

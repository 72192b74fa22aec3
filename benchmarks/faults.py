"""Load and faults: overload, kill -9, disk full, read-only data dir.

    python benchmarks/faults.py [--seconds 60] [--only overload,kill,disk,readonly]

Starts ``spimguard serve`` on the embedded defaults (SQLite) and prints figures:

- **overload**: /v1/check's saturation rate is measured (32 connections, closed
  loop), then twice that rate is offered for ``--seconds`` (open loop, up to 900
  connections): answers by status, how many 503s carried ``Retry-After``, latency
  of every answer counted from when its request was due, and the server's peak
  resident memory against its memory at rest. Bounded queues mean bounded
  latency and memory; the excess is refused at once.
- **kill**: 32 connections send messages; the server is killed with SIGKILL
  mid-run and restarted on the same data; every message that had been answered
  200 must be in the verdict log.
- **disk**: the data dir on an 8 MB tmpfs; a ballast file fills it while the
  server runs: requests get 503 (never 500, never a silent 200 that is not
  stored); the ballast is removed and requests succeed again without a restart.
- **readonly**: the tmpfs remounted read-only once the server has stopped (a
  file system with open files cannot be), and the server started on it: one
  line on stderr, exit status 1.

The disk and read-only parts mount a tmpfs, so they need root (they are skipped
otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import msgspec

from table import Rows, latency, serve, show

TOKEN = "faults-benchmark-token"
ENV = {"SPIMGUARD_API_TOKEN": TOKEN}
TEXTS = ["lunch at 1?", "see you at the station at eight", "did you get my email about friday",
         "WINNER!! claim your FREE ringtone now at http://tones-club.biz/win",
         "hey, check this out http://ring-tones-club.biz/p/1 :)",
         "can you call me when you are free", "happy birthday!! have a great day"]


class Messages:
    """Unique /v1/check requests (a repeated id would be answered from the log)."""

    def __init__(self, tag: str) -> None:
        self.tag, self.n, self.rng = tag, 0, random.Random(7)

    def next(self) -> tuple[str, bytes]:
        self.n += 1
        id = f"{self.tag}-{self.n}"
        body = msgspec.json.encode({
            "type": "message", "id": id, "ts": time.time(),
            "sender": f"u{self.rng.randrange(5000)}", "recipients": [
                f"u{self.rng.randrange(5000)}" for _ in range(self.rng.randint(1, 3))],
            "text": self.rng.choice(TEXTS)})
        head = (f"POST /v1/check HTTP/1.1\r\nHost: faults\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        return id, head.encode() + body


class Connection:
    """A kept-alive HTTP/1.1 connection answering (status, Retry-After present)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.reused = False

    async def exchange(self, raw: bytes) -> tuple[int, bool]:
        """Once more on a fresh connection if a kept-alive one was closed while idle."""
        status, retry = await self._once(raw)
        if status == 0 and self.reused:
            status, retry = await self._once(raw)
        return status, retry

    async def _once(self, raw: bytes) -> tuple[int, bool]:
        self.reused = self.streams is not None
        try:
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            if self.streams:
                self.streams[1].close()
            self.streams = None
            return 0, False  # connection lost (or refused): no answer
        lines = head.decode("latin-1").lower().split("\r\n")
        length = next((int(h.split(":", 1)[1]) for h in lines
                       if h.startswith("content-length:")), 0)
        await reader.readexactly(length)
        if any(h.startswith("connection: close") for h in lines):
            writer.close()
            self.streams = None
        return int(lines[0].split()[1]), any(h.startswith("retry-after:") for h in lines)

    def close(self) -> None:
        if self.streams:
            self.streams[1].close()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _closed_loop(port: int, messages: Messages, seconds: float, acked: list[str],
                       connections: int = 32) -> float:
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        connection = Connection(port)
        while time.perf_counter() < stop:
            id, raw = messages.next()
            status, _ = await connection.exchange(raw)
            if status == 200:
                acked.append(id)
            elif status == 0:
                await asyncio.sleep(0.05)
        connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return len(acked) / (time.perf_counter() - began)


async def _open_loop(port: int, pid: int, rate: float, seconds: float,
                     connections: int = 900) -> tuple[Counter[str], list[float], int]:
    """Requests due at start + i/rate; latency from when each was due; peak RSS."""
    messages, due = Messages("o"), asyncio.Queue[float]()
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    peak = _rss_kib(pid)

    async def worker() -> None:
        connection = Connection(port)
        while (when := await due.get()) >= 0:
            status, retry = await connection.exchange(messages.next()[1])
            latencies.append(time.perf_counter() - when)
            statuses[f"{status}{' +Retry-After' if retry else ''}"] += 1
        connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    start = time.perf_counter() + 0.05
    next_sample = start
    for i in range(int(rate * seconds)):
        when = start + i / rate
        if (delay := when - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        if when >= next_sample:
            peak, next_sample = max(peak, _rss_kib(pid)), next_sample + 0.5
        due.put_nowait(when)
    for _ in workers:
        due.put_nowait(-1.0)
    await asyncio.gather(*workers)
    return statuses, latencies, max(peak, _rss_kib(pid))


def overload(seconds: float) -> Rows:
    with tempfile.TemporaryDirectory() as folder:
        process, url, _ = serve(Path(folder), ENV)
        port = int(url.rsplit(":", 1)[1])
        try:
            rest = _rss_kib(process.pid)
            rate = asyncio.run(_closed_loop(port, Messages("s"), min(seconds, 10), []))
            statuses, lat, peak = asyncio.run(_open_loop(port, process.pid, 2 * rate, seconds))
        finally:
            process.terminate()
            process.wait(10)
    answered = sum(statuses.values())
    return [("/v1/check saturation (32 connections), requests/s", f"{rate:,.0f}"),
            (f"offered 2x = {2 * rate:,.0f} req/s for {seconds:g} s: answers", f"{answered:,}"),
            *((f"  {status}", f"{count:,}") for status, count in sorted(statuses.items())),
            ("  latency from due time, p50 / p99 / max ms",
             latency(lat, (0.5, 0.99, 1.0), 0)),
            ("  server RSS at rest / peak, MiB", f"{rest / 1024:.0f} / {peak / 1024:.0f}")]


def kill(seconds: float) -> Rows:
    from spimguard import load_config, open_engine

    acked: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        process, url, _ = serve(Path(folder), ENV)
        port = int(url.rsplit(":", 1)[1])

        async def run() -> None:
            load = asyncio.create_task(_closed_loop(port, Messages("k"), seconds, acked))
            await asyncio.sleep(seconds / 2)
            process.send_signal(signal.SIGKILL)
            await load

        asyncio.run(run())
        process.wait(10)
        restarted, _, _ = serve(Path(folder), ENV)  # recovery on the same data
        restarted.terminate()
        restarted.wait(10)
        engine = open_engine(load_config(environ={}, storage={
            "backend": "sqlite", "data_dir": folder}), folder)
        lost = [id for id in acked if engine.records.result(id) is None]
        engine.close()
    return [("kill -9 mid-load: messages acknowledged (200) before the kill", f"{len(acked):,}"),
            ("  acknowledged but missing after restart (target 0)", f"{len(lost):,}")]


def _send(port: int, count: int, tag: str) -> Counter[str]:
    async def run() -> Counter[str]:
        connection, messages, seen = Connection(port), Messages(tag), Counter[str]()
        for _ in range(count):
            status, retry = await connection.exchange(messages.next()[1])
            seen[f"{status}{' +Retry-After' if retry else ''}"] += 1
        connection.close()
        return seen
    return asyncio.run(run())


def _counts(seen: Counter[str]) -> str:
    return ", ".join(f"{status}: {n}" for status, n in sorted(seen.items()))


def disk_and_readonly(parts: set[str]) -> Rows:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return [("disk full / read-only (need root to mount a tmpfs)", "skipped")]
    rows: Rows = []
    mount = Path(tempfile.mkdtemp(prefix="spimguard-faults-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], check=True)
    data = mount / "data"
    try:
        process, url, _ = serve(data, ENV)
        port = int(url.rsplit(":", 1)[1])
        try:
            _send(port, 50, "warm")
            if "disk" in parts:
                ballast = mount / "ballast"
                with ballast.open("wb") as sink, open("/dev/zero", "rb") as zeros:
                    try:
                        while True:
                            sink.write(zeros.read(65536))
                    except OSError:
                        pass  # the disk is full
                full = _send(port, 200, "full")
                ballast.unlink()
                again = _send(port, 50, "after")
                rows += [("disk full: answers to 200 messages", _counts(full)),
                         ("  ballast removed, no restart: answers to 50", _counts(again))]
        finally:
            process.terminate()
            process.wait(10)
        if "readonly" in parts:
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            started = subprocess.run(
                [sys.executable, "-m", "spimguard", "serve", "--port", "1", "--data-dir",
                 str(data)], env={**os.environ, **ENV}, capture_output=True,
                text=True, timeout=60)
            lines = started.stderr.strip().splitlines()
            rows += [("start on a read-only data dir: exit status", str(started.returncode)),
                     (f"  stderr: {len(lines)} line(s)", lines[0][:60] if lines else "")]
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        mount.rmdir()
    return rows


def main(seconds: float = 60.0, only: set[str] | None = None) -> Rows:
    parts = only or {"overload", "kill", "disk", "readonly"}
    rows: Rows = []
    if "overload" in parts:
        rows += overload(seconds)
    if "kill" in parts:
        rows += kill(min(seconds, 20))
    if parts & {"disk", "readonly"}:
        rows += disk_and_readonly(parts)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--only", default="", help="comma-separated parts to run")
    arguments = parser.parse_args()
    show(main(arguments.seconds, set(filter(None, arguments.only.split(","))) or None))

"""What every benchmark script shares: where the datasets are, how rows are printed."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import redis

Rows = list[tuple[str, str]]


def _datasets() -> Path:
    """``shared/datasets`` beside the repository, or beside a folder holding it (a git
    worktree under ``wt/``: its checkout is a level deeper than the lead's)."""
    here = Path(__file__).resolve().parents[1]
    for folder in here.parents:
        if (folder / "shared/datasets").is_dir():
            return folder / "shared/datasets"
    return here.parent / "shared/datasets"


DATASETS = _datasets()


def show(rows: Rows) -> None:
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value:>12}")


def run_with_datasets(main: Callable[[Path], Rows], doc: str | None) -> None:
    """The command line of a benchmark that reads ../shared/datasets."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    show(main(parser.parse_args().datasets))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_server(listpack_value: int) -> Iterator[int | None]:
    """A redis-server of the benchmark's own on a free port (no persistence, its
    hash-max-listpack-value given: Redis's default, 64, keeps an account's takeover record
    and contact list in keys of their own), answering when its port is yielded (None: no
    redis-server installed), stopped after: no other client's keys or commands count."""
    binary = shutil.which("redis-server")
    if not binary:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", folder,
                                   "--hash-max-listpack-value", str(listpack_value)],
                                  stdout=subprocess.DEVNULL)
        try:
            client = redis.Redis(port=port)
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            yield port
        finally:
            server.terminate()
            server.wait(10)


def serve(folder: Path, env: dict[str, str], cpu: int | None = None,
          args: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], str, float]:
    """``spimguard serve`` on the embedded defaults in ``folder`` (pinned to ``cpu`` if
    given; ``args`` added, and ``env`` may name other stores), once it answers: the
    process, its URL, and the seconds it took to answer."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "spimguard", "serve", "--port", str(port), "--data-dir",
         str(folder), "--log-level", "warning", *args], env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=None if cpu is None else lambda: os.sched_setaffinity(0, {cpu}))
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < 180 and process.poll() is None:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url, time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.02)
    process.kill()
    raise RuntimeError("spimguard did not start")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, where ``/proc`` says it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency(times: list[float], quantiles: tuple[float, ...] = (0.5, 0.95, 0.99),
            digits: int = 1) -> str:
    """Quantiles of ``times`` (seconds) in milliseconds, "p50 / p95 / p99"."""
    ordered = sorted(times)
    return " / ".join(f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.{digits}f}"
                      for q in quantiles)


def with_and_without(what: str, env: dict[str, str],
                     measure: Callable[[Path, str | None], list[float]]) -> Rows:
    """Latencies of the same work without spimguard and with it (``measure`` gets a
    fresh folder and spimguard's URL, or None), and the median it adds."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = measure(folder / "plain", None)
        guard, url, _ = serve(folder / "spimguard", env)
        try:
            checked = measure(folder / "checked", url)
            judged = sum(float(line.rsplit(" ", 1)[1])
                         for line in httpx.get(url + "/metrics").text.splitlines()
                         if line.startswith("spimguard_events_total{"))
        finally:
            guard.terminate()
            guard.wait(10)
    added = statistics.median(checked) - statistics.median(plain)
    return [(f"{what} without spimguard, median / p95 ms ({len(plain)})",
             latency(plain, (0.5, 0.95), 2)),
            (f"{what} with spimguard, median / p95 ms", latency(checked, (0.5, 0.95), 2)),
            ("added by spimguard, median ms", f"{added * 1000:.2f}"),
            ("  events spimguard judged in the run (proof it was asked)", f"{judged:,.0f}")]

"""What spimguard adds to a Matrix send: the same Synapse with and without the module.

    python benchmarks/matrix.py [--sends 200]

Starts a real Synapse (``tests/synapse_harness.py``: SQLite, loopback, rate
limits raised) twice, once plain and once with synapse-http-antispam pointed at
a spimguard server (embedded defaults), and times ``PUT .../send`` of the same
ordinary chat between two friends, one at a time, from a warmed-up client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import synapse_harness
from table import Rows, show

TOKEN = "bench-api-token"
MX_TOKEN = "bench-matrix-token"
LINES = ["are we still on for tonight?", "yes, 8pm?", "great, see you there",
         "bring the tickets!", "ok 🙂"]


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spimguard(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {**os.environ, "SPIMGUARD_API_TOKEN": TOKEN, "SPIMGUARD__MATRIX__ENABLED": "true",
           "SPIMGUARD__MATRIX__TOKEN": MX_TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "spimguard", "serve", "--port", str(port),
                                "--data-dir", str(folder), "--log-level", "warning"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("spimguard did not start")


def timed_sends(folder: Path, sends: int, antispam: dict[str, object] | None) -> list[float]:
    synapse = synapse_harness.start(folder, _port(), antispam)
    try:
        bob = synapse.register("bob")
        synapse.register("alice")
        alice = synapse.login("alice", "Element/1.11.85")
        room = alice.create_room([bob], direct=True)
        synapse.login("bob", "Element/1.11.85").join(room)
        for line in LINES:  # warm up
            alice.send(room, line).raise_for_status()
        times = []
        for n in range(sends):
            started = time.perf_counter()
            alice.send(room, f"{LINES[n % len(LINES)]} ({n})").raise_for_status()
            times.append(time.perf_counter() - started)
        return times
    finally:
        synapse.stop()


def _summary(times: list[float]) -> str:
    ordered = sorted(times)
    return (f"{statistics.median(ordered) * 1000:.1f} / "
            f"{ordered[int(0.95 * (len(ordered) - 1))] * 1000:.1f}")


def main(sends: int = 200) -> Rows:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = timed_sends(folder / "plain", sends, None)
        guard, url = _spimguard(folder / "spimguard")
        try:
            checked = timed_sends(folder / "checked", sends, synapse_harness.antispam_config(
                url, MX_TOKEN, {"check_event_for_spam": True}))
        finally:
            guard.terminate()
            guard.wait(10)
    added = statistics.median(checked) - statistics.median(plain)
    return [(f"Matrix send without the module, median / p95 ms ({sends} sends)", _summary(plain)),
            ("... with spimguard in front, median / p95 ms", _summary(checked)),
            ("added by spimguard, median ms", f"{added * 1000:.1f}")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", type=int, default=200)
    show(main(parser.parse_args().sends))

"""What spimguard adds to a Matrix send: the same Synapse with and without the module.

    python benchmarks/matrix.py [--sends 200]

Starts a real Synapse (``tests/synapse_harness.py``: SQLite, loopback, rate
limits raised) twice, once plain and once with synapse-http-antispam pointed at
a spimguard server (embedded defaults), and times ``PUT .../send`` of the same
ordinary chat between two friends, one at a time, from a warmed-up client.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import synapse_harness
from table import Rows, free_port, show, with_and_without

TOKEN = "bench-api-token"
MX_TOKEN = "bench-matrix-token"
LINES = ["are we still on for tonight?", "yes, 8pm?", "great, see you there",
         "bring the tickets!", "ok 🙂"]


def timed_sends(folder: Path, sends: int, antispam: dict[str, object] | None) -> list[float]:
    synapse = synapse_harness.start(folder, free_port(), antispam)
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


def main(sends: int = 200) -> Rows:
    def measure(folder: Path, url: str | None) -> list[float]:
        module = synapse_harness.antispam_config(url, MX_TOKEN, {
            "check_event_for_spam": True}) if url else None
        return timed_sends(folder, sends, module)

    return with_and_without("Matrix send", {
        "SPIMGUARD_API_TOKEN": TOKEN, "SPIMGUARD__MATRIX__ENABLED": "true",
        "SPIMGUARD__MATRIX__TOKEN": MX_TOKEN}, measure)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", type=int, default=200)
    show(main(parser.parse_args().sends))

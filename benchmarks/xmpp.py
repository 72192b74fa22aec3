"""What mod_spimguard adds to an XMPP message: the same Prosody with and without it.

    python benchmarks/xmpp.py [--messages 200]

Starts a real Prosody (``tests/prosody_harness.py``: loopback, fresh data) twice,
once plain and once with mod_spimguard pointed at a spimguard server (embedded
defaults), and times each chat message from alice's send to bob's receipt, one
at a time, with both slixmpp clients in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import prosody_harness
from table import Rows, free_port, show, with_and_without
from xmpp_clients import Client

TOKEN = "bench-api-token"
LINES = ["are we still on for tonight?", "yes, 8pm?", "great, see you there", "ok :)"]


async def timed(port: int, messages: int) -> list[float]:
    alice, bob = Client("alice", "Conversations.a"), Client("bob", "Conversations.b")
    await asyncio.gather(alice.online(port), bob.online(port))
    times = []
    for n in range(-5, messages):  # five to warm up
        started = time.perf_counter()
        alice.chat("bob", f"{LINES[n % len(LINES)]} ({n})")
        await asyncio.wait_for(bob.inbox.get(), 10)
        if n >= 0:
            times.append(time.perf_counter() - started)
    alice.disconnect()
    bob.disconnect()
    return times


def main(messages: int = 200) -> Rows:
    def measure(folder: Path, url: str | None) -> list[float]:
        module = {"url": url, "token": TOKEN, "timeout": 2, "fail_mode": "open"} if url else None
        server = prosody_harness.start(folder, free_port(), {"alice": ["bob"], "bob": ["alice"]},
                                       module)
        try:
            return asyncio.run(timed(server.port, messages))
        finally:
            server.stop()

    return with_and_without("XMPP message", {"SPIMGUARD_API_TOKEN": TOKEN}, measure)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    show(main(parser.parse_args().messages))

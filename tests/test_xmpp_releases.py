"""Released messages reach their recipients through mod_spimguard in a real Prosody,
and a restart of Prosody neither loses a release nor delivers one twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import prosody_harness
from conftest import TOKEN, Server, free_port, start_server, stopped_after
from console_client import act, decide, logged_in, queued
from xmpp_clients import Client, drain

PASSWORD = "correct horse battery"
NOTICE_NS = "urn:spimguard:notice:0"
TEXTS = ["the recipe is at http://bad-pills.test/soup", "and dessert: http://bad-pills.test/pie"]


@pytest.fixture(scope="module")
def guard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("releases") / "spimguard"
    done = subprocess.run([sys.executable, "-m", "spimguard", "operators", "add", "mod", "--role",
                           "admin", "--data-dir", str(data)], capture_output=True, text=True,
                          env={**os.environ, "SPIMGUARD_PASSWORD": PASSWORD}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    with stopped_after(start_server(data)) as server:
        yield server


def test_a_released_message_is_delivered_once_across_a_restart(
        guard: Server, tmp_path: Path) -> None:
    """An admin blocks a domain too broadly; Alice's two messages to Bob are refused; a
    moderator releases one (Bob gets it, stamped with its time, and Alice is told),
    then the other while Prosody is down: after the restart Bob gets that one, and
    never the first again."""
    console = logged_in(guard.url, "mod", PASSWORD)
    act(console, "/console/lists/block/add", {"entries": "bad-pills.test", "kind": "domains",
                                              "why": "pill spam"})
    port, folder = free_port(), tmp_path / "prosody"
    module = {"url": guard.url, "token": TOKEN, "timeout": 5, "release_poll": 0.5}

    def prosody() -> prosody_harness.Prosody:
        return prosody_harness.start(folder, port, {"alice": ["bob"], "bob": ["alice"]},
                                     module, offline=True)

    async def refused() -> list[str]:
        alice, bob = Client("alice", "Conversations.a"), Client("bob", "Conversations.b")
        await asyncio.gather(alice.online(port), bob.online(port))
        for text in TEXTS:
            alice.chat("bob", text)
        errors = await drain(alice.errors, 2.0)
        got = await drain(bob.inbox, 0.5)
        alice.disconnect()
        bob.disconnect()
        return [f"{len(errors)} errors", *(m["body"] for m in got)]

    async def released(message_id: str) -> tuple[list[str], list[str], bool]:
        alice, bob = Client("alice", "Conversations.a"), Client("bob", "Conversations.b")
        await asyncio.gather(alice.online(port), bob.online(port))
        if message_id:
            await asyncio.to_thread(decide, console, [message_id], "ham", "a recipe, not spam")
        got = await drain(bob.inbox, 4.0)  # 8 polls with nothing new
        told = await drain(alice.inbox, 0.5)
        alice.disconnect()
        bob.disconnect()
        stamped = all(m.xml.find("{urn:xmpp:delay}delay") is not None for m in got)
        return [m["body"] for m in got], [m["body"] for m in told], stamped

    with stopped_after(prosody()) as server:
        assert asyncio.run(refused()) == ["2 errors"], server.log[-3000:]
        held = queued(console, prosody_harness.jid("alice"))
        assert len(held) == 2, held
        got, told, stamped = asyncio.run(released(held[0]))
        assert len(got) == 1 and got[0] in TEXTS, server.log[-3000:]
        assert stamped, "a late message carries its time (XEP-0203)"
        assert len(told) == 1 and "delivered" in told[0], told
    first = got[0]

    decide(console, [held[1]], "ham", "this one too")  # while Prosody is down
    with stopped_after(prosody()) as server:
        got, _, _ = asyncio.run(released(""))
        assert got == [t for t in TEXTS if t != first], server.log[-3000:]
    cursor = folder / "spim%2etest" / "spimguard_release_cursor" / "cursor.dat"
    assert '["after"] = 2;' in cursor.read_text(), "the cursor is kept across restarts"

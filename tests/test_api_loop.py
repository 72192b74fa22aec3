"""Issue 18: the event loop never waits for the engine.

A batch held inside the engine (its store blocks on a ``threading.Event``) stands for a
long batch. Nothing here measures time: each test checks what answered while the batch
was still held. A ``threading.Timer`` lets go of it in the end anyway, so
the old code, which blocked the loop, fails the assertion instead of hanging.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import TOKEN, config
from spimguard import accounts, open_engine
from spimguard.records import Answer
from spimguard.server import create_app, health
from spimguard.server.console.memory import MemoryConsole

T0 = 1_790_000_000.0
_VALVE = 10.0  # seconds before the held work is let go regardless (old code: the loop froze)


@contextmanager
def valve(gate: threading.Event) -> Iterator[None]:
    timer = threading.Timer(_VALVE, gate.set)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        gate.set()


def check(id: str, sender: str) -> dict[str, Any]:
    return {"type": "message", "id": id, "ts": T0, "sender": sender, "recipients": ["bob"],
            "text": "lunch at one?"}


def test_a_batch_held_in_the_engine_stalls_neither_healthz_nor_the_account_endpoints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = config(storage={"backend": "sqlite"}, api_token=TOKEN)
    judge = open_engine(settings, tmp_path)
    judge.remember([accounts.with_action("mallory", None, "suspend_sending", "", "incident",
                                         judge.now(), 86_400)])
    entered, gate = threading.Event(), threading.Event()
    answers = judge.records.answers

    def held(ids: Sequence[str]) -> dict[str, Answer]:
        if "held" in ids:  # the batch is inside the engine, holding its lock
            entered.set()
            gate.wait()
        return answers(ids)

    monkeypatch.setattr(judge.records, "answers", held)
    monkeypatch.setattr(health, "_FRESH", 0.0)  # every /healthz wants a new probe
    app = create_app(judge, MemoryConsole())

    async def scenario() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://spimguard",
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            assert (await client.get("/healthz")).json()["status"] == "ok"
            checked = asyncio.create_task(client.post("/v1/check", json=check("held", "alice")))
            assert await asyncio.to_thread(entered.wait, _VALVE)
            looked = asyncio.create_task(client.get("/v1/accounts/alice"))
            restored = asyncio.create_task(client.post("/v1/accounts/mallory/restore"))
            await asyncio.sleep(0)  # both handlers start: the old code froze the loop here
            ready = await client.get("/healthz")
            out = {"ready": ready.json(), "while_held": not gate.is_set(),
                   "pending": not (looked.done() or restored.done())}
            gate.set()
            out["check"] = (await checked).json()
            out["account"] = (await looked).json()
            out["restore"] = (await restored).json()
            after = await client.post("/v1/check", json=check("after", "mallory"))
            out["after"] = after.json()
            return out

    with valve(gate):
        out = asyncio.run(scenario())
    assert out["while_held"], "/healthz answered only once the engine let go"
    assert out["ready"]["status"] == "ok" and out["pending"]
    assert out["check"]["action"] == "deliver"
    assert out["account"]["account"] == "alice"
    assert out["restore"] == {"account": "mallory", "restored": True}
    # A message sent after the restore's answer is judged after it: no suspension left.
    assert "SENDING_SUSPENDED" not in {s["code"] for s in out["after"]["signals"]}
    judge.close()
    reopened = open_engine(settings, tmp_path)  # the restore was committed
    stored = reopened.read_state([accounts.record("mallory")])[0]
    assert accounts.restrictions_of(stored, reopened.now()) is None
    reopened.close()

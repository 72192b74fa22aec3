"""The console's, the API's and the CLI's reads of the verdict log see only what was
committed, and never hold the engine back (session 46).

In the embedded store they shared the engine's connection: a read wrote the batch's
waiting rows and read them uncommitted, so a page could show a verdict, a report or a
campaign message whose batch then rolled back (a record that never happened); and the
lock that keeps a save whole (``test_records_threads``) was held for a read's whole
length, so a long console read held every save and commit of the engine. Their reads now
go through ``RecordStore.committed()``: SQLite's is a read-only connection of its own."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from conftest import T0, config, message
from spimguard.engine import Engine, open_engine
from spimguard.errors import RecordsUnavailable
from spimguard.records import CampaignMessage, LogEntry
from spimguard.records.sqlite import SQLiteRecords
from spimguard.server import create_app
from spimguard.server.console import views
from spimguard.server.console.memory import MemoryConsole

HEADERS = {"Authorization": "Bearer tok"}
HELD = LogEntry(id="held-1", ts=T0, type="message", account="mallory", action="hold",
                digest="d", result=b"{}")
EVIDENCE = CampaignMessage("c-46", "held-1", T0, "mallory", "s", "bot", "203.0.113.9",
                           ("bob",), "buy now", "hold")


def _engine(tmp_path: Path) -> Engine:
    return open_engine(config(storage={"backend": "sqlite"}, api_token="tok",
                              records={"evidence_key": "test-evidence-key"}), tmp_path)


def _shown(judge: Engine, client: TestClient) -> dict[str, Any]:
    """What the console's queue and account search and the API's campaign list show of
    the held message, read on another thread than the engine's, as the server reads."""
    found: dict[str, Any] = {}

    def read() -> None:
        found["queue"] = [row["id"] for row in views.queue(judge, MemoryConsole(), {})["rows"]]
        found["campaigns"] = [c["id"] for c in client.get("/v1/campaigns",
                                                           headers=HEADERS).json()["campaigns"]]
        found["accounts"] = views.search_accounts(judge, "mall")

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    return found


NOTHING: dict[str, Any] = {"queue": [], "campaigns": [], "accounts": []}
EVERYTHING: dict[str, Any] = {"queue": [HELD.id], "campaigns": ["c-46"], "accounts": ["mallory"]}


def _during_the_batch(judge: Engine, client: TestClient, then: Callable[[], None],
                      monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Save the held message and its evidence in the engine's next batch, make the engine
    read it (which writes it, uncommitted, to the file), and look at what the console
    and the API show meanwhile; ``then`` ends the batch's last step."""
    seen: dict[str, Any] = {}

    def last_step() -> None:
        judge.records.save(HELD)
        judge.records.save_campaign_message(EVIDENCE)
        assert judge.records.message(HELD.id) == HELD, "the engine's own read sees its saves"
        seen.update(_shown(judge, client))
        then()

    monkeypatch.setattr(judge, "_sweep_part", last_step)
    return seen


def test_a_read_during_a_batch_sees_its_rows_only_after_the_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    judge = _engine(tmp_path)
    client = TestClient(create_app(judge, MemoryConsole()))
    seen = _during_the_batch(judge, client, lambda: None, monkeypatch)
    judge.process(message(judge.config, "e1", "alice", ["bob"], "hello", ts=T0))
    assert seen == NOTHING, "a batch's rows were shown before its commit"
    assert _shown(judge, client) == EVERYTHING
    judge.close()


def test_a_rolled_back_batchs_rows_are_never_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    judge = _engine(tmp_path)
    client = TestClient(create_app(judge, MemoryConsole()))

    def fail() -> None:
        raise RuntimeError("the batch fails after its saves")

    seen = _during_the_batch(judge, client, fail, monkeypatch)
    with pytest.raises(RuntimeError):
        judge.process(message(judge.config, "e1", "alice", ["bob"], "hello", ts=T0))
    assert seen == NOTHING, "a batch's rows were shown before its rollback"
    assert _shown(judge, client) == NOTHING, "a rolled-back batch's rows were shown"
    judge.close()


def test_a_read_in_progress_does_not_hold_the_engine_back(tmp_path: Path) -> None:
    """A console read stopped in the middle of its statement (a progress handler that
    waits) while the engine judges and commits an event on its own thread."""
    judge = _engine(tmp_path)
    judge.process(message(judge.config, "e0", "alice", ["bob"], "hello", ts=T0))
    reader = judge.records.committed()
    inside, release = threading.Event(), threading.Event()

    def hold() -> int:
        inside.set()
        release.wait()
        return 0

    reader._conn.set_progress_handler(hold, 1)  # type: ignore[attr-defined]
    console = threading.Thread(target=views.queue, args=(judge, MemoryConsole(), {}))
    console.start()
    outcome: list[Any] = []

    def judge_one() -> None:
        try:
            outcome.append(judge.process(message(judge.config, "e1", "carol", ["dave"],
                                                 "hi there", ts=T0 + 1)))
        except Exception as exc:  # the test reports it, not the thread
            outcome.append(exc)

    engine_thread = threading.Thread(target=judge_one)
    try:
        assert inside.wait(60), "the console's read never started"
        engine_thread.start()
        engine_thread.join(60)  # a bound on a hang, not a measure of speed
        assert not engine_thread.is_alive(), "the engine waited for the console's read"
        assert console.is_alive(), "the read was held all along"
    finally:
        release.set()
        console.join()
        engine_thread.join()
        reader._conn.set_progress_handler(None, 0)  # type: ignore[attr-defined]
    assert len(outcome) == 1 and not isinstance(outcome[0], Exception), outcome
    assert [e.id for e in (reader.message("e0"), reader.message("e1")) if e] == ["e0", "e1"]
    judge.close()


def test_closing_the_engine_closes_its_reader(tmp_path: Path) -> None:
    judge = _engine(tmp_path)
    judge.process(message(judge.config, "e0", "alice", ["bob"], "hello", ts=T0))
    reader = judge.records.committed()
    assert reader is not judge.records
    assert [e.id for e in reader.timeline("alice", "", 0.0)] == ["e0"]
    judge.close()
    with pytest.raises(RecordsUnavailable):
        reader.stopped(0.0)


def test_a_database_without_a_file_reads_on_the_engines_connection() -> None:
    """``:memory:`` (a test's database) cannot be opened by a second connection: its
    committed view is the store itself, whose reads see the batch's saves."""
    store = SQLiteRecords(sqlite3.connect(":memory:", check_same_thread=False))
    assert store.committed() is store
    store.save(HELD)
    assert store.committed().message(HELD.id) == HELD
    store.close()


def test_postgres_committed_view_leaves_out_the_batchs_saves(postgres_url: str) -> None:
    from spimguard.records.postgres import PostgresRecords

    store = PostgresRecords(postgres_url)
    try:
        store.save(HELD)
        assert store.message(HELD.id) == HELD, "the engine's own read sees its saves"
        assert store.answers([HELD.id]).keys() == {HELD.id}
        assert store.committed().message(HELD.id) is None
        assert store.committed().answers([HELD.id]) == {}
        store.commit()
        assert store.committed().message(HELD.id) == HELD
        assert [e.id for e in store.committed().stopped(0.0)] == [HELD.id]
    finally:
        store.close()

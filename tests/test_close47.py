"""An engine closed leaves every commit in ``spimguard.db`` itself; an operation purged
while its evidence is read is gone, not an error; the console's account search finds
every account stopped this week (session 47).

The writer's close could leave the last commits in the -wal file: SQLite copies the WAL
into the database only at a whole last close, and the engine's connection still held a
statement, so its close was deferred (a zombie) and copied nothing until the engine
object was freed. SQLite reads such a WAL back at the next open, so nothing was lost to
spimguard; but an operator who stopped the server (its engine lives until the process
ends) and backed up ``spimguard.db`` alone, the file the README names, had none of it."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import T0, config, message
from spimguard import operations
from spimguard.engine import Engine, open_engine
from spimguard.records import LogEntry
from spimguard.records.sqlite import SQLiteReads
from spimguard.server import create_app
from spimguard.server.console import views
from spimguard.server.console.memory import MemoryConsole

CFG = config(storage={"backend": "sqlite"}, records={"evidence_key": "test-key"})


def _judged(folder: Path, count: int) -> Engine:
    engine = open_engine(CFG, folder)
    engine.process_batch([message(CFG, f"m{i}", "alice", ["bob"], f"see you at {i}",
                                  ts=T0 + i) for i in range(count)])
    return engine


def _rows_in_the_file_alone(folder: Path, into: Path) -> int:
    """The verdict log's rows in a copy of ``spimguard.db`` without its -wal and -shm."""
    into.mkdir()
    shutil.copy(folder / "spimguard.db", into / "spimguard.db")
    conn = sqlite3.connect(into / "spimguard.db")
    try:
        return int(conn.execute("SELECT count(*) FROM verdict_log").fetchone()[0])
    finally:
        conn.close()


def _kept_after_reopening(folder: Path, message_id: str) -> bool:
    """Whether an engine opened again on ``folder`` has ``message_id`` on record."""
    reopened = open_engine(CFG, folder)
    try:
        return reopened.records.committed().message(message_id) is not None
    finally:
        reopened.close()


def test_the_database_file_alone_holds_every_commit_after_close(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = _judged(data, 20)
    engine.close()  # the engine object lives on, as the server's does until its exit
    wal = data / "spimguard.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert _rows_in_the_file_alone(data, tmp_path / "backup") == 20
    engine.close()  # a second close copies nothing more and fails nothing
    assert _kept_after_reopening(data, "m19")


def test_a_reader_holding_an_old_snapshot_delays_the_copy_to_the_next_open(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """What the close cannot copy it says, and the next open still reads every commit."""
    data = tmp_path / "data"
    engine = open_engine(CFG, data)
    engine.process_batch([message(CFG, "m0", "alice", ["bob"], "first", ts=T0)])
    reader = sqlite3.connect(data / "spimguard.db")
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM verdict_log").fetchone()  # a snapshot held
        engine.process_batch([message(CFG, "m1", "alice", ["bob"], "second", ts=T0 + 1)])
        with caplog.at_level(logging.WARNING, logger="spimguard.db"):
            engine.close()
        assert "not copied into the database file at close" in caplog.text
    finally:
        reader.close()
    assert _kept_after_reopening(data, "m1")


def test_a_read_in_hand_on_the_committed_view_holds_no_copy_back(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The engine closes its records first: their close ends a console's or the API's
    read in hand (its snapshot on the committed view's own connection), so the state's
    close copies the WAL unhindered. Closed the other way round, the copy met that
    snapshot, waited a second and was left to the next open (``review47``: no test told
    the two orders apart)."""
    data = tmp_path / "data"
    engine = _judged(data, 5)
    reading = engine.records.committed()
    assert isinstance(reading, SQLiteReads) and reading is not engine.records
    conn = reading._conn  # the committed view's own connection
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM verdict_log").fetchone()  # a console read in hand
    engine.process_batch([message(CFG, "m5", "alice", ["bob"], "one more", ts=T0 + 5)])
    with caplog.at_level(logging.WARNING, logger="spimguard.db"):
        engine.close()
    assert "not copied" not in caplog.text
    wal = data / "spimguard.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert _rows_in_the_file_alone(data, tmp_path / "backup") == 6

def test_an_operation_purged_between_its_find_and_its_bundle_is_gone_not_an_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The evidence endpoint finds the operation, then builds its bundle in another read:
    the retention purge between the two took every message of its campaigns, and the
    bundle's assertion answered 500 (found by review46, session 46)."""
    engine = open_engine(config(api_token="tok"))
    for n in range(60):
        sender = f"acct-{n % 8}"
        engine.process(message(engine.config, f"m{n}", sender, [f"friend{n}"],
                               f"Hi friend{n}! get free ringtones at http://tonez-club1.biz/r{n}"
                               f" or call 0800 555 {n:04d} now", T0 + n * 7,
                               session=f"{sender}-s",
                               client={"id": "MobileFunster 2.1", "ip": f"203.0.113.{n + 2}"}))
    found = operations.listing(engine.records)
    assert found, "the wave is an operation"
    purging = operations.find

    def found_then_purged(*args: object) -> dict[str, object] | None:
        info = purging(*args)  # type: ignore[arg-type]
        engine.records.purge(T0 + 10**6)
        engine.records.commit()
        return info

    monkeypatch.setattr(operations, "find", found_then_purged)
    client = TestClient(create_app(engine, MemoryConsole()), raise_server_exceptions=False)
    answer = client.get(f"/v1/operations/{found[0]['id']}/evidence",
                        headers={"Authorization": "Bearer tok"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_the_account_search_finds_an_account_stopped_before_a_large_campaign() -> None:
    """The search read the senders of the week's newest 5,000 stopped messages: a victim's
    account held before a campaign's 5,000 later ones was not found."""
    engine = open_engine(config())

    def held(id: str, ts: float, account: str) -> LogEntry:
        return LogEntry(id=id, ts=ts, type="message", account=account, digest="d",
                        result=b"{}", action="hold")

    engine.records.save(held("v", engine.now() - 3600, "victim-alice"))
    for n in range(5001):
        engine.records.save(held(f"c{n}", engine.now() - 60 + n / 1000, f"bot{n % 50}"))
    engine.records.commit()
    assert views.search_accounts(engine, "ALICE") == ["victim-alice"]
    assert views.search_accounts(engine, "bot4", limit=3) == ["bot49", "bot48", "bot47"]

"""Defects found in the review of session 47's merges (``review47``), each mended here."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import T0
from spimguard.records import LogEntry
from spimguard.records.sqlite import SQLiteRecords


def _held(n: int, ts: float, account: str, action: str = "hold") -> LogEntry:
    return LogEntry(id=f"m{n}", ts=ts, type="message", account=account, digest="d",
                    result=b"{}", action=action)


def test_the_account_search_reads_the_week_not_the_whole_log(tmp_path: Path) -> None:
    """``stopped_accounts`` (lead47) grouped by account, and SQLite answered it by walking
    ``verdict_log_session`` in account order: every row the log keeps (30 days by
    default), each looked up in the table, where every other read by time searches the
    rowids from its second on (1.5 s against 0.1 s on a 30-day log of a million rows)."""
    conn = sqlite3.connect(tmp_path / "r.db")
    store = SQLiteRecords(conn)
    for n in range(60):
        store.save(_held(n, T0 + n * 3600.0, f"acct{n % 9}",
                         "hold" if n % 3 else "deliver"))
    store.commit()
    said: list[str] = []
    conn.set_trace_callback(said.append)
    found = store.stopped_accounts(T0 + 30 * 3600.0)
    conn.set_trace_callback(None)
    assert found[:3] == ["acct5", "acct4", "acct2"]
    statement, = (s for s in said if "verdict_log" in s and s.lstrip().startswith("SELECT"))
    plan = [detail for *_, detail in conn.execute(f"EXPLAIN QUERY PLAN {statement}")
            if "verdict_log" in detail]
    assert plan == ["SEARCH verdict_log USING INTEGER PRIMARY KEY (rowid>?)"], plan

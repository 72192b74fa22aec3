"""Every record store behaves as MemoryRecords does (``records/conformance.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spimguard.db import connect
from spimguard.errors import RecordsUnavailable
from spimguard.records.conformance import check_records
from spimguard.records.memory import MemoryRecords
from spimguard.records.sqlite import SQLiteRecords


def test_memory_records_conform() -> None:
    check_records(MemoryRecords())


def test_sqlite_records_conform(tmp_path: Path) -> None:
    check_records(SQLiteRecords(connect(tmp_path / "r.db")))


def test_postgres_records_conform(postgres_url: str) -> None:
    from spimguard.records.postgres import PostgresRecords

    store = PostgresRecords(postgres_url)
    try:
        check_records(store)
    finally:
        store.close()


def test_postgres_records_conform_under_a_locales_collation(postgres_server: str) -> None:
    """A database made under a host's locale (ICU's "en" here, as en_US.UTF-8 is Debian's
    default for initdb) orders ties as every other store does: by code point."""
    from postgres_harness import database
    from spimguard.records.postgres import PostgresRecords

    with database(postgres_server, upgraded=True, icu_locale="en") as url:
        store = PostgresRecords(url)
        try:
            check_records(store)
        finally:
            store.close()


def test_postgres_refuses_a_schema_behind_its_own(postgres_server: str) -> None:
    from postgres_harness import database
    from spimguard.records.postgres import PostgresRecords, schema_version, upgrade

    with database(postgres_server, upgraded=False) as url:
        with pytest.raises(RecordsUnavailable, match="spimguard db upgrade"):
            PostgresRecords(url)
        assert upgrade(url) == ["0001_records.sql", "0002_console.sql",
                                "0003_code_point_order.sql", "0004_console_total_order.sql"]
        assert upgrade(url) == [], "an upgraded database is left alone"
        assert schema_version(url) == 4


def test_an_old_sqlite_database_gains_the_digest_column(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.db")
    conn.executescript("CREATE TABLE verdict_log (id TEXT PRIMARY KEY, ts REAL NOT NULL, "
                       "type TEXT NOT NULL, account TEXT NOT NULL, session TEXT NOT NULL, "
                       "action TEXT NOT NULL, score REAL NOT NULL, signals TEXT NOT NULL, "
                       "text_sha256 TEXT NOT NULL, text TEXT, fingerprint TEXT NOT NULL, "
                       "domains TEXT NOT NULL, result BLOB NOT NULL, keep BLOB NOT NULL "
                       "DEFAULT x''); INSERT INTO verdict_log VALUES ('m0', 1, 'message', 'a', "
                       "'', 'deliver', 0, '', '', NULL, '', '', x'7b7d', x'');")
    store = SQLiteRecords(conn)
    assert store.answers(["m0"])["m0"].digest == ""


def test_a_log_entry_without_digest_still_refuses_another_type(tmp_path: Path) -> None:
    from conftest import T0, config, event, message
    from spimguard import open_engine
    from spimguard.errors import BadInput

    engine = open_engine(config(storage={"backend": "sqlite"}), tmp_path)
    engine.process(event(engine.config, type="login", id="old", ts=T0, account="a"))
    engine.records._conn.execute("UPDATE verdict_log SET digest = ''")  # type: ignore[attr-defined]
    engine.records.commit()
    with pytest.raises(BadInput) as caught:
        engine.process(message(engine.config, "old", "a", ["b"], "hi", T0))
    assert caught.value.status == 409


def test_a_log_rows_blobs_are_bytearrays_the_sqlite_module_binds_as_they_are() -> None:
    """``bytes`` goes through the sqlite3 module's adapters at every bind (~3,300
    instructions a value); a ``bytearray`` is bound as it is, and reads back as ``bytes``."""
    from spimguard.records import LogEntry, sql

    row = sql.log_row(LogEntry(id="m1", ts=1.0, type="message", account="a",
                               result=b'{"action":"deliver"}', keep={"content": b"\x01"}))
    assert not [v for v in row if type(v) is bytes], row
    assert bytes(row[12]) == b'{"action":"deliver"}'
    bare = sql.log_row(LogEntry(id="m2", ts=1.0, type="message", account="a"))
    assert bare[13] == bytearray() and type(bare[13]) is bytearray


def test_a_log_row_binds_no_value_the_sqlite_module_adapts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sqlite3 module binds an exact str, int, float or bytearray as it is and passes
    anything else through its adapters (~3,300 instructions a value): an event's
    ``EventTime`` and a text the log does not keep (None, nearly every row) were two a row.
    Counted through the module's own adapter table; what reads back is what was saved."""
    import sqlite3

    from spimguard.db import connect
    from spimguard.events import EventTime
    from spimguard.records import LogEntry
    from spimguard.records.sqlite import SQLiteRecords

    adapted: list[object] = []
    for kind in (EventTime, type(None), bytes):
        monkeypatch.setitem(sqlite3.adapters, (kind, sqlite3.PrepareProtocol),
                            lambda value: adapted.append(value) or value)
    records = SQLiteRecords(connect(tmp_path / "r.db"))
    entries = [LogEntry(id=f"m{i}", ts=EventTime(1_790_000_000.0 + i), type="message", account="a",
                        text=text, result=b"{}")
               for i, text in enumerate((None, "", "hi"))]
    for entry in entries:
        records.save(entry)
    records.commit()
    assert [type(v).__name__ for v in adapted] == []
    for entry in entries:
        assert records.message(entry.id) == entry


def test_a_postgres_database_of_session_47_is_upgraded_with_its_rows(
        postgres_server: str) -> None:
    """``0003_code_point_order.sql`` on a database that holds rows: they stay, and come out
    in code point order."""
    import psycopg

    from postgres_harness import database, migrated
    from spimguard.records.postgres import PostgresRecords, upgrade

    with database(postgres_server, upgraded=False, icu_locale="en") as url:
        migrated(url, 2)
        with psycopg.connect(url, autocommit=True) as conn:
            for name in ("apple", "Zed"):
                conn.execute("INSERT INTO verdict_log (id, ts, type, account, session, action, "
                             "score, signals, text_sha256, fingerprint, domains, result) VALUES "
                             "(%s, 1, 'message', 'a', '', 'hold', 0, '', '', '', '', '')",
                             (name,))
        assert upgrade(url) == ["0003_code_point_order.sql", "0004_console_total_order.sql"]
        store = PostgresRecords(url)
        try:
            assert [e.id for e in store.timeline("a", "", 0.0)] == ["Zed", "apple"]
        finally:
            store.close()

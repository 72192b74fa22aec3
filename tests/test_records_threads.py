"""The embedded verdict log keeps every row a save gave it while another thread reads.

The engine's thread saves rows that wait for the commit; a console or API thread that
reads the log first writes what waits (a read sees every earlier save). A read's write
that ran between a save finding its table's run and appending to it took that run and
wrote it without the new row: the row was lost, unnoticed, after its answer (found by
`sqlite45`, session 45). Here that moment is made to happen every time, not by chance: a
save's look-up of its run starts the reading thread and lets it run as far as it can."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from spimguard.db import connect
from spimguard.records import LogEntry
from spimguard.records.sqlite import SQLiteRecords


class _ReadsDuringTheSave(dict[str, Any]):
    """``_waiting`` whose first look-up of a table's run lets another thread read the log
    (which writes what waits) before the save goes on, for as long as that read can go."""

    def __init__(self, records: SQLiteRecords) -> None:
        super().__init__()
        self.records = records
        self.reader: threading.Thread | None = None

    def setdefault(self, key: str, default: Any = None) -> Any:
        found = super().setdefault(key, default)
        if self.reader is None:
            self.reader = threading.Thread(target=self.records.message, args=("elsewhere",))
            self.reader.start()
            self.reader.join(timeout=0.5)  # a guarded read waits for the save instead
        return found


def test_a_row_saved_while_another_thread_reads_is_written(tmp_path: Path) -> None:
    records = SQLiteRecords(connect(tmp_path / "r.db"))
    entries = [LogEntry(id=f"m{i}", ts=1_790_000_000.0 + i, type="message", account="a",
                        result=b"{}") for i in range(3)]
    records.save(entries[0])
    waiting = _ReadsDuringTheSave(records)
    waiting.update(records._waiting)
    records._waiting = waiting
    records.save(entries[1])
    assert waiting.reader is not None
    waiting.reader.join()
    records.save(entries[2])
    records.commit()
    assert [records.message(entry.id) for entry in entries] == entries

"""Records in process memory: the RecordStore fake for tests and benchmarks."""

from __future__ import annotations

from collections import defaultdict

from . import LogEntry, ReportEntry


class MemoryRecords:
    def __init__(self) -> None:
        self._log: dict[str, LogEntry] = {}
        self._reports: dict[str, list[ReportEntry]] = defaultdict(list)
        self._report_ids: set[str] = set()

    def result(self, event_id: str) -> bytes | None:
        entry = self._log.get(event_id)
        return entry.result if entry else None

    def message(self, message_id: str) -> LogEntry | None:
        entry = self._log.get(message_id)
        return entry if entry is not None and entry.type == "message" else None

    def save(self, entry: LogEntry) -> None:
        self._log.setdefault(entry.id, entry)

    def save_report(self, report: ReportEntry) -> None:
        if report.id not in self._report_ids:
            self._report_ids.add(report.id)
            self._reports[report.message_id].append(report)

    def reports(self, message_id: str) -> list[ReportEntry]:
        return list(self._reports.get(message_id, ()))

    def recent(self, account: str, limit: int = 20) -> list[LogEntry]:
        mine = [e for e in self._log.values()
                if e.account == account and e.action not in ("", "deliver")]
        return sorted(mine, key=lambda e: e.ts, reverse=True)[:limit]

    def timeline(self, account: str, session: str, since: float,
                 limit: int = 200) -> list[LogEntry]:
        mine = [e for e in self._log.values() if e.account == account and e.ts >= since
                and (not session or e.session == session)]
        return sorted(mine, key=lambda e: e.ts)[:limit]

    def purge(self, before: float) -> int:
        old = [k for k, e in self._log.items() if e.ts < before]
        for key in old:
            del self._log[key]
        for message_id in list(self._reports):
            kept = [r for r in self._reports[message_id] if r.ts >= before]
            if kept:
                self._reports[message_id] = kept
            else:
                del self._reports[message_id]
        return len(old)

    def commit(self) -> None:
        """Nothing to make durable in memory."""

    def rollback(self) -> None:
        """Memory keeps what it was given (it is the test double)."""

    def close(self) -> None:
        self._log.clear()
        self._reports.clear()

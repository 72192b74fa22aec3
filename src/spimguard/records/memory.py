"""Records in process memory: the RecordStore fake for tests and benchmarks."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from . import Answer, CampaignMessage, LogEntry, RecordReads, ReportEntry


class MemoryRecords:
    def __init__(self) -> None:
        self._log: dict[str, LogEntry] = {}
        self._reports: dict[str, list[ReportEntry]] = defaultdict(list)
        self._report_ids: set[str] = set()
        self._campaigns: dict[str, dict[str, CampaignMessage]] = defaultdict(dict)
        self._undo: list[tuple[str, str, str]] = []  # what rollback removes: (table, key, sub)

    def committed(self) -> RecordReads:
        """The store itself: the fake shows what was saved, committed or not (a batch's
        rows until its rollback), where the SQL stores show only what was committed."""
        return self

    def answers(self, event_ids: Sequence[str]) -> dict[str, Answer]:
        return {i: Answer(e.digest, e.result) for i in event_ids
                if (e := self._log.get(i)) is not None}

    def message(self, message_id: str) -> LogEntry | None:
        entry = self._log.get(message_id)
        return entry if entry is not None and entry.type == "message" else None

    def save(self, entry: LogEntry) -> None:
        if entry.id not in self._log:
            self._log[entry.id] = entry
            self._undo.append(("log", entry.id, ""))

    def save_report(self, report: ReportEntry) -> None:
        if report.id not in self._report_ids:
            self._report_ids.add(report.id)
            self._reports[report.message_id].append(report)
            self._undo.append(("report", report.message_id, report.id))

    def reports(self, message_id: str) -> list[ReportEntry]:
        return sorted(self._reports.get(message_id, ()), key=lambda r: (r.ts, r.id))

    def latest_reports(self, limit: int = 200) -> list[ReportEntry]:
        every = [r for found in self._reports.values() for r in found]
        return sorted(every, key=lambda r: (r.ts, r.id), reverse=True)[:limit]

    def recent(self, account: str, limit: int = 20) -> list[LogEntry]:
        mine = [e for e in self._log.values()
                if e.account == account and e.action not in ("", "deliver")]
        return sorted(sorted(mine, key=lambda e: e.id), key=lambda e: e.ts, reverse=True)[:limit]

    def timeline(self, account: str, session: str, since: float,
                 limit: int = 200) -> list[LogEntry]:
        mine = [e for e in self._log.values() if e.account == account and e.ts >= since
                and (not session or e.session == session)]
        return sorted(mine, key=lambda e: (e.ts, e.id))[:limit]

    def stopped(self, since: float, limit: int = 500) -> list[LogEntry]:
        held = [e for e in self._log.values() if e.type == "message" and e.ts >= since
                and e.action in ("hold", "block")]
        return sorted(held, key=lambda e: (e.ts, e.id), reverse=True)[:limit]

    def stopped_accounts(self, since: float, limit: int = 100_000) -> list[str]:
        latest: dict[str, float] = {}
        for e in self._log.values():
            if e.type == "message" and e.ts >= since and e.action in ("hold", "block"):
                latest[e.account] = max(e.ts, latest.get(e.account, e.ts))
        return sorted(latest, key=lambda a: (-latest[a], a))[:limit]

    def hourly(self, since: float) -> list[tuple[int, str, int]]:
        counts = Counter((int(e.ts // 3600 * 3600), e.action) for e in self._log.values()
                         if e.type == "message" and e.ts >= since)
        return [(hour, action, n) for (hour, action), n in sorted(counts.items())]

    def save_campaign_message(self, message: CampaignMessage) -> None:
        if message.id not in self._campaigns[message.campaign]:
            self._campaigns[message.campaign][message.id] = message
            self._undo.append(("campaign", message.campaign, message.id))

    def campaign_messages(self, campaign: str) -> list[CampaignMessage]:
        return sorted(self._campaigns.get(campaign, {}).values(), key=lambda m: (m.ts, m.id))

    def campaign_ids(self, since: float = 0.0) -> list[str]:
        last = {c: max(m.ts for m in ms.values()) for c, ms in self._campaigns.items() if ms}
        return sorted((c for c, ts in last.items() if ts >= since), key=lambda c: (-last[c], c))

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
        for campaign, messages in list(self._campaigns.items()):
            for key in [k for k, m in messages.items() if m.ts < before]:
                del messages[key]
            if not messages:
                del self._campaigns[campaign]
        return len(old)

    def commit(self) -> None:
        """Nothing to make durable in memory; what was saved stays."""
        self._undo.clear()

    def rollback(self) -> None:
        for table, key, sub in reversed(self._undo):
            if table == "log":
                del self._log[key]
            elif table == "report":
                self._report_ids.discard(sub)
                self._reports[key] = [r for r in self._reports[key] if r.id != sub]
            else:
                del self._campaigns[key][sub]
        self._undo.clear()

    def ping(self) -> None:
        """Memory always takes a write."""

    def close(self) -> None:
        self._log.clear()
        self._reports.clear()

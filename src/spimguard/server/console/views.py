"""What each console page shows, computed from the engine's records and the console store.

Times are event time (the engine's clock), like the records they come from; the
windows (a day for the overview, a week for the queue) are bounded, and so are
the rows read. The records are read through their committed view
(``RecordStore.committed``): never a batch's rows before its commit, and never
holding the engine's saves back while a page reads.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from ... import accounts, campaigns, lists, operations, trust
from ...engine import Engine
from ...records import CampaignMessage, LogEntry, RecordReads
from ...state.ops import FOREVER, Distinct, Get, Members
from . import charts
from .decisions import verdict_of
from .records import ConsoleStore

DAY = 86400.0
QUEUE_WINDOW = 7 * DAY
QUEUE_ROWS = 500
ACTIONS = ("deliver", "warn", "hold", "block")
_SECRET_WORDS = ("token", "key", "password", "secret")


def stamp(ts: float) -> str:
    """RFC 3339 in UTC, to the second: how every time appears in the console."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def overview(engine: Engine, store: ConsoleStore) -> dict[str, Any]:
    since = engine.now() - DAY
    records = engine.records.committed()
    per_hour: dict[int, Counter[str]] = defaultdict(Counter)
    for hour, action, count in records.hourly(since):
        per_hour[hour][action] += count
    columns = [(stamp(h)[11:16], per_hour[h]) for h in sorted(per_hour)]
    judged = sum(sum(c.values()) for c in per_hour.values())
    stopped = records.stopped(since, 5000)
    signals: Counter[str] = Counter(code for e in stopped for code in e.signals)
    hijacked = restricted(engine, stopped)
    decided = store.decisions(since)
    ham = sum(1 for d in decided if d.label == "ham" and d.action in ("hold", "block"))
    found = records.campaign_ids(since)
    return {
        "hourly": charts.stacked(columns, ACTIONS), "judged": judged,
        "totals": {a: sum(c[a] for c in per_hour.values()) for a in ACTIONS},
        "signals": signals.most_common(10), "hijacked": hijacked,
        "ham_per_10k": 10_000 * ham / judged if judged else 0.0, "ham_released": ham,
        "decided": len(decided), "campaigns": len(found), "campaign_ids": found[:10],
        "since": stamp(since)}


def restricted(engine: Engine, stopped: Sequence[LogEntry], most: int = 1000) -> list[str]:
    """Senders of these messages that were restricted: by one of these verdicts, or by a
    restriction still in force (a takeover is often caught on a login or contact read)."""
    by_verdict = {e.account for e in stopped if (v := verdict_of(e)) is not None
                  and v.account_action.action != "none"}
    senders = list(dict.fromkeys(e.account for e in stopped))[:most]
    stored, now = engine.read_state([accounts.record(a) for a in senders]), engine.now()
    return sorted(by_verdict | {a for a, r in zip(senders, stored, strict=True)
                                if accounts.restrictions_of(r, now)})


def queue_row(engine: Engine, store_decisions: dict[str, Any], entry: LogEntry,
              evidence: dict[str, dict[str, CampaignMessage]] | None = None) -> dict[str, Any]:
    """One message as the queue shows it; ``evidence`` memoises campaigns' messages."""
    verdict = verdict_of(entry)
    campaign = verdict.campaign if verdict else None
    client = ip = ""
    text = entry.text
    recipients: tuple[str, ...] = ()
    if campaign:
        evidence = {} if evidence is None else evidence
        if campaign not in evidence:
            evidence[campaign] = {m.id: m for m in
                                  engine.records.committed().campaign_messages(campaign)}
        kept = evidence[campaign].get(entry.id)
        if kept is not None:
            client, ip, text, recipients = kept.client, kept.ip, kept.text, kept.recipients
    return {"id": entry.id, "ts": stamp(entry.ts), "sender": entry.account,
            "session": entry.session, "action": entry.action, "score": entry.score,
            "signals": verdict.signals if verdict else [], "campaign": campaign or "",
            "client": client, "ip": ip, "text": text, "recipients": recipients,
            "account_action": verdict.account_action if verdict else None,
            "decision": store_decisions.get(entry.id)}


def queue(engine: Engine, store: ConsoleStore, filters: dict[str, str]) -> dict[str, Any]:
    since = engine.now() - QUEUE_WINDOW
    decided = {d.message_id: d for d in store.decisions(since)}
    rows = []
    evidence: dict[str, dict[str, CampaignMessage]] = {}
    for entry in engine.records.committed().stopped(since, QUEUE_ROWS):
        if filters.get("action") and entry.action != filters["action"]:
            continue
        if filters.get("account") and filters["account"] not in entry.account:
            continue
        if filters.get("signal") and filters["signal"] not in entry.signals:
            continue
        if filters.get("pending") and entry.id in decided:
            continue
        row = queue_row(engine, decided, entry, evidence)
        if filters.get("campaign") and row["campaign"] != filters["campaign"]:
            continue
        rows.append(row)
    clusters = Counter(r["campaign"] for r in rows if r["campaign"])
    return {"rows": rows, "clusters": clusters.most_common(), "filters": filters}


def scope(engine: Engine, campaign_id: str) -> tuple[RecordReads, dict[str, Any] | None]:
    """The records a campaign page, its evidence and its cluster decision read: for an
    operation (``op-…``), its campaigns' messages as those of one campaign, so every
    campaign view serves operations unchanged."""
    records = engine.records.committed()
    if not campaign_id.startswith("op-"):
        return records, None
    found = operations.find(records, campaign_id, engine.config.official_clients)
    if found is None:
        return records, None
    return cast(RecordReads, operations.OperationRecords(records, found)), found


def cluster_messages(engine: Engine, campaign: str) -> list[str]:
    """The held or blocked messages of a campaign (or operation): what a cluster decision
    covers."""
    records, _ = scope(engine, campaign)
    return [m.id for m in records.campaign_messages(campaign)
            if m.action in ("hold", "block")]


def search_accounts(engine: Engine, query: str, limit: int = 50) -> list[str]:
    """Accounts with a held or blocked message this week whose id contains ``query``, the
    latest stopped first. Every such account, not the senders of the week's newest 5,000
    stopped messages (before session 47): a campaign's week holds more, and a victim's
    account stopped early in it was not found."""
    needle = query.casefold()
    found = engine.records.committed().stopped_accounts(engine.now() - QUEUE_WINDOW)
    return [a for a in found if needle in a.casefold()][:limit]


def account(engine: Engine, store: ConsoleStore, name: str) -> dict[str, Any]:
    info = engine.account(name)
    return {**info, "notes": store.notes(name)}


def campaign_list(engine: Engine, store: ConsoleStore) -> list[dict[str, Any]]:
    statuses = store.campaign_statuses()
    found = campaigns.listing(engine.records.committed(), 0.0, 1, "")
    for item in found:
        status = statuses.get(item["id"])
        item["status"] = status.status if status else "open"
    return found


def operation_list(engine: Engine, store: ConsoleStore) -> list[dict[str, Any]]:
    """Operations (campaigns linked by shared infrastructure), largest first, with status."""
    statuses = store.campaign_statuses()
    found = operations.listing(engine.records.committed(), 0.0, engine.config.official_clients)
    for item in found:
        status = statuses.get(item["id"])
        item["status"] = status.status if status else "open"
    return found


def campaign(engine: Engine, store: ConsoleStore, campaign_id: str) -> dict[str, Any] | None:
    """A campaign's page, or an operation's (its campaigns' messages as one)."""
    records, operation = scope(engine, campaign_id)
    messages = list(records.campaign_messages(campaign_id))
    info = campaigns.summary(records, campaign_id, messages)
    if info is None:
        return None
    info["operation"] = operation
    per_hour: dict[int, Counter[str]] = defaultdict(Counter)
    for m in messages:
        per_hour[int(m.ts // 3600 * 3600)][m.action] += 1
    info["chart"] = charts.stacked([(stamp(h)[5:16], per_hour[h]) for h in sorted(per_hour)],
                                   ACTIONS)
    info["status"] = store.campaign_statuses().get(campaign_id)
    info["held"] = sum(1 for m in messages if m.action in ("hold", "block"))
    return info


def reports(engine: Engine, store: ConsoleStore) -> dict[str, Any]:
    """Reports with each reporter's agreement with operators: of the reported messages an
    operator decided, how many the reporter labelled the same way (the trust shown)."""
    found = engine.records.committed().latest_reports(200)
    decided = {d.message_id: d for d in store.decisions(0.0)}
    agree: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in found:
        d = decided.get(r.message_id)
        if d is not None:
            agree[r.reporter][0] += d.label == r.label
            agree[r.reporter][1] += 1
    trusted = reporter_trust(engine, [r.reporter for r in found])
    appeals = []
    for appeal in store.appeals(200):
        entry = engine.records.committed().message(appeal.message_id)
        row = queue_row(engine, decided, entry) if entry and entry.account == appeal.account \
            else None
        appeals.append({"appeal": appeal, "ts": stamp(appeal.ts), "message": row})
    return {"reports": [{"report": r, "ts": stamp(r.ts), "agree": agree.get(r.reporter),
                         "trust": trusted.get(r.reporter), "decision": decided.get(r.message_id)}
                        for r in found],
            "appeals": appeals}


def reporter_trust(engine: Engine, reporters: Sequence[str]) -> dict[str, tuple[float, str]]:
    """What a report of each reporter weighs now in the report-trust model (its record,
    age and standing; before the checks of the message reported), in one state read."""
    who = list(dict.fromkeys(reporters))
    per = [trust.standing_reads(r) for r in who]
    answers = engine.read_state([q for queries in per for q in queries])
    size, now, cfg = len(per[0]) if per else 0, engine.now(), engine.config.trust
    return {r: trust.standing(answers[i * size:(i + 1) * size], now, cfg)
            for i, r in enumerate(who)}


def list_view(engine: Engine, store: ConsoleStore, shown: int = 200) -> dict[str, Any]:
    queries = [q for name in lists.NAMES for q in (
        Distinct(lists.key(name), FOREVER), Members(lists.key(name)))]
    answers = engine.read_state(queries)
    tables = [{"name": name, "count": answers[2 * i],
               "members": list(answers[2 * i + 1] or ())[-shown:][::-1]}
              for i, name in enumerate(lists.NAMES)]
    return {"lists": tables, "kinds": lists.KINDS, "changes": store.audit_log(100, "lists.")}


def hidden(tree: Any, key: str = "") -> Any:
    """Settings with secrets replaced: any key naming a token, key, password or secret,
    and the password of any URL."""
    if isinstance(tree, dict):
        return {k: hidden(v, k) for k, v in tree.items()}
    if isinstance(tree, list | tuple):
        return [hidden(v, key) for v in tree]
    if any(word in key.lower() for word in _SECRET_WORDS) and tree not in ("", None):
        return "(hidden)"
    if isinstance(tree, str) and "://" in tree and "@" in tree.split("://", 1)[1]:
        scheme, rest = tree.split("://", 1)
        return f"{scheme}://(hidden)@{rest.rsplit('@', 1)[1]}"
    return tree


def system(engine: Engine, store: ConsoleStore) -> dict[str, Any]:
    """What runs and how it is: a read of each store (a failure shows, never raises)."""
    health = {}
    for name, probe in (("state", lambda: engine.read_state([Get("console:probe")])),
                        ("records", lambda: engine.records.committed().answers(
                            ["console:probe"])),
                        ("console", lambda: store.cursor("console:probe"))):
        started = time.perf_counter()
        try:
            probe()
            health[name] = f"ok ({(time.perf_counter() - started) * 1000:.1f} ms)"
        except Exception as exc:  # the page reports any failure instead of failing
            health[name] = f"failing: {type(exc).__name__}"
    settings = hidden(dataclasses.asdict(engine.config))
    settings.pop("scores", None)
    settings.pop("groups", None)
    settings.pop("group_caps", None)
    return {"disabled": engine.disabled, "health": health,
            "backends": {"state": type(engine.state).__name__,
                         "records": type(engine.records).__name__,
                         "console": type(store).__name__},
            "settings": settings, "clock": stamp(engine.now())}

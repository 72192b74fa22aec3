"""``spimguard import-history``: bootstrap account profiles from the IM server's login log.

On the day spimguard is installed no account has a profile, so the takeover
detector has nothing to compare a sign-in with. The IM server usually has a
login log; this turns it into ``account`` events (``events.AccountInfo``),
which make the networks and apps the owner has *habitually* used familiar.

The log is CSV with a header naming at least ``ts``, ``account``, ``ip`` and
``client`` (any order; extra columns ignored); ``ts`` is RFC 3339 or Unix
seconds, and an optional ``success`` column skips rows whose value is
``false``, ``0`` or ``no``::

    ts,account,ip,client,success
    2026-10-01T08:12:00Z,alice,198.51.100.20,im-android,true

A login alone teaches nothing: a network (its /24 or /48) or an app counts
only when the log shows it on at least two days at least ``familiar_after``
apart (an intruder's one quiet login in the log stays unknown). The account's
earliest login is its ``created`` time, unless the server's own is older.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .detectors.takeover import network
from .errors import BadInput
from .events import AccountInfo, EventTime, parse_ts

REQUIRED = ("ts", "account", "ip", "client")
_FAILED = ("false", "0", "no")
MAX_FIELD = 512


@dataclass
class _Seen:
    first: float = float("inf")
    last: float = 0.0
    nets: dict[str, list[float]] = field(default_factory=dict)  # net -> [first, last]
    clients: dict[str, list[float]] = field(default_factory=dict)


def _span(spans: dict[str, list[float]], key: str, ts: float) -> None:
    entry = spans.setdefault(key, [ts, ts])
    entry[0], entry[1] = min(entry[0], ts), max(entry[1], ts)


def _network(ip: str) -> str:
    """The /24 or /48 an address belongs to, as a CIDR (the takeover detector's prefix)."""
    net = network(ip)
    return f"{net}/{48 if ':' in net else 24}" if net else ""


def read(lines: Iterable[str]) -> dict[str, _Seen]:
    """Per account, when it was seen and over what span each network and app was used."""
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        raise BadInput(f"the login log needs the columns {', '.join(REQUIRED)}; "
                       f"missing {', '.join(missing)}", field="header")
    seen: dict[str, _Seen] = defaultdict(_Seen)
    for number, row in enumerate(reader, start=2):
        if any(len(row.get(c) or "") > MAX_FIELD for c in REQUIRED):
            raise BadInput(f"line {number}: a field is longer than {MAX_FIELD} characters")
        if (row.get("success") or "").strip().lower() in _FAILED:
            continue
        account = (row["account"] or "").strip()
        if not account:
            raise BadInput(f"line {number}: no account")
        raw = (row["ts"] or "").strip()
        try:
            ts = float(parse_ts(float(raw) if raw.replace(".", "", 1).isdigit() else raw))
        except (TypeError, ValueError) as exc:
            raise BadInput(f"line {number}: {exc}", field="ts") from None
        entry = seen[account]
        entry.first, entry.last = min(entry.first, ts), max(entry.last, ts)
        net = _network(row["ip"] or "")
        if net:
            _span(entry.nets, net, ts)
        client = (row["client"] or "").strip()
        if client:
            _span(entry.clients, client, ts)
    return dict(seen)


def account_events(seen: dict[str, _Seen], familiar_after: float, ts: float,
                   max_networks: int = 64, max_clients: int = 16) -> Iterator[AccountInfo]:
    """One ``account`` event per account, with the networks and apps used habitually
    (the most recently used kept within the bounds, listed oldest first)."""
    for account in sorted(seen):
        entry = seen[account]

        def habitual(spans: dict[str, list[float]], cap: int) -> list[str]:
            kept = [k for k, (first, last) in spans.items() if last - first >= familiar_after]
            return sorted(kept, key=lambda k: (spans[k][1], k))[-cap:]

        yield AccountInfo(id=f"history:{account}:{entry.last}", ts=EventTime(ts),
                          account=account, created=EventTime(entry.first),
                          networks=habitual(entry.nets, max_networks),
                          clients=habitual(entry.clients, max_clients))

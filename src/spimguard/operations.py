"""Operations: campaigns linked by the infrastructure behind them, for abuse and legal teams.

Campaigns are texts; an operation is the people behind them. One seller's wave
shows up as a cluster per template, so campaigns are linked when they share
infrastructure that an ordinary user would not share with a stranger:

- an advertised domain (popular sites excluded: everybody links to them);
- a registrant-style domain name: the same letters once digits and hyphens are
  dropped, under any suffix (``promo-shop1.biz``, ``promoshop22.info``);
- a sending network (/24 or /48), a session, a client id that is not one of the
  platform's official apps, an advertised phone number.

Linking is transitive (union-find over shared keys), computed from the campaign
records, so an operation's figures are always those of its evidence. Its id is
``op-`` plus its oldest campaign's id: the same records give the same ids.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, cast

from . import campaigns, evidence, lists
from .detectors.takeover import network
from .records import CampaignMessage, RecordReads

_MIN_PATTERN = 5  # letters a registrant-style name needs to link anything


def pattern(domain: str) -> str:
    """A registrant-style name: the first label's letters (digits and hyphens dropped)."""
    letters = re.sub(r"[\d_-]+", "", domain.split(".", 1)[0])
    return letters if len(letters) >= _MIN_PATTERN else ""


def infrastructure(info: dict[str, Any], official: Iterable[str] = ()) -> set[tuple[str, str]]:
    """(kind, value) pairs a campaign's summary reveals about who runs it."""
    popular = lists.well_known()
    keys: set[tuple[str, str]] = set()
    for entry in info["domains"]:
        domain = entry["domain"]
        if domain in popular:
            continue
        keys.add(("domain", domain))
        if name := pattern(domain):
            keys.add(("pattern", name))
    skip = set(official)
    for session in info["sessions"]:
        if session["session"]:
            keys.add(("session", f"{session['account']}/{session['session']}"))
        keys.update(("network", net) for ip in session["ips"] if (net := network(ip)))
        keys.update(("client", c) for c in session["clients"] if c not in skip)
    keys.update(("phone", p) for p in info["phones"])
    return keys


def _components(keyed: dict[str, set[tuple[str, str]]]) -> list[list[str]]:
    """Campaigns grouped by shared keys (union-find), each group and the groups sorted."""
    parent = {c: c for c in keyed}

    def root(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    owner: dict[tuple[str, str], str] = {}
    for campaign in sorted(keyed):
        for key in sorted(keyed[campaign]):
            if key in owner:
                a, b = sorted((root(owner[key]), root(campaign)))
                parent[b] = a
            else:
                owner[key] = campaign
    groups: dict[str, list[str]] = defaultdict(list)
    for campaign in sorted(keyed):
        groups[root(campaign)].append(campaign)
    return sorted(groups.values())


def _summaries(records: RecordReads, since: float) -> dict[str, dict[str, Any]]:
    found = {}
    for campaign in records.campaign_ids(since):
        info = campaigns.summary(records, campaign)
        if info is not None and info["shape"] == "campaign":
            found[campaign] = info
    return found


def _describe(group: Sequence[str], infos: dict[str, dict[str, Any]],
              keyed: dict[str, set[tuple[str, str]]]) -> dict[str, Any]:
    members = sorted(group, key=lambda c: (infos[c]["first_seen"], c))
    counted: dict[tuple[str, str], int] = defaultdict(int)
    for campaign in group:
        for key in keyed[campaign]:
            counted[key] += 1
    shared: dict[str, list[str]] = defaultdict(list)
    for (kind, value), n in sorted(counted.items()):
        if n > 1:
            shared[kind].append(value)
    return {
        "id": f"op-{members[0]}",
        "campaigns": members,
        "first_seen": min(infos[c]["first_seen"] for c in group),
        "last_seen": max(infos[c]["last_seen"] for c in group),
        "messages": sum(infos[c]["messages"] for c in group),
        "recipients": sum(infos[c]["recipients"] for c in group),
        "senders": len({s for c in group for s in infos[c]["senders"]}),
        "domains": sorted({d["domain"] for c in group for d in infos[c]["domains"]}),
        "shared": dict(shared),  # what links the campaigns: kind -> values in 2+ campaigns
    }


def listing(records: RecordReads, since: float = 0.0, official: Iterable[str] = (),
            limit: int = 100) -> list[dict[str, Any]]:
    """Operations with a campaign seen since ``since``, largest first."""
    infos = _summaries(records, since)
    keyed = {c: infrastructure(info, official) for c, info in infos.items()}
    found = [_describe(group, infos, keyed) for group in _components(keyed)]
    found.sort(key=lambda op: (-op["messages"], op["id"]))
    return found[:limit]


def find(records: RecordReads, operation: str, official: Iterable[str] = ()
         ) -> dict[str, Any] | None:
    """One operation by id, over every campaign on record."""
    return next((op for op in listing(records, 0.0, official, limit=1_000_000)
                 if op["id"] == operation), None)


class OperationRecords:
    """The record store seen through one operation: its campaigns' messages as those of
    one campaign named by the operation's id, so the campaign evidence bundle
    (``evidence.build``) exports an operation unchanged."""

    def __init__(self, records: RecordReads, operation: dict[str, Any]) -> None:
        self.records = records
        self.operation = operation

    def campaign_messages(self, campaign: str) -> Sequence[CampaignMessage]:
        if campaign != self.operation["id"]:
            return self.records.campaign_messages(campaign)
        merged = [m for c in self.operation["campaigns"]
                  for m in self.records.campaign_messages(c)]
        return sorted(merged, key=lambda m: (m.ts, m.id))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.records, name)


def bundle(records: RecordReads, operation: dict[str, Any], key: bytes
           ) -> dict[str, bytes] | None:
    """The evidence bundle of an operation: the campaign bundle over all its messages;
    None when none is left. ``operation`` was found by an earlier read (``find``), and
    the retention purge may have taken all of its campaigns' messages since: the
    operation is then gone, as ``find`` would now say (it answered 500 by an assertion
    before session 47)."""
    return evidence.build(cast(RecordReads, OperationRecords(records, operation)),
                          operation["id"], key)

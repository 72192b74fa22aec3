"""Campaigns: clusters of near-duplicate spim seen as one operation, for abuse and legal teams.

The bulk detector groups near-duplicates into clusters; a cluster becomes a
campaign once it shows spim evidence (a copy held or blocked on bulk evidence
plus another kind, or a user report). From then on the engine keeps each of its
messages as evidence (``records.CampaignMessage``, text included), and verdicts
carry the campaign id. Everything here is computed from those records, so a
campaign's figures are always those of its evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .events import rfc3339
from .records import CampaignMessage, RecordReads
from .text import PHONE as _PHONE
from .text import short_codes

_HANDLE = re.compile(r"(?<![\w.])@[A-Za-z][\w.]{2,31}")


def contacts_in(texts: list[str]) -> tuple[list[str], list[str]]:
    """Phone numbers and @handles the campaign advertises (how buyers reach the seller)."""
    phones: Counter[str] = Counter()
    handles: Counter[str] = Counter()
    for text in texts:
        phones.update(re.sub(r"[\s().-]", "", p) for p in _PHONE.findall(text))
        handles.update(h.lower() for h in _HANDLE.findall(text))
    return [p for p, _ in phones.most_common(50)], [h for h, _ in handles.most_common(50)]


def short_codes_in(texts: list[str]) -> list[str]:
    """The short codes the campaign tells its readers to text a keyword to, with each
    keyword ("80888 TONES"; ``text.short_codes``), most used first: where the seller's
    service bills those who answer, which a carrier can name the lessee of."""
    codes: Counter[str] = Counter()
    for text in texts:
        codes.update(f"{code} {word}".strip() for code, word in short_codes(text))
    return [c for c, _ in codes.most_common(50)]


def summary(records: RecordReads, campaign: str,
            messages: list[CampaignMessage] | None = None) -> dict[str, Any] | None:
    messages = list(messages if messages is not None else records.campaign_messages(campaign))
    if not messages:
        return None
    domains: dict[str, list[float]] = {}
    sessions: dict[str, dict[str, Any]] = {}
    recipients: set[str] = set()
    for m in messages:
        for domain in m.domains:
            seen = domains.setdefault(domain, [m.ts, m.ts, 0])
            seen[0], seen[1], seen[2] = min(seen[0], m.ts), max(seen[1], m.ts), seen[2] + 1
        key = f"{m.sender}/{m.session}"
        session = sessions.setdefault(key, {"account": m.sender, "session": m.session,
                                            "clients": set(), "ips": set(), "first": m.ts,
                                            "last": m.ts, "messages": 0})
        session["clients"].add(m.client)
        session["ips"].add(m.ip)
        session["last"] = max(session["last"], m.ts)
        session["messages"] += 1
        recipients.update(m.recipients)
    texts = [m.text for m in messages]
    phones, handles = contacts_in(texts)
    reports = sum(1 for m in messages for r in records.reports(m.id) if r.label == "spam")
    info: dict[str, Any] = {
        "id": campaign,
        "first_seen": messages[0].ts,
        "last_seen": messages[-1].ts,
        "messages": len(messages),
        "recipients": len(recipients),
        "reports": reports,
        "actions": dict(Counter(m.action for m in messages)),
        "senders": sorted({m.sender for m in messages}),
        "sessions": [{**s, "clients": sorted(c for c in s["clients"] if c),
                      "ips": sorted(i for i in s["ips"] if i)} for s in sessions.values()],
        "domains": [{"domain": d, "first_seen": v[0], "last_seen": v[1], "messages": v[2]}
                    for d, v in sorted(domains.items(), key=lambda kv: -kv[1][2])],
        "phones": phones,
        "handles": handles,
        "short_codes": short_codes_in(texts),  # additive (code49)
    }
    info["shape"] = shape(info)
    return info


def listing(records: RecordReads, since: float = 0.0, min_size: int = 1,
            domain: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Campaigns seen since ``since`` with at least ``min_size`` messages (and ``domain``);
    clusters of people sharing (``shape``) are not campaigns."""
    found = []
    for campaign in records.campaign_ids(since):
        info = summary(records, campaign)
        if info is None or info["messages"] < min_size or info["shape"] == "sharing":
            continue
        if domain and not any(d["domain"] == domain for d in info["domains"]):
            continue
        brief = {k: info[k] for k in ("id", "first_seen", "last_seen", "messages",
                                      "recipients", "reports", "actions")}
        brief["senders"] = len(info["senders"])
        brief["domains"] = [d["domain"] for d in info["domains"][:10]]
        found.append(brief)
        if len(found) >= limit:
            break
    return found


# -- shape: a campaign or people sharing -------------------------------------------------
SHARING_REACH = 3.0  # recipients per sender up to which a cluster may be people sharing


def shape(info: dict[str, Any]) -> str:
    """What a cluster is: "sharing" when its senders each wrote to a few people and most
    of its messages were delivered (friends passing a link on), else "campaign". A
    sharing cluster is never listed, linked or exported as a spim campaign."""
    reach = info["recipients"] / max(1, len(info["senders"]))
    stopped = sum(n for action, n in info["actions"].items() if action in ("hold", "block"))
    return "sharing" if reach <= SHARING_REACH and 2 * stopped < info["messages"] else "campaign"


_TIME_KEYS = ("first_seen", "last_seen", "first", "last")


def for_wire(info: dict[str, Any]) -> dict[str, Any]:
    """A summary or listing entry with its times as RFC 3339 (UTC), as the API answers."""
    out: dict[str, Any] = {}
    for key, value in info.items():
        if key in _TIME_KEYS and isinstance(value, float | int):
            out[key] = rfc3339(value)
        elif isinstance(value, list):
            out[key] = [for_wire(v) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out

"""The account's profile (COMPA-style, kept under 1 KiB): the networks, apps and habits
its owner has shown, what learns them and what judges against them.

**Profiles learn only what the owner proves.** A sign-in teaches nothing (one quiet
login days before a burst must not make the intruder's network familiar), nor does
reading contacts. A network or app enters the profile through messages that raised no
evidence, to the account's own contacts or correspondents, and is familiar after
``familiar_uses`` such messages, the first ``familiar_after`` ago; or at once through a
passed challenge on an official app, or the IM server's own ``account`` facts (its
known networks as CIDRs, its known clients).

The habits (whether it links, scripts, hours) yield BEHAVIOUR_CHANGE: a first link ever, a
script the account never writes in, an hour it never writes at.
"""

from __future__ import annotations

import re
from typing import Any

from ...events import AccountInfo, Message
from ...signals import Signal
from ...text import MessageView
from . import histogram
from .origin import in_cidrs
from .settings import TakeoverSettings

_ASCII_LETTER = re.compile("[A-Za-z]")  # what str.isalpha accepts in ASCII
_SCRIPTS = (("C", re.compile("[\u0400-\u04ff]")), ("H", re.compile("[\u3040-\u9fff\uac00-\ud7af]")),
            ("A", re.compile("[\u0600-\u06ff]")), ("L", re.compile("[a-zA-Z]")))


def script(cfg: TakeoverSettings, text: str) -> str:
    """The script most of the text is written in: L(atin), C(yrillic), H(an/kana/hangul),
    A(rabic), or "" when no script has ``script_share`` of the characters."""
    if text.isascii():
        return "L" if _ASCII_LETTER.search(text) else ""
    least = cfg.script_share * len(text.replace(" ", ""))
    if least > 0:
        for code, pattern in _SCRIPTS:
            if len(pattern.findall(text)) >= least:
                return code
    return ""


def familiar(cfg: TakeoverSettings, seen: dict[str, list[float]], key: str,
             before: float) -> bool:
    """``familiar_uses`` clean uses of ``key``, the first ``familiar_after`` before."""
    entry = seen.get(key)
    return (entry is not None and len(entry) == 3
            and entry[0] <= before - cfg.familiar_after
            and entry[2] >= cfg.familiar_uses)


def known_net(cfg: TakeoverSettings, profile: dict[str, Any], net: str, before: float) -> bool:
    """A familiar network, or one in the IM server's own known networks."""
    return familiar(cfg, profile.get("nets", {}), net, before) or in_cidrs(
        net, profile.get("cidrs", ()))


def earned(cfg: TakeoverSettings, profile: dict[str, Any], net: str, now: float) -> bool:
    """Whether ``net`` is familiar (``familiar``) but not yet trusted with a pitch
    (``pitch_trust_after``): first used less than that long ago, while another network of
    the account's was already familiar (a day's use, ``familiar_after``, before it), or
    the IM server had told its own; so an unfamiliar session's clean lines made it
    familiar, not the owner's known place. The networks of an account's first day (no
    history: judged relative to each other) and the IM server's own are never earned."""
    seen = profile.get("nets", {})
    entry = seen.get(net)
    if (entry is None or not familiar(cfg, seen, net, now)
            or entry[0] <= now - cfg.pitch_trust_after
            or in_cidrs(net, profile.get("cidrs", ()))):
        return False
    before = entry[0] - cfg.familiar_after
    return bool(profile.get("cidrs")) or any(
        other != net and len(e) == 3 and e[0] <= before for other, e in seen.items())


def has_history(cfg: TakeoverSettings, profile: dict[str, Any], now: float) -> bool:
    """Whether the profile has a familiar network to compare with."""
    return bool(profile.get("cidrs")) or any(
        familiar(cfg, profile.get("nets", {}), n, now) for n in profile.get("nets", {}))


def written_from(cfg: TakeoverSettings, profile: dict[str, Any], net: str,
                 before: float) -> bool:
    """Whether sessions the owner was proven on (``vouching``) had written cleanly to its
    own people from ``net`` ``familiar_uses`` times, the first before ``before`` (this
    session's sign-in): proven by use, if not yet by time (``familiar_after``)."""
    entry = profile.get("owned", {}).get(net)
    return (entry is not None and len(entry) == 3 and entry[0] < before
            and entry[2] >= cfg.familiar_uses)


def remember(cfg: TakeoverSettings, profile: dict[str, Any], field: str, key: str,
             now: float, cap: int, proven: bool = False) -> None:
    """One clean use of ``key`` at ``now`` ([first, last, uses]); ``proven``: familiar
    at once (a passed challenge, the IM server's own facts)."""
    if not key:
        return
    seen = dict(profile.get(field, {}))
    entry = seen.get(key) or [now, now]
    first, uses = entry[0], entry[2] if len(entry) > 2 else 0
    if proven:
        # ... and trusted with a pitch (``earned``): the owner proved it, not a session
        first = min(first, now - max(cfg.familiar_after, cfg.pitch_trust_after))
        uses = max(uses, cfg.familiar_uses)
    uses += 1
    seen[key] = [first, now, 255 if uses > 255 else uses]  # min(uses, 255), without a call
    if len(seen) > cap:  # drop the least recently seen
        del seen[min(seen, key=lambda k: seen[k][1])]
    profile[field] = seen


def learn(cfg: TakeoverSettings, profile: dict[str, Any], message: Message, view: MessageView,
          code: str, session: dict[str, Any] | None) -> None:
    """A clean message (``code``: its ``script``); its session's network and app too when
    it went to the account's own contacts or correspondents (``session`` given)."""
    profile["msgs"] = profile.get("msgs", 0) + 1
    if session is not None:
        remember(cfg, profile, "nets", session.get("net", ""), message.ts, cfg.max_networks)
        remember(cfg, profile, "clients", session.get("client", ""), message.ts,
                 cfg.max_clients)
    if view.domains:
        # Whether the owner ever linked: all ``behaviour`` reads of its links. Until session
        # 37 the profile kept up to ``max_domains`` tags of them (CRC-32s, 4 bytes each,
        # ~7 bytes an account), which nothing read but for whether there were any.
        profile["linked"] = True
    if code and code not in profile.get("scripts", ""):
        profile["scripts"] = profile.get("scripts", "") + code
    profile["hours"] = histogram.counted(profile.get("hours"), int(message.ts // 3600 % 24),
                                         cfg.hour_decay)


def told(cfg: TakeoverSettings, profile: dict[str, Any], event: AccountInfo) -> dict[str, Any]:
    """What the IM server knows of the owner: familiar at once."""
    profile = dict(profile)
    cidrs = [c.strip() for c in event.networks]
    profile["cidrs"] = list(dict.fromkeys([*profile.get("cidrs", []), *cidrs]))[
        -cfg.max_cidrs:]
    for client in event.clients:
        remember(cfg, profile, "clients", client, event.ts, cfg.max_clients, proven=True)
    return profile


def behaviour(cfg: TakeoverSettings, message: Message, view: MessageView, code: str,
              profile: dict[str, Any]) -> list[Signal]:
    """BEHAVIOUR_CHANGE against a mature profile (``mature_messages``); ``code``: the
    text's ``script``."""
    if profile.get("msgs", 0) < cfg.mature_messages:
        return []
    changes = []
    if view.urls and not profile.get("linked"):
        changes.append("its first link ever")
    if code and code not in profile.get("scripts", code):
        changes.append("a script it never wrote in")
    hours = profile.get("hours")
    hour = int(message.ts // 3600 % 24)
    # An hour is unusual only against a well-filled histogram, and only when the
    # hours either side are empty too (a few days of chat leave many gaps).
    if (hours is not None and histogram.total(hours) >= cfg.hour_messages
            and histogram.quiet_around(hours, hour)):
        changes.append(f"at {hour:02d}h, when it never writes")
    if not changes:
        return []
    return [Signal("BEHAVIOUR_CHANGE", min(1.0, cfg.behaviour_change * len(changes)),
                   "the account sent " + ", ".join(changes))]

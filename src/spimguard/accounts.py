"""Shared facts about accounts, kept in state by the engine and read by detectors.

Detectors never import each other; what several of them need to know about an
account (its contacts, who it has written with, when it was first seen, the
restrictions in force) is named here once, and the engine keeps it current.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .state.ops import Contains, Delete, Put, hashed_keyspace

FIRST_SEEN_TTL = 400 * 86400.0  # an account unseen this long is new again
TALKED_TTL = 180 * 86400.0  # a conversation partner stays "known" this long after the last message
TALKED_CAP = 2_000  # correspondents remembered per account (stalest dropped first)
CONTACTS_TTL = 365 * 86400.0
MAX_TALKED_FANOUT = 50  # a message to more recipients than this teaches no ties
MAX_TIES = 64  # recipients of one message whose ties to the sender are looked up


# Contact lists are only asked whether someone is on them and how long they are, never
# listed: kept as keyed hashes (``state/hashed.py``), 4 bytes a contact.
_CONTACTS = hashed_keyspace("contacts:")


def contacts(account: str) -> str:
    return _CONTACTS + account


def talked(account: str) -> str:
    return f"talked:{account}"


def first_seen(account: str) -> str:
    return f"first_seen:{account}"


def restrictions(account: str) -> str:
    return f"restrict:{account}"


def session_blocked(restrict: dict[str, Any] | None, session: str) -> dict[str, Any] | None:
    """The suspension that stops this session sending, if any (whole account or session)."""
    if not restrict:
        return None
    if restrict.get("suspended"):
        return restrict["suspended"]
    return restrict.get("sessions", {}).get(session) if session else None


def with_action(account: str, restrict: dict[str, Any] | None, kind: str, session: str,
                reason: str, ts: float, ttl: float) -> Put:
    """The write that adds an account action to the account's restrictions.

    A suspension always comes with a challenge: the owner has to prove it is them
    before the restriction lifts. Earlier entries keep their original time.
    """
    current: dict[str, Any] = dict(restrict or {})
    entry = {"since": ts, "reason": reason}
    current["challenge"] = current.get("challenge") or entry
    if kind == "suspend_sending":
        if session:
            sessions = dict(current.get("sessions", {}))
            sessions.setdefault(session, entry)
            current["sessions"] = sessions
        else:
            current["suspended"] = current.get("suspended") or entry
    return Put(restrictions(account), current, ttl)


def after_challenge(account: str, restrict: dict[str, Any] | None, ttl: float,
                    proven: str = "") -> Put | Delete:
    """The write once the owner passed the challenge: the account-wide restrictions go,
    the sessions suspended in the incident (the intruder's) stay, but for ``proven``, the
    session that answered the challenge itself (the owner's own)."""
    sessions = {session: entry for session, entry in (restrict or {}).get(
        "sessions", {}).items() if session != proven}
    if not sessions:
        return Delete(restrictions(account))
    return Put(restrictions(account), {"sessions": sessions}, ttl)


def in_force(restrict: dict[str, Any] | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(scope, session, entry) of every restriction: "challenge", "suspended", "session"."""
    if not restrict:
        return []
    found = [(scope, "", restrict[scope]) for scope in ("challenge", "suspended")
             if restrict.get(scope)]
    found += [("session", session, entry)
              for session, entry in restrict.get("sessions", {}).items()]
    return found


def ties(sender: str, recipients: Sequence[str], cap: int = MAX_TIES
         ) -> tuple[Contains, Contains]:
    """The reads that tell which of the first ``cap`` recipients are the sender's contacts,
    and correspondents (the same queries for every detector with the same cap, so the
    engine reads them once; always so for a message to at most ``MAX_TIES``)."""
    people = tuple(dict.fromkeys(recipients))[:cap]
    return Contains(contacts(sender), people), Contains(talked(sender), people)


def listed_back(sender: str, recipients: Sequence[str], cap: int = MAX_TIES
                ) -> tuple[Contains, ...]:
    """The reads that tell which of the first ``cap`` recipients list the sender in their
    own contacts: the half of a contact the sender cannot write (anyone may put anyone on
    its own list, and a bot lists its targets). The queries are the relationship and
    takeover detectors' own, so the engine reads each once."""
    me = (sender,)
    return tuple(Contains(contacts(p), me) for p in tuple(dict.fromkeys(recipients))[:cap])


def strangers(recipients: Sequence[str], queries: tuple[Contains, Contains],
              facts: Mapping[Any, Any], back: Sequence[Contains]) -> list[str]:
    """The recipients who are neither correspondents of the sender nor contacts who list it
    back (``back``: ``listed_back`` of the same recipients). The sender's own list is its
    claim, not the recipient's: a one-sided listing makes nobody known. Those past the
    ``ties`` cap count as strangers (nobody has that many people in one chat), and so do
    contacts past ``back``'s that are not correspondents."""
    contacts_q, talked_q = queries
    members = contacts_q.members
    mutual = [facts[q][0] for q in back]
    unknown = [p for i, (p, c, t) in enumerate(zip(members, facts[contacts_q], facts[talked_q],
                                                   strict=True))
               if not t and not (c and i < len(mutual) and mutual[i])]
    if recipients == members:  # the ties' own people (velocity's): none past the cap
        return unknown
    known = set(members).difference(unknown)
    return [r for r in dict.fromkeys(recipients) if r not in known]

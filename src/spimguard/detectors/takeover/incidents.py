"""Incidents and challenges: what an account action leaves behind, and what lifts it.

**Incidents belong to the account.** An unfamiliar session that drew an account action
leaves an incident (its network, /16 range and client family). While the account has
restrictions in force, a new session from the same network or range, or with the same
client family, inherits it (INCIDENT_INHERITED: suspended from its sign-in, or its first
message), unless its network was familiar before the incident, or a passed challenge
proved it the owner's since its sign-in: the owner's own devices keep working.
Re-signing in does not start clean.

The owner passes the challenge by signing in with an official client from a network
the account used at least a day before the incident: the account-wide restrictions are
lifted (CHALLENGE_PASSED) and that network and app are familiar from then on; sessions
suspended in the incident stay suspended (they are the intruder's) until
``POST /v1/accounts/{id}/restore``. Or the IM server says so (a ``challenge`` event: the
session answered the second factor it was asked for): that session is the owner's, so
its network and app are familiar at once, its own suspension and the account-wide
restrictions lift, and its incident is dropped (its network, range and app are the
owner's and pass no suspicion on). A failed challenge (CHALLENGE_FAILED) is the
intruder's mark: whoever holds the session has the password alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ... import accounts
from ...events import Challenge, Event, Login
from ...signals import Signal
from ...state.ops import Write
from .origin import client_family, network, wide_range
from .profile import earned, known_net, remember
from .record import Record
from .settings import TakeoverSettings


def add_incident(cfg: TakeoverSettings, event: Event, record: Record,
                 session: dict[str, Any]) -> None:
    """The account's incidents with this session's network, range and app added."""
    net, own = session.get("net", ""), session.get("as", event.session)  # type: ignore[union-attr]  # (events with a session: this detector plans no other kind)
    entry = {"session": own, "since": event.ts, "net": net,
             "range": wide_range(net), "family": client_family(session.get("client", ""))}
    kept = [i for i in record.incidents(event.ts) if i["session"] != own]
    record.set_incidents([*kept, entry][-cfg.max_incidents:], event.ts)


def inherited(cfg: TakeoverSettings, restrict: Any, profile: dict[str, Any],
              session: dict[str, Any], session_id: str,
              incidents: list[dict[str, Any]]) -> Signal | None:
    """A new session from an open incident's network, range or client family; never one
    a passed challenge proved the owner's since its sign-in (``proven``: the owner's
    new phone, verified from its old one, claims the official app an intruder spoofed),
    nor one on the owner's network known before the incident, unless an unfamiliar
    session's lines made it familiar (``profile.earned``: the held seller's warmed
    server is not the owner's place, session 30)."""
    if not restrict or session.get("proven") or accounts.session_blocked(restrict, session_id):
        return None
    net, client = session.get("net", ""), session.get("client", "")
    for incident in incidents:
        if incident["session"] == session_id or session.get(
                "login", 0.0) < incident["since"] or (
                net and known_net(cfg, profile, net, incident["since"])
                and not earned(cfg, profile, net, session.get("login", 0.0))):
            continue  # the incident's own session, one live before it, the owner's network
        same = [what for what, here, there in (
            ("network", net, incident["net"]), ("network range", wide_range(net),
                                                incident["range"]),
            ("app", client_family(client), incident["family"])) if here and here == there]
        if same:
            when = dt.datetime.fromtimestamp(incident["since"], dt.UTC)
            return Signal("INCIDENT_INHERITED", 1.0, f"a new session with the {same[0]} "
                          f"of the incident at {when:%H:%M UTC}")
    return None


def owner_signed_in(cfg: TakeoverSettings, official: frozenset[str], event: Login,
                    restrict: Any, profile: dict[str, Any]) -> Signal | None:
    """CHALLENGE_PASSED for an official app signing in, while the account is restricted,
    from a network it used before the incident; not one an unfamiliar session's lines made
    familiar (``profile.earned``): it is the account's for chat, and the seller that warmed
    its server by answering her friends signed in there again and passed its own hold
    (red team, session 30: a fresh session each 11 minutes, 39 of 40 pitches reached)."""
    if restrict and event.client.id in official:
        since = min(entry["since"] for _, _, entry in accounts.in_force(restrict))
        net = network(event.ip)
        if known_net(cfg, profile, net, since) and not earned(cfg, profile, net, event.ts):
            return Signal("CHALLENGE_PASSED", 0.0, "signed in from an official app on a "
                          "network used before the incident")
    return None


def challenge_signal(event: Challenge) -> Signal:
    """What the IM server's challenge report says of the session."""
    where = f"session '{event.session}'" if event.session else "the account"
    if event.passed:
        return Signal("CHALLENGE_PASSED", 0.0, f"{where} answered the owner's challenge")
    return Signal("CHALLENGE_FAILED", 1.0, f"{where} failed the owner's challenge: it "
                  "has the password, not the owner's second factor")


def challenge_writes(cfg: TakeoverSettings, event: Challenge, account: bytes | None,
                     restriction_ttl: float, drew_action: bool, record: Record) -> list[Write]:
    """A pass: the session is the owner's (its app and network familiar at once, its
    facts unfamiliar no more), its suspension and the account-wide restrictions lift,
    its incident goes. A failure that drew an account action: an incident of its own.

    A pass proves the session as the challenge found it. Signed in again since (a
    session id is the client's choice, and the IM server's report may come late), it
    may be someone else's now: the account-wide restrictions and the incident of the
    earlier holder go, but the session is not proven, nor its suspension lifted."""
    now = event.ts
    stored, incidents = record.session(event.session, now), record.incidents(now)
    if not event.passed:
        if drew_action:
            add_incident(cfg, event, record, stored or {})
        return []
    current = not stored or stored.get("login", event.ts) <= event.ts
    out: list[Write] = [accounts.after_challenge(  # ``account``: its record as read
        event.account, account, restriction_ttl, now, event.session if current else "")]
    if any(i["session"] == event.session and i["since"] <= now for i in incidents):
        record.set_incidents([i for i in incidents
                              if i["session"] != event.session or i["since"] > now], now)
    if stored and current and event.session:
        profile = dict(record.profile(now))
        remember(cfg, profile, "nets", stored.get("net", ""), event.ts, cfg.max_networks,
                 proven=True)
        remember(cfg, profile, "clients", stored.get("client", ""), event.ts,
                 cfg.max_clients, proven=True)
        record.set_profile(profile, now)
        record.set_session(event.session, {**stored, "risk": 0.0, "dormant": False,
                                           "proven": True}, now,
                           cfg.max_sessions, cfg.replies_trusted)
    return out

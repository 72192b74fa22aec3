"""A session's facts and how unfamiliar it is to the account.

A session is **unfamiliar** when its app (official or not) or its network prefix is new
to the account's profile; an official app's id from a new network still counts (ids are
free to claim, networks are not). A sign-in after ``dormant_after`` of silence is
unfamiliar too. Its facts come from its sign-in when one was seen, else from its first
message, and are judged once against the profile as it stood then (never riskier later).

**Day one.** With no familiar network yet (a new installation, or an account new to
spimguard), a session is judged relative to the account's other live sessions: a second
network while another one is live counts as new, and with a third-party app as wholly
unfamiliar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...events import Event, Login, Message
from .origin import client_family, network, scoped
from .profile import familiar, has_history, known_net
from .record import Record
from .settings import TakeoverSettings


def unfamiliar(cfg: TakeoverSettings, official: frozenset[str], profile: dict[str, Any],
               client: str, ip_net: str, now: float) -> float:
    """0 for the account's usual client and network, up to 1 for both new (a profile
    with history: ``has_history``)."""
    known_network = not ip_net or known_net(cfg, profile, ip_net, now)
    known_client = familiar(cfg, profile.get("clients", {}), client, now)
    is_official = client in official
    dormant = now - profile.get("last", now) >= cfg.dormant_after
    if known_network and (known_client or is_official):
        # the first sign-in in a month: check the burst
        return cfg.risk_known_network if dormant else 0.0
    if known_network:
        return cfg.risk_known_network  # a third-party app new to this account, at home
    if is_official or known_client:
        return cfg.risk_new_network  # a familiar app on a new network
    return cfg.risk_stranger


def _relative(cfg: TakeoverSettings, official: frozenset[str], live: dict[str, float],
              net: str, client: str) -> float:
    """Day one: a second network while the account's other session is live is new;
    with a third-party app too, wholly unfamiliar."""
    if not net or len(live) - (net in live) <= 0:
        return 0.0
    return cfg.risk_new_network if client in official or not official else cfg.risk_stranger


def session_facts(cfg: TakeoverSettings, official: frozenset[str], event: Event,
                  message: Message | None, record: Record) -> dict[str, Any]:
    """The session's facts: from its login when we saw one, else from the message; for
    a message from an app or network its sign-in never showed, those of a new sign-in
    from there (``signed_in``), with the session's contact reads, under ``as``.
    ``message``: the event when it is one (``Context.message``: kinds are not told apart
    by isinstance, whose failures on a msgspec class are slow)."""
    stored = record.session(event.session, event.ts)  # type: ignore[union-attr]  # (events with a session: this detector plans no other kind)
    profile = record.profile(event.ts)
    if stored and message is not None and not signed_in(message, stored):
        own = scoped(message)
        stored = record.session(own, event.ts) or {
            **_new(cfg, official, event, record, profile), "read": stored.get("read", 0)}
        stored["as"] = own
    if stored and type(event) is not Login:
        if message is not None and stored.get("risk") and not stored.get(
                "dormant") and has_history(cfg, profile, event.ts):
            # The profile may have learnt the session's network since it signed in
            # (clean use, over a day): judged as it stands now, never riskier.
            now = unfamiliar(cfg, official, profile, stored["client"], stored["net"],
                             event.ts)
            return {**stored, "risk": min(stored["risk"], now)}
        return stored
    return _new(cfg, official, event, record, profile)


def signed_in(message: Message, stored: dict[str, Any]) -> bool:
    """Whether a message comes from the app and network its session signed in from (or
    first wrote from): what it does not show (no address, no app id) does not differ."""
    net, client = network(message.client.ip), message.client.id
    held = stored.get("client")
    # The same id is the same family: nearly every message's app is its sign-in's, and
    # asking ``client_family`` of both was two calls of ~500 instructions each.
    return (not net or not stored.get("net") or net == stored["net"]) and (
        not client or not held or client == held
        or client_family(client) == client_family(held))


def _new(cfg: TakeoverSettings, official: frozenset[str], event: Event, record: Record,
         profile: dict[str, Any]) -> dict[str, Any]:
    """A new session's facts, judged against the profile as it stands."""
    client = getattr(event, "client", None)
    ip = getattr(event, "ip", "") or (client.ip if client else "")
    client_id = client.id if client else ""
    net = network(ip)
    history = has_history(cfg, profile, event.ts)
    risk = (unfamiliar(cfg, official, profile, client_id, net, event.ts) if history
            else _relative(cfg, official, record.live(event.ts), net, client_id))
    dormant = history and event.ts - profile.get("last", event.ts) >= cfg.dormant_after
    return {"client": client_id, "net": net, "login": event.ts, "read": 0, "risk": risk,
            "dormant": dormant}


def read(facts: dict[str, Any], count: int, size: int) -> int:
    """How much of the contact list (``size``) a session has read with ``count`` more:
    its reads summed, for a list read a page at a time is read as surely as at once,
    bounded by the list (a session re-reading it has not read more of it)."""
    return min(facts.get("read", 0) + count, max(size, facts.get("read", 0)))


def scraped(cfg: TakeoverSettings, read: int, size: int) -> bool:
    """Whether a session read most of a contact list worth the name."""
    return size >= cfg.scraped_min_contacts and read >= cfg.scraped_share * size


def trusted(cfg: TakeoverSettings, profile: dict[str, Any], session: dict[str, Any],
            now: float) -> bool:
    """The owner's own habit: an account with a clean history on its own app and
    network (``detect`` asks ``established`` too: a network proven at once, by a
    passed challenge, is the holder's, and a throwaway's holder passes its own).

    A chain letter or an announcement to all contacts from there is the owner's
    doing; content alone should warn about it, not hold it."""
    return (profile.get("msgs", 0) >= cfg.trusted_messages
            and bool(session.get("net")) and bool(session.get("client"))
            and known_net(cfg, profile, session["net"], now)
            and familiar(cfg, profile.get("clients", {}), session["client"], now))


def too_young(cfg: TakeoverSettings, first: float | None, now: float) -> bool:
    """Whether ``established`` is false whatever the profile: neither of its ages is
    reached. Known before the takeover record is read, so a caller asks it first."""
    return first is None or now - first < min(cfg.established_after, cfg.familiar_after)


def established(cfg: TakeoverSettings, first: float | None, now: float,
                profile: dict[str, Any], correspondents: Callable[[], int]) -> bool:
    """Positive evidence that the account is someone's own, not a throwaway: known for
    ``established_after`` (to spimguard, or to the IM server by its ``account`` event),
    or a clean history of ``trusted_messages`` over more than ``familiar_after`` with
    ``trusted_correspondents`` people who vouched for their tie to it (``correspondents``:
    they list it back, or had just written to it). An account with no history has nothing
    against it, which is not evidence for it: a bot's first day looks the same, and so does
    its day of lines with a sock of its own.

    ``correspondents`` is asked only when the rest leaves the answer open: counting them
    is a state read (``base.read_more``), which an account known for long never needs."""
    if too_young(cfg, first, now):
        return False
    return now - first >= cfg.established_after or (  # type: ignore[operator]  # (not ``too_young``: ``first`` is not None)
        now - first >= cfg.familiar_after and profile.get("msgs", 0) >= cfg.trusted_messages  # type: ignore[operator]  # (not ``too_young``: ``first`` is not None)
        and correspondents() >= cfg.trusted_correspondents)

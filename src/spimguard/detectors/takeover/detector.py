"""The takeover detector itself: what it reads for an event, the evidence it finds, and
what it remembers once the verdict is known (read during detection, write after).

The judgements live in their own modules (``session``, ``profile``, ``burst``,
``incidents``); this one ties them to an event and memoises, per event, what ``detect``,
``writes`` and the detectors that reuse its judgement (``relationship``,
``sealed_bulk``) all ask: the plan, the account's record, the session's facts, whether
the owner is writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ... import accounts
from ...config import Config
from ...events import AccountInfo, Challenge, ContactsRead, Invite, Login, Message
from ...signals import Signal
from ...state.ops import Incr, Put, Query, Touch, Write
from ..base import Context, Facts, Outcome, ramp, settings
from . import burst, incidents, keys, profile, session
from .origin import counted
from .plan import Plan, plan
from .record import Record
from .settings import TakeoverSettings

# Per-event memo keys in ``ctx.scratch`` (shared with the other detectors' instances of
# this one: ``relationship`` and ``sealed_bulk`` ask the same questions of the event).
_PLAN, _READS, _RECORD, _SESSION, _ESTABLISHED, _OWNER, _DORMANT = (
    "takeover", "takeover:reads", "takeover:record", "takeover:session",
    "takeover:established", "takeover:owner", "takeover:dormant")
_AGAINST = frozenset({"ACCOUNT_HIJACK_BURST", "ACCOUNT_BURST_UNPITCHED", "BEHAVIOUR_CHANGE",
                      "INCIDENT_INHERITED"})  # a message with these is not clean


class TakeoverDetector:
    name = "takeover"

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, TakeoverSettings, given)
        self.official = frozenset(config.official_clients)
        self.restriction_ttl = config.policy.restriction_ttl

    # -- what to read --------------------------------------------------------------------
    def _plan(self, ctx: Context) -> Plan | None:
        scratch = ctx.scratch
        if _PLAN not in scratch:
            scratch[_PLAN] = plan(self.cfg, ctx.event, ctx.view)
        return scratch[_PLAN]

    def reads(self, ctx: Context) -> Sequence[Query]:
        """The plan's queries, flat (memoised: the engine and each detector reusing this
        one's judgement ask for them)."""
        scratch = ctx.scratch
        if _READS in scratch:
            return scratch[_READS]
        found = self._plan(ctx)
        out: tuple[Query, ...] = ()
        if found is not None:
            out = tuple(q for part in found if part is not None
                        for q in (part if isinstance(part, tuple) else (part,)))
        scratch[_READS] = out
        return out

    # -- what one event knows (memoised: detect, writes and other detectors ask) ---------
    def _record(self, ctx: Context, facts: Facts, found: Plan) -> Record:
        """The account's record as this event read it (once per event: detect and writes
        share it, and writes gather the event's changes in it)."""
        scratch = ctx.scratch
        if _RECORD not in scratch:
            scratch[_RECORD] = Record(ctx.event.account, facts[found.record],
                                      self.cfg.session_ttl, self.cfg.live_window,
                                      self.restriction_ttl)
        return scratch[_RECORD]

    def _session(self, ctx: Context, facts: Facts, found: Plan) -> dict[str, Any]:
        """The session's facts (``session.session_facts``), once per event."""
        scratch = ctx.scratch
        if _SESSION not in scratch:
            scratch[_SESSION] = session.session_facts(
                self.cfg, self.official, ctx.event, self._record(ctx, facts, found))
        return scratch[_SESSION]

    @staticmethod
    def _dormant(ctx: Context, facts: Facts, found: Plan) -> list[str]:
        """The burst's dormant ties (``burst.dormant_ties``), once per event: ``detect``
        weighs them, ``writes`` records them."""
        scratch = ctx.scratch
        if _DORMANT not in scratch:
            scratch[_DORMANT] = burst.dormant_ties(found, facts)
        return scratch[_DORMANT]

    def sender_session(self, ctx: Context, facts: Facts) -> dict[str, Any]:
        """The message's session as this detector judges it (``risk`` 0 when familiar),
        for detectors that weigh evidence by it."""
        found = self._plan(ctx)
        return {} if found is None else self._session(ctx, facts, found)

    def established(self, ctx: Context, facts: Facts) -> bool:
        """Whether the account is someone's own (``session.established``), once per
        event."""
        scratch = ctx.scratch
        if _ESTABLISHED not in scratch:
            found, now = self._plan(ctx), ctx.event.ts
            first = None if found is None else facts[found.first_seen]
            scratch[_ESTABLISHED] = (found is not None and first is not None
                                     and session.established(self.cfg, first, now, self._record(
                                         ctx, facts, found).profile(now)))
        return scratch[_ESTABLISHED]

    def _vouching(self, ctx: Context, facts: Facts, judged: dict[str, Any]) -> bool:
        """Whether this session's clean uses of its network count as the owner's: an
        established account on a session with nothing against it (``risk`` 0), or one that
        has been answering its friends (``replies_trusted``: they wrote to it first, the
        side a spimmer cannot fake). An intruder's warm-up lines from its own network are
        neither, and teach the network nothing towards ``owner_consistent``."""
        return (not judged.get("risk") and self.established(ctx, facts)) or judged.get(
            "replies", 0) >= self.cfg.replies_trusted

    def _doubted(self, ctx: Context, facts: Facts, found: Plan,
                 judged: dict[str, Any]) -> bool:
        """Whether the message joins, and is judged by, the burst over the account's
        unproven sessions (``burst.measure``): its session is unfamiliar and nothing
        proves it the owner's, and it is not a reply (the recipient wrote first, which
        no intruder can make a contact do: a conversation is nobody's burst)."""
        assert isinstance(ctx.event, Message)
        return bool(judged.get("risk")) and not self._vouching(
            ctx, facts, judged) and not burst.answers(ctx.event, ctx.view, found, facts,
                                                      judged)

    def owner_consistent(self, ctx: Context, facts: Facts) -> bool:
        """Positive evidence that the owner is writing, and nothing against it.

        An established account (``established``), its official app (or one it uses), no
        contact list read, a message in the clear with no link, to contacts who all list
        the account back, and a network that is either not new (``risk`` 0) or one sessions
        proven the owner's wrote from (``profile.written_from``): what the owner announcing
        a new number from its phone looks like. Each part is what an intruder or a bot
        gives away: a throwaway account, its own software, the harvest of the list, the
        pitched link, targets that never added it, its own servers (and its warm-up there
        teaches nothing). Of an encrypted message nobody can say it has no link, so it is
        never consistent with anyone: its metadata is all there is to judge."""
        if _OWNER in ctx.scratch:
            return bool(ctx.scratch[_OWNER])
        found = self._plan(ctx)
        result = False
        if (found is not None and found.burst is not None and found.contacts is not None
                and found.listed_back):
            cfg, now = self.cfg, ctx.event.ts
            known = self._record(ctx, facts, found).profile(now)
            judged = self._session(ctx, facts, found)
            client = judged.get("client", "")
            result = (not facts[found.restrictions]
                      and isinstance(ctx.event, Message) and not ctx.event.encrypted
                      and ctx.view is not None and not ctx.view.urls
                      and (client in self.official or profile.familiar(
                          cfg, known.get("clients", {}), client, now))
                      and not session.scraped(cfg, judged.get("read", 0),
                                              facts[found.contacts_n])
                      and all(facts[found.contacts])
                      and all(facts[q][0] for q in found.listed_back)
                      and self.established(ctx, facts)
                      and (not judged["risk"] or profile.written_from(
                          cfg, known, judged.get("net", ""), judged.get("login", now))))
        ctx.scratch[_OWNER] = result
        return result

    # -- signals -------------------------------------------------------------------------
    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        found = self._plan(ctx)
        if found is None:
            return []
        event = ctx.event
        if isinstance(event, AccountInfo):
            return []
        if isinstance(event, Challenge):
            return [incidents.challenge_signal(event)]
        record = self._record(ctx, facts, found)
        known, open_ = record.profile(event.ts), record.incidents(event.ts)
        judged = self._session(ctx, facts, found)
        if isinstance(event, Login):
            return self._login(event, facts, found, known, judged, open_)
        if isinstance(event, ContactsRead):
            return self._contacts_read(event, facts, found, judged)
        assert isinstance(event, Message)
        return self._message(ctx, event, facts, found, record, known, judged, open_)

    def _login(self, event: Login, facts: Facts, found: Plan, known: dict[str, Any],
               judged: dict[str, Any], open_: list[dict[str, Any]]) -> list[Signal]:
        if not event.success:
            return []
        restrict = facts[found.restrictions]
        passed = incidents.owner_signed_in(self.cfg, self.official, event, restrict, known)
        if passed:
            return [passed]
        inherited = incidents.inherited(self.cfg, restrict, known, judged, event.session, open_)
        if inherited:
            return [inherited]
        risk = judged["risk"]
        if not risk:
            return []
        what = ("a new network" if risk >= self.cfg.risk_new_network
                else "a network it used before")
        client = event.client.id or "an unknown app"
        gap = (event.ts - known.get("last", event.ts)) / 86_400
        since = f", {gap:.0f} days after its last sign-in" if gap >= 1 else ""
        return [Signal("LOGIN_UNFAMILIAR", risk, f"signed in from '{client}' on {what}{since}")]

    def _contacts_read(self, event: ContactsRead, facts: Facts, found: Plan,
                       judged: dict[str, Any]) -> list[Signal]:
        size, risk = facts[found.contacts_n], judged["risk"]
        if risk and session.scraped(self.cfg, event.count, size):
            return [Signal("CONTACTS_SCRAPED", risk, f"session '{event.session}' read "
                           f"{event.count} of {size} contacts")]
        return []

    def _message(self, ctx: Context, event: Message, facts: Facts, found: Plan,
                 record: Record, known: dict[str, Any], judged: dict[str, Any],
                 open_: list[dict[str, Any]]) -> list[Signal]:
        cfg, risk = self.cfg, judged["risk"]
        out = profile.behaviour(cfg, event, ctx.view, known)
        inherited = incidents.inherited(cfg, facts[found.restrictions], known, judged,
                                        event.session, open_)
        if inherited:
            out.append(inherited)
        if not risk and session.trusted(cfg, known, judged, event.ts) and self.established(
                ctx, facts) and found.contacts and all(facts[found.contacts]):
            out.append(Signal("FAMILIAR_SENDER", 1.0, f"its usual app "
                              f"'{judged.get('client')}' on its usual network, to its "
                              "contacts"))
        elif self.owner_consistent(ctx, facts):
            out.append(Signal("OWNER_CONSISTENT", 1.0, f"its app '{judged.get('client')}', "
                              "no contact list read, no link, to its contacts"))
        elif risk and not self._vouching(ctx, facts, judged):
            # Doubt from the session itself, on every message and not only once a burst
            # shows: a hijacker inherits the contact list, and one that writes once per
            # burst window never bursts. No points: it only stops a mutual listing from
            # vouching for the words (``policy.py``).
            out.append(Signal("SESSION_UNFAMILIAR", risk, "sent from a session the "
                              "account does not use, not proven the owner's"))
        if not risk or found.burst is None:
            return out
        size = facts[found.contacts_n]
        scraped = session.scraped(cfg, judged.get("read", 0), size)
        client = judged.get("client") or "an unknown app"
        link = bool(ctx.view and ctx.view.urls)
        where = "a network it used before" if risk == cfg.risk_known_network else "a new network"
        if scraped and (risk >= cfg.risk_stranger or link):
            # An unfamiliar session that read the whole contact list: what it sends carries
            # those facts, before any burst can be counted. A new app on a new network warns
            # on every message; a session only partly new (an official app's id, which
            # anyone can claim, from a new network) on its links, what harvesters send.
            out.append(Signal("LOGIN_UNFAMILIAR", risk, f"sent from a session that signed "
                              f"in from '{client}' on {where}"))
            out.append(Signal("CONTACTS_SCRAPED", risk, f"... which read {judged['read']} "
                              f"of its {size} contacts"))
        dormant = self._dormant(ctx, facts, found)
        measured = burst.measure(found, facts, dormant, link, bool(dormant) and self._doubted(
            ctx, facts, found, judged))
        strength = ramp(measured.size, cfg.burst_soft, cfg.burst_hard)
        if not strength:
            return out
        # Encrypted, "one text" is as far as the server can tell: one size class.
        same_text = burst.repeating(ctx.view, found, facts) or bool(
            found.shape and facts[found.shape] >= 1)
        own_app = profile.familiar(cfg, known.get("clients", {}), judged.get("client", ""),
                                   event.ts)
        weighed = burst.Judged(risk, where, client, scraped, size, same_text, link, own_app,
                               self.owner_consistent(ctx, facts))
        out.append(burst.signal(cfg, event, found, facts, judged, measured, dormant, weighed,
                                strength, record.sent(counted(event), event.ts)))
        return out

    # -- what to remember ----------------------------------------------------------------
    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        found = self._plan(ctx)
        if found is None:
            return ()
        event = ctx.event
        if isinstance(event, Login) and not event.success:
            return ()
        record = self._record(ctx, facts, found)
        out = self._changes(ctx, facts, found, outcome, record)
        put = record.put(event.ts)
        return out if put is None else [*out, put]

    def _changes(self, ctx: Context, facts: Facts, found: Plan, outcome: Outcome,
                 record: Record) -> list[Write]:
        """The event's writes but the account's record, whose changes it makes in
        ``record`` (put once, by ``writes``)."""
        event, now, cfg = ctx.event, ctx.event.ts, self.cfg
        if isinstance(event, AccountInfo):
            record.set_profile(profile.told(cfg, record.profile(now), event), now)
            return []
        if isinstance(event, Challenge):
            return incidents.challenge_writes(cfg, event, facts[found.restrictions],
                                              self.restriction_ttl,
                                              outcome.account_action != "none", record)
        known = dict(record.profile(now))
        judged = dict(self._session(ctx, facts, found))
        out: list[Write] = []
        if judged.get("net"):
            record.touch_live(judged["net"], now, cfg.live_cap)
        if outcome.account_action != "none" and judged.get("risk"):
            incidents.add_incident(cfg, event, record, judged)
        if isinstance(event, Login):
            judged.update(login=event.ts, client=event.client.id)
            known["last"] = event.ts  # a sign-in alone teaches no network or app
            if "CHALLENGE_PASSED" in outcome.signals:
                # The owner proved it: its account-wide restrictions go, this network and
                # app are familiar from now on; the incident's sessions stay suspended.
                out.append(accounts.after_challenge(event.account, facts[found.restrictions],
                                                    self.restriction_ttl))
                profile.remember(cfg, known, "nets", judged["net"], event.ts,
                                 cfg.max_networks, proven=True)
                profile.remember(cfg, known, "clients", event.client.id, event.ts,
                                 cfg.max_clients, proven=True)
            record.set_profile(known, now)
        elif isinstance(event, ContactsRead):
            judged["read"] = max(judged.get("read", 0), event.count)
        elif isinstance(event, Message):
            out.extend(self._message_writes(ctx, event, found, facts, outcome, judged))
            self._learn(ctx, event, found, facts, outcome, record, known, judged, out)
        if event.session:
            record.set_session(event.session, judged, now, cfg.max_sessions,
                               cfg.replies_trusted)
        return out

    def _learn(self, ctx: Context, event: Message, found: Plan, facts: Facts,
               outcome: Outcome, record: Record, known: dict[str, Any],
               judged: dict[str, Any], out: list[Write]) -> None:
        """What a delivered message teaches: the session's delivered count, and from a
        clean one the profile's habits and, when the owner wrote it, whom it writes to."""
        cfg, now = self.cfg, event.ts
        delivered = outcome.action in ("deliver", "warn")
        if delivered:
            record.count_sent(counted(event), now, cfg.max_sessions)
        clean = delivered and not (outcome.signals & _AGAINST)
        own_people = found.contacts is not None and all(
            c or t for c, t in zip(facts[found.contacts], facts[found.talked], strict=True))
        # The one-way record is the owner's writing: an intruder's bland lines from its
        # own sessions (one contact each, never a burst) would turn the whole list into
        # active ties for its burst the next day.
        vouching = self._vouching(ctx, facts, judged)
        owners = not judged.get("risk") or vouching
        if clean and owners and not isinstance(event, Invite) and len(
                event.recipients) <= accounts.MAX_TALKED_FANOUT:
            out.append(Touch(keys.wrote(event.account), tuple(event.recipients),
                             accounts.TALKED_TTL, accounts.TALKED_CAP))
        if clean and ctx.view is not None:
            profile.learn(cfg, known, event, ctx.view, judged if own_people else None)
            if own_people and vouching:
                profile.remember(cfg, known, "owned", judged.get("net", ""), now,
                                 cfg.max_networks)
            record.set_profile(known, now)

    def _message_writes(self, ctx: Context, event: Message, found: Plan, facts: Facts,
                        outcome: Outcome, judged: dict[str, Any]) -> list[Write]:
        """A session's burst, text and delivery counts; replies earned; who heard from it."""
        cfg = self.cfg
        out: list[Write] = []
        if found.burst is not None:
            assert found.same_text is not None
            assert found.contacts is not None and found.text_to is not None
            assert found.life is not None and found.pals is not None
            assert found.talked is not None
            dormant = self._dormant(ctx, facts, found)
            if dormant:
                out.append(Touch(found.burst.key, tuple(dormant), cfg.burst_window,
                                 cfg.burst_cap))
                if self._doubted(ctx, facts, found, judged):
                    assert found.doubted is not None
                    out.append(Touch(found.doubted.key, tuple(dormant), cfg.burst_window,
                                     cfg.burst_cap))
            if judged.get("risk"):  # the slow burst is only judged where the burst is
                pals = tuple(p for p, t in zip(found.contacts.members, facts[found.talked],
                                               strict=True) if t)
                out.extend(Touch(key, members, cfg.session_ttl, cfg.burst_cap)
                           for key, members in ((found.life.key, tuple(dormant)),
                                                (found.pals.key, pals)) if members)
            contacts = tuple(p for p, c in zip(found.contacts.members, facts[found.contacts],
                                               strict=True) if c)
            if contacts:
                out.append(Touch(found.text_to.key, contacts, cfg.burst_window,
                                 cfg.burst_cap))
            out.append(Incr(found.same_text.key, 1.0, cfg.burst_bucket, cfg.burst_window))
            if found.shape is not None:
                out.append(Incr(found.shape.key, 1.0, cfg.burst_bucket, cfg.burst_window))
            if burst.answers(event, ctx.view, found, facts, judged):
                judged["replies"] = judged.get("replies", 0) + 1
        if outcome.action in ("deliver", "warn") and not isinstance(event, Invite) and len(
                event.recipients) <= accounts.MAX_TALKED_FANOUT:
            # Written to: a reply from the recipient within reply_window is a conversation.
            out.extend(Put(keys.heard(r, event.account), event.ts, cfg.reply_window)
                       for r in dict.fromkeys(event.recipients))
        return out


def build(given: dict[str, Any], config: Config) -> TakeoverDetector:
    return TakeoverDetector(given, config)

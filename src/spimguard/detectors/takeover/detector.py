"""The takeover detector itself: what it reads for an event, the evidence it finds, and
what it remembers once the verdict is known (read during detection, write after).

The judgements live in their own modules (``session``, ``profile``, ``burst``,
``incidents``); this one ties them to an event and memoises, per event, what ``detect``,
``writes`` and the detectors that reuse its judgement (``relationship``,
``sealed_bulk``) all ask: the plan, the account's record, the session's facts, whether
the owner is writing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from ... import accounts, lists
from ...config import Config
from ...events import RECEIVED, AccountInfo, Challenge, ContactsRead, Invite, Login, Message
from ...signals import Signal
from ...state.ops import Distinct, Get, Incr, Members, Put, Query, Touch, Write
from ...text import MessageView
from .. import base
from ..base import BATCH_COMMITS, Context, Facts, Outcome, once, ramp, read_more, settings, shared
from . import burst, incidents, keys, profile, rooms, session
from .origin import stand_in, unscoped
from .plan import Plan, plan, sessions_sets, standing
from .record import Record, decode, put_of
from .settings import TakeoverSettings

log = logging.getLogger(__name__)
_MEMO = "takeover"  # ``ctx.scratch``'s key for the event's ``_Found`` (None: not judged)
_ALONE = "takeover:session"  # ``ctx.scratch``'s: ``sender_session`` of an event not planned
# Accounts whose record as this detector last put it is kept: the bytes, the record as the
# event that put it left it (``Record.changed``: what has expired still in) and the put's
# time (``TakeoverDetector._put``). An account's events come in conversations, and
# decoding the record was ~5 % of the detector's time in batches of 500, more in the
# server's batches of one. An event that reads the very bytes put, at the put's time or
# later, starts from that record as the batch's later events start from what its earlier
# ones left (``_PENDING``): each read checks expiry at its own event's time, so it reads
# what decoding the bytes gives; one that reads anything else (another node's write, a
# put not applied, an entry let go), or is earlier than the put, decodes what it read.
# Not making the decoded form at each put was ~40 % of encoding the record, which the
# server's batches of one do at nearly every event. The least recently put go first; an
# entry holds ~6 KB (median of the mixed load's 300 accounts after 3 days, its strings
# counted), so ~12 MB at most.
_DECODED_KEPT = 2_048
# ``ctx.batch``'s key for the records a batch that commits as one (``BATCH_COMMITS``) has
# changed, by account: each with its changes, what has expired still in, and the time of
# its last change. Put once, when the batch ends (``finish``), not at each of its events:
# encoding the record was ~40 % of what the detector's writes cost, and an account's
# events come in conversations (the 300-user mixed load in batches of 500 puts records
# 1,638 times so, 5,805 times once an event).
_PENDING = "takeover:pending"
_AGAINST = frozenset({"ACCOUNT_HIJACK_BURST", "ACCOUNT_BURST_UNPITCHED", "BEHAVIOUR_CHANGE",
                      "INCIDENT_INHERITED"})  # a message with these is not clean


class _Found:
    """What the detector has found of one event so far, each part once: ``reads``,
    ``detect``, ``writes`` and the detectors that reuse this one's judgement (their own
    instances: ``relationship``, ``sealed_bulk``) all ask for the same parts, and one
    object in the scratch answers them with an attribute, not a look-up per part.
    None in a part: not asked yet."""

    __slots__ = ("dormant", "established", "given", "owner", "pitch", "plan", "record",
                 "room", "script", "session", "shares", "spread")

    def __init__(self, found: Plan) -> None:
        self.plan = found
        self.record: Record | None = None
        self.session: dict[str, Any] | None = None
        self.established: bool | None = None
        self.owner: bool | None = None
        self.dormant: tuple[str, ...] | None = None
        self.room: rooms.Settled | None = None  # asked with ``dormant``
        self.script: str | None = None
        # ``burst.pitched``: a risky session's link asks it up to six times (``_doubted``
        # in detect and writes, each test of a reply, the burst's words), each a walk of
        # the dormant ties and the links; only a risky session's link gets past its first
        # test.
        self.pitch: str | None = None
        # The dormant ties an earned network's popular share adds to ``keys.shares``
        # (``_unearned``): () when it adds none.
        self.shares: tuple[str, ...] = ()
        # ``_spread``: asked by detect's burst and again by writes (the set it keeps).
        self.spread: int | None = None
        # ``_broadcast``'s pitch count over the familiar sessions (``burst.broadcast``),
        # which ``burst.calling`` weighs: 0 until a broadcast is found.
        self.given = 0


class TakeoverDetector(base.Planning[_Found | None]):
    name = _MEMO

    def __init__(self, given: dict[str, Any], config: Config) -> None:
        self.cfg = settings(self.name, TakeoverSettings, given)
        self.official = frozenset(config.official_clients)
        self.restriction_ttl = config.policy.restriction_ttl
        self._decoded: dict[str, tuple[bytes, dict[str, Any], float]] = {}  # ``_DECODED_KEPT``

    # -- what to read --------------------------------------------------------------------
    def _make_plan(self, ctx: Context) -> _Found | None:
        found = plan(self.cfg, ctx)
        if found is None:
            return None
        if found.later:  # read only when the judgement reaches them (``read_more``)
            ctx.deferred += found.later
        return _Found(found)

    def reads(self, ctx: Context) -> Sequence[Query]:
        """The plan's queries (``plan.reads``: the engine and each detector reusing this
        one's judgement ask for them)."""
        memo = self._plan(ctx)
        return () if memo is None else memo.plan.reads

    def plan_established(self, ctx: Context) -> None:
        """Have what ``established`` reads of a message planned, for a detector that asks
        only that judgement (``relationship``): nothing more when this detector planned
        the event (its reads and ``later`` hold it: it is enabled, and plans first), else
        the account's record and vouching correspondents (``plan.standing``), as
        ``ctx.deferred``: read only when the judgement reaches them (``read_more``),
        which an account too young, or a message to strangers, never does. Building the
        whole plan for that was ~4 % of what the asking detector cost alone."""
        if _MEMO not in ctx.scratch:
            ctx.deferred += _standing(ctx)

    def plan_session(self, ctx: Context) -> Sequence[Query]:
        """What ``sender_session`` reads of a message, for a detector that asks only that
        judgement (``sealed_bulk``): nothing when this detector planned the event (its
        reads hold the record: it is enabled, and plans first), else the account's record
        (``plan.standing``'s first), read with the rest: each message the asking detector
        judges asks it. Not the whole plan of ~16 queries, of which it reads one."""
        return () if _MEMO in ctx.scratch else _standing(ctx)[:1]

    # -- what one event knows (each once: detect, writes and other detectors ask) --------
    def _record(self, memo: _Found, ctx: Context, facts: Facts) -> Record:
        """The account's record as this event read it (detect and writes share it, and
        writes gather the event's changes in it): as the batch's earlier events left it,
        when they changed it and the batch puts it at its end (``_PENDING``).

        What they left is the record as they worked on it, what has expired still in:
        each read checks expiry at its own event's time, so a later event reads it as
        the put would have left it. An event earlier than the change it follows (events
        may come out of order) reads it as put then: what had expired by then is gone."""
        if memo.record is None:
            account, cfg = ctx.event.account, self.cfg
            pending = ctx.batch.get(_PENDING)
            left = None if pending is None else pending.get(account)
            decoded = True  # (a record this process made: ``Record``)
            if left is not None:
                stored, then = left
                if ctx.event.ts < then:
                    stored = decode(put_of(account, stored, then, cfg.session_ttl,
                                           cfg.live_window, self.restriction_ttl).value)
            else:
                stored = facts[memo.plan.record]
                put = self._decoded.get(account)
                if put is not None and put[0] == stored and ctx.event.ts >= put[2]:
                    stored = put[1]  # what this detector last put, as its event left it
                else:
                    decoded = False
            memo.record = self._as_stored(account, stored, decoded)
        return memo.record

    def _as_stored(self, account: str, stored: Any, decoded: bool = False) -> Record:
        """The account's record from what a read gave, or ``decoded``: the batch's earlier
        events or this detector's last put left it."""
        return Record(account, stored, self.cfg.session_ttl, self.cfg.live_window,
                      self.restriction_ttl, decoded)

    def _session(self, memo: _Found, ctx: Context, facts: Facts) -> dict[str, Any]:
        """The session's facts (``session.session_facts``)."""
        if memo.session is None:
            judged = session.session_facts(self.cfg, self.official, ctx.event, ctx.message,
                                           self._record(memo, ctx, facts))
            memo.session = self._unearned(memo, ctx, facts, judged)
        return memo.session

    def _unearned(self, memo: _Found, ctx: Context, facts: Facts,
                  judged: dict[str, Any]) -> dict[str, Any]:
        """The session's facts, at the risk its network had before it was familiar when the
        message sends a site to dormant ties from a network an unfamiliar session made
        familiar (``profile.earned``): replies prove a session can converse, not that it is
        the owner, and the pitch to the account's dormant ties is what the seller that
        answered her friends came for (red team, session 29). Nobody can say an encrypted
        message has no such site (``owner_consistent``): it is judged so too. A line to the
        friends it writes to, a greeting with no link: the owner's, as before.

        A popular site (``lists.well_known``) is what everybody shares (the owner's new
        phone sends a video to five friends), but it vouches for what is shared, not for
        how far: anyone publishes on YouTube or Google Sites, and the seller's pitch there
        is shared to the list it came for (session 30: 50 of 50 reached). So it is the
        owner's until the account's earned networks have sent popular sites to
        ``popular_share_ties`` dormant ties within ``pitch_trust_after`` (``keys.shares``,
        read only here); past that it is judged as a little-known site."""
        net, now = judged.get("net", ""), ctx.event.ts
        if judged.get("risk") or judged.get("proven") or not net or ctx.message is None:
            return judged  # ``proven``: a passed challenge proved the session the owner's
        sealed, sites = ctx.message.encrypted, keys.sites(ctx.view)
        if not sealed and not sites:  # an encrypted one may carry any site
            return judged
        known = self._record(memo, ctx, facts).profile(now)
        if not profile.earned(self.cfg, known, net, now):
            return judged
        dormant = self._dormant(memo, facts)
        if not dormant:
            return judged
        if not sealed and _popular(sites):
            found = memo.plan.shares
            assert found is not None
            count, held = _later(ctx, facts, found)
            new = tuple([p for p, h in zip(found.members, held, strict=True)
                         if not h and p in dormant])
            if int(count) + len(new) <= self.cfg.popular_share_ties:
                memo.shares = new
                return judged
        before = {**known, "nets": {n: e for n, e in known.get("nets", {}).items() if n != net}}
        risk = session.unfamiliar(self.cfg, self.official, before, judged.get("client", ""),
                                  net, now)
        return {**judged, "risk": risk}

    def _broadcast(self, memo: _Found, ctx: Context, facts: Facts) -> bool:
        """Whether a familiar session's message in the clear gives a site once the session
        has given it, or written anything to ties the account had not been writing to, to
        ``pitch_ties`` people in the burst window (``burst.broadcast``), this message's
        recipients included; ``popular_share_ties`` when every site is on the popular list
        (``_popular``), which vouches for what is shared, not for how far (``_spread``).
        FAMILIAR_SENDER is then withheld.

        The owner's own network and app say who holds the device, not what runs on it: a
        worm on the owner's own computer, or the seller's software behind a residential
        proxy inside the owner's /24, writes from there with the owner's app id, and
        FAMILIAR_SENDER took four points off every pitch (red team, session 47: 41 of 155
        and 40 of 130 pitches delivered on two seeds; 56 from one account in three
        minutes). A person passes a link on to the two or three friends it talks with, and
        announces to everyone with no link (``owner_consistent``); given to many of the
        ties it had not been writing to within minutes, a link is a broadcast, and
        FAMILIAR_SENDER's word (that the owner is talking with its friends) no longer holds
        for it. What the words and the
        link say then counts as from any contact who lists the sender back: a pitch is
        warned (``policy.py``: the relationship bounds the words), Gran's e-card from her
        own phone is delivered or warned as before, never held, nor is her session asked:
        the device is still hers to all evidence (``test_attack_session29``).

        **Counted over the account's familiar sessions** (``bcast49``). A session id is the
        client's to choose and a sign-in costs nothing, and a session new from the owner's
        /24 with the owner's app is familiar at once: the seller's software signing in anew
        every three pitches reached three people a session, 40 of 40 delivered (review47).
        What FAMILIAR_SENDER vouches for is the person behind the owner's places, and a
        person on the phone and the laptop at once is one person passing a link on: so the
        sets counted are those of every session the record keeps as familiar that wrote in
        the burst window (``_others``, up to ``max_sessions``), read, never written: the
        burst's dormant ties and this pitch's people of each, with the session's own
        (``burst.broadcast``). A friend gives a link to the two or three it catches up with
        whichever device is in its hand; a campaign gives it to the list, however many
        sessions it spreads the list over. Summed, a person written from two sessions counts
        twice: the recipients are asked of every set (each once), and past the bound the
        sets' people are read and joined (``burst.people``), so no re-sent link makes a
        broadcast. Dormant ties rarely repeat: a familiar session's clean message makes its
        recipients ties the account writes to, which no other session's burst then counts."""
        view, found = ctx.view, memo.plan
        if view is None or found.text_to is None or found.burst is None:
            return False  # an encrypted message names no site; no link, no broadcast
        popular, dormant = _popular(keys.sites(view)), self._dormant(memo, facts)
        if popular and not dormant:
            # What friends share with the friends they write to: only how far it goes down
            # the ties the account had not been writing to counts (as ``keys.shares``), and
            # the life's every video link to a close friend reads nothing more.
            return False
        others = sessions_sets(found, ctx.event.account, self._others(memo, ctx, facts))
        read_more(ctx, (found.text_to, found.burst, *[q for pair in others for q in pair]))
        bound = self.cfg.popular_share_ties if popular else self.cfg.pitch_ties
        # Every session the record keeps wrote within the window, so sessions that wrote
        # there may have been dropped for them (``Record.crowded``), and their sets can no
        # longer be named: the count over the account's sessions is not whole. A sign-in is
        # the client's to make: seven sign-ins that never write, after each pitching
        # session's, pushed every earlier one out, each counted alone again (40 of 40
        # delivered, review49), where an owner is a handful of devices. What cannot be
        # counted cannot vouch: FAMILIAR_SENDER is withheld (``calling`` still weighs the
        # count of what can be named).
        crowded = self._record(memo, ctx, facts).crowded(
            ctx.event.ts - self.cfg.burst_window, self.cfg.max_sessions)
        memo.given, reached = burst.broadcast(found, facts, dormant, memo.room, others)
        if max(memo.given, reached) < bound:
            return crowded
        if not others:
            return True
        # Summed, a person given the link from two sessions counts twice: past the bound,
        # the sets' people are read and joined (``burst.people``), each person once. Only
        # the sets that hold anyone.
        texts = [Members(t.key, t.side) for t in (found.text_to, *[t for _, t in others])
                 if facts[t][0]]
        ties = [Members(b.key, b.side) for b in (found.burst, *[b for b, _ in others])
                if facts[b][0]]
        read_more(ctx, (*texts, *ties))
        memo.given, joined = burst.people(found, facts, dormant, memo.room,
                                          [facts[q] for q in texts], [facts[q] for q in ties])
        return crowded or max(memo.given, joined) >= bound

    def _others(self, memo: _Found, ctx: Context, facts: Facts) -> list[str]:
        """The account's other familiar sessions that wrote in the burst window, as their
        messages count (``origin.counted``), whose sets ``_broadcast`` counts with the
        session's own: the record's familiar sessions last written within it (a set
        written earlier holds no one: its members are touched with ``burst_window``), a
        session kept under its scoped id (``origin.scoped``: a message from an origin its
        sign-in was not) under its own, which its messages' sets are named by; and, for a
        message with a session, the messages from its app and network with none
        (``origin.stand_in``). None of them this message's own (``Plan.session``)."""
        event, own = ctx.message, memo.plan.session
        assert event is not None
        now = event.ts
        names = dict.fromkeys(
            [unscoped(s, client, net) for s, client, net in self._record(
                memo, ctx, facts).familiar_since(now - self.cfg.burst_window)])
        if event.session:
            names[stand_in(event)] = None
        names.pop(own, None)
        return sorted(names)

    def _script(self, memo: _Found, view: MessageView) -> str:
        """The text's script (``profile.script``): ``behaviour`` judges it, ``learn``
        keeps it."""
        if memo.script is None:
            memo.script = profile.script(self.cfg, view.text)
        return memo.script

    @staticmethod
    def _dormant(memo: _Found, facts: Facts) -> tuple[str, ...]:
        """The burst's dormant ties (``burst.dormant_ties``) but a settled room's members,
        and the room (``memo.room``, ``rooms.settled``): ``detect`` weighs them,
        ``writes`` records them."""
        if memo.dormant is None:
            found = memo.plan
            dormant = burst.dormant_ties(found, facts, answered=True)
            if found.room is not None:
                assert found.contacts is not None
                listed = tuple(p for p, c in zip(found.contacts.members, facts[found.contacts],
                                                 strict=True) if c)
                memo.room = rooms.settled(found.room, facts, dormant, listed)
                if memo.room is not None:
                    dormant = tuple(p for p in dormant if p not in memo.room.people)
            memo.dormant = dormant
        return memo.dormant

    def _pitch(self, memo: _Found, ctx: Context, facts: Facts) -> str:
        """The message's pitch, in words (``burst.pitched``; "" when it is none)."""
        if memo.pitch is None:
            memo.pitch = burst.pitched(self.cfg, memo.plan, facts, self._record(
                memo, ctx, facts).links(ctx.event.ts))
        return memo.pitch

    def _answers(self, memo: _Found, ctx: Context, facts: Facts,
                 judged: dict[str, Any]) -> bool:
        """Whether the message is a reply (``burst.answers``), its pitch asked once: a
        ``partial``, made in C, where a lambda made its four variables cells and itself a
        function object at each call (~1 an event), asked or not."""
        message = ctx.message
        assert message is not None
        return burst.answers(message, memo.plan, facts, judged,
                             functools.partial(self._pitch, memo, ctx, facts))

    def sender_session(self, ctx: Context, facts: Facts) -> dict[str, Any]:
        """The message's session as this detector judges it (``risk`` 0 when familiar),
        for detectors that weigh evidence by it."""
        scratch = ctx.scratch
        if _MEMO not in scratch:  # not planned by this detector: ``plan_session``
            return once(ctx, _ALONE, self._session_alone, ctx, facts)
        memo = scratch[_MEMO]
        return {} if memo is None else self._session(memo, ctx, facts)

    def session_sent(self, ctx: Context, facts: Facts) -> float:
        """The messages with a site the sender's session and the account's other unproven
        sessions delivered in the past day (``Record.sent_unproven``), for detectors that
        weigh a session by how far it has pitched (bulk), read as ``sender_session`` reads
        (``plan_session``). The account's, not the session's (``review32c``): a seller
        signing in anew every third pitch is one hand however many session ids it takes.
        With a site (``unproven33``): a new phone's "it's me" lines to friends are no
        pitch; counted, they put an owner who wrote three under the rule from her first
        share of words an attacker's own account had sent once."""
        message = ctx.message
        if message is None or not message.session:
            return 0.0
        trusted = self.cfg.replies_trusted
        memo = ctx.scratch.get(_MEMO, False)
        if memo is False:  # not planned by this detector: the record ``plan_session`` read
            record = self._as_stored(ctx.event.account, facts[_standing(ctx)[0]])
            return record.sent_unproven(message.session, message.ts, trusted)
        if memo is None:
            return 0.0
        return self._record(memo, ctx, facts).sent_unproven(memo.plan.session, message.ts,
                                                            trusted)

    def _session_alone(self, ctx: Context, facts: Facts) -> dict[str, Any]:
        """``sender_session`` of a message this detector did not plan, from the record
        ``plan_session`` read. Disabled, this detector puts no record: the one read is
        the account's as stored."""
        account = ctx.event.account
        return session.session_facts(self.cfg, self.official, ctx.event, ctx.message,
                                     self._as_stored(account, facts[_standing(ctx)[0]]))

    def established(self, ctx: Context, facts: Facts) -> bool:
        """Whether the account is someone's own (``session.established``), asked by other
        detectors (which plan its reads with ``plan_established``). An account too young
        for it is answered before the record is read: most mutual contacts not yet
        written back are a day's new ties."""
        if session.too_young(self.cfg, ctx.account.first_seen, ctx.event.ts):
            return False
        scratch = ctx.scratch
        if _MEMO not in scratch:  # not planned by this detector: ``plan_established``
            return self._established_alone(ctx, facts)
        memo = scratch[_MEMO]
        return memo is not None and self._established(memo, ctx, facts)

    def _established_alone(self, ctx: Context, facts: Facts) -> bool:
        """``established`` of a message this detector did not plan, from what
        ``plan_established`` deferred. Disabled, this detector puts no record: the one
        read is the account's as stored."""
        account, now = ctx.event.account, ctx.event.ts
        stored, vouching = _standing(ctx)
        known = self._as_stored(account, _later(ctx, facts, stored)).profile(now)
        return session.established(self.cfg, ctx.account.first_seen, now, known,
                                   functools.partial(_later, ctx, facts, vouching))

    def _established(self, memo: _Found, ctx: Context, facts: Facts) -> bool:
        if memo.established is None:
            now, first = ctx.event.ts, ctx.account.first_seen
            memo.established = first is not None and session.established(
                self.cfg, first, now, self._record(memo, ctx, facts).profile(now),
                functools.partial(_vouched, ctx, memo.plan, facts))
        return memo.established

    def _vouching(self, memo: _Found, ctx: Context, facts: Facts,
                  judged: dict[str, Any]) -> bool:
        """Whether this session's clean uses of its network count as the owner's: an
        established account on a session with nothing against it (``risk`` 0), or one that
        has been answering its friends (``replies_trusted``: they wrote to it first, the
        side a spimmer cannot fake). An intruder's warm-up lines from its own network are
        neither, and teach the network nothing towards ``owner_consistent``."""
        return (not judged.get("risk") and self._established(memo, ctx, facts)) or (
            self.conversing(judged))

    def conversing(self, session: Mapping[str, Any]) -> bool:
        """Whether a session has been answering its friends (``replies_trusted`` replies to
        people who wrote to it first): asked here by the detectors that weigh a session
        (sealed_bulk), so the number stays this detector's setting alone."""
        return session.get("replies", 0) >= self.cfg.replies_trusted

    def _doubted(self, memo: _Found, ctx: Context, facts: Facts,
                 judged: dict[str, Any]) -> bool:
        """Whether the message joins, and is judged by, the burst over the account's
        unproven sessions (``burst.measure``): its session is unfamiliar and nothing
        proves it the owner's (its replies do not, for its pitch: the site it gives each
        answerer, or a link once its account's unproven sessions linked ``pitch_ties``
        dormant ties: ``burst.pitched``), and it is not a reply (the recipient wrote first,
        which no intruder can make a contact do: a conversation is nobody's burst)."""
        return bool(judged.get("risk")) and (bool(self._pitch(memo, ctx, facts)) or not (
            self._vouching(memo, ctx, facts, judged))) and not self._answers(
            memo, ctx, facts, judged)

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
        memo = self._plan(ctx)
        return memo is not None and self._owner(memo, ctx, facts)

    def _owner(self, memo: _Found, ctx: Context, facts: Facts) -> bool:
        if memo.owner is None:
            memo.owner = self._owner_writing(memo, ctx, facts)
        return memo.owner

    def _owner_writing(self, memo: _Found, ctx: Context, facts: Facts) -> bool:
        """``owner_consistent``, worked out. The plan reads whether the recipients list
        the account back only for a message in the clear with no link to at most
        ``owner_people`` of them: where it read none, nothing is consistent. The contact
        list's size is asked last: the only part read for it (``read_more``), which an
        account not established yet, or a message to a stranger, never needs."""
        found, cfg, now = memo.plan, self.cfg, ctx.event.ts
        if not found.listed_back:
            return False
        assert found.contacts is not None
        known = self._record(memo, ctx, facts).profile(now)
        judged = self._session(memo, ctx, facts)
        client = judged.get("client", "")
        return (not ctx.account.restrict
                and (client in self.official or profile.familiar(
                    cfg, known.get("clients", {}), client, now))
                and all(facts[found.contacts])
                and all(facts[q][0] for q in found.listed_back)
                and self._established(memo, ctx, facts)
                and not session.scraped(cfg, judged.get("read", 0), _list_size(ctx, found,
                                                                                facts))
                and (not judged["risk"] or profile.written_from(
                    cfg, known, judged.get("net", ""), judged.get("login", now))))

    # -- signals -------------------------------------------------------------------------
    def detect(self, ctx: Context, facts: Facts) -> list[Signal]:
        memo = self._plan(ctx)
        if memo is None:
            return []
        event, message = ctx.event, ctx.message
        if message is None and type(event) is AccountInfo:
            return []
        if message is None and type(event) is Challenge:
            return [incidents.challenge_signal(event)]
        record = self._record(memo, ctx, facts)
        # Incidents are only ever inherited while the account has restrictions in force
        # (``incidents.inherited``): nearly every account has none, and no look at them.
        known = record.profile(event.ts)
        open_ = record.incidents(event.ts) if ctx.account.restrict else []
        judged = self._session(memo, ctx, facts)
        if message is not None:
            ctx.acting = judged.get("as", "")
            return self._message(memo, ctx, message, facts, known, judged, open_)
        if type(event) is Login:
            return self._login(event, ctx.account.restrict, known, judged, open_)
        assert type(event) is ContactsRead
        return self._contacts_read(event, facts, memo.plan, judged)

    def _login(self, event: Login, restrict: dict[str, Any] | None, known: dict[str, Any],
               judged: dict[str, Any], open_: list[dict[str, Any]]) -> list[Signal]:
        if not event.success:
            return []
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
        read = session.read(judged, event.count, size)
        if risk and session.scraped(self.cfg, read, size):
            return [Signal("CONTACTS_SCRAPED", risk, f"session '{event.session}' read "
                           f"{read} of {size} contacts")]
        return []

    def _message(self, memo: _Found, ctx: Context, event: Message, facts: Facts,
                 known: dict[str, Any], judged: dict[str, Any],
                 open_: list[dict[str, Any]]) -> list[Signal]:
        cfg, found, view, now, risk = self.cfg, memo.plan, ctx.view, event.ts, judged["risk"]
        assert found.contacts is not None
        out = [] if view is None else profile.behaviour(cfg, event, view,
                                                        self._script(memo, view), known)
        inherited = incidents.inherited(cfg, ctx.account.restrict, known, judged, judged.get(
            "as", event.session), open_) if open_ else None
        if inherited:
            out.append(inherited)
        familiar = not risk and session.trusted(cfg, known, judged, now) and self._established(
            memo, ctx, facts) and all(facts[found.contacts]) and len(
            _reciprocating(found, facts, event.account)) == len(found.contacts.members)
        broadcast = familiar and self._broadcast(memo, ctx, facts)
        if familiar and not broadcast:
            out.append(Signal("FAMILIAR_SENDER", 1.0, f"its usual app "
                              f"'{judged.get('client')}' on its usual network, to its "
                              "contacts"))
        elif self._owner(memo, ctx, facts):
            out.append(Signal("OWNER_CONSISTENT", 1.0, f"its app '{judged.get('client')}', "
                              "no contact list read, no link, to its contacts"))
        elif risk and not self._vouching(memo, ctx, facts, judged):
            # Doubt from the session itself, on every message and not only once a burst
            # shows: a hijacker inherits the contact list, and one that writes once per
            # burst window never bursts. No points: it only stops a mutual listing from
            # vouching for the words (``policy.py``).
            out.append(Signal("SESSION_UNFAMILIAR", risk, "sent from a session the "
                              "account does not use, not proven the owner's"))
        if broadcast and view is not None and view.calls:
            calling = burst.calling(cfg, memo.given, view.calls)
            if calling:
                out.append(calling)
        if not risk:
            # What a clean message's writes ask of it (``_learn``: ``_vouching``), judged
            # while reads are still made (``read_more``).
            self._established(memo, ctx, facts)
            return out
        read_more(ctx, found.risky())
        size = facts[found.contacts_n]
        scraped = session.scraped(cfg, judged.get("read", 0), size)
        client = judged.get("client") or "an unknown app"
        link = bool(keys.sites(view))
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
        dormant = self._dormant(memo, facts)
        room = memo.room
        # A site is the seller's however recently the account wrote to whom it goes to
        # (``burst.measure``'s ``spread``): each one on no popular list from ``pitch_ties``
        # people, a popular one (anyone's video, anyone's page) and links whatever the
        # sites (a site per pitch) from ``popular_share_ties``.
        spread = self._spread(memo, ctx, facts)
        # Its sets over the unproven sessions' life are read only when a recipient could
        # join them (a bot's link to strangers never can).
        life = None
        if found.spread and burst.spread_to(found, burst.pitchable(found, facts), None, room):
            read_more(ctx, found.spread)
            life = (cfg.pitch_ties, cfg.popular_share_ties)
        measured = burst.measure(found, facts, dormant, link, bool(
            dormant or (room and room.dormant)) and self._doubted(memo, ctx, facts, judged),
            room, spread, life)
        strength = ramp(measured.size, cfg.burst_soft, cfg.burst_hard)
        if not strength:
            return out
        # Encrypted, "one text" is as far as the server can tell: one size class.
        same_text = burst.repeating(found, facts) or (
            found.shape is not None and facts[found.shape] >= 1)
        own_app = profile.familiar(cfg, known.get("clients", {}), judged.get("client", ""), now)
        weighed = burst.Judged(
            risk, where, client, scraped, size, same_text, link, own_app,
            self._owner(memo, ctx, facts), event.encrypted, len(dormant),
            sum(facts[found.contacts]), judged.get("replies", 0), judged.get("read", 0),
            judged.get("login", now), self._record(memo, ctx, facts).sent(found.session, now),
            self._pitch(memo, ctx, facts) or (
                f"with links to {measured.spread} people" if measured.spread else ""))
        out.append(burst.signal(cfg, measured, weighed, strength))
        return out

    def _spread(self, memo: _Found, ctx: Context, facts: Facts) -> int:
        """The people from whom a risky session's message, sent not as the answer to one
        who asked (``_asked``), is a step of a spread pitch whoever its recipients are
        (``burst.measure``'s ``spread``; 0: none): ``pitch_ties`` for a site on no popular
        list; ``popular_share_ties`` for popular sites only, which vouch for what is
        shared, not for how far (``_unearned``): anyone publishes on Google Sites, and the
        seller's pitch there reached 28 of 40 friends (review, session 30)."""
        if memo.spread is None:  # the plan's sites (``keys.spread_sites``), not read again
            found = memo.plan
            memo.spread = 0 if not found.spread or self._asked(found, ctx, facts) else (
                self.cfg.pitch_ties if found.unlisted else self.cfg.popular_share_ties)
        return memo.spread

    def _asked(self, found: Plan, ctx: Context, facts: Facts) -> bool:
        """Whether a message with a link answers one who just wrote to the account
        (``Plan.heard``), so it is no step of a spread pitch's count per site
        (``burst.measure``): answered, not sought out (socks that list the owner and ask
        for her shop's link, ``test_attack_session29_review``). For one of the account's
        own ties (its list, or whom the owner wrote to: ``Plan.wrote``, which only a
        session proven the owner's teaches), only when they wrote unprompted: none of the
        account's unproven sessions had written to them first, not answering them
        (``keys.sought``). What a friend writes back to the session's own opener is the
        session's conversation, and the link as its reply is the session's message: the
        seller's openers to the friends the owner writes to ("long time! how are you?"),
        the pitch as each answer's reply (red team, session 30; past the burst window 15
        of 15 reached, session 31). A question nobody asked for is the friend's own, which
        no holder of the account can make them write: the owner's new laptop answering
        each customer who asked with one help page (5 of 8 held; session 31). Such answers
        still count for how far the session shares links (``keys.linked``)."""
        if found.heard is None or facts[found.heard] is None:
            return False
        assert found.contacts is not None and found.wrote is not None
        own = facts[found.contacts][0] or facts[found.wrote][1][0]
        if not own or found.sought is None:
            return True
        return not _later(ctx, facts, found.sought)[1][0]

    # -- what to remember ----------------------------------------------------------------
    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        memo = self._plan(ctx)
        if memo is None:
            return ()
        event = ctx.event
        if type(event) is Login and not event.success:
            return ()
        record = self._record(memo, ctx, facts)
        out = self._changes(memo, ctx, facts, outcome, record)
        if BATCH_COMMITS in ctx.batch:  # put when the batch ends (``finish``)
            changed = record.changed()
            if changed is not None:
                ctx.batch.setdefault(_PENDING, {})[event.account] = (changed, event.ts)
            return out
        put = record.put(event.ts)  # each event its own (shared state: Redis)
        if put is None:
            return out
        self._put(event.account, put, record.changed(), event.ts)  # type: ignore[arg-type]
        return [*out, put]

    def _put(self, account: str, put: Put, changed: dict[str, Any], then: float) -> None:
        """Keep the record put: its bytes, the record they were made of and the put's time
        (``_DECODED_KEPT``)."""
        kept = self._decoded
        kept.pop(account, None)
        kept[account] = (put.value, changed, then)
        if len(kept) > _DECODED_KEPT:
            del kept[next(iter(kept))]

    def finish(self, batch: dict[Hashable, Any]) -> list[tuple[float, Sequence[Write]]]:
        """Each record the batch changed, put at the time of its last change (as that
        event's own put would have been): the same bytes and expiry.

        A record that fails to encode is logged and left out alone: when each event put its
        own, such a failure lost that account's changes, never the batch's other accounts'
        (whose events are answered and committed all the same).

        Once put, they are no longer pending: a maintenance pass in the midst of the batch
        (``Engine._maintain``) then sweeps, and the batch's later events read the store as
        the sweep left it, as they would judged alone, not a record it dropped (which the
        batch's end would put back)."""
        out: list[tuple[float, Sequence[Write]]]
        cfg, out = self.cfg, []
        for account, (changed, then) in batch.pop(_PENDING, {}).items():
            try:
                put = put_of(account, changed, then, cfg.session_ttl, cfg.live_window,
                             self.restriction_ttl)
            except Exception:
                log.exception("failed putting the takeover record of %s", account[:80])
                continue
            self._put(account, put, changed, then)
            out.append((then, (put,)))
        return out

    def _changes(self, memo: _Found, ctx: Context, facts: Facts, outcome: Outcome,
                 record: Record) -> list[Write]:
        """The event's writes but the account's record, whose changes it makes in
        ``record`` (put once, by ``writes``)."""
        event, now, cfg, found = ctx.event, ctx.event.ts, self.cfg, memo.plan
        message = ctx.message  # nearly every event: asked first
        if message is None and type(event) is AccountInfo:
            record.set_profile(profile.told(cfg, record.profile(now), event), now)
            return []
        if message is None and type(event) is Challenge:
            return incidents.challenge_writes(cfg, event, facts[found.restrictions],
                                              self.restriction_ttl,
                                              outcome.account_action != "none", record)
        judged = dict(self._session(memo, ctx, facts))  # what this event adds, stored
        out: list[Write] = []
        if judged.get("net"):
            record.touch_live(judged["net"], now, cfg.live_cap)
        if outcome.account_action != "none" and judged.get("risk"):
            incidents.add_incident(cfg, event, record, judged)
        if message is not None:
            self._message_writes(memo, ctx, message, facts, outcome, judged, out)
            self._learn(memo, ctx, message, facts, outcome, record, judged, out)
        elif type(event) is Login:
            known = dict(record.profile(now))
            judged.update(login=event.ts, client=event.client.id)
            known["last"] = event.ts  # a sign-in alone teaches no network or app
            if "CHALLENGE_PASSED" in outcome.signals:
                # The owner proved it: its account-wide restrictions go, this network and
                # app are familiar from now on; the incident's sessions stay suspended.
                out.append(accounts.after_challenge(event.account, facts[found.restrictions],
                                                    self.restriction_ttl, now))
                profile.remember(cfg, known, "nets", judged["net"], event.ts,
                                 cfg.max_networks, proven=True)
                profile.remember(cfg, known, "clients", event.client.id, event.ts,
                                 cfg.max_clients, proven=True)
            record.set_profile(known, now)
        elif type(event) is ContactsRead:
            judged["read"] = session.read(judged, event.count, facts[found.contacts_n])
        if event.session:  # type: ignore[union-attr]  # (events with a session: this detector plans no other kind)
            record.set_session(judged.pop("as", event.session), judged, now,  # type: ignore[union-attr]  # (events with a session: this detector plans no other kind)
                               cfg.max_sessions, cfg.replies_trusted)
        return out

    def _learn(self, memo: _Found, ctx: Context, event: Message, facts: Facts,
               outcome: Outcome, record: Record, judged: dict[str, Any],
               out: list[Write]) -> None:
        """What a delivered message teaches: the session's delivered count, and from a
        clean one the profile's habits and, when the owner wrote it, whom it writes to."""
        cfg, now, found, view = self.cfg, event.ts, memo.plan, ctx.view
        if outcome.action not in RECEIVED:
            return
        record.count_sent(found.session, now, cfg.max_sessions)
        if (judged.get("risk") and not judged.get("proven") and not self.conversing(judged)
                and keys.sites(view)):
            record.count_sent(found.session, now, cfg.max_sessions, sited=True)
        if not _AGAINST.isdisjoint(outcome.signals):
            return  # not clean: it teaches nothing else
        vouched = _reciprocating(found, facts, event.account)
        assert found.reciprocated is not None and found.wrote is not None
        invite = type(event) is Invite
        if vouched and not invite:
            out.append(Touch(found.reciprocated.key, vouched, accounts.TALKED_TTL,
                             cfg.trusted_correspondents, keys.RECIPROCATED))
        # The one-way record is the owner's writing: an intruder's bland lines from its
        # own sessions (one contact each, never a burst) would turn the whole list into
        # active ties for its burst the next day.
        vouching = self._vouching(memo, ctx, facts, judged)
        owners = not judged.get("risk") or vouching  # what the owner wrote, provably
        if owners and not invite and len(
                ctx.to) <= accounts.MAX_TALKED_FANOUT:
            out.append(Touch(found.wrote.key, ctx.to, accounts.TALKED_TTL,
                             accounts.TALKED_CAP, keys.WROTE))
        if view is None:
            return
        assert found.contacts is not None and found.talked is not None
        own_people = all([c or t for c, t in zip(facts[found.contacts], facts[found.talked],
                                                 strict=True)])
        known = dict(record.profile(now))
        # The session's network and app are learnt on the owner's word only: a session
        # with nothing against it or answering its friends (``_vouching``), or a reply to
        # someone who wrote first (``burst.answers``: the side no intruder can write, each
        # of a new phone's first replies as much as its later ones). An intruder's bland
        # lines from its own servers, one fresh session each (no burst), made them familiar
        # the next day, and its blast from there was then the owner's own (red team,
        # session 25).
        learnt = own_people and (owners or self._answers(memo, ctx, facts, judged))
        profile.learn(cfg, known, event, view, self._script(memo, view),
                      judged if learnt else None)
        if own_people and vouching:
            profile.remember(cfg, known, "owned", judged.get("net", ""), now, cfg.max_networks)
        record.set_profile(known, now)

    def _link(self, memo: _Found, ctx: Context, facts: Facts, dormant: tuple[str, ...]) -> None:
        """A risky session's link to ``dormant`` ties, kept in the record's links
        (``burst.linked_writes``)."""
        record, now, cfg = self._record(memo, ctx, facts), ctx.event.ts, self.cfg
        new = burst.linked_writes(cfg, memo.plan, dormant, record.links(now))
        if new:
            record.touch_links(new, now, max(1, cfg.pitch_ties))

    def _message_writes(self, memo: _Found, ctx: Context, event: Message, facts: Facts,
                        outcome: Outcome, judged: dict[str, Any], out: list[Write]) -> None:
        """A session's burst, text and delivery counts; replies earned; who heard from it."""
        cfg, found = self.cfg, memo.plan
        assert found.burst is not None and found.doubted is not None
        assert found.contacts is not None and found.talked is not None
        assert found.life is not None and found.pals is not None
        dormant = self._dormant(memo, facts)
        room = memo.room
        if room is not None and room.dormant:  # the room is one target (``rooms``)
            dormant = (*dormant, room.token)
        members = found.contacts.members
        risky = bool(judged.get("risk"))
        pals = tuple(p for p, t in zip(members, facts[found.talked], strict=True)
                     if t) if risky else ()
        doubted = bool(dormant) and self._doubted(memo, ctx, facts, judged)
        if dormant:
            out.append(Touch(found.burst.key, dormant, cfg.burst_window, cfg.burst_cap))
            if doubted:
                out.append(Touch(found.doubted.key, dormant, cfg.burst_window, cfg.burst_cap))
        if risky:  # the slow burst is only judged where the burst is
            # The account's unproven sessions together (``keys.unproven``): the dormant ties
            # of the messages that join their burst and reached them (what a held burst sent
            # is that session's, already stopped, never the next one's: the owner back after
            # a contained intrusion writes on), the correspondents of all (a session's own
            # slow burst never counts more than theirs).
            unproven = keys.unproven(event.account)
            lives = (found.life.key, unproven) if doubted and outcome.action in RECEIVED else (
                found.life.key,)
            out.extend(Touch(key, dormant, cfg.session_ttl, cfg.burst_cap, keys.LIFE)
                       for key in lives if dormant)
            out.extend(Touch(key, pals, cfg.session_ttl, cfg.burst_cap, keys.PALS)
                       for key in (found.life.key, unproven) if pals)
        # Whom a pitch counts (``burst.pitchable``): asked once, by a link's two sets.
        ok = burst.pitchable(found, facts) if found.text_to is not None or (
            risky and found.spread) else ()
        if found.text_to is not None:  # a link: only one with a link asks (``plan``)
            listed = tuple(p for p, c in zip(members, ok, strict=True)
                           if c and not (room and p in room.people))
            if room is not None and room.listed:
                listed = (*listed, room.token)
            if listed:
                out.append(Touch(found.text_to.key, listed, cfg.burst_window, cfg.burst_cap,
                                 found.text_to.side))
        if risky:
            self._link(memo, ctx, facts, dormant)
            # A spread pitch's people, over the unproven sessions' life (``burst.measure``):
            # what reached them, as ``unproven``'s life keeps (a held pitch is stopped).
            reached = outcome.action in RECEIVED
            people = burst.spread_to(found, ok, None, room) if (
                found.spread and reached) else ()
            if people:  # each site's people but for a reply to one who asked (``_spread``)
                sets = found.spread if self._spread(memo, ctx, facts) else found.spread[:1]
                out.extend(Touch(tally.key, people, cfg.session_ttl, cfg.burst_cap, tally.side)
                           for tally in sets)
            if reached and (found.heard is None or facts[found.heard] is None):
                # Whom they wrote to first: what these write next answers the session.
                out.append(Touch(keys.sought(event.account), found.burst.members,
                                 cfg.session_ttl, cfg.burst_cap, keys.LIFE))
        elif memo.shares:  # an earned network's popular share, whatever the verdict
            assert found.shares is not None
            out.append(Touch(found.shares.key, memo.shares, cfg.pitch_trust_after,
                             cfg.popular_share_ties, keys.LIFE))
        if found.same_text is not None:  # only a text with a fingerprint is asked again
            out.append(Incr(found.same_text.key, 1.0, cfg.burst_bucket, cfg.burst_window))
        if found.shape is not None:
            out.append(Incr(found.shape.key, 1.0, cfg.burst_bucket, cfg.burst_window))
        if self._answers(memo, ctx, facts, judged):
            judged["replies"] = judged.get("replies", 0) + 1
        # Who heard from the account is the recipients' ties (``accounts.heard``): the
        # engine touches them on the conditions this put ``tk:heard:`` on (session 36).


def _standing(ctx: Context) -> tuple[Get, Distinct]:
    """``plan.standing`` of the event's account, made once a batch for its events
    (``shared``): ``plan_established``, ``plan_session`` and the judgements they serve."""
    account = ctx.event.account
    return shared(ctx, ("takeover", "standing", account), standing, account)


def _later(ctx: Context, facts: Facts, query: Query) -> Any:
    """The answer to a deferred ``query``, read when the judgement comes to it
    (``read_more``)."""
    read_more(ctx, (query,))
    return facts[query]


def _vouched(ctx: Context, found: Plan, facts: Facts) -> int:
    """The account's vouching correspondents (``session.established``), read when its
    judgement comes to them: an account known for long enough never does."""
    if found.reciprocated is None:  # not a message: nobody vouches
        return 0
    return _later(ctx, facts, found.reciprocated)


def _list_size(ctx: Context, found: Plan, facts: Facts) -> int:
    """The contact list's size, read when the judgement comes to it (``owner_consistent``
    once all else of the message is consistent)."""
    return _later(ctx, facts, found.contacts_n)


def _popular(sites: Iterable[str]) -> bool:
    """Whether every site a message sends people to (``keys.sites``; none: True) is on the
    popular list (``lists.well_known``): what friends share, never a seller's own."""
    popular = lists.well_known()
    return all(site in popular for site in sites)


def _reciprocating(found: Plan, facts: Facts, account: str) -> tuple[str, ...]:
    """The recipients whose own acts vouch for their tie to the account: they list it back,
    or (the one recipient) wrote to it within ``reply_window``. What the account can make
    alone, its own list or its own lines, never counts: a bot lists its targets, and
    writes to them first. Nor the account itself, whose list and lines are its own: its
    notes to itself, or itself on its own list, were one of ``trusted_correspondents``'
    three vouching correspondents for free (review36a)."""
    assert found.contacts is not None
    if found.heard is not None and facts[found.heard] is not None:
        return found.contacts.members  # one recipient, never the account (``plan``)
    return tuple([p for p, q in zip(found.contacts.members, found.back, strict=False)
                  if facts[q][0] and p != account])


def build(given: dict[str, Any], config: Config) -> TakeoverDetector:
    return TakeoverDetector(given, config)

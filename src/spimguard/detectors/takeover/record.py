"""The takeover detector's per-account record: everything it keeps about an account that
every event of the account reads, as one value read once and written once per event.

It used to be a key per part (the profile, each session's facts, the live networks,
the incidents, each session's delivered messages), read together by every event and
each rewritten by most: ~five reads and four writes a message, and in a store ~150
bytes (memory) or ~100 (Redis) of key, entry and expiry per key before any data.

Each part keeps the expiry its key had, in event time, checked on every read, so an
answer is what the separate keys gave whatever the record's own TTL or when a write
last pruned it:

- ``p``, the profile (``profile``: networks, clients, habits), and ``pt``, when it
  was last written: gone ``PROFILE_TTL`` after;
- ``s``, each session's facts by session id, ``[client, network, sign-in time, contacts
  read, risk, dormant, replies, written, proven]``: each gone ``session_ttl`` after it was last
  written. At most ``max_sessions`` (an account's own devices are a handful; session ids
  are the client's choice, so an intruder minting one per message must not grow the
  record without bound): a write past it drops the least recently written of the
  sessions without standing, those neither familiar (risk 0) nor answering friends
  (``replies_trusted`` replies), and only when all have standing the least recent of
  all. So sessions minted by the dozen cannot push out what the owner's earned. A
  dropped session that comes back is judged as new from its next event (its facts are
  taken again from the message, against the profile as it stands);
- ``l``, the networks of the live sessions with their last activity: each gone
  ``live_window`` after; at most ``live_cap`` (the stalest dropped);
- ``i``, ``[written, incidents]``: gone ``restriction_ttl`` after the last incident
  written (the restrictions they explain last that long);
- ``n``, messages each session delivered (or warned), ``[[hour, count], ...]`` by session
  (a stand-in's too: ``origin.stand_in``): only the last 24 hours count. At most
  ``max_sessions`` sessions (the least recently counted dropped): only a notice's detail
  reads it;
- ``w``, messages with a site (``keys.sites``) each unproven session delivered (or
  warned), as ``n`` counts them (``SENT``'s window, ``max_sessions``): the pitches among
  them (``sent_unproven``, ``unproven33``). Only sessions unproven when they sent (risky,
  not proven, not answering their friends): a proven phone's links are no pitch;
- ``k``, the dormant ties the account's unproven sessions sent a link to, with when
  (``burst.pitched``), as the member set it was (``tk:text:<account>:%links`` until
  session 28): each gone ``session_ttl`` after its last touch, at most ``pitch_ties``
  (a touch past it drops the oldest, by time then name). Four names at most, on ~5 % of
  accounts: its own key cost ~15 bytes an account in memory, ~10 in Redis, on average.

Whom the owner wrote to (its one-way record, a side of the account's ties) stays a member
set, though every message reads it with the record: it holds up to 2,000 names of up to
512 characters, which a value rewritten with every event would rewrite whole (up to
~1 MB an event, chosen by whoever sends from the account), where a set's touch costs
the recipients it adds. So do whom a session wrote to over its life (``keys.lifelong``,
up to ``burst_cap`` names a side), for the same reason.

Nor would writing only the parts an event changed spare much: nearly every message
changes four of the five (the live networks, the session, its delivered count, the
profile: 9,570 of 10,686 puts on the mixed load of 300 users), and the fifth, the
incidents, is nearly always empty.

**Stored form.** What a store holds is bytes (``_encode``: msgpack, kept as they are by
every backend, ``state.ops.Put``), not the dict the methods work on (``decode``): a list
of the parts in a fixed order, no field names; every string the record repeats (a
network, an app, a session id) held once in a table and named by its index, and so is
every number that is not a count (times, risks), held once as the double it is, so a
sign-in compared with a message's time, or an expiry with an event's, decides as it did
(an account's times repeat: one event writes the same time in several parts); domain
tags as 4 bytes each until v6 (a flag since). The numbers' table (v4, session 29:
``_sixes``) is each double's low six bytes under the first's top two, a number of another
top with its own, and a
familiar session's risk of +0.0 is the index -1 (``_ZERO``), in no table: ~240 bytes for
an account of three days' ordinary life, where v3's doubles took ~260 and the v2 form's
JSON ~450. An earlier release fails on a v4 table (it reads it as doubles: a
``TypeError``) rather than reading -1 as its table's last number. Until v6 the version
came first, or, in a record with links (``k``), a list of the version and the links: a
release before session 28 ignores that slot, so it reads such a record (without its
links) and does not fail on it. ``w`` (session 33), when there is one, trails the
list: a release before it fails on such a record (ten parts where it unpacks nine), and
reads every other as before. So does the profile's hour histogram stored sparse (session
34, ``histogram.stored``: ~10 bytes an account), an eleventh part of the profile where a release
before unpacks ten. v5 (session 35) holds each network's address in the strings' table
as its leading 3 or 6 bytes (``_stored_name``: ~9 bytes an account) and the hour the
delivered counts count back from as its difference from the first number's (``_base_hour``:
4), and swaps the numbers' table's first two items so that a release before it fails on
the record (``_sixes``) rather than misreading either. v6 (session 37, ``records37``)
holds what v5 held less what no reader reads or another field says (~9.5 bytes an
account, in every store): the profile's domain tags, of which ``profile.behaviour`` reads
only whether there are any, as the flag ``linked`` (1 byte where ~1.4 tags took ~7.6);
the profile's written time's index, always the numbers' table's first (1); each top as its
difference from ``_TOP_BASE``, which an event time's is plus 0-15 (1 byte where 3); and
the version: a v6 record starts with the byte 0xc1, which msgpack never uses, then the
list of its parts, ``w`` and then ``k`` trailing when held (an empty ``w`` before a ``k``),
so every earlier release fails its first decode on every v6 record (a detector error,
loud) rather than reading a flag as tags or a part one place off. The earlier forms are
read as they are (written back in this one with the next change): v5 (the version first,
or ``[5, *links]``; the tops whole; the tags), v4 (the strings all text, the hour itself,
the table's top first), v3 (the table as doubles, eight bytes a number), the v2 list
(JSON: the same table of strings, times as whole ticks of 2**-22 s before the put's
time), and the dict before it (its tags read as ``linked`` too).

**Not decoded after its own put.** The detector starts the account's next event, in the
batch or a later one, from the record as the event that put it left it (``changed``: what
has expired still in, each read checking it at its own event's time) when that event
reads the very bytes and is not earlier than the put (``detector._record``); nothing is
decoded, and the encoding makes nothing but the bytes (making the decoded form with them
was ~40 % of an encode, which the server's batches of one make at nearly every event).
"""

from __future__ import annotations

import ipaddress
import math
import struct
from array import array
from collections.abc import Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

import msgspec
from msgspec.structs import astuple

from ... import accounts
from ...state.ops import Count, Put, bucket_range, key_part, lodged_keyspace
from . import histogram, keys

PROFILE_TTL = 400 * 86_400.0  # a profile unused this long is dropped
SENT = Count("", 86_400.0, 3_600.0)  # a session's delivered messages: 24 h, by the hour

# A session's entry: [client, net, login, read, risk, dormant, replies, written, proven].
_WRITTEN, _PROVEN = 7, 8
_WRITTEN_AT = itemgetter(_WRITTEN)  # (``Record.set_session``)
_VERSION = 5  # the last form that starts with its version (``_decode``)
# What a v6 record starts with: the one byte msgpack never uses (``_encode``).
_LEAD = b"\xc1"
_TICK = 4_194_304  # 2**22: ticks a second (the v2 stored form's times)
_ENCODER, _DECODER = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder()


class _Stored(msgspec.Struct, array_like=True, gc=False):
    """What a v6 record's list holds after its lead byte (``_encode``), as ``_decode``
    reads it: each part that ``_decode`` only walks a tuple, which msgspec makes in one
    allocation where a list takes two, and whose slice of a whole entry is the tuple
    itself (an ordinary account's parts hold one entry each); ``w`` and ``k`` empty when
    not held. What passes into the decoded record as it is (the profile's ``cidrs``, its
    hours) is copied to a list there, so the record is what it was (``record44``)."""

    hour: int
    names: list[Any]  # (written in place: a network's bytes as its text)
    packed: tuple[Any, ...]
    profile: tuple[bool | int | float | str | tuple[Any, ...] | None, ...] | None
    sessions: tuple[Any, ...]
    live: tuple[Any, ...]
    incidents: tuple[Any, ...]
    sent: tuple[tuple[Any, ...], ...]
    sited: tuple[tuple[Any, ...], ...] = ()
    links: tuple[Any, ...] = ()


_V6 = msgspec.msgpack.Decoder(_Stored)
_TOP = struct.Struct("<H")  # a double's top two bytes (``_numbers``)
# What v6 stores a top as its difference from (``_sixes``): the top of every double in
# [2**30, 2**31) s (2004 to 2038) is this plus 0-15, so an event time's top is one byte.
_TOP_BASE = 0x41D0
# A first number of the numbers' table this far from 0 or more is no event's time: its hour is
# no base for the put's (``_base_hour``), whose difference from it must stay a 64-bit number.
_HOURS_FROM = float(1 << 53)
_BUCKET, _WINDOW = SENT.bucket, SENT.window  # (``_encode``: ``bucket_range``'s sums inline)
_ZERO = -1  # a risk of +0.0 (a familiar session's), named without the table (``_numbers``)
# The profile's fields in their stored order, and how each is stored.
_PROFILE = ("last", "msgs", "nets", "clients", "owned", "cidrs", "linked", "scripts", "hours")
_PROFILE_SET = frozenset(_PROFILE)
_SEEN_ORDER = ("nets", "clients", "owned")  # {name: [first, last, uses]}, order kept
_SEEN = frozenset(_SEEN_ORDER)


# Kept in Redis inside the account's ties hash (``ops.lodged_keyspace``): a key of its own
# cost ~250 bytes beside the record's ~270. The detector's other keys under "tk:" are not it.
_KEY = lodged_keyspace("tk:", accounts.tie_record(""), field="t", besides=keys.OTHERS)


# What an id may not start with to be written as it is after "tk:": the rest of the
# detector's prefixes there (``keys.OTHERS``), and "%", which starts every id written so.
_RESERVED = (*(other.removeprefix(_KEY) for other in keys.OTHERS), "%")
# Their first characters: an id starting with none (every Matrix and XMPP id) is written
# as it is without the twelve prefixes' test (``key``).
_RESERVED_FIRST = frozenset(reserved[:1] for reserved in _RESERVED)
assert "" not in _RESERVED_FIRST, "an empty prefix reserves every id: test them all"


def key(account: str) -> str:
    """"tk:" and the id, unless the id starts like one of the detector's other keys under
    "tk:" or with "%": then "%" and the id written with no ":" (``ops.key_part``).

    Why: the generic API takes any id, and written as it is an account named
    ``heard:@a:s`` had ``tk:heard:@a:s`` for its record, @a's "heard from s" key: its
    events read a float as their record and failed the detector (no takeover evidence
    for the account at all), and its record's put overwrote @a's. Written so, a key is
    one id's: an id kept as it is starts with neither, a written one starts with "%" and
    holds no ":", so it starts with no other prefix either, and ``key_part`` is
    one-to-one. Ids of Matrix ("@...") and XMPP never start so: their keys are as before."""
    if account[:1] in _RESERVED_FIRST and account.startswith(_RESERVED):
        return f"{_KEY}%{key_part(account)}"
    return _KEY + account


class Record:
    """One account's record as read (never changed: answers are shared), and what an
    event changes in it, put back with ``put``."""

    __slots__ = (
        "_account",
        "_changed",
        "_incident_ttl",
        "_live_window",
        "_profile",
        "_profile_at",
        "_raw",
        "_session_ttl",
    )

    def __init__(self, account: str, stored: Any, session_ttl: float,
                 live_window: float, incident_ttl: float, decoded: bool = False) -> None:
        """``stored``: as a read gave it (``decode``), or ``decoded``: a record this
        process decoded or changed (``changed``), whose hours are no longer the dict
        form's 24 counts (``histogram``)."""
        self._account = account
        self._raw = stored if decoded else decode(stored)
        self._changed: dict[str, Any] = {}
        self._session_ttl = session_ttl
        self._live_window = live_window
        self._incident_ttl = incident_ttl
        # ``profile``'s last answer and its time: an event asks it ~4 times, at its own time.
        self._profile_at: float | None = None
        self._profile: dict[str, Any] = {}

    # -- reads -----------------------------------------------------------------------
    def profile(self, now: float) -> dict[str, Any]:
        if now != self._profile_at:
            written = self._raw.get("pt")
            self._profile = self._raw["p"] if written is not None and (
                written + PROFILE_TTL > now) else {}
            self._profile_at = now
        return self._profile

    def session(self, session: str, now: float) -> dict[str, Any] | None:
        """A session's facts as ``session.session_facts`` makes them, or None."""
        entry = self._raw.get("s", {}).get(session)
        if entry is None or entry[_WRITTEN] + self._session_ttl <= now:
            return None
        return {"client": entry[0], "net": entry[1], "login": entry[2], "read": entry[3],
                "risk": entry[4], "dormant": bool(entry[5]), "replies": entry[6],
                "proven": bool(entry[_PROVEN])}

    def familiar_since(self, since: float) -> list[tuple[str, str, str]]:
        """The sessions judged familiar (risk 0) last written after ``since``, each as
        ``(id, client, network)``, in the record's order: the sessions whose messages
        ``FAMILIAR_SENDER`` vouches for (``TakeoverDetector._broadcast``)."""
        return [(s, e[0], e[1]) for s, e in self._current("s").items()
                if not e[4] and e[_WRITTEN] > since]

    def crowded(self, since: float, cap: int) -> bool:
        """Whether each of the ``cap`` (``max_sessions``) sessions the record keeps was last
        written after ``since``: the one state in which a session written after ``since``
        can have been dropped. ``set_session`` drops an entry only when ``cap`` are kept,
        keeping the ``cap - 1`` last by standing, then time, each written no earlier than
        the one it dropped; an entry is rewritten later, never earlier, and none written
        after ``since`` (a burst window ago) lapses within ``session_ttl``. Otherwise
        ``familiar_since`` names every familiar session written after ``since``."""
        entries = self._current("s")
        return len(entries) >= cap and all(e[_WRITTEN] > since for e in entries.values())

    def live(self, now: float) -> dict[str, float]:
        """The networks of the account's live sessions, with their last activity (a dict of
        the caller's own). Nearly always none has lapsed (an account's sessions write
        within ``live_window`` of each other): then a copy, made in C, where a comprehension
        was a function's frame and a step a network (event times are finite: ``events``)."""
        held = self._raw.get("l")
        if not held:
            return {}
        cutoff = now - self._live_window
        if min(held.values()) > cutoff:
            return dict(held)
        return {net: ts for net, ts in held.items() if ts > cutoff}

    def incidents(self, now: float) -> list[dict[str, Any]]:
        """Each open incident, ``{"session", "since", "net", "range", "family"}``."""
        entry = self._raw.get("i")
        return entry[1] if entry and entry[0] + self._incident_ttl > now else []

    def links(self, now: float) -> dict[str, float]:
        """The live ``k`` as read (this event's touch not in it), each with its time: as its
        set's Tally answered (alive while touched less than ``session_ttl`` ago)."""
        cutoff = now - self._session_ttl
        return {p: ts for p, ts in self._raw.get("k", {}).items() if ts > cutoff}

    def sent(self, session: str, now: float) -> float:
        first, last = bucket_range(SENT, now)
        return float(sum(n for hour, n in self._raw.get("n", {}).get(session, ())
                         if first <= hour <= last))

    def sent_unproven(self, session: str, now: float, replies_trusted: int) -> float:
        """The messages with a site (``w``) of ``session`` and of the account's other
        sessions in the window that nothing proved (risky, not proven, not answering its
        friends; or no longer in ``s``: familiar sessions are the last dropped from it):
        the pitches the account's unproven sessions delivered, however many session ids
        they came by; not a new phone's "it's me" lines (``unproven33``)."""
        first, last = bucket_range(SENT, now)
        entries = self._raw.get("s", {})
        total = 0
        for s, buckets in self._raw.get("w", {}).items():
            entry = entries.get(s)
            if s != session and entry is not None and (
                    not entry[4] or entry[_PROVEN] or entry[6] >= replies_trusted):
                continue
            total += sum(n for hour, n in buckets if first <= hour <= last)
        return float(total)

    # -- changes ---------------------------------------------------------------------
    def set_profile(self, profile: dict[str, Any], now: float) -> None:
        self._changed["p"], self._changed["pt"] = profile, now

    def set_session(self, session: str, facts: dict[str, Any], now: float, cap: int,
                    replies_trusted: int) -> None:
        get = facts.get  # nine asks: the method looked up once, flags 1 or 0 with no call
        entry = [get("client", ""), get("net", ""), get("login", now), get("read", 0),
                 get("risk", 0.0), 1 if get("dormant") else 0, get("replies", 0), now,
                 1 if get("proven") else 0]
        # The others still alive, in their order: nearly always all of them (an account's
        # few devices write within ``session_ttl``), a copy made in C then, where a
        # comprehension was a function's frame and a step a session.
        cutoff = now - self._session_ttl
        kept = dict(self._current("s"))
        kept.pop(session, None)
        if kept and min(map(_WRITTEN_AT, kept.values())) <= cutoff:
            kept = {s: e for s, e in kept.items() if e[_WRITTEN] > cutoff}
        if len(kept) >= cap:
            kept = _newest(kept, cap - 1, lambda e: (
                not e[4] or e[6] >= replies_trusted, e[_WRITTEN]))
        kept[session] = entry  # a dict of this call's own, ``_newest``'s too
        self._changed["s"] = kept

    def touch_live(self, net: str, now: float, cap: int) -> None:
        changed = self._changed.get("l")
        live = self.live(now) if changed is None else dict(changed)  # one of its own
        held = live.get(net)
        live[net] = now if held is None or held < now else held  # ``max``'s, without a call
        self._changed["l"] = live if len(live) <= cap else _capped(live, cap, _itself)

    def set_incidents(self, incidents: list[dict[str, Any]], now: float) -> None:
        self._changed["i"] = [now, incidents]

    def count_sent(self, session: str, now: float, cap: int, sited: bool = False) -> None:
        """One more delivered message of ``session`` in the hour of ``now`` (``sited``: in
        ``w``, the count of its messages with a site); the hours past the window dropped,
        the other sessions' as well.

        A message is counted on nearly every event, so this is O(buckets) with nothing
        rebuilt that is kept as it was: buckets are in hour order (each list is made so),
        so a list whose first hour is live is kept whole, the same list, and the session's
        own count is its last bucket's (or a new last one; an hour earlier than the last,
        from an event out of order, goes in its place)."""
        part = "w" if sited else "n"
        first, hour = bucket_range(SENT, now)
        held = self._current(part)
        mine = held.get(session) or []
        if mine and mine[0][0] < first:
            mine = [b for b in mine if b[0] >= first]
        if mine and mine[-1][0] == hour:
            mine = [*mine[:-1], [hour, mine[-1][1] + 1]]
        elif not mine or mine[-1][0] < hour:
            mine = [*mine, [hour, 1]]
        else:  # out of order: an earlier hour than the session's last
            counts: dict[int, int] = dict(map(tuple, mine))
            counts[hour] = counts.get(hour, 0) + 1
            mine = [[b, counts[b]] for b in sorted(counts)]
        # The other sessions' only when there are any: nearly every account counts one
        # session's messages (2,445 of 2,601 counts on the mixed load; 153 none), and the
        # loop, its dict and ``_newest`` were a third of a count.
        kept = _newest(_live_others(held, session, first), cap - 1, _last_hour) if len(
            held) > (session in held) else {}
        kept[session] = mine  # a dict of this call's own (``_live_others``, ``_capped``)
        self._changed[part] = kept

    def touch_links(self, people: tuple[str, ...], now: float, cap: int) -> None:
        """``people`` touched in ``k`` at ``now`` as a member set's ``Touch`` with a TTL of
        ``session_ttl`` and ``cap``: a time only moves forward, the expired are dropped,
        then the oldest past ``cap`` (by time, then name: a sorted set's order)."""
        cutoff = now - self._session_ttl
        live = {p: ts for p, ts in self._current("k").items() if ts > cutoff}
        for p in people:
            held = live.get(p)
            live[p] = now if held is None or held < now else held
        self._changed["k"] = _newest(live, cap, _itself)

    def put(self, now: float) -> Put | None:
        """The record with this event's changes, what has expired left out; None when the
        event changed nothing."""
        changed = self.changed()
        if changed is None:
            return None
        return put_of(self._account, changed, now, self._session_ttl, self._live_window,
                      self._incident_ttl)

    def changed(self) -> dict[str, Any] | None:
        """The record with this event's changes as the methods work on it, what has expired
        still in (each read checks it); None when the event changed nothing."""
        return {**self._raw, **self._changed} if self._changed else None

    def _current(self, part: str) -> dict[str, Any]:
        return self._changed[part] if part in self._changed else self._raw.get(part, {})


def put_of(account: str, record: dict[str, Any], now: float, session_ttl: float,
           live_window: float, incident_ttl: float) -> Put:
    """The put of ``record`` (``Record.changed``) at ``now``, what has expired left out."""
    stored, end = _encode(record, now, session_ttl, live_window, incident_ttl)
    return Put(key(account), stored, end - now)


def _newest(entries: dict[str, Any], cap: int, when: Any) -> dict[str, Any]:
    """At most ``cap`` of ``entries``, those last by ``when`` (ties: by name).

    Nearly every call (~1.8 an event) is within ``cap``: that path makes no cell and no
    function object (the capping's comprehensions, whose variables were cells made at
    every call, are ``_capped``'s), nor do its callers (``when`` is a module's function,
    not a lambda made at each call)."""
    if len(entries) <= cap:
        return entries
    return _capped(entries, cap, when)


def _capped(entries: dict[str, Any], cap: int, when: Any) -> dict[str, Any]:
    """``_newest`` past its cap: the last ``cap`` by ``when``, then name, in their order."""
    kept = set(sorted(entries, key=lambda name: (when(entries[name]), name))[-cap:]
               if cap > 0 else ())
    return {name: entries[name] for name in entries if name in kept}


def _live_others(held: dict[str, list[list[int]]], session: str, first: int
                 ) -> dict[str, list[list[int]]]:
    """The sessions of ``held`` but ``session`` with a bucket from hour ``first`` on, each
    with those buckets (in hour order, so a list whose first is live is kept whole)."""
    others: dict[str, list[list[int]]] = {}
    for s, buckets in held.items():
        if s == session:
            continue
        live = buckets if not buckets or buckets[0][0] >= first else [
            b for b in buckets if b[0] >= first]
        if live:
            others[s] = live
    return others


def _itself(ts: float) -> float:
    """A time as ``_newest`` orders it (``l``, ``k``: name -> last time)."""
    return ts


def _last_hour(buckets: list[list[int]]) -> int:
    """A session's last counted hour, as ``_newest`` orders ``n`` and ``w``."""
    return buckets[-1][0]



# -- the stored form ---------------------------------------------------------------------
# Every event of an account decodes its record and most encode it again, so these two
# are written for speed: flat lists walked with one iterator, strings and numbers named
# through their table's own ``setdefault``.
def decode(stored: bytes | list[Any] | dict[str, Any] | None) -> dict[str, Any]:
    """A stored record (``_encode``'s bytes, or an earlier form: the v2 list, the dict) as
    the dict ``Record`` works on; expired parts included (``Record`` checks each on
    reading)."""
    if stored.__class__ is bytes:
        return _decode(stored)
    if stored.__class__ is list:
        return _decode_v2(stored)
    fields = stored.get("p") if stored else None  # type: ignore[union-attr]  # (a dict)
    if fields and ("domains" in fields or "hours" in fields):
        # The dict form held the domain tags, and the hours as the day's 24 counts.
        kept = {field: value for field, value in fields.items() if field != "domains"}
        if "hours" in kept:
            kept["hours"] = histogram.of(kept["hours"])
        return {**stored, "p": {**kept, "linked": True} if fields.get("domains") else kept}  # type: ignore[dict-item]  # (a dict)
    return stored or {}  # type: ignore[return-value]


def _decode(stored: bytes) -> dict[str, Any]:
    """``_encode``'s bytes (or v5's and before) as ``decode``'s dict.

    Why loops in this function's own frame, each flat part walked by slices of its
    entries' size (``range``'s step), and no comprehension nor ``zip``: a platform's event
    decodes its sender's record nearly every time (``detector._DECODED_KEPT`` holds a few
    thousand of 100 million accounts), and on a record of an ordinary account (a session,
    a network, a client, a day's hours) the fixed costs were most of it: in Python 3.11
    each comprehension makes a function object and a frame (~1,000 instructions, ~nine a
    record), each ``zip(..., strict=True)`` parses its keyword (~1,300 with the rest, ~five
    a record): ~104,400 instructions a record of the mixed load, ~77,000 so; ~71,900 with
    v6's parts read as tuples (``_Stored``: one allocation a part); ~64,100 with a part of
    one entry, an ordinary account's one session, network or client, unpacked as itself
    (``(flat,)``: no ``range``, iterator or slice; a part of several is cut by
    ``_entries``). An entry unpacked into its names fails as a strict ``zip`` did on a
    part whose length is not a whole number of entries (``ValueError``: loud), and
    everything is made in the order it was, so every record decodes to an equal dict, its
    order and the sign of each zero included (``record_encode.py``'s digest)."""
    links: Sequence[int] = ()  # [name, time, ...] (``k``)
    sited: Any
    if stored[:1] == _LEAD:  # v6: ``_encode``'s own; ``w`` and then ``k`` trail when held
        hour, names, packed, profile, sessions, live, incidents, sent, sited, links = (
            astuple(_V6.decode(stored[1:])))
        nums = _numbers(packed, _TOP_BASE)
        pt: int | None = 0  # the profile's written time: the table's first number (``_encode``)
        current = True
    else:  # v5 and before: the version first, or [version, *links]; ``w`` trails
        head, hour, names, packed, profile, sessions, live, incidents, sent, *sited = (
            _DECODER.decode(stored))
        sited = sited[0] if sited else ()
        nums = _numbers(packed, 0)
        pt = None  # the profile's first part
        if head.__class__ is list:
            links = head[1:]
        current = (head if head.__class__ is int else head[0]) == _VERSION
    if current:  # v5 and v6: networks as bytes, the hour as a difference
        for i, n in enumerate(names):  # (the decoder's own list)
            if n.__class__ is not str:
                names[i] = _name(n)
        hour += _base_hour(nums[0] if len(nums) > 1 else None)  # (+0.0 ends ``nums``)
    out: dict[str, Any] = {}
    if links:
        touched: dict[str, float] = {}
        for n, ts in (links,) if len(links) == 2 else _entries(links, 2):
            touched[names[n]] = nums[ts]
        out["k"] = touched
    if profile:
        # The hour histogram is a sparse eleventh part when that is shorter
        # (``histogram.stored``), and kept as that (``histogram``), the 24 counts read into it.
        # ``linked``: v6's flag, an earlier form's domain tags (``linked`` when any).
        if pt is None:
            pt, *profile = profile
        last, msgs, nets, clients, owned, cidrs, linked, scripts, hours = profile[:9]
        fields: dict[str, Any] = {}
        if last is not None:
            fields["last"] = nums[last]
        if msgs is not None:
            fields["msgs"] = msgs
        for field, flat in (("nets", nets), ("clients", clients), ("owned", owned)):
            if flat is not None:  # [name, first, last, uses] flat; uses -1: none kept
                seen: dict[str, list[Any]] = {}
                for n, a, b, u in (flat,) if len(flat) == 4 else _entries(flat, 4):
                    seen[names[n]] = [nums[a], nums[b], u] if u >= 0 else [nums[a], nums[b]]
                fields[field] = seen
        if cidrs is not None:
            fields["cidrs"] = _listed(cidrs)
        if linked:
            fields["linked"] = True
        if scripts is not None:
            fields["scripts"] = scripts
        if len(profile) > 9:  # (no list made for a starred target's rest)
            fields["hours"] = histogram.checked(profile[9])
        elif hours is not None:
            fields["hours"] = histogram.of(hours)
        out["p"], out["pt"] = fields, nums[pt]
    if sessions:
        facts: dict[str, list[Any]] = {}
        for s, c, n, login, written, read, risk, replies, flags in (sessions,) if len(
                sessions) == 9 else _entries(sessions, 9):
            facts[names[s]] = [names[c], names[n], nums[login], read, nums[risk], flags & 1,
                               replies, nums[written], flags >> 1]
        out["s"] = facts
    if live:
        nets_live: dict[str, float] = {}
        for n, ts in (live,) if len(live) == 2 else _entries(live, 2):
            nets_live[names[n]] = nums[ts]
        out["l"] = nets_live
    if incidents:
        opened: list[dict[str, Any]] = []
        for i in range(1, len(incidents), 5):
            s, since, net, wide, family = incidents[i:i + 5]
            opened.append({"session": names[s], "since": nums[since], "net": names[net],
                           "range": names[wide], "family": names[family]})
        out["i"] = [nums[incidents[0]], opened]
    for part, counted in (("n", sent), ("w", sited)):
        if counted:  # (v6: an empty ``w`` before ``k``)
            # [session, hours before ``hour``, count, ...] each (``_encode``)
            by_session: dict[str, list[list[int]]] = {}
            for b in counted:
                by_session[names[b[0]]] = buckets = []
                for i in range(1, len(b), 2):
                    before, count = b[i:i + 2]
                    buckets.append([hour - before, count])
            out[part] = by_session
    return out


def _entries(flat: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """A flat part's entries of ``size`` items each, the last one short when the part is
    not a whole number of them (its unpacking then fails: loud, as a strict ``zip`` did).

    Only for a part of more than one entry: ``_decode`` walks a part of one, an ordinary
    account's (its one session, network, client), as itself, ``(flat,)``, with no
    ``range``, iterator or slice (~1,300 instructions a part, four or five a record)."""
    return [flat[i:i + size] for i in range(0, len(flat), size)]


def _listed(value: Any) -> Any:
    """A profile's value as the record holds it: a list where v6's decoding made a tuple
    (``_Stored``), anything else as it is."""
    return list(value) if value.__class__ is tuple else value


def _encode(record: dict[str, Any], now: float, session_ttl: float, live_window: float,
            incident_ttl: float) -> tuple[bytes, float]:
    """``record`` (``decode``'s dict, or ``Record.changed``'s) as stored, what has expired
    at ``now`` left out; and when the last of what is kept expires.

    The stored form is a msgpack list of the parts in a fixed order, the strings it
    repeats named by their index in one table and the numbers (times, risks) by their
    index in another, packed as doubles."""
    names: dict[str | bytes, int] = {}  # a network as bytes (``_stored_name``)
    name = names.setdefault  # name(text, len(names)): its index, a new one if new
    nums: dict[float, int] = {}
    num = nums.setdefault
    end = -math.inf  # every change is alive at ``now``: some part is kept, and raises it

    profile: list[Any] | None = None
    fields, pt = record.get("p"), record.get("pt")
    if fields is not None and pt is not None and pt + PROFILE_TTL > now:
        assert _PROFILE_SET.issuperset(fields), "a profile field the stored form lacks"
        end = pt + PROFILE_TTL
        get = fields.get
        last = get("last")
        num(pt, 0)  # the table's first number (nothing is named before): not stored
        profile = [None if last is None else num(last, len(nums)), get("msgs")]
        for field in _SEEN_ORDER:  # {name: [first, last, uses]} flat; uses -1: none kept
            entries = get(field)
            if entries is None:
                profile.append(None)
                continue
            flat: list[Any] = []
            for key, e in entries.items():
                flat += (name(_stored_name(key), len(names)), num(e[0], len(nums)),
                         num(e[1], len(nums)),
                         e[2] if len(e) > 2 else -1)
            profile.append(flat)
        hours = get("hours")
        profile += (get("cidrs"), True if get("linked") else None, get("scripts"),
                    *((None,) if hours is None else histogram.stored(hours)))
    sessions: list[Any] = []
    for s, e in record.get("s", {}).items():
        written = e[_WRITTEN] + session_ttl
        if written > now:
            if written > end:
                end = written
            sessions += (name(s, len(names)), name(e[0], len(names)),
                         name(_stored_name(e[1]), len(names)),
                         num(e[2], len(nums)), num(e[_WRITTEN], len(nums)), e[3],
                         # a risk of +0.0 (a familiar session's) is ``_ZERO``, in no table
                         _ZERO if not e[4] and math.copysign(1.0, e[4]) > 0.0 else num(
                             float(e[4]), len(nums)), e[6],
                         (1 if e[5] else 0) | (2 if e[_PROVEN] else 0))
    live: list[Any] = []
    cutoff = now - live_window
    for net, ts in record.get("l", {}).items():
        if ts > cutoff:
            if ts + live_window > end:
                end = ts + live_window
            live += (name(_stored_name(net), len(names)), num(ts, len(nums)))
    incidents: list[Any] = []
    if record.get("i") and record["i"][0] + incident_ttl > now:
        written, entries = record["i"]
        end = max(end, written + incident_ttl)
        incidents.append(num(written, len(nums)))
        for i in entries:
            incidents += (name(i["session"], len(names)), num(i["since"], len(nums)),
                          name(_stored_name(i["net"]), len(names)),
                          name(_stored_name(i["range"]), len(names)),
                          name(i["family"], len(names)))
    # ``n`` and ``w``: [session, hours before ``hour``, count, ...] each, those past the
    # window (before ``first``, ``bucket_range``'s) left out
    hour = int(now // _BUCKET)
    first = int((now - _WINDOW) // _BUCKET) + 1
    sent: list[list[Any]] = []
    sited: list[list[Any]] = []
    for counts, kept in ((record.get("n"), sent), (record.get("w"), sited)):
        if counts:
            for s, buckets in counts.items():
                if buckets and buckets[-1][0] >= first:
                    expires = (buckets[-1][0] + 1) * _BUCKET + _WINDOW
                    if expires > end:
                        end = expires
                    flat = [name(s, len(names))]
                    for h, n in buckets:
                        flat += (hour - h, n)
                    kept.append(flat)
    links: list[int] = []  # [name, time, ...], behind the version (``decode``)
    lapsed = now - session_ttl
    for p, ts in record.get("k", {}).items():
        if ts > lapsed:
            end = max(end, ts + session_ttl)
            links += (name(p, len(names)), num(ts, len(nums)))
    table = _sixes(_table_form(len(nums))[0].pack(*nums))
    stored = _ENCODER.encode([hour - _base_hour(next(iter(nums), None)), [*names], table,
                              profile, sessions, live, incidents, sent,
                              *((sited, links) if links else (sited,) if sited else ())])
    return _LEAD + stored, end


@lru_cache(maxsize=256)
def _table_form(count: int) -> tuple[struct.Struct, struct.Struct]:
    """A numbers' table of ``count`` doubles packed, and those bytes split into each
    double's low six bytes and its top two (a little-endian 16-bit number): each one C
    call (``_encode``, ``_sixes``).

    Why not ``array("d", nums)`` and a slice of the bytes a number: filling an array from
    a dict's keys is a generic iteration with an argument parse per number (~3,500
    instructions a record of ~8 numbers, ~1,200 so), and the tops were read a slice and
    an unpack each. The counts repeat (a handful to a few dozen), so each format is
    compiled once."""
    return struct.Struct(f"<{count}d"), struct.Struct("<" + "6sH" * count)


@lru_cache(maxsize=256)
def _lows(count: int) -> struct.Struct:
    """The lows of a numbers' table of ``count`` (``_sixes``), each its six bytes, and an
    empty piece after the last: joined by the top, each low gets it after itself, the
    last's too, in one C call (``_numbers``: where the join and then the top's
    concatenation made the table's bytes twice). Its own count's alone as the cache's key
    (an int, looked up as itself), where ``state.sided.pieces``'s is a tuple."""
    return struct.Struct("<" + "6s" * count + "0s")


def _sixes(packed: bytes) -> list[Any]:
    """The numbers' table (doubles, ``packed``) as v6 stores it: ``[low, top, index, its
    top, ...]``: every number's low six bytes, the first number's top two bytes (a
    little-endian unsigned 16-bit number, less ``_TOP_BASE``), then each number whose top
    two bytes differ with its index and its own (less ``_TOP_BASE`` too: a risk, a time of
    another 2**26 s span). v5 held the tops whole (3 bytes of msgpack where an event
    time's is now 1), v4 (session 29) the same with the first two swapped, ``[top, low,
    ...]``.

    Why: a record's times lie within months of each other, and a double's top two bytes
    (sign, exponent, the top four bits of the fraction) are the same for every time in
    an aligned 2**26 s (777 days, for times of 2004-2038): two bytes a time were the same
    16 bits again. No number is rounded: each is its six bytes and its top two as they
    were, whatever the spread (a number not sharing the top costs 4 bytes more).

    Why swapped at v5: a release before session 35 reads the first item as the top and
    packs it as a 16-bit number, which bytes never are (``struct.error``, a detector error:
    loud), so it refuses a v5 record, whose strings' table it would misread (``_name``:
    a network as bytes) and whose hour it would misread (``_base_hour``), rather than
    judging by them."""
    count = len(packed) // 8
    if not count:
        return [b"", 0]
    parts = _table_form(count)[1].unpack(packed)  # (low, top, low, top, ...)
    tops = parts[1::2]
    top = tops[0]
    stored: list[Any] = [b"".join(parts[::2]), top - _TOP_BASE]
    if tops.count(top) != count:
        for index, own in enumerate(tops):
            if own != top:
                stored += (index, own - _TOP_BASE)
    return stored


def _numbers(packed: bytes | Sequence[Any], base: int) -> list[float]:
    """The numbers' table as a list, ``_ZERO`` (its last place) +0.0: from v6's
    ``_sixes`` (``base``: ``_TOP_BASE``), v5's (its tops whole: 0), v4's (the same, its
    first two items swapped), or v3's doubles (in which no index is ``_ZERO``).

    Why the doubles read by ``_table_form``'s compiled ``Struct`` and not an ``array``'s
    ``tolist``: an array's making from bytes calls its ``frombytes`` by name, and the
    list it gives is a second walk (~1,700 instructions a record of the mixed load,
    ``record45``); the same doubles, bit for bit. No starred unpacking of the table (a list
    made for the tops that differ, nearly always none)."""
    if packed.__class__ is bytes:  # v3
        nums = array("d", packed).tolist()
        nums.append(0.0)
        return nums
    low, top = packed[0], packed[1]
    if low.__class__ is not bytes:  # v4
        low, top = top, low
    count = len(low) // 6  # type: ignore[arg-type]  # (a __class__ test)
    data: bytes | bytearray
    data = _TOP.pack(top + base).join(_lows(count).unpack(low)) if low else b""  # type: ignore[arg-type]  # (a __class__ test)
    if len(packed) > 2:  # [index, its top, ...] after the first two
        data = bytearray(data)
        for i in range(2, len(packed), 2):
            index, own = packed[i:i + 2]
            data[8 * index + 6:8 * index + 8] = _TOP.pack(own + base)
        if len(data) != 8 * count:  # an index past the table (as ``array`` refused it)
            raise ValueError(f"a takeover record's numbers' table: index past {count}")
    return [*_table_form(count)[0].unpack(data), 0.0]


def _base_hour(first: float | None) -> int:
    """The hour (``SENT``'s bucket) of the numbers' table's ``first`` number; 0 for none,
    or for a first number no hour of an event is near (2**53 or over, infinite, not a
    number). v5 stores the hour ``n`` and ``w`` count back from as its difference from
    this one: the first number is the profile's written time (``pt``) when there is a
    profile, nearly always the put's own time (a byte), else a session's sign-in, at most
    ``session_ttl`` before (1-3 bytes); v4 stored the hour itself, 5 bytes. Exact: the
    encode and the decode compute it from the same number (``_encode``, ``_decode``)."""
    if first is None or not -_HOURS_FROM < first < _HOURS_FROM:
        return 0
    return int(first // SENT.bucket)


@lru_cache(maxsize=4_096)
def _stored_name(text: str) -> str | bytes:
    """A network of the record (a session's, a live one, the profile's, an incident's
    network and range) as v5's strings' table holds it: an address as ``origin.network``
    (a /24 or /48) and ``origin.wide_range`` (a /16 or /32) write them, as its first 3
    (IPv4) or 6 (IPv6) bytes when the rest are zero and they give this very text back
    (``_name``); any other text as it is.

    Why: "198.51.100.0" is 13 bytes of text and 5 so (a msgpack bin's 2 and 3), and a
    record holds each of its networks once (~1.5 an account on the quiet load: ~9 bytes
    an account). Exact whatever the text (a network field holds what the detector wrote,
    or "" for no address): the bytes give the text back or the text is kept, so no name
    reads otherwise, and bytes in the table are only ever a network (every other string
    stays a msgpack string). Only the networks' fields are so, so session ids and apps
    (chosen by clients, many an account) cost no look-up. Kept (bounded): a network
    repeats across an account's events, and IPv6's parse costs ~15 µs; IPv4's is read
    here without ``ipaddress`` (~1 µs where its parse took ~14)."""
    if text.endswith(".0"):
        parts = text.split(".")
        if len(parts) != 4 or parts[3] != "0":
            return text
        try:
            packed = bytes(map(int, parts[:3]))  # int reads " 1", "+1", "01": not back
        except ValueError:
            return text
        return packed if _name(packed) == text else text
    if not text.endswith("::"):
        return text
    try:
        address = ipaddress.ip_address(text).packed
    except ValueError:
        return text
    return address[:6] if not any(address[6:]) and _name(address[:6]) == text else text


@lru_cache(maxsize=4_096)
def _name(packed: bytes) -> str:
    """The network's address ``_stored_name`` stored as bytes, as its text."""
    if len(packed) == 3:
        return f"{packed[0]}.{packed[1]}.{packed[2]}.0"
    if len(packed) == 6:
        return str(ipaddress.IPv6Address(packed + bytes(10)))
    raise ValueError(f"a takeover record's network of {len(packed)} bytes")


# -- the v2 stored form (a JSON list), still read -----------------------------------------
def _decode_v2(stored: list[Any]) -> dict[str, Any]:
    """The v2 stored form: a JSON list like ``_encode``'s, times as whole ticks of 2**-22 s
    before the put's own time (or the float itself, for a time not a whole number of
    ticks)."""
    _, base, names, profile, sessions, live, incidents, sent = stored
    out: dict[str, Any] = {}
    if profile:
        out["pt"] = _time(profile[0], base)
        fields: dict[str, Any] = {}
        for field, value in zip(_PROFILE, profile[1:], strict=False):
            if value is None:
                continue
            if field in _SEEN:  # [name, first, last, uses] flat; uses -1: none kept
                flat = iter(value)
                value = {names[n]: [
                    a if a.__class__ is float else (base - a) / _TICK,
                    b if b.__class__ is float else (base - b) / _TICK,
                    *((u,) if u >= 0 else ())]
                    for n, a, b, u in zip(flat, flat, flat, flat, strict=True)}
            elif field == "last":
                value = _time(value, base)
            elif field == "linked":  # v2 held the domain tags
                if not value:
                    continue
                value = True
            elif field == "hours":  # the day's 24 counts
                value = histogram.of(value)
            fields[field] = value
        out["p"] = fields
    if sessions:
        out["s"] = {names[e[0]]: [names[e[1]], names[e[2]], _time(e[3], base), e[5], e[6],
                                  e[8] & 1, e[7], _time(e[4], base), e[8] >> 1]
                    for e in sessions}
    if live:
        flat = iter(live)
        out["l"] = {names[n]: ts if ts.__class__ is float else (base - ts) / _TICK
                    for n, ts in zip(flat, flat, strict=True)}
    if incidents:
        flat = iter(incidents[1:])
        out["i"] = [_time(incidents[0], base), [
            {"session": names[s], "since": _time(since, base), "net": names[net],
             "range": names[wide], "family": names[family]}
            for s, since, net, wide, family in zip(flat, flat, flat, flat, flat, strict=True)]]
    if sent:
        hour = _hour(base)
        out["n"] = {names[b[0]]: [[hour - h, n] for h, n in _pairs(b[1:])] for b in sent}
    return out


def _time(stored: int | float, base: int) -> float:
    """A stored time: ticks before ``base`` (exact: int / int rounds once, and the time is
    a double), or the float itself."""
    return stored if stored.__class__ is float else (base - stored) / _TICK


def _hour(base: int) -> int:
    return base // (_TICK * int(SENT.bucket))


def _pairs(flat: list[Any]) -> zip[tuple[Any, Any]]:
    return zip(flat[::2], flat[1::2], strict=True)

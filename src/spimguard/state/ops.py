"""The state primitives detectors need, as plain values a backend executes in bulk.

Detectors describe what they want to read (queries) and, once the verdict is
known, what to change (writes); the engine hands all of one message's queries to
the backend in one call and all its writes in another, so a networked backend
pays one read and one write round trip per message. Time is always event time,
passed in as ``now``.

Every primitive maps onto Redis commands:

=================  ===================================================  ==========================
primitive          meaning                                              Redis
=================  ===================================================  ==========================
Count / Incr       bucketed sliding-window counter                      HMGET / HINCRBYFLOAT+EXPIRE
Distinct / Touch   members with last-seen time; count seen in window    ZCOUNT / ZADD+EXPIRE
Contains           which of these members are in a member set           ZMSCORE
LastTouch          one member's last touch time, if within a window     ZMSCORE
Tally              a Distinct and a Contains of one set, in one query   its two parts' commands
Members            all members of a member set, oldest first            ZRANGE
Replace / Remove   set a member set wholesale / drop some members       DEL+ZADD / ZREM
Get / Put / Delete a small value with a TTL                             GET / SET EX / DEL
Gets / Puts        several keys' values / one value under several keys  a GET / SET EX each
Since / Append     a numbered log: its count and the entries after one  a list and its count, in
                   number / entries added at its end, the oldest past   Lua (``redis.py``)
                   ``keep`` dropped
=================  ===================================================  ==========================

A member set holds each member's last touch time (a touch never moves it back,
as an event older than the last may come late) in (time, name) order, the
order of a Redis sorted set. A member touched ``ttl`` seconds ago or longer (the
set's TTL is its last write's) is gone to every query at once, whenever a backend
gets round to removing it (Redis at the set's next touch, memory and SQLite at a
sweep, which drops only what no event still judged reads: ``sweep_horizon``): so
answers depend on the log alone, never on when storage was tidied.
What is gone stays gone: a later touch with a longer TTL brings none of it back.
A touch past ``cap`` drops the oldest members in that order.

A keyspace declared ``hashed`` (``hashed_keyspace``) holds member sets that are only
ever asked Contains and Distinct: each backend keeps them as keyed 3-byte hashes with
one time for the whole set (``hashed.py``), not as names with a time each.

A keyspace declared ``sided`` (``sided_keyspace``) holds, under one key, several member
sets of the same people, its *sides*: Touch, Contains, Distinct and Members name a side
(``side``) and answer exactly as a plain set of that side's own would (its members,
times, expiry, TTL and cap), while each name is stored once (``sided.py``). A query or
touch of a plain set leaves ``side`` empty.

A keyspace declared ``lodged`` (``lodged_keyspace``) holds small values or hashed sets that
a backend may keep inside the sided record of the same id (Redis: a field of its hash),
answering every query and write as a key of its own would. A sided keyspace declared a
guest of another (``guest_keyspace``) holds records a backend may keep inside the host
record of the same id (a session's inside its account's).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

FOREVER = 100 * 365 * 86_400.0  # a TTL for what only an explicit write removes
# How far (event-time seconds) an event may lag the latest event time seen and still be
# judged as of its own time; one older is judged as of this lag (``Engine._on_time``).
# An hour: the lag Redis's own EXPIRE already allows (``redis._EXPIRE_SLACK``), past which
# a Redis node could have freed what the event reads, so no backend can promise more.
MAX_LATENESS = 3_600.0
# A lap of the sweep in parts (``StateBackend.sweep_part``): each part sweeps a slice of
# every table's keys, so what a whole sweep costs at once (~80 ms on the mixed load's
# state, on one batch) is spread over this many, one a batch (``maintenance.SWEEP_EVERY``).
# A part's batch waits for it, and every check queued behind that batch: at 50 parts a
# part cost 4-16 ms of CPU on SQLite (the mixed load, 2,000 users; a third to a half over
# the 10 ms of issue 18's p99), so the parts set the server's tail. At 200 a part is
# 2.8 ms on average, 8.0 at most (session 33, ``tail33``, the same hour: 6.7 and 16.2 at
# 50): what a part sweeps and loads again is a quarter, what each costs whatever its
# size (SQLite's count of each table, ~0.5 ms) is paid four times as often, ~10 µs an
# event more (~1 % of an event's CPU).
SWEEP_PARTS = 200
# Names past which a guest keyspace's record (``guest_keyspace``: a session's) leaves its
# host for a record of its own, in every backend that lodges: a lodged one is read and
# rewritten with its host (the memory backend's guests' bytes, Redis's ties hash, whose
# whole rewrite reads every field in it), so a host's cost must not grow with what whoever
# holds a session sends from it (a session's cap is ``burst_cap``, 5,000 names a side).
# An ordinary session writes to a few people; one past this is rare and its key's ~170
# bytes (memory) or ~250 (Redis) small beside its names.
LODGED_NAMES = 32


def sweep_horizon(newest: float) -> float:
    """The time up to which a sweep may drop what has expired, ``newest`` being the latest
    event time seen: that of the earliest event the engine still judges as of its own time.

    Reads compare expiries with the reading event's time, so a sweep up to a later time
    would drop what such an event still reads, and its answer would hang on whether a sweep
    ran before it (which differs by batching, by process and by backend). Taken from the
    latest time, never the earliest seen, so late-stamped events cannot hold sweeps back:
    the store keeps at most ``MAX_LATENESS`` of expired state beyond what it would."""
    return newest - MAX_LATENESS


_hashed: tuple[str, ...] = ()  # key prefixes of the hashed keyspaces (``hashed_keyspace``)


def hashed_keyspace(prefix: str) -> str:
    """Declare the member sets whose keys start with ``prefix`` hashed, and return it:
    declared at import of the module naming the keyspace, so before the engine opens a
    store (whose backend converts such sets from the names layout when it opens)."""
    global _hashed
    if prefix not in _hashed:
        _hashed = (*_hashed, prefix)
    return prefix


class Sided(msgspec.Struct, frozen=True, gc=False):
    """A sided keyspace: its sides in storage order (a later side goes at the end), and
    for each the key prefix of the plain sets it was kept in before (converted into the
    record when a store opens; "" for none).

    ``retired``: the places, in the order records written before held their sides, of
    sides no longer kept (a side is dropped where it was, not moved to the end). A record
    of ``len(sides) + len(retired)`` sides is one of before: a store of the held layout
    leaves their columns out as it loads it (``sided.current``), so its next write drops
    them; Redis, whose members hold a code of two bits a side and no time for a side they
    are not on, keeps each retired side's place in its records (``slot_of``): a byte of
    heads where a later side is touched, and the old side's times, never read, gone with
    its TTL."""

    prefix: str
    sides: tuple[str, ...]
    formerly: tuple[str, ...]
    retired: tuple[int, ...] = ()
    # Each side's declared TTL (``sided_keyspace``), 0 where none is declared.
    ttls: tuple[float, ...] = ()

    def slots(self) -> int:
        """The number of sides a record of before had: the live ones and the retired."""
        return len(self.sides) + len(self.retired)

    def slot(self, index: int) -> int:
        """The place of the live side ``index`` in a record of before."""
        for place in self.retired:  # ascending
            if place <= index:
                index += 1
        return index


_MOST_SIDES = 31  # a held record's first byte holds its sides in five bits (``sided._SIDES``)
_sided: dict[str, tuple[Sided, int]] = {}  # side name -> its keyspace and index there
# side name -> its keyspace's prefix and ``side_of``'s answer, made once (asked ~12 times
# a message)
_places: dict[str, tuple[str, tuple[int, int]]] = {}
_slots: dict[str, tuple[int, int, bytes]] = {}  # side name -> ``slot_of``'s answer, made once
_sided_prefixes: tuple[str, ...] = ()
_spaces: dict[str, Sided] = {}  # prefix -> its keyspace


def sided_keyspace(prefix: str, sides: dict[str, str], retired: tuple[int, ...] = (),
                   ttls: dict[str, float] | None = None) -> str:
    """Declare the keys starting with ``prefix`` sided, ``sides`` mapping each side's name
    (unique among every sided keyspace's) to the prefix its plain sets had before,
    ``retired`` the places of the sides dropped since (``Sided``) and ``ttls`` the TTL
    that the touches of a side name (its keyspace's setting's default); return the prefix.
    Declared at import, before a store opens, as ``hashed_keyspace``.

    A record holds a side's expiry and TTL only where they are not this TTL and its
    newest member's time plus it (``sided._derived``): every touch of the side naming its
    declared TTL, as the load's do, its record holds no head (16 bytes a side); a touch
    naming another (a setting changed, a record of another TTL) holds one, and answers
    are the same either way. A declared TTL is part of the stored layout: a store reads a
    record's sides with the TTLs declared when it was written (SQLite refuses a file
    whose keyspace's TTLs changed, ``SQLiteState._check_ttls``); change one only with a
    conversion of the records."""
    global _sided_prefixes
    declared = ttls or {}
    if not set(declared) <= set(sides):
        raise ValueError(f"a TTL declared for a side {prefix!r} has not: {sorted(declared)}")
    space = Sided(prefix, tuple(sides), tuple(sides.values()), tuple(sorted(retired)),
                  tuple(float(declared.get(side, 0.0)) for side in sides))
    if space.slots() > _MOST_SIDES:
        raise ValueError(f"a sided record has at most {_MOST_SIDES} sides: {prefix!r}")
    if prefix not in _sided_prefixes:
        _sided_prefixes = (*_sided_prefixes, prefix)
    _spaces[prefix] = space
    for index, side in enumerate(space.sides):
        known = _sided.get(side)
        if known is not None and known[0] != space:
            raise ValueError(f"the side {side!r} is already one of {known[0].prefix!r}")
        _sided[side] = (space, index)
        _places[side] = (prefix, (index, len(space.sides)))
        _slots[side] = (space.slot(index), space.slots(),
                        bytes(r + 1 for r in space.retired))
    return prefix


def sided_space(prefix: str) -> Sided:
    """The sided keyspace declared at ``prefix``."""
    return _spaces[prefix]


def space_of(key: str) -> Sided:
    """The sided keyspace ``key`` is of (the longest declared prefix it starts with);
    raises if it is of none."""
    found = max((p for p in _spaces if key.startswith(p)), key=len, default=None)
    if found is None:
        raise KeyError(f"{key!r} is of no sided keyspace")
    return _spaces[found]


def sided_keyspaces() -> tuple[Sided, ...]:
    return tuple({space.prefix: space for space, _ in _sided.values()}.values())


# Plain member sets an earlier release kept under a prefix, each now a side of a sided
# record whose key is not that prefix swapped (``renamed_sets``): prefix -> (the record's
# key of the old key's part past the prefix, None for one no longer kept; the side).
_renamed: dict[str, tuple[Callable[[str], str | None], str]] = {}


def renamed_sets(former: str, into: Callable[[str], str | None], side: str) -> str:
    """Declare that the plain member sets at ``former`` + a part an earlier release wrote
    are kept now as the side ``side`` of the sided record at ``into(part)`` (a guest's, as
    often: ``guest_keyspace``), and return ``former``. Why not ``sided_keyspace``'s
    ``formerly``: that swaps a prefix for a prefix, and a guest's key writes the parts of
    the old one in another order (the takeover detector's pitch sets, ``tk:text:``, now
    guests of the account's ties). A store that keeps what it holds converts them when it
    opens, members, times, expiry and TTL as they were (SQLite, Redis: as a record of its
    own, read before any lodged one); declared at import, as ``sided_keyspace``."""
    if side not in _sided:
        raise ValueError(f"{side!r} is no side of a sided keyspace")
    _renamed[former] = (into, side)
    return former


def renamed_keyspaces() -> dict[str, tuple[Callable[[str], str | None], str]]:
    """The renamed sets' prefixes, each with its records' keys and side (``renamed_sets``)."""
    return dict(_renamed)


def is_sided(key: str) -> bool:
    """Whether ``key`` is a sided record's (one of a declared prefix)."""
    return key.startswith(_sided_prefixes)


def slot_of(key: str, side: str) -> tuple[int, int, bytes]:
    """``side_of`` in the places of a record of before (``Sided.retired``): where a store
    that keeps a retired side's place (Redis) holds ``side``, its number of places, and a
    byte a retired place (counted from 1), for its touches to drop what is there."""
    side_of(key, side)  # raises if the key is not of the side's keyspace
    return _slots[side]


def side_space(side: str) -> tuple[Sided, int]:
    """The keyspace holding ``side`` and its index there; raises KeyError for no side."""
    return _sided[side]


def side_of(key: str, side: str) -> tuple[int, int]:
    """The index of ``side`` in the record at ``key``, and the record's number of sides;
    raises if the key is not of the side's keyspace."""
    found = _places.get(side)
    if found is None or not key.startswith(found[0]):
        raise KeyError(f"{key!r} has no side {side!r}")
    return found[1]


class Lodged(msgspec.Struct, frozen=True, gc=False):
    """A lodged keyspace: the host's prefix, the value's name among the host's lodged
    values (``field``), and the prefixes under its own that are other keyspaces'."""

    host: str
    field: str
    besides: tuple[str, ...]


_lodged: dict[str, Lodged] = {}  # a keyspace's prefix -> where it lodges (``lodged_keyspace``)
_lodged_prefixes: tuple[str, ...] = ()  # its keys, for one ``startswith`` (``lodged_prefixes``)
_unlodged_prefixes: tuple[str, ...] = ()  # ``besides`` never lodged (``lodged_prefixes``)


def lodged_keyspace(prefix: str, host: str, field: str = "",
                    besides: tuple[str, ...] = ()) -> str:
    """Declare that the value, or hashed set (``hashed_keyspace``), at ``prefix`` + an id
    may be kept inside the sided record at ``host`` + the same id, and return ``prefix``:
    in Redis a key of its own costs ~250 bytes beside a value of ~30, a field of the
    record's hash ~35 (``redis.py``). It answers as a key of its own would; memory and
    SQLite keep it as one. ``field`` names it among the host's lodged keyspaces (part of
    the stored layout: never change it); a key under one of ``besides`` is another
    keyspace's, never lodged (a detector's record ``tk:<account>`` beside its sets
    ``tk:to:<account>:...``). Declared at import, as ``sided_keyspace``."""
    if host not in _sided_prefixes:
        raise ValueError(f"{host!r} is not a sided keyspace: it cannot hold values")
    if any(p != prefix and place.host == host and place.field == field
           for p, place in _lodged.items()):
        raise ValueError(f"{host!r} already holds another keyspace's values as {field!r}")
    global _lodged_prefixes, _unlodged_prefixes
    _lodged[prefix] = Lodged(host, field, besides)
    _lodged_prefixes = tuple(_lodged)
    _unlodged_prefixes = tuple(
        other for p, place in _lodged.items() for other in place.besides
        if not any(q != p and (q.startswith(other) or other.startswith(q)) for q in _lodged))
    return prefix


def lodged_prefixes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The prefixes of the lodged keyspaces, and prefixes under them whose keys are never
    lodged (their ``besides`` that no other keyspace's keys can start with): a key under
    none of the first or under one of the second is never lodged. The second spare a
    store the look-up of where a key would lodge for the keys of a host's neighbours
    (``tk:to:``, ``tk:heard:``, ... beside ``tk:``): on the mixed load ~2 an event."""
    return _lodged_prefixes, _unlodged_prefixes


_guests: dict[str, str] = {}  # a guest keyspace's prefix -> its hosts' (``guest_keyspace``)


def guest_keyspace(prefix: str, host: str) -> str:
    """Declare that the sided record at ``guest_key(prefix, id, name)`` may be kept inside
    the sided record at ``host`` + the same id, and return ``prefix``. Why: a session's
    record (``tk:session:<account>:<session>``, 0.44 an account) cost, as a key of its own,
    its name, its slot and its object (~170 bytes in memory, ~250 in Redis) beside ~200 of
    data; lodged in the account's it costs its session's name and a few bytes of length.
    It answers as a key of its own would, in every backend. Declared at import, as
    ``sided_keyspace``."""
    if prefix not in _sided_prefixes or host not in _sided_prefixes:
        raise ValueError(f"{prefix!r} and {host!r} must both be sided keyspaces")
    _guests[prefix] = host
    return prefix


def guest_key(prefix: str, host_id: str, name: str) -> str:
    """The key of the guest ``name``'s record in the guest keyspace ``prefix``, lodged in
    the host record of id ``host_id``: ``name`` with "%" and ":" written "%25" and "%3A",
    so the key's last ":" is the one before it whatever either id holds (``guest_of``, and
    every backend's split, cut there). Why: both ids are chosen outside (an account's holds
    ":" on Matrix, a session's is whatever the client sends), and a name holding ":" was
    lodged in another host's record, real or not: one account's sessions took another's
    room (its guest slots, its hash's fields) and kept it alive, and two records were one
    key (``@a:s``'s ``x:y`` and ``@a:s:x``'s ``y``). A name with neither character, as
    nearly every session id, is the key's as it was (README: upgrading to session 22's
    release)."""
    return f"{prefix}{host_id}:{key_part(name)}"


def key_part(name: str) -> str:
    """``name`` with "%" and ":" written "%25" and "%3A": a part of a key that holds no
    ":", so a key of ids joined by ":" names one tuple of them when every part after
    the first is written so (``guest_key``; the takeover detector's session keys). A
    name with neither character, as nearly every id, is itself."""
    if ":" in name or "%" in name:
        return name.replace("%", "%25").replace(":", "%3A")
    return name


def guest_of(key: str) -> tuple[str, str] | None:
    """Where the sided record at ``key`` is lodged, if its keyspace is a guest one: its
    host record's key and its name there (split at the last ":", which ``guest_key``
    leaves before the name); None for a record held as a key of its own."""
    for prefix, host in _guests.items():
        if key.startswith(prefix):
            at = key.rfind(":", len(prefix))
            return None if at < 0 else (host + key[len(prefix):at], key[at + 1:])
    return None


def guest_prefixes() -> dict[str, str]:
    """The guest keyspaces' prefixes and their hosts' (``guest_keyspace``)."""
    return dict(_guests)


def lodged_keyspaces() -> tuple[tuple[str, Lodged], ...]:
    """The lodged keyspaces' prefixes and places, in the order declared: the order
    ``lodging`` tries them in."""
    return tuple(_lodged.items())


def lodging(key: str) -> tuple[str, str] | None:
    """Where the value or hashed set at ``key`` may be held, if it is lodged: its host
    record's key and its field's name there."""
    for prefix, place in _lodged.items():
        if key.startswith(prefix) and not key.startswith(place.besides):
            return place.host + key[len(prefix):], place.field
    return None


def hashed_prefixes() -> tuple[str, ...]:
    return _hashed


def is_hashed(key: str) -> bool:
    """Whether the member set at ``key`` keeps hashes rather than names."""
    return key.startswith(_hashed)


class Count(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """Sum of a counter over the buckets of the last ``window`` seconds."""

    key: str
    window: float
    bucket: float = 60.0


class Distinct(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """How many members of a member set were touched in the last ``window`` seconds."""

    key: str
    window: float
    side: str = ""  # of a sided record: the side asked (``sided_keyspace``)


class Contains(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """For each member, whether it is in the member set: a tuple of bools."""

    key: str
    members: tuple[str, ...]
    side: str = ""


class Members(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """Every member of a member set, oldest first (bounded by the set's cap)."""

    key: str
    side: str = ""


class LastTouch(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """When ``member`` was last touched in the member set (or on its ``side``): its time,
    if it is there (as ``Contains`` answers) and that time is within ``window`` of now
    (``within``); else None.

    Why: a fact a set already holds with its time need not be held again as a value of
    its own. "The peer wrote to the account within ``reply_window``" was a ``Put`` of the
    event's time with that TTL under a key a pair (``tk:heard:``, retired in session 36),
    while the account's ties held the same touch (``accounts.TALKED``); this asks the ties.
    The time, not a bool: a reader compares it with others (a session's sign-in). Not of a
    hashed set: its members have no times of their own."""

    key: str
    member: str
    window: float
    side: str = ""


def within(ts: float, window: float, now: float) -> bool:
    """Whether a time ``ts`` is within ``window`` of ``now``: ``ts + window > now``, the very
    float expression of a value put at ``ts`` with a TTL of ``window`` being alive at
    ``now`` (every backend stores such a value's expiry as ``ts + ttl`` and answers it
    while the expiry is after ``now``), so ``LastTouch`` answers exactly where such a
    ``Get`` did, at the edge and at any time (``now - window < ts`` rounds otherwise:
    ``test_heard36``). Every backend answers ``LastTouch`` by this one function."""
    return ts + window > now


class Get(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """A stored value, or None."""

    key: str


class Tally(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """``(count, memberships)``: a ``Distinct`` of the set over ``window`` and a
    ``Contains`` of ``members``, each answered as that query would be. A burst is counted
    by asking both of each set on every message (how many so far, which recipients are
    new to it): one query plans, hashes and files the pair once (``parts`` and
    ``split``: what a backend that answers the two asks)."""

    key: str
    window: float
    members: tuple[str, ...]
    side: str = ""

    def parts(self) -> tuple[Distinct, Contains]:
        return (Distinct(self.key, self.window, self.side),
                Contains(self.key, self.members, self.side))


class Since(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """``(count, entries)`` of the log at ``key`` (``Append``): how many entries it was
    ever given, and those numbered after ``after`` (entries are numbered 1, 2, ... in the
    order appended), oldest first, or None when it no longer keeps all of them (or its
    count is below ``after``: the log was lost and begun again). ``after``
    None asks the count alone (entries ``()``): what a reader checks before it asks more.
    Count and entries are read together, atomically on every backend."""

    key: str
    after: int | None = None


class Gets(msgspec.Struct, frozen=True, gc=False, cache_hash=True):
    """A tuple of what a ``Get`` of each of ``keys`` answers. Why one query: the bulk
    detector reads a text's six band keys on every message; as six Gets each was planned,
    hashed, filed and answered on its own (``parts``: what a backend that answers Gets
    asks)."""

    keys: tuple[str, ...]

    @property
    def key(self) -> str:
        """The first of ``keys``: what a reader of every query's ``key`` finds of it; ""
        for none (``bulk._NO_BANDS``), which SQLite's ``_hold`` asks of every query it
        holds (session 41: an ``IndexError`` there, where every store answers ``()``)."""
        return self.keys[0] if self.keys else ""

    def parts(self) -> tuple[Get, ...]:
        return tuple(map(Get, self.keys))


Query = Count | Distinct | Contains | Members | Get | Tally | Since | Gets | LastTouch
# A query is hashed where the engine drops repeats, where it files the answers and at each
# detector's look-up: its hash is kept (``cache_hash``), computed once.


_JOINT = (Tally, Gets)  # the queries asked as their ``parts`` (``split``)


def split(queries: Sequence[Query]) -> Sequence[Query]:
    """``queries`` with each ``Tally`` and ``Gets`` as its ``parts``, for a backend that
    answers those (``joined`` puts their answers back together); ``queries`` itself if
    none is."""
    return _in_parts(queries, _JOINT)


def _in_parts(ops: Sequence[Any], joint: tuple[type[Any], ...]) -> Sequence[Any]:
    """``ops`` with each of a ``joint`` class as its ``parts()``; ``ops`` itself if none is
    (``split``, ``each``)."""
    if not any(op.__class__ in joint for op in ops):
        return ops
    return [p for op in ops for p in (op.parts() if op.__class__ in joint else (op,))]


def joined(queries: Sequence[Query], answers: list[Any]) -> list[Any]:
    """The answers to ``queries`` from those to ``split(queries)``."""
    if not any(q.__class__ in _JOINT for q in queries):
        return answers
    flat = iter(answers)
    return [(next(flat), next(flat)) if q.__class__ is Tally
            else tuple([next(flat) for _ in q.keys]) if q.__class__ is Gets
            else next(flat) for q in queries]


class Incr(msgspec.Struct, frozen=True, gc=False):
    key: str
    amount: float = 1.0
    bucket: float = 60.0
    ttl: float = 86400.0


class Touch(msgspec.Struct, frozen=True, gc=False):
    key: str
    members: tuple[str, ...]
    ttl: float = 86400.0
    cap: int = 10_000
    side: str = ""


class Replace(msgspec.Struct, frozen=True, gc=False):
    key: str
    members: tuple[str, ...]
    ttl: float = 90 * 86400.0


class Remove(msgspec.Struct, frozen=True, gc=False):
    key: str
    members: tuple[str, ...]


class Put(msgspec.Struct, frozen=True, gc=False):
    """Store a JSON-able value (str, number, bool, list, dict), or bytes: a caller's own
    packed form, kept as given (as JSON, bytes would be base64, a third larger) and read
    back as bytes."""

    key: str
    value: Any
    ttl: float = 86400.0


class Puts(msgspec.Struct, frozen=True, gc=False):
    """``value`` put under each of ``keys``, as a ``Put`` of each would (the bulk detector's
    cluster's id under a text's six bands, every message): one write to plan and apply, its
    value encoded once."""

    keys: tuple[str, ...]
    value: Any
    ttl: float = 86400.0

    @property
    def key(self) -> str:
        """The first of ``keys``: what a reader of every write's ``key`` finds of it (the
        engine looks for the account record's among an event's writes, ``accounts.folded``;
        a detector puts its own keys, never that one)."""
        return self.keys[0]

    def parts(self) -> tuple[Put, ...]:
        return tuple([Put(k, self.value, self.ttl) for k in self.keys])


class Delete(msgspec.Struct, frozen=True, gc=False):
    key: str


class Append(msgspec.Struct, frozen=True, gc=False):
    """Add ``entries`` at the end of the log at ``key``, numbered on from its count, and
    keep its last ``keep`` (at least 1) entries (the log never expires). Two writers
    appending at once both land, each entry under a number of its own: the count moves in
    the same atomic step as the entries (a Lua function in Redis, the transaction in
    SQLite)."""

    key: str
    entries: tuple[str, ...]
    keep: int = 1_024


Write = Incr | Touch | Replace | Remove | Put | Delete | Append | Puts


def each(writes: Sequence[Write]) -> Sequence[Write]:
    """``writes`` with each ``Puts`` as its ``Put``s, for a backend that applies those;
    ``writes`` itself if none is."""
    return _in_parts(writes, (Puts,))


def _plain(value: Any) -> Any:
    if isinstance(value, float):  # float subclasses such as events.EventTime
        return float(value)
    raise NotImplementedError(type(value))


RAW = b"\xff"  # first byte of a bytes value's stored form: never the first of JSON (UTF-8)


_COUNT = struct.Struct("<Q")


def encode_log(count: int, entries: Sequence[str]) -> bytes:
    """A log as the embedded backends keep it (one value): its count, then its entries."""
    return _COUNT.pack(count) + msgspec.msgpack.encode(list(entries))


def decode_log(stored: bytes | None) -> tuple[int, list[str]]:
    if not stored:
        return 0, []
    return _COUNT.unpack_from(stored)[0], msgspec.msgpack.decode(stored[_COUNT.size:],
                                                                  type=list[str])


def log_count(stored: bytes | None) -> int:
    """A log's count from its stored form, without decoding its entries."""
    return _COUNT.unpack_from(stored)[0] if stored else 0


def since(query: Since, count: int, kept: Sequence[str]) -> tuple[int, Any]:
    """``query``'s answer from a log's count and the entries it keeps (its last ones)."""
    if query.after is None:
        return count, ()
    behind = count - query.after
    if behind == 0:
        return count, ()
    # Behind by more than the log keeps, or ahead of it: a count below what the reader last
    # saw means the log was lost (a Redis restarted empty or flushed) and begun again, and
    # with it what it named: none of its entries tells the reader what changed.
    lost = behind < 0 or behind > len(kept)
    return (count, None) if lost else (count, tuple(kept[len(kept) - behind:]))


def encode_value(value: Any) -> bytes:
    """The stored form of a Put value, the same for every backend: JSON, or bytes as
    they are after ``RAW``."""
    if value.__class__ is bytes:
        return RAW + value
    return msgspec.json.encode(value, enc_hook=_plain)


def decode_value(stored: bytes) -> Any:
    """A Put value from its stored form (``encode_value``)."""
    return stored[1:] if stored[:1] == RAW else msgspec.json.decode(stored)


def bucket_range(query: Count, now: float) -> tuple[int, int]:
    """Buckets (first, last) inclusive that a window ending at ``now`` covers.

    The window is rounded to whole buckets, so a count may include up to one
    bucket more than ``window``: counters are rate evidence, not billing.
    """
    last = int(now // query.bucket)
    first = int((now - query.window) // query.bucket) + 1
    return first, last

"""Shared facts about accounts, kept in state by the engine and read by detectors.

Detectors never import each other; what several of them need to know about an
account (its contacts, who it has written with, when it was first seen, the
restrictions in force) is named here once, and the engine keeps it current.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

import msgspec

from .events import Message
from .state.ops import (
    Contains,
    Delete,
    Get,
    LastTouch,
    Put,
    Query,
    Write,
    hashed_keyspace,
    lodged_keyspace,
    sided_keyspace,
)

FIRST_SEEN_TTL = 400 * 86400.0  # an account unseen this long is new again
TALKED_TTL = 180 * 86400.0  # a conversation partner stays "known" this long after the last message
TALKED_CAP = 2_000  # correspondents remembered per account (stalest dropped first)
CONTACTS_TTL = 365 * 86400.0
MAX_TALKED_FANOUT = 50  # a message to more recipients than this teaches no ties
MAX_TIES = 64  # recipients of one message whose ties to the sender are looked up


# Contact lists are only asked whether someone is on them and how long they are, never
# listed: kept as keyed hashes (``state/hashed.py``), ~2.5 bytes a contact of a list of 55.
_CONTACTS = hashed_keyspace("contacts:")


def contacts(account: str) -> str:
    return _CONTACTS + account


# The people an account has ties with, as one sided record (``state/sided.py``: why one
# record, and why its sides stay apart): each side is what one teacher learnt of them.
TALKED = "talked"  # wrote to the account, delivered or warned (the engine): its own acts only
OWNER_WROTE = "owner-wrote"  # the owner wrote to them, clean and vouched (takeover detector)
RECIPROCATED = "reciprocated"  # ... and they listed it back or had just written (takeover)
# Records of before session 24 hold a side at place 1, "wrote" (the account wrote to
# them, delivered or warned, in a message to at most 5: the relationship detector's). It
# held each fact of ``TALKED`` a second time, from the writer's end: "p wrote to A" was A
# in p's "wrote" and p in A's "talked", and the one question asked of it, whether the
# recipients wrote to the sender, is asked of the sender's own ``TALKED`` now (one read
# of one record, no touch of the sender's: ``detectors/relationship.py``). Retired where
# it was (``ops.Sided``): old records are read without it and lose it at their next write.
# Every side is touched with ``TALKED_TTL``, its declared TTL: a record holds no side's
# expiry and TTL of its own (``ops.sided_keyspace``: 48 bytes an account).
_TIES = sided_keyspace("ties:", {TALKED: "talked:", OWNER_WROTE: "tk:wrote:",
                                 RECIPROCATED: "tk:recip:"}, retired=(1,),
                       ttls=dict.fromkeys((TALKED, OWNER_WROTE, RECIPROCATED), TALKED_TTL))


# A contact list is kept in Redis inside the account's ties record while it is short
# (``lodged_keyspace``): a key of its own cost ~250 bytes beside its ~230.
lodged_keyspace(_CONTACTS, _TIES, field="c")


def heard(account: str, peer: str, window: float) -> LastTouch:
    """When ``peer`` last wrote to ``account`` (delivered or warned), if within ``window``:
    its touch on the account's ``TALKED`` side, its time as touched (``ops.LastTouch``).

    Why not a key of its own: until session 36 the takeover detector put the time under
    ``tk:heard:<account>:<peer>`` with ``window`` as its TTL, on the very conditions the
    engine touches ``TALKED`` on (``Engine._own_writes``), so the same fact was held twice:
    a key and a put a recipient a message (0.12 keys an account). Answered where that
    key's ``Get`` was (``ops.within``: the expiry's own form); it differs only where the
    key was wrong: a late message no longer moves "last wrote" back to its own time, as
    a touch never moves a time back. Only the peer's own delivered messages touch the
    side, so no one else can make the account "heard" from it."""
    return LastTouch(tie_record(account), peer, window, TALKED)


def tie_record(account: str) -> str:
    """The key of the account's ties: name the side (``TALKED``, ...) in every query."""
    return _TIES + account


# Kept in Redis inside the account's ties record (``lodged_keyspace``): a key of its own
# there cost ~250 bytes an account (``benchmarks/memory.py``) for a ~30-byte value.
_KEY = lodged_keyspace("acct:", _TIES)


def key(account: str) -> str:
    """The account's record (``Account``): its first sighting and restrictions."""
    return _KEY + account


def record(account: str) -> Get:
    """The read of the account's record: one query, so the engine's own read, and every
    detector's, is the same one (read once an event)."""
    return Get(key(account))


class Account(NamedTuple):
    """What the engine keeps of an account, one value under ``key``: when it was first
    seen and the restrictions in force, each part with its own expiry in event time
    (``*_until``), checked on every read (``first_seen_of``, ``restrictions_of``), so an
    answer is what the two keys it replaces (``first_seen:``, ``restrict:``) gave,
    whatever the record's own TTL (the later of the two).

    Stored as msgpack bytes (``Put`` keeps them as they are), ``[first seen, until,
    restrictions, until]`` with the restrictions' pair left off when there are none:
    ~20 bytes of value under one key, where the two keys cost a key, an entry and an
    expiry each (``benchmarks/memory.py``).

    **Concurrency.** Two parts under one key means two writers of different parts now
    touch one value: every write of the record is composed from the record as read
    (``with_action``, ``after_challenge``, ``Engine._own_record``), so a write made
    between another's read and write would be lost. Within a node the engine's lock
    serialises events. Across nodes (Redis) an event's write script checks every value
    the event read, the record among them, and a changed one retries the event from a
    fresh read (``Contention``): no event's part is lost. Writes outside an event (an
    operator's ``Engine.restore``, an adapter's ``Engine.remember``) are not checked, as
    the two keys' were not: a restore racing another node's event on the same account
    may drop what that event wrote to the record (a restriction it added, lifted along
    with the rest as the operator asked, or a first sighting, written again by the
    account's next event, at that event's time)."""

    first_seen: float | None = None
    first_until: float = 0.0
    restrict: dict[str, Any] | None = None
    restrict_until: float = 0.0


_NONE = Account()
# Decoded straight into the tuple (the restrictions' pair at its defaults when left off):
# a fifth of the time of a plain decode and ``Account(*parts)``.
_ENCODER, _DECODER = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder(Account)
_WRITTEN_KEY = attrgetter("key")  # of a write (``folded``)


_last: tuple[bytes | None, Account] = (None, _NONE)


def decode(value: bytes | None) -> Account:
    """The record as read (None: no record), its parts as stored, expired or not.

    An event's readers (the engine, velocity, the takeover detector, up to five looks)
    are handed the one bytes object the state read gave, so the last one decoded is
    remembered by identity: one decode an event. Bytes are immutable and the memo holds
    them, so the same object always decodes to the same record."""
    global _last
    last = _last
    if value is last[0]:
        return last[1]
    if value is None:
        return _NONE
    found = _DECODER.decode(value)
    _last = (value, found)
    return found


def first_seen_of(value: bytes | None, now: float) -> float | None:
    """When the account was first seen, from its record as read at ``now``."""
    return alive(decode(value), now).first_seen


def restrictions_of(value: bytes | None, now: float) -> dict[str, Any] | None:
    """The account's restrictions in force at ``now``, from its record as read."""
    return alive(decode(value), now).restrict


def alive(found: Account, now: float) -> Account:
    """The record with its parts expired at ``now`` left out."""
    first_alive = found.first_until > now
    restrict_alive = found.restrict_until > now
    if (first_alive or found.first_seen is None) and (restrict_alive or found.restrict is None):
        return found  # nothing to leave out (most reads): no new tuple
    return Account(found.first_seen if first_alive else None,
                   found.first_until if first_alive else 0.0,
                   found.restrict if restrict_alive else None,
                   found.restrict_until if restrict_alive else 0.0)


def put(account: str, found: Account, now: float) -> Put | Delete:
    """The write that stores ``found`` (its live parts) at ``now``; a Delete when none is
    left. The record's TTL is its longest-lived part's."""
    found = alive(found, now)
    if found.first_seen is None and found.restrict is None:
        return Delete(key(account))
    parts: list[Any] = [found.first_seen, found.first_until]
    if found.restrict is not None:
        parts += [found.restrict, found.restrict_until]
    last = found.first_until if found.first_until > found.restrict_until else (
        found.restrict_until)
    return Put(key(account), _ENCODER.encode(parts), last - now)


def seen(found: Account, first: float, now: float) -> Account:
    """The record with the account first seen at ``first``, written at ``now`` (kept
    ``FIRST_SEEN_TTL`` from then)."""
    return found._replace(first_seen=float(first), first_until=now + FIRST_SEEN_TTL)


def restricted(found: Account, restrict: dict[str, Any] | None, now: float,
               ttl: float) -> Account:
    """The record with ``restrict`` in force from ``now`` for ``ttl`` (None: lifted)."""
    if restrict is None:
        return found._replace(restrict=None, restrict_until=0.0)
    return found._replace(restrict=restrict, restrict_until=now + ttl)


def folded(account: str, own: Account | None, found: Account, writes: list[Write],
           now: float) -> Write | None:
    """The event's one write of the record, if any: ``own``, the engine's record as the
    event leaves it (None: unchanged from ``found``, as read), but for the restrictions a
    detector's write of the record (``after_challenge``, taken out of ``writes``) leaves:
    the last write of a key wins, and a detector's, applied after the engine's, decided
    the restrictions when they were a key of their own."""
    mine = key(account)
    # Nearly every event's detectors leave the record alone: told by a search in C, not a
    # loop in bytecode over its ~20 writes.
    if mine not in map(_WRITTEN_KEY, writes):
        return None if own is None else put(account, own, now)
    theirs = [w for w in writes if w.key == mine]
    writes[:] = [w for w in writes if w.key != mine]
    last = theirs[-1]
    left = decode(last.value) if last.__class__ is Put else _NONE
    return put(account, (found if own is None else own)._replace(restrict=left.restrict,
                                                restrict_until=left.restrict_until), now)


# The keys the record replaced: an account not yet written since the upgrade is read
# from them (``legacy``), and its next event writes the record and deletes them. Until
# when the state may hold them is kept under ``LEGACY`` (``Engine._legacy``).
LEGACY = "accounts:legacy_until"
_OLD_FIRST_SEEN, _OLD_RESTRICT = "first_seen:", "restrict:"


def legacy_keys(account: str) -> tuple[str, str]:
    return _OLD_FIRST_SEEN + account, _OLD_RESTRICT + account


def legacy(read: Callable[[Sequence[Query]], list[Any]], who: Sequence[str], now: float,
           restriction_ttl: float) -> list[bytes | None]:
    """The records of accounts that have none, made from the keys of before the record
    (one read for all of ``who``); None for an account without them either.

    A key's expiry is not readable, so a part taken from one lasts as if written at
    ``now``: at most the time since its key was last written longer than the key would
    have, never shorter (nothing accepted is lost)."""
    answers = read([Get(k) for account in who for k in legacy_keys(account)])
    out: list[bytes | None] = []
    for first, restrict in zip(answers[::2], answers[1::2], strict=True):
        found = _NONE
        if first is not None:
            found = seen(found, first, now)
        if restrict is not None:
            found = restricted(found, restrict, now, restriction_ttl)
        write = put("", found, now)
        out.append(write.value if write.__class__ is Put else None)
    return out


def upgraded(read: Callable[[Sequence[Query]], list[Any]], queries: Sequence[Query],
             answers: list[Any], now: float, restriction_ttl: float) -> None:
    """Fill in ``answers`` (to ``queries``) the absent records that the keys of before the
    record still hold (``legacy``): for readers outside the engine's events."""
    missing = [i for i, (q, a) in enumerate(zip(queries, answers, strict=True))
               if a is None and q.__class__ is Get and q.key.startswith(_KEY)]
    if not missing:
        return
    found = legacy(read, [queries[i].key[len(_KEY):] for i in missing], now,
                   restriction_ttl)
    for i, value in zip(missing, found, strict=True):
        answers[i] = value


def session_blocked(restrict: dict[str, Any] | None, session: str) -> dict[str, Any] | None:
    """The suspension that stops this session sending, if any (whole account or session)."""
    if not restrict:
        return None
    if restrict.get("suspended"):
        return restrict["suspended"]
    return restrict.get("sessions", {}).get(session) if session else None


def with_action(account: str, value: bytes | None, kind: str, session: str,
                reason: str, ts: float, ttl: float) -> Put | Delete:
    """The write that adds an account action to the restrictions of the account's record
    (``value``, as read).

    A suspension always comes with a challenge: the owner has to prove it is them
    before the restriction lifts. Earlier entries keep their original time.
    """
    found = alive(decode(value), ts)
    return put(account, restricted(found, acted(found.restrict, kind, session, reason, ts),
                                   ts, ttl), ts)


def acted(restrict: dict[str, Any] | None, kind: str, session: str, reason: str,
          ts: float) -> dict[str, Any]:
    """The restrictions with an account action added (``with_action``)."""
    current: dict[str, Any] = dict(restrict or {})
    entry = {"since": float(ts), "reason": reason}
    current["challenge"] = current.get("challenge") or entry
    if kind == "suspend_sending":
        if session:
            sessions = dict(current.get("sessions", {}))
            sessions.setdefault(session, entry)
            current["sessions"] = sessions
        else:
            current["suspended"] = current.get("suspended") or entry
    return current


def after_challenge(account: str, value: bytes | None, ttl: float, now: float,
                    proven: str = "") -> Put | Delete:
    """The write once the owner passed the challenge (``value``: the account's record as
    read): the account-wide restrictions go, the sessions suspended in the incident (the
    intruder's) stay, but for ``proven``, the session that answered the challenge itself
    (the owner's own)."""
    found = alive(decode(value), now)
    sessions = {session: entry for session, entry in (found.restrict or {}).get(
        "sessions", {}).items() if session != proven}
    return put(account, restricted(found, {"sessions": sessions} if sessions else None,
                                   now, ttl), now)


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
    return Contains(contacts(sender), people), Contains(tie_record(sender), people, TALKED)


def listed_back(sender: str, recipients: Sequence[str], cap: int = MAX_TIES
                ) -> tuple[Contains, ...]:
    """The reads that tell which of the first ``cap`` recipients list the sender in their
    own contacts: the half of a contact the sender cannot write (anyone may put anyone on
    its own list, and a bot lists its targets). The queries are the relationship and
    takeover detectors' own, so the engine reads each once. Made by ``map`` in C: a
    generator made a function object and a frame, ~2.7 an event (``calls40``)."""
    people = tuple(dict.fromkeys(recipients))[:cap]
    return tuple(map(Contains, map(contacts, people), itertools.repeat((sender,))))


class Standing(msgspec.Struct, frozen=True):
    """Who a message's recipients are to its sender, by what vouches for the tie.

    **Vouched** (neither list here): a correspondent, or a contact who lists the sender
    back; only what the recipient did vouches (``listed_back``). **Unvouched**: on the
    sender's own list, no more. That earns the sender no trust (no FAMILIAR_SENDER, no
    "known" to velocity, reputation or bulk), but it is no evidence of spraying strangers
    either: a newcomer's friends have mostly not added it yet, and its first lines to
    the people in its phone book are ham. **Strangers**: recipients the sender does not
    list at all and never exchanged messages with.

    Unvouched recipients turn into strangers by the pattern (``counted``): more than
    ``UNVOUCHED_ALLOWANCE`` of them at once or, where a detector keeps a window, in its
    window. A bot lists its targets (its list is its own claim) and works through them;
    a person writes to a handful of friends.

    A struct, made in C: a NamedTuple's ``__new__`` is a Python lambda's frame, ~1 an
    event here (``calls41``); its two fields are read by name only."""

    strangers: list[str]
    unvouched: list[str]


# Unvouched recipients (``Standing``) an account may write to, in one message or in a
# day (velocity's ``unvouched_window``), before every one of them counts as a stranger:
# the handful of friends a new account writes to first; a bot's list of targets is tens
# to thousands. Five, as velocity's ``new_account_link_strangers``: past that many, a
# new account writing links to people who never vouched for it is a throwaway bot's
# pattern whether it listed them or not.
UNVOUCHED_ALLOWANCE = 5


def standing(recipients: Sequence[str], queries: tuple[Contains, Contains],
             facts: Mapping[Any, Any], back: Sequence[Contains]) -> Standing:
    """The recipients' ``Standing`` (``queries``: ``ties`` of the same recipients; ``back``:
    their ``listed_back``). Those past the ``ties`` cap are strangers (nobody has that
    many people in one chat); contacts past ``back``'s cap that are not correspondents
    are unvouched (listed, and nothing checked vouches)."""
    contacts_q, talked_q = queries
    members = contacts_q.members
    unknown, unvouched = [], []
    for i, (p, c, t) in enumerate(zip(members, facts[contacts_q], facts[talked_q],
                                      strict=True)):
        if t:
            continue
        if not c:
            unknown.append(p)
        # Whether the contact lists the sender back, asked only of a listed recipient who
        # is no correspondent (a list of every answer made first cost a comprehension's
        # function each call, for a message to correspondents nothing).
        elif not (i < len(back) and facts[back[i]][0]):
            unvouched.append(p)
    if recipients == members:  # the ties' own people (velocity's): none past the cap
        return Standing(unknown, unvouched)
    wanted, checked = set(recipients), set(members).difference(unknown)
    return Standing([r for r in dict.fromkeys(recipients) if r not in checked],
                    [p for p in unvouched if p in wanted])


# Members who vouch for a sender that make a room no stranger to it, whatever its size:
# three, as ``trusted_correspondents`` and ``trust.full_footprint`` (what anyone who uses a
# messenger has, what a throwaway has only with as many socks of its own). Half of a real
# group lurks: a newcomer whose posts its talkers answered is a member (review, session 13).
ROOM_VOUCHERS = 3


def in_room(message: Message) -> bool:
    """Whether the message is a post to a group conversation (a room: ``room``), which
    the detectors that count targets count as one: one with a conversation and more
    than one recipient. A conversation of one recipient is a chat between two, and its
    recipient is a target like any other."""
    return bool(message.conversation) and len(message.recipients) > 1


def room(conversation: str, members: Sequence[str]) -> str:
    """The name a group conversation's post is counted under: its conversation and who is
    in it. A room is the people in it; the same conversation with other members reaches
    other people, and is another room to the sender's windows and carriers (red team,
    session 14: a bot that changes the members of one conversation before each post kept
    one target, and its socks' one carried room, whoever it added). The members are every
    recipient, not only those checked, so rotating members past ``MAX_TIES`` makes a new
    room too. Sorted and length-prefixed: the same people in any order give one name,
    and no two sets of ids give the same bytes."""
    people = "".join(f"{len(m)}:{m}" for m in sorted(set(members)))
    digest = hashlib.blake2b(people.encode("utf-8", "surrogatepass"), digest_size=8)
    return f"conv:{conversation}\x1f{digest.hexdigest()}"


def room_standing(members: Standing, checked: int, room: str) -> Standing:
    """The ``Standing`` of a group conversation (``room``) to its sender, from its
    ``checked`` members' (``members``): the room stands as most of its members do.

    A room is people who joined it, and one post reaches them all: a room where at least
    half vouch for the sender (a family group of phone-book friends), or at least
    ``ROOM_VOUCHERS`` do (a group whose talkers wrote to it while most members lurk, as
    most members of a real group do), is no stranger to it; one where at least half list
    it or vouch is unvouched (a newcomer's own friends' group, before they have added it
    back); any other is a stranger, as most of its members would be one-to-one. A bot
    that gathers its targets into groups writes to strangers a room at a time, and a
    member's post into a large room it knows few people in counts once, not once a
    member. The same few vouchers (a bot's socks) put in every room are left out of all
    rooms but the first they carried (``room_carried``)."""
    vouched = checked - len(members.strangers) - len(members.unvouched)
    if 2 * vouched >= checked or vouched >= ROOM_VOUCHERS:
        return Standing([], [])
    if 2 * (vouched + len(members.unvouched)) >= checked:
        return Standing([], [room])
    return Standing([room], [])


# Between a room's name and a member's in the members of ``carried_queries``. Ids may hold
# it: a member named like a pair ("room\x1fsock") that carried a room makes the pair look
# carried, which gains the sender the one room's vouch that account could give as a
# fresh voucher anyway (the set is the sender's alone, and touched only by its rooms).
_CARRIED = "\x1f"


def carried_queries(members: Sequence[str], room: str) -> tuple[str, ...]:
    """What a room's sender's set of carriers (kept by velocity) is asked of the room's
    checked ``members``: whether each has carried a room of the sender's, and whether it
    carried this one (``room_carried`` reads the answers in this order)."""
    return (*members, *(room + _CARRIED + m for m in members))


class Carried(NamedTuple):
    """A room's ``Standing`` (the room as one target, or a stranger room's members by
    name: ``room_carried``), and what it adds to the sender's set of carriers (names as
    ``carried_queries`` asks them: each voucher that carried the room, and the pair of
    the room and it; none for a room every member vouches for, or one not vouched)."""

    standing: Standing
    carriers: tuple[str, ...]


def room_carried(members: Standing, checked: Sequence[str], room: str,
                 carried: Sequence[bool], everyone: int) -> Carried:
    """The room's standing (``room_standing``) with the sender's entourage vouching no
    more: its vouchers (``checked`` members who are neither strangers nor unvouched in
    ``members``) that carried another room of the sender's in the window of the set
    (``carried``: answers to ``carried_queries``) count as unvouched. ``everyone`` is
    how many members the room has, checked or not (``checked`` stops at ``MAX_TIES``).

    A voucher speaks for the sender to the room's other members. A real group's vouchers
    are its own people, who know each other and the sender; the same few accounts
    vouching for the sender in room after room of others who never heard from it are
    not each room's people but accounts that came with the sender: a bot's socks, who
    wrote it one line each and are added to every room it pitches. So a voucher carries
    one room with others in it a window (velocity's ``strangers_window``, the window a
    room's strangers are counted in: socks buy no more vouched rooms than the stranger
    count could see), and in any other room it is a tie of the sender's that vouches
    for nothing there: unvouched, like a contact who has not listed the sender back. A
    room the same friends fill is then unvouched, within the allowance a newcomer has
    for its friends (``UNVOUCHED_ALLOWANCE`` in velocity's day), and one of mostly
    others a stranger. Rooms every member vouches for (a family group) introduce nobody
    and spend no voucher: every member, not every one checked, for members past the
    cap are unknown, and a bot that adds ``MAX_TIES`` socks to each room before its
    targets made every room a family (red team, session 14). The attacker's next
    step, fresh socks for every room, costs ``ROOM_VOUCHERS`` accounts (or half the
    room) with a line to the bot a room, each spent for the window.

    **Who a room reaches.** What a message costs the sender's stranger budget is the
    people it puts a stranger's words in front of. A room that stands vouched
    (``room_standing``) has people of its own speaking for the sender: carried, it
    reaches nobody new; its vouchers spent, it is introduced by accounts the sender
    brought (socks) or by friends it shares several rooms with, which nothing read here
    tells apart (the second round of ties, red team session 14), and it stands as one
    target, the room, as above. A room at least half of whose members the sender lists
    or is vouched by is its own circle, one unvouched target (a newcomer's family groups
    before they add it back: the allowance counts them); a bot listing the targets it
    rotates through one conversation makes a new room each time (``room``), so past the
    allowance each is a stranger. A stranger room, mostly people who never vouched for
    the sender, has nobody speaking for it: each checked member stands as it would
    one-to-one (``members``, strangers and unvouched by name), and velocity counts each
    person reached, once in its window however often the sender posts to them (red
    team, session 14: a room was one stranger whoever was in it, so a bot rotating five
    targets a post through one conversation reached 150 strangers in 30 posts, all
    warned, and one room of 60 an hour stayed one stranger an hour). Members past the
    ``MAX_TIES`` checked are not counted: the reads stay bounded, and the 64 checked
    are more than velocity's ``strangers_hard`` already, so the evidence is at full
    strength whatever the room's size."""
    vouching = set(checked).difference(members.strangers, members.unvouched)
    n = len(checked)
    if room_standing(members, n, room).strangers:
        return Carried(members, ())
    elsewhere = [m for i, m in enumerate(checked)
                 if m in vouching and carried[i] and not carried[n + i]]
    found = room_standing(Standing(members.strangers, [*members.unvouched, *elsewhere]), n,
                          room)
    if found.strangers or found.unvouched or len(vouching) == everyone:
        return Carried(found, ())
    spent = set(elsewhere)
    mine = [m for m in checked if m in vouching and m not in spent]
    return Carried(found, (*mine, *(room + _CARRIED + m for m in mine)))


def counted(found: Standing, unvouched: int) -> list[str]:
    """The recipients who count as strangers: ``found``'s strangers, and its unvouched
    too once ``unvouched`` (this message's, or a window's with it) passes
    ``UNVOUCHED_ALLOWANCE``."""
    if unvouched > UNVOUCHED_ALLOWANCE and found.unvouched:
        return [*found.strangers, *found.unvouched]
    return found.strangers


def strangers(recipients: Sequence[str], queries: tuple[Contains, Contains],
              facts: Mapping[Any, Any], back: Sequence[Contains]) -> list[str]:
    """The recipients of one message who count as strangers, judged on the message alone
    (``Standing``: its strangers, and its unvouched when it goes to more than
    ``UNVOUCHED_ALLOWANCE`` of them at once)."""
    found = standing(recipients, queries, facts, back)
    return counted(found, len(found.unvouched))

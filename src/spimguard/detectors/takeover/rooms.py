"""A settled room is one act of the burst: its members did not get chosen by the sender now.

The burst counts contacts a session chose to write to. A group post names everyone in
its room, and in a room the IM server says the sender and they were in before the last
``rooms.SETTLED_AFTER`` (a week: before any session that could be writing now signed
in, and before anything it could have filled the room with), the sender chose the room,
not them: the owner's phone on mobile data, posting into its family group, wrote to one
room. An intruder's new room of the scraped list, or the scraped contacts it adds to an
old room, joined just now: they count one by one, as every post's recipients did before.

So for the burst (``burst.measure``) the settled members of such a post leave its
dormant ties and the contacts it sent a pitch, and the room stands in for them, one
target named by its conversation (``token``), when one of them would have counted:
posting into six of the victim's old rooms is six targets, a full burst, and one more
post into the same room is none. Whatever else judges the post (its session's risk, its
words, velocity's strangers) sees the members as before.

The room stands in only for a post to the room: one that names as many people as it
has settled members (those who joined lately may be missing from a post sent as they
joined: they count one by one anyway). A post that names fewer (the conversation a
label the sender's client put on messages to people it picked) chose them, and they
count one by one (review, session 15: thirty posts to two of an old room's members
each reached all sixty contacts of a scraped list as one target).

Nothing settles without the server's word: a room never stated (a platform that sends no
``room`` events), or one the sender joined lately, is counted as before. Pushing the
contacts one added out of the room's ``joined`` set (``rooms.MAX_MEMBERS`` newer joins)
pushes them out of its members first: a member the room forgot counts one by one too.
"""

from __future__ import annotations

from typing import NamedTuple

from ... import rooms
from ...state.ops import Contains, Distinct, Query
from ..base import Facts
from . import keys


class RoomPlan(NamedTuple):
    """What a group post in a conversation reads of its room (``plan``)."""

    token: str  # the room as one of the burst's targets (``token``)
    reach: int  # the people the post names, its sender with them
    size: Distinct  # the room's stated members ...
    fresh: Distinct  # ... and those who joined lately: a post naming fewer of the rest chose
    members: Contains  # the sender, then each recipient: a member the server stated
    joined: Contains  # ... and which of them joined lately
    burst: Contains  # the room in the session's burst set ...
    doubted: Contains  # ... in the account's unproven sessions' burst set ...
    life: Contains  # ... among the dormant ties the session wrote to over its life ...
    text_to: Contains | None  # ... among the targets it sent this pitch (a link)
    reads: tuple[Query, ...]


class Settled(NamedTuple):
    """A group post's settled part (``settled``)."""

    token: str
    people: frozenset[str]  # recipients in the room since before the sender could choose
    dormant: bool  # some of them are dormant ties: the room is one dormant target
    listed: bool  # some of them are contacts: the room is one target of a pitch
    in_burst: bool  # the room is already in the session's burst set ...
    in_doubted: bool
    in_life: bool
    in_text: bool


def token(conversation: str) -> str:
    """The room's name among the burst's targets. A unit separator no account id of a
    real platform holds keeps it apart from the people in the same sets."""
    return f"conv\x1f{conversation}"


def plan(account: str, session: str, conversation: str, people: tuple[str, ...],
         text_key: str | None, reach: int) -> RoomPlan:
    """The reads of a group post in ``conversation`` to ``people`` (the checked
    recipients) of the ``reach`` people it names, its sender with them; ``text_key``: the
    session's pitch set, for a message with a link."""
    name = token(conversation)
    named = (account, *people)
    size = Distinct(rooms.members(conversation), rooms.ROOM_TTL)
    fresh = Distinct(rooms.joined(conversation), rooms.SETTLED_AFTER)
    members = Contains(rooms.members(conversation), named)
    joined = Contains(rooms.joined(conversation), named)
    burst = Contains(keys.burst(account, session), (name,))
    doubted = Contains(keys.doubted(account), (name,))
    life = Contains(keys.lifelong(account, session), (name,), keys.LIFE)
    text_to = None if text_key is None else Contains(text_key, (name,), keys.LIFE)
    reads = tuple(q for q in (size, fresh, members, joined, burst, doubted, life, text_to)
                  if q is not None)
    return RoomPlan(name, reach, size, fresh, members, joined, burst, doubted, life, text_to, reads)


def settled(room: RoomPlan | None, facts: Facts, dormant: tuple[str, ...],
            contacts: tuple[str, ...]) -> Settled | None:
    """The post's settled members, of its ``dormant`` ties and listed ``contacts``; None
    when nothing of the room is settled (the post is counted as before)."""
    if room is None or facts[room.size] - facts[room.fresh] > room.reach:
        return None  # no room, or a post to some of its settled members: it chose them
    stated = facts[room.members]
    fresh = facts[room.joined]
    if not stated[0] or fresh[0]:
        return None  # the sender is no settled member of the room
    people = frozenset(p for p, member, new in zip(room.members.members[1:], stated[1:],
                                                   fresh[1:], strict=True)
                       if member and not new)
    if not people:
        return None
    text_to = room.text_to
    return Settled(room.token, people, any(p in people for p in dormant),
                   any(p in people for p in contacts), facts[room.burst][0],
                   facts[room.doubted][0], facts[room.life][0],
                   text_to is not None and facts[text_to][0])

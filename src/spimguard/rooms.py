"""Who is in a group conversation, as the IM server states it (``room`` events), and who
joined it lately.

A post into a room reaches its members because they joined it, not because the sender
chose them as it wrote; unless the sender (or whoever holds its account) put them there
lately. So a room keeps two member sets: its members (``members``), and those among them
who joined in the last ``SETTLED_AFTER`` (``joined``). A member not in the second joined
before any session that could be writing now: the takeover detector counts such a room
as one act, not its members one by one (``detectors.takeover.rooms``).

Only the IM server states membership (``events.Room``); a message's recipients are the
sender's client's claim and never make anyone a member. A room nobody stated is no room
here: its posts are counted as they always were.
"""

from __future__ import annotations

from .events import Room
from .state.ops import Remove, Touch, Write

# A member stays known this long after the last event that stated it (as a contact list);
# a room the server never restates in a year is forgotten, and counted as before.
ROOM_TTL = 365 * 86_400.0
# A member who joined this recently may have been chosen by whoever holds the account
# now: a week, far beyond a session's burst (10 min) and what an intruder who fills a
# room waits before it posts while the owner can still notice; a family group formed
# before it is settled. A member's join restated with a ``since`` older than this is
# settled at once.
SETTLED_AFTER = 7 * 86_400.0
# Members a room's sets hold: the most one post may name (``Limits.max_recipients``).
# Past it the oldest go, from both sets in the order they joined: a member the room
# forgot counts one by one again (``detectors.takeover.rooms``).
MAX_MEMBERS = 10_000


def members(conversation: str) -> str:
    """The room's members the IM server stated, each at the time of its last statement."""
    return f"room:in:{conversation}"


def joined(conversation: str) -> str:
    """The room's members who joined in the last ``SETTLED_AFTER``."""
    return f"room:new:{conversation}"


def join(conversation: str, people: tuple[str, ...], age: float = 0.0,
         cap: int | None = None) -> list[Write]:
    """``people`` joined the room ``age`` seconds before the server said so (a restated
    membership; 0: they join now). ``cap``: the members a room's sets hold, when the
    caller remembers fewer of a room than ``MAX_MEMBERS`` (None) (the Matrix bridge's rooms:
    a remote server's joins, stated before its auth, grow no more than the bridge's own
    member list does)."""
    cap = MAX_MEMBERS if cap is None else cap
    out: list[Write] = [Touch(members(conversation), people, ROOM_TTL, cap)]
    if age < SETTLED_AFTER:
        out.append(Touch(joined(conversation), people, SETTLED_AFTER, cap))
    return out


def leave(conversation: str, people: tuple[str, ...]) -> list[Write]:
    """``people`` left the room (or were removed, or banned)."""
    return [Remove(members(conversation), people), Remove(joined(conversation), people)]


def writes(event: Room) -> list[Write]:
    """What a ``room`` event changes: who is in the room, and who joined it lately."""
    people = tuple(dict.fromkeys(event.members))
    if event.membership == "leave":
        return leave(event.conversation, people)
    return join(event.conversation, people,
                0.0 if event.since is None else event.ts - event.since)

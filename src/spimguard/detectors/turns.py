"""The pitch a recipient reads, however its sender cut it into messages (session 34,
``split34``): the bulk detector's memory of an account's unproven sessions' half
utterances.

To its reader, words and the site a session gives it right before or after them are
one utterance: a seller that sends its pitch's words alone, then the link alone (too few
words to cluster), still sells by words with a site, and bulk's rule on one hand in many
accounts (``BULK_UNPROVEN_SESSIONS``) judges the utterance, not the cut. A *half* is a
one-to-one message from a session that is words with no site (enough words to cluster)
or a site with too few words to cluster; the other half is the same account's half (from
any of its unproven sessions) to the same recipient within ``BulkSettings.turn_window``.

Kept only for sessions the takeover detector judged unproven (SESSION_UNFAMILIAR) when
they sent, under one key an account (``key``), read by every half from a session the
takeover detector doubts (``BulkDetector._turn``; only such a half writes it or is judged
by it, so any other's read, 0.7 of the mixed load's events, is deferred and never made): the
account's unproven sessions' halves still waiting for their other half (``Turn.halves``,
by recipient, at most ``turn_recipients``), and the clusters of the words they gave with
a site as one utterance (``Turn.pitched``, as many), through which the next copy of those
words is known as words sold with a site (``gave_site``): the words' cluster is not read
when the site comes, for which one it is is known only once this key is read (one read
a message). A cluster, not a text's band keys: each copy of a pitch greets its own
recipient by name and shares only some of its bands with the copy before.

An account's, not a session's (``review34b``): the reader sees who wrote, not from which
device, and a seller signed in twice gave the words from one session and the link from
the other, 42 of 60 reached as with no join (20 joined). The same reason
``unproven_sent`` counts all the account's unproven sessions (``review32c``); and one
key an account bounds what a seller signing in anew for every pitch can make it keep.
The owner's familiar session never writes it, and a half it reads from it is judged by
its own session (``BulkDetector._pitching``), so a seller's halves hold none of hers.
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec

from ..state.ops import Get, Put, key_part
from .base import Context, Facts
from .takeover.keys import sites

PREFIX = "bulk:turn:"


class Half(msgspec.Struct, array_like=True):
    """A half utterance waiting for its other half: when, the words' cluster (``Cluster.id``;
    "" for a site given alone) and, for words, how many other accounts' unproven sessions
    had sent them with a site as the words were sent (0: not the hand's words then)."""

    at: float
    cluster: str = ""
    others: int = 0


class Turn(msgspec.Struct):
    """An account's halves (most recent last), the clusters of the words it sold with a
    site (most recent last) and, for the last, the other accounts whose unproven sessions
    had sent them with a site (``Half.others``): a site it then gives alone, before any
    words, continues the hand's pitch (``continued``)."""

    halves: dict[str, Half] = msgspec.field(default_factory=dict, name="h")
    pitched: tuple[str, ...] = msgspec.field(default=(), name="p")
    others: int = msgspec.field(default=0, name="o")


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Turn)
_JOINED = "bulk:joined"  # the event's scratch entry of ``joined``


def key(account: str) -> str:
    """The account's key (``key_part``: one key an id, whatever it holds)."""
    return f"{PREFIX}{key_part(account)}"


def read(ctx: Context, words: bool) -> Get | None:
    """The read of the account's turn when the message is a half: one-to-one from a
    session, with ``words`` to cluster and no site, or a site and too few words. Words
    with a site are whole, and a message with neither has nothing to join. Planned, and
    made only once the session is known doubted (``BulkDetector._turn``)."""
    message = ctx.message
    if message is None or not message.session or len(ctx.to) != 1:
        return None
    if words == bool(sites(ctx.view)):
        return None
    return Get(key(message.sender))


class Joined(NamedTuple):
    """The account's turn as read, and the other half of the message's utterance: the
    account's half to the same recipient within the window, of the other kind."""

    turn: Turn
    half: Half | None


def joined(ctx: Context, facts: Facts, get: Get, window: float) -> Joined:
    """``Joined`` for the event, once (``detect`` and ``writes`` ask)."""
    found: Joined | None = ctx.scratch.get(_JOINED)
    if found is None:
        found = ctx.scratch[_JOINED] = _joined(ctx, facts[get], window)
    return found


def _joined(ctx: Context, value: bytes | None, window: float) -> Joined:
    turn = _DECODER.decode(value) if value.__class__ is bytes else Turn()
    half = turn.halves.get(ctx.to[0])
    words = bool(sites(ctx.view))  # the other half of a site is words, and back
    if half is None or ctx.event.ts - half.at > window or bool(half.cluster) != words:
        return Joined(turn, None)
    return Joined(turn, half)


def continued(found: Joined) -> int:
    """The other accounts whose unproven sessions sent, with a site, the words of the
    utterance a site alone belongs to: the words the account gave the recipient just
    before, else, with none, the hand's words it sold last (``Turn.others``): a seller
    giving the link before the words (``split34``) is judged at its next site, not only
    at the words, whose hold left its later links free."""
    return found.half.others if found.half is not None else found.turn.others


def gave_site(found: Joined, cluster: str) -> bool:
    """Whether words (of ``cluster``) go with a site in the account's utterance: a site it
    gave the recipient just before, or words of that cluster it gave another with a site
    after them (``Turn.pitched``)."""
    return found.half is not None or cluster in found.turn.pitched


def written(ctx: Context, get: Get, found: Joined, cluster: str, others: int,
            window: float, kept: int, ttl: float) -> Put:
    """The account's turn after the message, a half from an unproven session: ``cluster``
    its words' ("" for a site), ``others`` the accounts whose unproven sessions sent them
    with a site (``Half.others``). Joined to its other half, the utterance is whole: its
    words are what the account sells (``pitched``, kept ``ttl``: the seller's next pitch
    may be hours later); else it waits ``window`` for it. Each list keeps its ``kept``
    most recent."""
    turn, now, recipient = found.turn, ctx.event.ts, ctx.to[0]
    halves = {r: h for r, h in turn.halves.items() if now - h.at <= window and r != recipient}
    pitched, hand = turn.pitched, turn.others
    if found.half is not None:
        sold = cluster or found.half.cluster
        pitched = (*[c for c in pitched if c != sold], sold)[-kept:]
        hand = others if cluster else found.half.others
    else:
        halves[recipient] = Half(float(now), cluster, others)
    value = _ENCODER.encode(Turn(dict(list(halves.items())[-kept:]), pitched, hand))
    return Put(get.key, value, ttl if pitched else window)

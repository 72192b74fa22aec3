"""Exactly once per event id: body digests, conflicts, and the outbox of a claimed event.

An event id names one event. A repeated id with the same body (the digest of
its canonical encoding, so ``"ts": "2026-…Z"`` and the same instant in Unix
seconds are one body) gets the stored answer and counts nothing; with another
type or body it is a client's mistake or an attacker's probe and gets 409
(``field: "id"``), changing nothing: otherwise a login's id reused by a message
would fail every batch that carries it, and a reused message id would quietly
return a verdict about another text.

Across nodes (``state/shared.py``) a finished event's records and answer travel
with its claim as an *outbox*, so whichever node sees the id next can answer and
re-record it without judging it again. Failure model, for a node that dies
around its write script (which applies an event's state writes and stores its
outbox in one atomic step):

- a crash before the script: nothing counted; the claim's lease runs out and a
  retry, on any node, judges the event;
- a crash between the script and the records commit: counted once; a retry, on
  any node, within the claim's hour finds the outbox, records it and answers the
  same verdict without counting again; an event never retried keeps its counts
  without a log entry (it was never answered, so the IM server applied its
  fail mode);
- Redis lost (restart without persistence): claims and hot state go with it;
  committed ids are still answered from PostgreSQL; an id in flight at that
  moment may be judged again, once, against the emptied state.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import msgspec

from .errors import BadInput, StateUnavailable
from .events import Accepted, Event, Message, Result, Verdict
from .records import Answer, CampaignMessage, LogEntry, ReportEntry
from .state.shared import LEASE_MS, Claim, Claiming

_verdict_decoder = msgspec.json.Decoder(Verdict)
_accepted_decoder = msgspec.json.Decoder(Accepted)
_POLL = 0.02  # seconds between looks at a claim another node is finishing


class Outbox(msgspec.Struct, array_like=True):
    """What an event leaves in the records, written wherever its answer is needed."""

    entry: LogEntry
    report: ReportEntry | None = None
    campaign: CampaignMessage | None = None


_outbox_decoder = msgspec.msgpack.Decoder(Outbox)


def _plain(value: Any) -> Any:
    if isinstance(value, float):  # events.EventTime
        return float(value)
    raise NotImplementedError(type(value))


# Fields the contract gained after digests were first stored. At their default they are
# left out of the digest, so an event stored by an earlier release and retried after an
# upgrade has the digest it had (not a 409). Every later additive field joins this set.
_LATER_FIELDS = {"message": frozenset({"encrypted", "size"})}


class _Later(NamedTuple):
    """A kind's later fields (``_LATER_FIELDS``), as ``digest`` cuts them."""

    values: Callable[[Event], Any]  # their values (one, or a tuple of several)
    defaults: Any  # what ``values`` gives when every one holds its default
    cut: int  # the bytes of their members at the default, and of the closing brace
    # (attribute, member prefix ``,"wire":``, default, member at the default) of each
    members: tuple[tuple[str, bytes, Any, bytes], ...]


@functools.cache
def _later(kind: type[Event]) -> _Later | None:
    """The kind's later fields, None if it has none, looked up once per kind:
    ``msgspec.structs.fields`` resolves the type annotations on every call, which cost
    more than the rest of the digest.

    The later fields must be the kind's last (``digest`` cuts them off the encoding's
    end): a field added later in the middle fails here, at the first digest."""
    later = _LATER_FIELDS.get(kind.__struct_config__.tag, frozenset())  # type: ignore[arg-type]
    fields = msgspec.structs.fields(kind)
    tail = fields[len(fields) - len(later):] if later else ()
    if {info.encode_name for info in tail} != later:
        raise TypeError(f"{kind.__name__}: the fields added later must come last")
    if not tail:
        return None
    members = []
    for info in tail:
        prefix = b',"%s":' % info.encode_name.encode()
        members.append((info.name, prefix, info.default,
                        prefix + msgspec.json.encode(info.default)))
    defaults = tuple(info.default for info in tail)
    return _Later(operator.attrgetter(*[info.name for info in tail]),
                  defaults if len(defaults) > 1 else defaults[0],
                  1 + sum(len(member[3]) for member in members), tuple(members))


def digest(event: Event) -> str:
    """SHA-256 of the event's canonical encoding: type tag and every field, defaults too,
    but for fields added later that hold their default (``_LATER_FIELDS``).

    The later fields are the encoding's last members, so those at their default are cut
    off its end (the bytes they are encoded to are known) rather than decoding the whole
    event and encoding it again without them: msgspec encodes a value alike wherever it
    stands, so the bytes are those the decoding round gave (``test_once``). Nearly every
    event holds them all at their defaults: told by one comparison, cut at once."""
    encoded = msgspec.json.encode(event, enc_hook=_plain)
    later = _later(type(event))
    if later is not None and later.values(event) == later.defaults:
        encoded = encoded[:-later.cut] + b"}"
    elif later is not None:
        kept, cut = [], 1  # the closing brace, then the later members
        for name, prefix, default, at_default in later.members:
            value = getattr(event, name)
            if value == default:
                cut += len(at_default)
            else:
                member = prefix + msgspec.json.encode(value, enc_hook=_plain)
                cut += len(member)
                kept.append(member)
        encoded = b"".join([encoded[:-cut], *kept, b"}"])
    return hashlib.sha256(encoded).hexdigest()


def conflict(event_id: str) -> BadInput:
    return BadInput(f"event id {event_id[:80]!r} was already used by an event of another type "
                    "or content", code="conflict", field="id", status=409)


def check_batch(events: Sequence[Event], digests: Sequence[str],
                known: Mapping[str, Answer]) -> None:
    """Refuse the whole batch before anything is counted if an id meets another body."""
    if not known and len(events) < 2:  # a server's batch of one new event (most of them)
        return
    seen: dict[str, str] = {i: a.digest for i, a in known.items() if a.digest}
    for event, body in zip(events, digests, strict=True):
        if seen.setdefault(event.id, body) != body:
            raise conflict(event.id)


def answer(event: Event, body: bytes) -> Result:
    """The stored answer for a repeat of ``event``; a log entry made before digests were
    kept can still betray another type of event (a login's answer is no verdict)."""
    try:
        return (_verdict_decoder if isinstance(event, Message) else _accepted_decoder
                ).decode(body)
    except msgspec.ValidationError:
        raise conflict(event.id) from None


def pack(outbox: Outbox) -> bytes:
    return msgspec.msgpack.encode(outbox, enc_hook=_plain)


def unpack(raw: bytes) -> Outbox:
    return _outbox_decoder.decode(raw)


def settled(claims: Claiming, event_id: str, body: str, claim: Claim, now: float) -> Claim:
    """The claim once it is finished elsewhere, or ours (its holder's lease ran out).

    A concurrent duplicate waits here for the first try's answer instead of judging
    the event a second time; past twice the lease something is wrong with the store.
    """
    deadline = time.monotonic() + 2 * LEASE_MS / 1000
    while True:
        if claim.digest != body:
            raise conflict(event_id)
        if claim.mine or claim.outbox:
            return claim
        if time.monotonic() > deadline:
            raise StateUnavailable(f"event {event_id[:80]!r} is held by a node that neither "
                                   "finishes nor lets go")
        time.sleep(_POLL)
        claim, _ = claims.claim_read(event_id, body, (), now)

"""The public contract's events and answers, validated once at the edge.

Everything that enters spimguard is decoded here with msgspec into typed structs;
past this module no code re-checks types. Size bounds that operators may tune
(``Limits``) are checked right after decoding, before anything is stored.
"""

from __future__ import annotations

import ipaddress
import math
import operator
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from .errors import BadInput

# The latest event time accepted (2100-01-01): guards against milliseconds sent as seconds.
_MAX_TS = 4_102_444_800.0

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
ShortText = Annotated[str, msgspec.Meta(max_length=512)]
# The largest ``size`` an encrypted message may claim: 1 GiB, past any IM server's limit
# (it is metadata, never bytes spimguard holds, but it is bounded like every field).
MAX_SIZE = 1 << 30


def _whose(field: str) -> property:
    """An event kind's ``account`` when another field holds it (a message's sender, a
    report's reporter): a property whose getter is an ``attrgetter``, so reading it runs
    no Python frame (a ``def`` property's frame was ~7 calls an event, ``calls40``)."""
    return property(operator.attrgetter(field))


class EventTime(float):
    """Event time in Unix seconds; the wire accepts RFC 3339 strings or numbers."""


def parse_ts(raw: object) -> EventTime:
    if isinstance(raw, bool):
        raise TypeError("ts must be an RFC 3339 string or Unix seconds")
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:  # an integer of hundreds of digits
            raise ValueError("ts is out of range (Unix seconds between 1970 and 2100)") from None
    elif isinstance(raw, str):
        try:
            stamp = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise ValueError(f"ts {raw[:40]!r} is not an RFC 3339 time") from None
        if stamp.tzinfo is None:
            raise ValueError("ts needs a time zone offset (e.g. 'Z' or '+02:00')")
        value = stamp.timestamp()
    else:
        raise TypeError("ts must be an RFC 3339 string or Unix seconds")
    if not math.isfinite(value) or not 0 <= value < _MAX_TS:
        raise ValueError("ts is out of range (Unix seconds between 1970 and 2100)")
    return EventTime(value)


def rfc3339(ts: float) -> str:
    """Unix seconds as the RFC 3339 time (UTC, ``Z``) every answer uses."""
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _dec_hook(kind: type, raw: Any) -> Any:
    if kind is EventTime:
        return parse_ts(raw)
    raise NotImplementedError(kind)


class Client(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    id: ShortText = ""
    ip: ShortText = ""


class Attachment(msgspec.Struct, frozen=True):
    name: ShortText = ""
    mime: ShortText = ""
    sha256: Annotated[str, msgspec.Meta(pattern="^([0-9a-fA-F]{64})?$")] = ""
    size: Annotated[int, msgspec.Meta(ge=0)] = 0


# Each subclass says frozen=True again: msgspec inherits it (it is frozen at run time
# either way), mypy's dataclass_transform does not and took them for mutable.
class _Event(msgspec.Struct, frozen=True, tag_field="type"):
    id: Id
    ts: EventTime


class Message(_Event, frozen=True, tag="message"):
    """A message from ``sender`` to ``recipients``. An end-to-end encrypted one
    (``encrypted``) carries no ``text``: the server sees who writes to whom, when, from
    which session and how much (``size``), and spimguard judges it on that alone."""

    sender: Id
    recipients: list[Id]
    # Required unless encrypted: the None default only marks "absent" until
    # ``__post_init__``, which refuses it on a plain message and makes it "" on an
    # encrypted one, so past decoding ``text`` is always a str.
    text: Annotated[str, msgspec.Meta(
        description="what the message says; required unless `encrypted` (then absent or "
                    "empty)")] = None  # type: ignore[assignment]
    session: ShortText = ""
    client: Client = Client()
    conversation: ShortText = ""
    attachments: list[Attachment] = []
    encrypted: Annotated[bool, msgspec.Meta(
        description="end-to-end encrypted: judged on metadata alone (who, to whom, when, "
                    "session, size, attachments' names and types)")] = False
    size: Annotated[int, msgspec.Meta(
        ge=0, le=MAX_SIZE, description="bytes of the encrypted message's ciphertext")] = 0

    def __post_init__(self) -> None:
        if self.text is None:
            if not self.encrypted:
                raise ValueError("Object missing required field `text`")
            msgspec.structs.force_setattr(self, "text", "")
        elif self.encrypted and self.text:
            raise ValueError("field `text` must be absent or empty on an encrypted message "
                             "(the server cannot read it; send its `size`)")

    if TYPE_CHECKING:
        @property
        def account(self) -> str: ...
    else:  # the account the event is about, asked ~7 times an event: read in C (``_whose``)
        account = _whose("sender")


class Invite(Message, frozen=True, tag="invite"):
    """An invitation into a conversation (a Matrix room invite, an XMPP MUC invite).

    A contact attempt like a message, usually without text: judged like one (a
    verdict comes back), so invitation fan-out to strangers is stopped the same
    way. An addition to the contract of DESIGN.md."""

    text: str = ""


class Login(_Event, frozen=True, tag="login"):
    account: Id
    session: ShortText = ""
    ip: ShortText = ""
    client: Client = Client()
    success: bool = True


class Contacts(_Event, frozen=True, tag="contacts"):
    account: Id
    contacts: list[Id]


class ContactsRead(_Event, frozen=True, tag="contacts_read"):
    account: Id
    session: ShortText = ""
    count: Annotated[int, msgspec.Meta(ge=0)] = 0


class Report(_Event, frozen=True, tag="report"):
    reporter: Id
    message_id: Id
    label: Literal["spam", "ham"]
    text: Annotated[str, msgspec.Meta(
        description="the reported message's words as the reporter's client shows them: "
                    "what an encrypted message teaches the learners (weighed like the "
                    "report)")] = ""

    if TYPE_CHECKING:
        @property
        def account(self) -> str: ...
    else:
        account = _whose("reporter")


class AccountInfo(_Event, frozen=True, tag="account"):
    """What the IM server already knows about an account (bootstraps its profile, e.g. on
    the day spimguard is installed): when it was created, the networks (CIDRs) and
    client ids its owner uses."""

    account: Id
    created: EventTime | None = None
    networks: Annotated[list[ShortText], msgspec.Meta(max_length=64)] = []
    clients: Annotated[list[ShortText], msgspec.Meta(max_length=16)] = []


class Appeal(_Event, frozen=True, tag="appeal"):
    """The sender of a held message asks for a review (shown in the operator console)."""

    account: Id
    message_id: Id
    text: str = ""


class Challenge(_Event, frozen=True, tag="challenge"):
    """The IM server's word that the owner's challenge (a second factor: a code sent to
    the owner's phone or mail, an authenticator prompt) given to ``session`` was answered
    (``passed``) or failed (a wrong answer, or none in time). A pass proves the session is
    the account holder's; a failure, that whoever holds it has the password alone. Only
    the API token's holder (the IM server) can send it. An addition to the contract of
    DESIGN.md."""

    account: Id
    passed: bool
    session: Annotated[str, msgspec.Meta(
        max_length=512, description="the session the challenge was given to (\"\": the "
                                    "account's messages sent without one)")] = ""


class Room(_Event, frozen=True, tag="room"):
    """The IM server's word on who is in a group ``conversation``: ``members`` joined it
    (``membership`` "join"; the account that creates a room joins it first) or left it
    ("leave": left, were removed or banned). ``account`` is whose act it was: the member
    who joined or left, or who added or removed them. ``since``: when they joined, when
    that is earlier than ``ts``, for a membership the server restates (the rooms it
    already had on the day spimguard is installed). Only the API token's holder, the IM
    server, can send it: what a sender's client claims about a room is never one. What
    it tells the takeover detector: who was in a room before a session could have chosen
    them (``rooms``). An addition to the contract of DESIGN.md."""

    account: Id
    conversation: Id
    members: list[Id]
    membership: Literal["join", "leave"] = "join"
    since: Annotated[EventTime | None, msgspec.Meta(
        description="when the members joined, if before `ts` (a restated membership); "
                    "absent: at `ts`")] = None


Event = (Message | Invite | Login | Contacts | ContactsRead | Report | AccountInfo | Appeal
         | Challenge | Room)
EVENT_TYPES = ("message", "invite", "login", "contacts", "contacts_read", "report", "account",
               "appeal", "challenge", "room")


class Batch(msgspec.Struct, frozen=True):
    events: list[Event]


# ---- answers -------------------------------------------------------------------------

Action = Literal["deliver", "warn", "hold", "block"]
# The verdicts whose message reaches its recipient (a warning is shown beside the text):
# what a recipient could answer, what makes a tie, what a sender's reach counts.
RECEIVED: frozenset[Action] = frozenset({"deliver", "warn"})
AccountActionKind = Literal["none", "challenge", "suspend_sending"]


class SignalOut(msgspec.Struct, frozen=True):
    code: str
    score: float
    detail: str


class AccountAction(msgspec.Struct, frozen=True):
    action: AccountActionKind = "none"
    account: str = ""
    reason: str = ""
    # Additive to the v1 contract: the session a suspension is scoped to ("" = whole account).
    session: str = ""


class Notice(msgspec.Struct, frozen=True):
    recipient: str | None = None
    sender: str | None = None


class Verdict(msgspec.Struct, frozen=True):
    id: str
    action: Action
    score: float
    signals: list[SignalOut]
    campaign: str | None = None
    account_action: AccountAction = AccountAction()
    notice: Notice = Notice()


class Accepted(msgspec.Struct, frozen=True):
    id: str
    status: Literal["accepted"] = "accepted"
    account_action: AccountAction = AccountAction()
    # Additive to the v1 contract: a login's (or contact read's) risk, and why.
    score: float = 0.0
    signals: list[SignalOut] = []


Result = Verdict | Accepted


# ---- decoding --------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """Size bounds on what one request may carry (config ``[limits]``)."""

    max_text_bytes: int = 64 * 1024
    max_recipients: int = 10_000
    max_batch_events: int = 10_000
    max_body_bytes: int = 16 * 1024 * 1024
    max_contacts: int = 10_000
    max_attachments: int = 64
    # How far (seconds) an event's ts may run ahead of this server's wall clock: a later
    # ts is refused at the API and clamped by the engine, so no one event moves its clock.
    max_clock_skew: float = 300.0
    # Seconds a client may take to send a request body (a trickled body is cut off, 408).
    body_timeout: float = 30.0
    # Messages (/v1/check) waiting to be judged; past it a request gets 503 + Retry-After.
    # /v1/events batches wait in a queue of a sixteenth of this (at least one).
    max_queued: int = 512
    # Seconds a /v1/check may wait for its turn; one that waited longer gets 503 unjudged.
    max_wait: float = 1.0


_message_decoder = msgspec.json.Decoder(Message, dec_hook=_dec_hook)
_event_decoder = msgspec.json.Decoder(Event, dec_hook=_dec_hook)
_batch_decoder = msgspec.json.Decoder(Batch, dec_hook=_dec_hook)
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
# A required field missing, or a field a whole-object check refused: the field it names.
_MISSING = re.compile(r"^(?:Object missing required field|field) `(?P<name>[^`]{1,64})`")
_UNKNOWN_TYPE = re.compile(
    r"^Invalid value '(?P<name>.*)' - at `\$(?P<path>(?:\.events\[\d+\])?)\.type`$")


def _bad(exc: msgspec.DecodeError, prefix: str = "") -> BadInput:
    text = str(exc)
    unknown = _UNKNOWN_TYPE.match(text)
    if unknown:
        name = unknown["name"][:64]
        return BadInput(f"unknown event type {name!r}; expected one of {', '.join(EVENT_TYPES)}",
                        code="unknown_event_type",
                        field=(prefix + unknown["path"] + ".type").lstrip("."))
    if not isinstance(exc, msgspec.ValidationError):
        return BadInput(f"body is not valid JSON: {text}", code="malformed_json", status=400)
    where = _PATH.search(text)
    field = (prefix + where["path"]).lstrip(".") if where else prefix
    missing = _MISSING.match(text)
    if missing:  # the path names the object; the field is the one it lacks
        field = f"{field}.{missing['name']}".lstrip(".")
    message = _PATH.sub("", text)
    return BadInput(message, code="invalid_event", field=field or None)


def _too_deep(body: bytes | str) -> BadInput:
    """A 400 naming where a body nests deeper than the decoder follows (read on error only)."""
    path: list[str | int] = []  # per open container: the current key or index
    for token in _TOKEN.finditer(body if isinstance(body, str) else body.decode("utf-8",
                                                                                 "replace")):
        kind = token.group()
        if kind in "[{":
            path.append(0 if kind == "[" else "")
            if len(path) > _DEPTH_SHOWN:
                break
        elif kind in "]}":
            if path:
                path.pop()
        elif kind == ",":
            if path and isinstance(path[-1], int):
                path[-1] += 1
        elif token["key"] is not None and path and isinstance(path[-1], str):
            path[-1] = token["key"][:64]
    # The first three steps name the field (``junk[0][0]``, ``events[3].junk``).
    field = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path[:3])
    field = field.lstrip(".")
    return BadInput("body nests too deeply", code="malformed_json", status=400,
                    field=field or None)


_DEPTH_SHOWN = 64
_TOKEN = re.compile(r'"(?P<key>(?:[^"\\]|\\.)*)"\s*:|"(?:[^"\\]|\\.)*"|[\[\]{},]')


def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}".lstrip(".")


def check_bounds(event: Event, limits: Limits, prefix: str = "") -> None:
    """Bounds that depend on config; called for every decoded event."""
    if isinstance(event, Message):
        if not event.recipients:
            raise BadInput("a message needs at least one recipient",
                           field=_field(prefix, "recipients"))
        if len(event.recipients) > limits.max_recipients:
            raise BadInput(f"{len(event.recipients)} recipients exceed the limit of "
                           f"{limits.max_recipients}", code="too_large",
                           field=_field(prefix, "recipients"), status=413)
        if len(event.text.encode("utf-8", "surrogatepass")) > limits.max_text_bytes:
            raise BadInput(f"text exceeds {limits.max_text_bytes} bytes", code="too_large",
                           field=_field(prefix, "text"), status=413)
        if len(event.attachments) > limits.max_attachments:
            raise BadInput(f"more than {limits.max_attachments} attachments", code="too_large",
                           field=_field(prefix, "attachments"), status=413)
    elif isinstance(event, Room):
        _check_room(event, limits, prefix)
    elif isinstance(event, Contacts) and len(event.contacts) > limits.max_contacts:
        raise BadInput(f"{len(event.contacts)} contacts exceed the limit of "
                       f"{limits.max_contacts}", code="too_large",
                       field=_field(prefix, "contacts"), status=413)
    elif isinstance(event, AccountInfo):
        for index, cidr in enumerate(event.networks):
            try:
                ipaddress.ip_network(cidr.strip(), strict=False)
            except ValueError:
                raise BadInput(f"networks[{index}] = {cidr[:60]!r} is not a CIDR",
                               field=_field(prefix, f"networks[{index}]")) from None
    elif isinstance(event, Report | Appeal) and len(
            event.text.encode("utf-8", "surrogatepass")) > limits.max_text_bytes:
        raise BadInput(f"text exceeds {limits.max_text_bytes} bytes", code="too_large",
                       field=_field(prefix, "text"), status=413)


def _check_room(event: Room, limits: Limits, prefix: str) -> None:
    """A room event names one to ``max_recipients`` members (as many as one post may
    reach), and a ``since`` no later than the event itself."""
    if not event.members:
        raise BadInput("a room event needs at least one member", field=_field(prefix, "members"))
    if len(event.members) > limits.max_recipients:
        raise BadInput(f"{len(event.members)} members exceed the limit of "
                       f"{limits.max_recipients}", code="too_large",
                       field=_field(prefix, "members"), status=413)
    if event.since is not None and event.since > event.ts:
        raise BadInput("since is later than the event's ts", field=_field(prefix, "since"))


def check_clock(events: list[Event], limits: Limits, now: float, prefix: str = "") -> None:
    """Refuse (422, ``ts``) an event dated beyond ``max_clock_skew`` ahead of ``now``.

    Applied where events arrive live (the HTTP API), not to replays of past logs."""
    for index, event in enumerate(events):
        if event.ts > now + limits.max_clock_skew:
            where = f"{prefix}[{index}]." if prefix else ""
            raise BadInput(f"ts is more than {limits.max_clock_skew:g} s ahead of this "
                           "server's clock", field=f"{where}ts")


def _check_size(body: bytes, limits: Limits) -> None:
    if len(body) > limits.max_body_bytes:
        raise BadInput(f"body exceeds {limits.max_body_bytes} bytes", code="too_large",
                       status=413)


# U+0000 as JSON writes it in a string (a raw NUL byte is malformed JSON): what
# ``without_nul`` looks for first, in the body's bytes, so an event without one pays a
# ``find`` and nothing more.
_NUL_ESCAPE = "\\u0000"
_NUL_ESCAPE_BYTES = _NUL_ESCAPE.encode()
# The fields whose words a person wrote: a NUL in them is dropped, not refused.
_WORDS = frozenset(("text",))


def _holds_nul(body: bytes | str) -> bool:
    if isinstance(body, str):
        return _NUL_ESCAPE in body
    return _NUL_ESCAPE_BYTES in body


def without_nul(value: Any, prefix: str = "") -> Any:
    """``value`` (an event, or a part of one) with U+0000 dropped from its words; a name
    holding one is refused (BadInput).

    Why: PostgreSQL's text cannot hold U+0000 (XML, hence XMPP, forbids it too), where
    JSON, SQLite and the memory stores carry it. A NUL in a message let the PostgreSQL
    records refuse the batch's commit while the others kept it: one character and the
    spammer's pitch was never held on a node whose records are PostgreSQL (each hold an
    error), a verdict that depended on the node's store (review48). No client draws a
    NUL, so the words without it are the words the recipient sees, and what is judged
    and kept on every store: a "f\x00ree" is judged as the "free" it reads as. A name
    (an id, an account, a session, an app) is the platform's, which never makes one with
    a NUL: refused with a clear error, never changed into another name."""
    if isinstance(value, str):
        if "\x00" not in value:
            return value
        if prefix.rsplit(".", 1)[-1] in _WORDS:
            return value.replace("\x00", "")
        raise BadInput(f"{prefix or 'the value'} holds U+0000, which no name may hold",
                       field=prefix or None)
    if isinstance(value, list | tuple):
        return type(value)(without_nul(v, f"{prefix}[{i}]") for i, v in enumerate(value))
    if isinstance(value, msgspec.Struct):
        changed = {name: without_nul(getattr(value, name), _field(prefix, name))
                   for name in value.__struct_fields__}
        return msgspec.structs.replace(value, **changed)
    return value


def _plain(value: Any) -> float:
    """What JSON writes for an ``EventTime`` (msgspec encodes no subclass of ``float``:
    encoding an event without this raised TypeError, the bridge's 500 of session 48)."""
    if isinstance(value, float):
        return float(value)
    raise TypeError(f"{type(value).__name__} is no part of an event")


_AS_JSON = msgspec.json.Encoder(enc_hook=_plain)


def nul_free(event: Any) -> Any:
    """``event``, built by an adapter rather than decoded from a body, as ``_decoded``
    would have left it had it come as JSON: ``without_nul`` walks it only when its JSON
    holds U+0000 (``_holds_nul``, the API's own look at a body).

    Why the event's JSON, not a list of its fields: every string of every field, nested
    ones too (an attachment's name, a client's id), is in it by construction, so a field
    added to an event is looked at without a second list to keep in step (the Matrix
    bridge's hand list missed attachments, review of session 48). An event that cannot be
    written as JSON (a field of a type JSON has no word for, a lone surrogate) is walked:
    the walk is the rule, the JSON only the fast way to see there is nothing to walk.
    Cost (session 49, a loaded 2-core machine): one encode in C and a find, ~1-3 µs for
    a message of a few recipients (the hand list's join ~0.5), ~34 µs at 1,000 (~10);
    the engine spends hundreds of µs on a bridged message."""
    try:
        seen = _holds_nul(_AS_JSON.encode(event))
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        seen = True
    return without_nul(event) if seen else event


def _decoded(decoder: Any, body: bytes | str) -> Any:
    """``body`` decoded, a malformed one refused (BadInput), U+0000 out of it
    (``without_nul``); its bounds are the caller's."""
    try:
        value = decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise _bad(exc) from None
    except RecursionError:
        raise _too_deep(body) from None
    return without_nul(value) if _holds_nul(body) else value


def decode_message(body: bytes, limits: Limits) -> Message:
    _check_size(body, limits)
    event: Message = _decoded(_message_decoder, body)
    check_bounds(event, limits)
    return event


def decode_event(body: bytes | str, limits: Limits) -> Event:
    event: Event = _decoded(_event_decoder, body)
    check_bounds(event, limits)
    return event


def decode_batch(body: bytes, limits: Limits) -> list[Event]:
    _check_size(body, limits)
    events: list[Event] = _decoded(_batch_decoder, body).events
    if len(events) > limits.max_batch_events:
        raise BadInput(f"{len(events)} events exceed the batch limit of "
                       f"{limits.max_batch_events}", code="too_large", field="events", status=413)
    for index, event in enumerate(events):
        check_bounds(event, limits, prefix=f"events[{index}]")
    return events


def encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


def to_builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)

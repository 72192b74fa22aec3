"""The public contract's events and answers, validated once at the edge.

Everything that enters spimguard is decoded here with msgspec into typed structs;
past this module no code re-checks types. Size bounds that operators may tune
(``Limits``) are checked right after decoding, before anything is stored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from .errors import BadInput

# The latest event time accepted (2100-01-01): guards against milliseconds sent as seconds.
_MAX_TS = 4_102_444_800.0

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
ShortText = Annotated[str, msgspec.Meta(max_length=512)]


class EventTime(float):
    """Event time in Unix seconds; the wire accepts RFC 3339 strings or numbers."""


def parse_ts(raw: object) -> EventTime:
    if isinstance(raw, bool):
        raise TypeError("ts must be an RFC 3339 string or Unix seconds")
    if isinstance(raw, int | float):
        value = float(raw)
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


class _Event(msgspec.Struct, frozen=True, tag_field="type"):
    id: Id
    ts: EventTime


class Message(_Event, tag="message"):
    sender: Id
    recipients: list[Id]
    text: str
    session: ShortText = ""
    client: Client = Client()
    conversation: ShortText = ""
    attachments: list[Attachment] = []

    @property
    def account(self) -> str:
        return self.sender


class Invite(Message, tag="invite"):
    """An invitation into a conversation (a Matrix room invite, an XMPP MUC invite).

    A contact attempt like a message, usually without text: judged like one (a
    verdict comes back), so invitation fan-out to strangers is stopped the same
    way. An addition to the contract of DESIGN.md."""

    text: str = ""


class Login(_Event, tag="login"):
    account: Id
    session: ShortText = ""
    ip: ShortText = ""
    client: Client = Client()
    success: bool = True


class Contacts(_Event, tag="contacts"):
    account: Id
    contacts: list[Id]


class ContactsRead(_Event, tag="contacts_read"):
    account: Id
    session: ShortText = ""
    count: Annotated[int, msgspec.Meta(ge=0)] = 0


class Report(_Event, tag="report"):
    reporter: Id
    message_id: Id
    label: Literal["spam", "ham"]
    text: str = ""

    @property
    def account(self) -> str:
        return self.reporter


class Appeal(_Event, tag="appeal"):
    """The sender of a held message asks for a review (shown in the operator console)."""

    account: Id
    message_id: Id
    text: str = ""


Event = Message | Invite | Login | Contacts | ContactsRead | Report | Appeal
EVENT_TYPES = ("message", "invite", "login", "contacts", "contacts_read", "report", "appeal")


class Batch(msgspec.Struct, frozen=True):
    events: list[Event]


# ---- answers -------------------------------------------------------------------------

Action = Literal["deliver", "warn", "hold", "block"]
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


_message_decoder = msgspec.json.Decoder(Message, dec_hook=_dec_hook)
_event_decoder = msgspec.json.Decoder(Event, dec_hook=_dec_hook)
_batch_decoder = msgspec.json.Decoder(Batch, dec_hook=_dec_hook)
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
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
    field = (prefix + where["path"]).lstrip(".") if where else None
    message = _PATH.sub("", text)
    return BadInput(message, code="invalid_event", field=field or None)


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
    elif isinstance(event, Contacts) and len(event.contacts) > limits.max_contacts:
        raise BadInput(f"{len(event.contacts)} contacts exceed the limit of "
                       f"{limits.max_contacts}", code="too_large",
                       field=_field(prefix, "contacts"), status=413)
    elif isinstance(event, Report | Appeal) and len(
            event.text.encode("utf-8", "surrogatepass")) > limits.max_text_bytes:
        raise BadInput(f"text exceeds {limits.max_text_bytes} bytes", code="too_large",
                       field=_field(prefix, "text"), status=413)


def _check_size(body: bytes, limits: Limits) -> None:
    if len(body) > limits.max_body_bytes:
        raise BadInput(f"body exceeds {limits.max_body_bytes} bytes", code="too_large",
                       status=413)


def decode_message(body: bytes, limits: Limits) -> Message:
    _check_size(body, limits)
    try:
        event = _message_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise _bad(exc) from None
    check_bounds(event, limits)
    return event


def decode_event(body: bytes | str, limits: Limits) -> Event:
    try:
        event = _event_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise _bad(exc) from None
    check_bounds(event, limits)
    return event


def decode_batch(body: bytes, limits: Limits) -> list[Event]:
    _check_size(body, limits)
    try:
        batch = _batch_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise _bad(exc) from None
    if len(batch.events) > limits.max_batch_events:
        raise BadInput(f"{len(batch.events)} events exceed the batch limit of "
                       f"{limits.max_batch_events}", code="too_large", field="events", status=413)
    for index, event in enumerate(batch.events):
        check_bounds(event, limits, prefix=f"events[{index}]")
    return batch.events


def encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


def to_builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)

"""Matrix homeservers: spimguard as the HTTP server of ``synapse-http-antispam``.

The module forwards Synapse's spam-checker callbacks as ``POST {prefix}/{callback}``
with the callback's arguments as JSON and its own bearer token. Any 2xx
allows; a non-2xx answer with a JSON body refuses, its ``errcode`` and
``error`` reaching the client. The callbacks map onto the contract:

- ``check_event_for_spam`` with ``m.room.message``, ``m.sticker`` or
  ``m.room.encrypted`` → a ``message`` from the sender to the room's other
  members, the conversation being the room (an encrypted one with
  ``encrypted: true`` and its ciphertext's ``size``: judged on metadata alone,
  room membership as for any message); text from ``body``
  and ``formatted_body`` with its HTML taken apart (link targets kept: a
  "click here" hides its address in ``href``). Held or blocked → 403
  ``M_FORBIDDEN`` with the sender's notice; ``warn`` is delivered (Matrix has
  no in-band banner) and recorded.
- ``user_may_invite`` / ``federated_user_may_invite`` → an ``invite``
  (judged like a message: inviting strangers by the dozen is stopped); one
  let through is remembered, so the invitee's join can name who chose it.
- ``check_login_for_spam`` → a ``login`` (device as session, the user agent's
  product as client, the first IP).
- ``user_may_join_room`` and a local user's own events (Synapse checks those
  only after its auth rules admitted them; a local user is one who signed in
  here) → room membership, kept in state (and, for the takeover burst, when each
  member joined: ``rooms``). An invited join into a small room
  (a direct chat, a small group) makes the invitee and its inviter each
  other's contacts: an invitation is one person choosing another, and joining
  is the other accepting. Nothing else does: sharing a room proves no
  acquaintance, and if it did, one account could make itself the contact of
  everyone in every small public room it walked through, or, inviting a
  victim once into a room of its own, invite puppets in and out until the
  victim's list was full.
- ``m.room.member`` events come only from other servers, before Synapse's auth
  checks: a remote user's own join makes it a member (a recipient) of a room not yet
  full (``max_room_members``: one it joined would push out the stalest member, and a
  server's puppets this homeserver's own users) but nobody's contact, its own leave
  removes it, and a kick or ban of someone else is ignored. A remote account that
  merely sends an event into a room is neither.
- Every user and room id is at most 255 bytes (the Matrix limit); a callback
  with a longer one is refused (400) and logged.
- Time is the time spimguard receives the callback, never ``origin_server_ts``
  (which a remote server chooses).
- ``ping`` → ``{"id", "status": "ok"}``; any other callback → 200 ``{}``.

Synapse does not tell spam checkers which device sent an event, so an
account's events are attributed to its **most suspicious live session** (one
suspended in an incident first, then the riskiest sign-in, then the latest),
not to the latest sign-in: otherwise an intruder's new login would move the
owner's sends onto its session and the owner's login would move the intruder
off its suspension. The cost to the owner: while an intruder's session is
suspended (``restriction_ttl``, or until ``POST /v1/accounts/{id}/restore``),
the owner's own sends from that account are held too, also after passing
the challenge (which lifts the account-wide restriction only); the owner
changes the password, and an operator restores the account. A riskier
sign-in of the owner's own (travelling) also keeps its sends under the burst
rules. When spimguard cannot judge (storage down), ``fail_mode`` decides:
"open" allows, "closed" refuses with ``M_UNKNOWN``; when spimguard is not running
at all, the module's own ``fail_open`` setting decides. Any other error while
judging refuses (500 ``M_UNKNOWN``, logged): what a sender wrote must never be
able to switch the filter off, so HTML that cannot be read is judged as its
plain ``body`` and raw text instead.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import accounts, rooms
from ..config import MatrixConfig
from ..engine import Engine
from ..errors import BadInput, RecordsUnavailable, StateUnavailable
from ..events import (
    MAX_SIZE,
    RECEIVED,
    Client,
    EventTime,
    Invite,
    Login,
    Message,
    Verdict,
    nul_free,
    without_nul,
)
from ..state.ops import FOREVER, Contains, Delete, Distinct, Get, Members, Put, Remove, Touch, Write
from .metrics import Metrics
from .mxhtml import visible_text
from .wire import JSONAnswer, bearer_ok, read_body

log = logging.getLogger("spimguard.matrix")

JUDGED_TYPES = ("m.room.message", "m.sticker", "m.room.encrypted")
_ROOM_TTL = 365 * 86_400.0
_INVITE_TTL = 30 * 86_400.0  # an invitation accepted later than this makes no contacts
_LOGIN_TTL = 90 * 86_400.0
_MAX_LOGINS = 8  # sign-ins remembered per account (the candidates for attribution)
_MAX_BODY = 1024 * 1024  # Matrix events are at most 64 KiB; callbacks carry one
_MAX_ID_BYTES = 255  # the Matrix spec's bound on user ids (room ids are bounded alike)
_LEFT = ("leave", "ban")  # a leave (one's own; a kick is someone else's leave) or a ban


def _room_key(room: str) -> str:
    return f"mx:room:{room}"


def _logins_key(user: str) -> str:
    return f"mx:logins:{user}"


def _invite_key(room: str, invitee: str) -> str:
    """Who invited ``invitee`` into ``room`` (an invitation spimguard let through); the
    room id's length first, as both ids may hold ':'."""
    return f"mx:invite:{len(room)}:{room}:{invitee}"


def readable(content: Mapping[str, Any], limit: int) -> str:
    """What a message says: ``body``, plus what its HTML adds (hidden link targets).

    The HTML is cut to ``limit`` characters before it is read (a Matrix event is
    at most 64 KiB anyway). Should reading it ever fail, the raw HTML is judged as
    text: unreadable input is judged more, never less."""
    body = content.get("body")
    text = body if isinstance(body, str) else ""
    formatted = content.get("formatted_body")
    if isinstance(formatted, str) and formatted:
        formatted = formatted[:limit]
        try:
            html_text = visible_text(formatted)
        except Exception:  # a reader bug must not become "deliver"
            log.exception("formatted_body could not be read; judging it as raw text")
            html_text = " ".join(formatted.split())
        if html_text and html_text != " ".join(text.split()):
            text = f"{text}\n{html_text}" if text else html_text
    return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


def ciphertext_size(content: Mapping[str, Any]) -> int:
    """Bytes of an ``m.room.encrypted`` event's ciphertext: Megolm's one string, or Olm's
    largest per-device body; all the server learns of what it says is how long it is."""
    ciphertext = content.get("ciphertext")
    if isinstance(ciphertext, str):
        size = len(ciphertext)
    elif isinstance(ciphertext, Mapping):
        size = max((len(b["body"]) for b in ciphertext.values()
                    if isinstance(b, Mapping) and isinstance(b.get("body"), str)), default=0)
    else:
        size = 0
    return min(size, MAX_SIZE)


def matrix_id(value: object, name: str) -> str:
    """A user or room id: a non-empty string of at most 255 bytes holding no U+0000, or a
    logged 400. The NUL is refused as the API refuses it in any name
    (``events.without_nul``), here where the id is read and before it is stated: a
    member's id is kept in the room's state, not in an event the bridge judges, and would
    come back as a recipient of every message in the room, each refused (a remote
    server's one join with such an id would have silenced the room)."""
    if not isinstance(value, str) or not value:
        raise BadInput(f"'{name}' must be a non-empty string", field=name)
    if len(value.encode("utf-8", "surrogatepass")) > _MAX_ID_BYTES:
        log.warning("refused a callback whose %s is %d characters long (at most %d bytes)",
                    name, len(value), _MAX_ID_BYTES)
        raise BadInput(f"'{name}' is longer than {_MAX_ID_BYTES} bytes", field=name)
    checked: str = without_nul(value, name)
    return checked


def client_product(user_agent: str) -> str:
    """``Element/1.11.85 (...)`` → ``Element``: the app, not its version (versions change)."""
    first = user_agent.strip().split(" ", 1)[0] if user_agent.strip() else ""
    return first.split("/", 1)[0][:64]


def _event_id(callback: str) -> str:
    """Callbacks without an event id (invites, logins) get a fresh one: each is an attempt."""
    return f"mx-{callback}-{uuid.uuid4().hex}"


def suspect(logins: list[dict[str, Any]], restrict: dict[str, Any] | None
            ) -> dict[str, Any] | None:
    """The sign-in an event of unknown device is attributed to: the most suspicious one
    (suspended in an incident, then the riskiest sign-in, then the latest)."""
    return max(logins, default=None, key=lambda entry: (
        accounts.session_blocked(restrict, entry["session"]) is not None,
        entry.get("risk", 0.0), entry.get("ts", 0.0)))


class MatrixBridge:
    """Turns callbacks into contract events and verdicts into Synapse answers."""

    def __init__(self, engine: Engine, cfg: MatrixConfig, metrics: Metrics) -> None:
        self.engine = engine
        self.cfg = cfg
        self.metrics = metrics
        self.token = cfg.token.encode()
        self.limits = engine.config.limits
        self.limit = self.limits.max_text_bytes

    # -- facts adapters keep -----------------------------------------------------------
    def _known(self, user: str, room: str) -> tuple[tuple[str, ...], dict[str, Any] | None]:
        members, logins, stored = self.engine.read_state(
            [Members(_room_key(room)), Get(_logins_key(user)), accounts.record(user)])
        return tuple(members), suspect(logins or [], accounts.restrictions_of(
            stored, self.engine.now()))

    def _stated(self, user: str, room: str, *also: Get) -> list[Any]:
        """Whether ``user`` is a member of ``room`` (a tuple of one bool), how many members
        it has, then ``also``'s answers: asked, not listed, as a join is one of thousands
        into a large room (a list of every member read for each was O(members) a join).
        """
        return self.engine.read_state([Contains(_room_key(room), (user,)),
                                       Distinct(_room_key(room), _ROOM_TTL), *also])

    def _joined(self, user: str, room: str, known: bool) -> list[Write]:
        """The writes that record ``user`` in ``room`` (a recipient of its messages), and
        its joining now for the takeover burst (``rooms``: a member who joined lately
        counts one by one; one known before this bridge said so never settles)."""
        if known:
            return []
        return [Touch(_room_key(room), (user,), _ROOM_TTL, self.cfg.max_room_members),
                *rooms.join(room, (user,), cap=self.cfg.max_room_members)]

    @staticmethod
    def _session(login: dict[str, Any] | None) -> tuple[str, Client]:
        if not login:
            return "", Client()
        return login["session"], Client(id=login["client"], ip=login["ip"])

    # -- callbacks ---------------------------------------------------------------------
    def event(self, payload: Mapping[str, Any]) -> Verdict | None:
        event = payload.get("event")
        if not isinstance(event, Mapping):
            raise BadInput("check_event_for_spam: 'event' must be an object", field="event")
        sender = matrix_id(event.get("sender"), "event.sender")
        if sender == self.cfg.notices_user:
            return None  # spimguard's own resend notice (matrix_notices.py), no user's message
        room = matrix_id(event.get("room_id"), "event.room_id")
        kind = event.get("type")
        content = event.get("content")
        if not isinstance(content, Mapping):
            content = {}
        if kind == "m.room.member":
            self.membership(sender, room, event.get("state_key"), content.get("membership"))
            return None
        if kind not in JUDGED_TYPES or event.get("state_key") is not None:
            return None
        members, login = self._known(sender, room)
        sealed = kind == "m.room.encrypted"
        text = "" if sealed else readable(content, self.limit)
        session, client = self._session(login)
        recipients = [m for m in members if m != sender] or [room]
        verdict = self._judge(Message(
            id=str(event.get("event_id") or _event_id("event"))[:256], ts=EventTime(time.time()),
            sender=sender, recipients=recipients[: self.engine.config.limits.max_recipients],
            text=text, session=session, client=client, conversation=room, encrypted=sealed,
            size=ciphertext_size(content) if sealed else 0))
        # A local user's event reaches this callback only after Synapse's auth rules let
        # it into the room, so its sender is a member (the room's creator is learnt this
        # way: creating a room calls neither join callback). A user who signed in here is
        # local; a remote server's event is checked before auth, and proves nothing.
        if login and sender not in members:
            self.engine.remember(self._joined(sender, room, False))
        return verdict

    def membership(self, sender: str, room: str, target: object, membership: object) -> None:
        """An ``m.room.member`` event from another server (Synapse sends its own users'
        member events to no spam checker) that its auth rules have not yet checked.

        A user's own join makes it a member (so it counts among a message's
        recipients) but nobody's contact: only this homeserver's own word (the join
        callback, a local user's events) makes contacts. A user's own leave removes
        it; a kick or ban of someone else is not trusted before auth, so a remote
        server cannot strike our users from their rooms."""
        user = matrix_id(target, "event.state_key")
        if user != sender:
            return
        if membership == "join":
            (known,), size = self._stated(user, room)
            # A full room takes no join before auth: at the cap it would push out the
            # stalest member, and a remote server's puppets would push out every member
            # this homeserver stated (its own users), one join each.
            if not known and size < self.cfg.max_room_members:
                self.engine.remember(self._joined(user, room, False))
        elif membership in _LEFT:
            self.engine.remember([Remove(_room_key(room), (user,)), *rooms.leave(room, (user,))])

    def invite(self, inviter: str, invitee: str, room: str) -> Verdict:
        """Judge an invitation and, let through, remember who made it. Synapse asks before
        its own auth rules, so an invitation it then refuses (an inviter not in the room, a
        remote server's forgery) is asked about too: one is remembered only from a known
        member of the room, or into a room with none known yet (a creator is learnt only
        when it speaks); and a second, different inviter of the same invitee leaves the
        credit to no one, so a forger can at most deny a contact, never take one."""
        members, login = self._known(inviter, room)
        session, client = self._session(login)
        verdict = self._judge(Invite(
            id=_event_id("invite"), ts=EventTime(time.time()), sender=inviter, recipients=[invitee],
            session=session, client=client, conversation=room))
        if (verdict.action in RECEIVED and inviter != invitee
                and (inviter in members or not members)):
            key = _invite_key(room, invitee)
            earlier = self.engine.read_state([Get(key)])[0]
            if earlier != inviter:
                self.engine.remember([Put(key, inviter if earlier is None else "",
                                          _INVITE_TTL)])
        return verdict

    def join(self, user: str, room: str, invited: bool) -> None:
        """This homeserver's word that ``user`` joins ``room``. Accepting an invitation
        into a small room makes the invitee and its inviter contacts, once: the
        invitation is spent (a room of thousands is a crowd, not a circle of friends)."""
        key = _invite_key(room, user)
        (known,), size, inviter = self._stated(user, room, Get(key))
        learnt = self._joined(user, room, known)
        if invited and isinstance(inviter, str):
            learnt.append(Delete(key))
            if inviter and size < self.cfg.contacts_room_size:
                learnt += [Touch(accounts.contacts(user), (inviter,), FOREVER),
                           Touch(accounts.contacts(inviter), (user,), FOREVER)]
        if learnt:
            self.engine.remember(learnt)

    def login(self, payload: Mapping[str, Any]) -> None:
        user = matrix_id(payload.get("user_id"), "user_id")
        device = payload.get("device_id") if isinstance(payload.get("device_id"), str) else ""
        info = payload.get("request_info") or []
        agent, ip = "", ""
        if isinstance(info, list) and info and isinstance(info[0], list | tuple) and len(
                info[0]) == 2:
            agent, ip = (str(v or "") for v in info[0])
        session = (device or _event_id("login"))[:256]
        product = client_product(agent)
        result = self.engine.process(nul_free(Login(
            id=_event_id("login"), ts=EventTime(time.time()), account=user, session=session,
            ip=ip[:256], client=Client(id=product, ip=ip[:256]))))
        self.metrics.count(("login",), (result,))
        logins = [entry for entry in self.engine.read_state([Get(_logins_key(user))])[0] or []
                  if entry["session"] != session]
        logins.append({"session": session, "client": product, "ip": ip[:256],
                       "ts": self.engine.now(), "risk": getattr(result, "score", 0.0)})
        self.engine.remember([Put(_logins_key(user), logins[-_MAX_LOGINS:], _LOGIN_TTL)])

    def _judge(self, message: Message) -> Verdict:
        """The engine's verdict on a message or invitation the bridge built from a callback's
        JSON, U+0000 out of it as from every event the API decodes (``events.nul_free``):
        a Matrix body may carry one, and on PostgreSQL's records a kept text holding it
        failed the batch's commit, so a room's spam with a NUL was never blocked there
        (review48). A name holding one is refused (400), as the API refuses it."""
        verdict = self.engine.process(nul_free(message))
        assert isinstance(verdict, Verdict)
        self.metrics.count((type(message).__name__.lower(),), (verdict,))
        return verdict

    # -- HTTP --------------------------------------------------------------------------
    async def endpoint(self, request: Request) -> Response:
        callback = request.path_params["callback"]
        if not bearer_ok(request.headers.get("authorization", ""), self.token):
            return JSONAnswer({"errcode": "M_UNAUTHORIZED",
                               "error": "spimguard: wrong or missing token"}, 401)
        try:
            raw = await read_body(request, _MAX_BODY, self.limits.body_timeout)
            payload = msgspec.json.decode(raw) if raw else {}
            if not isinstance(payload, dict):
                raise BadInput("the body must be a JSON object")
            # State reads, the verdict and the membership it learnt: in a worker thread,
            # so the event loop keeps reading the homeserver's other callbacks.
            return await run_in_threadpool(self.dispatch, callback, payload)
        except (BadInput, msgspec.DecodeError, RecursionError) as exc:
            message = exc.message if isinstance(exc, BadInput) else f"malformed JSON: {exc}"
            return JSONAnswer({"errcode": "M_BAD_JSON", "error": f"spimguard: {message}"}, 400)
        except (StateUnavailable, RecordsUnavailable) as exc:
            log.error("matrix callback %s: storage unavailable (%s); fail_mode %s", callback,
                      exc, self.cfg.fail_mode)
            if self.cfg.fail_mode == "open":
                return JSONAnswer({})
            return JSONAnswer({"errcode": "M_UNKNOWN",
                               "error": "Spam checking is unavailable; try again later."}, 503)
        except Exception:
            log.exception("matrix callback %s failed; refusing", callback)
            return JSONAnswer({"errcode": "M_UNKNOWN",
                               "error": "spimguard could not judge this; try again later."},
                              500)

    def dispatch(self, callback: str, payload: Mapping[str, Any]) -> Response:
        if callback == "ping":
            return JSONAnswer({"id": payload.get("id"), "status": "ok"})
        verdict: Verdict | None = None
        if callback == "check_event_for_spam":
            verdict = self.event(payload)
        elif callback == "user_may_invite":
            verdict = self.invite(*_ids(payload, "inviter", "invitee", "room_id"))
        elif callback == "federated_user_may_invite":
            event = payload.get("event")
            if not isinstance(event, Mapping):
                event = {}
            verdict = self.invite(*_ids(event, "sender", "state_key", "room_id"))
        elif callback == "user_may_join_room":
            # Only a JSON true is an invitation: a module too old to say is not trusted.
            user, room = _ids(payload, "user", "room")
            self.join(user, room, invited=payload.get("is_invited") is True)
        elif callback == "check_login_for_spam":
            self.login(payload)
        if verdict is not None and verdict.action in ("hold", "block"):
            reason = verdict.notice.sender or "This message looks like spam."
            return JSONAnswer({"errcode": "M_FORBIDDEN", "error": reason,
                               "spimguard_action": verdict.action}, 403)
        return JSONAnswer({})


def _ids(payload: Mapping[str, Any], *names: str) -> tuple[str, ...]:
    return tuple(matrix_id(payload.get(name), name) for name in names)


def routes(engine: Engine, metrics: Metrics) -> list[Route]:
    """The module's endpoints, when ``[matrix] enabled``."""
    cfg = engine.config.matrix
    if not cfg.enabled:
        return []
    bridge = MatrixBridge(engine, cfg, metrics)
    return [Route(f"{cfg.prefix.rstrip('/')}/{{callback:str}}", bridge.endpoint,
                  methods=["POST"])]



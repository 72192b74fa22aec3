"""What every console page shares: templates, the operator's session, forms, headers.

Templates autoescape everything (not only ``.html``): message texts, account ids,
domains and notices are hostile, and Jinja2 escaping plus a Content-Security-Policy
without inline script keeps them text. Forms are read with the API's body bound and
a field count bound before they are parsed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from jinja2 import Environment, PackageLoader
from starlette._utils import get_route_path
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ... import __version__
from ...errors import BadInput
from ..wire import read_body, rooted
from . import auth
from .records import ConsoleStore, Role, Session
from .views import stamp

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")
HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff",
           "referrer-policy": "no-referrer", "x-frame-options": "DENY",
           "cache-control": "no-store"}
# What a redirect after an action may say: fixed texts, so a crafted link shows nothing new.
DONE = {"decided": "Decision recorded.", "restored": "Restrictions lifted.",
        "noted": "Note added.", "status": "Campaign status changed.",
        "listed": "List changed.", "nothing": "Nothing to restore: no restriction in force."}


class SecurityHeaders:
    """ASGI middleware: the console's and the docs page's answers get a strict CSP, judged
    by the path the router routes (``root_path`` taken off), or a console served under a
    root path went out without its headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = get_route_path(scope) if scope["type"] == "http" else ""
        if not (path.startswith("/console") or path == "/docs"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      *((k.encode(), v.encode()) for k, v in HEADERS.items())]
            await send(message)

        await self.app(scope, receive, with_headers)


def secure(request: Request) -> bool:
    """Behind TLS (directly, or a proxy that says so): cookies get the Secure flag."""
    return request.url.scheme == "https" or request.headers.get(
        "x-forwarded-proto", "").lower() == "https"


@dataclass
class Web:
    store: ConsoleStore
    body_limit: int
    body_timeout: float
    templates: Environment
    limiter: auth.LoginLimiter

    @classmethod
    def create(cls, store: ConsoleStore, body_limit: int, body_timeout: float) -> Web:
        templates = Environment(loader=PackageLoader("spimguard", "server/console/templates"),
                                autoescape=True)
        templates.filters["stamp"] = stamp
        return cls(store, body_limit, body_timeout, templates, auth.LoginLimiter(store))

    def session(self, request: Request) -> Session | None:
        return auth.current(self.store, request.cookies.get(auth.COOKIE), time.time())

    def render(self, request: Request, name: str, session: Session | None, status: int = 200,
               **values: Any) -> HTMLResponse:
        operator = self.store.operator(session.operator) if session else None
        done = DONE.get(request.query_params.get("done", ""))
        page = self.templates.get_template(name).render(
            session=session, operator=operator, version=__version__, done=done,
            path=here(request), root=rooted(request.scope, ""), **values)
        return HTMLResponse(page, status)

    async def form(self, request: Request, max_files: int = 0) -> FormData:
        """The posted form, bounded (bytes and fields) before it is parsed."""
        # request._body is Starlette's own cache of the body, which request.form() reads.
        request._body = await read_body(request, self.body_limit, self.body_timeout)
        return await request.form(max_files=max_files, max_fields=200)

    def deny(self, request: Request, session: Session | None, needed: Role) -> Response | None:
        """A login redirect or a 403 page when the operator may not; None when they may."""
        if session is None:
            return RedirectResponse(rooted(request.scope, "/console/login?")
                                    + urlencode({"next": here(request)}), 303)
        operator = self.store.operator(session.operator)
        if operator is None or not auth.may(operator.role, needed):
            return self.render(request, "error.html", session, 403,
                               message=f"This needs the {needed} role.")
        return None

    def admit(self, request: Request, needed: Role) -> Session | Response:
        """The session of an operator who may act with role ``needed``, or the refusal."""
        session = self.session(request)
        refused = self.deny(request, session, needed)
        if refused is not None:
            return refused
        assert session is not None
        return session

    def checked(self, request: Request, session: Session, form: FormData,
                act: Callable[[Request, Session, FormData], Response]) -> Response:
        """``act`` once the form's CSRF token is the session's; otherwise the refusal."""
        if not auth.csrf_ok(session.csrf, form.get("csrf")):
            return self.render(request, "error.html", session, 403,
                               message="The form was stale or not from this console "
                                       "(CSRF check failed). Reload the page and try again.")
        return act(request, session, form)


def text(form: FormData, name: str, limit: int = 2000, required: bool = False) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text", field=name)
    value = value.strip()
    if len(value) > limit:
        raise BadInput(f"{name} is longer than {limit} characters", field=name, status=413)
    if required and not value:
        raise BadInput(f"{name} is required", field=name)
    return value


def here(request: Request) -> str:
    """The request's path as the console's links name it (under the root path)."""
    return rooted(request.scope, get_route_path(request.scope))


def console_target(request: Request, given: object, fallback: str) -> str:
    """Where to send the browser after a login or a form: ``given`` (a form's or a query's
    path, hostile) if it is a console page under this request's root path, else the route
    path ``fallback`` under it. No open redirect (``//host``, ``/\\host``) and no way out of
    the prefix: the path is judged decoded too, as a browser resolves ``%2e%2e`` as ``..``
    and a proxy may decode ``%2f``; a control character (a browser drops a tab or a line
    break from a URL, joining what it split) refuses it."""
    prefix = rooted(request.scope, "/console/")
    if not (isinstance(given, str) and len(given) < 2000 and given.startswith(prefix)
            and given.isprintable()):
        return rooted(request.scope, fallback)
    where = unquote(given.partition("?")[0])
    if any("//" in s or "\\" in s for s in (given, where)) or {".", ".."} & set(
            where.split("/")):
        return rooted(request.scope, fallback)
    return given


def back(request: Request, form: FormData, fallback: str, done: str) -> RedirectResponse:
    """303 to the page the form came from (a console page only), saying what was done."""
    target = console_target(request, form.get("back", ""), fallback)
    where, _, query = target.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k != "done"]
    return RedirectResponse(f"{where}?{urlencode([*kept, ('done', done)])}", 303)

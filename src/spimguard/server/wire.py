"""What every endpoint shares on the wire: bounded bodies, JSON answers, bearer tokens,
the paths a page links to under a root path."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any
from urllib.parse import quote

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import BadInput


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header ``name`` (lower case, as ASGI servers give names),
    read from the scope itself: Starlette's ``Headers`` copies the whole list first."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def rooted(scope: Scope, path: str) -> str:
    """``path`` (a route's, as ``/console/queue``) as a browser must ask for it: under the
    scope's root path (uvicorn's ``--root-path``, a mount), or a page served behind a
    proxy's prefix links, redirects and sets its cookies outside it. The root path is the
    server's configuration, not the request's: uvicorn takes it from ``--root-path`` alone
    (no header sets it), Starlette's ``Mount`` from its own route. A trailing ``/`` on it
    (``--root-path /spimguard/``) is dropped, or every path would hold ``//``. It is
    percent-encoded (ASGI gives it decoded): a mount under a path parameter takes it from
    the request, and a ``;`` or a line break would add attributes to a cookie's path."""
    return quote(str(scope.get("root_path", "")).rstrip("/"), safe="/") + path


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    return await receive_body(request.scope, request.receive, limit, timeout)


async def receive_body(scope: Scope, receive: Receive, limit: int, timeout: float) -> bytes:
    """The body, refused (413) as soon as it passes ``limit`` bytes, before any parsing,
    and (408) if it has not all arrived within ``timeout`` seconds: a client that
    trickles its body holds a connection and a task for a bounded time only. Read from
    ASGI's ``receive`` as Starlette's ``Request.stream`` would, without its generator."""
    declared = header(scope, b"content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadInput(f"body exceeds {limit} bytes", code="too_large", status=413)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BadInput(f"body exceeds {limit} bytes", code="too_large",
                                   status=413)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise BadInput(f"the body did not arrive within {timeout:g} s", code="timeout",
                       status=408) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_json(send: Send, body: bytes) -> None:
    """A 200 answer of JSON ``body``, the two ASGI messages ``JSONAnswer`` sends (the same
    headers in the same order) without building a ``Response``."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode()),
                            (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


class JSONAnswer(Response):
    """msgspec-encoded JSON (structs included); bytes pass through as they are."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else msgspec.json.encode(content)


def bearer_ok(authorization: str, token: bytes) -> bool:
    """Whether an ``Authorization`` header carries ``token``; never with no token set."""
    scheme, _, given = authorization.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token)


class ASGIRoute:
    """An ASGI app as a route's endpoint: Starlette wraps a plain function in a
    ``Request`` and an exception handler of its own, an object it calls as it is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

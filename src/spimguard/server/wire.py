"""What every endpoint shares on the wire: bounded bodies, JSON answers, bearer tokens."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from ..errors import BadInput


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, refused (413) as soon as it passes ``limit`` bytes, before any parsing,
    and (408) if it has not all arrived within ``timeout`` seconds: a client that
    trickles its body holds a connection and a task for a bounded time only."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadInput(f"body exceeds {limit} bytes", code="too_large", status=413)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BadInput(f"body exceeds {limit} bytes", code="too_large",
                                   status=413)
                chunks.append(chunk)
    except TimeoutError:
        raise BadInput(f"the body did not arrive within {timeout:g} s", code="timeout",
                       status=408) from None
    return b"".join(chunks)


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

"""Request bodies read with a size bound, before anything parses them."""

from __future__ import annotations

from starlette.requests import Request

from ..errors import BadInput


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadInput(f"body exceeds {limit} bytes", code="too_large", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadInput(f"body exceeds {limit} bytes", code="too_large", status=413)
        chunks.append(chunk)
    return b"".join(chunks)

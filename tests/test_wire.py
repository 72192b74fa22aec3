"""Reading a request body straight from ASGI's ``receive``: what ``Request.stream`` did,
under the same bounds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import ClientDisconnect

from spimguard.errors import BadInput
from spimguard.server.wire import header, receive_body


def _scope(length: int | None = None) -> dict[str, Any]:
    headers = [(b"host", b"x"), (b"authorization", b"Bearer one"), (b"authorization", b"two")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "headers": headers}


def _read(messages: list[dict[str, Any]], limit: int = 10, timeout: float = 1.0,
          length: int | None = None) -> bytes:
    async def receive() -> dict[str, Any]:
        if not messages:
            await asyncio.sleep(60)  # a client that stopped sending
        return messages.pop(0)

    return asyncio.run(receive_body(_scope(length), receive, limit, timeout))


def _part(body: bytes, more: bool = True) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


def test_chunks_are_joined_until_the_last() -> None:
    assert _read([_part(b"ab"), _part(b""), _part(b"cd", more=False)]) == b"abcd"
    assert _read([{"type": "http.request"}]) == b""  # no body, no more_body


def test_limits_hold_across_chunks_and_before_reading() -> None:
    for messages, length in (([_part(b"123456"), _part(b"78901", more=False)], None),
                             ([], 11)):  # refused on its declared length, nothing read
        with pytest.raises(BadInput) as refused:
            _read(messages, length=length)
        assert (refused.value.status, refused.value.code) == (413, "too_large")


def test_a_trickling_body_times_out_and_a_gone_client_is_a_disconnect() -> None:
    with pytest.raises(BadInput) as late:
        _read([_part(b"1")], timeout=0.05)
    assert (late.value.status, late.value.code) == (408, "timeout")
    with pytest.raises(ClientDisconnect):
        _read([_part(b"1"), {"type": "http.disconnect"}])


def test_a_header_is_its_first_value() -> None:
    assert header(_scope(), b"authorization") == "Bearer one"
    assert header(_scope(), b"cookie") is None

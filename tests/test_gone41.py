"""A client that leaves mid-body is no server error (session 41, the lead, from
``review41``): before, ``/v1/check`` logged each such connection twice with a full
traceback (its lane's "unhandled error" and the server's own), ~40 lines a connection, so
a client filled the log as fast as it could open connections and cut them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from conftest import TOKEN, config
from spimguard import open_engine
from spimguard.server import create_app
from spimguard.server.console.memory import MemoryConsole


def _cut(path: str) -> tuple[list[dict[str, Any]], str]:
    """``path`` POSTed with half a body, then the client gone; what the app sent and its
    metrics' exposition afterwards."""
    app = create_app(open_engine(config(api_token=TOKEN)), MemoryConsole())
    sent: list[dict[str, Any]] = []
    incoming = iter([{"type": "http.request", "body": b'{"id": "m1", "sen', "more_body": True},
                     {"type": "http.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> str:
        async with app.router.lifespan_context(app):
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
                     "root_path": "", "query_string": b"", "server": ("127.0.0.1", 8000),
                     "client": ("127.0.0.1", 5000), "app": app,
                     "headers": [(b"authorization", f"Bearer {TOKEN}".encode()),
                                 (b"content-type", b"application/json"),
                                 (b"content-length", b"200")]}
            await app(scope, receive, send)
            metrics: list[dict[str, Any]] = []
            probe = dict(scope, method="GET", path="/metrics", raw_path=b"/metrics",
                         headers=[(b"authorization", f"Bearer {TOKEN}".encode())])

            async def quiet() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def keep(message: dict[str, Any]) -> None:
                metrics.append(message)

            await app(probe, quiet, keep)
            return b"".join(m.get("body", b"") for m in metrics).decode()

    return sent, asyncio.run(run())


@pytest.mark.parametrize("path", ["/v1/check", "/v1/events"])
def test_a_client_gone_mid_body_is_counted_not_logged_as_an_error(
        path: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        sent, exposition = _cut(path)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert 'spimguard_rejected_requests_total{code="disconnected"} 1.0' in exposition
    # What the app hands uvicorn for a closed connection, which uvicorn does not send.
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [400]

"""uvicorn's HTTP protocol with a deadline for request headers.

uvicorn times out idle keep-alive connections but not a client that opens a
connection and sends its headers a byte at a time (or never): 200 such
connections used to be held as long as the clients liked. Here every connection
must deliver a complete request head within ``header_timeout`` seconds of
connecting (or of its previous answer), or it is closed. Together with
uvicorn's ``limit_concurrency`` (503 past a number of connections and tasks) and
the body-read deadline in ``wire.read_body``, a slow client holds a connection
for a bounded time only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def with_header_deadline(header_timeout: float) -> type[HttpToolsProtocol]:
    """The protocol class to pass as uvicorn's ``http`` setting."""

    class HeaderDeadline(HttpToolsProtocol):
        deadline: asyncio.TimerHandle | None = None

        def arm(self) -> None:
            self.disarm()
            self.deadline = self.loop.call_later(header_timeout, self.too_slow)

        def disarm(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

        def too_slow(self) -> None:
            self.deadline = None
            if not self.transport.is_closing():
                self.logger.info("closing a connection that sent no request head in %g s",
                                 header_timeout)
                self.transport.close()

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self.disarm()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self.disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.pipeline and not self.transport.is_closing():
                self.arm()

    return HeaderDeadline

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
        timer: asyncio.TimerHandle | None = None
        # The loop's time this connection began waiting for a request head; None while
        # a request is in progress.
        waiting_since: float | None = None

        def arm(self) -> None:
            """Start the wait for a head. One timer a connection, set again only after it
            went off: a timer made and cancelled for every request cost the loop ~2 µs
            a request."""
            self.waiting_since = self.loop.time()
            if self.timer is None:
                self.timer = self.loop.call_at(self.waiting_since + header_timeout,
                                               self.expire)

        def disarm(self) -> None:
            self.waiting_since = None

        def expire(self) -> None:
            self.timer = None
            if self.waiting_since is None or self.transport.is_closing():
                return  # a request is in progress: its answer arms the wait again
            due = self.waiting_since + header_timeout
            if self.loop.time() < due:  # it began waiting after the timer was set
                self.timer = self.loop.call_at(due, self.expire)
                return
            self.logger.info("closing a connection that sent no request head in %g s",
                             header_timeout)
            self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self.disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.pipeline and not self.transport.is_closing():
                self.arm()

    return HeaderDeadline

"""uvicorn's HTTP protocol with a deadline for request headers, and an answer sent in one
write.

uvicorn times out idle keep-alive connections but not a client that opens a
connection and sends its headers a byte at a time (or never): 200 such
connections used to be held as long as the clients liked. Here every connection
must deliver a complete request head within ``header_timeout`` seconds of
connecting (or of its previous answer), or it is closed. Together with
uvicorn's ``limit_concurrency`` (503 past a number of connections and tasks) and
the body-read deadline in ``wire.read_body``, a slow client holds a connection
for a bounded time only.

uvicorn writes an answer's head when the app starts it and its body when the app sends
it: two ``write`` calls, and uvloop sends each at once, so every answer cost two sends
through the kernel's TCP stack (and woke its client twice). Here the connection's writes
wait in ``Corked`` until the answer is complete, or until the loop's next turn for an
answer still being written (a stream, a ``100 Continue``), and go out as one send.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class Corked:
    """A connection's transport whose writes are sent together: at ``flush`` (the end of
    an answer), or at the loop's next turn, whichever comes first. Everything written to
    the connection goes through it, in order; every other call goes to the transport."""

    __slots__ = ("loop", "pending", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self.pending:
            self.loop.call_soon(self.flush)
        self.pending.append(data)

    def flush(self) -> None:
        if self.pending:
            data = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
            self.pending.clear()
            if not self.transport.is_closing():
                self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


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
            super().connection_made(cast(asyncio.Transport, Corked(transport, self.loop)))
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
            cast(Corked, self.transport).flush()
            super().on_response_complete()
            if not self.pipeline and not self.transport.is_closing():
                self.arm()

    return HeaderDeadline

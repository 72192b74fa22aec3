"""What a /v1/check costs the server beside the engine (session 39, ``http39``): its answer
leaves in one write, and it is answered ahead of Starlette's middleware stack, with the
same answers, errors included, as the stack gives."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import pytest
from uvicorn.config import Config as ServerConfig
from uvicorn.server import ServerState

from conftest import TOKEN, config
from spimguard import open_engine
from spimguard.server import create_app
from spimguard.server.console.memory import MemoryConsole
from spimguard.server.protocol import with_header_deadline

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class _Transport:
    """What uvicorn's protocol writes, one entry a ``write`` call."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _served(app: Any, request: bytes, turns: int = 20) -> list[bytes]:
    """The writes of one connection of the server's protocol serving ``request``."""

    async def serve() -> list[bytes]:
        loop = asyncio.get_running_loop()
        settings = ServerConfig(app, lifespan="off", access_log=False, log_level="warning")
        protocol = with_header_deadline(10.0)(settings, ServerState(), {}, loop)
        transport = _Transport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(request)
        for _ in range(turns):
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return transport.writes

    return asyncio.run(serve())


async def _json_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"11"), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


def test_an_answer_leaves_the_server_in_one_write() -> None:
    """uvicorn writes a head and then a body; each write was a send through the kernel's
    TCP stack. Now the connection's writes of an answer go out together."""
    writes = _served(_json_app, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b'\r\n\r\n{"ok":true}')


def test_an_answer_still_being_written_is_not_held_back() -> None:
    """A head whose body comes later (a stream) leaves at the loop's next turn, before the
    body, not at the answer's end."""
    sent: list[int] = []

    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        sent.append(len(writes_so_far))
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    writes_so_far: list[bytes] = []

    async def serve() -> list[bytes]:
        loop = asyncio.get_running_loop()
        settings = ServerConfig(streaming, lifespan="off", access_log=False,
                                log_level="warning")
        protocol = with_header_deadline(10.0)(settings, ServerState(), {}, loop)
        transport = _Transport()
        transport.writes = writes_so_far
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in range(20):
            await asyncio.sleep(0)
        protocol.connection_lost(None)
        return transport.writes

    writes = asyncio.run(serve())
    assert sent == [1]  # the head had left before the body was sent
    assert b"".join(writes).startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"".join(writes).endswith(b"4\r\npart\r\n0\r\n\r\n")


def _message(id: str) -> bytes:
    return msgspec.json.encode({"type": "message", "id": id, "ts": time.time(),
                                "sender": "alice", "recipients": ["bob"], "text": "hi"})


async def _call(app: Any, body: bytes, token: str | None = TOKEN, method: str = "POST",
                root: str = "", length: int | None = None, path: str = "/v1/check"
                ) -> tuple[Answer, BaseException | None]:
    """One request to ``app`` over ASGI: its answer, and what it raised to the server.
    With ``root``, the app is mounted under that ``root_path``."""
    headers = [(b"host", b"x"), (b"content-length", str(len(body) if length is None
                                                          else length).encode())]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": root + path,
             "raw_path": (root + path).encode(), "query_string": b"",
             "root_path": root, "headers": headers, "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 2)}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status: list[int] = []
    head: list[tuple[bytes, bytes]] = []
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if not messages:
            await asyncio.sleep(3600)
        return messages.pop()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
            head.extend(message.get("headers", []))
        else:
            parts.append(message.get("body", b""))

    raised: BaseException | None = None
    try:
        await app(scope, receive, send)
    except Exception as exc:
        raised = exc
    return (status[0], head, b"".join(parts)), raised


def _app(**overrides: Any) -> Any:
    return create_app(open_engine(config(api_token=TOKEN, **overrides)), MemoryConsole())


def test_a_check_is_answered_ahead_of_the_middleware_stack() -> None:
    """Starlette builds its middleware stack for the first request that goes through it;
    checks alone never do."""
    app = _app()

    async def checks() -> list[int]:
        async with app.router.lifespan_context(app):
            answers = [await _call(app, _message(f"m{i}")) for i in range(3)]
            assert app.middleware_stack is None
            return [answer[0][0] for answer in answers]

    assert asyncio.run(checks()) == [200, 200, 200]


@pytest.mark.parametrize("case", ["deliver", "no token", "wrong token", "malformed",
                                  "invalid", "declared too large", "ahead of the clock",
                                  "overloaded", "crash", "GET"])
def test_the_lane_answers_as_the_stack_does(case: str) -> None:
    """The same request through the lane and through the stack (the app under a
    ``root_path``, which the lane leaves to the stack): the same status, headers and body,
    and an unhandled error raised on to the server by both."""
    engine = open_engine(config(api_token=TOKEN, limits={"max_queued": 0} if (
        case == "overloaded") else {}))
    app = create_app(engine, MemoryConsole())
    if case == "crash":
        def crash(*args: Any) -> None:
            raise RuntimeError("a bug")

        engine.process_batch = crash  # type: ignore[method-assign]
    request: dict[str, Any] = {
        "deliver": {}, "no token": {"token": None}, "wrong token": {"token": "nope"},
        "malformed": {"body": b"{nope"},
        "invalid": {"body": msgspec.json.encode({"type": "message", "id": "x", "ts": 1})},
        "declared too large": {"length": 10**9},
        "ahead of the clock": {"body": msgspec.json.encode({
            "type": "message", "id": "x", "ts": time.time() + 86_400, "sender": "a",
            "recipients": ["b"], "text": "hi"})},
        "overloaded": {}, "crash": {}, "GET": {"method": "GET"}}[case]

    async def both() -> list[tuple[Answer, BaseException | None]]:
        async with app.router.lifespan_context(app):
            found = []
            for root, id in (("", "m1"), ("/mounted", "m2")):
                call = dict(request)
                body = call.pop("body", _message(id))
                found.append(await _call(app, body, root=root, **call))
            return found

    (lane, lane_raised), (stack, stack_raised) = asyncio.run(both())
    # two messages, two ids: the same answer but for its id
    assert lane == (stack[0], stack[1], stack[2].replace(b'"m2"', b'"m1"'))
    assert lane[0] == {"deliver": 200, "no token": 401, "wrong token": 401, "malformed": 400,
                       "invalid": 422, "declared too large": 413, "ahead of the clock": 422,
                       "overloaded": 503, "crash": 500, "GET": 405}[case]
    assert type(lane_raised) is type(stack_raised)
    assert (lane_raised is not None) == (case == "crash")

"""mod_spimguard when spimguard gives no verdict: the log says why, a 4xx is a loud
configuration error, and ``spimguard_fail_mode`` decides explicitly.

A misconfigured or failing spimguard is the fault under test, so a tiny local HTTP
server answers the status each case needs (401, 413, 422, 500, 503, or nothing
before the timeout); the wrong-token case uses the real spimguard.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import prosody_harness
from conftest import free_port, start_server, stopped_after
from xmpp_clients import Client, drain

TIMEOUT = 1


@dataclass
class Failing:
    """What the stub answers: an HTTP status and an error body, or 0 for no answer
    within the module's timeout."""

    status: int = 500
    code: str = "internal"
    field: str | None = None


class Stub(ThreadingHTTPServer):
    daemon_threads = True
    failing = Failing()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class Answer(BaseHTTPRequestHandler):
    server: Stub

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        failing = self.server.failing
        if failing.status == 0:
            time.sleep(TIMEOUT + 2)
            failing = Failing(503, "late")
        body = json.dumps({"error": {"code": failing.code, "message": "stub",
                                     "field": failing.field}}).encode()
        self.send_response(failing.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    server = Stub(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with stopped_after(server):
        yield server


def prosody(folder: Path, url: str, fail_mode: str, token: str = "any") -> prosody_harness.Prosody:
    module = {"url": url, "token": token, "timeout": TIMEOUT, "fail_mode": fail_mode}
    return prosody_harness.start(folder, free_port(), {"alice": ["bob"], "bob": ["alice"]}, module)


@pytest.fixture(scope="module")
def prosodies(stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        dict[str, prosody_harness.Prosody]]:
    folder = tmp_path_factory.mktemp("xmpp-failures")
    with stopped_after(prosody(folder / "open", stub.url, "open")) as open_, \
            stopped_after(prosody(folder / "closed", stub.url, "closed")) as closed, \
            stopped_after(prosody(folder / "typo", stub.url, "clsoed")) as typo:
        yield {"open": open_, "closed": closed, "typo": typo}


async def send(port: int, text: str) -> tuple[int, list[str]]:
    """Alice writes to bob: how many bob got, and the error texts alice got back."""
    alice, bob = Client("alice", "Conversations.a"), Client("bob", "Conversations.b")
    await asyncio.gather(alice.online(port), bob.online(port))
    alice.chat("bob", text)
    received = await drain(bob.inbox, TIMEOUT + 1.0)
    errors = [str(e["error"]["text"]) for e in await drain(alice.errors, 0.5)]
    alice.disconnect()
    bob.disconnect()
    return len(received), errors


CASES = {  # what spimguard answers -> (the kind of failure, what the log must say)
    "401": (Failing(401, "unauthorized"), "error", "HTTP 401, code unauthorized, field -"),
    "413": (Failing(413, "too_large", "text"), "error", "HTTP 413, code too_large, field text"),
    "422": (Failing(422, "invalid_event", "session"), "error",
            "HTTP 422, code invalid_event, field session"),
    "500": (Failing(500, "internal"), "warn", "HTTP 500, code internal, field -"),
    "503": (Failing(503, "overloaded"), "warn", "HTTP 503, code overloaded, field -"),
    "timeout": (Failing(0), "warn", f"no answer within {TIMEOUT}s"),
}


def check_lines(log: str, detail: str) -> list[str]:
    return [line for line in log.splitlines() if "/v1/check failed: " + detail in line]


@pytest.mark.parametrize("case", list(CASES))
def test_fail_open_delivers_and_says_why(stub: Stub, prosodies: dict[
        str, prosody_harness.Prosody], case: str) -> None:
    failing, level, detail = CASES[case]
    stub.failing = failing
    server = prosodies["open"]
    received, errors = asyncio.run(send(server.port, f"case {case}: delivered unjudged"))
    assert (received, errors) == (1, []), server.log[-2000:]
    lines = check_lines(server.log, detail)
    assert lines, server.log[-2000:]
    assert f"\t{level}\t" in lines[-1] and "so far" in lines[-1]
    assert 'the message is delivered unjudged (spimguard_fail_mode = "open")' in lines[-1]
    if level == "error":
        assert "a configuration or contract error" in lines[-1]


@pytest.mark.parametrize("case", list(CASES))
def test_fail_closed_refuses_and_says_why(stub: Stub, prosodies: dict[
        str, prosody_harness.Prosody], case: str) -> None:
    failing, level, detail = CASES[case]
    stub.failing = failing
    server = prosodies["closed"]
    received, errors = asyncio.run(send(server.port, f"case {case}: refused"))
    assert received == 0 and errors == ["Spam checking is unavailable; try again later."]
    lines = check_lines(server.log, detail)
    assert lines and f"\t{level}\t" in lines[-1], server.log[-2000:]
    assert 'the message is refused (spimguard_fail_mode = "closed")' in lines[-1]


def test_an_unknown_fail_mode_is_an_error_and_refuses(stub: Stub, prosodies: dict[
        str, prosody_harness.Prosody]) -> None:
    stub.failing = Failing(500)
    server = prosodies["typo"]
    received, errors = asyncio.run(send(server.port, "a typo must not switch the filter off"))
    assert received == 0 and len(errors) == 1
    assert 'spimguard_fail_mode = "clsoed" is neither' in server.log


def test_a_wrong_token_is_a_loud_contract_error(tmp_path: Path) -> None:
    """The real spimguard, the module configured with another token."""
    with stopped_after(start_server(tmp_path / "spimguard")) as guard, \
            stopped_after(prosody(tmp_path / "prosody", guard.url, "closed", "wrong")) as server:
        received, errors = asyncio.run(send(server.port, "hello bob"))
    assert received == 0 and len(errors) == 1
    lines = check_lines(server.log, "HTTP 401, code unauthorized")
    assert lines and "\terror\t" in lines[-1], server.log[-2000:]


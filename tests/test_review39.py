"""Session 39's review (``review39``): the session's merged changes attacked as a spammer
who reads the code would, each finding a test that failed on main before its fix."""

from __future__ import annotations

import time

import msgspec
from starlette.testclient import TestClient

from conftest import TOKEN, config
from spimguard import open_engine
from spimguard.server import create_app
from spimguard.server.console.memory import MemoryConsole


def _under_root(root: str) -> TestClient:
    """The app as uvicorn's ``--root-path`` (or a mount) serves it: the scope's path
    carries the prefix, and the router routes what follows it."""
    app = create_app(open_engine(config(api_token=TOKEN)), MemoryConsole())
    return TestClient(app, root_path=root)


def test_under_a_root_path_every_v1_route_still_needs_the_token() -> None:
    """The bearer guard read the scope's path, which under a root path starts with the
    prefix, not ``/v1/``: the router took the prefix off and answered a check, an
    account's record or a restore to anyone. Now the guard judges the routed path."""
    with _under_root("/api") as client:
        check = msgspec.json.encode({"type": "message", "id": "m1", "ts": time.time(),
                                     "sender": "alice", "recipients": ["bob"],
                                     "text": "hi"})
        answers = [client.post("/api/v1/check", content=check),
                   client.get("/api/v1/accounts/alice"),
                   client.post("/api/v1/accounts/alice/restore", json={}),
                   client.get("/api/v1/campaigns")]
        assert [answer.status_code for answer in answers] == [401] * 4
        assert all(answer.headers["www-authenticate"] == "Bearer" for answer in answers)
        authorised = client.post("/api/v1/check", content=check,
                                 headers={"authorization": f"Bearer {TOKEN}"})
        assert authorised.status_code == 200


def test_under_a_root_path_the_console_keeps_its_security_headers() -> None:
    """The same reading of the path dropped the console's CSP (and frame and sniffing
    headers) under a root path: its pages show hostile text, and the CSP is what keeps
    an injected script from running."""
    with _under_root("/api") as client:
        page = client.get("/api/console/login")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"

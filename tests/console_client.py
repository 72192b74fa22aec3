"""An operator at a live server's console, over plain HTTP: log in (the login form's
CSRF token and cookie), then post decisions with the session's CSRF token, as a
browser would. For adapter tests that need a release without driving a browser."""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _csrf(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def logged_in(url: str, name: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30.0)
    token = _csrf(client.get("/console/login"))
    answer = client.post("/console/login", data={"name": name, "password": password,
                                                 "csrf": token, "next": "/console/"})
    assert answer.status_code == 303, answer.text[:2000]
    return client


def act(console: httpx.Client, path: str, fields: dict[str, str | list[str]]) -> None:
    """Post a console form with the session's CSRF token; it must succeed (303)."""
    token = _csrf(console.get("/console/queue"))
    answer = console.post(path, data={**fields, "csrf": token})
    assert answer.status_code == 303, answer.text[:2000]


def decide(console: httpx.Client, message_ids: Sequence[str], label: str, why: str) -> None:
    act(console, "/console/decide", {"message_id": list(message_ids), "label": label,
                                     "why": why})


def queued(console: httpx.Client, account: str) -> list[str]:
    """The ids of the account's messages in the review queue, as its forms name them."""
    page = console.get("/console/queue", params={"account": account})
    assert page.status_code == 200, page.text[:2000]
    return list(dict.fromkeys(re.findall(r'name="message_id" value="([^"]+)"', page.text)))

"""Session 40 (``root40``): the operator console and the docs page served under a root path
(uvicorn's ``--root-path``, a reverse proxy's prefix, a mount). Every URL they emit, in a
redirect, a cookie's path, a link, a form's action or a static file's address, carries the
prefix, or a browser behind the proxy is sent outside it and its session cookie never
comes back; the paths they accept from a form or a query (the login's ``next``, a form's
``back``) are still console paths only, judged with the prefix understood."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from typer.testing import CliRunner

from conftest import T0, engine, free_port, message, start_server, stopped_after
from spimguard.cli import app as cli_app
from spimguard.engine import Engine
from spimguard.server import create_app
from spimguard.server.console import auth
from spimguard.server.console.memory import MemoryConsole
from spimguard.server.wire import rooted

PASSWORD = "correct horse battery"
ROOT = "/spimguard"
SPAM = "WINNER!! claim your FREE prize now, call 09061701461 {}"
_URL = re.compile(r'(?:href|action|src)="([^"]*)"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _judge() -> Engine:
    """Some held messages, so the queue has decision forms and account links."""
    judge = engine(api_token="tok")
    for i in range(24):
        judge.process(message(judge.config, f"m{i}", f"u{i}", [f"r{i}"], SPAM.format(i),
                              T0 + i))
    return judge


def _console(root: str, judge: Engine | None = None) -> tuple[TestClient, MemoryConsole]:
    store = MemoryConsole()
    store.save_operator(auth.new_operator("dana", "admin", PASSWORD))
    return TestClient(create_app(judge or _judge(), store), root_path=root), store


def _csrf(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text[:2000]
    return found[1]


def _cookies(answer: httpx.Response) -> dict[str, str]:
    """Each cookie the answer sets (or deletes) by name, with its Path attribute."""
    paths = {}
    for value in answer.headers.get_list("set-cookie"):
        name = value.partition("=")[0]
        found = re.search(r"[Pp]ath=([^;]*)", value)
        paths[name] = found[1] if found else ""
    return paths


def _emitted(page: httpx.Response, root: str) -> list[str]:
    """The page's links, actions and sources that leave it (fragments stay); each must be
    an absolute path under ``root`` (and no protocol-relative ``//host``)."""
    urls = [u for u in _URL.findall(page.text) if not u.startswith("#")]
    assert urls, page.text[:2000]
    outside = [u for u in urls if not u.startswith(root + "/") or u.startswith("//")]
    assert not outside, outside
    return urls


def _logged_in(client: TestClient, root: str, nxt: str) -> httpx.Response:
    login = client.get(f"{root}/console/login")
    return client.post(f"{root}/console/login", follow_redirects=False, data={
        "name": "dana", "password": PASSWORD, "csrf": _csrf(login), "next": nxt})


@pytest.mark.parametrize("root", [ROOT, "/a/b", ""])
def test_login_page_form_and_logout_stay_under_the_root_path(root: str) -> None:
    """The whole round: a page asked for without a session sends to the login under the
    prefix, with ``next`` the page's own prefixed path; the login sets its cookies on the
    prefixed paths (so the browser sends them back through the proxy) and goes to
    ``next``; a form posts under the prefix and comes back to it; logout as well. On main
    every one of these named ``/console/...``, outside the prefix."""
    client, store = _console(root)
    with client:
        refused = client.get(f"{root}/console/queue", follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"] == (
            f"{root}/console/login?next={quote(root + '/console/queue', safe='')}")
        login = client.get(refused.headers["location"])
        assert login.status_code == 200
        assert f'name="next" value="{root}/console/queue"' in login.text
        assert _cookies(login) == {auth.LOGIN_COOKIE: f"{root}/console/login"}
        assert f'action="{root}/console/login"' in login.text
        _emitted(login, root)
        assert "script-src 'self'" in login.headers["content-security-policy"]

        answer = client.post(f"{root}/console/login", follow_redirects=False, data={
            "name": "dana", "password": PASSWORD, "csrf": _csrf(login),
            "next": f"{root}/console/queue"})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{root}/console/queue"
        assert _cookies(answer) == {auth.COOKIE: f"{root}/console",
                                    auth.LOGIN_COOKIE: f"{root}/console/login"}

        queue = client.get(f"{root}/console/queue")  # the session cookie came back
        assert queue.status_code == 200 and queue.url.path == f"{root}/console/queue"
        urls = _emitted(queue, root)
        assert f"{root}/console/static/console.css" in urls
        assert f"{root}/console/static/console.js" in urls
        assert f"{root}/docs" in urls and f"{root}/console/decide" in urls
        assert f'href="{root}/console/queue" aria-current="page"' in queue.text
        assert queue.headers["x-frame-options"] == "DENY"
        assert client.get(f"{root}/console/static/console.css").status_code == 200

        back = re.search(r'name="back" value="([^"]+)"', queue.text)
        assert back and back[1] == f"{root}/console/queue"
        decided = client.post(f"{root}/console/decide", follow_redirects=False, data={
            "message_id": "m3", "label": "ham", "csrf": _csrf(queue), "back": back[1]})
        assert decided.status_code == 303
        assert decided.headers["location"] == f"{root}/console/queue?done=decided"
        assert [d.message_id for d in store.decisions(0.0)] == ["m3"]

        account = client.get(f"{root}/console/account", params={"id": "u5"})
        _emitted(account, root)
        noted = client.post(f"{root}/console/account/note", follow_redirects=False, data={
            "account": "u5", "text": "seen", "csrf": _csrf(account),
            "back": re.search(r'name="back" value="([^"]+)"', account.text)[1]})  # type: ignore[index]
        assert noted.headers["location"] == f"{root}/console/account?id=u5&done=noted"
        for path in ("/console/", "/console/campaigns", "/console/reports", "/console/lists",
                     "/console/system", "/console/audit", "/console/accounts?q=u5"):
            _emitted(client.get(root + path), root)
        assert client.get(f"{root}/console", follow_redirects=False).headers[
            "location"] == f"{root}/console/"
        assert client.get(f"{root}/console/account", follow_redirects=False).headers[
            "location"] == f"{root}/console/accounts"

        out = client.post(f"{root}/console/logout", follow_redirects=False,
                          data={"csrf": _csrf(queue)})
        assert out.status_code == 303 and out.headers["location"] == f"{root}/console/login"
        assert _cookies(out) == {auth.COOKIE: f"{root}/console"}
        assert client.get(f"{root}/console/queue").url.path == f"{root}/console/login"


def test_the_docs_page_links_under_the_root_path() -> None:
    client, _ = _console(ROOT)
    with client:
        docs = client.get(f"{ROOT}/docs")
        assert docs.status_code == 200
        urls = _emitted(docs, ROOT)
        assert {f"{ROOT}/console/static/docs.css", f"{ROOT}/openapi.json",
                f"{ROOT}/console/"} <= set(urls)
        assert "default-src 'none'" in docs.headers["content-security-policy"]
        assert client.get(f"{ROOT}/openapi.json").json()["servers"] == [{"url": ROOT}]
    with TestClient(create_app(_judge(), MemoryConsole())) as plain:
        assert "servers" not in plain.get("/openapi.json").json()  # as before, at /


def test_mounted_under_a_prefix_the_console_redirects_under_it() -> None:
    """A mount in another ASGI app gives the same root path as ``--root-path``."""
    outer = Starlette(routes=[Mount(ROOT, create_app(_judge(), MemoryConsole()))])
    with TestClient(outer) as client:
        refused = client.get(f"{ROOT}/console/queue", follow_redirects=False)
        assert refused.headers["location"].startswith(f"{ROOT}/console/login?next=")
        _emitted(client.get(refused.headers["location"]), ROOT)


def test_a_prefix_from_the_request_is_encoded_where_it_is_emitted() -> None:
    """Mounted under a path parameter (an embedder's choice), the root path is the
    request's own text, decoded: a ``;`` in it added attributes to the cookie's path and
    a line break went into the ``Location``. Emitted, it is percent-encoded."""
    outer = Starlette(routes=[Mount("/{tenant}", create_app(_judge(), MemoryConsole()))])
    hostile = "/a%3B%20Domain=evil.example%3B%20Path=x%0D%0AX:%20y"
    with TestClient(outer) as client:
        login = client.get(f"{hostile}/console/login")
        [cookie] = login.headers.get_list("set-cookie")
        assert [part.partition("=")[0] for part in cookie.split("; ")[1:]] == [
            "HttpOnly", "Path", "SameSite"]
        assert _cookies(login) == {
            auth.LOGIN_COOKIE: "/a%3B%20Domain%3Devil.example%3B%20Path%3Dx%0D%0AX%3A%20y"
                               "/console/login"}
        refused = client.get(f"{hostile}/console/queue", follow_redirects=False)
        assert refused.headers["location"].startswith(
            "/a%3B%20Domain%3Devil.example%3B%20Path%3Dx%0D%0AX%3A%20y/console/login?")
        assert "\n" not in refused.headers["location"]


HOSTILE = ["//evil.example/", "/\\evil.example", "https://evil.example/spimguard/console/",
           "/other/console/queue", "/console/queue", "/spimguardx/console/queue",
           "/spimguard/console/../../other", "/spimguard/console/%2e%2e/%2E%2E/other",
           "/spimguard/console/.%2e/x", "/spimguard/console/%2F%2Fevil.example",
           "/spimguard/console/%5Cevil.example", "/spimguard/console/\t/evil.example",
           "/spimguard/console/.\r\n./.\n./evil", "/spimguard//console/queue",
           "/spimguard/console", "spimguard/console/queue",
           "/spimguard/console/queue?x=//evil.example"]


@pytest.mark.parametrize("given", HOSTILE)
def test_next_and_back_refuse_what_is_not_a_console_page_under_the_prefix(
        given: str) -> None:
    """Under root path ``/spimguard``: a path elsewhere on the host, under another prefix
    or none, or one that a browser resolves out of the prefix (``..``, encoded or not; a
    tab it drops) goes to the console's own page instead; an open redirect stays shut."""
    client, _ = _console(ROOT)
    with client:
        answer = _logged_in(client, ROOT, given)
        assert answer.headers["location"] == f"{ROOT}/console/"
        account = client.get(f"{ROOT}/console/account", params={"id": "u5"})
        noted = client.post(f"{ROOT}/console/account/note", follow_redirects=False, data={
            "account": "u5", "text": "seen", "csrf": _csrf(account), "back": given})
        assert noted.headers["location"] == f"{ROOT}/console/account?id=u5&done=noted"


@pytest.mark.parametrize("given", ["/console/../../v1/releases", "/console/%2e%2e/healthz",
                                   "/console/.%2E/.%2e/docs", "/console/%2f%2fevil.example",
                                   "/console/.\t./.\t./docs"])
def test_without_a_root_path_a_dot_segment_or_encoded_slash_is_refused_too(
        given: str) -> None:
    """Main's guard read the path as given: ``/console/%2e%2e/...`` passed, and a browser
    resolves it out of the console (an encoded ``..`` is a ``..`` to it)."""
    client, _ = _console("")
    with client:
        assert _logged_in(client, "", given).headers["location"] == "/console/"


def test_next_and_back_keep_a_console_page_under_the_prefix() -> None:
    """What the console itself gives (its pages' prefixed paths, with their queries, an
    account id's encoded slash in the query) is kept."""
    client, _ = _console(ROOT)
    with client:
        page = f"{ROOT}/console/account?id=a%2Fb%2F..%2F..%2Fx"
        assert _logged_in(client, ROOT, page).headers["location"] == page
        account = client.get(f"{ROOT}/console/account", params={"id": "u5"})
        noted = client.post(f"{ROOT}/console/account/note", follow_redirects=False, data={
            "account": "u5", "text": "seen", "csrf": _csrf(account),
            "back": f"{ROOT}/console/queue?signal=x&done=evil"})
        assert noted.headers["location"] == f"{ROOT}/console/queue?signal=x&done=noted"


def test_no_request_header_sets_the_prefix() -> None:
    """The root path is the server's configuration: a client's ``X-Forwarded-Prefix`` (or
    the like) moves no link, redirect or cookie."""
    client, _ = _console("")
    forged = {"x-forwarded-prefix": "/evil", "x-forwarded-path": "/evil",
              "x-script-name": "/evil", "x-original-uri": "/evil/console/"}
    with client:
        login = client.get("/console/login", headers=forged)
        _emitted(login, "")
        assert "/evil" not in login.text
        assert _cookies(login) == {auth.LOGIN_COOKIE: "/console/login"}
        refused = client.get("/console/queue", headers=forged, follow_redirects=False)
        assert refused.headers["location"].startswith("/console/login?next=%2Fconsole")


def test_a_root_path_with_a_trailing_slash_gives_no_double_slash() -> None:
    assert rooted({"root_path": "/spimguard/"}, "/console/") == "/spimguard/console/"
    assert rooted({"root_path": "/"}, "/console/") == "/console/"
    assert rooted({}, "/console/") == "/console/"


def test_serve_takes_a_root_path_that_a_forged_header_does_not_move(tmp_path: Path) -> None:
    """``spimguard serve --root-path``, behind a proxy that strips the prefix: uvicorn puts
    it back in the scope, so the console's links, redirects and cookies carry it. uvicorn
    honours no header that sets it (its proxy headers are ``X-Forwarded-For`` and
    ``-Proto`` only): a client's ``X-Forwarded-Prefix`` changes nothing."""
    forged = {"x-forwarded-prefix": "/evil", "x-forwarded-path": "/evil",
              "x-script-name": "/evil", "x-forwarded-for": "127.0.0.1"}
    server = start_server(tmp_path / "data", extra_args=("--root-path", ROOT))
    with stopped_after(server), httpx.Client(base_url=server.url, headers=forged) as client:
        login = client.get("/console/login")  # as the proxy forwards it, prefix stripped
        assert login.status_code == 200 and "/evil" not in login.text
        _emitted(login, ROOT)
        assert _cookies(login) == {auth.LOGIN_COOKIE: f"{ROOT}/console/login"}
        refused = client.get("/console/queue")
        assert refused.headers["location"] == (
            f"{ROOT}/console/login?next={quote(ROOT + '/console/queue', safe='')}")
        assert "default-src 'none'" in refused.headers["content-security-policy"]
        _emitted(client.get("/docs"), ROOT)


@pytest.mark.parametrize("root", ["spimguard", "/a b", "/x;Path=/", '/"x', "//evil"])
def test_serve_refuses_a_root_path_that_is_not_plain_segments(root: str) -> None:
    answer = CliRunner().invoke(cli_app, ["serve", "--root-path", root])
    assert answer.exit_code == 2 and "is not a path of letters" in answer.output


def test_chromium_logs_in_decides_and_logs_out_under_the_prefix(tmp_path: Path) -> None:
    """A real browser through the prefix: its own cookie jar (a cookie's path matched as
    Chromium matches it), the prefixed stylesheet and script loaded under the CSP, a form
    posted and the redirects followed. The app is mounted under the prefix in an app that
    uvicorn serves, as an embedding host would."""
    import uvicorn
    from selenium.webdriver.common.by import By

    import browser_harness
    from test_console_browser import _navigate

    store = MemoryConsole()
    store.save_operator(auth.new_operator("dana", "moderator", PASSWORD))
    outer = Starlette(routes=[Mount(ROOT, create_app(_judge(), store))])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(outer, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    chrome = browser_harness.start(tmp_path / "profile", tmp_path / "downloads")
    try:
        for _ in range(600):  # a bound on start-up, not a timing test
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        chrome.get(f"{base}{ROOT}/console/queue")
        assert urlsplit(chrome.current_url).path == f"{ROOT}/console/login"
        chrome.find_element(By.ID, "name").send_keys("dana")
        chrome.find_element(By.ID, "password").send_keys(PASSWORD)
        _navigate(chrome, chrome.find_element(By.CSS_SELECTOR, "form.login button").click)
        assert urlsplit(chrome.current_url).path == f"{ROOT}/console/queue"
        assert chrome.execute_script(  # the prefixed stylesheet loaded and applied
            "return Array.from(document.styleSheets).some(s => s.href.endsWith("
            f"'{ROOT}/console/static/console.css') && s.cssRules.length > 0)")
        _navigate(chrome, chrome.find_element(By.CSS_SELECTOR, "form.decide button.ham").click)
        landed = urlsplit(chrome.current_url)
        assert landed.path == f"{ROOT}/console/queue" and "done=decided" in landed.query
        decided = store.decisions(0.0)  # the page's first form: one message or a cluster
        assert decided and {d.operator for d in decided} == {"dana"}
        _navigate(chrome, chrome.find_element(By.CSS_SELECTOR, "form.whoami button").click)
        assert urlsplit(chrome.current_url).path == f"{ROOT}/console/login"
        chrome.get(f"{base}{ROOT}/console/queue")  # the session is gone
        assert urlsplit(chrome.current_url).path == f"{ROOT}/console/login"
    finally:
        chrome.quit()
        server.should_exit = True
        thread.join(30)

"""The operator console in a real browser (Debian's Chromium, driven by selenium).

A small simulated attack (``spimguard simulate --url``) fills a real server; a
moderator logs in, reviews the queue, releases one message as ham and confirms a
cluster as spam, sees the sender's account restored and the release on
``/v1/releases``, downloads a campaign's evidence, and the audit log shows it all.
Hostile texts (script tags, event handlers, ``javascript:`` links, RTL overrides,
64 KiB lines) render as text, and a form without its CSRF token is refused.
Screenshots of every page go to ``$SPIMGUARD_SCREENSHOTS`` (or the test's tmp dir).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

import browser_harness
from conftest import TOKEN, Server, start_server
from spimguard.sim.scenarios import DAY, END

PASSWORD = "a long enough secret"
HOSTILE_SENDER = '<script>document.title="pwned"</script>'
HOSTILE_TEXTS = [
    'WINNER!! claim your FREE prize now <img src=x onerror="document.title=\'pwned\'"> '
    "call 09061701461",
    "WINNER!! claim your FREE prize now, javascript:alert(1) <a href=\"javascript:"
    "document.title='pwned'\">click</a> call 09061701461",
    "WINNER!! claim your FREE prize \u202egnp.exe now, call 09061701461 "
    "<svg onload=\"document.title='pwned'\"></svg>",
    "WINNER!! claim your FREE prize now, call 09061701461 " + "x" * (64 * 1024 - 60),
]


def _hijack(account: str = "victim", days: int = 30) -> list[dict[str, Any]]:
    """A month of an owner's ordinary life, then a harvester's login, contact read and burst
    of ringtone promotions from its own software (the threat spimguard exists for)."""
    friends = [f"{account}-friend{i}" for i in range(60)]
    start = END - (days + 1) * DAY
    events: list[dict[str, Any]] = [{"type": "contacts", "id": f"{account}-c", "ts": start,
                                     "account": account, "contacts": friends}]
    for day in range(days):
        ts = start + day * DAY + 60
        events.append({"type": "login", "id": f"{account}-l{day}", "ts": ts,
                       "account": account, "session": "phone", "ip": "198.51.100.20",
                       "client": {"id": "im-android"}})
        events.extend({"type": "message", "id": f"{account}-d{day}-{i}", "ts": ts + 60 + i,
                       "sender": account, "recipients": [friends[i]],
                       "text": f"see you at {i + 5} tonight", "session": "phone",
                       "client": {"id": "im-android", "ip": "198.51.100.20"}}
                      for i in range(3))
    evil = {"id": "MobileFunster 2.1", "ip": "203.0.113.7"}
    t = END - 1800
    events.append({"type": "login", "id": f"{account}-evil", "ts": t, "account": account,
                   "session": "evil", "ip": evil["ip"], "client": {"id": evil["id"]}})
    events.append({"type": "contacts_read", "id": f"{account}-read", "ts": t + 5,
                   "account": account, "session": "evil", "count": 60})
    events.extend({"type": "message", "id": f"{account}-spam{i}", "ts": t + 10 + 3 * i,
                   "sender": account, "recipients": [friends[i]], "session": "evil",
                   "client": evil, "text": f"hey! I found cheap ringtones here "
                                           f"http://cheap-tones.biz/r?u={i}"}
                  for i in range(20))
    return events


def _wave(bots: int = 6, each: int = 8) -> list[dict[str, Any]]:
    """A ringtone seller's wave from throwaway bots, one personalised pitch per stranger:
    the campaign the moderator confirms and downloads. (The small simulation confirms
    campaigns only through its recipients' few reports of spim that got through, which
    a better filter leaves it none of.)"""
    start = END - 3600
    return [{"type": "message", "id": f"wave-{b}-{i}", "ts": start + b * 40 + i * 4,
             "sender": f"tones-bot{b}", "recipients": [f"shopper{b * each + i}"],
             "client": {"id": "MobileFunster 2.1", "ip": f"203.0.113.{50 + b}"},
             "text": f"hi shopper{b * each + i}! cheap ringtones for your phone, 3 for $1 at "
                     f"http://cheap-tones.biz/r?u={b * each + i}"}
            for b in range(bots) for i in range(each)]


def _cli(data: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "spimguard", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server after a small simulated attack, with hostile texts in its queue."""
    data = tmp_path_factory.mktemp("console") / "data"
    for name, role in (("mod", "admin"), ("watcher", "viewer")):
        _cli(data, "operators", "add", name, "--role", role, "--data-dir", str(data),
             env={"SPIMGUARD_PASSWORD": PASSWORD})
    server = start_server(data, extra_env={
        "SPIMGUARD_OFFICIAL_CLIENTS": "im-android,im-ios,im-desktop",
        "SPIMGUARD__RECORDS__KEEP_TEXT": "true"})
    try:
        _cli(data, "simulate", "--url", server.url, "--token", TOKEN, "--scenario", "mixed",
             "--users", "60", "--days", "1", "--seed", "1")
        events: list[dict[str, Any]] = [
            {"type": "message", "id": f"hostile-{i}", "ts": END - 600 + i,
             "sender": HOSTILE_SENDER if i == 0 else "mallory\u202eyrollam",
             "recipients": [f"target{i}"], "text": text}
            for i, text in enumerate(HOSTILE_TEXTS)]
        events.append({"type": "appeal", "id": "appeal-1", "ts": END - 300,
                       "account": HOSTILE_SENDER, "message_id": "hostile-0",
                       "text": "<b>please</b> <script>document.title='pwned'</script>"})
        with server.client() as api:
            wave = api.post("/v1/events", json={"events": _wave()})
            assert wave.status_code == 200, wave.text
            hijack = api.post("/v1/events", json={"events": _hijack()})
            assert hijack.status_code == 200, hijack.text
            assert any(r["account_action"]["action"] == "suspend_sending"
                       for r in hijack.json()["results"])
            answer = api.post("/v1/events", json={"events": events})
            assert answer.status_code == 200, answer.text
            held = [r for r in answer.json()["results"][:4] if r.get("action") in (
                "hold", "block")]
            assert len(held) == 4, answer.json()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    folder = tmp_path_factory.mktemp("chromium")
    chrome = browser_harness.start(folder / "profile", folder / "downloads")
    chrome.downloads = folder / "downloads"  # type: ignore[attr-defined]
    yield chrome
    chrome.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("SPIMGUARD_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser: WebDriver, server: Server, path: str) -> None:
    browser.get(server.url + path)
    WebDriverWait(browser, 20).until(
        lambda b: b.execute_script("return document.readyState") == "complete")


def _shot(browser: WebDriver, shots: Path, name: str) -> None:
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1280, min(max(height, 800), 2400))
    browser.save_screenshot(str(shots / f"{name}.png"))
    browser.set_window_size(1280, 1000)


def _navigate(browser: WebDriver, act: Callable[[], object], timeout: float = 60) -> None:
    """Do ``act`` (a click, a key) and wait for the page it leads to, fully loaded.

    The page it was done on is "complete" too, so the wait is for a new document: a mark
    set on the old one is gone. While one document replaces another the driver may answer
    with an error of its own ("Node with given id does not belong to the document") rather
    than "stale element"; those are asked again, never taken for the answer. Waiting for
    the answer (not the old page) also keeps a slow password hash from letting the next
    page load cancel a login's post."""
    browser.execute_script("document.documentElement.dataset.spimguardLeft = 'yes'")
    act()
    WebDriverWait(browser, timeout, ignored_exceptions=(WebDriverException,)).until(
        lambda b: b.execute_script(
            "return document.readyState === 'complete'"
            " && document.documentElement.dataset.spimguardLeft === undefined"))


def _login(browser: WebDriver, server: Server, name: str, password: str) -> None:
    _open(browser, server, "/console/login")
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.login button").click)


def _done(browser: WebDriver) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, "p.done")
    return found[0].text if found else ""


def _untouched(browser: WebDriver) -> None:
    """No hostile script ran: every payload would set the title or raise an alert."""
    assert browser.title != "pwned"
    assert "pwned" not in browser.title


def test_login_is_required_and_wrong_passwords_are_refused(
        attacked: Server, browser: WebDriver, shots: Path) -> None:
    _open(browser, attacked, "/console/queue")
    assert "/console/login" in browser.current_url
    _shot(browser, shots, "login")
    _login(browser, attacked, "mod", "not the password")
    assert "Wrong name or password" in browser.page_source
    _login(browser, attacked, "mod", PASSWORD)
    assert browser.current_url.rstrip("/").endswith("/console")
    cookie = browser.get_cookie("spimguard_console")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_overview_and_every_page_render(attacked: Server, browser: WebDriver,
                                        shots: Path) -> None:
    _open(browser, attacked, "/console/")
    assert browser.find_element(By.CSS_SELECTOR, "svg.chart rect")  # verdicts per hour
    assert "ham held per 10,000" in browser.page_source
    _shot(browser, shots, "overview")
    for path, name in (("/console/campaigns", "campaigns"), ("/console/lists", "lists"),
                       ("/console/system", "system"), ("/console/accounts?q=user", "accounts")):
        _open(browser, attacked, path)
        assert browser.find_element(By.TAG_NAME, "h1")
        _shot(browser, shots, name)
    _open(browser, attacked, "/console/system")
    assert TOKEN not in browser.page_source
    _open(browser, attacked, "/console/campaigns")  # an operation: its campaigns as one
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "#operations td a").click)
    WebDriverWait(browser, 20).until(lambda b: "/console/campaign?id=op-" in b.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Operation")
    assert browser.find_element(By.ID, "evidence")
    _shot(browser, shots, "operation")


def test_hostile_text_stays_text(attacked: Server, browser: WebDriver, shots: Path) -> None:
    _open(browser, attacked, "/console/queue?account=" + quote(HOSTILE_SENDER))
    _untouched(browser)
    assert HOSTILE_SENDER in browser.find_element(By.CSS_SELECTOR, "ol.queue").text
    assert "<img src=x onerror=" in browser.find_element(By.CSS_SELECTOR, "pre.text").text
    _open(browser, attacked, "/console/queue?account=mallory")
    _untouched(browser)
    texts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "pre.text")]
    assert any("<svg onload=" in t for t in texts)
    assert not browser.find_elements(By.CSS_SELECTOR, "pre.text img, pre.text svg, pre.text a")
    links = [a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a")]
    assert not any(h.lower().startswith("javascript:") for h in links)
    long_line = max(len(browser.execute_script("return arguments[0].textContent", e))
                    for e in browser.find_elements(By.CSS_SELECTOR, "pre.text"))
    assert long_line > 60_000
    # The page stays usable: a 64 KiB line wraps inside its box instead of widening the page.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1400
    _open(browser, attacked, "/console/reports")
    _untouched(browser)
    assert "<script>document.title" in browser.find_element(By.TAG_NAME, "main").text
    _shot(browser, shots, "reports")


def test_release_one_and_confirm_a_cluster(attacked: Server, browser: WebDriver,
                                           shots: Path) -> None:
    with attacked.client() as api:
        assert api.get("/v1/releases").json() == {"releases": [], "cursor": 0}
    _open(browser, attacked, "/console/")
    restricted = [a.text for a in browser.find_elements(
        By.XPATH, "//h2[text()='Restricted accounts']/following-sibling::ul[1]/li/a")]
    victim = "victim"
    assert victim in restricted
    _open(browser, attacked, "/console/queue?pending=1&account=" + victim)
    _shot(browser, shots, "queue")
    # Keyboard: j selects the first message, h releases it as ham.
    browser.find_element(By.TAG_NAME, "body").send_keys("j")
    first = browser.find_element(By.CSS_SELECTOR, "ol.queue > li.item.selected")
    released_id = first.find_element(By.CSS_SELECTOR, ".mid").text
    first.find_element(By.CSS_SELECTOR, "input[name=why]").send_keys("a friend's real message")
    _navigate(browser, lambda: browser.find_element(By.TAG_NAME, "body").send_keys("h"))
    WebDriverWait(browser, 20).until(lambda b: "done=decided" in b.current_url)
    assert _done(browser) == "Decision recorded."
    with attacked.client() as api:
        releases = api.get("/v1/releases").json()["releases"]
        assert [r["message_id"] for r in releases] == [released_id]
        assert releases[0]["sender"] == victim and releases[0]["released_by"] == "mod"
        assert api.get(f"/v1/accounts/{victim}").json()["restrictions"] == {}
    _open(browser, attacked, "/console/account?id=" + victim)
    assert browser.find_element(By.ID, "no-restrictions")
    _shot(browser, shots, "account")

    _open(browser, attacked, "/console/campaigns")
    _navigate(browser, browser.find_element(
        By.CSS_SELECTOR, "#campaigns td a[href^='/console/campaign?id=']").click)
    WebDriverWait(browser, 20).until(lambda b: "/console/campaign?id=" in b.current_url)
    campaign = browser.current_url.split("id=")[1]
    _shot(browser, shots, "campaign")
    held = browser.find_element(By.XPATH, "//h2[starts-with(text(), 'Decide on the')]").text
    form = browser.find_element(By.CSS_SELECTOR, "form.decide")
    form.find_element(By.CSS_SELECTOR, "input[name=why]").send_keys("ringtone campaign")
    _navigate(browser, form.find_element(By.CSS_SELECTOR, "button.spam").click)
    WebDriverWait(browser, 20).until(lambda b: "done=decided" in b.current_url)
    _open(browser, attacked, "/console/audit")
    rows = browser.find_element(By.CSS_SELECTOR, "table.audit").text
    assert "decide.cluster.spam" in rows and campaign in rows and "ringtone campaign" in rows
    assert "decide.ham" in rows and "a friend's real message" in rows
    assert int(held.split()[3]) >= 1
    _shot(browser, shots, "audit")


def test_evidence_downloads_from_the_campaign_page(attacked: Server, browser: WebDriver) -> None:
    _open(browser, attacked, "/console/campaigns")
    _navigate(browser, browser.find_element(
        By.CSS_SELECTOR, "#campaigns td a[href^='/console/campaign?id=']").click)
    WebDriverWait(browser, 20).until(lambda b: "/console/campaign?id=" in b.current_url)
    browser.find_element(By.ID, "evidence").click()
    folder: Path = browser.downloads  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30

    def finished() -> bool:
        """Chromium names an empty placeholder as the file at the download's start and
        writes into ``.crdownload`` beside it: done once that is gone and the file full."""
        found = list(folder.glob("evidence-*.zip"))
        return bool(found) and not list(folder.glob("*.crdownload")) and all(
            f.stat().st_size for f in found)

    while not finished() and time.monotonic() < deadline:
        time.sleep(0.2)
    bundle = next(folder.glob("evidence-*.zip"))
    names = zipfile.ZipFile(io.BytesIO(bundle.read_bytes())).namelist()
    assert "summary.json" in names and "messages.csv" in names


def test_a_form_without_its_csrf_token_is_refused(attacked: Server, browser: WebDriver) -> None:
    _open(browser, attacked, "/console/lists")
    form = browser.find_element(By.CSS_SELECTOR, "#list-block form[action$='/add']")
    form.find_element(By.NAME, "entries").send_keys("forged.example")
    browser.execute_script("arguments[0].querySelector('input[name=csrf]').value = 'forged'",
                           form)
    _navigate(browser, form.find_element(By.TAG_NAME, "button").click)
    WebDriverWait(browser, 20).until(lambda b: "CSRF" in b.page_source)
    _open(browser, attacked, "/console/lists")
    assert "forged.example" not in browser.find_element(By.ID, "list-block").text
    form = browser.find_element(By.CSS_SELECTOR, "#list-block form[action$='/add']")
    form.find_element(By.NAME, "entries").send_keys("ringtones.example")
    _navigate(browser, form.find_element(By.TAG_NAME, "button").click)
    WebDriverWait(browser, 20).until(lambda b: "done=listed" in b.current_url)
    assert "ringtones.example" in browser.find_element(By.ID, "list-block").text


def test_a_viewer_reads_but_cannot_decide(attacked: Server, browser: WebDriver) -> None:
    _open(browser, attacked, "/console/")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.whoami button").click)
    WebDriverWait(browser, 20).until(lambda b: "/console/login" in b.current_url)
    _open(browser, attacked, "/console/queue")
    assert "/console/login" in browser.current_url  # the session ended
    _login(browser, attacked, "watcher", PASSWORD)
    _open(browser, attacked, "/console/queue")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "ol.queue button.spam").click)
    WebDriverWait(browser, 20).until(lambda b: "needs the moderator role" in b.page_source)


def test_the_console_answers_carry_a_strict_csp(attacked: Server) -> None:
    answer = httpx.get(attacked.url + "/console/login")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy

"""A Matrix sender whose held message an operator released is told it may send it
again: a server notice through Synapse's admin API, from spimguard's release queue
(a real Synapse, a real spimguard server, the console over HTTP)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import synapse_harness
from conftest import Server, free_port, start_server, stopped_after
from console_client import act, decide, logged_in, queued
from spimguard.config import build
from spimguard.errors import ConfigError

PASSWORD = "correct horse battery"
MX_TOKEN = "matrix-module-secret"


@pytest.fixture(scope="module")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[synapse_harness.Synapse, Server]]:
    folder = tmp_path_factory.mktemp("resend")
    port = free_port()  # spimguard's: Synapse must know it, spimguard needs Synapse's admin
    module = synapse_harness.antispam_config(f"http://127.0.0.1:{port}", MX_TOKEN, {
        "check_event_for_spam": True, "user_may_join_room": True,
        "check_login_for_spam": True})
    with stopped_after(synapse_harness.start(folder / "synapse", free_port(), module)) as hs:
        hs.register("admin", admin=True)
        admin = hs.login("admin", "curl/8.5")
        data = folder / "spimguard"
        done = subprocess.run([sys.executable, "-m", "spimguard", "operators", "add", "mod",
                               "--role", "admin", "--data-dir", str(data)], text=True,
                              capture_output=True, timeout=120,
                              env={**os.environ, "SPIMGUARD_PASSWORD": PASSWORD})
        assert done.returncode == 0, done.stdout + done.stderr
        env = {"SPIMGUARD__MATRIX__ENABLED": "true", "SPIMGUARD__MATRIX__TOKEN": MX_TOKEN,
               "SPIMGUARD__MATRIX__HOMESERVER_URL": hs.url,
               "SPIMGUARD__MATRIX__ADMIN_TOKEN": admin.token,
               "SPIMGUARD__MATRIX__NOTICES_USER": f"@notices:{synapse_harness.SERVER_NAME}",
               "SPIMGUARD__MATRIX__NOTICE_POLL": "0.5",
               "SPIMGUARD__RECORDS__KEEP_TEXT": "true"}
        with stopped_after(start_server(data, port=port, extra_env=env)) as guard:
            yield hs, guard


def test_notices_need_the_homeserver_the_token_and_the_notices_user() -> None:
    whole = {"homeserver_url": "http://127.0.0.1:8008", "admin_token": "syt_x",
             "notices_user": "@notices:example.org"}
    assert build({"matrix": whole}).matrix.admin_token == "syt_x"
    for missing in whole:
        with pytest.raises(ConfigError, match="go together"):
            build({"matrix": {k: v for k, v in whole.items() if k != missing}})


def test_an_unreachable_homeserver_is_tried_again_from_the_same_release() -> None:
    """Nothing listens at the homeserver's address: the release waits (the cursor stops
    before it, past another adapter's release) until it is a day old, then is audited
    as not notified and passed over."""
    import asyncio

    from spimguard.config import MatrixConfig
    from spimguard.server.console.memory import MemoryConsole
    from spimguard.server.matrix_notices import CURSOR, ResendNotices

    store = MemoryConsole()
    now = time.time()
    store.save_release("xmpp-1", "eve@xmpp.test", ["frank@xmpp.test"], None, "mod", now)
    store.save_release("$ev1", "@alice:spim.test", ["@bob:spim.test"], "hi", "mod", now)
    store.save_release("$ev0", "@carol:spim.test", [], None, "mod", now - 2 * 86_400)
    cfg = MatrixConfig(enabled=True, token="t", admin_token="syt_x", notices_user="@n:x",
                       homeserver_url=f"http://127.0.0.1:{free_port()}")

    async def twice() -> tuple[int, int, int]:
        notices = ResendNotices(cfg, store)
        try:
            first = await notices.once()
            at = store.cursor(CURSOR)
            return first, at, await notices.once()
        finally:
            await notices.close()

    assert asyncio.run(twice()) == (0, 1, 0)
    assert store.cursor(CURSOR) == 1, "the unreachable one is tried again, from itself"
    assert store.audit_log() == []
    old = ResendNotices(cfg, store)
    store.advance_cursor(CURSOR, 2)  # as if $ev1 had been told: then the day-old one
    assert asyncio.run(old.once()) == 0
    asyncio.run(old.close())
    assert store.cursor(CURSOR) == 3
    assert [(e.action, e.target) for e in store.audit_log()] == [
        ("release.not_notified", "$ev0")]


def _notices(client: synapse_harness.Client, within: float = 30.0) -> tuple[str, list[str]]:
    """The user's server notices room and its texts, once one is invited to and says
    something."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for room in client.invites():
            assert client.join(room).status_code == 200
            while time.monotonic() < deadline:
                if texts := client.texts(room):
                    return room, texts
                time.sleep(0.2)
        time.sleep(0.3)
    return "", []


def test_a_released_sender_is_told_to_resend_once(homeserver: tuple[
        synapse_harness.Synapse, Server]) -> None:
    """An admin blocks a domain too broadly; Alice's message to Bob is refused; a
    moderator releases it. Another adapter's release, earlier in the queue, is passed
    over; Alice gets one server notice quoting her message (a notice that Synapse's
    spam check would refuse, were ``notices_user`` judged), and the audit log says so."""
    synapse, guard = homeserver
    console = logged_in(guard.url, "mod", PASSWORD)
    act(console, "/console/lists/block/add", {"entries": "bad-pills.test", "kind": "domains",
                                              "why": "pill spam"})
    with guard.client() as api:  # an XMPP user's message, released first
        other = api.post("/v1/check", json={
            "type": "message", "id": "xmpp-1", "ts": time.time(), "sender": "eve@xmpp.test",
            "recipients": ["frank@xmpp.test"], "text": "see http://bad-pills.test/x"})
        assert other.json()["action"] == "block", other.text
    decide(console, ["xmpp-1"], "ham", "not ours to tell")

    alice_id, bob_id = synapse.register("alice"), synapse.register("bob")
    alice, bob = (synapse.login(u, "Element/1.11.85") for u in ("alice", "bob"))
    room = alice.create_room([bob_id], direct=True)
    assert bob.join(room).status_code == 200
    refused = alice.send(room, "the soup recipe: http://bad-pills.test/soup")
    assert refused.status_code == 403 and refused.json()["errcode"] == "M_FORBIDDEN"
    held = queued(console, alice_id)
    assert len(held) == 1 and held[0].startswith("$"), held
    decide(console, held, "ham", "a recipe, not spam")

    notices, texts = _notices(alice)
    assert len(texts) == 1, texts
    assert "the soup recipe" in texts[0] and "send it again" in texts[0], texts
    audit = console.get("/console/audit").text
    assert "release.notified" in audit and held[0] in audit
    time.sleep(2.0)  # four more polls: the cursor moved on, nothing is sent twice
    assert len(alice.texts(notices)) == 1

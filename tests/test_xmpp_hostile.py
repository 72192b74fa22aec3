"""mod_spimguard against a sender who reads its code: every part a client renders is
judged, no size a sender controls leaves a message unjudged, and no stanza breaks it.

A real spimguard whose operator denies links to ``tones.example`` and a real Prosody
(with a group chat service) with the module in ``fail_mode = "open"``: a message that
slips past the check is delivered, so each test below fails when it is not judged.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator
from xml.sax.saxutils import escape, quoteattr

import pytest
from slixmpp import Message

import prosody_harness
from conftest import TOKEN, Server, free_port, start_server, stopped_after
from xmpp_clients import Client, drain

SPAM_URL = "http://free.tones.example/win"
SPAM = f"win a prize at {SPAM_URL}"
XHTML = ("<html xmlns='http://jabber.org/protocol/xhtml-im'>"
         "<body xmlns='http://www.w3.org/1999/xhtml'>{}</body></html>")
BOB = prosody_harness.jid("bob")
ROOM = f"lobby@conference.{prosody_harness.HOST}"

Servers = tuple[prosody_harness.Prosody, Server]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    folder = tmp_path_factory.mktemp("xmpp-hostile")
    env = {"SPIMGUARD__DETECTORS__RULES__DENY_DOMAINS": '["tones.example"]',
           # A phrase that only warns: nothing scored holds (the denied link is an override).
           "SPIMGUARD__DETECTORS__RULES__DENY_PHRASES": '["lucky draw"]',
           "SPIMGUARD__POLICY__HOLD": "50.0", "SPIMGUARD__POLICY__BLOCK": "60.0"}
    with stopped_after(start_server(folder / "spimguard", extra_env=env)) as guard:
        module = {"url": guard.url, "token": TOKEN, "timeout": 5, "fail_mode": "open"}
        rosters = {"alice": ["bob"], "bob": ["alice"], "carol": []}
        with stopped_after(prosody_harness.start(folder / "prosody", free_port(), rosters,
                                                 module, muc=f"conference.{prosody_harness.HOST}")
                       ) as prosody:
            yield prosody, guard


def metric(guard: Server, name: str) -> float:
    """The sum of a counter over its labels."""
    with guard.client() as client:
        text = client.get("/metrics").text
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def message(to: str, inner: str, kind: str = "chat", lang: str | None = None) -> str:
    attrs = f" xml:lang={quoteattr(lang)}" if lang is not None else ""
    return f"<message to={quoteattr(to)} type='{kind}'{attrs}>{inner}</message>"


async def exchange(port: int, stanzas: list[str], resource: str = "Conversations.a",
                   wait: float = 0.8) -> tuple[list[Message], list[Message]]:
    """Alice sends each raw stanza to bob: what bob got, what came back."""
    alice = Client("alice", resource)
    bob = Client("bob", "Conversations.b")
    await asyncio.gather(alice.online(port), bob.online(port))
    for stanza in stanzas:
        alice.send_raw(stanza)
    received = await drain(bob.stanzas, wait)
    errors = await drain(alice.errors, 0.3)
    alice.disconnect()
    bob.disconnect()
    return received, errors


PARTS = {
    "a second body in another language": f"<body>hi bob</body><body xml:lang='de'>{SPAM}</body>",
    "a body with an odd xml:lang": f"<body xml:lang='x-\u202ezz-{'q' * 300}'>{SPAM}</body>",
    "the subject alone": f"<subject>{escape(SPAM)}</subject>",
    "an XHTML-IM link target": "<body>my photos</body>" + XHTML.format(
        f"<p><a href='{SPAM_URL}'>my photos</a></p>"),
    "deeply nested XHTML-IM text": "<body>hi</body>" + XHTML.format(
        "<span>" * 400 + escape(SPAM) + "</span>" * 400),
    "an out-of-band URL alone": f"<x xmlns='jabber:x:oob'><url>{SPAM_URL}</url></x>",
    "the body after 150 KiB of other bodies": "".join(
        f"<body xml:lang='x-{n}'>{n} {'lorem ipsum ' * 85}</body>" for n in range(150))
        + f"<body>{SPAM}</body>",
}


@pytest.mark.parametrize("part", list(PARTS))
def test_every_rendered_part_is_judged(servers: Servers, part: str) -> None:
    prosody, _ = servers
    received, errors = asyncio.run(exchange(prosody.port, [message(BOB, PARTS[part])]))
    assert received == [] and len(errors) == 1, (part, prosody.log[-2000:])
    assert "policy-violation" in str(errors[0])


def test_headlines_are_judged(servers: Servers) -> None:
    prosody, _ = servers
    received, errors = asyncio.run(exchange(
        prosody.port, [message(BOB, f"<body>{SPAM}</body>", kind="headline")]))
    assert (received, len(errors)) == ([], 1)


def test_a_harmless_message_with_every_part_is_delivered_whole(servers: Servers) -> None:
    prosody, _ = servers
    inner = ("<subject>dinner</subject><body>see you at 8</body>"
             "<body xml:lang='fr'>à 20h</body>" + XHTML.format("<p>see you at <b>8</b></p>"))
    received, errors = asyncio.run(exchange(prosody.port, [message(BOB, inner)]))
    assert len(received) == 1 and errors == [], prosody.log[-2000:]
    xml = str(received[0])
    assert "à 20h" in xml and "xhtml-im" in xml and "dinner" in xml


def test_a_warned_message_shows_the_notice_in_every_body(servers: Servers) -> None:
    """The notice goes before every body, and XHTML-IM goes, so no client shows an
    unwarned version (the warned phrase sits in the second body only)."""
    prosody, _ = servers
    inner = ("<body>hello bob</body><body xml:lang='de'>you won our lucky draw</body>"
             + XHTML.format("<p>hello bob</p>"))
    received, errors = asyncio.run(exchange(prosody.port, [message(BOB, inner)]))
    assert len(received) == 1 and errors == [], prosody.log[-2000:]
    xml = received[0].xml
    bodies = [b.text or "" for b in xml.findall("{jabber:client}body")]
    assert len(bodies) == 2 and all(b.startswith("[") for b in bodies), bodies
    assert xml.find("{urn:spimguard:notice:0}notice") is not None
    assert xml.find("{http://jabber.org/protocol/xhtml-im}html") is None


def test_a_long_resource_does_not_leave_its_session_unjudged(servers: Servers) -> None:
    """XMPP allows 1,023-byte resources; the contract 512 characters. Before the
    clipping the login and every check of such a session were answered 422."""
    prosody, guard = servers
    rejected = metric(guard, "spimguard_rejected_requests_total")
    resources = ["MobileFunster." + "x" * 1000, "é" * 511, "x日本語" * 100]
    for resource in resources:
        received, errors = asyncio.run(exchange(
            prosody.port, [message(BOB, f"<body>{SPAM}</body>")], resource))
        assert (received, len(errors)) == ([], 1), (resource[:20], prosody.log[-2000:])
    assert metric(guard, "spimguard_rejected_requests_total") == rejected


def test_groupchat_messages_are_judged(servers: Servers) -> None:
    prosody, _ = servers

    async def room() -> tuple[list[str], int]:
        alice, bob = Client("alice", "Conversations.a"), Client("bob", "Conversations.b")
        await asyncio.gather(alice.online(prosody.port), bob.online(prosody.port))
        for client, nick in ((alice, "alice"), (bob, "bob")):
            client.send_raw(f"<presence to='{ROOM}/{nick}'>"
                            "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        await asyncio.sleep(1.0)
        alice.send_raw(message(ROOM, f"<body>{SPAM}</body>", kind="groupchat"))
        alice.send_raw(message(ROOM, "<body>the meeting moved to 3pm</body>", kind="groupchat"))
        got = [str(m["body"]) for m in await drain(bob.stanzas, 1.0) if m["body"]]
        errors = len(await drain(alice.errors, 0.3))
        alice.disconnect()
        bob.disconnect()
        return got, errors

    got, errors = asyncio.run(room())
    assert got == ["the meeting moved to 3pm"], prosody.log[-2000:]
    assert errors == 1


LANGS = ["", "en", "de-CH", "x-" + "l" * 200, "zh-Hant-TW", "i-klingon", "\u202e", "a b"]
WORDS = ["hello", "näher", "日本語", "\U0001f600", "\u202etxet", "a&b", "<tag>", "'\"", "\t"]


def hostile(rng: random.Random, to: str) -> tuple[str, bool]:
    """A random well-formed hostile message and whether it carries the denied link
    (hidden in one random part among many)."""
    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    parts = [f"<body xml:lang={quoteattr(rng.choice(LANGS))}>{escape(words(rng.randint(1, 400)))}"
             "</body>" for _ in range(rng.randint(0, 40))]
    if rng.random() < 0.5:
        depth = rng.randint(1, 500)
        parts.append(XHTML.format("<span>" * depth + escape(words(5)) + "</span>" * depth))
    if rng.random() < 0.3:
        parts.append(f"<subject>{escape(words(3))}</subject>")
    spam = rng.random() < 0.6
    if spam:
        hidden = rng.choice([
            f"<body xml:lang={quoteattr(rng.choice(LANGS))}>{escape(words(3))} {SPAM}</body>",
            f"<subject>{SPAM}</subject>",
            f"<x xmlns='jabber:x:oob'><url>{SPAM_URL}</url><desc>{escape(words(2))}</desc></x>",
            XHTML.format(f"<a href={quoteattr(SPAM_URL)}>{escape(words(2))}</a>")])
        parts.insert(rng.randint(0, len(parts)), hidden)
    kind = rng.choice(["chat", "normal", "headline", "chat"])
    return message(to, "".join(parts), kind, rng.choice([None, *LANGS])), spam


def test_fuzz_hostile_stanzas_are_all_judged_and_break_nothing(servers: Servers) -> None:
    """Sixty seeded hostile messages: every one with content reaches spimguard (one
    verdict each, no request refused as bad input), every one with the denied link is
    refused wherever the link hides, and the module logs no error."""
    prosody, guard = servers
    rng = random.Random(13)
    cases = [hostile(rng, BOB) for _ in range(60)]
    judged_before = metric(guard, "spimguard_verdicts_total")
    rejected_before = metric(guard, "spimguard_rejected_requests_total")

    async def run() -> tuple[set[str], set[str]]:
        alice, bob = Client("alice", "Conversations.fuzz"), Client("bob", "Conversations.b")
        await asyncio.gather(alice.online(prosody.port), bob.online(prosody.port))
        for n, (stanza, _) in enumerate(cases):
            alice.send_raw(stanza.replace("<message ", f"<message id='fuzz-{n}' ", 1))
            await asyncio.sleep(0.05)
        delivered = {str(m["id"]) for m in await drain(bob.stanzas, 3.0)}
        refused = {str(m["id"]) for m in await drain(alice.errors, 0.5)}
        alice.disconnect()
        bob.disconnect()
        return delivered, refused

    delivered, refused = asyncio.run(run())
    with_content = sum(1 for stanza, _ in cases if re.search(r"<(body|subject|url|a )", stanza))
    assert metric(guard, "spimguard_verdicts_total") - judged_before == with_content
    assert metric(guard, "spimguard_rejected_requests_total") == rejected_before
    for n, (stanza, spam) in enumerate(cases):
        if spam:
            assert f"fuzz-{n}" in refused and f"fuzz-{n}" not in delivered, stanza[:300]
    assert "spimguard\terror" not in prosody.log and "traceback" not in prosody.log.lower()


STREAM_KILLERS = {
    "invalid UTF-8": b"<message to='bob@spim.test' type='chat'><body>\xff\xfe win</body></message>",
    "a control character": b"<message to='bob@spim.test'><body>&#1; win</body></message>",
    "an oversized stanza": b"<message to='bob@spim.test'><body>" + b"a" * 300_000
                           + b"</body></message>",
    "an unclosed tag": b"<message to='bob@spim.test'><body>win</message>",
}


def test_malformed_streams_end_their_session_and_nothing_else(servers: Servers) -> None:
    """Bytes Prosody's parser refuses close that one stream; the module and everyone
    else's messages go on being judged."""
    prosody, _ = servers

    async def attack() -> None:
        for raw in STREAM_KILLERS.values():
            mallory = await Client("carol", "Conversations.m").online(prosody.port)
            mallory.transport.write(raw)
            await asyncio.wait_for(mallory.closed.wait(), 10)

    asyncio.run(attack())
    assert prosody.process.poll() is None
    received, errors = asyncio.run(exchange(prosody.port, [message(BOB, f"<body>{SPAM}</body>")]))
    assert (received, len(errors)) == ([], 1), prosody.log[-2000:]


# s2s needs names Prosody resolves: addresses (REMOTE_ROOMS: REMOTE's group chat service)
LOCAL, REMOTE, REMOTE_ROOMS = "127.0.0.61", "127.0.0.62", "127.0.0.63"


@pytest.fixture(scope="module")
def federation(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[prosody_harness.Prosody, prosody_harness.Prosody]]:
    """The module on LOCAL's server (same spimguard); REMOTE's server is plain Prosody."""
    _, guard = servers
    folder = tmp_path_factory.mktemp("xmpp-s2s")
    module = {"url": guard.url, "token": TOKEN, "timeout": 5, "fail_mode": "open"}
    with stopped_after(prosody_harness.start(folder / "local", free_port(), {"bob": []}, module,
                                             host=LOCAL, s2s=True)) as local, \
            stopped_after(prosody_harness.start(folder / "remote", free_port(), {"mallory": []},
                                                host=REMOTE, muc=REMOTE_ROOMS, s2s=True)) as remote:
        yield local, remote


def test_messages_from_other_servers_are_judged(federation: tuple[
        prosody_harness.Prosody, prosody_harness.Prosody]) -> None:
    local, remote = federation
    bob_jid = prosody_harness.jid("bob", LOCAL)

    async def run() -> tuple[list[str], list[Message], list[Message]]:
        mallory = Client("mallory", "Gajim.x", host=REMOTE)
        bob = Client("bob", "Conversations.b", host=LOCAL)
        await asyncio.gather(mallory.online(remote.port), bob.online(local.port))
        mallory.chat(bob_jid, "hi bob, remember me from the conference?")
        first = [str(m["body"]) for m in await drain(bob.stanzas, 5.0)]  # s2s connects first
        mallory.chat(bob_jid, SPAM)
        mallory.send_raw(message(bob_jid, f"<subject>{SPAM}</subject>", kind="normal"))
        mallory.send_raw(message(bob_jid, "<body>photos</body>" + XHTML.format(
            f"<a href='{SPAM_URL}'>photos</a>")))
        spam = await drain(bob.stanzas, 2.0)
        errors = await drain(mallory.errors, 1.0)
        mallory.disconnect()
        bob.disconnect()
        return first, spam, errors

    first, spam, errors = asyncio.run(run())
    assert first == ["hi bob, remember me from the conference?"], local.log[-3000:]
    assert spam == [] and len(errors) == 3, (spam, local.log[-3000:])


def test_a_remote_rooms_broadcasts_to_local_users_are_judged(federation: tuple[
        prosody_harness.Prosody, prosody_harness.Prosody]) -> None:
    """Bob (here) in a room on another server: its copy of a spam post is dropped
    silently (an error back could make the room remove him), the next post arrives."""
    local, remote = federation
    room = f"lobby@{REMOTE_ROOMS}"

    async def run() -> tuple[list[str], int]:
        mallory = Client("mallory", "Gajim.x", host=REMOTE)
        bob = Client("bob", "Conversations.room", host=LOCAL)
        await asyncio.gather(mallory.online(remote.port), bob.online(local.port))
        for client, nick in ((mallory, "mallory"), (bob, "bob")):
            client.send_raw(f"<presence to='{room}/{nick}'>"
                            "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
            await asyncio.sleep(2.0)  # bob's join crosses servers
        mallory.send_raw(message(room, f"<body>{SPAM}</body>", kind="groupchat"))
        await asyncio.sleep(0.5)
        mallory.send_raw(message(room, "<body>the meeting moved to 3pm</body>", kind="groupchat"))
        got = [str(m["body"]) for m in await drain(bob.stanzas, 3.0) if m["body"]]
        errors = len(await drain(mallory.errors, 0.3))
        mallory.disconnect()
        bob.disconnect()
        return got, errors

    got, errors = asyncio.run(run())
    assert got == ["the meeting moved to 3pm"], (got, local.log[-3000:])
    assert errors == 0

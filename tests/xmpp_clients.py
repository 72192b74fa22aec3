"""slixmpp clients for the Prosody tests: plaintext auth on loopback, a chosen source address."""

from __future__ import annotations

import asyncio
from xml.etree import ElementTree

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import prosody_harness


class Client(slixmpp.ClientXMPP):
    """One session: connects from ``source`` (any 127.x address), fetches its roster,
    sends presence, and queues what it receives: ``inbox`` the messages with a body,
    ``stanzas`` every message but errors (a subject or a link alone has no body),
    ``errors`` the message errors."""

    def __init__(self, user: str, resource: str, source: str = "127.0.0.1",
                 host: str = prosody_harness.HOST) -> None:
        super().__init__(f"{prosody_harness.jid(user, host)}/{resource}", prosody_harness.PASSWORD)
        self.source = source
        self.inbox: asyncio.Queue[slixmpp.Message] = asyncio.Queue()
        self.errors: asyncio.Queue[slixmpp.Message] = asyncio.Queue()
        self.stanzas: asyncio.Queue[slixmpp.Message] = asyncio.Queue()
        self.ready = asyncio.Event()
        self.closed = asyncio.Event()
        self.stream_errors: list[str] = []
        # The test server has no TLS: allow PLAIN over plaintext, on loopback only.
        self.plugin["feature_mechanisms"].unencrypted_plain = True
        self.enable_plaintext = True
        self.add_event_handler("session_start", self._start)
        self.add_event_handler("message", self.inbox.put_nowait)
        self.add_event_handler("message_error", self.errors.put_nowait)
        self.register_handler(Callback(
            "every message", MatchXPath(f"{{{self.default_ns}}}message"),
            lambda m: None if m["type"] == "error" else self.stanzas.put_nowait(m)))
        self.add_event_handler("disconnected", lambda _: self.closed.set())
        self.add_event_handler("stream_error",
                               lambda error: self.stream_errors.append(str(error)))

    async def _start(self, _: object) -> None:
        await self.get_roster()
        self.send_presence()
        # Ready once the server has taken the presence in: it handles one stream's
        # stanzas in order, so an answered query after it means a message to us now
        # finds us available (not stored offline, as it was once on a loaded machine).
        await self.get_roster()
        self.ready.set()

    async def _attempt_connection(self, host: str, port: int, tls: bool,  # type: ignore[override]
                                  server_hostname: str | None) -> bool:
        # slixmpp has no source-address option: this is its own connect step with one.
        self.event_when_connected = "connected"
        try:
            await self.loop.create_connection(lambda: self, host, port,
                                              local_addr=(self.source, 0))
        except OSError as exc:
            self.event("connection_failed", exc)
            return False
        return True

    async def online(self, port: int, timeout: float = 20.0) -> Client:
        self.connect(host="127.0.0.1", port=port)
        await asyncio.wait_for(self.ready.wait(), timeout)
        return self

    def chat(self, user: str, text: str) -> None:
        """To ``user``: a local part on this client's server, or a JID."""
        to = user if "@" in user else prosody_harness.jid(user, self.boundjid.domain)
        self.send_message(mto=to, mbody=text, mtype="chat")

    async def report_spam(self, user: str) -> None:
        """XEP-0377: block ``user`` and report it as spam."""
        iq = self.make_iq_set()
        iq.append(ElementTree.fromstring(
            f"<block xmlns='urn:xmpp:blocking'><item jid='{prosody_harness.jid(user)}'>"
            "<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'/>"
            "</item></block>"))
        await iq.send(timeout=10)


async def drain(queue: asyncio.Queue[slixmpp.Message], wait: float = 1.0) -> list[slixmpp.Message]:
    """Everything that arrives until ``wait`` seconds pass with nothing new."""
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(queue.get(), wait))
        except TimeoutError:
            return got

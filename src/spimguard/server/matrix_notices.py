"""Telling a Matrix sender that its held message was released, and that it may resend.

Synapse asks its spam checker before it accepts an event, and a refused event is
gone: no later answer can deliver it. So when an operator releases a Matrix
message as ham (``GET /v1/releases`` lists it), its sender is told by a **server
notice** (Synapse's admin API ``PUT /_synapse/admin/v1/send_server_notice/{txn}``,
shown in the user's "Server Notices" room) that the message was not spam and can
be sent again. The release already lifted the sender's restrictions and taught
the learners the message is ham, so the resend is judged in that light.

Every node runs this loop over the shared release queue, from one shared cursor
(``ConsoleStore.cursor``). The notice's transaction id is derived from the
message id, so when two nodes send the same notice at once (both read the cursor
before either moved it), Synapse keeps one. A release whose sender is not a
Matrix user id (another adapter's message) is passed over; one Synapse refuses
for good (a remote user: server notices reach only local users) is logged,
audited and passed over; an unreachable Synapse, a wrong token or a rate limit
stop the round, which starts from the same release next time (for a day; then
that release is audited as not notified and passed over).

The homeserver runs every event through its spam checker, server notices too:
``matrix.notices_user`` (the server notices sender) is let through unjudged by
``matrix.py``, since a notice quotes the very message that was held.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from urllib.parse import quote

import httpx
from starlette.concurrency import run_in_threadpool

from ..config import MatrixConfig
from .challenges import RELEASED_BY
from .console.records import ConsoleStore, Release

log = logging.getLogger("spimguard.matrix")

CURSOR = "matrix-notices"
ACTOR = "spimguard"  # the audit log's operator for what spimguard does by itself
_PAGE = 100
_MATRIX_USER = re.compile(r"@[^:\s]{1,255}:[^\s]{1,255}")
_EXCERPT = 120  # characters of the message quoted back to its sender
_RETRY = (401, 403, 408, 429)  # answers a later try (or a fixed token) can change
_GIVE_UP = 86_400.0  # a notice a day late is of no use: stop trying and audit it


def excerpt(text: str | None) -> str:
    """The start of the message, on one line, for its sender to recognise it."""
    if not text:
        return ""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line if len(line) <= _EXCERPT else line[:_EXCERPT - 1] + "…"


def notice_text(release: Release) -> str:
    quoted = excerpt(release.text)
    which = f"Your message “{quoted}”" if quoted else "Your message"
    why = ("You answered the security check, so it was you who sent it"
           if release.operator == RELEASED_BY else "A moderator reviewed it: it is not spam")
    return (f"{which} (event {release.message_id}) was held as possible spam. {why}. Matrix "
            "cannot deliver a held message later, so please send it again; it will go "
            "through.")


class ResendNotices:
    """The loop that turns Matrix releases into server notices."""

    def __init__(self, cfg: MatrixConfig, console: ConsoleStore,
                 http: httpx.AsyncClient | None = None) -> None:
        self.cfg = cfg
        self.console = console
        self.http = http or httpx.AsyncClient(timeout=10.0)
        self.url = cfg.homeserver_url.rstrip("/") + "/_synapse/admin/v1/send_server_notice/"

    async def run(self) -> None:
        while True:
            try:
                await self.once()
            except Exception:  # the loop outlives any one failure; the log says which
                log.exception("telling Matrix senders about releases failed")
            await asyncio.sleep(self.cfg.notice_poll)

    async def once(self) -> int:
        """One look at the release queue; the notices sent."""
        after = await run_in_threadpool(self.console.cursor, CURSOR)
        sent = 0
        for release in await run_in_threadpool(self.console.releases, after, _PAGE):
            if _MATRIX_USER.fullmatch(release.sender):
                handled = await self.notify(release)
                if handled is None:
                    return sent  # try this one again next time
                sent += handled
            await run_in_threadpool(self.console.advance_cursor, CURSOR, release.seq)
        return sent

    async def notify(self, release: Release) -> bool | None:
        """True when told, False when Synapse refused for good, None to try again."""
        txn = "spimguard-" + hashlib.sha256(release.message_id.encode()).hexdigest()[:40]
        body = {"user_id": release.sender,
                "content": {"msgtype": "m.text", "body": notice_text(release)}}
        try:
            answer = await self.http.put(self.url + quote(txn), json=body, headers={
                "Authorization": f"Bearer {self.cfg.admin_token}"})
        except httpx.HTTPError as exc:
            log.warning("cannot reach the homeserver to tell %s about its release: %s",
                        release.sender, exc)
            if time.time() - release.ts < _GIVE_UP:
                return None
            await self._audit("release.not_notified", release, f"homeserver unreachable: {exc}")
            return False
        if answer.status_code == 200:
            await self._audit("release.notified", release, "told by a server notice that "
                              "it may resend")
            return True
        detail = f"HTTP {answer.status_code}: {answer.text[:300]}"
        if (answer.status_code in _RETRY or answer.status_code >= 500) and (
                time.time() - release.ts < _GIVE_UP):
            log.warning("the homeserver did not take the notice for %s (%s); trying again "
                        "later", release.sender, detail)
            return None
        log.warning("the homeserver refused the notice for %s (%s); not retried",
                    release.sender, detail)
        await self._audit("release.not_notified", release, f"homeserver refused: {detail}")
        return False

    async def _audit(self, action: str, release: Release, detail: str) -> None:
        await run_in_threadpool(self.console.audit, time.time(), ACTOR, action,
                                release.message_id, "", f"{release.sender}: {detail}")

    async def close(self) -> None:
        await self.http.aclose()


@asynccontextmanager
async def running(cfg: MatrixConfig, console: ConsoleStore) -> AsyncIterator[None]:
    """The notice loop for the server's lifetime, when Matrix and its admin token are set."""
    if not (cfg.enabled and cfg.admin_token):
        yield
        return
    notices = ResendNotices(cfg, console)
    task = asyncio.create_task(notices.run(), name="matrix-resend-notices")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await notices.close()

"""Drive the planned events through spimguard in event time, as a platform would.

Events go in batches, through the engine in-process or to a running server's
``/v1/events``; both sinks take and give the API's JSON, so the two modes judge
the same bytes. Recipients report some of the spim that reaches them, and now
and then ham by mistake, a few minutes later: those reports are new events,
scheduled as the verdicts come back. So are the answers to the owner's
challenge the platform asks when spimguard challenges or suspends a session
(``challenge`` events): the owner's own session answers it minutes later, an
intruder's fails (it has the password, not the second factor), and a bot,
which holds its own account, answers it. The messages a pass releases come back
from the release feed, and the tally counts them. A batch never spans more than
the shortest of these delays, so every follow-up lands after what caused it. A
platform that verifies its owners' new devices reports passes nobody asked for:
those are in the plan already (``scenarios.verify``), events like any other.
"""

from __future__ import annotations

import heapq
import http.client
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import msgspec

from ..engine import Engine
from ..errors import SpimguardError
from ..events import RECEIVED, decode_batch
from ..server.challenges import after_challenges
from ..server.console.memory import MemoryConsole
from .scenarios import Plan, Planned
from .score import CONTAINING, Tally

REPORT_DELAY = (120.0, 3_600.0)  # seconds between receiving spim and reporting it
# Seconds between an account action and the challenge's answer: the owner sees the
# prompt, reads the code on its phone, types it (or an intruder gives up, or it times out).
CHALLENGE_DELAY = (120.0, 600.0)


class Sink(Protocol):
    def send(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def released(self) -> list[tuple[str, float]]:
        """(message id, release time) of the releases queued since the last look."""

    def close(self) -> None: ...


class EngineSink:
    """The engine in this process, through the same decoding as ``/v1/events``, and the
    release feed the server keeps (``server/challenges.py``) in memory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.console = MemoryConsole()
        self.cursor = 0

    def send(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        batch = decode_batch(msgspec.json.encode({"events": events}), self.engine.config.limits)
        fresh: list[bool] = []
        results = self.engine.process_batch(batch, fresh)
        after_challenges(self.engine, self.console, batch, results, fresh)
        return msgspec.to_builtins(results)

    def released(self) -> list[tuple[str, float]]:
        found = self.console.releases(self.cursor, 1_000_000)
        self.cursor = found[-1].seq if found else self.cursor
        return [(r.message_id, r.ts) for r in found]

    def close(self) -> None:
        self.engine.close()


class HttpSink:
    """A running spimguard server: one kept-alive connection, ``POST /v1/events``."""

    def __init__(self, url: str, token: str = "", timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SpimguardError(f"--url {url!r}: expected http://host:port")
        factory = (http.client.HTTPSConnection if parts.scheme == "https"
                   else http.client.HTTPConnection)
        self.connection = factory(parts.hostname, parts.port, timeout=timeout)
        self.root = parts.path.rstrip("/")
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.cursor = 0

    def _call(self, method: str, path: str, body: bytes | None = None) -> Any:
        self.connection.request(method, self.root + path, body, self.headers)
        response = self.connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SpimguardError(f"server answered {response.status}: {answer[:500]!r}")
        return msgspec.json.decode(answer)

    def send(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = self._call(
            "POST", "/v1/events", msgspec.json.encode({"events": events}))["results"]
        return results

    def released(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        while page := self._call("GET", f"/v1/releases?after={self.cursor}&limit=1000")[
                "releases"]:
            out.extend((r["message_id"], datetime.fromisoformat(r["released_at"]).timestamp())
                       for r in page)
            self.cursor = page[-1]["cursor"]
        return out

    def close(self) -> None:
        self.connection.close()


def _resolved(event: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    """A planned report names its message by ``message_ref``: the id it got when sent."""
    if "ref" in event:
        refs[event.pop("ref")] = event["id"]
    if "message_ref" in event:
        event["message_id"] = refs.get(event.pop("message_ref"), "unknown")
    return event


@dataclass(frozen=True)
class Reporting:
    spim_share: float = 0.15  # of the spim a recipient sees (delivered or warned)
    ham_share: float = 0.0005  # of ham: reported by mistake


def _answering(plan: Plan) -> dict[str, bool]:
    """Per session that sent planned messages, whether it passes the owner's challenge:
    the owner's own sessions and a bot's (it holds its account) do, an intruder's does not.
    A session that sent nothing planned (an intruder's quiet sign-in) passes only on an
    account nobody attacked."""
    passes: dict[str, bool] = {}
    for planned in plan.events:
        truth, session = planned.truth, str(planned.body.get("session", ""))
        if truth is not None and session:
            holder = not truth.spim or truth.actor in plan.bots
            passes[session] = passes.get(session, True) and holder
    return passes


def _challenge(plan: Plan, passes: dict[str, bool], event: dict[str, Any],
               result: dict[str, Any], asked: set[tuple[str, str]],
               rng: random.Random) -> Planned | None:
    """The answer to the challenge a verdict's account action asks for, once a session."""
    acted = result.get("account_action") or {}
    if acted.get("action") not in CONTAINING:
        return None
    account = acted.get("account") or event.get("sender") or event.get("account", "")
    session = acted.get("session") or str(event.get("session", ""))
    if (account, session) in asked:
        return None
    asked.add((account, session))
    passed = passes.get(session, account not in plan.actors)
    return Planned(float(event["ts"]) + rng.uniform(*CHALLENGE_DELAY), {
        "type": "challenge", "account": account, "session": session, "passed": passed})


def run(plan: Plan, sink: Sink, *, batch_size: int = 500, reporting: Reporting = Reporting(),
        seed: int = 0, advance: Callable[[int, int], None] | None = None) -> Tally:
    """Every planned event (and the reports and challenges they lead to) through ``sink``."""
    rng = random.Random(seed)
    answers = random.Random(f"challenge:{seed}")  # its own draws: reports stay the same
    passes, asked = _answering(plan), set[tuple[str, str]]()
    tally = Tally(plan)
    queue: list[tuple[float, int, Planned]] = [(p.ts, n, p) for n, p in enumerate(plan.events)]
    heapq.heapify(queue)
    number = len(queue)
    sent = 0
    refs: dict[str, str] = {}  # a planned message's ref -> the id it was sent with
    while queue:
        horizon = queue[0][0] + min(REPORT_DELAY[0], CHALLENGE_DELAY[0])
        batch: list[Planned] = []
        while queue and len(batch) < batch_size and queue[0][0] < horizon:
            batch.append(heapq.heappop(queue)[2])
        events = [_resolved({**p.body, "id": f"s{sent + k}", "ts": p.ts}, refs)
                  for k, p in enumerate(batch)]
        sent += len(batch)
        for planned, event, result in zip(batch, events, sink.send(events), strict=True):
            tally.observe(planned, event, result)
            answer = _challenge(plan, passes, event, result, asked, answers)
            if answer is not None:
                heapq.heappush(queue, (answer.ts, number, answer))
                number += 1
            if event["type"] != "message" or planned.truth is None:
                continue
            if result["action"] not in RECEIVED:
                continue
            share = reporting.spim_share if planned.truth.spim else reporting.ham_share
            if rng.random() < share:
                body = {"type": "report", "reporter": event["recipients"][0],
                        "message_id": event["id"], "label": "spam"}
                if planned.plaintext:  # the reporter's client has the words it decrypted
                    body["text"] = planned.plaintext
                report = Planned(planned.ts + rng.uniform(*REPORT_DELAY), body)
                heapq.heappush(queue, (report.ts, number, report))
                number += 1
        for message_id, ts in sink.released():
            tally.release(message_id, ts)
        if advance:
            advance(sent, sent + len(queue))  # reports make the total grow
    return tally

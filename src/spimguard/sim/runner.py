"""Drive the planned events through spimguard in event time, as a platform would.

Events go in batches, through the engine in-process or to a running server's
``/v1/events``; both sinks take and give the API's JSON, so the two modes judge
the same bytes. Recipients report some of the spim that reaches them, and now
and then ham by mistake, a few minutes later: those reports are new events,
scheduled as the verdicts come back. A batch never spans more than the
shortest report delay, so every report lands after the message it names.
"""

from __future__ import annotations

import heapq
import http.client
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import msgspec

from ..engine import Engine
from ..errors import SpimguardError
from ..events import decode_batch
from .scenarios import Plan, Planned
from .score import Tally

REPORT_DELAY = (120.0, 3_600.0)  # seconds between receiving spim and reporting it


class Sink(Protocol):
    def send(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class EngineSink:
    """The engine in this process, through the same decoding as ``/v1/events``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        batch = decode_batch(msgspec.json.encode({"events": events}), self.engine.config.limits)
        return msgspec.to_builtins(self.engine.process_batch(batch))

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
        self.path = parts.path.rstrip("/") + "/v1/events"
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def send(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.connection.request("POST", self.path, msgspec.json.encode({"events": events}),
                                self.headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SpimguardError(f"server answered {response.status}: {body[:500]!r}")
        results: list[dict[str, Any]] = msgspec.json.decode(body)["results"]
        return results

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


def run(plan: Plan, sink: Sink, *, batch_size: int = 500, reporting: Reporting = Reporting(),
        seed: int = 0, advance: Callable[[int, int], None] | None = None) -> Tally:
    """Every planned event (and the reports they lead to) through ``sink``."""
    rng = random.Random(seed)
    tally = Tally(plan)
    queue: list[tuple[float, int, Planned]] = [(p.ts, n, p) for n, p in enumerate(plan.events)]
    heapq.heapify(queue)
    number = len(queue)
    sent = 0
    refs: dict[str, str] = {}  # a planned message's ref -> the id it was sent with
    while queue:
        horizon = queue[0][0] + REPORT_DELAY[0]
        batch: list[Planned] = []
        while queue and len(batch) < batch_size and queue[0][0] < horizon:
            batch.append(heapq.heappop(queue)[2])
        events = [_resolved({**p.body, "id": f"s{sent + k}", "ts": p.ts}, refs)
                  for k, p in enumerate(batch)]
        sent += len(batch)
        for planned, event, result in zip(batch, events, sink.send(events), strict=True):
            tally.observe(planned, event, result)
            if event["type"] != "message" or planned.truth is None:
                continue
            if result["action"] not in ("deliver", "warn"):
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
        if advance:
            advance(sent, sent + len(queue))  # reports make the total grow
    return tally

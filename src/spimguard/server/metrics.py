"""Prometheus metrics, one registry per app (so several apps in one process never clash)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from ..events import Result, Verdict

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.verdicts = Counter("spimguard_verdicts", "Message verdicts by action",
                                ["action"], registry=self.registry)
        self.signals = Counter("spimguard_signals", "Signals that fired, by code", ["code"],
                               registry=self.registry)
        self.account_actions = Counter("spimguard_account_actions",
                                       "Account actions taken, by kind", ["action"],
                                       registry=self.registry)
        self.events = Counter("spimguard_events", "Events accepted, by type", ["type"],
                              registry=self.registry)
        self.rejected = Counter("spimguard_rejected_requests",
                                "Requests refused as bad input, by error code", ["code"],
                                registry=self.registry)
        self.latency = Histogram("spimguard_request_seconds", "Time to answer, by endpoint",
                                 ["endpoint"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        # Where a /v1/check's time goes: waiting for its batch to start, then the batch.
        self.waited = Histogram("spimguard_check_wait_seconds",
                                "Time a /v1/check message waited for its batch to start",
                                buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.batch_seconds = Histogram("spimguard_batch_seconds",
                                       "Time the engine took to judge and commit a batch of "
                                       "/v1/check messages", buckets=_LATENCY_BUCKETS,
                                       registry=self.registry)
        self.batch_cpu = Histogram("spimguard_batch_cpu_seconds",
                                   "CPU time the engine's thread spent on a batch of /v1/check "
                                   "messages", buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram("spimguard_batch_messages",
                                    "Messages in each batch of /v1/check messages",
                                    buckets=_BATCH_SIZES, registry=self.registry)
        # Children looked up once: ``labels()`` checks and converts its arguments and takes
        # the family's lock on every call, as long as the update itself several times over,
        # and a /v1/check made four such calls.
        self.check_latency = self.latency.labels("check")
        self.events_latency = self.latency.labels("events")
        self._children: dict[tuple[Counter, str], Counter] = {}

    def _child(self, family: Counter, label: str) -> Counter:
        """The child of ``family`` for ``label``, looked up once (two threads looking it
        up at once get the same child: ``labels`` makes it under the family's lock)."""
        child = self._children.get((family, label))
        if child is None:
            child = self._children[family, label] = family.labels(label)
        return child

    def count(self, kinds: Iterable[str], results: Iterable[Result]) -> None:
        for kind, result in zip(kinds, results, strict=True):
            self._child(self.events, kind).inc()
            if isinstance(result, Verdict):
                self._child(self.verdicts, result.action).inc()
                for signal in result.signals:
                    self._child(self.signals, signal.code).inc()
            if result.account_action.action != "none":
                self._child(self.account_actions, result.account_action.action).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

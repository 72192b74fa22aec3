"""Session 42's merged changes attacked (``review42``): each test a finding, failing on the
branch as merged."""

from __future__ import annotations

from collections.abc import Sequence

from conftest import T0, engine, message
from spimguard.detectors.base import Context, Facts, Outcome
from spimguard.detectors.rules import RulesDetector
from spimguard.state.ops import Get, Put, Write


class _RememberingRules(RulesDetector):
    """An operator's detector made from a bundled one (the way to keep its lists and add
    a memory): it overrides ``writes`` and declares nothing of ``writes_for``."""

    name = "rules"

    def writes(self, ctx: Context, facts: Facts, outcome: Outcome) -> Sequence[Write]:
        return [Put(f"review42:seen:{ctx.event.id}", 1)]


def test_a_subclass_that_writes_is_asked_though_its_parent_declared_it_writes_nothing() -> None:
    """``writes_for`` is read from the class, so a subclass inherits its parent's
    ``WRITES_NONE`` and the engine never calls the ``writes`` it overrides: what it means
    to keep is dropped, silently (no error, no log). A declaration holds for the
    ``writes`` beside it: a class that overrides ``writes`` without declaring again
    writes for any event, as one that never declared."""
    from spimguard.detectors.base import WRITES_ANY, WRITES_NONE, writes_for  # (not on base)

    assert writes_for(RulesDetector({})) == WRITES_NONE
    assert writes_for(_RememberingRules({})) == WRITES_ANY
    judge = engine()
    judge.detectors = [_RememberingRules({}) if d.name == "rules" else d
                       for d in judge.detectors]
    judge.process(message(judge.config, "m1", "alice", ["bob"], "merhaba, nasılsın?", T0))
    assert judge.read_state([Get("review42:seen:m1")]) == [1]


def test_a_challenge_through_the_events_endpoint_leaves_the_audit_export_encodable() -> None:
    """The lead's ``f7333f4`` made a logged event's time a plain float in every record
    store; the console's memory store (``storage.backend = "memory"``'s console) kept
    the decoded ``EventTime`` a challenge's audit line and release were given, and the
    audit log's JSON export (``/console/audit/export?format=json``) answered 500
    (msgspec encodes no ``float`` subclass). Every time the store keeps is a float."""
    import re

    import msgspec
    from starlette.testclient import TestClient

    from spimguard.server.app import create_app
    from spimguard.server.console import auth
    from spimguard.server.console.memory import MemoryConsole
    from test_challenge import API, MOBILE, _announce, _challenge, _held
    from test_challenge import _engine as _challenged

    judge = _challenged()
    store = MemoryConsole()
    password = "correct horse battery staple"
    store.save_operator(auth.new_operator("dana", "admin", password))
    client = TestClient(create_app(judge, store), raise_server_exceptions=False)
    assert _held(_announce(judge, "mobile", MOBILE, 20))
    passed = client.post("/v1/events", json={"events": [_challenge("mobile", True)]},
                         headers=API)
    assert passed.status_code == 200
    assert client.get("/v1/releases", headers=API).json()["releases"]
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/login").text)
    assert csrf
    client.post("/console/login", data={"name": "dana", "password": password,
                                        "csrf": csrf[1], "next": "/console/audit"})
    exported = client.get("/console/audit/export?format=json")
    assert exported.status_code == 200, exported.text
    assert "challenge.passed" in {e["action"] for e in exported.json()}
    for kept in (*store.audit_log(), *store.releases()):
        assert type(kept.ts) is float
        msgspec.json.encode(kept)

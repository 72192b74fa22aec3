"""Many nodes on Redis and PostgreSQL give the verdicts and counts of one process."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from conftest import T0, config, event, message
from spimguard import Config, open_engine
from spimguard.engine import Engine
from spimguard.errors import ConfigError, RecordsUnavailable
from spimguard.state.ops import Count, Get


def shared_config(redis_url: str, namespace: str, postgres_url: str) -> Config:
    return config(storage={"backend": "redis", "redis_url": redis_url,
                           "redis_namespace": namespace},
                  records={"backend": "postgres", "url": postgres_url,
                           "evidence_key": "test-evidence-key"})


@pytest.fixture
def nodes(redis_url: str, redis_namespace: str, postgres_url: str) -> Iterator[list[Engine]]:
    cfg = shared_config(redis_url, redis_namespace, postgres_url)
    engines = [open_engine(cfg) for _ in range(3)]
    yield engines
    for engine in engines:
        engine.close()


def campaign_log(cfg: Config, seed: int = 11) -> list:  # type: ignore[type-arg]
    """Friends chatting; spammers whose pitch users report as it goes, so what the
    reports teach decides later verdicts; contacts and a login."""
    rng = random.Random(seed)
    events = [event(cfg, type="contacts", id="c-a", ts=T0, account="alice",
                    contacts=["bob", "carol"])]
    ts = T0
    for i in range(160):
        ts += rng.uniform(1, 20)
        if i % 4 == 1:
            user = f"user{rng.randrange(300)}"
            events.append(message(cfg, f"s{i}", f"spammer{i % 9}", [user],
                                  f"exclusive ringtone pack {rng.randrange(50)} grab it now "
                                  "before friday", ts, session=f"x{i % 9}"))
            if i < 100:
                events.append(event(cfg, type="report", id=f"r{i}", ts=ts + 30, reporter=user,
                                    message_id=f"s{i}", label="spam"))
        else:
            events.append(message(cfg, f"f{i}", "alice", [rng.choice(["bob", "carol"])],
                                  f"see you at {rng.randrange(12)} for the ringtone talk", ts,
                                  session="phone"))
    events.append(event(cfg, type="login", id="l1", ts=ts + 2, account="alice", session="p2",
                        ip="192.0.2.1", client={"id": "web"}))
    return sorted(events, key=lambda e: e.ts)


def test_three_nodes_answer_and_count_as_one(nodes: list[Engine]) -> None:
    cfg = nodes[0].config
    log = campaign_log(cfg)
    alone = open_engine(config())
    expected = [msgspec.json.encode(alone.process(e)) for e in log]
    rng = random.Random(3)
    failing = {e.id for e in log[10::37]}  # first tries that die before their records commit
    got = []
    for e in log:
        first = rng.randrange(3)
        if e.id in failing:
            commit = nodes[first].records.commit
            nodes[first].records.commit = _fail  # type: ignore[method-assign]
            with pytest.raises(RecordsUnavailable):
                nodes[first].process(e)
            nodes[first].records.commit = commit  # type: ignore[method-assign]
        answer = msgspec.json.encode(nodes[first].process(e) if e.id not in failing else
                                     nodes[(first + 1) % 3].process(e))
        got.append(answer)
        if rng.random() < 0.25:  # a retry that lands on another node
            retry = nodes[(first + rng.randrange(1, 3)) % 3].process(e)
            assert msgspec.json.encode(retry) == answer, e.id
    assert got == expected
    actions = {msgspec.json.decode(r).get("action") for r in got}
    assert {"deliver", "hold"} <= actions or {"deliver", "block"} <= actions
    ids = [e.id for e in log]
    assert nodes[2].records.answers(ids).keys() == set(ids), "every event recorded once"
    # Campaigns, their evidence and account timelines: whole on every node.
    campaigns = alone.records.campaign_ids()
    assert campaigns and list(nodes[0].records.campaign_ids()) == list(campaigns)
    for campaign in campaigns:
        assert nodes[1].records.campaign_messages(campaign) == alone.records.campaign_messages(
            campaign)
    for account in ("spammer1", "alice"):
        assert nodes[2].account(account) == alone.account(account)
    reported = [e for e in log if e.id.startswith("r")]
    for report in reported:
        assert [(r.id, r.sender) for r in nodes[1].records.reports(report.message_id)] == [
            (report.id, f"spammer{int(report.message_id[1:]) % 9}")]


def _fail() -> None:
    raise RecordsUnavailable("PostgreSQL went away")


def test_a_report_on_one_node_changes_the_verdict_on_every_node(nodes: list[Engine]) -> None:
    a, b, c = nodes
    cfg = a.config
    pitch = "limited ringtone offer grab the ringtone pack tonight only"
    for i in range(6):
        a.process(message(cfg, f"p{i}", f"seller{i}", [f"u{i}"], pitch, T0 + i))
    before = content(b.process(message(cfg, "probe-b0", "fresh0", ["v0"], pitch, T0 + 50)))
    for i in range(6):
        b.process(event(cfg, type="report", id=f"rep{i}", ts=T0 + 60 + i, reporter=f"u{i}",
                        message_id=f"p{i}", label="spam"))
    scores = {content(n.process(message(cfg, f"probe{k}", f"fresh{k + 1}", [f"v{k + 1}"],
                                        pitch, T0 + 100 + k))) for k, n in enumerate(nodes)}
    assert len(scores) == 1, "every node's content model scores the text alike"
    assert scores.pop() > before, "what reports on B taught counts on A and C"
    assert c.records.reports("p0")[0].sender == "seller0", "the report found the sender"


def content(verdict: object) -> float:
    """The content model's points in a verdict (bulk evidence grows with every copy)."""
    return sum(s.score for s in verdict.signals  # type: ignore[attr-defined]
               if s.code == "CONTENT_SPAM")


def test_two_nodes_hammering_one_entry_lose_no_update(nodes: list[Engine]) -> None:
    a, b, _ = nodes
    cfg = a.config
    a.process(message(cfg, "m", "spammer", [f"r{i}" for i in range(40)],
                      "buy cheap ringtones now", T0))

    def report_from(node: Engine, reporters: range) -> None:
        for i in reporters:
            node.process(event(cfg, type="report", id=f"rep{i}", ts=T0 + 10 + i,
                               reporter=f"r{i}", message_id="m", label="spam"))

    threads = [threading.Thread(target=report_from, args=(a, range(0, 40, 2))),
               threading.Thread(target=report_from, args=(b, range(1, 40, 2)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entry = a.read_state([Get("trust:msg:m")])[0]
    assert entry is not None and len(entry["spam"]) == 40, "every reporter is in the entry"
    assert len(a.records.reports("m")) == 40


def test_a_concurrent_duplicate_gets_the_first_answer_and_counts_once(
        nodes: list[Engine]) -> None:
    a, b, _ = nodes
    cfg = a.config
    a.process(message(cfg, "m", "spammer", [f"r{i}" for i in range(15)],
                      "buy cheap ringtones now", T0))
    answers: dict[str, list[bytes]] = {}
    reports = [event(cfg, type="report", id=f"dup{i}", ts=T0 + 10 + i, reporter=f"r{i}",
                     message_id="m", label="spam") for i in range(15)]

    def send(node: Engine) -> None:
        for report in reports:
            answer = msgspec.json.encode(node.process(report))
            answers.setdefault(report.id, []).append(answer)

    threads = [threading.Thread(target=send, args=(n,)) for n in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(set(pair)) == 1 for pair in answers.values())
    assert len(a.read_state([Get("trust:msg:m")])[0]["spam"]) == 15, "each report counted once"
    daily = [Count(f"trust:daily:r{i}", 86_400.0, 3600.0) for i in range(15)]
    assert a.read_state(daily) == [1.0] * 15, "each reporter's report counted once"


def test_shared_backends_need_configured_secrets(redis_url: str, redis_namespace: str) -> None:
    cfg = config(storage={"backend": "redis", "redis_url": redis_url,
                          "redis_namespace": redis_namespace})
    with pytest.raises(ConfigError, match="evidence_key"):
        open_engine(cfg)


def spimguard(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spimguard", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def test_serve_refuses_in_one_line(tmp_path: Path) -> None:
    shared = {"SPIMGUARD__STORAGE__BACKEND": "redis"}
    no_token = spimguard("serve", "--data-dir", str(tmp_path), env=shared)
    assert no_token.returncode == 2
    assert "api_token must be set" in no_token.stderr
    assert len(no_token.stderr.strip().splitlines()) == 1
    embedded = spimguard("serve", "--data-dir", str(tmp_path), "--workers", "2",
                         env={"SPIMGUARD_API_TOKEN": "t" * 20})
    assert embedded.returncode == 2 and "--workers 2 needs" in embedded.stderr


def test_db_upgrade_command(postgres_server: str) -> None:
    from postgres_harness import database

    with database(postgres_server, upgraded=False) as url:
        env = {"SPIMGUARD__RECORDS__BACKEND": "postgres", "SPIMGUARD__RECORDS__URL": url}
        first = spimguard("db", "upgrade", env=env)
        assert first.returncode == 0 and "applied: 0001_records.sql" in first.stderr
        again = spimguard("db", "upgrade", env=env)
        assert again.returncode == 0 and "up to date" in again.stderr

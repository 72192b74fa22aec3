"""The pitch's links (``burst.pitched``: the dormant ties the account's unproven sessions
sent a link to) kept in the account's takeover record (``record.py``'s ``k``), not in a
member set of their own (``tk:text:<account>:%links`` until session 28): the same
answers, TTL (``session_ttl``) and cap (``pitch_ties``) as the set's, in every backend.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgspec
import pytest

from conftest import T0
from spimguard.detectors.takeover import record
from spimguard.state.memory import MemoryState
from spimguard.state.ops import Distinct, Get, Tally, Touch
from test_attack_session25 import engine_on, send
from test_records37 import v5_of
from test_takeover import live_a_month

TTL = 30 * 86_400.0  # ``session_ttl``'s default
CAP = 4  # ``pitch_ties``'s default
OLD_KEY = "tk:text:alice:%links"


def _links(stored: Any, now: float) -> dict[str, float]:
    return record.Record("alice", stored, TTL, 3_600.0, 86_400.0).links(now)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_risky_sessions_links_are_kept_in_the_account_record(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A seller's session links five dormant ties: the first four are kept (the cap; only
    whether it reaches that many is asked), in the account's record and in no key of their
    own."""
    engine = engine_on(backend, tmp_path, request)
    live_a_month(engine, "alice")
    for i in range(5):
        send(engine, i, 20 + i, f"look at this http://tones{i}.biz/r{i}", T0 + 900 * i,
             "seller", sign_in=i == 0)
    now = T0 + 900 * 4 + 1
    stored, old = engine.state.read([Get(record.key("alice")), Distinct(OLD_KEY, TTL)], now)
    assert old == 0
    assert sorted(_links(stored, now)) == [f"alice-friend{20 + i}" for i in range(4)]


def test_links_answer_as_the_member_set_did() -> None:
    """Random touches (some an hour late) and reads, each event's record put and read
    back as stored: the links answer as a member set with ``session_ttl`` and
    ``pitch_ties`` (the memory backend's, the reference every backend conforms to) at
    every read, count and membership, and the record lives as long as they do."""
    rng = random.Random(28)
    people = [f"p{i}" for i in range(7)]
    state, stored, now = MemoryState(), None, 1_000_000.0
    for _ in range(400):
        now += rng.choice((60.0, 3_600.0, 5 * 86_400.0, 11 * 86_400.0, TTL))
        at = now - rng.random() * 3_600.0 if rng.random() < 0.2 else now
        asked = tuple(people)
        count, held = state.read([Tally(OLD_KEY, TTL, asked)], at)[0]
        links = _links(stored, at)
        assert (count, held) == (len(links), tuple(p in links for p in asked))
        touched = tuple(rng.sample(people, rng.randint(1, 3)))
        state.write([Touch(OLD_KEY, touched, TTL, CAP)], at)
        kept = record.Record("alice", stored, TTL, 3_600.0, 86_400.0)
        kept.touch_links(touched, at, CAP)
        put = kept.put(at)
        assert put is not None and put.ttl >= max(kept.changed()["k"].values()) + TTL - at
        stored = put.value


def test_a_record_without_links_reads_as_none_and_an_older_release_reads_one_with() -> None:
    """A record put before session 28 (its first slot the version) has no links; one with
    links keeps them in its first slot, which a release before session 28 does not read:
    the rest is the record it reads, as put without them."""
    kept = record.Record("alice", None, TTL, 3_600.0, 86_400.0)
    kept.set_profile({"last": T0}, T0)
    bare = kept.put(T0)
    assert bare is not None and _links(bare.value, T0) == {}
    kept.touch_links(("bob", "carol"), T0, CAP)
    linked = kept.put(T0)
    assert linked is not None and _links(linked.value, T0 + 1) == {"bob": T0, "carol": T0}
    head, *rest = msgspec.msgpack.decode(v5_of(linked.value))  # as session 36 held it
    assert head[0] == msgspec.msgpack.decode(v5_of(bare.value))[0]
    older = msgspec.msgpack.encode([head[0], *rest])
    assert record.decode(older) == {k: v for k, v in record.decode(linked.value).items()
                                    if k != "k"}

"""Session 35 (``small35``): what a message costs at small batches (issue 18).

Two reads nearly every message made and nearly none needed are deferred (``read_more``),
and made only where the judgement reaches them, so the answers are those of reading them
always: the account's turn (``detectors/turns.py``), only for a half utterance from a
session the takeover detector doubts (``BulkDetector._turn``: only such a half writes it
or is judged by it; 0.7 of the mixed load's events read it), and a session's reporters
(``detectors/sessions.py``), only once its reported weight is evidence (0.9 of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.detectors import turns
from spimguard.state.ops import Get, Query
from test_attack_session25 import HOSTING_IP, OFFICIAL_APP
from test_encrypted import _reported_session, codes, sealed
from test_split34 import WORDS
from test_takeover import OFFICIAL, live_a_month


def _reads_of(engine: Any, prefix: str) -> list[str]:
    """The keys starting with ``prefix`` the engine's state is asked for from now on (the
    engine's reads, planned or deferred, and the test's own looks)."""
    read: list[str] = []
    state_read = engine.state.read

    def reading(queries: Sequence[Query], now: float) -> list[Any]:
        read.extend(q.key for q in queries
                    if isinstance(getattr(q, "key", None), str) and q.key.startswith(prefix))
        return state_read(queries, now)

    engine.state.read = reading
    return read


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_only_a_doubted_sessions_halves_read_their_turn(backend: str, tmp_path: Any) -> None:
    """An owner on her own phone gives a friend words with no site, then a site alone
    (both halves of an utterance, from a session): her session is familiar (risk 0), so
    neither reads her turn, and nothing writes it. Then a session signed in to her
    account from a hosting network gives another friend words alone: doubted, so its half
    reads the turn (``read_more``, in ``detect``) and writes it, as ``split34`` needs.
    Main 5b0cae0 read the turn for all three."""
    engine = open_engine(config(official_clients=OFFICIAL, storage={"backend": backend}),
                         tmp_path if backend == "sqlite" else None)
    live_a_month(engine, "dora")
    read = _reads_of(engine, turns.PREFIX)
    cfg, turn = engine.config, Get(turns.key("dora"))
    phone = {"id": "im-android", "ip": "198.51.100.20"}
    for i, text in enumerate(["hey, the place I told you about for dinner tonight",
                              "http://trattoria-da-mario.example/menu"]):
        verdict = engine.process(message(cfg, f"dora-h{i}", "dora", ["dora-friend1"], text,
                                         T0 + 60 + i, session="phone", client=phone))
        assert verdict.action == "deliver"
    assert read == []
    assert engine.read_state([turn], T0 + 62)[0] is None
    read.clear()  # the look just made

    engine.process(event(cfg, type="login", id="dora-in-seller", ts=T0 + 100, account="dora",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    engine.process(message(cfg, "dora-s0", "dora", ["dora-friend4"], WORDS.format(n="Bea"),
                           T0 + 160, session="seller",
                           client={"id": OFFICIAL_APP, "ip": HOSTING_IP}))
    assert read == [turns.key("dora")]
    assert engine.read_state([turn], T0 + 161)[0] is not None


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_sessions_reporters_are_read_only_once_its_reports_weigh(backend: str,
                                                                    tmp_path: Any) -> None:
    """A session nobody reported reads no set of its reporters (main 5b0cae0 read it for
    every message); the slow intruder's session, reported by three recipients, reads it
    and is held on it (SESSION_REPORTED), as ``test_encrypted`` has it."""
    e = open_engine(config(storage={"backend": backend}),
                    tmp_path if backend == "sqlite" else None)
    _reported_session(e, 3)
    read = _reads_of(e, "sess:reporters:")
    own = sealed(e, "own", "alice", ["someone"], T0 + 4 * 3600, session="phone")
    assert "SESSION_REPORTED" not in codes(own) and read == []
    verdict = sealed(e, "next", "alice", ["someone"], T0 + 4 * 3600 + 1, session="evil")
    assert "SESSION_REPORTED" in codes(verdict) and verdict.action == "hold"
    assert read == ["sess:reporters:alice:evil"]

"""The takeover detector's per-event work outside its record's round trip (``learn44``):
a delivered count's other sessions walked only when the account holds any, a message's
app compared as itself before its family, a session's entry made without calls; and
``judge_split``'s steps on a class's methods (``Record``'s). Each answers as before (the
guards) with less work (the rest)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, message
from spimguard import decode_event, load_config, open_engine
from spimguard.detectors.takeover import origin, record, session
from spimguard.detectors.takeover.record import SENT, Record
from spimguard.sim import network
from spimguard.state.ops import bucket_range

_TTLS = (2_592_000.0, 43_200.0, 86_400.0)  # session_ttl, live_window, incident_ttl
_TREE = Path(__file__).resolve().parents[1]


def _expected(held: dict[str, list[list[int]]], session_id: str, now: float, cap: int
              ) -> list[tuple[str, list[list[int]]]]:
    """What a count leaves, as the record's docstring states it: each session's buckets
    from the window's first hour, the session's own hour one more, the others the last
    ``cap - 1`` by their last hour (then name), the session last."""
    first, hour = bucket_range(SENT, now)
    live = {s: [b for b in buckets if b[0] >= first] for s, buckets in held.items()}
    counts = dict(map(tuple, live.pop(session_id, [])))  # type: ignore[arg-type]
    counts[hour] = counts.get(hour, 0) + 1
    others = {s: b for s, b in live.items() if b}
    kept = sorted(others, key=lambda s: (others[s][-1][0], s))[-(cap - 1):] if cap > 1 else []
    return [*((s, b) for s, b in others.items() if s in kept),
            (session_id, [[h, counts[h]] for h in sorted(counts)])]


def test_a_delivered_count_leaves_what_the_record_says_whatever_it_held() -> None:
    """The guard: 4,000 seeded counts (none to six sessions, buckets lapsed and live, an
    hour out of order, caps of one to four, ``n`` and ``w``) leave each part as stated,
    in order, and never change the lists they read."""
    rnd = random.Random(44)
    for _ in range(4_000):
        held = {f"s{j}": sorted([h, rnd.randint(1, 5)] for h in rnd.sample(
            range(100, 140), rnd.randint(0, 5))) for j in range(rnd.randint(0, 6))}
        snapshot = repr(held)
        session_id, now = f"s{rnd.randint(0, 6)}", rnd.uniform(120, 140) * 3_600
        cap, sited = rnd.randint(1, 4), rnd.random() < 0.3
        kept = Record("a", None, *_TTLS)
        kept._changed["w" if sited else "n"] = held
        kept.count_sent(session_id, now, cap, sited=sited)
        assert list(kept._changed["w" if sited else "n"].items()) == _expected(
            held, session_id, now, cap)
        assert repr(held) == snapshot


@pytest.mark.parametrize("held", [{}, {"s1": [[int(T0 // 3_600), 2]]}])
def test_a_count_of_the_one_session_held_walks_no_other(held: dict[str, Any],
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """An account whose record counts no session or only this one (2,598 of 2,601 counts
    on the mixed load) neither walks the part nor caps it (base: ``_newest`` at every
    count)."""
    def refused(*_: Any) -> Any:
        raise AssertionError("the other sessions walked")
    monkeypatch.setattr(record, "_newest", refused)
    kept = Record("a", {"n": held}, *_TTLS)
    kept.count_sent("s1", T0, 5)
    assert kept._changed["n"] == {"s1": [[int(T0 // 3_600), 3 if held else 1]]}


def test_a_message_from_its_sign_ins_app_asks_no_family(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same app id is the same family (base: ``client_family`` of both, every
    message); another id is still compared by family, as before."""
    sent = message(config(), "m1", "@a", ["@b"], "hi", session="s1",
                   client={"id": "MobileFunster 2.1", "ip": "198.51.100.7"})
    stored = {"client": "MobileFunster 2.1", "net": "198.51.100.0"}
    asked: list[str] = []
    monkeypatch.setattr(session, "client_family", lambda c: asked.append(c) or (
        origin.client_family(c)))
    assert session.signed_in(sent, stored)
    assert asked == []
    assert session.signed_in(sent, {**stored, "client": "mobilefunster/3"})
    assert not session.signed_in(sent, {**stored, "client": "WebChat 1"})
    assert asked == ["MobileFunster 2.1", "mobilefunster/3", "MobileFunster 2.1",
                     "WebChat 1"]


def test_a_sessions_entry_is_made_with_no_call_but_the_facts_asks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its flags are 1 or 0 by their truth, with no ``int`` nor ``bool`` call (base: two
    of each, every event), and read back as they were."""
    called: list[Any] = []
    for name, kind in (("int", int), ("bool", bool)):  # the module's, before the builtins
        monkeypatch.setattr(record, name, lambda *a, _k=kind: called.append(a) or _k(*a),
                            raising=False)
    kept = Record("a", None, *_TTLS)
    facts = {"client": "im-android", "net": "198.51.100.0", "login": T0 - 60, "read": 3,
             "risk": 0.45, "dormant": 2, "replies": 1, "proven": "yes"}
    kept.set_session("s1", facts, T0, 5, 3)
    assert called == []
    assert kept._changed["s"]["s1"] == ["im-android", "198.51.100.0", T0 - 60, 3, 0.45, 1, 1,
                                        T0, 1]
    kept.set_session("s2", {}, T0, 5, 3)
    assert kept._changed["s"]["s2"] == ["", "", T0, 0, 0.0, 0, 0, T0, 0]


def test_the_judge_split_counts_the_takeover_records_methods(tmp_path: Path) -> None:
    """``judge_split``'s "class:" steps: ``Record``'s methods, bound to every record as a
    method, counted (base: no such step), answers as one unwrapped."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(_TREE / "benchmarks"))
        import engine as engine_benchmark
        import judge_split
        cfg = load_config(environ={}, storage={"backend": "memory"},
                          official_clients=list(network.OFFICIAL_CLIENTS))
        lines = engine_benchmark.load(20, 1)[:200]
        answers = []
        for wrap in (False, True):
            engine = open_engine(cfg, None)
            counts: dict[str, list[int]] = {}
            if wrap:  # each step put back as it was after (a class's for every record)
                for _, holder, attribute in judge_split._targets(engine):
                    mp.setattr(holder, attribute, getattr(holder, attribute))
                judge_split.wrap_steps(engine, tmp_path, counts)()
            answers.append(engine.process_batch([decode_event(line, cfg.limits)
                                                 for line in lines]))
            engine.close()
    assert answers[0] == answers[1]
    assert counts["          takeover: Record.count_sent"][0] > 0
    assert counts["      takeover: Record.profile (all callers)"][0] > counts[
        "          takeover: Record.count_sent"][0]

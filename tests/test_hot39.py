"""Session 39, ``hot39``: what a verdict asks of its signals, names and reads, made in C.

A speed change (every verdict as before): the comprehensions and generators on the
judging path that each made a function object and a frame an event (``engine._judge``'s
signal codes, ``engine._talked``, ``Engine._read_more``'s missing reads, the policy's
score, account points and reason, ``text.masked_for``'s greeted names) are now ``map``,
``filter`` and ``compress`` over the same values. The tests hold each to what the
comprehension gave, on hostile inputs (duplicate and look-alike names, the sender among
its own recipients, empty strings, signals of capped and uncapped groups, account groups,
floats whose sums depend on their order). They pass on main as on the branch.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import config
from spimguard import engine as engine_module
from spimguard import text
from spimguard.detectors.takeover import record
from spimguard.events import Client, Message
from spimguard.policy import Policy
from spimguard.signals import Signal

NAMES = st.text(st.sampled_from("aAıİ\u0307é\u0301 .-_0\u200b\u202e"), max_size=6)
CODES = st.sampled_from(["A", "B", "C", "VELOCITY_X", "TAKEOVER_Y", "W"])
STRENGTHS = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False) | st.sampled_from(
    [0.0, -0.0, 1e-12, 0.1, 0.2, 0.3, 1 / 3])
SIGNALS = st.lists(st.builds(Signal, CODES, STRENGTHS, st.text(max_size=4),
                             st.sampled_from([None, None, None, "hold", "block", "allow"])),
                   max_size=8)
POLICY = Policy(config(
    scores={"A": 4.0, "B": 3.3, "C": 0.7, "VELOCITY_X": 2.9, "TAKEOVER_Y": 5.1},
    groups={"A": "g", "B": "g", "VELOCITY_X": "velocity", "TAKEOVER_Y": "takeover"},
    group_caps={"g": 5.5, "velocity": 2.0}))


def _scored_as_main(policy: Policy, signals: list[Signal]
                    ) -> tuple[list[tuple[Signal, float]], float, float]:
    """``Policy._scored`` as main spelt it: every sum and scale by a comprehension."""
    codes, caps = policy._codes, policy.caps
    named = [(s, codes.get(s.code) or (1.0, s.code, False)) for s in signals]
    raw = [(s, weight * s.strength) for s, (weight, _, _) in named]
    groups = [(group, account) for _, (_, group, account) in named]
    per_group: dict[str, float] = {}
    for (_, points), (group, _) in zip(raw, groups, strict=True):  # in the signals' order
        per_group[group] = per_group.get(group, 0.0) + points
    scale = {g: caps[g] / total for g, total in per_group.items()
             if g in caps and total > caps[g] > 0}
    scored = raw if not scale else [
        (s, p * scale.get(g, 1.0)) for (s, p), (g, _) in zip(raw, groups, strict=True)]
    total = round(sum([p for _, p in scored]), 3)
    on_accounts = sum([p for (_, p), (_, a) in zip(scored, groups, strict=True) if a])
    return scored, total, on_accounts


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SIGNALS)
def test_a_score_and_its_account_points_are_the_comprehensions_to_the_bit(
        signals: list[Signal]) -> None:
    got = POLICY._scored(signals)
    want = _scored_as_main(POLICY, signals)
    assert got[0] == want[0]
    assert repr(got[1]) == repr(want[1]) and repr(got[2]) == repr(want[2])  # -0.0 too


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SIGNALS)
def test_a_reason_names_the_two_strongest_pieces_of_evidence_as_before(
        signals: list[Signal]) -> None:
    decision = POLICY.decide(signals, "alice", "s1")
    scored = sorted(_scored_as_main(POLICY, signals)[0], key=lambda sp: sp[1], reverse=True)
    evidence = [s for s, p in scored if s.override or p > 0]
    assert decision.reason == "; ".join(s.detail for s in evidence[:2])


@settings(max_examples=300, deadline=None)
@given(st.lists(NAMES, max_size=6), st.text(st.sampled_from("aAıé .-_0\u200b"), max_size=30))
def test_a_text_greets_its_recipients_as_the_generator_found(names: list[str],
                                                               words: str) -> None:
    view = text.view(f"hi {words} see https://example.com/{words[:3]}")
    greets = any(name in view.prose_skeleton for name in names)
    got = text.masked_for(view, tuple(names))
    assert got == (text.masked(view.prose_skeleton, view.domains, tuple(names)) if greets
                   else view.masked)


def _message(sender: str, recipients: list[str]) -> Message:
    return Message(id="m1", ts=1.0, sender=sender, recipients=recipients, text="hi",
                   client=Client(id="app", ip="192.0.2.1"))


@settings(max_examples=300, deadline=None)
@given(NAMES, st.lists(NAMES, min_size=1, max_size=8))
def test_a_delivered_message_ties_every_recipient_but_its_sender_in_order(
        sender: str, others: list[str]) -> None:
    recipients = [sender, *others, sender] if others else [sender]
    assert engine_module._talked(_message(sender, recipients)) == tuple(
        [r for r in recipients if r != sender])


def test_deferred_reads_read_only_what_the_facts_lack_in_the_order_asked() -> None:
    asked: list[Any] = []

    class _Store:
        def read(self, queries: list[Any], now: float) -> list[Any]:
            asked.append(list(queries))
            return [f"read {q}" for q in queries]

    engine = engine_module.Engine.__new__(engine_module.Engine)
    engine._claims = None
    engine.state = _Store()  # type: ignore[assignment]
    facts: dict[Any, Any] = {"b": "known", "d": None}
    engine._read_more(facts, 5.0, ["a", "b", "c", "d", "a"])
    assert asked == [["a", "c", "a"]]  # a repeat is read as the comprehension read it
    assert facts == {"a": "read a", "b": "known", "c": "read c", "d": None}
    engine._read_more(facts, 5.0, ["a", "b"])
    assert asked == [["a", "c", "a"]]  # all known: nothing read


def _newest_as_main(entries: dict[str, Any], cap: int, when: Any) -> dict[str, Any]:
    """``record._newest`` as main spelt it."""
    if len(entries) <= cap:
        return entries
    kept = sorted(entries, key=lambda name: (when(entries[name]), name))[-cap:] if cap > 0 else []
    return {name: entries[name] for name in entries if name in set(kept)}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(NAMES, st.sampled_from([0.0, 1.0, 1.0, 2.5, -0.0, 1e9]), max_size=12),
       st.integers(min_value=-1, max_value=14))
def test_a_records_capped_parts_keep_what_they_kept_ties_and_all(
        entries: dict[str, float], cap: int) -> None:
    got = record._newest(entries, cap, record._itself)
    assert got == _newest_as_main(entries, cap, lambda ts: ts)
    assert list(got) == list(_newest_as_main(entries, cap, lambda ts: ts))  # their order too
    hours = {name: [[int(ts) - 1, 1], [int(ts), 2]] for name, ts in entries.items()}
    assert list(record._newest(hours, cap, record._last_hour).items()) == list(
        _newest_as_main(hours, cap, lambda b: b[-1][0]).items())

"""Session 43's cuts on bulk's, links' and the policy's per-event path (``bulk43``): each
answers as the path it shortens, and is taken where it says it is."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from conftest import config
from spimguard.policy import Decision, Policy
from spimguard.signals import Signal

CONVERSATION = Signal("CONVERSATION", 1.0, "they write to each other")
OWNER = Signal("OWNER_CONSISTENT", 1.0, "the owner's session", about={"topic": "owner"})
UNPROVEN = Signal("SESSION_UNFAMILIAR", 0.6, "a session the account does not use")


def _whole(policy: Policy, signals: list[Signal], in_force: Any = "none") -> Decision:
    """The verdict as the whole path (scoring, capping, the bounds) gives it."""
    shortcut = policy._zero_delivers
    policy._zero_delivers = False
    try:
        return policy.decide(signals, "alice", "s1", in_force)
    finally:
        policy._zero_delivers = shortcut


def _same(a: Decision, b: Decision) -> bool:
    return msgspec.json.encode(a) == msgspec.json.encode(b)


def test_a_verdict_of_weightless_signals_is_not_scored(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    policy = Policy(config())

    def scored(*_: object) -> None:
        raise AssertionError("scored")

    monkeypatch.setattr(policy, "_scored", scored)
    found = policy.decide([CONVERSATION, UNPROVEN, OWNER], "alice", "s1")
    assert found.action == "deliver" and found.score == 0.0 and found.reason == ""
    assert [s.code for s in found.signals] == ["CONVERSATION", "SESSION_UNFAMILIAR",
                                               "OWNER_CONSISTENT"]
    assert found.about == {"topic": "owner"}
    assert found.account_action.action == "none"


@pytest.mark.parametrize("signals", [
    [CONVERSATION],
    [CONVERSATION, OWNER, UNPROVEN],
    [Signal("CONVERSATION", -1.0, "a detector's negative strength: -0.0 points")],
    [Signal("CONVERSATION", math.nan, "not a number: not nothing")],
    [CONVERSATION, Signal("VELOCITY_RATE", 0.5, "a few too many")],
    [CONVERSATION, Signal("VELOCITY_RATE", 0.0, "at the bound")],
    [Signal("UNNAMED_CODE", 0.0, "weighs 1 a unit, none here")],
    [Signal("UNNAMED_CODE", 0.3, "weighs 1 a unit")],
    [Signal("RULE_ALLOW_ACCOUNT", 1.0, "allowed", "allow"), CONVERSATION],
    [Signal("SENDING_SUSPENDED", 1.0, "suspended", "hold")],
])
@pytest.mark.parametrize("in_force", ["none", "suspend_sending", "challenge"])
def test_the_shortcut_answers_as_the_whole_path(signals: list[Signal], in_force: Any) -> None:
    policy = Policy(config())
    assert _same(policy.decide(signals, "alice", "s1", in_force),
                 _whole(policy, signals, in_force))


def test_no_shortcut_where_nothing_is_over_a_threshold_of_zero() -> None:
    """A threshold at 0 (an operator warning on everything): nothing weighs below it, so
    no verdict is taken as a delivery before it is scored."""
    policy = Policy(config(policy={"warn": 0.0}))
    assert not policy._zero_delivers
    assert policy.decide([CONVERSATION], "alice", "s1").action == "warn"


def test_band_keys_are_formatted_from_each_setting_s_parts() -> None:
    """A new text's band keys: each band's format and slice made once a setting
    (``bulk._band_parts``), the keys those of the formula they replace."""
    import zlib

    from spimguard.detectors import bulk

    words = ["a", "pitch", "with", "enough", "words", "to", "hash", "into", "bands"]
    for bands, rows in ((6, 5), (4, 3), (1, 1)):
        before = bulk._band_parts.cache_info().hits
        keys = bulk.band_keys(words, bands, rows)
        bulk.band_keys(words[1:], bands, rows)
        assert bulk._band_parts.cache_info().hits > before
        a, b = bulk._permutations(bands * rows)
        raw, width = ((bulk._mixed(words).astype("uint32")[:, None] * a + b).min(axis=0)
                      .astype("uint64").tobytes(), rows * 8)
        assert keys == tuple(f"bulk:{i}:{zlib.crc32(raw[i * width:(i + 1) * width]):08x}"
                             for i in range(bands))

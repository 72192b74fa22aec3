"""Sender notices do not teach a spammer the filter; recipients and owners still learn why
(issue 13, finding 9)."""

from __future__ import annotations

from conftest import engine, message
from spimguard import notices


def denying(**policy: object):  # type: ignore[no-untyped-def]
    return engine(detectors={"rules": {"deny_domains": ["tones.example"],
                                       "deny_phrases": ["free ringtones"]},
                             "content": {"enabled": False}}, policy=policy)


def test_a_refused_sender_is_not_told_which_rule_fired() -> None:
    e = denying()
    blocked = e.process(message(e.config, "m1", "spammer", ["b"], "see https://tones.example/x"))
    held = e.process(message(e.config, "m2", "spammer", ["b"], "FR33 R1NGT0NES today"))
    assert blocked.action == "block" and held.action == "hold"
    for verdict in (blocked, held):
        sender = verdict.notice.sender
        assert sender and "spam" in sender
        assert "tones.example" not in sender and "operator" not in sender
        assert "ringtones" not in sender and "phrase" not in sender
        assert verdict.signals[0].detail  # the operator's API answer still says why
    assert "phrase" in held.notice.recipient  # so does the recipient's notice


def test_the_operator_can_tell_senders_why() -> None:
    e = denying(sender_reasons=True)
    blocked = e.process(message(e.config, "m1", "spammer", ["b"], "see https://tones.example/x"))
    assert "tones.example, denied by the operator" in blocked.notice.sender


def test_every_reason_bearing_sender_template_has_a_generic_twin() -> None:
    loaded = notices.templates("en")
    for key, text in loaded.items():
        if key.startswith("sender_") and "{reason}" in text:
            assert "{reason}" not in loaded[f"{key}_generic"]
    assert "{reason}" not in loaded["sender_hijack"]  # the owner's facts, never a rule
    assert "{client}" in loaded["sender_hijack"] and "{count}" in loaded["sender_hijack"]

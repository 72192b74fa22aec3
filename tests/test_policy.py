from __future__ import annotations

from conftest import config
from spimguard.policy import Policy
from spimguard.signals import Signal


def decide(signals: list[Signal], **overrides: object):  # type: ignore[no-untyped-def]
    return Policy(config(**overrides)).decide(signals, "alice", "s1")


def test_thresholds_map_points_to_actions() -> None:
    scores = {"scores": {"A": 1.0}}
    assert decide([Signal("A", 1.0, "a")], **scores).action == "deliver"
    assert decide([Signal("A", 1.0, "a")], scores={"A": 4.0}).action == "warn"
    assert decide([Signal("A", 1.0, "a")], scores={"A": 7.0}).action == "hold"
    assert decide([Signal("A", 0.5, "a")], scores={"A": 30.0}).action == "block"


def test_group_cap_scales_correlated_signals() -> None:
    result = decide([Signal("A", 1.0, "a"), Signal("B", 1.0, "b")],
                    scores={"A": 5.0, "B": 5.0}, groups={"A": "g", "B": "g"},
                    group_caps={"g": 6.0})
    assert result.score == 6.0 and result.action == "warn"
    assert sum(s.score for s in result.signals) == 6.0


def test_overrides_block_beats_hold_beats_allow() -> None:
    allow = Signal("RULE_ALLOW_ACCOUNT", 1.0, "allowed", "allow")
    hold = Signal("SENDING_SUSPENDED", 1.0, "suspended", "hold")
    block = Signal("RULE_DENY_DOMAIN", 1.0, "denied", "block")
    big = Signal("X", 1.0, "lots", None)
    assert decide([allow, big], scores={"X": 50.0}).action == "deliver"
    assert decide([allow, hold]).action == "hold"
    assert decide([allow, hold, block]).action == "block"


def test_account_actions_come_from_account_groups_only() -> None:
    words = decide([Signal("W", 1.0, "spammy words")], scores={"W": 20.0})
    assert words.action == "block" and words.account_action.action == "none"
    behaviour = decide([Signal("V", 1.0, "fan-out")], scores={"V": 8.0},
                       groups={"V": "takeover"})
    assert behaviour.account_action.action == "challenge"
    assert behaviour.account_action.account == "alice"
    severe = decide([Signal("V", 1.0, "fan-out")], scores={"V": 10.0},
                    groups={"V": "takeover"})
    assert severe.account_action.action == "suspend_sending"
    assert severe.account_action.session == "s1"
    assert "fan-out" in severe.account_action.reason


def test_the_owners_own_announcement_warns_unless_another_kind_agrees() -> None:
    """From the owner's usual app and network to its own contacts, the volume of one
    text to everyone (bulk and velocity) is the owner's doing: with words that read like
    an advert it warns; a spreading link, or words that would block alone, still hold."""
    owner = Signal("FAMILIAR_SENDER", 1.0, "its usual app and network")
    words = Signal("CONTENT_SPAM", 7.0 / 12, "a phone number")
    volume = [Signal("VELOCITY_RATE", 1.0, "fast"), Signal("VELOCITY_FANOUT", 0.5, "wide"),
              Signal("BULK_NEAR_DUPLICATE", 0.2, "one text to many")]  # 4.1: would warn
    assert decide([words, *volume]).action == "hold"  # a stranger's session: it holds
    assert decide([words, *volume, owner]).action == "warn"
    spreading = Signal("LINK_REPUTATION", 0.6, "fresh and spreading")
    assert decide([words, *volume, spreading, owner]).action == "hold"
    certain = Signal("CONTENT_SPAM", 1.4, "near certain")
    assert decide([certain, *volume, owner]).action in ("hold", "block")
    takeover = Signal("ACCOUNT_HIJACK_BURST", 0.6, "an unfamiliar session")
    assert decide([words, takeover, owner]).action == "hold"


def test_a_session_consistent_with_the_owner_bounds_words_and_volume() -> None:
    """OWNER_CONSISTENT (official app, no list read, no link, to its contacts, from a
    network it wrote from) bounds what FAMILIAR_SENDER bounds, without its points; the
    recipient is told the message is most likely from the sender, not that it is spam."""
    owner = Signal("OWNER_CONSISTENT", 1.0, "its app, no list read, no link")
    words = Signal("CONTENT_SPAM", 7.0 / 12, "a phone number")
    volume = [Signal("VELOCITY_RATE", 1.0, "fast"), Signal("VELOCITY_FANOUT", 0.5, "wide"),
              Signal("BULK_NEAR_DUPLICATE", 0.2, "one text to many")]
    assert decide([words, *volume]).action == "hold"
    bounded = decide([words, *volume, owner])
    assert bounded.action == "warn" and (bounded.about or {}).get("topic") == "owner"
    assert decide([words, *volume, owner, Signal("LINK_REPUTATION", 0.6, "fresh and spreading")]
                  ).action in ("hold", "block")
    assert decide([words, owner, Signal("ACCOUNT_HIJACK_BURST", 0.6, "a burst")]
                  ).action in ("hold", "block")


def test_the_bound_takes_out_the_words_and_nothing_else() -> None:
    """Two kinds that each stay under warn but reach hold together, with no words at all
    (reports of a session's encrypted messages and its volume), hold between mutual
    contacts as anywhere."""
    tie = Signal("CONTACTS_MUTUAL", 1.0, "mutual contacts")
    burst = Signal("SESSION_REPORTED", 0.45, "recipients reported the session")  # 3.6
    volume = [Signal("VELOCITY_FANOUT", 1.0, "wide"), Signal("VELOCITY_RATE", 0.25, "fast")]
    assert decide([burst, *volume]).action == "hold"
    assert decide([burst, *volume, tie]).action == "hold"


def test_a_warning_on_an_owners_session_does_not_say_it_was_taken_over() -> None:
    """Volume and a trace of burst warn on their own (no bound needed): the session is
    judged the owner's (OWNER_CONSISTENT), so the notice is the owner's, not the hijack's."""
    trace = Signal("ACCOUNT_HIJACK_BURST", 0.15, "a trace", about={"topic": "hijack"})
    volume = [Signal("VELOCITY_RATE", 1.0, "fast"), Signal("VELOCITY_FANOUT", 0.5, "wide")]
    owner = Signal("OWNER_CONSISTENT", 1.0, "its app, no list read, no link")
    assert (decide([trace, *volume]).about or {}).get("topic") == "hijack"
    warned = decide([trace, *volume, owner])
    assert warned.action == "warn" and (warned.about or {}).get("topic") == "owner"


def test_a_stop_resting_on_doubt_about_the_session_holds_and_asks_the_challenge() -> None:
    """The owner's phone on a new network announcing to everyone: the burst (its own group,
    no account-level evidence) and the volume reach a block's score, but without the doubt
    about the session the volume alone would only warn. Only the owner can answer that
    doubt: the message is held (a pass releases it; a dropped one could not be) and the
    session is asked the challenge. Words that would hold on their own are no such doubt."""
    burst = Signal("ACCOUNT_BURST_UNPITCHED", 1.0, "to all its contacts")
    volume = [Signal("VELOCITY_RATE", 1.0, "fast"), Signal("VELOCITY_FANOUT", 1.0, "wide"),
              Signal("VELOCITY_STRANGERS", 1.0, "far")]
    doubted = decide([burst, *volume])
    assert doubted.score >= 12 and doubted.action == "hold"
    assert (doubted.account_action.action, doubted.account_action.session) == (
        "challenge", "s1")
    words = decide([burst, Signal("CONTENT_SPAM", 1.0, "an advert")])
    assert words.action == "block" and words.account_action.action == "none"

"""Review of session 31's ``pitch31`` (``review31b``): the owner's side of its rule 3 (a
reply to a friend who answered the session's own message is the session's) and what the
spread pitch's sets over the unproven sessions' life now count. Through ``engine.process``
(``docs/red-team-log.md``, session 31, ``review31b``)."""

from __future__ import annotations

from typing import Any

from conftest import T0, event, message
from test_attack_session30 import HOME, NEW_NET
from test_takeover import engine_with_history

DAY = 86_400


def _desktop_conversation() -> list[Any]:
    """The owner's new desktop (her app, a network new to her) gives a friend she wrote to
    ten days ago a Reddit thread, then two hours later asks a contact she never wrote to (a
    dormant tie) to pick up bread; the contact answers, and she answers with a Reddit
    thread too (mixed 9402's s12614, in small)."""
    engine = engine_with_history()
    cfg = engine.config
    for f in range(3, 10):
        engine.process(message(cfg, f"o{f}", "alice", [f"alice-friend{f}"],
                               "how was the trip? send photos", T0 - 10 * DAY + f,
                               session="phone", client=HOME))
        engine.process(message(cfg, f"r{f}", f"alice-friend{f}", ["alice"],
                               "great, will do!", T0 - 10 * DAY + 60 + f))
    engine.process(event(cfg, type="login", id="np", ts=T0 - 60, account="alice",
                         session="desk", ip=NEW_NET, client={"id": "im-android"}))
    sent = {"session": "desk", "client": {"id": "im-android", "ip": NEW_NET}}
    out = [engine.process(message(cfg, "s0", "alice", ["alice-friend3"],
                                  "lol this thread https://www.reddit.com/r/funny/comments/a",
                                  T0, **sent))]
    at = T0 + 7_200
    out.append(engine.process(message(cfg, "s1", "alice", ["alice-friend40"],
                                      "can you pick up bread on the way back", at, **sent)))
    engine.process(message(cfg, "q1", "alice-friend40", ["alice"], "sure, which one?",
                           at + 60))
    out.append(engine.process(message(
        cfg, "s2", "alice", ["alice-friend40"],
        "my phone is almost dead, this one https://www.reddit.com/r/bread/comments/b",
        at + 120, **sent)))
    return out


def test_a_dormant_tie_does_not_count_a_sites_life_set_below_its_own_threshold() -> None:
    """The owner's conversation with a dormant contact turning to a link: on 4130def the
    answer (no longer excused: the contact answered her opener) counted Reddit's set over
    the unproven sessions' life from one person because a dormant tie was in the window:
    2 people, ACCOUNT_HIJACK_BURST 2.667, score 1.05 -> 3.717 (mixed 9402: one life-ham
    message delivered -> warned). A dormant tie makes the window's pitch count from one
    (where it was seen); each life set counts from its own threshold (``pitch_ties`` 4,
    ``popular_share_ties`` 15): no burst signal, as on main 9be8ce7."""
    verdicts = _desktop_conversation()
    assert [v.action for v in verdicts] == ["deliver"] * 3
    assert not [s for v in verdicts for s in v.signals if "BURST" in s.code]

"""Review of session 31's ``pitch31`` (``review31b``): the owner's side of its rule 3 (a
reply to a friend who answered the session's own message is the session's) and what the
spread pitch's sets over the unproven sessions' life now count. Through ``engine.process``
(``docs/red-team-log.md``, session 31, ``review31b``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import T0, event, message
from spimguard.detectors.takeover import detector, keys
from test_attack_session25 import HOSTING_IP, OFFICIAL_APP, engine_on
from test_attack_session30 import HOME, NEW_NET, _seller, greeted, reached, suspended
from test_attack_session30_review import _answers
from test_attack_session31 import _site_per_pitch
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


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_site_per_pitch_from_fresh_sessions_is_bounded_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A registrable domain per pitch, 11 minutes apart, a fresh session each, to the friends
    alice greeted 100 days ago: 40 of 40 reached on main 9be8ce7. ``keys.linked`` (links
    whatever the site, from ``popular_share_ties``) is read with the deferred reads, which
    Redis reads up front: 14, suspended, on every backend alike."""
    verdicts = _seller(greeted(100, engine_on(backend, tmp_path, request)), apart=660,
                       fresh=True, text=_site_per_pitch)
    assert reached(verdicts) <= 14
    assert suspended(verdicts)


@pytest.mark.xfail(strict=True, reason="the cost of counting each site a message names "
                   "(pitch31): one message from a risky session with 64 links and 64 sites "
                   "written apart touches 130 keys of the unproven sessions' life (128 site "
                   "sets, keys.linked, keys.sought; 30-day TTL, one member each) and reads 129 "
                   "more deferred (Redis: up front); main 9be8ce7: 1 and 1. Bounded by the "
                   "view (2 x MAX_URLS); a cap on the sites counted is blind to the site typed "
                   "past it (64 decoys first: 14 reached, linked's bound)")
def test_a_message_touches_few_keys_of_the_unproven_sessions_life(
        monkeypatch: pytest.MonkeyPatch) -> None:
    touched: list[int] = []
    writes = detector.TakeoverDetector.writes

    def counted(self: Any, ctx: Any, facts: Any, outcome: Any) -> Any:
        out = writes(self, ctx, facts, outcome)
        touched.append(sum("%unproven" in getattr(w, "key", "")  # a site's: a guest since
                           or f":{keys.SPREAD}" in getattr(w, "key", "")  # session 36
                           for w in out))
        return out

    monkeypatch.setattr(detector.TakeoverDetector, "writes", counted)
    engine = greeted(100)
    cfg = engine.config
    engine.process(event(cfg, type="login", id="si", ts=T0 - 60, account="alice",
                         session="seller", ip=HOSTING_IP, client={"id": OFFICIAL_APP}))
    text = " ".join([f"http://aa{j}x.com/p" for j in range(64)]
                    + [f"bb{j}y. net/q" for j in range(64)])
    engine.process(message(cfg, "m", "alice", ["alice-friend3"], text, T0,
                           session="seller", client={"id": OFFICIAL_APP, "ip": HOSTING_IP}))
    assert touched[-1] <= 2  # the message's (the sign-in's come before)


@pytest.mark.xfail(strict=True, reason="the price of keys.linked counting answers to those "
                   "who asked (the seller answering each friend who writes is bounded by "
                   "nothing else): the owner's new laptop answering 20 customers who each "
                   "wrote first with one help page, 2 minutes apart: 14 delivered, 6 held, "
                   "sending suspended (main 9be8ce7: 3 delivered, suspended; 8 customers: "
                   "8 delivered here)")
def test_the_owners_new_laptop_answering_twenty_who_asked() -> None:
    verdicts = _answers(20)
    assert [v.action for v in verdicts] == ["deliver"] * 20
    assert not suspended(verdicts)

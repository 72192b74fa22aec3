"""Red team, session 26: the ringtone seller's openers, read by a seller who has read the
fix (``burst.pitching``). Its openers ("long time! how are you?") to dormant contacts draw
answers, and each answerer gets the pitch; the fix says a reply answers one person, and
the site already given another answerer is the session's broadcast, reply or not. Here
the seller varies what it can: chat before the pitch, the pitch's words, its sites, its
pace. Each fixed variant's test fails on main (b6196d9); the three left open then fail
on main 84675dc and are closed by what the seller cannot vary, a link to every answerer
(session 27, ``docs/red-team-log.md``'s twenty-third pass, ``openers2``).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from conftest import T0, message
from spimguard.engine import Engine
from spimguard.sim import network, scenarios, texts
from test_attack_session25 import NAMES, _answer, openers_campaign, send
from test_takeover import engine_with_history

# Four pitches, one site: sellers vary the words per recipient, never the site they sell.
TEMPLATES = ("hey {name}! I found cheap ringtones here http://{site}/r?u={n}",
             "{name} you have to try this, all ringtones free this week {site}/{n}",
             "lol {name} remember that song? it's a ringtone now http://{site}/t/{n}",
             "{name}!! got my new ringtone from {site} ... code {n} for you")
# What the seller says back to each answer before the pitch: a different line each time,
# as a friend's replies are.
CHAT = ("so good to hear from you!", "haha same here, busy busy", "aww miss you too",
        "yes!! we should catch up", "things are good, new job and all")
REPLY_WINDOW = 1_800  # takeover's ``reply_window``: an answer's reply is due within it


def _friend_again(engine: Engine, friend: int, ts: float) -> None:
    """The answerer writing back to the seller's chat line."""
    engine.process(message(engine.config, f"again-{friend}", f"alice-friend{friend}",
                           ["alice"], "yeah, it's been ages", ts, session=f"phone-{friend}",
                           client={"id": "im-ios", "ip": f"100.70.{friend}.3"}))


def _campaign(chat: bool, sites: int = 1, apart: float = 120, pitch_after: float = 60,
              answered: int = 15) -> list[Any]:
    """``openers_campaign`` with a chat line back to each answer and the friend's second
    word first (``chat``), the pitch in four wordings on one of ``sites`` sites, a fresh
    session for every ``answered`` answerers."""
    def text_of(i: int) -> str:
        site = f"tones{i // 2 % sites}.biz" if sites > 1 else "cheap-tones.biz"
        return TEMPLATES[i // 2 % len(TEMPLATES)].format(name=NAMES[i % 10], site=site,
                                                         n=1000 + i)

    def chat_first(engine: Engine, i: int, t: float, session: str) -> None:
        send(engine, 200 + i, 10 + i, CHAT[i // 2 % len(CHAT)], t + 45, session,
             sign_in=False)
        _friend_again(engine, 10 + i, t + 52)

    return openers_campaign(text_of, apart, pitch_after, chat_first if chat else None,
                            answered)


def _reached(verdicts: list[Any]) -> int:
    return sum(v.action in ("deliver", "warn") for v in verdicts)


@pytest.mark.parametrize("chat", [False, True])
def test_pitches_in_four_wordings_to_each_answerer_are_one_broadcast(chat: bool) -> None:
    """Four wordings of the pitch, one site, each the reply to an answer the openers drew;
    with ``chat``, a different friendly line back to each answer first (its replies make
    the session a conversing one whatever it pitches). On main 11 of the 15 pitches
    reached their targets either way (3 delivered, 8 warned; the content model blocked
    one wording's 4), no hold, no account action; the site already given another
    answerer is no reply, and the session's replies do not excuse it."""
    pitches = _campaign(chat)
    assert _reached(pitches) <= 3
    assert any(v.account_action.action == "suspend_sending" for v in pitches)


# What the three variants below did on main (84675dc), each the same, and do now: of the 15
# pitches 3 delivered, 8 warned, none held (the content model blocked one wording's 4), no
# account action; now 2 delivered, 12 held, 1 blocked, the session's sending suspended.
# The seller varies the site, the pace, or how long after the answer the pitch comes; it
# cannot vary that every answerer gets a link from sessions nothing proves the owner's:
# links to ``pitch_ties`` (4) dormant ties over a session's life are its pitch, no reply,
# and its replies do not excuse it (``burst.pitched``, red team session 27).


def test_a_site_for_each_pitch() -> None:
    """A registrable domain for each of the 15 pitches: no answerer gets a site another
    one got, so each pitch was a reply and the session conversing after two. (A key of
    the prose around the link would catch one template, not a template per domain.)"""
    pitches = _campaign(chat=False, sites=15)
    assert _reached(pitches) <= 3
    assert any(v.account_action.action == "suspend_sending" for v in pitches)


def test_openers_past_the_burst_window() -> None:
    """Openers 700 s apart (past the 600 s burst window), the pitch a minute after each
    answer: the site given the last answerer has left the window when the next one comes,
    so each pitch was a reply; the session's life keeps its links."""
    pitches = _campaign(chat=False, apart=700)
    assert _reached(pitches) <= 3
    assert any(v.account_action.action == "suspend_sending" for v in pitches)


def test_the_pitch_after_the_reply_window() -> None:
    """A chat line back to each answer (two make the session conversing), the pitch only
    once the answer is older than ``reply_window`` (1,800 s): the pitch answers nobody, so
    it was no reply to judge, and the conversing allowance stood. Dropping the allowance
    for any site sent to two dormant ties held this too, but warned 2 more of the mixed
    load's popular-link trap (seed 92); four links do not (the trap sends one to three)."""
    pitches = _campaign(chat=True, pitch_after=REPLY_WINDOW + 100)
    assert _reached(pitches) <= 3
    assert any(v.account_action.action == "suspend_sending" for v in pitches)


def test_a_fresh_session_for_every_three_answerers() -> None:
    """Against a count kept per session, the seller mints one for every three answerers
    (six openers), a site for each pitch and a chat line back to each answer first (two
    make each session conversing): on main 11 of 15 reached (6 delivered, 5 warned, 4
    blocked by content), no account action; with the count per session, the same. The
    intruder is one actor whatever sessions it mints: the links are counted over the
    account's unproven sessions together (``keys.linked``). Now 3 delivered, 10 held, 2
    blocked, sending suspended."""
    pitches = _campaign(chat=True, sites=15, answered=3)
    assert _reached(pitches) <= 3
    assert any(v.account_action.action == "suspend_sending" for v in pitches)


NEW_PHONE_IP = "100.64.23.9"  # the owner's new phone's carrier: a network the account never used


def test_a_friend_on_a_new_phone_linking_two_old_friends_is_not_held() -> None:
    """The rule's innocent: alice on a new phone (her app, a new network) tells her usual
    friends, catches up with two old ones she had not been writing to, both answer, and
    each gets a link back to a different site (a video, a photo album) in the reply, then
    a line more. Links to two dormant ties are no pitch (``pitch_ties``: 4): all delivered,
    no account action. (Passes on main too: it bounds the rule, not the seller.)"""
    engine = engine_with_history()
    t = T0
    out = [send(engine, i, i, f"hi it's me, new phone, same me {i}", t + 20 * i, "newphone",
                ip=NEW_PHONE_IP, sign_in=i == 0) for i in range(3)]
    t += 300
    links = ("haha look what I found https://www.youtube.com/watch?v=dQw4w9WgXcQ",
             "the photos from the lake, remember? https://www.flickr.com/photos/alice/albums/7215")
    for n, friend in enumerate((20, 21)):
        out.append(send(engine, 10 + n, friend, f"hey {NAMES[n]}, long time! how are you?",
                        t + 120 * n, "newphone", ip=NEW_PHONE_IP, sign_in=False))
    for n, friend in enumerate((20, 21)):
        at = t + 600 + 300 * n
        _answer(engine, friend, at)
        out.append(send(engine, 20 + n, friend, links[n], at + 40, "newphone",
                        ip=NEW_PHONE_IP, sign_in=False))
        _friend_again(engine, friend, at + 90)
        out.append(send(engine, 30 + n, friend, "so good to catch up, let's call soon",
                        at + 120, "newphone", ip=NEW_PHONE_IP, sign_in=False))
    assert [v.action for v in out] == ["deliver"] * len(out)
    assert all(v.account_action.action == "none" for v in out)


def test_the_patient_scenario_plans_the_seller_who_draws_answers_first() -> None:
    """The simulator's ``patient`` scenario has the openers seller beside the pacer: one
    session per victim, openers to contacts it does not write to, and every pitch the
    reply to its recipient's answer (which is ordinary life's, not the seller's)."""
    rng = random.Random(5)
    plan = scenarios.plan(network.build(200, rng), texts.load(), "patient", 3, rng)
    sent = [e for e in plan.events if e.truth and e.truth.scenario == "openers"]
    victims = {e.body["sender"] for e in sent}
    assert len(victims) >= 2
    for victim in victims:
        own = [e for e in sent if e.body["sender"] == victim]
        assert len({e.body["session"] for e in own}) == 1
        pitches = [e for e in own if "http" in str(e.body["text"])]
        assert pitches and len(own) - len(pitches) == scenarios.OPENERS_SENT
        answers = {(e.body["sender"], e.ts) for e in plan.events
                   if e.body["type"] == "message" and e.body["recipients"] == [victim]
                   and e.truth and not e.truth.spim and e.ts >= plan.attack_day}
        for pitch in pitches:
            friend = pitch.body["recipients"][0]
            assert any(who == friend and pitch.ts - 60 < ts < pitch.ts for who, ts in answers)

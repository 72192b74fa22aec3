"""Red team, session 13: the report-trust and learning path, tried from the spimmer's seat.

Each test runs an attack through ``engine.process`` and asserts the verdict it must not
move. Findings still open are ``xfail(strict=True)``: a fix turns each into a regression
test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from conftest import T0, established, event, message
from spimguard import trust
from spimguard.engine import Engine
from test_adversarial import content_probability, full_engine, report, send
from test_takeover import live_a_month

PITCH = ("Hot new ringtones! Download now at https://tonez-shop.biz/get?id={i} only $1, "
         "click here to win a free iPhone")


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _socks_call_it_ham(engine: Engine, socks: int, ts: float = T0) -> None:
    """The seller's bot sends its pitch to each of its own throwaways (blocked: they are
    strangers to it), and each throwaway reports its copy as not spam."""
    for k in range(socks):
        send(engine, f"own{k}", "bot", [f"sock{k}"], PITCH.format(i=k), ts + k)
    for k in range(socks):
        report(engine, f"ham{k}", f"sock{k}", f"own{k}", label="ham", ts=ts + 100 + k)


def test_throwaways_ham_reports_do_not_carry_a_pitch_past_the_content_model() -> None:
    """Two throwaways, one copy each, "not spam": before, the pitch's content score fell
    by the whole ``max_shift`` (−5 log-odds) for every recipient, and 20 rotating fresh
    bots pitching strangers went from 20 blocked to 14 held and 6 warned."""
    engine = full_engine()
    before = content_probability(engine, PITCH.format(i=7))
    _socks_call_it_ham(engine, socks=2)
    assert content_probability(engine, PITCH.format(i=7)) == before
    actions = [send(engine, f"p{j}", f"bot{j}", [f"victim{j}"], PITCH.format(i=100 + j),
                    T0 + 3600 + 60 * j).action for j in range(20)]
    assert actions == ["block"] * 20


def test_ham_reports_on_the_sellers_own_copies_undo_nothing_honest_users_taught() -> None:
    """Three honest recipients report their copies; ten of the seller's throwaways call
    theirs ham. The content model keeps what the honest reports taught (before: the
    socks' ham took the pitch back below where it started)."""
    engine = full_engine()
    honest = [f"u{n}" for n in range(3)]
    established(engine, *honest)
    for n, who in enumerate(honest):
        send(engine, f"m{n}", f"seller{n}", [who], PITCH.format(i=n), T0 + n)
        report(engine, f"s{n}", who, f"m{n}", ts=T0 + 300 + n)
    taught = content_probability(engine, PITCH.format(i=50))
    _socks_call_it_ham(engine, socks=10, ts=T0 + 400)
    assert content_probability(engine, PITCH.format(i=50)) == taught


def test_a_ham_report_still_cancels_spam_reported_on_its_own_message() -> None:
    """The honest side: a recipient's "not spam" takes back a mistaken spam report on the
    same message, and the content model forgets what that report taught."""
    engine = full_engine()
    established(engine, "ann", "ben", "cat")
    text = "are we still meeting at the cafe near the station tomorrow after work {n}"
    untaught = content_probability(engine, text.format(n=9))
    for n in range(2):
        send(engine, f"c{n}", "dan", ["ann", "ben", "cat"], text.format(n=n), T0 + n)
        report(engine, f"s{n}", "ann", f"c{n}", ts=T0 + 60 + n)
    assert content_probability(engine, text.format(n=9)) > untaught
    for n in range(2):
        for k, who in enumerate(("ben", "cat")):
            report(engine, f"h{n}{who}", who, f"c{n}", label="ham", ts=T0 + 120 + 2 * n + k)
    assert content_probability(engine, text.format(n=9)) == untaught


def test_an_operator_ham_decision_still_teaches_the_content_model() -> None:
    """Only an operator vouches for a text: its ham decisions move the pitch down."""
    engine = full_engine()
    before = content_probability(engine, PITCH.format(i=7))
    for k in range(2):
        send(engine, f"own{k}", "bot", [f"sock{k}"], PITCH.format(i=k), T0 + k)
        trust.decide(engine, f"own{k}", "ham", ts=T0 + 100 + k)
    assert _logit(content_probability(engine, PITCH.format(i=7))) < _logit(before) - 1


# -- SESSION_REPORTED: framing a person's phone ---------------------------------------------

def _framed(reporters: list[str], messages: int, *, lives: bool = False,
            made: Callable[[Engine, list[str]], None] | None = None) -> list[str]:
    """The victim, a month on its own phone, writes ``messages`` encrypted lines in a
    group where ``reporters`` sit (with friends of their own: ``lives``; or as ``made``),
    and each of them reports every line as spam, a different one first each time; the
    actions of what its phone sends next: to a friend, to someone new, to its three
    friends."""
    engine = full_engine()
    live_a_month(engine, "vic")
    if lives:
        established(engine, *reporters)
    if made is not None:
        made(engine, reporters)
    friends = ["f1", "f2", "f3"]
    for who in friends:
        engine.process(event(engine.config, type="contacts", id=f"c-{who}", ts=T0 - 100,
                             account=who, contacts=["vic"]))
    engine.process(event(engine.config, type="contacts", id="c-vic", ts=T0 - 100,
                         account="vic", contacts=friends))
    phone = {"session": "phone", "client": {"id": "im-android", "ip": "198.51.100.20"}}
    ts = T0
    for m in range(messages):
        ts += 60
        engine.process(message(engine.config, f"g{m}", "vic", friends + reporters, "", ts,
                               encrypted=True, size=120, conversation="g", **phone))
        for who in reporters[m % len(reporters):] + reporters[:m % len(reporters)]:
            ts += 1
            report(engine, f"r{m}-{who}", who, f"g{m}", ts=ts)
    return [send(engine, f"x{j}", "vic", to, text, ts + 60 * (j + 1), **phone).action
            for j, (to, text) in enumerate([(["f1"], "see you at 7 tonight?"),
                                            (["newguy"], "hi, it's me from the meetup"),
                                            (friends, "dinner at 8?")])]


def test_ten_throwaways_in_a_group_cannot_get_the_victims_phone_held() -> None:
    """Ten fresh accounts in a group the victim writes in, each spending its one voice
    (``new_weight``) on another of ten lines: before, 3.0 messages' worth of spam weight
    from 10 "distinct reporters" put SESSION_REPORTED (8) on the victim's phone for a
    week: its next line to someone new held, to its friends warned."""
    assert _framed([f"t{k}" for k in range(10)], 10) == ["deliver"] * 3


def _ring(engine: Engine, socks: list[str]) -> None:
    """Each throwaway writes the next one a line: every one has a correspondent."""
    for k, sock in enumerate(socks):
        engine.process(message(engine.config, f"ring{k}", sock, [socks[k - 1]], "hey there",
                               T0 - 500 + k))


def _aged(days: float) -> Callable[[Engine, list[str]], None]:
    """Throwaways the IM server says are ``days`` old, each with a line to someone."""
    def made(engine: Engine, socks: list[str]) -> None:
        for k, sock in enumerate(socks):
            engine.process(event(engine.config, type="account", id=f"a-{sock}", ts=T0 - 600,
                                 account=sock, created=T0 - days * 86_400))
            engine.process(message(engine.config, f"line{k}", sock, [f"anyone{k}"],
                                   "hey there", T0 - 500 + k))
    return made


def test_ten_throwaways_that_write_each_other_cannot_get_the_victims_phone_held() -> None:
    """Before: a line from each to the next gave every one a correspondent of its own,
    ten people, and the victim's next line to someone new was held, to its friends
    warned. A new account's life can be made in minutes: new reporters are one voice."""
    assert _framed([f"t{k}" for k in range(10)], 10, made=_ring) == ["deliver"] * 3


def test_days_old_throwaways_with_a_line_to_anyone_cannot_get_the_phone_held() -> None:
    """A line of its own to anyone makes a quiet reporter a person only a month on."""
    assert _framed([f"t{k}" for k in range(10)], 10, made=_aged(3)) == ["deliver"] * 3


def test_three_recipients_with_lives_of_their_own_still_mark_the_session() -> None:
    """The honest side: three recipients with friends of their own report three lines."""
    assert _framed(["j1", "j2", "j3"], 3, lives=True)[1] == "hold"


# -- what one report costs the other nodes -----------------------------------------------

def test_one_report_on_one_node_costs_the_other_node_what_it_changed(
        redis_url: str, redis_namespace: str, tmp_path: Path) -> None:
    """Two nodes on one Redis (records of their own). After 200 reported messages, one
    more report on node A: node B, judging its next message, should read what that
    report changed, not all 201 reported messages again."""
    from conftest import config as make_config
    from spimguard import open_engine
    from spimguard.state.ops import Get

    cfg = make_config(storage={"backend": "redis", "redis_url": redis_url,
                               "redis_namespace": redis_namespace},
                      records={"evidence_key": "test-evidence-key"})
    a, b = open_engine(cfg, tmp_path / "a"), open_engine(cfg, tmp_path / "b")
    try:
        def spam_and_report(n: int) -> None:
            send(a, f"m{n}", f"bot{n % 7}", [f"r{n}"], PITCH.format(i=n), T0 + 2 * n)
            report(a, f"p{n}", f"r{n}", f"m{n}", ts=T0 + 2 * n + 1)

        for n in range(200):
            spam_and_report(n)
        send(b, "b0", "ann", ["ben"], "see you at 7", T0 + 500)  # B catches up once
        spam_and_report(200)
        gets = 0
        read = b.state.read

        def counted(queries, now):  # type: ignore[no-untyped-def]
            nonlocal gets
            gets += sum(isinstance(q, Get) and q.key.startswith("content:report:")
                        for q in queries)
            return read(queries, now)

        b.state.read = counted  # type: ignore[method-assign]
        send(b, "b1", "ann", ["ben"], "see you at 8", T0 + 510)
        assert gets <= 10
    finally:
        a.close()
        b.close()


def test_quiet_recipients_of_an_intruders_session_still_mark_it() -> None:
    """Six month-old recipients who each wrote a line to a friend of their own (nobody
    seen writing back) report the intruder's session: six people (``trust.voice``), not
    one voice. Before: one reporter, no SESSION_REPORTED."""
    engine = full_engine()
    cfg = engine.config
    for i in range(6):
        who = f"r{i}"
        engine.process(event(cfg, type="account", id=f"a-{who}", ts=T0, account=who,
                             created=T0 - 30 * 86_400))
        engine.process(message(cfg, f"o-{who}", who, [f"{who}~pal"], "see you at 7", T0))
    for i in range(6):
        engine.process(message(cfg, f"slow{i}", "alice", [f"r{i}"], "", T0 + i * 3600,
                               encrypted=True, size=120, session="evil"))
        report(engine, f"rep{i}", f"r{i}", f"slow{i}", ts=T0 + i * 3600 + 60)
    verdict = engine.process(message(cfg, "next", "alice", ["someone"], "", T0 + 6 * 3600,
                                     encrypted=True, size=120, session="evil"))
    assert "SESSION_REPORTED" in {s.code for s in verdict.signals}, verdict.signals

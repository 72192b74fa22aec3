"""Learning that attackers cannot steer (issue 14), tried from the attacker's side.

Each scenario is an attack on what spimguard learns (reports, reputation,
campaign confirmation, account profiles, sessions); each test says which
verdict the attack must fail to move. ``# c9bcece:`` notes the verdict the same
attack got before the report-trust model and the account-level incidents.
"""

from __future__ import annotations

import pytest

from conftest import T0, config, established, event, message
from spimguard import open_engine, trust
from spimguard.detectors.content import ContentDetector
from spimguard.detectors.takeover import record as takeover_record
from spimguard.engine import Engine
from spimguard.events import Verdict
from test_takeover import (
    OFFICIAL,
    attack,
    delivered_before_containment,
    engine_with_history,
    live_a_month,
)

DAY = 86_400.0
BLAND = "have a look at this http://bland.example/x?{i}"  # nothing for content to see


def full_engine(**overrides: object) -> Engine:
    return open_engine(config(official_clients=["im-android", "im-ios"], **overrides))


def report(engine: Engine, id: str, reporter: str, message_id: str, label: str = "spam",
           ts: float = T0 + 600) -> None:
    engine.process(event(engine.config, type="report", id=id, ts=ts, reporter=reporter,
                         message_id=message_id, label=label))


def send(engine: Engine, id: str, sender: str, to: list[str], text: str, ts: float,
         **extra: object) -> Verdict:
    return engine.process(message(engine.config, id, sender, to, text, ts, **extra))


# -- reports on domain reputation ----------------------------------------------------------

@pytest.mark.parametrize("reporter", ["bob", "promo"])
def test_three_reports_of_one_message_by_its_recipient_or_its_sender(reporter: str) -> None:
    """bob, its recipient, counts once; promo, its sender, counts nothing."""
    engine = full_engine()
    established(engine, "bob", "promo", "carol")
    send(engine, "m1", "promo", ["bob"], "look https://fresh-news.biz/a", T0)
    for n in range(3):
        report(engine, f"r{n}", reporter, "m1", ts=T0 + 60 + n)
    probe = send(engine, "probe", "carol", ["dave"], "https://fresh-news.biz/x", T0 + 120)
    assert probe.action == "deliver"  # c9bcece: hold, either way


def test_ham_reports_on_the_spammers_own_copies_cancel_nothing() -> None:
    engine = full_engine()
    honest = [f"u{n}" for n in range(3)]
    established(engine, *honest)
    for n, who in enumerate(honest + [f"sock{k}" for k in range(10)]):
        send(engine, f"m{n}", f"seller{n}", [who], f"tones at https://tonez-{n % 1}.biz/{n}",
             T0 + n)
    for n, who in enumerate(honest):
        report(engine, f"s{n}", who, f"m{n}", ts=T0 + 300 + n)
    for k in range(10):  # the seller's own accounts received their copies, and "liked" them
        report(engine, f"h{k}", f"sock{k}", f"m{3 + k}", label="ham", ts=T0 + 400 + k)
    probe = send(engine, "probe", "seller99", ["eve"], "https://tonez-0.biz/", T0 + 500)
    assert probe.action in ("hold", "block")  # c9bcece: deliver (ten ham cancel three spam)


def test_a_ham_report_cancels_only_its_own_weight_on_its_own_message() -> None:
    engine = full_engine()
    established(engine, "bob", "ann")
    send(engine, "m1", "promo", ["bob", "ann"], "look https://fresh-news.biz/a", T0)
    report(engine, "s", "bob", "m1", ts=T0 + 60)
    report(engine, "h", "ann", "m1", label="ham", ts=T0 + 61)
    report(engine, "h2", "ann", "m1", label="ham", ts=T0 + 62)  # again: counts nothing
    state = engine.read_state([trust.Get("trust:msg:m1")])[0]
    assert trust.net(state) == 0.0 and set(state["ham"]) == {"ann"}


# -- campaign confirmation -----------------------------------------------------------------

NOTICE = "Club news: the March meeting moves to the small hall, see you all there"


def club_notice(reporters: list[str], *, new: bool = False) -> Verdict:
    """The club writes to its 30 members; ``reporters`` report the first copies; then
    one more copy goes out (the verdict returned)."""
    engine = full_engine()
    members = [f"member{n}" for n in range(41)]
    established(engine, "club", *([] if new else members))
    engine.process(event(engine.config, type="contacts", id="roster", ts=T0, account="club",
                         contacts=members))
    for n in range(30):
        send(engine, f"n{n}", "club", [members[n]], NOTICE, T0 + 60 * n)
    for k, who in enumerate(reporters):
        report(engine, f"r{k}", who, f"n{k}", ts=T0 + 1900 + k)
    return send(engine, "late", "club", [members[40]], NOTICE, T0 + 2000)


def test_throwaway_reporters_who_never_received_a_notice_cannot_confirm_it() -> None:
    quiet = club_notice([])
    attacked = club_notice(["throwaway0", "throwaway1", "throwaway2"])
    assert "CAMPAIGN_CONFIRMED" not in {s.code for s in attacked.signals}
    assert attacked.action == quiet.action == "deliver"  # c9bcece: block (CAMPAIGN_CONFIRMED)


def test_days_old_recipients_weigh_less_so_three_cannot_confirm() -> None:
    # The attacker's own new accounts, signed up to the club's list.
    attacked = club_notice(["member0", "member1", "member2"], new=True)
    assert "CAMPAIGN_CONFIRMED" not in {s.code for s in attacked.signals}


def test_honest_recipients_still_confirm_a_campaign_and_gain_a_record() -> None:
    engine = full_engine()
    people = [f"friend{n}" for n in range(6)]
    established(engine, *people)
    bland = "hey {name}, you have to see this, it is really something http://look-here.biz/{n}"
    for n, who in enumerate(people):
        send(engine, f"c{n}", f"victim{n}", [who], bland.format(name=who, n=n), T0 + n)
    for n in range(3):
        report(engine, f"r{n}", people[n], f"c{n}", ts=T0 + 60 + n)
    later = send(engine, "late", "other", ["x"], bland.format(name="x", n=9), T0 + 120)
    assert "CAMPAIGN_CONFIRMED" in {s.code for s in later.signals}
    agreed = engine.read_state([trust.Count(trust.agreed_key("friend0"), 365 * DAY, DAY)])[0]
    assert agreed == 1.0


def test_friends_forwarding_a_chain_letter_need_more_reports_than_a_campaign() -> None:
    """Established accounts, their own phones, their own contacts: three reports do not
    make it a campaign (they would for copies from unfamiliar sessions)."""
    engine = full_engine()
    chain = "forward this to 10 friends or you will have bad luck for a year, it really works"
    senders = [f"p{k}" for k in range(4)]
    live_a_month(engine, *senders)
    for who in senders:
        for i in (*range(10, 20), 30):  # friends, who list their friend back
            friend = f"{who}-friend{i}"
            engine.process(event(engine.config, type="contacts", id=f"c-{friend}",
                                 ts=T0 - DAY, account=friend, contacts=[who]))
    established(engine, *(f"p0-friend{i}" for i in range(10, 13)))
    n = 0
    for who in senders:
        for i in range(10, 20):
            verdict = send(engine, f"ch{n}", who, [f"{who}-friend{i}"], chain, T0 + n * 30,
                           session="phone", client={"id": "im-android", "ip": "198.51.100.20"})
            assert "FAMILIAR_SENDER" in {s.code for s in verdict.signals}
            n += 1
    for k, i in enumerate(range(10, 13)):
        report(engine, f"r{k}", f"p0-friend{i}", f"ch{k}", ts=T0 + 1300 + k)
    later = send(engine, "late", "p3", ["p3-friend30"], chain, T0 + 1400, session="phone",
                 client={"id": "im-android", "ip": "198.51.100.20"})
    assert "CAMPAIGN_CONFIRMED" not in {s.code for s in later.signals}


def test_the_owner_notice_counts_what_was_delivered() -> None:
    engine = engine_with_history()
    verdicts = attack(engine, text=BLAND, count=12)
    notice = next(v.notice.sender for v in verdicts if v.notice.sender
                  and "signed in from" in v.notice.sender)
    delivered = sum(v.action in ("deliver", "warn") for v in verdicts[:verdicts.index(next(
        v for v in verdicts if v.notice.sender == notice))])
    assert f"sent {delivered} messages" in notice  # c9bcece: counted the held one too


# -- the content model ---------------------------------------------------------------------

PHRASE = "are we still meeting at the cafe near the station tomorrow after work"


def content_probability(engine: Engine, text: str) -> float:
    from spimguard.model.features import parts
    from spimguard.text import view

    detector = next(d for d in engine.detectors if isinstance(d, ContentDetector))
    found, teachable = parts(view(text), detector.model.bits, ())
    return detector.probability(found, teachable)[0]


def test_non_recipients_cannot_teach_a_chat_phrase_as_spam() -> None:
    engine = full_engine()
    before = content_probability(engine, PHRASE)
    send(engine, "a1", "attacker", ["friend1"], PHRASE, T0)
    send(engine, "a2", "attacker", ["friend2"], PHRASE + " ok", T0 + 1)
    report(engine, "r1", "throwaway1", "a1")
    report(engine, "r2", "throwaway2", "a2")
    assert content_probability(engine, PHRASE) == before  # c9bcece: +14 log-odds
    assert send(engine, "probe", "ann", ["ben"], PHRASE, T0 + 900).action == "deliver"  # c9: block


def test_reports_move_any_text_by_at_most_max_shift() -> None:
    """Even recipients, established and many, move one text by max_shift log-odds at most."""
    import math

    engine = full_engine(detectors={"content": {"max_shift": 2.0}})
    before = content_probability(engine, PHRASE)
    mob = [f"m{n}" for n in range(8)]
    established(engine, *mob)
    for n, who in enumerate(mob):
        send(engine, f"a{n}", "attacker", [who], f"{PHRASE} {n}", T0 + n)
        report(engine, f"r{n}", who, f"a{n}", ts=T0 + 60 + n)
    after = content_probability(engine, PHRASE)

    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    assert 0 < logit(after) - logit(before) <= 2.0 + 1e-6


def test_an_operator_decision_outranks_user_reports_and_moves_records() -> None:
    engine = full_engine()
    established(engine, "bob", "ann")
    send(engine, "m1", "promo", ["bob", "ann"], "look https://fresh-news.biz/a", T0)
    report(engine, "s", "bob", "m1", ts=T0 + 60)
    trust.decide(engine, "m1", "ham", ts=T0 + 100)
    report(engine, "s2", "ann", "m1", ts=T0 + 120)  # after the operator: changes nothing
    state = engine.read_state([trust.Get("trust:msg:m1")])[0]
    assert trust.net(state) == -1.0 and "ann" not in state.get("spam", {})
    overturned = engine.read_state([trust.Count("trust:overturned:bob", 365 * DAY, DAY)])[0]
    assert overturned == 1.0
    probe = send(engine, "probe", "carol", ["dave"], "https://fresh-news.biz/x", T0 + 200)
    assert probe.action == "deliver"


def test_the_daily_cap_counts_reports_that_weighed_nothing() -> None:
    engine = full_engine(trust={"reporter_daily_cap": 3})
    established(engine, "flood")
    send(engine, "m1", "promo", ["flood"], "look https://fresh-news.biz/a", T0)
    for n in range(5):  # spent on messages it never received
        report(engine, f"x{n}", "flood", f"nothing{n}", ts=T0 + 10 + n)
    report(engine, "real", "flood", "m1", ts=T0 + 60)
    assert engine.read_state([trust.Get("trust:msg:m1")])[0] is None


# -- account profiles and sessions ---------------------------------------------------------

def test_a_quiet_login_days_before_does_not_make_the_intruder_familiar() -> None:
    engine = engine_with_history()
    engine.process(event(engine.config, type="login", id="quiet", ts=T0 - 2 * DAY,
                         account="alice", session="early", ip="203.0.113.7",
                         client={"id": "MobileFunster 2.1"}))
    verdicts = attack(engine)
    assert delivered_before_containment(verdicts) <= 3  # c9bcece: 20 of 20 delivered
    assert not any("FAMILIAR_SENDER" in {s.code for s in v.signals} for v in verdicts)


def friends_write_first(engine: Engine, kind: str, ts: float) -> None:
    """Two of alice's contacts write to her (or invite her) just before the harvester."""
    for i in (0, 1):
        engine.process(event(engine.config, type=kind, id=f"{kind}-{i}", ts=ts + i,
                             sender=f"alice-friend{i}", recipients=["alice"], text="hey you!"))


def test_friends_who_wrote_to_the_owner_do_not_make_the_harvester_a_conversation() -> None:
    quiet = engine_with_history()
    baseline = delivered_before_containment(attack(quiet, ip="198.51.100.20", count=12, text=BLAND))
    engine = engine_with_history()
    friends_write_first(engine, "message", T0 - 600)
    # From the owner's own network. c9bcece: 6 delivered before containment (3 now).
    verdicts = attack(engine, ip="198.51.100.20", count=12, text=BLAND)
    assert delivered_before_containment(verdicts) == baseline <= 4


def test_an_invitation_is_not_writing() -> None:
    quiet = engine_with_history()
    baseline = delivered_before_containment(attack(quiet, count=12, text=BLAND))
    engine = engine_with_history()
    friends_write_first(engine, "invite", T0 - 300)
    verdicts = attack(engine, count=12, text=BLAND)
    # c9bcece: 4 delivered before containment (1 now, as without the invitations)
    assert delivered_before_containment(verdicts) == baseline <= 3


def test_a_reply_counts_only_from_the_session_that_was_written_to() -> None:
    engine = engine_with_history()
    friends_write_first(engine, "message", T0 - 600)  # written to the owner's phone
    cfg = engine.config
    engine.process(event(cfg, type="login", id="evil-login", ts=T0, account="alice",
                         session="evil", ip="198.51.100.20", client={"id": "MobileFunster"}))
    for i in (0, 1):  # "answers" them: written before this session existed
        engine.process(message(cfg, f"re{i}", "alice", [f"alice-friend{i}"], f"yes {i}",
                               T0 + 5 + i, session="evil",
                               client={"id": "MobileFunster", "ip": "198.51.100.20"}))
    stored = engine.read_state([trust.Get(takeover_record.key("alice"))])[0]
    session = takeover_record.Record("alice", stored, DAY, DAY, DAY).session("evil", T0 + 7)
    assert session is not None and session["replies"] == 0


def test_containment_does_not_depend_on_where_an_active_friend_is_in_the_list() -> None:
    """The fourth send: alice writes to friend0..2 every day; the harvester's list order."""
    def delivered(order: list[int]) -> int:
        engine = engine_with_history()
        cfg = engine.config
        engine.process(event(cfg, type="login", id="evil-login", ts=T0, account="alice",
                             session="evil", ip="203.0.113.7", client={"id": "im-android"}))
        return delivered_before_containment([engine.process(message(
            cfg, f"s{n}", "alice", [f"alice-friend{i}"], "look at this http://bland.example/x",
            T0 + 10 + 3 * n, session="evil", client={"id": "im-android", "ip": "203.0.113.7"}))
            for n, i in enumerate(order)])

    dormant_first = delivered([10, 11, 12, 13, 14, 15, 16, 17])
    friend_among_first = delivered([10, 1, 12, 13, 14, 15, 16, 17])
    assert friend_among_first == dormant_first <= 3  # c9bcece: 4 delivered with the friend


def test_a_link_shared_with_close_friends_from_a_new_network_is_no_burst() -> None:
    engine = engine_with_history()
    phone = {"id": "im-android", "ip": "10.11.13.166"}
    verdicts = [send(engine, f"sh{i}", "alice", [f"alice-friend{i}"],
                     f"new post http://corner-bakery-news.net/p/{i}", T0 + i * 30,
                     session="travel", client=phone) for i in range(3)]
    assert not any("ACCOUNT_HIJACK_BURST" in {s.code for s in v.signals} for v in verdicts)


def test_signing_in_again_after_suspension_does_not_start_clean() -> None:
    engine = engine_with_history()
    attack(engine)
    cfg = engine.config
    engine.process(event(cfg, type="login", id="again", ts=T0 + 400, account="alice",
                         session="evil-2", ip="203.0.113.99", client={"id": "MobileFunster 2.2"}))
    more = [engine.process(message(cfg, f"again{i}", "alice", [f"alice-friend{30 + i}"],
                                   BLAND.format(i=i), T0 + 410 + i * 3, session="evil-2",
                                   client={"id": "MobileFunster 2.2", "ip": "203.0.113.99"}))
            for i in range(8)]
    assert delivered_before_containment(more) == 0  # c9bcece: 2 of 8 delivered
    # The owner's own phone, at home, keeps working.
    own = engine.process(message(cfg, "own", "alice", ["alice-friend1"], "that wasn't me",
                                 T0 + 500, session="phone",
                                 client={"id": "im-android", "ip": "198.51.100.20"}))
    assert own.action == "deliver"


def test_an_owner_session_live_before_the_incident_does_not_inherit_it() -> None:
    """The owner's phone on a network it never proved, signed in before the intruder (who
    spoofs the same official app): the owner keeps chatting."""
    engine = engine_with_history()
    cfg = engine.config
    engine.process(event(cfg, type="login", id="mobile", ts=T0 - 100, account="alice",
                         session="mobile", ip="10.8.1.5", client={"id": "im-android"}))
    verdicts = attack(engine, client="im-android", ip="203.0.113.9")
    assert any(v.account_action.action == "suspend_sending" for v in verdicts)
    own = engine.process(message(cfg, "own", "alice", ["alice-friend1"], "call me later?",
                                 T0 + 300, session="mobile",
                                 client={"id": "im-android", "ip": "10.8.1.5"}))
    assert own.action == "deliver"


def test_a_network_the_owner_proved_during_the_session_stops_counting_as_new() -> None:
    """The owner's phone network, signed in yesterday evening and answering its friends,
    signed in this morning (a day had not passed yet); by the afternoon it has. Answering
    friends who wrote to it first is what proves it, each reply a use (session 25: three
    lines nobody answered, from a fresh session each, were the seller's warm-up of its own
    network)."""
    engine = engine_with_history()
    cfg = engine.config
    phone = {"id": "im-android", "ip": "10.11.13.166"}
    engine.process(event(cfg, type="login", id="evening", ts=T0 - 16 * 3600 - 60,
                         account="alice", session="eve", ip=phone["ip"],
                         client={"id": "im-android"}))
    answers = ("sure, 8?", "yes! see you there", "haha no way")
    for i in range(3):
        engine.process(message(cfg, f"ask{i}", f"alice-friend{i}", ["alice"], f"free at {i}?",
                               T0 - 16 * 3600 + 60 * i, session=f"f{i}",
                               client={"id": "im-ios", "ip": f"100.70.{i}.3"}))
        engine.process(message(cfg, f"eve{i}", "alice", [f"alice-friend{i}"], answers[i],
                               T0 - 16 * 3600 + 60 * i + 30, session="eve", client=phone))
    engine.process(event(cfg, type="login", id="morning", ts=T0, account="alice",
                         session="day", ip=phone["ip"], client={"id": "im-android"}))
    shared = [engine.process(message(cfg, f"share{i}", "alice", [f"alice-friend{20 + i}"],
                                     "omg look https://www.youtube.com/watch?v=1",
                                     T0 + 9 * 3600 + i * 20, session="day", client=phone))
              for i in range(5)]
    assert all(v.account_action.action == "none" for v in shared)
    assert all(v.action in ("deliver", "warn") for v in shared)


# -- day one: no history ---------------------------------------------------------------------

def day_one(owner_live: bool, told: bool = False) -> list[Verdict]:
    engine = open_engine(config(official_clients=OFFICIAL))
    cfg = engine.config
    friends = [f"alice-friend{i}" for i in range(60)]
    engine.process(event(cfg, type="contacts", id="c", ts=T0 - 3600, account="alice",
                         contacts=friends))
    if told:
        engine.process(event(cfg, type="account", id="facts", ts=T0 - 3600, account="alice",
                             created=T0 - 400 * DAY, networks=["198.51.100.0/24"],
                             clients=["im-android"]))
    if owner_live:
        engine.process(event(cfg, type="login", id="own", ts=T0 - 1800, account="alice",
                             session="phone", ip="198.51.100.20", client={"id": "im-android"}))
        engine.process(message(cfg, "own-m", "alice", ["alice-friend0"], "morning!",
                               T0 - 1700, session="phone",
                               client={"id": "im-android", "ip": "198.51.100.20"}))
    return attack(engine, count=12)


def test_day_one_a_second_session_on_another_network_is_contained() -> None:
    assert delivered_before_containment(day_one(owner_live=True)) <= 3  # c9bcece: 12 of 12


def test_day_one_the_account_event_bootstraps_the_profile() -> None:
    assert delivered_before_containment(day_one(owner_live=False, told=True)) <= 3
    # Without it and with the owner offline, nothing relative to go on (documented).


# -- Matrix: which session sent it -----------------------------------------------------------

def test_matrix_signing_in_does_not_move_the_intruder_off_its_suspension() -> None:
    """Synapse does not say which device sent an event: the owner's new sign-in must not
    turn the intruder's still-valid token into the owner's familiar session."""
    import time

    from spimguard.server.matrix import MatrixBridge
    from spimguard.server.metrics import Metrics

    engine = open_engine(config(official_clients=["Element"],
                                matrix={"enabled": True, "token": "t"}))
    bridge = MatrixBridge(engine, engine.config.matrix, Metrics())
    cfg, now = engine.config, time.time()
    friends = [f"friend{i}" for i in range(20)]
    for i, friend in enumerate(friends):  # each friend's chat with alice, which she accepted
        bridge.join(friend, f"!r{i}", invited=False)
        assert bridge.invite(friend, "alice", f"!r{i}").action == "deliver"
        bridge.join("alice", f"!r{i}", invited=True)
    for day in range(10):  # ten days of chat from home
        for i in range(3):
            engine.process(message(cfg, f"h{day}-{i}", "alice", [friends[i]], f"ok {i}",
                                   now - (10 - day) * DAY + i, session="PHONE",
                                   client={"id": "Element", "ip": "198.51.100.20"}))

    def sign_in(device: str, agent: str, ip: str) -> None:
        bridge.login({"user_id": "alice", "device_id": device, "request_info": [[agent, ip]]})

    def send(n: int, room: int) -> str:
        verdict = bridge.event({"event": {
            "type": "m.room.message", "sender": "alice", "room_id": f"!r{room}",
            "event_id": f"$e{n}", "origin_server_ts": int((time.time() + n) * 1000),
            "content": {"body": f"have a look http://bland.example/x?{n}"}}})
        assert verdict is not None
        return verdict.action

    sign_in("EVIL", "MobileFunster/2.1", "203.0.113.7")
    actions = [send(n, 5 + n) for n in range(8)]
    assert actions[-1] == "hold"
    sign_in("PHONE2", "Element/1.11.85", "198.51.100.20")  # the owner, from home
    assert "sessions" in engine.account("alice")["restrictions"]
    assert [send(100 + n, 14 + n) for n in range(2)] == ["hold", "hold"]  # c9bcece: 2 of 2 through


# -- the simulator's adversarial scenario --------------------------------------------------

def test_adversarial_scenario_at_scale() -> None:
    """Every attack at once on a small network: no trap held, every intruder contained."""
    from typer.testing import CliRunner

    from spimguard.cli import app

    required = ["trap_poisoned-domain_stopped_share<=0", "trap_poisoned-phrase_stopped_share<=0",
                "trap_club-notice_stopped_share<=0.05", "adversarial_spim_stopped_share>=0.9",
                "adversarial_never_contained<=0", "adversarial_delivered_p90<=3",
                "life_ham_stopped_share<=0.002", "innocents_actioned<=0"]
    result = CliRunner().invoke(app, [
        "simulate", "--scenario", "adversarial", "--users", "200", "--days", "3", "--seed", "3",
        *(a for r in required for a in ("--require", r))])
    assert result.exit_code == 0, result.output

"""Red team of the owner's challenge (issue 20): what a spammer who read the code tries.

An intruder holding only the password cannot pass a second factor, but it chooses its
session ids, networks, timing and recipients; a bot holds its own accounts and passes
its own challenges; a hijacker can wait for the owner to pass. Each test asserts the
behaviour wanted and fails if the defence it pins is taken out.
"""

from __future__ import annotations

from typing import Any

import msgspec

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.engine import Engine
from spimguard.events import decode_event
from spimguard.server.challenges import after_challenges
from spimguard.server.console.memory import MemoryConsole
from test_redteam_owner import SCAM, actions
from test_takeover import OFFICIAL, attack, delivered_before_containment, live_a_month, mutual

HOME, EVIL = "198.51.100.20", "203.0.113.9"


def _owner(account: str = "alice") -> Engine:
    """A month of ordinary life from home, 60 contacts who list the account back."""
    judge = open_engine(config(official_clients=OFFICIAL, api_token="tok"))
    live_a_month(judge, account, ip=HOME)
    mutual(judge, account)
    return judge


def _pass(judge: Engine, console: MemoryConsole, session: str, ts: float,
          account: str = "alice", passed: bool = True) -> list[str]:
    """The IM server's ``challenge`` event, as ``/v1/events`` handles it: judged, then the
    releases it vouches for queued; the ids of what it released."""
    body = {"type": "challenge", "id": f"ch-{session}-{ts}", "ts": ts, "account": account,
            "session": session, "passed": passed}
    answer = decode_event(msgspec.json.encode(body), judge.config.limits)
    before = len(console.releases(0, 100_000))
    after_challenges(judge, console, [answer], [judge.process(answer)], [True])
    return [r.message_id for r in console.releases(0, 100_000)[before:]]


def _login(judge: Engine, session: str, ip: str, ts: float, account: str = "alice",
           client: str = "im-android") -> Any:
    return judge.process(event(judge.config, type="login", id=f"login-{session}-{ts}", ts=ts,
                        account=account, session=session, ip=ip, client={"id": client}))


def _sealed(judge: Engine, session: str, ip: str, friends: range, start: float,
            gap: float = 3.0, account: str = "alice") -> list[Any]:
    """One encrypted message of one size to each friend in turn: a burst the server sees
    only as metadata (held on doubt about the session alone)."""
    return [judge.process(event(judge.config, type="message", id=f"{session}-{start}-{i}",
                                sender=account, recipients=[f"{account}-friend{i}"],
                                ts=start + n * gap, encrypted=True, size=300, session=session,
                                client={"id": "im-android", "ip": ip}))
            for n, i in enumerate(friends)]


# -- (c) a hijacker waiting for the owner's pass ---------------------------------------------
def test_the_owners_pass_releases_nothing_the_intruder_sent_under_the_same_session_id() -> None:
    """Session ids are the client's choice (an XMPP resource, a Matrix device id), and
    signing in under one replaces whoever held it. The intruder signs in as the owner's
    phone ("phone") from its own network and bursts, held on doubt; the owner's phone
    signs in again under its id from home, is challenged and passes. The pass proves who
    holds the session now, since that sign-in: not who sent what before it."""
    judge, console = _owner(), MemoryConsole()
    _login(judge, "phone", EVIL, T0)
    held = [v.id for v in _sealed(judge, "phone", EVIL, range(3, 30), T0 + 10)
            if v.action == "hold"]
    assert held
    _login(judge, "phone", HOME, T0 + 300)
    assert _pass(judge, console, "phone", T0 + 400) == []


def test_the_owner_passing_after_its_own_sign_in_still_gets_its_holds_released() -> None:
    """The other side of the test above: the owner's phone signs in on a new network,
    bursts (held on doubt), passes: what it sent since that sign-in is released."""
    judge, console = _owner(), MemoryConsole()
    _login(judge, "mobile", "100.70.8.9", T0)
    held = [v.id for v in _sealed(judge, "mobile", "100.70.8.9", range(3, 30), T0 + 10)
            if v.action == "hold"]
    assert held
    assert _pass(judge, console, "mobile", T0 + 400) == held


def test_a_late_pass_proves_nothing_of_whoever_signed_in_under_the_id_since() -> None:
    """The owner's phone on a new network is held and passes; the intruder signs in under
    the phone's session id a minute after the pass, and the IM server's report of the pass
    reaches spimguard only after that sign-in (a retried batch, a slow queue). The pass
    proves the session as the challenge found it: it releases the owner's holds, and the
    intruder's burst under the id is still contained."""
    judge, console = _owner(), MemoryConsole()
    _login(judge, "mobile", "100.70.8.9", T0)
    assert any(v.action == "hold" for v in _sealed(judge, "mobile", "100.70.8.9",
                                                   range(3, 20), T0 + 10))
    _login(judge, "mobile", EVIL, T0 + 300)
    assert _pass(judge, console, "mobile", T0 + 200)
    burst = _sealed(judge, "mobile", EVIL, range(20, 50), T0 + 310)
    assert delivered_before_containment(burst) <= 3, actions(burst)


def test_the_owners_pass_keeps_the_intruders_incident_for_its_next_session() -> None:
    """The owner passes on its phone while the intruder's session is suspended: the pass
    drops the phone's own incident, never the intruder's, so the intruder signing in again
    from its network (another session id, a fresh burst budget) is suspended from its
    sign-in (INCIDENT_INHERITED)."""
    judge, console = _owner(), MemoryConsole()
    _login(judge, "evil", EVIL, T0)
    first = _sealed(judge, "evil", EVIL, range(3, 20), T0 + 10)
    assert first[-1].account_action.action == "suspend_sending"
    assert _pass(judge, console, "phone", T0 + 300) == []
    signed_in = _login(judge, "evil2", EVIL, T0 + 400)
    assert "INCIDENT_INHERITED" in {s.code for s in signed_in.signals}
    again = _sealed(judge, "evil2", EVIL, range(20, 26), T0 + 410)
    assert all(v.action == "hold" for v in again), actions(again)


def test_a_pass_of_the_account_releases_nothing_held_in_a_session() -> None:
    """A challenge event without a session (the account's messages sent without one)
    proves no session: the intruder's session's holds stay held."""
    judge, console = _owner(), MemoryConsole()
    _login(judge, "evil", EVIL, T0)
    assert any(v.action == "hold" for v in _sealed(judge, "evil", EVIL, range(3, 20), T0 + 10))
    assert _pass(judge, console, "", T0 + 300) == []


def test_a_pass_of_the_account_releases_nothing_sent_without_a_session() -> None:
    """The account's sender without a session failed its challenge: the account is
    suspended and what is sent without a session is held. The owner then answers a
    challenge of the account (no session either) and passes: that names no sender, and
    the messages held without a session (the intruder's) stay held."""
    judge, console = _owner(), MemoryConsole()
    assert _pass(judge, console, "", T0, passed=False) == []
    bare = [judge.process(message(judge.config, f"bare{i}", "alice", [f"alice-friend{i}"],
                                  "hey, are you around?", T0 + 60 + i,
                                  client={"id": "MobileFunster 2.1", "ip": EVIL}))
            for i in range(3, 8)]
    assert all(v.action == "hold" for v in bare), actions(bare)
    assert _pass(judge, console, "", T0 + 300) == []


# -- (b) a bot that passes its own challenges ------------------------------------------------
def test_a_pass_releases_nothing_the_words_held() -> None:
    """A session that passes (a bot holds its account; an owner may approve a prompt it
    did not ask for) gets back only what doubt about the session held: a scam burst is
    held on its words as well, and stays held."""
    judge, console = _owner(), MemoryConsole()
    _login(judge, "evil", EVIL, T0)
    verdicts = [judge.process(message(judge.config, f"scam{i}", "alice", [f"alice-friend{i}"],
                                      SCAM.format(i=i), T0 + 10 + i * 3, session="evil",
                                      client={"id": "im-android", "ip": EVIL}))
                for i in range(3, 20)]
    assert all(v.action in ("hold", "block") for v in verdicts), actions(verdicts)
    assert _pass(judge, console, "evil", T0 + 300) == []


def test_a_bot_passing_its_own_challenge_on_its_first_day_is_no_familiar_sender() -> None:
    """A bot's first day: its targets on its own contact list, twenty bland lines from one
    network, a second network's session bursting to the list (held on doubt, challenged),
    which the bot passes. The pass proves the session the holder's, which for a throwaway
    account says nothing for it: its scam to its list must stay held, as it is from its
    first network that day (the owner's usual app and network is a month's habit, not a
    pass)."""
    judge, console = open_engine(config(official_clients=OFFICIAL, api_token="tok")), \
        MemoryConsole()
    cfg = judge.config
    marks = [f"mark{i}" for i in range(60)]
    judge.process(event(cfg, type="contacts", id="bot-c", ts=T0 - 3600, account="bot",
                        contacts=marks))
    _login(judge, "s1", "198.18.0.1", T0 - 3000, account="bot")
    for i in range(20):
        judge.process(message(cfg, f"hello{i}", "bot", [marks[i]], "hello, how are you?",
                              T0 - 2900 + i * 60, session="s1",
                              client={"id": "im-android", "ip": "198.18.0.1"}))
    _login(judge, "s2", "198.19.5.1", T0 - 100, account="bot")
    burst = [judge.process(event(cfg, type="message", id=f"e{i}", sender="bot",
                                 recipients=[marks[i]], ts=T0 + i, encrypted=True, size=300,
                                 session="s2", client={"id": "im-android", "ip": "198.19.5.1"}))
             for i in range(20, 30)]
    assert any(v.action == "hold" for v in burst)
    _pass(judge, console, "s2", T0 + 300, account="bot")
    scam = [judge.process(message(cfg, f"scam{i}", "bot", [marks[i]], SCAM.format(i=i),
                                  T0 + 400 + i * 60, session="s2",
                                  client={"id": "im-android", "ip": "198.19.5.1"}))
            for i in range(30, 50)]
    assert all(v.action in ("hold", "block") for v in scam), actions(scam)
    assert not any("FAMILIAR_SENDER" in {s.code for s in v.signals} for v in scam)


# -- (e) one-way ties ------------------------------------------------------------------------
def test_an_intruders_warm_up_does_not_turn_dormant_ties_active() -> None:
    """The intruder writes one bland line to each contact the day before, each from a
    session of its own (one recipient a session never bursts), all delivered. Those lines
    are not the account's own writing: the contacts stay dormant ties, and its burst from
    one session the next day is contained as it would be without the warm-up."""
    judge = _owner("dave")
    cfg = judge.config
    for i in range(3, 60):
        ts = T0 - 86_400 + i * 600
        _login(judge, f"w{i}", EVIL, ts, account="dave")
        judge.process(message(cfg, f"warm{i}", "dave", [f"dave-friend{i}"],
                              "hey, how are you doing?", ts + 5, session=f"w{i}",
                              client={"id": "im-android", "ip": EVIL}))
    _login(judge, "evil", EVIL, T0, account="dave")
    burst = _sealed(judge, "evil", EVIL, range(3, 60), T0 + 10, account="dave")
    assert delivered_before_containment(burst) <= 3, actions(burst)
    assert all(v.action == "hold" for v in burst[3:]), actions(burst)


# -- (a) an intruder choosing its sessions ---------------------------------------------------
def test_an_intruder_signing_in_anew_for_every_message_is_contained() -> None:
    """Session ids and sign-ins are the intruder's choice: a new session for every message,
    from its own network, each writing to one dormant tie. It is one actor whatever ids it
    mints: the burst counts over the account's sessions nothing proves the owner's."""
    judge = _owner("dave")
    verdicts = []
    for i in range(3, 40):
        _login(judge, f"s{i}", EVIL, T0 + i * 20, account="dave")
        verdicts += _sealed(judge, f"s{i}", EVIL, range(i, i + 1), T0 + i * 20 + 5,
                            account="dave")
    assert delivered_before_containment(verdicts) <= 6, actions(verdicts)
    # Each session wrote to one contact: the burst's detail says whose count it is.
    details = [s.detail for s in verdicts[-1].signals if s.code == "ACCOUNT_HIJACK_BURST"]
    assert details and "with other sessions of the account nothing proves the owner's, " \
        "wrote to" in details[0], verdicts[-1].signals


def test_an_intruder_writing_without_a_session_is_contained() -> None:
    """``session`` is optional in the contract: messages without one, from a new app on a
    new network, burst down the list; the app and network stand in for the session."""
    judge = _owner("dave")
    verdicts = [judge.process(event(judge.config, type="message", id=f"bare{i}", sender="dave",
                                    recipients=[f"dave-friend{i}"], ts=T0 + 10 + i * 3,
                                    encrypted=True, size=300,
                                    client={"id": "MobileFunster 2.1", "ip": EVIL}))
                for i in range(3, 40)]
    assert delivered_before_containment(verdicts) <= 6, actions(verdicts)


def test_the_owner_answering_a_friend_during_the_intruders_burst_is_not_held() -> None:
    """The burst over the account's unproven sessions is the intruder's, whatever its ids;
    the owner's phone, on a new network and not yet proven, answering a friend who just
    wrote to it is a conversation, which no intruder can start: it neither joins that
    burst nor is held for it."""
    judge = _owner("dave")
    cfg = judge.config
    _login(judge, "mobile", "100.70.8.9", T0 - 60, account="dave")
    burst = attack(judge, "dave")
    assert delivered_before_containment(burst) <= 3, actions(burst)
    judge.process(message(cfg, "ask", "dave-friend50", ["dave"], "are you coming tonight?",
                          T0 + 80))
    answer = judge.process(message(cfg, "answer", "dave", ["dave-friend50"],
                                   "yes, see you at eight", T0 + 100, session="mobile",
                                   client={"id": "im-android", "ip": "100.70.8.9"}))
    assert answer.action in ("deliver", "warn"), answer

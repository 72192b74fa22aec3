"""The owner's challenge: the IM server's ``challenge`` event, what a hold on doubt asks
for, and what a pass releases (and what it never does)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.engine import Engine
from spimguard.errors import BadInput
from spimguard.events import Limits, decode_batch, decode_event
from spimguard.server import create_app
from spimguard.server.console.memory import MemoryConsole
from test_console import _client
from test_takeover import OFFICIAL, live_a_month

API = {"Authorization": "Bearer tok"}
HOME, MOBILE, HOSTING = "198.51.100.20", "10.8.0.2", "203.0.113.7"
NEW_NUMBER = "Hi everyone, this is my new number: 07700 900007. Please save it!"


def _engine() -> Engine:
    judge = open_engine(config(official_clients=OFFICIAL, api_token="tok"))
    live_a_month(judge, "alice", ip=HOME)
    return judge


def _challenge(session: str, passed: bool, id: str = "ch1", ts: float = T0 + 600,
               account: str = "alice") -> dict[str, Any]:
    return {"type": "challenge", "id": id, "ts": ts, "account": account, "session": session,
            "passed": passed}


def _announce(judge: Engine, session: str, ip: str, count: int, client: str = "im-android",
              start: int = 0, encrypted: bool = True) -> list[Any]:
    """One message to each contact in turn (one size of ciphertext, or one text)."""
    cfg, out = judge.config, []
    for i in range(start, start + count):
        body: dict[str, Any] = {"encrypted": True, "size": 300} if encrypted else {
            "text": NEW_NUMBER}
        out.append(judge.process(event(cfg, type="message", id=f"{session}-{i}",
                                       sender="alice", recipients=[f"alice-friend{i}"],
                                       ts=T0 + 10 + i, session=session,
                                       client={"id": client, "ip": ip}, **body)))
    return out


def _intruder(judge: Engine, count: int, start: int = 0) -> list[Any]:
    """The intruder's own software on a hosting network, under session ``evil``."""
    return _announce(judge, "evil", HOSTING, count, client="MobileFunster 2.1", start=start)


def _api(judge: Engine) -> tuple[TestClient, MemoryConsole]:
    """The HTTP API (the IM server's side) and the console store it audits to."""
    console = MemoryConsole()
    return TestClient(create_app(judge, console)), console


def _held(verdicts: list[Any]) -> list[str]:
    return [v.id for v in verdicts if v.action == "hold"]


# -- the event -------------------------------------------------------------------------------
def test_a_challenge_event_is_validated_like_the_others() -> None:
    limits = Limits()
    got = decode_event(msgspec.json.encode(_challenge("phone", True)), limits)
    assert got.passed and got.session == "phone" and got.account == "alice"
    assert decode_event(msgspec.json.encode({**_challenge("", False)}), limits).account
    for broken, field in (({"passed": "yes"}, "passed"), ({"account": ""}, "account"),
                          ({"session": "s" * 600}, "session"), ({"ts": "yesterday"}, "ts")):
        with pytest.raises(BadInput) as info:
            decode_event(msgspec.json.encode({**_challenge("phone", True), **broken}), limits)
        assert info.value.field == field and info.value.status == 422
    body = _challenge("phone", True)
    del body["passed"]
    with pytest.raises(BadInput) as info:  # a batch names the event and the field
        decode_batch(msgspec.json.encode({"events": [body]}), limits)
    assert info.value.field == "events[0].passed"


# -- what a hold asks for --------------------------------------------------------------------
def test_a_hold_on_doubt_about_the_session_asks_the_owner_s_challenge() -> None:
    """The owner's phone on a network the account never wrote from, announcing in the clear
    with no list read and no link: held on the burst alone (``ACCOUNT_BURST_UNPITCHED``, no
    account-level evidence), which only the owner can answer: a challenge of that session."""
    judge = _engine()
    verdicts = _announce(judge, "mobile", MOBILE, 12, encrypted=False)
    held = [v for v in verdicts if v.action == "hold"]
    assert held and all(v.account_action.action == "challenge" for v in held)
    assert {v.account_action.session for v in held} == {"mobile"}
    assert "ACCOUNT_BURST_UNPITCHED" in {s.code for s in held[0].signals}
    # A throwaway account writing encrypted messages to strangers is held as a newcomer,
    # which its holder's challenge would not answer (it passes its own): no challenge.
    cfg = judge.config
    bot = [judge.process(event(cfg, type="message", id=f"b{i}", sender="bot",
                               recipients=[f"stranger{i}"], ts=T0 + i * 10, encrypted=True,
                               size=240)) for i in range(8)]
    assert _held(bot) and all(v.account_action.action == "none" for v in bot)


# -- what a pass releases, through the API ---------------------------------------------------
def test_a_passed_challenge_releases_the_session_s_holds_and_proves_it() -> None:
    judge = _engine()
    client = TestClient(create_app(judge, MemoryConsole()))
    held = _held(_announce(judge, "mobile", MOBILE, 20))
    assert held
    # Only the API token's holder (the IM server) speaks for the challenge: an intruder
    # calling the API itself is refused and changes nothing.
    forged = client.post("/v1/events", json={"events": [_challenge("mobile", True)]},
                         headers={"Authorization": "Bearer guessed"})
    assert forged.status_code == 401
    assert client.get("/v1/releases", headers=API).json()["releases"] == []
    assert judge.account("alice")["restrictions"]
    answer = client.post("/v1/events", json={"events": [_challenge("mobile", True)]},
                         headers=API)
    assert answer.status_code == 200
    assert answer.json()["results"][0]["signals"][0]["code"] == "CHALLENGE_PASSED"
    feed = client.get("/v1/releases", headers=API).json()["releases"]
    assert [r["message_id"] for r in feed] == held
    assert {r["released_by"] for r in feed} == {"challenge"}
    assert {r["sender"] for r in feed} == {"alice"}
    assert not judge.account("alice")["restrictions"]
    # The same event again: the same answer, nothing released twice.
    again = client.post("/v1/events", json={"events": [_challenge("mobile", True)]},
                        headers=API)
    assert again.json() == answer.json()
    assert len(client.get("/v1/releases", headers=API).json()["releases"]) == len(held)
    # The session is the owner's now: the rest of the announcement goes through.
    later = _announce(judge, "mobile", MOBILE, 20, start=20)
    assert all(v.action in ("deliver", "warn") for v in later)


def test_a_challenge_s_outcome_is_in_the_console_s_audit_log_escaped() -> None:
    """Where an operator's releases and restores are: who (the challenge), which account
    and session, passed, how many released, what is left; once for a retried event, and
    the session id (the client's choice: hostile) inert on the page."""
    judge = _engine()
    client, store = _client(judge)
    session = "<img src=x onerror=alert(1)>"
    held = _held(_announce(judge, session, MOBILE, 20))
    assert held
    for _ in range(2):
        client.post("/v1/events", json={"events": [_challenge(session, True)]}, headers=API)
    [entry] = store.audit_log(action_prefix="challenge.")
    assert (entry.operator, entry.action, entry.target) == (
        "(challenge)", "challenge.passed", "alice")
    assert entry.detail == (f"session {session!r}: passed; {len(held)} held message(s) "
                            "released; restrictions in force afterwards: none")
    page = client.get("/console/audit").text
    assert session not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_failed_challenge_releases_nothing_and_suspends_the_session() -> None:
    judge = _engine()
    client, console = _api(judge)
    assert _held(_intruder(judge, 12))
    answer = client.post("/v1/events", json={"events": [_challenge("evil", False)]},
                         headers=API).json()["results"][0]
    assert answer["signals"][0]["code"] == "CHALLENGE_FAILED"
    assert answer["account_action"]["action"] == "suspend_sending"
    assert answer["account_action"]["session"] == "evil"
    assert client.get("/v1/releases", headers=API).json()["releases"] == []
    assert [(e.action, e.target, e.detail) for e in console.audit_log()] == [(
        "challenge.failed", "alice",
        "session 'evil': failed; account action: suspend_sending (session 'evil')")]
    later = _intruder(judge, 3, start=12)
    assert all(v.action == "hold" for v in later)


def test_the_owner_passing_on_its_phone_releases_nothing_of_the_intruder_s_session() -> None:
    judge = _engine()
    client, console = _api(judge)
    assert _held(_intruder(judge, 12))
    answer = client.post("/v1/events", json={"events": [_challenge("phone", True)]},
                         headers=API)
    assert answer.json()["results"][0]["signals"][0]["code"] == "CHALLENGE_PASSED"
    assert client.get("/v1/releases", headers=API).json()["releases"] == []
    assert console.audit_log()[0].detail == (  # what the pass leaves, for the operator
        "session 'phone': passed; 0 held message(s) released; restrictions in force "
        "afterwards: suspension of session 'evil'")
    later = _intruder(judge, 3, start=12)
    assert all(v.action == "hold" for v in later)  # its own suspension stays
    own = judge.process(message(judge.config, "own", "alice", ["alice-friend1"], "sorry!",
                                T0 + 700, session="phone",
                                client={"id": "im-android", "ip": HOME}))
    assert own.action == "deliver"


def test_a_bot_passing_its_own_challenge_gets_nothing_released() -> None:
    """A pass answers doubt about the session only; a newcomer's holds are other evidence."""
    judge = open_engine(config(official_clients=OFFICIAL, api_token="tok"))
    client = TestClient(create_app(judge, MemoryConsole()))
    cfg = judge.config
    judge.process(event(cfg, type="login", id="bot-in", ts=T0, account="bot", session="bot",
                        ip=HOSTING, client={"id": "bulkbot"}))
    verdicts = [judge.process(event(cfg, type="message", id=f"b{i}", sender="bot",
                                    recipients=[f"stranger{i}"], ts=T0 + 10 + i * 10,
                                    session="bot", client={"id": "bulkbot", "ip": HOSTING},
                                    encrypted=True, size=240)) for i in range(10)]
    assert _held(verdicts)
    answer = client.post("/v1/events", json={"events": [_challenge("bot", True,
                                                                   account="bot")]},
                         headers=API)
    assert answer.json()["results"][0]["signals"][0]["code"] == "CHALLENGE_PASSED"
    assert client.get("/v1/releases", headers=API).json()["releases"] == []


# -- the platform's device verification: a pass nobody asked for ------------------------------
def _sign_in(judge: Engine, session: str, ip: str, ts: float, client: str = "im-android",
             account: str = "alice") -> Any:
    return judge.process(event(judge.config, type="login", id=f"in-{account}-{session}-{ts}", ts=ts,
                        account=account, session=session, ip=ip, client={"id": client}))


def _codes(verdicts: list[Any]) -> set[str]:
    return {s.code for v in verdicts for s in v.signals}


def test_a_device_verified_at_sign_in_is_the_owner_s_before_its_first_message() -> None:
    """Matrix cross-signing, a linked device approved from the phone: the IM server reports
    the sign-in's verification as a passed challenge, unasked, before the session sends a
    word. The owner's phone on a network it never wrote from then announces its new number
    (encrypted: nobody can say it has no link) like the owner it is: nothing held, so
    nothing to release, and the audit log has the pass and nothing more. Unverified, the
    same announcement is the spoofing intruder's burst in metadata, and held."""
    unverified = _engine()
    _sign_in(unverified, "mobile", MOBILE, T0 - 600)
    assert _held(_announce(unverified, "mobile", MOBILE, 20))
    judge = _engine()
    client, console = _api(judge)
    _sign_in(judge, "mobile", MOBILE, T0 - 600)
    answer = client.post("/v1/events", json={"events": [_challenge("mobile", True,
                                                                   ts=T0 - 540)]}, headers=API)
    assert answer.json()["results"][0]["account_action"]["action"] == "none"
    verdicts = _announce(judge, "mobile", MOBILE, 20)
    assert {v.action for v in verdicts} == {"deliver"}
    assert not {"SESSION_UNFAMILIAR", "ACCOUNT_HIJACK_BURST", "SEALED_BULK"} & _codes(verdicts)
    assert all(v.account_action.action == "none" for v in verdicts)
    assert client.get("/v1/releases", headers=API).json()["releases"] == []
    assert [(e.action, e.detail) for e in console.audit_log()] == [(
        "challenge.passed", "session 'mobile': passed; 0 held message(s) released; "
        "restrictions in force afterwards: none")]
    assert not judge.account("alice")["restrictions"]


def test_a_verification_belongs_to_its_sign_in_not_to_the_next_one_under_the_id() -> None:
    """A session id is the client's choice: an intruder signing in under the verified
    device's id, from its own network with the official app's id, starts unproven and its
    burst is held and challenged, as if the owner's device had never been verified."""
    judge = _engine()
    _sign_in(judge, "mobile", MOBILE, T0 - 600)
    judge.process(decode_event(msgspec.json.encode(_challenge("mobile", True, ts=T0 - 540)),
                               judge.config.limits))
    _sign_in(judge, "mobile", HOSTING, T0 - 300)
    verdicts = _announce(judge, "mobile", HOSTING, 12)
    assert _held(verdicts) and "SESSION_UNFAMILIAR" in _codes(verdicts)
    assert {v.account_action.action for v in verdicts} & {"challenge", "suspend_sending"}
    assert {v.account_action.session for v in verdicts} - {""} == {"mobile"}


def test_a_bot_verifying_its_own_throwaway_earns_nothing_by_it() -> None:
    """A throwaway's holder can approve its second device itself: the pass proves the
    holder, which it is, and an account with no history is owed nothing for it (no
    FAMILIAR_SENDER, no OWNER_CONSISTENT): every verdict is the one it gets unverified."""
    def bot(verified: bool) -> list[Any]:
        judge = open_engine(config(official_clients=OFFICIAL, api_token="tok"))
        cfg = judge.config
        friends = [f"mark{i}" for i in range(10)]
        judge.process(event(cfg, type="contacts", id="bc", ts=T0 - 60, account="bot",
                            contacts=friends))
        _sign_in(judge, "bot", HOSTING, T0, account="bot")
        if verified:
            judge.process(decode_event(msgspec.json.encode(_challenge(
                "bot", True, ts=T0 + 30, account="bot")), cfg.limits))
        out = []
        for i in range(20):
            to = friends[i // 2] if i % 2 else f"stranger{i}"
            body: dict[str, Any] = {"encrypted": True, "size": 300} if i % 3 else {
                "text": f"Hi! Cheap ringtones at http://tonez-club.biz/r{i}"}
            out.append(judge.process(event(cfg, type="message", id=f"b{i}", sender="bot",
                                           recipients=[to], ts=T0 + 60 + i * 20,
                                           session="bot",
                                           client={"id": "im-android", "ip": HOSTING}, **body)))
        return out

    plain, verified = bot(False), bot(True)
    assert _held(plain)
    assert [(v.action, sorted(_codes([v]))) for v in verified] == [
        (v.action, sorted(_codes([v]))) for v in plain]
    assert not {"FAMILIAR_SENDER", "OWNER_CONSISTENT"} & _codes(verified)


def test_the_owner_s_proven_device_is_no_heir_of_the_intruder_s_incident() -> None:
    """An intruder claiming the official app's id is suspended; the owner's new phone, on a
    new network with that same app, shares the incident's app family, which makes an
    unproven new session its heir. Verified at sign-in (or once it passes the challenge its
    inheritance asked for), the session is the owner's: it writes to its friends, and the
    intruder's session stays suspended."""
    judge = _engine()
    cfg = judge.config
    assert _held(_announce(judge, "evil", HOSTING, 12))
    failed = judge.process(decode_event(msgspec.json.encode(_challenge(
        "evil", False, id="f", ts=T0 + 200)), cfg.limits))
    assert failed.account_action.action == "suspend_sending"

    def chat(session: str, ts: float) -> Any:
        return judge.process(message(cfg, f"{session}-{ts}", "alice", ["alice-friend1"],
                                     "hi, it's me on my new phone", ts, session=session,
                                     client={"id": "im-android", "ip": MOBILE}))

    def passes(session: str, ts: float) -> None:
        judge.process(decode_event(msgspec.json.encode(_challenge(
            session, True, id=f"p-{session}", ts=ts)), cfg.limits))

    inherited = _sign_in(judge, "tablet", MOBILE, T0 + 900)  # unproven: the incident's heir
    assert "INCIDENT_INHERITED" in _codes([inherited])
    assert inherited.account_action.action == "suspend_sending"
    assert chat("tablet", T0 + 950).action == "hold"
    passes("tablet", T0 + 1000)  # the challenge its inheritance asked: the pass sticks
    assert [chat("tablet", T0 + 1050 + i).action for i in range(3)] == ["deliver"] * 3
    _sign_in(judge, "phone-2", MOBILE, T0 + 1100)
    passes("phone-2", T0 + 1140)  # verified at sign-in, before its first message
    verdicts = [chat("phone-2", T0 + 1200 + i) for i in range(3)]
    assert [v.action for v in verdicts] == ["deliver"] * 3
    assert "INCIDENT_INHERITED" not in _codes(verdicts)
    assert all(v.account_action.action == "none" for v in verdicts)
    assert _intruder(judge, 2, start=12) and all(
        v.action == "hold" for v in _announce(judge, "evil", HOSTING, 2, start=14))

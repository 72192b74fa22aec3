"""End-to-end encrypted messages: the contract, and every detector's metadata-only path."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from conftest import T0, config, established, event, message
from spimguard import open_engine
from spimguard.detectors.content import ContentDetector
from spimguard.engine import Engine
from spimguard.errors import BadInput
from spimguard.events import MAX_SIZE, Limits, decode_batch, decode_event, decode_message
from spimguard.model.features import parts
from spimguard.server.docs import operations
from spimguard.server.openapi import document
from spimguard.text import view
from test_takeover import OFFICIAL, delivered_before_containment, engine_with_history

PITCH = "hey {name}! cheap ringtones for your phone, get yours at http://tonez-club.biz/r{i}"


def sealed(engine: Engine, id: str, sender: str, recipients: list[str], ts: float,
           size: int = 240, **extra: Any) -> Any:
    """An encrypted message as an IM server sends it: no text, its ciphertext's size."""
    return engine.process(event(engine.config, type="message", id=id, sender=sender,
                                recipients=recipients, ts=ts, encrypted=True, size=size,
                                **extra))


def codes(verdict: Any) -> set[str]:
    return {s.code for s in verdict.signals}


# -- the contract ------------------------------------------------------------------------------
def _body(**fields: Any) -> bytes:
    return msgspec.json.encode({"type": "message", "id": "m", "ts": T0, "sender": "a",
                                "recipients": ["b"], **fields})


def test_encrypted_message_needs_no_text_but_a_plain_one_does() -> None:
    limits = Limits()
    got = decode_message(_body(encrypted=True, size=312), limits)
    assert got.encrypted and got.text == "" and got.size == 312
    assert decode_message(_body(encrypted=True, text=""), limits).text == ""
    assert not decode_message(_body(text="hi"), limits).encrypted  # the default
    with pytest.raises(BadInput) as info:
        decode_message(_body(), limits)
    assert info.value.field == "text" and info.value.status == 422
    with pytest.raises(BadInput) as info:  # a batch names the event
        decode_batch(msgspec.json.encode({"events": [msgspec.json.decode(_body())]}), limits)
    assert info.value.field == "events[0].text"


@pytest.mark.parametrize(("fields", "field"), [
    ({"encrypted": True, "text": "words the server should not have"}, "text"),
    ({"encrypted": True, "size": -1}, "size"),
    ({"encrypted": True, "size": MAX_SIZE + 1}, "size"),
    ({"encrypted": "yes"}, "encrypted"),
    ({"text": None}, "text"),
])
def test_bad_encrypted_fields_are_refused_by_name(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(BadInput) as info:
        decode_event(_body(**fields), Limits())
    assert info.value.field == field and info.value.status == 422


def test_report_text_is_bounded_like_message_text() -> None:
    limits = Limits(max_text_bytes=64)
    body = msgspec.json.encode({"type": "report", "id": "r", "ts": T0, "reporter": "b",
                                "message_id": "m", "label": "spam", "text": "x" * 65})
    with pytest.raises(BadInput) as info:
        decode_event(body, limits)
    assert info.value.field == "text" and info.value.status == 413


# -- detectors that need words skip, cleanly ----------------------------------------------------
def test_text_detectors_find_nothing_in_an_encrypted_message_and_fail_on_nothing() -> None:
    """Operator phrases, patterns, denied domains, the content model: no words, no evidence
    (the autouse fixture fails the test if any detector raised instead)."""
    e = open_engine(config(detectors={"rules": {
        "deny_phrases": ["ringtones"], "deny_patterns": [".*"],
        "deny_domains": ["tonez-club.biz"], "deny_accounts": ["spammer"]}}))
    verdict = sealed(e, "s1", "alice", ["bob"], T0)
    assert verdict.action == "deliver" and not verdict.signals
    # The sender's own standing is metadata: an operator's account denial still blocks.
    assert sealed(e, "s2", "spammer", ["bob"], T0 + 1).action == "block"


# -- throwaway bots --------------------------------------------------------------------------
def test_new_account_writing_encrypted_messages_to_strangers_is_held() -> None:
    e = open_engine(config())
    verdicts = [sealed(e, f"b{i}", "bot", [f"stranger{i}"], T0 + i * 10) for i in range(8)]
    assert delivered_before_containment(verdicts) == 4  # the 5th stranger is held
    assert "NEW_ACCOUNT_SEALED" in codes(verdicts[4])
    notice = verdicts[4].notice.recipient or ""
    assert "can't read encrypted messages" in notice and "spam" not in notice.split("(")[0]
    # The same account writing in the clear without a link is held alike, from the same
    # stranger, by whom it writes to (NEW_ACCOUNT_DIRECT), never as encrypted.
    plain = open_engine(config())
    clear = [plain.process(message(plain.config, f"p{i}", "bot", [f"stranger{i}"], "hey there",
                                   T0 + i * 10)) for i in range(8)]
    assert delivered_before_containment(clear) == 4
    assert "NEW_ACCOUNT_DIRECT" in codes(clear[4]) and "NEW_ACCOUNT_SEALED" not in codes(clear[4])


def test_an_established_account_writing_to_new_people_encrypted_is_not_held() -> None:
    e = open_engine(config())
    established(e, "dana")
    for i in range(8):
        verdict = sealed(e, f"d{i}", "dana", [f"new{i}"], T0 + i * 10)
        assert verdict.action in ("deliver", "warn") and "NEW_ACCOUNT_SEALED" not in codes(
            verdict)


# -- hijacked accounts ---------------------------------------------------------------------
def _sealed_attack(e: Engine, client: str, ip: str, count: int = 12) -> list[Any]:
    cfg = e.config
    e.process(event(cfg, type="login", id="evil-login", ts=T0, account="alice",
                    session="evil", ip=ip, client={"id": client}))
    e.process(event(cfg, type="contacts_read", id="evil-read", ts=T0 + 5, account="alice",
                    session="evil", count=60))
    return [sealed(e, f"spam{i}", "alice", [f"alice-friend{i + 3}"], T0 + 10 + i * 3,
                   size=256 + i % 3 * 16, session="evil", client={"id": client, "ip": ip})
            for i in range(count)]


@pytest.mark.parametrize("client", ["MobileFunster 2.1", "im-android"])
def test_encrypted_hijack_is_refused_by_its_fourth_send(client: str) -> None:
    """The intruder's own app, or the official one spoofed, on a hosting network: the
    session, the contact read and the burst to dormant ties are all metadata."""
    e = engine_with_history()
    verdicts = _sealed_attack(e, client, "203.0.113.7")
    assert delivered_before_containment(verdicts) <= 3
    assert all(v.action == "hold" for v in verdicts[4:])
    burst = next(v for v in verdicts if "ACCOUNT_HIJACK_BURST" in codes(v))
    detail = next(s.detail for s in burst.signals if s.code == "ACCOUNT_HIJACK_BURST")
    assert "with one text" not in detail
    notices = [v.notice.recipient for v in verdicts if v.notice.recipient]
    assert notices and all("its link" not in n and "looks like spam" not in n
                           for n in notices)
    assert any("doesn't usually use" in n for n in notices)
    held = next(v for v in verdicts if v.action == "hold")
    assert held.notice.sender and "looks like spam" not in held.notice.sender


def test_owner_greeting_everyone_encrypted_from_home_is_not_actioned() -> None:
    e = engine_with_history("carol", contacts=80)
    for i in range(80):
        verdict = sealed(e, f"ny{i}", "carol", [f"carol-friend{i}"], T0 + i * 3, size=171,
                         session="phone", client={"id": "im-android", "ip": "198.51.100.20"})
        assert verdict.action in ("deliver", "warn"), i
        assert verdict.account_action.action == "none"


def test_encrypted_messages_are_never_one_text_so_replies_are_earned() -> None:
    """Two encrypted messages have no fingerprint to share: an owner on a new network who
    answers friends earns its replies (and the gentler burst), whatever sizes it sends."""
    e = engine_with_history(contacts=20)
    cfg = e.config
    e.process(event(cfg, type="login", id="trip", ts=T0, account="alice", session="trip",
                    ip="192.0.2.50", client={"id": "im-android"}))
    for i in range(2):  # friends write first; alice answers each, the same size each time
        friend = f"alice-friend{10 + i}"
        e.process(message(cfg, f"hi{i}", friend, ["alice"], "are you back?", T0 + 10 + i * 60))
        sealed(e, f"re{i}", "alice", [friend], T0 + 30 + i * 60, size=200, session="trip",
               client={"id": "im-android", "ip": "192.0.2.50"})
    later = [sealed(e, f"x{i}", "alice", [f"alice-friend{i + 3}"], T0 + 300 + i * 5, size=200,
                    session="trip", client={"id": "im-android", "ip": "192.0.2.50"})
             for i in range(4)]
    burst = [s for v in later for s in v.signals if s.code == "ACCOUNT_HIJACK_BURST"]
    assert burst and "it had replied to 2 messages" in burst[-1].detail


# -- reports -------------------------------------------------------------------------------
def _reported_session(e: Engine, reports: int) -> None:
    """A slow intruder on alice's account ('evil'), under every rate: its recipients report
    what their clients decrypted."""
    established(e, *(f"r{i}" for i in range(reports)))
    for i in range(reports):
        sealed(e, f"slow{i}", "alice", [f"r{i}"], T0 + i * 3600, session="evil")
        e.process(event(e.config, type="report", id=f"rep{i}", ts=T0 + i * 3600 + 60,
                        reporter=f"r{i}", message_id=f"slow{i}", label="spam",
                        text=PITCH.format(name=f"r{i}", i=i)))


def test_reports_of_encrypted_messages_mark_the_session_not_the_account() -> None:
    e = open_engine(config())
    _reported_session(e, 3)
    verdict = sealed(e, "next", "alice", ["someone"], T0 + 4 * 3600, session="evil")
    assert "SESSION_REPORTED" in codes(verdict) and verdict.action == "hold"
    assert "can't read encrypted messages" in (verdict.notice.recipient or "")
    own = sealed(e, "own", "alice", ["someone"], T0 + 4 * 3600 + 1, session="phone")
    assert "SESSION_REPORTED" not in codes(own) and own.action == "deliver"


def test_one_correspondent_reporting_every_message_marks_nothing() -> None:
    e = open_engine(config())
    established(e, "grudge")
    for i in range(6):
        sealed(e, f"f{i}", "alice", ["grudge"], T0 + i * 600, session="phone")
        e.process(event(e.config, type="report", id=f"g{i}", ts=T0 + i * 600 + 60,
                        reporter="grudge", message_id=f"f{i}", label="spam"))
    verdict = sealed(e, "next", "alice", ["bob"], T0 + 4000, session="phone")
    assert "SESSION_REPORTED" not in codes(verdict) and verdict.action == "deliver"


def test_reports_from_non_recipients_mark_nothing() -> None:
    e = open_engine(config())
    established(e, "mallory")
    sealed(e, "m1", "alice", ["bob"], T0, session="phone")
    for i in range(5):
        e.process(event(e.config, type="report", id=f"bad{i}", ts=T0 + 60 + i,
                        reporter="mallory", message_id="m1", label="spam", text="spam spam"))
    assert "SESSION_REPORTED" not in codes(sealed(e, "m2", "alice", ["bob"], T0 + 120,
                                                  session="phone"))


def test_report_text_teaches_the_content_model_for_later_copies_in_the_clear() -> None:
    e = open_engine(config())
    content = next(d for d in e.detectors if d.name == "content")
    assert isinstance(content, ContentDetector)
    copy = view(PITCH.format(name="zed", i=99))  # a later copy, sent in the clear
    _, before = content.probability(*parts(copy, content.model.bits, ("zed",)))
    _reported_session(e, 3)
    after, trained = content.probability(*parts(copy, content.model.bits, ("zed",)))
    assert trained == before and after > before  # learnt from the reports' words alone
    fresh = open_engine(config())  # without the reports' text nothing would be learnt
    established(fresh, *(f"r{i}" for i in range(3)))
    for i in range(3):
        sealed(fresh, f"slow{i}", "alice", [f"r{i}"], T0 + i * 3600, session="evil")
        fresh.process(event(fresh.config, type="report", id=f"rep{i}", ts=T0 + i * 3600 + 60,
                            reporter=f"r{i}", message_id=f"slow{i}", label="spam"))
    learner = next(d for d in fresh.detectors if d.name == "content")
    assert isinstance(learner, ContentDetector)
    assert learner.probability(*parts(copy, learner.model.bits, ("zed",)))[0] == before


def test_report_text_cannot_confirm_a_cluster_its_sender_never_wrote_to() -> None:
    """Words in a report are the reporter's claim: pinned on a club notice that the sender
    of the encrypted message never sent, they confirm nothing."""
    notice = "{name}, the club's March meeting moves to the small hall, see you all there"
    members = [f"member{i}" for i in range(40)]

    def club_day(reported: bool) -> Any:
        e = open_engine(config())
        established(e, "club", *(f"t{i}" for i in range(5)))
        e.process(event(e.config, type="contacts", id="c", ts=T0, account="club",
                        contacts=members))
        for i, member in enumerate(members[:30]):
            e.process(message(e.config, f"club{i}", "club", [member],
                              notice.format(name=member), T0 + i * 30))
        for i in range(5):
            sealed(e, f"bait{i}", "attacker", [f"t{i}"], T0 + 1000 + i)
            if reported:
                e.process(event(e.config, type="report", id=f"claim{i}", ts=T0 + 1100 + i,
                                reporter=f"t{i}", message_id=f"bait{i}", label="spam",
                                text=notice.format(name=f"t{i}")))
        return e.process(message(e.config, "club-late", "club", ["member35"],
                                 notice.format(name="member35"), T0 + 1200))

    verdict, control = club_day(True), club_day(False)
    assert "CAMPAIGN_CONFIRMED" not in codes(verdict)
    bulk = [s for s in verdict.signals if s.code.startswith("BULK")]
    assert bulk == [s for s in control.signals if s.code.startswith("BULK")]
    # The content model does learn the words, as it would had the attacker sent them in
    # the clear to those five and had them reported: no more than a sender can do anyway.


def test_official_clients_fixture_is_shared() -> None:
    assert OFFICIAL  # the takeover tests' apps: the hijack tests above rely on them


def test_the_api_documents_encrypted_messages_and_report_text() -> None:
    spec = document()
    schemas = spec["components"]["schemas"]
    message_fields = schemas["Message"]["properties"]
    assert "text" not in schemas["Message"]["required"]  # required unless encrypted
    assert "required unless `encrypted`" in message_fields["text"]["description"]
    assert message_fields["encrypted"]["default"] is False
    assert message_fields["size"]["maximum"] == MAX_SIZE
    assert "encrypted message" in schemas["Report"]["properties"]["text"]["description"]
    check = next(o for o in operations(spec) if o.path == "/v1/check")
    assert '"encrypted": true' in check.body_example and '"text": "hey' in check.body_example


# -- encrypted bulk: one shape to many, from an unfamiliar session ---------------------------
def _sealed_mailing(e: Engine, account: str, session: str, client: str, ip: str,
                    recipients: list[str], sizes: list[int], **extra: Any) -> list[Any]:
    return [sealed(e, f"{session}-{i}", account, [to], T0 + 10 + i * 20, size=size,
                   session=session, client={"id": client, "ip": ip}, **extra)
            for i, (to, size) in enumerate(zip(recipients, sizes, strict=True))]


def _active_friends(e: Engine, account: str, friends: list[str]) -> None:
    """Friends the account writes with every day (its correspondents, no dormant ties)."""
    for day in range(1, 4):
        for i, friend in enumerate(friends):
            e.process(message(e.config, f"talk{day}-{i}", account, [friend], "see you later",
                              T0 - day * 86_400 + 100 + i, session="phone",
                              client={"id": "im-android", "ip": "198.51.100.20"}))


def test_one_size_to_many_active_friends_from_an_unfamiliar_session_is_held() -> None:
    """The intruder's pitch reaches the account's active correspondents first: no dormant
    tie for the burst to count, but one size class to many is a mailing."""
    e = engine_with_history(contacts=20)
    friends = [f"alice-friend{i}" for i in range(3, 12)]
    _active_friends(e, "alice", friends)
    verdicts = _sealed_mailing(e, "alice", "evil", "MobileFunster 2.1", "203.0.113.7",
                               friends, [300] * len(friends))
    assert not any("ACCOUNT_HIJACK_BURST" in codes(v) for v in verdicts[:6])
    bulk = [v for v in verdicts if "SEALED_BULK" in codes(v)]
    assert bulk and "messages of one size" in next(
        s.detail for s in bulk[0].signals if s.code == "SEALED_BULK")
    assert delivered_before_containment(verdicts) <= 5
    assert all(v.action == "hold" for v in verdicts[6:])
    # Without this detector the same session is never stopped: the test can fail.
    plain = open_engine(config(official_clients=OFFICIAL,
                               detectors={"sealed_bulk": {"enabled": False}}))
    from test_takeover import live_a_month
    live_a_month(plain, "alice", contacts=20)
    _active_friends(plain, "alice", friends)
    unchecked = _sealed_mailing(plain, "alice", "evil", "MobileFunster 2.1", "203.0.113.7",
                                friends, [300] * len(friends))
    assert delivered_before_containment(unchecked) > delivered_before_containment(verdicts)


def test_one_attachment_to_many_from_an_unfamiliar_session_is_counted() -> None:
    e = engine_with_history(contacts=20)
    friends = [f"alice-friend{i}" for i in range(3, 12)]
    _active_friends(e, "alice", friends)
    verdicts = _sealed_mailing(e, "alice", "evil", "MobileFunster 2.1", "203.0.113.7",
                               friends, [200 + 60 * i for i in range(len(friends))],
                               attachments=[{"name": "photo.jpg", "mime": "image/jpeg"}])
    last = next(s for s in verdicts[-1].signals if s.code == "SEALED_BULK")
    assert "one attachment" in last.detail and last.score >= 7  # holds on its own


def test_the_owner_greeting_everyone_in_one_size_from_its_own_phone_is_not_held() -> None:
    e = engine_with_history("carol", contacts=80)
    friends = [f"carol-friend{i}" for i in range(80)]
    verdicts = _sealed_mailing(e, "carol", "phone", "im-android", "198.51.100.20", friends,
                               [171] * len(friends))
    assert not any("SEALED_BULK" in codes(v) for v in verdicts)
    assert all(v.action in ("deliver", "warn") and v.account_action.action == "none"
               for v in verdicts)


def test_different_sizes_to_many_from_an_unfamiliar_session_are_not_this_evidence() -> None:
    e = engine_with_history(contacts=20)
    friends = [f"alice-friend{i}" for i in range(3, 12)]
    _active_friends(e, "alice", friends)
    verdicts = _sealed_mailing(e, "alice", "trip", "im-android", "192.0.2.50", friends,
                               [int(160 * 2 ** (i / 2)) for i in range(len(friends))])
    assert not any("SEALED_BULK" in codes(v) for v in verdicts)


def test_a_group_post_counts_as_one_target() -> None:
    e = engine_with_history(contacts=20)
    room = [f"alice-friend{i}" for i in range(3, 15)]
    verdict = sealed(e, "room-post", "alice", room, T0 + 10, size=300, session="trip",
                     conversation="!room", client={"id": "im-android", "ip": "192.0.2.50"})
    assert "SEALED_BULK" not in codes(verdict)


def test_an_encrypted_mailing_is_never_consistent_with_the_owner() -> None:
    """One size of ciphertext to all its mutual contacts from the owner's app on a network
    it chatted from this morning (answering friends, not yet for a day). Of an encrypted
    message nobody can say it carries no link, and its metadata is that of an intruder
    who chatted from its own network first (``test_redteam_owner.py``: 57 of 57 were
    delivered when this counted as the owner's): no OWNER_CONSISTENT, SEALED_BULK counts,
    and it is contained like the intruder's from a network the account never wrote from.
    (The owner is then asked to sign in again: the flow, not the verdict, tells them apart.)"""
    from test_takeover import mutual, written_from_this_morning
    e = engine_with_history("dave", contacts=60)
    mutual(e, "dave")
    written_from_this_morning(e, "dave", "100.70.3.4")
    friends = [f"dave-friend{i}" for i in range(60)]
    owner = _sealed_mailing(e, "dave", "road", "im-android", "100.70.3.4", friends, [300] * 60)
    assert not any("OWNER_CONSISTENT" in codes(v) for v in owner)
    assert any("SEALED_BULK" in codes(v) for v in owner)
    assert delivered_before_containment(owner) <= 6
    intruder = engine_with_history("dave", contacts=60)
    mutual(intruder, "dave")
    intruder.process(event(intruder.config, type="login", id="evil", ts=T0, account="dave",
                           session="evil", ip="203.0.113.9", client={"id": "im-android"}))
    spoofed = _sealed_mailing(intruder, "dave", "evil", "im-android", "203.0.113.9",
                              friends[3:], [300] * 57)
    assert delivered_before_containment(spoofed) <= 3


def test_friends_who_only_wrote_to_the_account_are_dormant_ties_for_a_harvester() -> None:
    """Contacts who wrote to alice (greetings, a group's chatter) but whom alice never wrote
    to come first in the harvested list: they are no friends alice writes to, so the
    intruder's encrypted burst counts them like the rest and is refused by its 4th send.
    A friend alice does write to still counts as the owner's own (not dormant)."""
    e = engine_with_history()
    cfg = e.config
    for i in (3, 4, 5, 6):  # they wrote to alice yesterday; she never answered
        e.process(message(cfg, f"hello{i}", f"alice-friend{i}", ["alice"], "hi alice!",
                          T0 - 86_400 + i))
    verdicts = _sealed_attack(e, "im-android", "203.0.113.7")
    assert delivered_before_containment(verdicts) <= 3
    held = next(v for v in verdicts if v.action == "hold")
    assert "ACCOUNT_HIJACK_BURST" in codes(held)


@pytest.mark.parametrize("alone", [False, True])
def test_sealed_bulk_plans_of_the_takeover_reads_only_the_record(alone: bool) -> None:
    """The session's judgement needs the takeover record, not the burst counts the
    takeover detector reads besides (~14 queries a message): with it enabled, its plan
    holds the record already; disabled (``alone``), sealed_bulk reads the record and
    its own sets, and nobody plans the takeover detector's whole plan."""
    from spimguard.detectors.takeover.plan import standing

    e = open_engine(config())
    if alone:
        e.disabled["takeover"] = "test"
    enabled = [d for d in e.detectors if d.name not in e.disabled]
    sent = message(e.config, "m1", "alice", ["bob"], "", T0, encrypted=True, size=120,
                   session="s1")
    ctx = e._plan(sent, enabled).ctx
    sealed_bulk = next(d for d in e.detectors if d.name == "sealed_bulk")
    own = {q.key for q in sealed_bulk.reads(ctx)} - {standing("alice")[0].key}
    assert own and all(k.startswith("sb:alice:s1:") for k in own)
    assert (standing("alice")[0] in sealed_bulk.reads(ctx)) is alone
    assert ("takeover" in ctx.scratch) is not alone


def test_sealed_bulk_judges_the_session_alike_with_the_takeover_detector_disabled() -> None:
    """Disabled, the takeover detector learns nothing more: sealed_bulk judges the
    session from the record as the history left it, and weighs the mailing as when the
    takeover detector is enabled and has not learnt the session's network."""
    friends = [f"alice-friend{i}" for i in range(3, 12)]
    found = []
    for alone in (False, True):
        e = engine_with_history(contacts=20)
        _active_friends(e, "alice", friends)
        if alone:
            e.disabled["takeover"] = "test"
        verdicts = _sealed_mailing(e, "alice", "evil", "MobileFunster 2.1", "203.0.113.7",
                                   friends, [300] * len(friends))
        found.append([[(s.score, s.detail) for s in v.signals if s.code == "SEALED_BULK"]
                      for v in verdicts])
    assert any(found[1]) and found[0] == found[1]

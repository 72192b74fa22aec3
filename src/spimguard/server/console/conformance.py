"""``check_console``: the behaviour every console store shares with MemoryConsole.

Run it against a fresh, empty store; it raises AssertionError naming the first
behaviour that disagrees (``tests/test_console.py`` runs it on memory, SQLite and
PostgreSQL).
"""

from __future__ import annotations

from . import auth
from .records import AppealEntry, CampaignStatus, ConsoleStore, Decision, Note

_PASSWORD = "correct horse battery"


def check_console(store: ConsoleStore) -> None:
    # Operators: saving a name again replaces its role and password.
    store.save_operator(auth.new_operator("dana", "moderator", _PASSWORD))
    store.save_operator(auth.new_operator("dana", "admin", _PASSWORD))
    assert [(o.name, o.role) for o in store.operators()] == [("dana", "admin")], "operators"
    assert auth.verify(store.operator("dana"), _PASSWORD), "the password hash is kept"
    # Sessions: found by the token's hash until they expire or are dropped.
    token, session = auth.open_session(store, "dana", 100.0)
    assert auth.current(store, token, 101.0) == session, "session"
    assert auth.current(store, token, 100.0 + auth.SESSION_SECONDS + 1) is None, "expiry"
    store.drop_session(session.token_hash)
    assert auth.current(store, token, 101.0) is None, "logout"
    # The audit log: numbered in order, newest first, filtered by a literal prefix.
    for i in range(3):
        store.audit(float(i), "dana", "lists.add" if i % 2 else "decide.ham", f"t{i}", "why")
    assert [e.seq for e in store.audit_log()] == [3, 2, 1], "audit order"
    assert [e.target for e in store.audit_log(action_prefix="lists.")] == ["t1"]
    assert store.audit_log(action_prefix="lists_") == [], "'_' is no wildcard"
    assert [e.seq for e in store.audit_log(limit=1)] == [3]
    # Notes, newest first; appeals kept once per id (a retried event changes nothing).
    store.add_note(Note("alice", 1.0, "dana", "first"))
    store.add_note(Note("alice", 2.0, "dana", "second"))
    assert [n.text for n in store.notes("alice")] == ["second", "first"], "notes"
    assert store.notes("bob") == []
    store.save_appeal(AppealEntry("a1", 5.0, "alice", "m1", "please"))
    store.save_appeal(AppealEntry("a1", 5.0, "alice", "m1", "changed"))
    assert [a.text for a in store.appeals()] == ["please"], "appeals kept once"
    # Names and ids at one time by their code points, whatever a database's collation
    # (``records/conformance.py``'s ``_check_code_point_order``).
    for name in ("apple", "Zed"):
        store.save_operator(auth.new_operator(name, "moderator", _PASSWORD))
        store.save_appeal(AppealEntry(name, 6.0, "alice", "m1", "please"))
    assert [o.name for o in store.operators()] == ["Zed", "apple", "dana"], "operators' order"
    assert [a.id for a in store.appeals(2)] == ["Zed", "apple"], "appeals' ties by id"
    # Notes of one time by operator, then text (code points): a note has no id, and every
    # store lists them alike, whatever order it wrote them in (``left49``).
    for ts, operator, text in ((3.0, "Zed", "z"), (3.0, "dana", "a"), (3.0, "dana", "b"),
                               (2.0, "dana", "older, written last")):
        store.add_note(Note("carol", ts, operator, text))
    assert [(n.operator, n.text) for n in store.notes("carol")] == [
        ("Zed", "z"), ("dana", "a"), ("dana", "b"), ("dana", "older, written last")], (
        "notes' ties by operator and text")
    # Releases: once per message, cursors in order.
    assert store.save_release("m1", "alice", ["bob"], "hi", "dana", 1.0)
    assert not store.save_release("m1", "alice", ["bob"], "hi", "dana", 2.0), "released twice"
    assert store.save_release("m2", "alice", [], None, "dana", 3.0)
    assert [(r.seq, r.recipients, r.text) for r in store.releases()] == [
        (1, ("bob",), "hi"), (2, (), None)], "releases"
    assert [r.message_id for r in store.releases(after=1)] == ["m2"], "after the cursor"
    assert [r.message_id for r in store.releases(limit=1)] == ["m1"]
    # Decisions: the latest word per message, by the message's time.
    store.save_decision(Decision("m1", "spam", "dana", 1.0, "hold", 50.0))
    store.save_decision(Decision("m1", "ham", "dana", 2.0, "hold", 50.0))
    assert [(d.label, d.ts) for d in store.decisions(40.0)] == [("ham", 2.0)], "decisions"
    assert store.decisions(60.0) == []
    # Decisions on messages of one time by the message's id (code points), whatever order
    # they were made in (``left49``).
    for message_id in ("m9", "apple", "Zed", "m10"):
        store.save_decision(Decision(message_id, "spam", "dana", 3.0, "block", 70.0))
    assert [d.message_id for d in store.decisions(40.0)] == [
        "m1", "Zed", "apple", "m10", "m9"], "decisions' ties by message id"
    # Campaign status: the latest, per campaign.
    store.set_campaign_status(CampaignStatus("c-1", "open", "dana", 2.0))
    store.set_campaign_status(CampaignStatus("c-1", "taken down", "dana", 3.0))
    assert store.campaign_statuses() == {
        "c-1": CampaignStatus("c-1", "taken down", "dana", 3.0)}, "campaign status"
    # Failed logins: counted per key within the window, forgotten when old or cleared.
    store.add_login_failure(("name:dana", "address:a"), 10.0, forget_before=0.0)
    store.add_login_failure(("name:dana", "address:b"), 20.0, forget_before=0.0)
    assert store.login_failures(("name:dana", "address:a", "address:c"), 0.0) == {
        "name:dana": 2, "address:a": 1}, "login failures"
    assert store.login_failures(("name:dana",), 15.0) == {"name:dana": 1}
    store.add_login_failure(("address:c",), 30.0, forget_before=15.0)
    assert store.login_failures(("name:dana", "address:a"), 0.0) == {"name:dana": 1}, "forgot"
    store.clear_login_failures("name:dana")
    assert store.login_failures(("name:dana", "address:c"), 0.0) == {"address:c": 1}
    # Reader cursors start at 0 and never move back.
    assert store.cursor("matrix") == 0
    store.advance_cursor("matrix", 2)
    store.advance_cursor("matrix", 1)
    assert (store.cursor("matrix"), store.cursor("other")) == (2, 0), "cursors"

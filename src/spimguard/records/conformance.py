"""``check_records``: the behaviour every record store must share with MemoryRecords.

Run it against a fresh, empty store (``check_records(make())``); it raises
AssertionError naming the first behaviour that disagrees.
"""

from __future__ import annotations

from . import Answer, CampaignMessage, LogEntry, RecordStore, ReportEntry

T0 = 1_700_000_000.0


def _message(i: str, ts: float, account: str = "alice", action: str = "hold",
             session: str = "s1") -> LogEntry:
    return LogEntry(id=i, ts=ts, type="message", account=account, digest=f"d-{i}",
                    session=session, action=action, score=7.5, signals=("A", "B"),
                    text_sha256="ab" * 32, text=None, fingerprint="f", domains=("x.test",),
                    result=b'{"id":"' + i.encode() + b'"}', keep={"content": b"\x00\x01"})


def check_records(store: RecordStore) -> None:
    # The verdict log: answers by id, read-your-writes within a batch, idempotent saves.
    store.save(_message("m1", T0))
    assert store.answers(["m1", "nope"]) == {"m1": Answer("d-m1", b'{"id":"m1"}')}, \
        "answers before commit"
    assert store.message("m1") == _message("m1", T0), "message before commit"
    store.commit()
    assert store.committed().message("m1") == _message("m1", T0), "committed view"
    store.save(LogEntry(id="m1", ts=T0 + 9, type="login", account="mallory", digest="other",
                        result=b"{}"))
    store.commit()
    assert store.message("m1") == _message("m1", T0), "a repeated id keeps the first entry"
    login = LogEntry(id="l1", ts=T0 + 1, type="login", account="alice", session="s1",
                     digest="d-l1", result=b"{}")
    store.save(login)
    store.save(_message("m2", T0 + 2, action="deliver"))
    store.save(_message("m3", T0 + 3, session="s2"))
    store.save(_message("m4", T0 + 4, account="bob"))
    store.commit()
    assert store.message("l1") is None, "message() finds messages only"
    assert store.answers(["l1"])["l1"].digest == "d-l1"
    assert [e.id for e in store.recent("alice")] == ["m3", "m1"], "recent: not deliveries"
    assert [e.id for e in store.timeline("alice", "s1", T0)] == ["m1", "l1", "m2"], "timeline"
    assert [e.id for e in store.timeline("alice", "", T0 + 1)] == ["l1", "m2", "m3"]

    # A rollback forgets what was saved since the last commit.
    store.save(_message("m9", T0 + 9))
    store.rollback()
    assert store.answers(["m9"]) == {}, "rollback"

    # Reports, by message, oldest first; a repeated report id is kept once.
    store.save_report(ReportEntry("r2", T0 + 20, "carol", "m1", "spam", "", "alice"))
    store.save_report(ReportEntry("r1", T0 + 10, "dave", "m1", "ham", "ok", "alice"))
    store.save_report(ReportEntry("r1", T0 + 10, "dave", "m1", "spam", "", "alice"))
    store.commit()
    assert [(r.id, r.label) for r in store.reports("m1")] == [("r1", "ham"), ("r2", "spam")]
    assert [r.id for r in store.latest_reports()] == ["r2", "r1"], "latest reports first"

    # The review queue and the hourly chart (held and blocked messages; messages per hour).
    # m1, m3, m4 held at T0+0..4; m2 delivered; the login is not a message.
    assert [e.id for e in store.stopped(T0)] == ["m4", "m3", "m1"], "stopped: newest first"
    assert [e.id for e in store.stopped(T0 + 3, limit=1)] == ["m4"]
    assert list(store.stopped_accounts(T0)) == ["bob", "alice"], "latest stopped first"
    assert list(store.stopped_accounts(T0, limit=1)) == ["bob"]
    assert list(store.stopped_accounts(T0 + 3.5)) == ["bob"]
    assert list(store.committed().stopped_accounts(T0)) == ["bob", "alice"]
    hour = int(T0 // 3600 * 3600)
    assert list(store.hourly(T0)) == [(hour, "deliver", 1), (hour, "hold", 3)], "hourly"
    assert list(store.hourly(T0 + 3)) == [(hour, "hold", 2)]
    assert [e.id for e in store.committed().stopped(T0)] == ["m4", "m3", "m1"]
    assert list(store.committed().hourly(T0)) == list(store.hourly(T0))

    # Campaign messages: oldest first, campaigns by latest message.
    for i, (campaign, ts) in enumerate([("c-1", T0), ("c-2", T0 + 5), ("c-1", T0 + 1)]):
        store.save_campaign_message(CampaignMessage(
            campaign, f"cm{i}", ts, "spammer", "s", "bot", "203.0.113.9", ("a", "b"), "buy",
            "block", ("tones.test",)))
    store.commit()
    assert [m.id for m in store.campaign_messages("c-1")] == ["cm0", "cm2"]
    assert store.campaign_messages("c-1")[0].recipients == ("a", "b")
    assert list(store.campaign_ids()) == ["c-2", "c-1"], "campaigns, most recent first"
    assert list(store.campaign_ids(T0 + 2)) == ["c-2"]

    # Purge drops what is older than the cut, in every table.
    assert store.purge(T0 + 2) > 0
    assert store.answers(["m1", "m2", "m3"]).keys() == {"m2", "m3"}, "purge"
    assert len(store.reports("m1")) == 2, "purge kept the newer reports"
    assert [m.id for m in store.campaign_messages("c-1")] == [], "purge campaigns"
    _check_code_point_order(store)
    store.ping()


# Ids, accounts and campaigns a locale's collation orders otherwise than their code points
# do: capitals before small letters, digits before both, "-" between.
_NAMES = ("apple", "Zed", "a-b", "M2", "m10", "9x")


def _check_code_point_order(store: RecordStore) -> None:
    """Rows at one time come out ordered by their text's code points, in every store: the
    evidence bundle's integrity hash and a listing's cut by ``LIMIT`` are then the same
    whichever store a node reads (a PostgreSQL database made under en_US.UTF-8 ordered
    "apple" before "Zed"; ``migrations/postgres/0003_code_point_order.sql``)."""
    at, ids = T0 + 100, sorted(_NAMES)
    for name in reversed(_NAMES):
        store.save(_message(f"t{name}", at, account=name))
        store.save(_message(name, at + 1, account="carol"))
        store.save_campaign_message(CampaignMessage(
            "c-3", name, at, "spammer", "s", "bot", "203.0.113.9", ("a",), "buy", "block", ()))
        store.save_campaign_message(CampaignMessage(
            name, f"c{name}", at + 2, "spammer", "s", "bot", "203.0.113.9", ("a",), "buy",
            "block", ()))
        store.save_report(ReportEntry(name, at + 3, "dave", name, "spam", "", "carol"))
    store.commit()
    assert [m.id for m in store.campaign_messages("c-3")] == ids, "campaign ties by id"
    assert [e.id for e in store.timeline("carol", "", at)] == ids, "timeline ties by id"
    assert list(store.stopped_accounts(at)[1:]) == ids, "stopped accounts' ties by name"
    assert list(store.campaign_ids(at + 2)) == ids, "campaigns' ties by name"
    assert [r.id for r in store.latest_reports(len(ids))] == ids[::-1], "reports' ties"
    assert [e.id for e in store.stopped(at + 1)] == ids[::-1], "stopped ties by id"

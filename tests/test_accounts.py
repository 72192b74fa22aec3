"""The account's record (``accounts.Account``): first seen and restrictions under one key,
each part with its own expiry, and the keys of before it still read after an upgrade."""

from __future__ import annotations

from pathlib import Path

from conftest import T0, config, event, message
from spimguard import accounts, open_engine
from spimguard.state.ops import FOREVER, Delete, Get, Put

DAY = 86_400.0


def test_each_part_of_the_record_keeps_its_own_expiry() -> None:
    cfg = config()
    judge = open_engine(cfg)
    judge.process(message(cfg, "m1", "alice", ["bob"], "hi bob", T0))
    stored = judge.read_state([accounts.record("alice")], T0)[0]
    judge.remember([accounts.with_action("alice", stored, "suspend_sending", "", "incident",
                                         T0, DAY)])
    stored = judge.read_state([accounts.record("alice")], T0 + DAY - 1)[0]
    assert accounts.first_seen_of(stored, T0 + DAY - 1) == T0  # the action kept it
    assert accounts.restrictions_of(stored, T0 + DAY - 1)["suspended"]["reason"] == "incident"
    # A day on, the restriction is gone and the first sighting is not.
    stored = judge.read_state([accounts.record("alice")], T0 + DAY)[0]
    assert accounts.restrictions_of(stored, T0 + DAY) is None
    assert accounts.first_seen_of(stored, T0 + DAY) == T0
    later = T0 + accounts.FIRST_SEEN_TTL
    assert judge.read_state([accounts.record("alice")], later) == [None]


def test_a_passed_challenge_on_a_first_event_keeps_the_sighting_and_lifts_the_rest() -> None:
    """The engine's write (first seen) and the takeover detector's (the restrictions a
    pass leaves) of one event are one write of the record, composed from both."""
    cfg = config()
    judge = open_engine(cfg)
    judge.remember([accounts.with_action("carol", None, "challenge", "", "doubt", T0, DAY)])
    judge.process(event(cfg, type="challenge", id="ch", ts=T0 + 60, account="carol",
                        session="", passed=True))
    stored = judge.read_state([accounts.record("carol")], T0 + 60)[0]
    assert accounts.first_seen_of(stored, T0 + 60) == T0 + 60
    assert accounts.restrictions_of(stored, T0 + 60) is None


def test_the_keys_of_before_the_record_are_read_after_an_upgrade(tmp_path: Path) -> None:
    """A store written by the release before the record (``first_seen:``, ``restrict:``)
    answers as it did: the account endpoint and the first event read the old keys, and
    that event moves them into the record."""
    cfg = config(storage={"backend": "sqlite"})
    old = open_engine(cfg, tmp_path)
    old.process(message(cfg, "m0", "bob", ["carol"], "morning", T0))  # the store's clock
    suspension = {"since": T0 - 60, "reason": "incident"}
    old_first, old_restrict = accounts.legacy_keys("alice")
    old.remember([Put(old_first, T0 - 90 * DAY, accounts.FIRST_SEEN_TTL),
                  Put(old_restrict, {"challenge": suspension, "suspended": suspension},
                      cfg.policy.restriction_ttl),
                  Delete(accounts.LEGACY)])  # as the earlier release left it: no note
    old.close()

    judge = open_engine(cfg, tmp_path)
    assert judge.account("alice")["restrictions"]["suspended"] == suspension
    verdict = judge.process(message(cfg, "m1", "alice", ["bob"], "hi bob", T0 + 10))
    assert "SENDING_SUSPENDED" in {s.code for s in verdict.signals}
    assert judge.read_state([Get(old_first), Get(old_restrict)]) == [None, None]
    stored = judge.read_state([accounts.record("alice")])[0]
    assert accounts.first_seen_of(stored, T0 + 10) == T0 - 90 * DAY
    assert accounts.restrictions_of(stored, T0 + 10)["suspended"] == suspension
    assert judge.restore("alice")
    judge.close()


def test_a_store_begun_by_this_release_reads_no_keys_of_before(tmp_path: Path) -> None:
    cfg = config(storage={"backend": "sqlite"})
    judge = open_engine(cfg, tmp_path)
    assert judge.read_state([Get(accounts.LEGACY)]) == [0.0]
    judge.remember([Put(accounts.legacy_keys("dave")[1], {"suspended": {"since": T0}},
                        FOREVER)])
    verdict = judge.process(message(cfg, "m1", "dave", ["bob"], "hi bob", T0))
    assert "SENDING_SUSPENDED" not in {s.code for s in verdict.signals}
    judge.close()

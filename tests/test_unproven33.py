"""Session 33 (``unproven33``): BULK_UNPROVEN_SESSIONS's gate counts the account's unproven
sessions' messages *with a site* (the takeover record's ``w``), not all their messages: a
new phone's "it's me" lines to friends are no pitch. On main 08e8778 an attacker's own aged
account, signed in from a new network, sent a share sheet's words once and an owner on a
new phone who had written three lines was held on each of her shares of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config
from spimguard import open_engine
from spimguard.detectors.takeover.record import Record, decode
from test_attack_session25 import engine_on
from test_attack_session32 import new_phones_share
from test_attack_session32_campaign_review import owner_after_a_sock
from test_takeover import OFFICIAL, live_a_month
from test_takeover_record import INCIDENT_TTL, LIVE, SESSION_TTL


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_a_new_phones_plain_lines_do_not_open_the_gate_on_every_backend(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Poisoned or not, the owner's shares fare alike (the 4th held by the burst): on
    main 08e8778 poisoned, all 4 held. The count is the record's (``w``), kept alike by
    every backend."""
    clean = [v.action for v in owner_after_a_sock(
        False, engine_on(backend, tmp_path / "clean", request))]
    poisoned = [v.action for v in owner_after_a_sock(
        True, engine_on(backend, tmp_path / "poisoned", request))]
    assert clean == ["deliver", "deliver", "warn", "hold"]
    assert poisoned == clean


def test_owners_new_phones_that_wrote_first_share_one_text_unheld() -> None:
    """No attacker at all: four unrelated owners, 5 min apart, each on a new phone (her
    app, a network of her own), write three lines to friends and then share one
    restaurant with two more in the share sheet's words. On main 08e8778 6 of their 8
    shares were held (BULK_UNPROVEN_SESSIONS: each new phone's lines made it "a session
    that pitched a few"); here none (two warned: the burst and bulk's near-duplicate)."""
    engine = open_engine(config(official_clients=OFFICIAL))
    owners = ("ann", "bea", "cem", "dov")
    live_a_month(engine, *owners)
    actions = [v.action for v in new_phones_share(engine, owners, first=10, lines=3)]
    assert set(actions) <= {"deliver", "warn"}


def _record(stored: Any = None) -> Record:
    return Record("alice", stored, SESSION_TTL, LIVE, INCIDENT_TTL)


def test_the_sited_count_is_its_own_part_and_a_record_before_it_reads_as_none() -> None:
    """A record without ``w`` (every record before session 33, and every account whose
    unproven sessions sent no site) is stored as before (nine parts) and counts no pitch;
    a sited count trails it, round-trips, and only unproven sessions' counts are read."""
    fresh = _record()
    fresh.set_session("new", {"client": "im-android", "net": "192.0.2.0", "login": T0,
                              "risk": 0.6}, T0, 8, 2)
    fresh.count_sent("new", T0, 8)
    plain = fresh.put(T0)
    assert plain is not None
    assert "w" not in decode(plain.value)
    assert _record(plain.value).sent_unproven("new", T0 + 1, 2) == 0.0
    again = _record(plain.value)
    again.count_sent("new", T0 + 1, 8)
    again.count_sent("new", T0 + 1, 8, sited=True)
    sited = again.put(T0 + 1)
    assert sited is not None and len(sited.value) > len(plain.value)
    read = _record(sited.value)
    assert read.sent("new", T0 + 2) == 2.0
    assert read.sent_unproven("new", T0 + 2, 2) == 1.0
    assert read.sent_unproven("new", T0 + 86_400 + 3_600, 2) == 0.0  # the day's window
    proven = _record(sited.value)
    proven.set_session("new", {"client": "im-android", "net": "192.0.2.0", "login": T0,
                               "risk": 0.6, "proven": True}, T0 + 2, 8, 2)
    assert _record(proven.changed()).sent_unproven("other", T0 + 3, 2) == 0.0

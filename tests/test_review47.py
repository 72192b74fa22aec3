"""Defects found in the review of session 47's merges (``review47``), each mended here."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import T0, event, message
from spimguard import Verdict
from spimguard.records import LogEntry
from spimguard.records.sqlite import SQLiteRecords
from test_takeover import engine_with_history, mutual


def _held(n: int, ts: float, account: str, action: str = "hold") -> LogEntry:
    return LogEntry(id=f"m{n}", ts=ts, type="message", account=account, digest="d",
                    result=b"{}", action=action)


def test_the_account_search_reads_the_week_not_the_whole_log(tmp_path: Path) -> None:
    """``stopped_accounts`` (lead47) grouped by account, and SQLite answered it by walking
    ``verdict_log_session`` in account order: every row the log keeps (30 days by
    default), each looked up in the table, where every other read by time searches the
    rowids from its second on (1.5 s against 0.1 s on a 30-day log of a million rows)."""
    conn = sqlite3.connect(tmp_path / "r.db")
    store = SQLiteRecords(conn)
    for n in range(60):
        store.save(_held(n, T0 + n * 3600.0, f"acct{n % 9}",
                         "hold" if n % 3 else "deliver"))
    store.commit()
    said: list[str] = []
    conn.set_trace_callback(said.append)
    found = store.stopped_accounts(T0 + 30 * 3600.0)
    conn.set_trace_callback(None)
    assert found[:3] == ["acct5", "acct4", "acct2"]
    statement, = (s for s in said if "verdict_log" in s and s.lstrip().startswith("SELECT"))
    plan = [detail for *_, detail in conn.execute(f"EXPLAIN QUERY PLAN {statement}")
            if "verdict_log" in detail]
    assert plan == ["SEARCH verdict_log USING INTEGER PRIMARY KEY (rowid>?)"], plan


# -- evade47: the broadcast from the owner's own place, stepped around -------------------

NEIGHBOUR = "198.51.100.91"  # an address in the owner's /24 (``engine_with_history``'s home)
NAMES = ("Sam", "Alex", "Maria", "Jo", "Priya", "Chen")
PITCH = ("{name}, got my new ringing sound from here, love it https://tunes-0.shop/{i}",
         "hey {name} this place has the funniest alert sounds lol https://tunes-0.shop/x{i}",
         "{name}! have you tried these tunes for your phone? https://tunes-0.shop/?r={i}")
SHORTCODE = ("{name}, got my new ringing sound, text TONES to 80888, love it",
             "hey {name} text TONES to 80888 for the funniest alert sounds lol",
             "{name}! have you tried these tunes? just text TONES to 80888")


def _from_the_owners_place(texts: tuple[str, ...], per_session: int) -> list[str]:
    """The seller's software in the owner's /24 with the owner's app, no contact list read:
    40 pitches 3 s apart down the list, a sign-in and a new session every ``per_session``.
    The actions."""
    engine = engine_with_history()
    mutual(engine, "alice")
    cfg, actions = engine.config, list[str]()
    for i in range(40):
        at, session = T0 + 10 + 3 * i, f"worm{i // per_session}"
        if i % per_session == 0:
            engine.process(event(cfg, type="login", id=f"alice-L{i}", ts=at - 1,
                                 account="alice", session=session, ip=NEIGHBOUR,
                                 client={"id": "im-android"}))
        verdict = engine.process(message(
            cfg, f"alice-w{i}", "alice", [f"alice-friend{i}"],
            texts[i % len(texts)].format(name=NAMES[i % len(NAMES)], i=i), at,
            session=session, client={"id": "im-android", "ip": NEIGHBOUR}))
        assert isinstance(verdict, Verdict)
        actions.append(verdict.action)
    return actions


# Each way around, and why it is left (strict xfails: review47 names them, evade47 left them).
# ROTATED, a sign-in and a new session every three pitches from the owner's /24 (40 of 40
# delivered on evade47: the broadcast was counted per session), closed by bcast49: the
# account's familiar sessions' sets are read together (``TakeoverDetector._others``).
# UNLINKED, the shortcode with no link (40 of 40 delivered on evade47), closed by code49: the
# number that bills whoever answers it is the pitch's site (``MessageView.calls``), and its
# broadcast PREMIUM_BROADCAST (``burst.calling``); the premium-rate line's variant is in
# ``test_code49``.


@pytest.mark.parametrize(("texts", "per_session"), [
    # ROTATED mended by bcast49 (``_broadcast`` reads the other familiar sessions' sets),
    # UNLINKED by code49 (a billing number is the pitch's site).
    pytest.param(PITCH, 3, id="a new session every three pitches"),
    pytest.param(SHORTCODE, 40, id="a shortcode, no link")])
def test_a_broadcast_from_the_owners_place_stepped_around_is_warned(
        texts: tuple[str, ...], per_session: int) -> None:
    assert _from_the_owners_place(texts, per_session).count("deliver") <= 6

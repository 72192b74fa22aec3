"""Ways around session 48's merges, found in their review (``review48``): each mended here
with its test, or a strict xfail whose reason names the gap and why it is left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import T0, config, event, message
from spimguard import open_engine
from spimguard.errors import RecordsUnavailable
from test_evade47 import NAMES, NEIGHBOUR, PITCH, owner

# -- lead48: PostgreSQL holds what every other store holds --------------------------------

NUL_TEXT = ("a NUL anywhere in a text or a name the records keep: PostgreSQL's text refuses "
            "U+0000, which the wire lets through (JSON's \\u0000) and memory and SQLite keep, "
            "so on PostgreSQL the batch's commit fails (RecordsUnavailable): a pitch with a "
            "NUL in it is never held or blocked there (the campaign keeps its text), the "
            "group's other events are retried. No reversible spelling of U+0000 in a TEXT "
            "column misses every string an older row may hold, so the mend is a stored form "
            "(a marked or bytea column, with its upgrade) or a wire rule, not a few lines "
            "(review48)")


def _run(records: dict[str, Any], data: Path | None, nul: str, where: str) -> list[str]:
    """Six pitches of one link from three fresh accounts, then a recipient's report: the
    actions, or the store's failure."""
    cfg = config(records={"evidence_key": "test-evidence-key", **records})
    engine = open_engine(cfg, data) if data else open_engine(cfg)
    said = []
    try:
        for i in range(6):
            pitch = "exclusive ringtone pack grab it {}now https://tones-shop.example/x{}"
            events = [message(cfg, f"s{i}", f"spammer{i % 3}", [f"user{i}"],
                              pitch.format(nul if where == "text" else "", i), T0 + 5 + 4 * i,
                              session="x" + (nul if where == "session" else ""))]
            if i == 5:
                events.append(event(cfg, type="report", id="r1", ts=T0 + 60, reporter="user4",
                                    message_id="s4", label="spam",
                                    text="spam" + (nul if where == "report" else "")))
            for one in events:
                try:
                    said.append(str(getattr(engine.process(one), "action", "recorded")))
                except RecordsUnavailable:
                    said.append("RecordsUnavailable")
    finally:
        engine.close()
    return said


@pytest.mark.parametrize("where", [
    pytest.param(w, marks=pytest.mark.xfail(strict=True, reason=NUL_TEXT), id=w)
    for w in ("text", "session", "report")])
def test_a_nul_is_judged_on_postgresql_as_on_sqlite(postgres_url: str, tmp_path: Path,
                                                    where: str) -> None:
    on_sqlite = _run({}, tmp_path, "\x00", where)
    assert "hold" in on_sqlite and "recorded" in on_sqlite
    assert _run({"backend": "postgres", "url": postgres_url}, None, "\x00", where) == on_sqlite


def test_postgresql_judges_the_same_run_without_a_nul_as_sqlite(postgres_url: str,
                                                              tmp_path: Path) -> None:
    """The xfails' control: the same events with no NUL agree, so what fails is the NUL."""
    on_sqlite = _run({}, tmp_path, "", "text")
    assert _run({"backend": "postgres", "url": postgres_url}, None, "", "text") == on_sqlite


# -- wide48: the familiar sessions' broadcast counted over the account ---------------------

WORM = {"id": "im-android", "ip": NEIGHBOUR}  # the seller's software in the owner's /24
HELLO = "hey {name}! long time, how have you been? x"


def _warmed_then_pitched(pause: float, per_session: int = 3) -> list[str]:
    """The worm's bland line with no link to the 40 ties down the list from one familiar
    session (the owner's own greeting to everyone, delivered), ``pause`` seconds, then its
    pitch to the same 40, 3 s apart, a sign-in and a new session every ``per_session``. The
    pitches' actions."""
    engine = owner()
    cfg, at, actions = engine.config, T0 + 10, []
    for i in range(40):
        engine.process(message(cfg, f"h{i}", "alice", [f"alice-friend{i}"],
                               HELLO.format(name=NAMES[i % 6]), at + 3 * i, session="hello",
                               client=WORM))
    at += 120 + pause
    for i in range(40):
        session = f"s{i // per_session}"
        if i % per_session == 0:
            engine.process(event(cfg, type="login", id=f"L{i}", ts=at + 3 * i - 1,
                                 account="alice", session=session, ip=WORM["ip"],
                                 client={"id": WORM["id"]}))
        verdict = engine.process(message(cfg, f"m{i}", "alice", [f"alice-friend{i}"],
                                         PITCH[i % 3].format(name=NAMES[i % 6], n=0, i=i),
                                         at + 3 * i, session=session, client=WORM))
        actions.append(str(getattr(verdict, "action", "")))
    return actions


WARMED = ("wide48 counts the familiar sessions' dormant ties over the account (keys.aired), "
          "and a tie is dormant until the account writes to it: the worm's bland line with no "
          "link from the owner's /24 and app is the owner's writing to all evidence (40 of 40 "
          "delivered, FAMILIAR_SENDER kept: the greeting wide48 guards), so the 40 ties are "
          "written to (WROTE) and no longer dormant. Once keys.aired has let the hellos go "
          "(burst_window, 600 s; 700 s here), the pitches reach no dormant tie, and the one "
          "count that sees ties written to, the pitch's (Plan.text_to), is the session's: a "
          "new session every three pitches, 40 of 40 delivered (with one session, 3 of 40). "
          "The mend is the pitch's set over the familiar sessions together (a new stored set "
          "keyed by the site, read for a familiar link), not a few lines (review48)")


@pytest.mark.xfail(strict=True, reason=WARMED)
def test_a_broadcast_after_a_hello_to_everyone_and_a_pause_is_warned() -> None:
    assert _warmed_then_pitched(700.0).count("deliver") <= 6


# -- record48: the hour histogram kept decoded as stored -----------------------------------

def test_the_detector_hands_record_decode_no_record_it_decoded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """record48's decoded hours (``[mask, count, ...]``) and the dict form's stored 24
    counts are both a dict's ``p.hours``: ``record.decode`` reads a dict as the stored dict
    form, and a decoded histogram of 23 hours (24 items) is then read as 24 counts, silently
    (any other size fails loudly). Only the caller tells them apart (``Record``'s
    ``decoded``), so no caller may give ``decode`` a record it decoded: a batch of the
    owner's messages at every hour but one, some out of order (the pending record put and
    read again), in one batch and one by one, decodes nothing but stored bytes, and both
    give the same actions. Fails before record48: the batch's pending record went through
    ``decode`` again."""
    from spimguard.detectors.takeover import detector as takeover_detector
    from spimguard.detectors.takeover import record as takeover_record

    given: list[str] = []
    stored_decode = takeover_record.decode

    def watched(stored: Any) -> dict[str, Any]:
        given.append(type(stored).__name__)
        return stored_decode(stored)

    monkeypatch.setattr(takeover_record, "decode", watched)
    monkeypatch.setattr(takeover_detector, "decode", watched)
    home = {"id": "im-android", "ip": "198.51.100.20"}  # ``engine_with_history``'s own
    hours = [h for h in range(24) if h != 4] * 2
    times = [T0 + 3_600 * (i + 1) + 60 * (i % 7) - (5_400 if i % 5 == 4 else 0)
             for i in range(len(hours))]
    actions = []
    for batched in (True, False):
        engine = owner()
        cfg = engine.config
        events = [message(cfg, f"o{i}", "alice", [f"alice-friend{i % 3}"],
                          f"see you at {h} o'clock", at, session="phone", client=home)
                  for i, (h, at) in enumerate(zip(hours, times, strict=True))]
        results = (engine.process_batch(events) if batched
                   else [engine.process(e) for e in events])
        actions.append([str(getattr(r, "action", "")) for r in results])
        engine.close()
    assert "dict" not in given, given
    assert actions[0] == actions[1]

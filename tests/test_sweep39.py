"""A part of the sweep makes SQLite's held copy agree with the file by the part's own
changes (``SQLiteState._agree``), where it forgot every key it changed and loaded it again:
after any part, every read the engine can make answers from the held copy as a store
opened afresh on the file does, and what the held copy writes next is what such a store
would write (session 39, ``sweep39``)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from spimguard.db import connect
from spimguard.state import sqlite
from spimguard.state.conformance import GUEST, GUEST_SIDES, HASHED, LODGED, SIDED, SIDES
from spimguard.state.ops import (
    Contains,
    Count,
    Distinct,
    Get,
    Gets,
    Incr,
    LastTouch,
    Members,
    Put,
    Puts,
    Query,
    Tally,
    Touch,
    Write,
    guest_key,
)
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0
_NAMES = tuple("abcdefgh")
_PARTS = 20  # parts a lap here (``sqlite.SWEEP_PARTS``): each finds more to do than 1 in 200
_TABLES = ("counts", "members", "kv", "hashed_sets", "sided_sets", "puts", "put_keys")


def _keys(n: int) -> dict[str, list[str]]:
    """The keys of each kind the runs write: counters, member sets, values, a ``Puts``'s
    keys, hashed sets, sided records, their guests (sessions) and values lodged in them."""
    return {"counters": [f"c{i}" for i in range(n)], "sets": [f"s{i}" for i in range(n)],
            "values": [f"v{i}" for i in range(n)],
            "puts": [f"b{i}:{band}" for i in range(n) for band in range(3)],
            "hashed": [f"{HASHED}h{i}" for i in range(n)],
            "sided": [f"{SIDED}r{i}" for i in range(n)],
            "guests": [guest_key(GUEST, f"r{i}", f"g{j}") for i in range(n) for j in range(2)],
            "lodged": [f"{LODGED}r{i}" for i in range(n)]}


def _writes(rng: random.Random, keys: dict[str, list[str]], step: int) -> list[Write]:
    """A few writes of every kind, with TTLs short enough that parts of a lap find members,
    sides and keys past them, and caps small enough to drop members at a touch."""
    ttl = rng.choice
    found: list[Write] = []
    for _ in range(rng.randint(0, 1)):
        members = tuple(rng.sample(_NAMES, rng.randint(1, 3)))
        found += [
            Incr(rng.choice(keys["counters"]), 1.0, bucket=30, ttl=ttl((60, 300, 2000))),
            Touch(rng.choice(keys["sets"]), members, ttl=ttl((90, 400, 2000)),
                  cap=ttl((3, 5, 100))),
            Put(rng.choice(keys["values"]), step, ttl=ttl((60, 500, 3000))),
            Touch(rng.choice(keys["hashed"]), members, ttl=ttl((100, 900)), cap=ttl((4, 50))),
            Touch(rng.choice(keys["sided"]), members, ttl=ttl((100.0, 300.0)),
                  side=rng.choice(SIDES)),
            Touch(rng.choice(keys["guests"]), members, ttl=200.0, side=rng.choice(GUEST_SIDES)),
            Put(rng.choice(keys["lodged"]), [step, "x"], ttl=ttl((80, 700)))]
        band = rng.randrange(len(keys["puts"]) // 3)
        found.append(Puts(tuple(keys["puts"][3 * band:3 * band + 3]), step,
                          ttl=ttl((70, 600, 4000))))
    rng.shuffle(found)
    return found


def _queries(keys: dict[str, list[str]]) -> list[Query]:
    """Every question the engine can ask of those keys: each kind's, each side's."""
    asked: list[Query] = []
    for key in keys["counters"]:
        asked += [Count(key, 60, 30), Count(key, 3000, 30)]
    for key in keys["sets"]:
        asked += [Distinct(key, 100), Distinct(key, 5000), Contains(key, _NAMES[:4]),
                  Members(key), LastTouch(key, "a", 5000), Tally(key, 300, ("b", "c"))]
    for key in keys["values"] + keys["lodged"]:
        asked.append(Get(key))
    for band in range(len(keys["puts"]) // 3):
        asked += [Gets(tuple(keys["puts"][3 * band:3 * band + 3])), Get(keys["puts"][3 * band])]
    for key in keys["hashed"]:
        asked += [Distinct(key, 100), Distinct(key, 5000), Contains(key, _NAMES[:4])]
    for key, sides in [(k, SIDES) for k in keys["sided"]] + [(k, GUEST_SIDES)
                                                             for k in keys["guests"]]:
        for side in sides:
            asked += [Distinct(key, 150, side), Distinct(key, 5000, side),
                      Contains(key, _NAMES[:4], side), Members(key, side),
                      LastTouch(key, "a", 5000, side)]
    return asked


def _oversized(conn: sqlite3.Connection, key: str, now: float) -> None:
    """A member set of more rows than its cap, as a file of an earlier release may hold:
    only the sweep trims it (the stalest past the cap, ties by member)."""
    with conn:
        conn.execute("INSERT INTO members VALUES (?, x'', ?, 5000, 2)", (key, now + 5000))
        conn.executemany("INSERT INTO members VALUES (?, ?, ?, NULL, NULL)",
                         [(key, name, now - 10 * n) for n, name in enumerate("pqrst")])


def _fresh(state: SQLiteState, folder: Path, name: str) -> SQLiteState:
    """A store opened afresh on a copy of ``state``'s file as committed (a copy, so that
    opening it commits nothing the held copy would see as another process's)."""
    copy = folder / f"{name}.db"
    target = sqlite3.connect(copy)
    state.conn.backup(target)
    target.close()
    return SQLiteState(connect(copy))


def _rows(state: SQLiteState) -> dict[str, list[Any]]:
    # (sweep_lap and since_pass: where the lap stands, the same file's in both.)
    return {table: state.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in _TABLES}


def _run(folder: Path, seed: int, rollback_every: int) -> tuple[int, int]:
    """Writes, then a lap of parts, each part inside the batch that wrote before it (as the
    engine takes them): after each, the held copy's answers against a fresh store's on the
    file, then the same writes to both and their answers and rows. One part in
    ``rollback_every`` is rolled back with its batch. The items the parts dropped, and the
    held keys the parts found (none if the run proved nothing)."""
    rng = random.Random(seed)
    keys = _keys(20)
    state = SQLiteState(connect(folder / "s.db"))
    _oversized(state.conn, "big", T0)
    asked = [*_queries(keys), Members("big"), Distinct("big", 9000), Contains("big", ("p", "t"))]
    now = T0
    for step in range(60):
        now += rng.choice((5.0, 20.0, 60.0))
        state.read(asked, now)  # every key held, every query known
        state.write(_writes(rng, keys, step), now)
        state.commit()
    dropped = held = 0
    for part in range(2 * _PARTS):  # two laps
        now += rng.choice((0.0, 10.0, 60.0))
        state.read(asked, now)
        state.write(_writes(rng, keys, part), now)
        swept = now - rng.choice((0.0, 30.0))  # a part sweeps up to a horizon behind
        held += len(state._held)
        dropped += state.sweep_part(swept, part)
        if part % rollback_every == rollback_every - 1:
            state.rollback()
        else:
            state.commit()
        fresh = _fresh(state, folder, f"fresh{part}")
        for at in (now, now + 45.0, now + 400.0):
            assert state.read(asked, at) == fresh.read(asked, at), (seed, part, at)
        later = _writes(rng, keys, 1000 + part)
        for store in (state, fresh):
            store.write(later, now + 1)
            store.commit()
        assert state.read(asked, now + 2) == fresh.read(asked, now + 2), (seed, part)
        assert _rows(state) == _rows(fresh), (seed, part)
        fresh.close()
    state.close()
    return dropped, held


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_after_any_part_the_held_copy_answers_and_writes_as_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Counters, member sets (members past their set's TTL, sets past their expiry, a set
    over its cap), values, a ``Puts``'s keys, hashed sets, sided records (sides past their
    TTLs), their guests and lodged values: after each part of a lap (every seventh rolled
    back with its batch), every read answers from the held copy as from a store opened
    afresh on the file, at the part's time and after; the same writes then make the same
    answers and the same rows in both."""
    monkeypatch.setattr(sqlite, "SWEEP_PARTS", _PARTS)
    dropped, held = _run(tmp_path, seed, rollback_every=7)
    assert dropped > 50 and held > 0  # the parts found things to drop, in held keys


def test_a_part_loads_nothing_again_from_the_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A part deletes and rewrites rows of held keys, and the held copy follows by the
    same changes: it reads none of them back (one ``SELECT ... IN`` a table of every key
    it changed, with each key forgotten from every table first), and after it the known
    queries answer with no statement, as the file has them."""
    keys = _keys(4)
    path = tmp_path / "s.db"
    conn = connect(path)
    state = SQLiteState(conn)
    _oversized(conn, "big", T0)
    asked = [*_queries(keys), Members("big")]
    rng = random.Random(5)
    now = T0
    for step in range(40):
        now += 20.0
        state.read(asked, now)
        state.write(_writes(rng, keys, step), now)
        state.commit()
    state.read(asked, now)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    monkeypatch.setattr(sqlite, "SWEEP_PARTS", _PARTS)
    dropped = sum(state.sweep_part(now + 500, 0) for _ in range(_PARTS))
    state.commit()
    loads = [s for s in statements if s.startswith("SELECT") and " IN (" in s]
    assert dropped > 20 and not loads, loads[:3]
    statements.clear()
    answers = state.read(asked, now + 501)
    assert not [s for s in statements if s.startswith("SELECT")]
    fresh = SQLiteState(connect(path))
    assert answers == fresh.read(asked, now + 501)
    assert answers[-1] == ("q", "p")  # the cap's two newest left, oldest first
    fresh.close()
    state.close()

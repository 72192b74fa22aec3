"""Session 37's review of the SQLite layout of ``tail37`` (``review37b``): the verdict log in
time order by its rowid and the ``puts`` table, against the memory stores on hostile
input (times at the decoder's edges, repeated ids, late rows, purges, reopens), and the
file's durability across a kill and a migration."""

from __future__ import annotations

import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import killed_while_acknowledging
from spimguard import events
from spimguard.db import connect
from spimguard.errors import RecordsUnavailable, StateUnavailable
from spimguard.records import LogEntry, sql
from spimguard.records.memory import MemoryRecords
from spimguard.records.sqlite import SQLiteRecords, upgrade
from spimguard.server.console.sqlite import SQLiteConsole
from spimguard.state import ops
from spimguard.state.memory import MemoryState
from spimguard.state.sqlite import SQLiteState

T0 = 1_700_000_000.0
_LAST = math.nextafter(events._MAX_TS, 0)  # the latest time the event decoder admits


def _entry(i: str, ts: float, action: str = "hold", text: str | None = None,
           type_: str = "message", account: str = "a", session: str = "s") -> LogEntry:
    return LogEntry(id=i, ts=ts, type=type_, account=account, session=session, action=action,
                    score=1.0, signals=("X",), text_sha256="", text=text, fingerprint="",
                    domains=(), result=i.encode() + b"@" + repr(ts).encode(), keep={},
                    digest=f"d-{i}")


def test_a_repeated_id_in_one_batch_keeps_the_first_entry(tmp_path: Path) -> None:
    """The rows of a batch wait for the commit; an entry with a text and one without are two
    statements, which went in one after the other, not in the order saved: a repeated id
    whose first entry kept a text and whose second did not (or the reverse, after another
    textless row) kept the second, where the memory and PostgreSQL logs keep the first."""
    store, model = SQLiteRecords(connect(tmp_path / "r.db")), MemoryRecords()
    saved = [_entry("p", T0, "deliver"), _entry("x", T0 + 1, "hold", text="kept"),
             _entry("x", T0 + 2, "deliver")]
    for entry in saved:
        store.save(entry)
        model.save(entry)
    store.commit()
    assert store.message("x") == model.message("x") == saved[1]
    assert store.answers(["x"]) == model.answers(["x"])
    assert store.stopped(T0) == model.stopped(T0) == [saved[1]]
    store.close()


def _time(rng: random.Random) -> float:
    """A time at an edge the decoder admits: 0 and -0.0, a second's last double, the
    decoder's last second and its last double, an hour's last double."""
    base = rng.choice((0.0, T0, events._MAX_TS - 2.0, 3_600.0 * 7))
    ts = base + rng.choice((0.0, 0.5, 0.9999999999, math.nextafter(1.0, 0), 1.0, 2.999999,
                            3_599.9999999, 3_600.0))
    roll = rng.random()
    if roll < 0.1:
        return _LAST
    if roll < 0.15:
        return -0.0
    if roll < 0.2:
        return math.nextafter(3_600.0 * rng.randint(1, int(events._MAX_TS // 3_600)), 0)
    return min(ts, _LAST)


def _random_entry(rng: random.Random, n: int) -> LogEntry:
    return _entry(f"e{n}", _time(rng), rng.choice(("hold", "block", "deliver", "", "warn")),
                  rng.choice((None, None, "t")), rng.choice(("message", "message", "login")),
                  rng.choice(("a", "b")), rng.choice(("s", "t", "")))


@pytest.mark.parametrize("seed", range(6))
def test_the_time_ordered_log_answers_as_the_memory_log(tmp_path: Path, seed: int) -> None:
    """A hostile log (times at the decoder's edges, many rows a second, late rows, repeated
    ids within and across batches, rollbacks, purges at edge times, reopens): every read
    of the SQLite log answers as the memory log's. Seeds 0, 1, 3, 4 and 5 failed before
    the rows of a batch went in in the order saved (a repeated id's later entry kept)."""
    rng = random.Random(seed)
    path = tmp_path / "r.db"
    store, model = SQLiteRecords(connect(path)), MemoryRecords()
    made = 0
    for step in range(40):
        for _ in range(rng.randint(1, 30)):
            made += 1
            n = rng.randint(0, made) if rng.random() < 0.25 else made
            entry = _random_entry(rng, n)
            store.save(entry)
            model.save(entry)
        if rng.random() < 0.15:
            store.rollback()
            model.rollback()
        else:
            store.commit()
            model.commit()
        if rng.random() < 0.1:
            before = _time(rng)
            assert store.purge(before) == model.purge(before), (step, before)
        if rng.random() < 0.2:
            store.close()
            store = SQLiteRecords(connect(path))
        ids = [f"e{k}" for k in range(made + 2)]
        assert store.answers(ids) == model.answers(ids), step
        assert [store.message(i) for i in ids] == [model.message(i) for i in ids], step
        assert store.latest() == max((e.ts for e in model._log.values()), default=None), step
        since = _time(rng)
        for limit in (1, 3, 500):
            assert store.stopped(since, limit) == model.stopped(since, limit), (step, since)
        assert store.hourly(since) == model.hourly(since), (step, since)
        for account in ("a", "b"):
            assert store.recent(account, 5) == model.recent(account, 5), step
            for session in ("", "s"):
                assert (store.timeline(account, session, since, 7)
                        == model.timeline(account, session, since, 7)), (step, since)
    store.close()


def test_a_file_of_a_later_release_is_refused_at_the_open(tmp_path: Path) -> None:
    """A release before 37 opened 37's file and was refused only at its first commit; a file
    a later release migrated past this one's migrations is refused before any read, by
    the records, the console and ``spimguard db upgrade`` alike (they share ``upgrade``)."""
    path = tmp_path / "spimguard.db"
    SQLiteRecords(connect(path)).close()
    conn = connect(path)
    newest = sql.latest("sqlite")
    conn.execute("INSERT INTO spimguard_schema VALUES (?, 'later')", (newest + 1,))
    conn.commit()
    with pytest.raises(RecordsUnavailable, match=f"version {newest + 1}, of a later release"):
        SQLiteRecords(conn)
    with pytest.raises(RecordsUnavailable, match="no downgrade"):
        SQLiteConsole(conn)
    conn.close()


def _file_of_session_36(path: Path, rows: int) -> list[LogEntry]:
    """A WAL file as session 36's release left it: the record migrations up to 0003 and
    ``rows`` entries its insert wrote, out of time order, several a second."""
    rng = random.Random(36)
    conn = connect(path)
    conn.execute(sql.SCHEMA_TABLE)
    for version, name, script in sql.migrations("sqlite")[:3]:
        conn.executescript(f"BEGIN; {script}; INSERT INTO spimguard_schema VALUES "
                           f"({version}, '{name}'); COMMIT;")
    entries = [_entry(f"m{n}", T0 + rng.randrange(rows // 3) + rng.random(),
                      rng.choice(("hold", "deliver"))) for n in range(rows)]
    conn.executemany(sql.INSERT_LOG, [sql.log_row(e) for e in entries])
    conn.commit()
    conn.close()
    return entries


# Migration 0004 in a process that kills itself (SIGKILL) after ``steps`` of SQLite's
# virtual machine, counted in thousands: it may die anywhere in the migration's transaction.
_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
_MIGRATING = """
import os, signal, sys
from spimguard.db import connect
from spimguard.records.sqlite import upgrade

conn, left = connect(sys.argv[1]), [int(sys.argv[2])]

def step():
    left[0] -= 1
    if left[0] <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return 0

conn.set_progress_handler(step, 1_000)
upgrade(conn)
print("migrated", flush=True)
"""


def _migration_steps(path: Path) -> int:
    conn = connect(path)
    counted = [0]

    def step() -> int:
        counted[0] += 1
        return 0

    conn.set_progress_handler(step, 1_000)
    upgrade(conn)
    conn.close()
    return counted[0]


def test_migration_0004_killed_midway_leaves_the_old_file_or_the_new_one(
        tmp_path: Path) -> None:
    """Killed anywhere in migration 0004 (the verdict log copied, dropped, made again in
    time order), the file is either session 36's whole (version 3, its ``ts`` index, every
    row, no half-copied table) or 37's whole; opened again, it is upgraded and every row
    answers as it did. The migration is one transaction (``upgrade``'s ``BEGIN`` ...
    ``COMMIT``): this holds that line to account."""
    old = tmp_path / "old.db"
    entries = _file_of_session_36(old, 3_000)
    probe = tmp_path / "probe.db"
    probe.write_bytes(old.read_bytes())
    total = _migration_steps(probe)
    assert total > 20, total  # enough steps to die among
    outcomes = set()
    for fraction in (0.05, 0.3, 0.6, 0.9, 0.99, 2.0):
        path = tmp_path / f"killed{fraction}.db"
        path.write_bytes(old.read_bytes())
        child = subprocess.run([sys.executable, "-c", _MIGRATING, str(path),
                                str(max(1, int(total * fraction)))],
                               capture_output=True, text=True, check=False, env=_ENV)
        conn = sqlite3.connect(path)
        version = conn.execute("SELECT MAX(version) FROM spimguard_schema").fetchone()[0]
        tables = {name for name, in conn.execute("SELECT name FROM sqlite_master")}
        assert "verdict_log_before_37" not in tables, fraction
        assert ("verdict_log_ts" in tables) == (version == 3), (fraction, version)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(verdict_log)")]
        assert (columns[0] == "at") == (version == 4), (fraction, columns)
        assert conn.execute("SELECT COUNT(*) FROM verdict_log").fetchone()[0] == len(entries)
        conn.close()
        outcomes.add((version, child.returncode))
        store = SQLiteRecords(connect(path))
        ids = [e.id for e in entries]
        assert store.answers(ids) == _model_of(entries).answers(ids), fraction
        assert store.timeline("a", "s", T0, 5_000) == sorted(entries, key=lambda e: (e.ts, e.id))
        store.close()
    assert (3, -signal.SIGKILL) in outcomes and (4, 0) in outcomes, outcomes


def _model_of(entries: list[LogEntry]) -> MemoryRecords:
    model = MemoryRecords()
    for entry in entries:
        model.save(entry)
    return model


# A stream of messages, bulk's bands put under texts that repeat (the same put again),
# vary a word (a put sharing some bands with another: keys moved between puts) or are new.
_STREAM = """
import json, random, sys
from spimguard import decode_event, load_config, open_engine

def body(i):
    rng = random.Random(i)
    words = ["cheap", "pills", "crypto", "win", "prize", "now", "today", "friend", "click"]
    text = " ".join(rng.sample(words, 5)) if i % 3 else "claim your prize at win.test today"
    text += " " + rng.choice(["", "!", "now", f"code {i % 11}"])
    return {"type": "message", "id": f"m{i}", "ts": 1_700_000_000.0 + i * 0.7,
            "sender": f"bot{i % 5}", "recipients": [f"r{i % 40}"], "text": text, "session": "s"}
"""
_ACKNOWLEDGING = _STREAM + """
cfg = load_config(environ={}, storage={"backend": "sqlite"})
engine = open_engine(cfg, sys.argv[1])
for i in range(1_000_000):
    engine.process(decode_event(json.dumps(body(i)).encode(), cfg.limits))
    print(f"m{i}", flush=True)
"""
# After the kill: the file's engine and a memory engine given the logged prefix answer the
# same next events alike, if the file's state (its puts among it) is the prefix's whole.
_AFTER = _STREAM + """
import msgspec
from spimguard.state import ops

cfg = load_config(environ={}, storage={"backend": "sqlite"})
engine = open_engine(cfg, sys.argv[1])
logged = len(engine.records.answers([f"m{i}" for i in range(int(sys.argv[2]))]))
model = open_engine(load_config(environ={}, storage={"backend": "memory"}))
for i in range(logged):
    model.process(decode_event(json.dumps(body(i)).encode(), cfg.limits))
# Every value key, bulk's bands among them; not the clock, which the file keeps in its
# log (``Engine._opened_clock``), not as a value.
keys = sorted(set(model.state._values) - {"engine:clock"})
now = 1_700_000_000.0 + logged * 0.7
asked = [ops.Get(key) for key in keys]
assert engine.state.read(asked, now) == model.state.read(asked, now)
for i in range(logged, logged + 60):
    a, b = (e.process(decode_event(json.dumps(body(i)).encode(), cfg.limits))
            for e in (engine, model))
    assert msgspec.json.encode(a) == msgspec.json.encode(b), (i, a, b)
engine.close()
print(logged, flush=True)
"""


def test_kill_9_keeps_every_acknowledged_put_whole(tmp_path: Path) -> None:
    """Killed at an arbitrary moment of a stream whose bands are put again, moved between
    puts and new, the file's state is its logged prefix's: a memory engine given that
    prefix answers the next events as the file's engine does (the puts, their keys and
    the verdicts commit in one transaction). A mutant that drops one key row a commit
    fails it."""
    env = {**_ENV, "PYTHONHASHSEED": "0"}
    acknowledged = killed_while_acknowledging(
        [sys.executable, "-c", _ACKNOWLEDGING, str(tmp_path)], 150, env)
    assert acknowledged[-1] == f"m{len(acknowledged) - 1}"
    after = subprocess.run([sys.executable, "-c", _AFTER, str(tmp_path),
                            str(len(acknowledged) + 50)],
                           capture_output=True, text=True, check=False, env=env)
    assert after.returncode == 0, after.stderr[-2_000:]
    assert int(after.stdout) >= len(acknowledged), "an acknowledged event was lost"


def _hostile_writes(rng: random.Random, keys: list[str]) -> list[ops.Write]:
    """Puts of overlapping key sets (a key moved from one put to another, the old put still
    named by the rest), now and then a key twice in one; Puts over a Put's key and the
    reverse; deletes; values of every kind, expiries short and long."""
    writes: list[ops.Write] = []
    for _ in range(rng.randint(1, 5)):
        roll = rng.random()
        if roll < 0.6:
            group = tuple(rng.sample(keys, rng.randint(1, 6)))
            if rng.random() < 0.05:
                group += group[:1]
            writes.append(ops.Puts(group, rng.choice(("c1", "c2", b"\x01c3", 7, "")),
                                   ttl=rng.choice((5.0, 30.0, 200.0))))
        elif roll < 0.8:
            writes.append(ops.Put(rng.choice(keys), rng.randint(0, 3),
                                  ttl=rng.choice((5.0, 100.0))))
        else:
            writes.append(ops.Delete(rng.choice(keys)))
    return writes


def _interrupted_commit(state: SQLiteState, steps: int) -> bool:
    """Commit, SQLite's virtual machine interrupted after ``steps`` (a disk that fails
    mid-write, as the engine meets it): whether the commit failed (then rolled back)."""
    left = [steps]

    def step() -> int:
        left[0] -= 1
        return int(left[0] <= 0)

    state.conn.set_progress_handler(step, 1)
    try:
        state.commit()
    except StateUnavailable:
        state.conn.set_progress_handler(None, 0)
        state.rollback()
        return True
    state.conn.set_progress_handler(None, 0)
    return False


@pytest.mark.parametrize("seed", range(4))
def test_puts_answer_as_memory_through_failed_commits_sweeps_and_reopens(
        tmp_path: Path, seed: int) -> None:
    """Hostile puts (``_hostile_writes``) in batches, a fifth of the commits interrupted
    mid-write and the batch then done again (as a client retries what was not
    acknowledged), sweeps whole and in parts, reopens, held copies of a few keys or
    many: every key reads as the memory backend's. Nothing of a failed commit is
    half-written, in the file or in what the store holds of where a key's row is (a mutant
    keeping that across the rollback fails it, as does one dropping a key row a commit)."""
    rng = random.Random(seed)
    keys = [f"bulk:{i}:{n:08x}" for i in range(4) for n in range(4)]
    path, cached = tmp_path / "s.db", rng.choice((3, 8, 100))
    state, model = SQLiteState(sqlite3.connect(path), cached=cached), MemoryState()
    now, failed = T0, 0
    for step in range(120):
        now += rng.choice((0.5, 3.0, 20.0, 90.0))
        batch = [_hostile_writes(rng, keys) for _ in range(rng.randint(1, 3))]
        reads = [ops.Get(k) for k in rng.sample(keys, 5)]
        for store in (state, model):
            for writes in batch:
                store.read(reads, now)
                store.write(writes, now)
        if rng.random() < 0.2 and _interrupted_commit(state, rng.randint(1, 800)):
            failed += 1
            for writes in batch:
                state.read(reads, now)
                state.write(writes, now)
        state.commit()
        roll = rng.random()
        if roll < 0.08:
            assert state.sweep(now - 10) >= 0
            model.sweep(now - 10)
        elif roll < 0.25:
            state.sweep_part(now - 10, 0)
            model.sweep_part(now - 10, 0)
        if rng.random() < 0.07:
            state.close()
            state = SQLiteState(sqlite3.connect(path), cached=cached)
        asked = [ops.Get(k) for k in keys]
        assert state.read(asked, now) == model.read(asked, now), step
    state.close()
    assert failed >= 5, failed

"""Fewer WAL pages a message at batches of one (session 37, ``tail37``): the verdict log's
b-trees each pinned to a query the product runs, its rows in time order by rowid (no index
on ``ts``), a ``Puts`` one row of ``puts`` (bulk's six bands put again rewrite one row), the
pages a message writes at batches of one bounded, and a file of session 36's layout
upgraded (a node of that release refused by the new one's)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from conftest import T0
from spimguard.records import sql
from spimguard.records.sqlite import SQLiteRecords
from spimguard.state import ops
from spimguard.state.memory import MemoryState
from spimguard.state.sqlite import SQLiteState

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from batch_cost import counted

_COLUMNS = sql.COLUMNS.split(", ")


def _entry(n: int, ts: float, account: str = "a", action: str = "deliver") -> Any:
    from spimguard.records import LogEntry

    return LogEntry(id=f"m{n}", ts=ts, type="message", account=account, session="s",
                    action=action, score=0.0, signals=(), text_sha256="", text=None,
                    fingerprint="", domains=(), result=b"{}", keep={}, digest="")


def _plans(conn: sqlite3.Connection, store: SQLiteRecords) -> dict[str, set[str]]:
    """What each of the store's queries on the verdict log searches it by (an index's name,
    "rowid", or "SCAN" for a read of every row): each query the product runs, traced as it
    runs and asked for its plan with the values it bound."""
    said: list[str] = []
    conn.set_trace_callback(said.append)
    asked = {
        "answers": lambda: store.answers(["m1", "m2"]),
        "message": lambda: store.message("m1"),
        "latest": store.latest,
        "recent": lambda: store.recent("a"),
        "timeline of a session": lambda: store.timeline("a", "s", T0),
        "timeline": lambda: store.timeline("a", "", T0),
        "stopped": lambda: store.stopped(T0),
        "hourly": lambda: store.hourly(T0),
        "purge": lambda: store.purge(T0 - 86_400),
    }
    found: dict[str, set[str]] = {}
    for name, ask in asked.items():
        said.clear()
        ask()
        found[name] = set()
        for statement in said:
            if "verdict_log" not in statement or not statement.lstrip().upper().startswith(
                    ("SELECT", "DELETE")):
                continue
            for *_, detail in conn.execute(f"EXPLAIN QUERY PLAN {statement}"):
                if "verdict_log" not in detail:
                    continue
                if " USING INTEGER PRIMARY KEY" in detail:
                    found[name].add("rowid")
                elif " INDEX " in detail:
                    found[name].add(detail.split(" INDEX ", 1)[1].split()[0])
                elif detail.startswith("SCAN"):
                    found[name].add("SCAN")
    conn.set_trace_callback(None)
    return found


def test_each_index_of_the_verdict_log_is_one_a_query_searches_by(tmp_path: Path) -> None:
    """An index earns the page every commit writes of it only if a query the product runs
    searches by it: the ids (the answers of repeated ids, a reported message), an
    account's warned or stopped verdicts (``verdict_log_account``, partial: those rows
    alone), its timeline (``verdict_log_session``); the reads by time (the clock after a
    restart, the console's stopped and hourly, the purge) search the rowids, which are in
    time order. No query reads every row. On main an index on ``ts`` was a fourth b-tree
    every commit wrote a page of (1.07 of 19.1 frames a message at batches of one)."""
    conn = sqlite3.connect(tmp_path / "r.db")
    store = SQLiteRecords(conn)
    for n in range(40):
        store.save(_entry(n, T0 + n * 97.5, account="ab"[n % 2],
                          action="hold" if n % 7 == 0 else "deliver"))
    store.commit()
    plans = _plans(conn, store)
    assert plans == {
        "answers": {"sqlite_autoindex_verdict_log_1"},
        "message": {"sqlite_autoindex_verdict_log_1"},
        "latest": {"rowid"},
        "recent": {"verdict_log_account"},
        "timeline of a session": {"verdict_log_session"},
        "timeline": {"verdict_log_session"},
        "stopped": {"rowid"},
        "hourly": {"rowid"},
        "purge": {"rowid"},
    }, plans
    indexes = {name for name, in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'verdict_log'")}
    assert indexes == set().union(*plans.values()) - {"rowid"}


def test_the_reads_by_time_answer_as_the_times_say(tmp_path: Path) -> None:
    """Rows saved out of time order (a late event), several in one second, across hours:
    the latest time, the stopped, the hours and the purge are those of ``ts`` itself (a
    rowid's second bounds the range; ``ts`` decides within it)."""
    conn = sqlite3.connect(tmp_path / "r.db")
    store = SQLiteRecords(conn)
    rng = random.Random(37)
    times = [T0 + rng.choice((0.0, 0.25, 0.75, 1.5, 3_600.0, 3_601.5, 7_300.0)) for _ in range(60)]
    for n, ts in enumerate(times):
        store.save(_entry(n, ts, action=rng.choice(("deliver", "hold", "block"))))
        if n % 7 == 0:
            store.commit()
    store.commit()
    assert store.latest() == max(times)
    since = T0 + 0.5
    stopped = [e for e in store.stopped(since, 500)]
    assert [e.ts for e in stopped] == sorted((e.ts for e in stopped), reverse=True)
    assert len(stopped) == sum(1 for n, ts in enumerate(times) if ts >= since and
                               store.message(f"m{n}").action in ("hold", "block"))  # type: ignore[union-attr]
    assert sum(n for _, _, n in store.hourly(since)) == sum(ts >= since for ts in times)
    assert store.purge(T0 + 1.0) == sum(ts < T0 + 1.0 for ts in times)
    assert all(e.ts >= T0 + 1.0 for e in store.stopped(T0 - 10, 500))
    rowids = conn.execute("SELECT at, ts FROM verdict_log").fetchall()
    assert all(at >> 31 == int(ts) for at, ts in rowids)


def _old_file(path: Path) -> None:
    """A file as session 36's release left it: the record migrations up to 0003 (the
    verdict log with its index on ``ts``, an id its primary key), rows its insert wrote,
    and bulk's band keys as kv rows, each a Put of the cluster's id."""
    conn = sqlite3.connect(path)
    conn.execute(sql.SCHEMA_TABLE)
    for version, name, script in sql.migrations("sqlite")[:3]:
        conn.executescript(f"BEGIN; {script}; INSERT INTO spimguard_schema VALUES "
                           f"({version}, '{name}'); COMMIT;")
    rows = [sql.log_row(_entry(n, T0 + n * 0.4)) for n in range(10)]
    conn.executemany(sql.INSERT_LOG, rows[::-1])  # inserted out of time order
    conn.commit()
    conn.close()
    # Session 36's state: the tables, and two bands in kv.
    old = SQLiteState(sqlite3.connect(path))
    old.conn.executemany("INSERT INTO kv VALUES (?, ?, ?)",
                         [(key, ops.encode_value("c1"), T0 + 3_600)
                          for key in ("bulk:0:aa", "bulk:1:bb")])
    old.conn.execute("DELETE FROM puts")
    old.conn.commit()
    old.close()


def test_a_file_of_session_36_is_upgraded_and_refuses_that_release(tmp_path: Path) -> None:
    """Its verdict log is rebuilt in time order (every row kept, each answered by id as
    before, the index on ``ts`` gone), its band keys read from kv as they were and moved
    to ``puts`` at their next put; session 36's insert (an id with no rowid) is refused
    by the new layout, naming why, where it would have broken the time order silently."""
    path = tmp_path / "spimguard.db"
    _old_file(path)
    conn = sqlite3.connect(path)
    store = SQLiteRecords(conn)
    assert conn.execute("SELECT MAX(version) FROM spimguard_schema").fetchone()[0] == 4
    assert store.answers([f"m{n}" for n in range(10)]).keys() == {f"m{n}" for n in range(10)}
    assert store.latest() == T0 + 9 * 0.4
    assert [e.id for e in store.timeline("a", "s", T0)] == [f"m{n}" for n in range(10)]
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'verdict_log_ts'"
                        ).fetchone() == (0,)
    assert all(at >> 31 == int(ts) for at, ts in conn.execute("SELECT at, ts FROM verdict_log"))
    with pytest.raises(sqlite3.IntegrityError, match="no downgrade"):
        conn.execute(sql.INSERT_LOG, sql.log_row(_entry(99, T0 + 5)))
    conn.rollback()

    state = SQLiteState(conn)
    bands = [ops.Get("bulk:0:aa"), ops.Get("bulk:1:bb"), ops.Get("bulk:2:cc")]
    assert state.read(bands, T0) == ["c1", "c1", None]
    state.write([ops.Puts(("bulk:0:aa", "bulk:1:bb", "bulk:2:cc"), "c2", ttl=60.0)], T0)
    state.commit()
    assert conn.execute("SELECT COUNT(*) FROM kv WHERE key LIKE 'bulk:%'").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT put) FROM put_keys").fetchone() == (3, 1)
    state.close()
    reopened = SQLiteState(sqlite3.connect(path))
    assert reopened.read(bands, T0 + 1) == ["c2"] * 3
    reopened.close()


def _random_writes(rng: random.Random, keys: list[str]) -> list[ops.Write]:
    writes: list[ops.Write] = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.6:
            group = tuple(rng.sample(keys, rng.randint(1, 4)))
            writes.append(ops.Puts(group, rng.choice(("c1", "c2", b"\x01c3")),
                                   ttl=rng.choice((30.0, 200.0))))
        elif kind < 0.85:
            writes.append(ops.Put(rng.choice(keys), rng.randint(0, 3), ttl=100.0))
        else:
            writes.append(ops.Delete(rng.choice(keys)))
    return writes


@pytest.mark.parametrize("seed", range(6))
def test_puts_answer_as_the_memory_backend_through_commits_reopens_and_sweeps(
        tmp_path: Path, seed: int) -> None:
    """Puts of overlapping keys, Puts of the same keys again, Puts over a Put's key and the
    reverse, deletes, in batches, the file reopened and swept now and then: every key
    reads as the memory backend's (which keeps a Put of each key)."""
    rng = random.Random(seed)
    keys = [f"bulk:{i}:{n}" for i in range(3) for n in range(3)]
    path = tmp_path / "s.db"
    state, model = SQLiteState(sqlite3.connect(path), cached=rng.choice((4, 100))), MemoryState()
    now = T0
    for step in range(60):
        now += rng.choice((1.0, 20.0, 90.0))
        for _ in range(rng.randint(1, 3)):
            writes = _random_writes(rng, keys)
            for store in (state, model):
                store.read([ops.Get(k) for k in keys[:4]], now)
                store.write(writes, now)
        state.commit()
        if step % 9 == 8:
            state.sweep(now - 10)
            model.sweep(now - 10)
        if step % 13 == 12:
            state.close()
            state = SQLiteState(sqlite3.connect(path))
        asked = [ops.Get(k) for k in keys]
        assert state.read(asked, now) == model.read(asked, now), step
    state.close()


def test_the_same_keys_put_again_rewrite_one_row(tmp_path: Path) -> None:
    """Bulk's six bands put again by the next copy of a text: one ``puts`` row upserted,
    no key's row (on main: six kv rows each time)."""
    conn = sqlite3.connect(tmp_path / "s.db")
    state = SQLiteState(conn)
    bands = tuple(f"bulk:{i}:{i:08x}" for i in range(6))
    state.write([ops.Puts(bands, "c1", ttl=3_600.0)], T0)
    state.commit()
    said: list[str] = []
    conn.set_trace_callback(said.append)
    state.read([ops.Gets(bands)], T0 + 1)
    state.write([ops.Puts(bands, "c1", ttl=3_600.0)], T0 + 1)
    state.commit()
    conn.set_trace_callback(None)
    rows = [s.split(" (", 1)[0] for s in said if s.startswith(("INSERT", "DELETE"))]
    assert rows == ["INSERT INTO puts"], rows
    state.close()


def test_a_message_at_batches_of_one_writes_fewer_pages(tmp_path: Path) -> None:
    """The WAL frames a message's commits write at batches of one on the mixed load
    (``benchmarks/batch_cost.py``'s count: pages, not time): the verdict log's b-trees
    (three, and the partial one for warned or stopped verdicts) and bulk's bands (a
    ``puts`` row a text put again) bounded. Here main writes 17.72 frames a message, the
    verdict log's 4.66 and kv's 6.85; this release 14.48, 3.67, and 4.40 (kv, puts and
    put_keys)."""
    one = counted(1, tmp_path / "1", warm=400, messages=160)
    log = sum(n for tree, n in one.frames.items() if "verdict_log" in tree)
    values = sum(one.frames.get(tree, 0.0) for tree in ("kv", "puts", "put_keys"))
    assert log < 4.2, one.frames
    assert values < 5.6, one.frames
    assert sum(one.frames.values()) < 16.0, one.frames

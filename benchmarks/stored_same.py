"""One hash of every value the state holds after ``engine.py``'s mixed load, per backend.

    python benchmarks/stored_same.py [--users 150 --days 1] [--backends memory,sqlite]

A change in how the state reads or writes must leave every stored byte as it was: run it
on the base's tree and on the branch's, and the hashes must be equal, backend by
backend. ``verdicts.py`` hashes the answers; this hashes what the stores hold after the
load (judged in batches of 500), so a write that differs without moving a verdict yet
shows here. Memory: every table's keys and values (a member set's members with their
times, its expiry, TTL and cap; a record's names and held bytes, an account's lodged
items with its times). SQLite: every row of every table of the store's files, the
engine closed. The stores' hash key (``hashed.new_key``, random at a store's making) is
pinned, so two runs' hashed sets are the same bytes. Made for ``touch46``; ``ties45``'s
digest script, which was a ``/tmp`` one, is this.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

from engine import load
from spimguard import decode_event, load_config, open_engine
from spimguard.sim import network
from spimguard.state import hashed
from spimguard.state.memory import MemoryState

_KEY = b"stored-same-key!"  # (``hashed.KEY_BYTES``)


def _memory_items(state: MemoryState) -> list[tuple[str, Any]]:
    """Every value the memory store holds, by key, in a form of plain values."""
    items: list[tuple[str, Any]] = [("counter " + k, v) for k, v in state._counters.items()]
    for key in state._members:
        found = state.member_set(key)
        assert found is not None
        members, expiry, ttl, cap = found
        items.append(("set " + key, (sorted(members.items()), expiry, ttl, cap)))
    items += [("hashed " + k, v) for k, v in state._hashed.items()]
    items += [("value " + k, v) for k, v in state._values.items()]
    for prefix, home in state._homes.items():
        for name, record in home.records.items():
            items.append((f"record {prefix}{name}", (tuple(record.names), bytes(record.held),
                                                     record.end)))
    return sorted(items, key=lambda item: item[0])


def _sqlite_rows(folder: Path) -> list[tuple[str, Any]]:
    """Every row of every table of the store's files, ordered."""
    rows: list[tuple[str, Any]] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix in (".wal", ".shm") or path.name.endswith(
                ("-wal", "-shm")):
            continue
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            tables = [t for (t,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        except sqlite3.DatabaseError:
            continue
        for table in tables:
            for row in sorted(conn.execute(f'SELECT * FROM "{table}"'), key=repr):
                rows.append((f"{path.name} {table}", row))
        conn.close()
    return rows


def stored_hash(backend: str, lines: list[bytes]) -> tuple[str, int]:
    """The first 16 hex digits of one SHA-256 over every stored value, and their count."""
    cfg = load_config(environ={}, storage={"backend": backend},
                      official_clients=list(network.OFFICIAL_CLIENTS))
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as name, mock.patch.object(hashed, "new_key",
                                                                   lambda: _KEY):
        folder = Path(name)
        engine = open_engine(cfg, folder if backend == "sqlite" else None)
        events = [decode_event(line, cfg.limits) for line in lines]
        for start in range(0, len(events), 500):
            engine.process_batch(events[start:start + 500])
        if isinstance(engine.state, MemoryState):
            items = _memory_items(engine.state)
            engine.close()
        else:
            engine.close()
            items = _sqlite_rows(folder)
    for item in items:
        digest.update(repr(item).encode())
    return digest.hexdigest()[:16], len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--backends", default="memory,sqlite")
    args = parser.parse_args()
    lines = load(args.users, args.days)
    for backend in args.backends.split(","):
        digest, count = stored_hash(backend, lines)
        print(backend, digest, f"{count:,} values", flush=True)


if __name__ == "__main__":
    main()

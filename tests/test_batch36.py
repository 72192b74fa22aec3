"""``benchmarks/batch_cost.py``: a message's statements and WAL frames by batch size, and
what a batch pays of its own in the SQLite store (no timing: counts).

``batch_cost`` is this tree's benchmark (below)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

# The benchmark's module from this tree's ``benchmarks`` (not on the test command's path:
# the path is put back once it is imported, as ``test_speed_benchmark`` does per test).
with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from batch_cost import FIXED, counted, frames, kind, summary


def test_a_statement_is_told_by_its_head_not_by_what_it_holds() -> None:
    """Keys and members are hostile text: one that spells a statement's head, or the
    shape of a load, leaves the statement what it is."""
    said = {
        "BEGIN IMMEDIATE": "begin",
        "COMMIT": "commit",
        "PRAGMA data_version": "version",
        "SELECT id, digest, result FROM verdict_log WHERE id IN ('e1', 'e2')": "answers",
        "SELECT key, value, exp FROM counts WHERE key IN ('a','COMMIT')": "load counts",
        "SELECT key, member, ts, ttl, cap FROM members WHERE key IN ('k') ORDER BY key":
            "load members",
        "INSERT INTO kv (key, value, exp) VALUES ('COMMIT', x'00', 1.0) ON CONFLICT (key) "
        "DO UPDATE SET value = excluded.value": "row kv",
        "INSERT INTO members (key, member, ts) VALUES ('k', ' WHERE key IN (', 1.0)":
            "row members",
        "SELECT 1 FROM kv WHERE name = ' WHERE key IN ('": "other",
        "DELETE FROM members WHERE key = 'x WHERE key >= '": "row members",
        "DELETE FROM kv WHERE key >= 'a' AND key < 'b' AND exp <= 3.0 RETURNING key": "other",
        "INSERT OR REPLACE INTO sweep_lap VALUES ('kv', 1, 'k', 0)": "other",
        "": "other",
    }
    assert {statement: kind(statement) for statement in said} == said


def test_frames_are_read_from_a_wal_s_frame_headers() -> None:
    """Each whole frame's page number, in order; a frame cut short (a WAL being written)
    is not one."""
    page = 512
    header = bytearray(32)
    header[8:12] = struct.pack(">I", page)

    def frame(number: int) -> bytes:
        return struct.pack(">I", number) + bytes(20) + bytes(page)

    wal = bytes(header) + frame(7) + frame(3) + frame(9)[:100]
    assert frames(wal) == [7, 3]
    assert frames(bytes(header)) == []
    assert frames(b"") == []


def test_a_batch_pays_four_statements_of_its_own(tmp_path: Path) -> None:
    """Whatever its size, a batch runs four statements of its own (the write lock's BEGIN,
    the look at other processes' commits, the verdict log's look for repeated ids, and
    COMMIT): a batch of one pays all four for its message (3 batches of 16 here, 0.25 a
    message). A fifth statement a batch (a clock row, a second look, a checkpoint
    check) fails this; so does one fewer (an id not looked up: a repeat not answered
    from the log). The rest of a message's statements are its own rows and loads:
    a batch of one writes more of them (the keys a batch of 16 shares) but never fewer."""
    one = counted(1, tmp_path / "1", warm=160, messages=48)
    sixteen = counted(16, tmp_path / "16", warm=160, messages=48)
    assert {k: one.statements.get(k) for k in FIXED} == dict.fromkeys(FIXED, 1.0)
    assert {k: sixteen.statements.get(k) for k in FIXED} == dict.fromkeys(FIXED, 1 / 16)
    _, own, _, rows, written = summary(one)
    assert own == 4.0 and rows >= summary(sixteen)[3] > 0
    assert written >= summary(sixteen)[4] > 0
    assert "kv" in one.frames and "verdict_log" in one.frames

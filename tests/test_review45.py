"""Session 45's review (``review45``): what a spammer who reads main's new code, or a bad
day, could make of ``view45``'s views as ``msgspec.Struct``s and ``record45``'s numbers'
table read by a compiled ``Struct``, each beside main's code as the session began.

Regression tests: each passes on main before and after those changes, and fails if a later
change lets the two part (a view encoded, copied or laid out otherwise; a stored table
read to other doubles, or a table main refused read at all).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import random
import sqlite3
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import msgspec
import pytest

from spimguard import text
from spimguard.detectors.takeover import record as takeover_record
from spimguard.state.ops import Get, Put
from spimguard.state.sqlite import SQLiteState

TREE = Path(__file__).resolve().parents[1]
MAIN = "1841b11e"  # main as session 45 began
RECORD = "src/spimguard/detectors/takeover/record.py"

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(TREE / "benchmarks"))
    import view_same

# Texts whose views hold every kind of field: links with user parts and queries, IDN,
# confusables, hosts written apart, spaced words, nothing at all.
TEXTS = ("see tones-shop. com/new https://user@x.com/a?b=1 раypal.com",
         "f r e e  r i n g t o n e s at bit.ly/x", "tones-shop\u2022biz " * 40,
         "faß.de xn--fa-hia.de http://[::1]/x 10.0.0.1/a", "", "lol. github.io is down")


def _base_numbers() -> Any:
    """Main's ``_numbers`` (as the session began), run in this tree's module's globals
    (``array``, ``_TOP``, ``_lows``: unchanged by ``record45``)."""
    source = subprocess.run(["git", "-C", str(TREE), "show", f"{MAIN}:{RECORD}"], check=True,
                            capture_output=True, text=True).stdout
    found = next(node for node in ast.parse(source).body
                 if isinstance(node, ast.FunctionDef) and node.name == "_numbers")
    space = dict(vars(takeover_record))
    exec(compile(ast.Module(body=[found], type_ignores=[]), RECORD, "exec"), space)
    return space["_numbers"]


def _outcome(read: Any, packed: Any) -> bytes | None:
    """The doubles ``read`` gives, as their bytes (a sign and a NaN's bits kept), or None
    where it refuses the table."""
    try:
        nums = read(packed, takeover_record._TOP_BASE)
    except Exception:  # (refused: any error is loud, as main's were)
        return None
    return b"".join(takeover_record.struct.pack("<d", n) for n in nums)


def test_a_numbers_table_reads_as_mains_and_refuses_only_a_grown_one() -> None:
    """Stored tables as a bad disk or a crafted store could hold them (any low bytes, tops,
    an odd tail, indexes past either end, negative, the v4 order, one item or none): where
    main's ``array`` read a table, this reads the same doubles bit for bit; it refuses
    nothing main read but a table whose index past its end grew it (main read such a
    table with its numbers shifted, ``record45``'s length check refuses it); it reads
    nothing main refused."""
    base = _base_numbers()
    rng = random.Random(45)
    grown = refused = 0
    for _ in range(3_000):
        count = rng.randrange(6)
        low = rng.randbytes(6 * count + (1 if rng.random() < 0.05 else 0))
        packed: list[Any] = [low, rng.randrange(16)]
        for _ in range(rng.choice((0, 0, 1, 2, 4))):
            packed += [rng.randrange(-count - 2, count + 3), rng.randrange(16)]
        if rng.random() < 0.05:
            packed.pop()
        if rng.random() < 0.1:
            packed[:2] = packed[1::-1]  # v4: the top first
        if rng.random() < 0.03:
            packed = packed[:rng.randrange(2)]
        mine, mains = _outcome(takeover_record._numbers, packed), _outcome(base, packed)
        refused += mains is None
        if mine is None and mains is not None:
            grown += 1
            assert len(mains) != 8 * (count + 1), packed  # only a grown table
        else:
            assert mine == mains, packed
    assert 100 < refused < 2_900  # (tables both read and tables main refused are made)


def _names(made: type) -> tuple[str, ...]:
    """A Struct's fields, or a dataclass's, in their declared order."""
    return getattr(made, "__struct_fields__", None) or tuple(
        f.name for f in dataclasses.fields(made))  # type: ignore[arg-type]


def test_a_view_is_laid_out_encoded_and_copied_as_mains(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Main's views were frozen dataclasses: a Struct's fields must keep their declared
    order (positional builds, encodings, the golden digest), encode to the same bytes
    (JSON and msgpack), repr the same, copy, deep-copy and ``replace`` to equal views of
    equal hashes, and refuse ordering."""
    monkeypatch.setitem(sys.modules, "base_text", types.ModuleType("base_text"))
    base = view_same.base_text(TREE, MAIN)
    for mine_class, mains_class in ((text.MessageView, base.MessageView),
                                    (text.UrlFact, base.UrlFact)):
        assert _names(mine_class)[:len(_names(mains_class))] == _names(mains_class)
    # Fields added after main's last (``calls``, code49) come after them, in every form.
    added = _names(text.MessageView)[len(_names(base.MessageView)):]
    for written in TEXTS:
        mine, mains = text.view(written), base.view(written)
        for encoding in (msgspec.json, msgspec.msgpack):
            laid = encoding.decode(encoding.encode(mine))
            assert list(laid)[len(laid) - len(added):] == list(added)
            for name in added:
                del laid[name]
            assert encoding.encode(laid) == encoding.encode(mains)
        assert repr(mine) == repr(mains)[:-1] + "".join(
            f", {name}={getattr(mine, name)!r}" for name in added) + ")"
        replace = (msgspec.structs.replace if hasattr(mine, "__struct_fields__")
                   else dataclasses.replace)  # (main's before ``view45``)
        for made in (copy.copy(mine), copy.deepcopy(mine), replace(mine)):
            assert made == mine and hash(made) == hash(mine)
        assert mine != mains and mains != mine  # another class's view is never equal
        with pytest.raises(TypeError):
            _ = mine < mine  # type: ignore[operator]
        assert mine == text.view(written)


def test_a_load_that_raises_leaves_no_read_open(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``sqlite45`` runs the store's statements on one cursor kept for its life. A row's
    load that raised (a corrupt row's decoding, a memory error) left that cursor on its
    statement, and a rollback (Python 3.11 resets no cursor) left its read transaction
    open: another connection's checkpoint of the whole WAL was refused (busy) until the
    store's next statement, where base's cursor a statement was freed as the error left.
    What fails on ``sqlite45`` as merged."""
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    writer = SQLiteState(conn)
    writer.begin()
    writer.write([Put(f"v:{n}", n) for n in range(3)], 1_700_000_000.0)
    writer.commit()
    state = SQLiteState(sqlite3.connect(path))  # nothing held yet: every read loads
    state.begin()
    loaded = type(state._hot).load_value

    def corrupt(hot: Any, key: str, *rest: Any) -> None:
        if key == "v:0":
            raise ValueError("a corrupt row")
        loaded(hot, key, *rest)

    monkeypatch.setattr(type(state._hot), "load_value", corrupt)
    asked = [Get(f"v:{n}") for n in range(3)]
    with pytest.raises(ValueError, match="corrupt"):
        state.hold([asked])
        state.read(asked, 1_700_000_000.0)
    state.rollback()
    other = sqlite3.connect(path)
    busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0
    monkeypatch.undo()
    state.begin()
    assert state.read(asked, 1_700_000_000.0) == [0, 1, 2]
    state.commit()
    for held in (state, writer):
        held.close()
    other.close()

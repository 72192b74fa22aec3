"""Every field of every text's view the same as another tree's ``text.py`` gives it.

    python benchmarks/view_same.py [--base TREE] [--commit main] [--seeds 3]
                                   [--mixes 60000] [--datasets ../shared/datasets]

A speed change to the text view must leave each view as it was, bit for bit: this loads
another tree's ``src/spimguard/text.py`` (``--base``, by default this checkout) as
``--commit`` had it (by default ``main``, so a branch is compared with main as it stands;
``--commit ''``: the tree's working copy) beside this tree's and views each text through
both (``_view``, uncached, and ``view``), comparing every field, each link's
fields too, and the tokens. The texts (``texts``): ``text_view.py``'s corpus at ``--seeds``
seeds (10,000 each); every line of the bundled data and of the shared datasets
(``--datasets``), with their CSV fields and JSON strings; every string constant under
``tests/``, ``src/`` and ``benchmarks/`` (the tests' hostile strings); ``text_worst.py``'s
families at 2 KiB and its numbered units; and ``--mixes`` seeded random mixes of dangerous
pieces, code points from many blocks and link words. Printed: the texts compared and the
differences (the first few shown); it exits 1 on any difference. Session 45 (``view45``)
kept it, where session 44's was a scratch script.
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import io
import json
import random
import subprocess
import sys
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import text_view
import text_worst
from spimguard import text
from table import DATASETS, Rows, show

TREE = Path(__file__).resolve().parents[1]
TEXT = "src/spimguard/text.py"
# Pieces that switch each hint, pattern and branch of the view on or off (``tests/
# test_view40.py``'s, and the hostile kinds: runs of dots and slashes, zero-width and bidi
# characters, confusables, marks, other scripts' blanks and digits).
PIECES = ("a", "b", "x", "Z", "1", "42", "\u0663", "\u0661", "@", "$", "_", "-", "st", "nd",
          "rd", "th", "am", "pm", "dot", "DoT", "d", "o", "t", "[", "]", "(", ")", "{", "}",
          " ", "  ", "\t", "\n", "\u00a0", ".", ",", "..", "...", "\u2026", "/", "//", "\u2215",
          "?", ":", "://", "!", "*", "|", ";", "\u2022", "\u30fb", "\u00b7", "\u3002", "com",
          "co.uk", "biz", "so", "github.io", "tones-shop", "http://", "https://", "www.", "xn--",
          "%", "%2e", "\u00e9", "\u0301", "\u20dd", "\u4f60", "\u0e01", "\u0430", "\u043e",
          "\u200b", "\u200d", "\u2060", "\ufeff", "\u202e", "\u202c", "\u2067", "\u2069",
          "\u200f", "\U0001f600", "\U0001f1fa", "\u017f", "\u212a", "I", "\u00df", "\u03c2",
          "\uff0e", "\uff0f", "\u2024", "\u0660", "\u2800", "\u3000", "ｆｒｅｅ", "ℂ", "𝕒",
          "\u24b6", "\U0001f130", "punto", "точка", "\u70b9", "@u", "x2", "3pm", "10:30")
# Code points of the blocks a hostile text draws on (Latin, Greek, Cyrillic, Arabic,
# Hebrew, Thai, CJK, Hangul, marks, symbols, fullwidth, mathematical letters, emoji...).
BLOCKS = ((0x20, 0x7f), (0xa0, 0x250), (0x300, 0x370), (0x370, 0x400), (0x400, 0x530),
          (0x590, 0x700), (0xe00, 0xe80), (0x1e00, 0x1f00), (0x2000, 0x2070), (0x2100, 0x2200),
          (0x2460, 0x2500), (0x2600, 0x2800), (0x3000, 0x3100), (0x4e00, 0x4e80),
          (0xac00, 0xac80), (0xfe00, 0xfe30), (0xff00, 0xfff0), (0x1d400, 0x1d800),
          (0x1f100, 0x1f200), (0x1f300, 0x1f700), (0xe0000, 0xe0080), (0x1f1e6, 0x1f200))


def base_text(tree: Path, commit: str | None = None) -> types.ModuleType:
    """``tree``'s ``src/spimguard/text.py`` (as ``commit`` had it, if given: ``git show``)
    loaded as a module of its own (``base_text``)."""
    source = (subprocess.run(["git", "-C", str(tree), "show", f"{commit}:{TEXT}"], check=True,
                             capture_output=True, text=True).stdout if commit
              else (tree / TEXT).read_text("utf-8"))
    module = types.ModuleType("base_text")
    sys.modules["base_text"] = module  # dataclasses look their module up
    exec(compile(source, str(tree / TEXT), "exec"), module.__dict__)
    return module


def fields(held: Any) -> list[object]:
    """Each field's value of a view or a link (a dataclass's or a ``msgspec.Struct``'s), a
    view's links as their own fields', and the name of the value's type."""
    names = getattr(held, "__struct_fields__", None) or [
        field.name for field in dataclasses.fields(held)]
    return [type(held).__name__, *(
        [fields(url) for url in value] if name == "urls" else (type(value).__name__, value)
        for name in names for value in (getattr(held, name),))]


def _strings(path: Path) -> Iterator[str]:
    """A source file's string constants."""
    try:
        tree = ast.parse(path.read_text("utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def _lines(path: Path) -> Iterator[str]:
    """A data file's lines, and its CSV fields and JSON strings."""
    try:
        data = path.read_text("utf-8", errors="replace")
    except OSError:
        return
    for line in data.splitlines():
        yield line
        if "," in line or "\t" in line:
            for row in csv.reader(io.StringIO(line), delimiter="\t" if "\t" in line else ","):
                yield from row
        if line.startswith("{"):
            try:
                found = json.loads(line)
            except ValueError:
                continue
            if isinstance(found, dict):
                yield from (v for v in found.values() if isinstance(v, str))


def _mixes(count: int, seed: int) -> Iterator[str]:
    """``count`` random texts of pieces, code points and link words (seeded)."""
    rng = random.Random(seed)
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 24)):
            roll = rng.random()
            if roll < 0.6:
                parts.append(rng.choice(PIECES))
            elif roll < 0.85:
                low, high = rng.choice(BLOCKS)
                parts.append(chr(rng.randrange(low, high)))
            else:
                parts.append(rng.choice(text_view.SITES).format(n=rng.randrange(1000)))
        yield "".join(parts)


def texts(seeds: int = 3, mixes: int = 60_000, datasets: Path | None = None) -> list[str]:
    """The texts compared (see the module's docstring), each once, in a fixed order."""
    found: dict[str, None] = {}
    for seed in range(40, 40 + seeds):
        found.update(dict.fromkeys(text_view.corpus(10_000, seed)))
    roots = [TREE / "src" / "spimguard" / "data"] + ([datasets] if datasets else [])
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".tsv", ".txt", ".csv", ".jsonl", ".json"):
                found.update(dict.fromkeys(_lines(path)))
    for folder in ("tests", "src", "benchmarks"):
        for path in sorted((TREE / folder).rglob("*.py")):
            found.update(dict.fromkeys(_strings(path)))
    found.update(dict.fromkeys(text_worst.fill(unit, 2) for unit in text_worst.FAMILIES))
    found.update(dict.fromkeys(prefix + text_worst.fill(unit, 2)
                               for prefix, unit in text_worst.PREFIXED))
    found.update(dict.fromkeys(" ".join(unit.format(n) for n in range(300))
                               for unit in text_worst.NUMBERED))
    found.update(dict.fromkeys(_mixes(mixes, seed=45)))
    return list(found)


def differences(written: Iterable[str], base: types.ModuleType) -> Iterator[str]:
    """The texts whose views differ between this tree's ``text`` and ``base``."""
    for one in written:
        ours, theirs = text._view(one), base._view(one)
        # The fields the base view has; those added after its last (``calls``, code49)
        # are their own tests' to check.
        mine, its = fields(ours), fields(theirs)
        if (mine[:len(its)] != its or ours.tokens != theirs.tokens
                or fields(text.view(one)) != fields(ours)):
            yield one


def main(tree: Path, seeds: int = 3, mixes: int = 60_000, datasets: Path | None = None,
         commit: str | None = None) -> tuple[Rows, list[str]]:
    written = texts(seeds, mixes, datasets)
    differ = list(differences(written, base_text(tree, commit)))
    return [("texts compared", f"{len(written):,}"),
            ("views that differ", f"{len(differ):,}")], differ


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mixes", type=int, default=60_000)
    parser.add_argument("--commit", default="main",
                        help="the base tree's text.py as this commit had it")
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    args = parser.parse_args()
    rows, differ = main(args.base, args.seeds, args.mixes,
                        args.datasets if args.datasets.is_dir() else None, args.commit)
    show(rows)
    for one in differ[:10]:
        print(repr(one[:200]))
    sys.exit(1 if differ else 0)

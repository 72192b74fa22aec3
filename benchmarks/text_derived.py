"""Every pattern a message's text meets, driven by texts built from its own pieces.

    nice python benchmarks/text_derived.py [--top 15]

For every compiled pattern of the modules a message's text passes through (``PATH``, and
those ``text`` builds in functions: ``BUILT``), the texts built from the characters and
literals the pattern itself names (``pieces``: each piece and each pair, repeated, ended by
nothing, the unit's first character or a blank, letter, digit, full stop or mark) are
scanned at 1 KiB; the slowest of each pattern is then made a 64 KiB message (the event
size limit) and timed, at 16, 32 and 64 KiB, through the uncached view (``text._view``)
and the whole engine's judging of it (memory store, a new sender each). What a pattern's
shape lets an attacker who reads it write, measured where the message goes.
``tests/test_linear41.py`` holds every pattern's scan to linear growth with the same texts.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import re
import re._constants as sre_constants  # type: ignore[import-not-found]
import re._parser as sre_parser  # type: ignore[import-not-found]
import time
from collections.abc import Iterator
from typing import Any, TypeAlias

import msgspec
import regex

from spimguard import load_config, open_engine, text
from spimguard.events import decode_event
from spimguard.text import _view as uncached_view

Pattern: TypeAlias = re.Pattern[str] | re.Pattern[bytes] | regex.Pattern[str]


# The modules a message's text passes through on its way through the engine: the view
# (``text``), the content model's features and cues, the URL model, bulk's words, the
# campaign keys, the look-alike names, the notices' rendering, attachments' names, the
# Matrix reader and notices, the block list's entries.
PATH = ("spimguard.text", "spimguard.model.cues", "spimguard.model.features",
        "spimguard.campaigns", "spimguard.lookalike", "spimguard.notices",
        "spimguard.detectors.bulk", "spimguard.detectors.attachments",
        "spimguard.urlmodel.features", "spimguard.urlmodel.words", "spimguard.server.mxhtml",
        "spimguard.server.matrix_notices", "spimguard.lists", "spimguard.evidence",
        "spimguard.detectors.content", "spimguard.detectors.links")
# The patterns ``text`` builds once (from Unicode data or the suffix list), with the
# arguments it builds them with.
BUILT: dict[str, tuple[tuple[bool, ...], ...]] = {
    "_url_patterns": ((False,), (True,)), "_apart": ((False,), (True,)), "_tail_hint": ((),),
    "_host_part": ((False,), (True,)), "_small_capital_word": ((),),
    "_label_then_ideographic_dot": ((),), "_enclosing": ((),), "_any_mark": ((),)}
# Patterns that only ever match at one given position (``match``, ``fullmatch``): a call is
# one scan from there, however the pattern fails; where they are called, and why that call
# is bounded.
ANCHORED = {
    "spimguard.text._FIGURE": "fullmatch of one leet run (``_figure``)",
    "spimguard.text._NETLOC": "match at a link's start (``_as_url``)",
    "spimguard.text._GLUED_PROSE": "match at a host's start, once a link",
    "spimguard.text._SCHEME": "match at a link's start (``parse_url``)",
    "spimguard.text._LINK_BEFORE": "match back from a '/', at most 253 characters",
    "spimguard.lists._SCHEME": "match at an entry's start",
    "text._host_part": "match from a dot, each character of a host read once (``_apart_hosts``)",
    # The Matrix reader searches from its position for the next token: a tag that never
    # closes ends the reading there ("end of input inside a tag"), and ``_ATTRIBUTES``
    # reads the attributes that ``_TOKEN`` matched whole (``benchmarks/hostile.py`` times
    # the reader on 64 KiB of each hostile piece).
    "spimguard.server.mxhtml._TOKEN": "searched once per token; an unclosed tag ends the reading",
    "spimguard.server.mxhtml._ATTRIBUTES": "reads one whole tag's attributes",
}
# Each text is screened at 256 and 1024 characters: four times the text, four times the
# scan if linear, sixteen if quadratic; one that grows over ten times (with 50 µs for the
# timer and the caches) is timed again, best of several, at 512 and 4096.
SCREEN = (256, 1024)
SMALL, LARGE = 512, 4096


def _compiled() -> dict[str, Pattern]:
    found: dict[str, Pattern] = {}
    for name in PATH:
        for key, value in vars(importlib.import_module(name)).items():
            if isinstance(value, re.Pattern | regex.Pattern):
                found[f"{name}.{key}"] = value
    for builder, calls in BUILT.items():
        for args in calls:
            built = getattr(text, builder)(*args)
            for index, pattern in enumerate(built if isinstance(built, tuple) else (built,)):
                found[f"text.{builder}{args}[{index}]"] = pattern
    return found


PATTERNS = _compiled()
# A few characters of every kind a class may name, for the ``regex`` module's properties
# (``\p{L}``, ``\p{Bidi_Class=R}``): one from ASCII and three from beyond, where the
# property holds any.
_KINDS = ("".join(map(chr, range(0x20, 0x7F))) + "\t\n\u00a0\u00e9\u00df\u0430\u05d0\u0627"
          "\u0663\u0e01\u0e34\u0301\u20dd\u4f60\u200b\u202e\u2068\U0001f600\uff08\u201c\u00ab"
          "\u20ac\u00a3\u2800\u3002\u2022\u1d00\U0001f1e6")
_PROPERTY = re.compile(r"\\([pP])\{[^}]*\}")


def _having(prop: str, negated: bool) -> str:
    holds = regex.compile(f"[{prop}]")
    chars = [c for c in _KINDS if bool(holds.match(c)) != negated]
    ascii_, beyond = [c for c in chars if c.isascii()], [c for c in chars if not c.isascii()]
    return "".join(ascii_[:1] + beyond[:3])


def _properties_spelled_out(source: str) -> tuple[str, dict[str, None]]:
    """A ``regex`` pattern's source with each property (``\\p{L}``, ``\\P{N}``) written as
    a few of its characters (a class of them outside a class), which ``re``'s parser reads;
    and the characters so named outside ASCII."""
    out: list[str] = []
    named: dict[str, None] = {}
    inside, at = False, 0
    while at < len(source):
        found = _PROPERTY.match(source, at)
        if found:
            chars = _having("\\p" + found.group()[2:], found.group(1) == "P")
            named.update(dict.fromkeys(c for c in chars if not c.isascii()))
            out.append(re.escape(chars) if inside else f"[{re.escape(chars)}]")
            at = found.end()
        elif source[at] == "\\":
            out.append("." if source[at:at + 2] == r"\X" else source[at:at + 2])
            at += 2
        elif source[at] == "[" and not inside:
            inside, at = True, at + 1
            out.append("[^" if source.startswith("^", at) else "[")
            at += source.startswith("^", at)
        else:
            inside = inside and source[at] != "]"
            out.append(source[at])
            at += 1
    return "".join(out), named


def _pieces(pattern: Pattern) -> list[str]:
    """The characters the pattern's classes and literals name (each range's ends and the
    character before it, a category's members, one outside a negated class), and its
    literal words ("dot", "://"): what a text built to drive it is made of."""
    source = pattern.pattern.decode("latin-1") if isinstance(pattern.pattern, bytes) \
        else pattern.pattern
    flags = pattern.flags & (re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE)
    named: dict[str, None] = {}  # what the ``regex`` module's properties name, first
    if isinstance(pattern, regex.Pattern):
        source, named = _properties_spelled_out(source)
    chars: dict[str, None] = dict.fromkeys(" .a1")
    beyond: dict[str, None] = dict.fromkeys(list(named)[:12])  # outside ASCII: a few
    words: dict[str, None] = {}
    categories = {sre_constants.CATEGORY_DIGIT: "1", sre_constants.CATEGORY_NOT_DIGIT: "a",
                  sre_constants.CATEGORY_SPACE: " \n", sre_constants.CATEGORY_NOT_SPACE: "a.",
                  sre_constants.CATEGORY_WORD: "a1_\u0430",
                  sre_constants.CATEGORY_NOT_WORD: " .!\u0301"}

    def add(char: str) -> None:
        if char in "\x00\r" or 0xD800 <= ord(char) <= 0xDFFF:
            return
        (chars if char.isascii() else beyond)[char] = None

    def literal(run: str) -> None:
        """A run of literal letters is a word ("dot", "www"); its marks are pieces."""
        if len(run) > 1 and len(words) < 4:
            words[run] = None
        for char in run:
            if len(run) == 1 or not char.isalnum():
                add(char)

    def walk(items: Any) -> None:  # the parser's (op, argument) pairs, untyped
        run = ""
        for op, av in items:
            if op is sre_constants.LITERAL:
                run += chr(av)
                continue
            literal(run)
            run = ""
            if op is sre_constants.NOT_LITERAL:
                add(chr(av))
                add("b" if chr(av) == "a" else "a")
            elif op is sre_constants.IN:
                for kind, value in av:
                    if kind is sre_constants.LITERAL:
                        add(chr(value))
                    elif kind is sre_constants.RANGE:
                        low, high = value
                        add(chr(low))
                        add(chr(high))
                        if low:
                            add(chr(low - 1))
                    elif kind is sre_constants.CATEGORY:
                        for char in categories.get(value, ""):
                            add(char)
                    elif kind is sre_constants.NEGATE:
                        for char in " a.1":
                            add(char)
            elif op is sre_constants.ANY:
                add("a")
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT,
                        sre_constants.POSSESSIVE_REPEAT):
                walk(av[2])
            elif op is sre_constants.SUBPATTERN:
                walk(av[3])
            elif op is sre_constants.ATOMIC_GROUP:
                walk(av)
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                walk(av[1])
            elif op is sre_constants.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op is sre_constants.GROUPREF_EXISTS:
                walk(av[1])
                if av[2]:
                    walk(av[2])
        literal(run)

    walk(sre_parser.parse(source, flags))
    return [*chars, *list(beyond)[:len(named) + 4], *words]


def _texts(pieces: list[str]) -> Iterator[tuple[str, str]]:
    """(unit, tail): each piece and each pair of two, ended by nothing, by the unit's first
    character (a run of "$$a" then "$") or by a blank, a letter, a digit, a full stop or a
    mark, one of which any run of pieces a pattern reads on meets as its end."""
    units = [*pieces, *(a + b for a, b in itertools.permutations(pieces, 2))]
    for unit in units:
        for tail in dict.fromkeys(("", unit[0], " ", "a", "1", ".", "!", "\n")):
            yield unit, tail


def _fill(unit: str, tail: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size - len(tail)] + tail


def _scan(pattern: Pattern,
          text_: str, runs: int = 1) -> float:
    subject: str | bytes = text_.encode("utf-8") if isinstance(pattern.pattern, bytes) \
        else text_
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        for _found in pattern.finditer(subject):  # type: ignore[arg-type]
            pass
        best = min(best, time.process_time() - start)
    return best


def _grown(pattern: Pattern, unit: str, tail: str) -> tuple[float, float]:
    """Seconds of the best of three scans at ``SMALL`` characters and of two at ``LARGE``."""
    return (_scan(pattern, _fill(unit, tail, SMALL), runs=3),
            _scan(pattern, _fill(unit, tail, LARGE), runs=2))


def _outgrown(small: float, large: float) -> bool:
    """Eight times the text costs a linear scan eight times the time, a quadratic one 64:
    over 24 (and 2 ms, far above a timer's grain) is quadratic."""
    return large > 24 * small and large > 0.002


def quadratic(pattern: Pattern,
              limit: int = 3) -> list[tuple[str, str, float, float]]:
    """The texts built from the pattern's pieces whose scan grows faster than the text
    (``_outgrown``): (unit, tail, seconds at 512, seconds at 4096 characters), the first
    ``limit`` found."""
    found = []
    for unit, tail in _texts(_pieces(pattern)):
        short, long = (_scan(pattern, _fill(unit, tail, size)) for size in SCREEN)
        if long < 10 * short + 0.00005:
            continue
        small, large = _grown(pattern, unit, tail)
        # Twice, so that a shared machine's stall in one timing is no finding.
        if _outgrown(small, large) and _outgrown(*_grown(pattern, unit, tail)):
            found.append((unit, tail, small, large))
            if len(found) >= limit:
                break
    return found


T0 = 1_790_000_000.0


def slowest(kib: int = 64, top: int = 15) -> list[tuple[float, float, float, float, str, str]]:
    """(judge s at 64 KiB, view s at 16, 32, 64 KiB, pattern, text's unit and tail) for the
    slowest derived text of each pattern, slowest judged first; the ``top`` of them."""
    engine = open_engine(load_config(environ={}, storage={"backend": "memory"}))
    sent = itertools.count()

    def judge(written: str) -> float:
        n = next(sent)
        event = decode_event(msgspec.json.encode(
            {"type": "message", "id": f"m{n}", "ts": T0 + n, "sender": f"@s{n}",
             "recipients": [f"@r{n}"], "text": written}), engine.config.limits)
        start = time.process_time()
        engine.process(event)
        return time.process_time() - start

    def view(written: str) -> float:
        start = time.process_time()
        uncached_view(written)
        return time.process_time() - start

    def message(unit: str, tail: str, size: int) -> str:
        """``unit`` repeated, then ``tail``: ``size`` KiB of UTF-8, whole characters."""
        room = size * 1024 - len(tail.encode("utf-8"))
        body = (unit * (room // len(unit) + 1)).encode("utf-8")[:room]
        return body.decode("utf-8", "ignore") + tail

    judge("warm-up: frее ríngtones 你好 😀 at example.com and bit[.]ly")
    rows: list[tuple[float, float, float, float, str, str]] = []
    for name, pattern in PATTERNS.items():
        unit, tail = max(_texts(_pieces(pattern)),
                         key=lambda made: _scan(pattern, _fill(made[0], made[1], 1024)))
        quarter, half, whole = (view(message(unit, tail, size))
                                for size in (kib // 4, kib // 2, kib))
        rows.append((judge(message(unit, tail, kib)), quarter, half, whole, name,
                     f"{unit!r} + {tail!r}"))
    return sorted(rows, reverse=True)[:top]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kib", type=int, default=64)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(f"{len(PATTERNS)} patterns; each one's slowest derived text, ms CPU: the whole "
          f"engine's judging at {args.kib} KiB, the view at a quarter, half and all of it")
    print(f"{'judge':>7} {'view/4':>7} {'view/2':>7} {'view':>7}  pattern: unit + tail")
    for judged, quarter, half, whole, name, made in slowest(args.kib, args.top):
        print(f"{judged * 1000:7.1f} {quarter * 1000:7.1f} {half * 1000:7.1f} "
              f"{whole * 1000:7.1f}  {name}: {made}")

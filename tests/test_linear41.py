"""Session 41 (``linear41``): every pattern a message's text meets, in linear time by
construction.

Message text is hostile, and a pattern that lets a match start at many positions, each
reading on to the same far point and failing there, costs the square of the text (session
40: the parted word's start, ``"$$a"`` to 64 KiB then ``"$"``, 25 s; found by one lucky
draw of ``tests/test_text_linear.py``). The search here finds that shape without luck: for
every compiled pattern of the modules a message's text passes through, its units come from
the pattern's own character classes and literals (each piece alone and each pair of them,
repeated, ended by nothing, by the unit's first character or by a blank, a letter, a digit,
a full stop or a mark: ``benchmarks/text_derived.py``), and a pattern whose scan of such a
text grows faster than the text fails. A repeated unit is the same at every start, so a
start that reads to the run's end and fails there is at every repetition; the pieces are
the characters the pattern tests, so a unit of them drives each branch. On the code before
session 40's fix (``8321215^``) the search finds ``_PARTED_WORD`` (``"a(" * n + "a"``) in
every run; on this session's code it finds nothing: no test here failed before this
session's code (the property held, and these tests keep it).
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
import regex

from spimguard import text

# The benchmark's module from this tree's ``benchmarks`` (not on the test command's path:
# the path is put back once it is imported, as ``test_view40`` does).
with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from text_derived import ANCHORED, BUILT, PATTERNS, quadratic


@pytest.mark.parametrize("name", sorted(set(PATTERNS) - set(ANCHORED)))
def test_no_pattern_a_text_meets_scans_in_quadratic_time(name: str) -> None:
    assert quadratic(PATTERNS[name]) == [], name


def test_the_search_finds_the_shapes_that_were_quadratic() -> None:
    """The search itself, on the patterns that were: session 40's parted word (a start at
    each letter after a sign that is also the mark between letters) and session 13's leet
    word (look-aheads rescanning a run from every word boundary in it)."""
    # Session 40's start: after a blank or any such sign, the mark between letters too.
    parted_40 = regex.compile(text._PARTED_WORD.pattern.replace(
        r"(?<=(?:^|\s)[\p{Ps}\p{Pi}\p{Sc}]{0,3})", r"(?<![^\s\p{Ps}\p{Pi}\p{Sc}])"))
    assert parted_40.pattern != text._PARTED_WORD.pattern
    leet_13 = re.compile(r"\b(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[0-9@$])[a-z0-9@$]{3,}")
    for old in (parted_40, leet_13):
        assert quadratic(old, limit=1), old.pattern


def test_every_pattern_built_by_a_function_is_searched() -> None:
    """A pattern ``text`` builds in a function (from Unicode data, the suffix list) is in
    no module's names: each such function must be listed in ``BUILT``."""
    builders = {name for name, value in vars(text).items()
                if inspect.isfunction(getattr(value, "__wrapped__", value))
                and "Pattern" in str(inspect.signature(value).return_annotation)}
    assert builders == set(BUILT)


@pytest.mark.parametrize("name", sorted(n for n in ANCHORED if n.startswith("spimguard.")
                                        and not n.startswith("spimguard.server.")))
def test_an_anchored_pattern_is_only_ever_matched_at_a_position(name: str) -> None:
    """What lets a pattern off the search: its module calls it with ``match`` or
    ``fullmatch`` alone."""
    module, _, key = name.rpartition(".")
    source = Path(importlib.import_module(module).__file__ or "").read_text("utf-8")
    calls = set(re.findall(rf"\b{key}\.(\w+)\(", source))
    assert calls and calls <= {"match", "fullmatch"}, (name, calls)

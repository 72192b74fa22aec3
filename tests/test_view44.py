"""Session 44's cheaper new view (``view44``): the C scans put before hints and loops may
only skip work that finds nothing, so each is checked against what it skips, and every
field of the view against main's ``text.py`` before the session."""

from __future__ import annotations

import functools
import subprocess
import sys
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_view40 import PIECES, _fields, apart_texts, ascii_texts, texts

from spimguard import text

# Every whitespace character ``str.split`` parts words at, beside the pieces.
BLANKS = tuple(chr(c) for c in range(0x3001) if chr(c).isspace())
spaced_texts = st.lists(st.sampled_from(PIECES + BLANKS), max_size=24).map("".join)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(texts, spaced_texts))
def test_one_spaced_is_split_and_joined(written: str) -> None:
    """``one_spaced`` gives what ``split`` and ``join`` gave, and a printable text itself
    where that is equal to it (no string made)."""
    joined = " ".join(written.split())
    assert text.one_spaced(written) == joined
    if joined == written and written.isprintable():
        assert text.one_spaced(written) is written


def test_every_blank_is_unprintable_but_the_space() -> None:
    """What ``one_spaced`` rests on, for every code point."""
    assert [c for c in map(chr, range(sys.maxunicode + 1))
            if c.isspace() and c.isprintable()] == [" "]


@settings(max_examples=1500, deadline=None)
@given(st.one_of(texts, ascii_texts, apart_texts))
def test_no_tail_skipped(written: str) -> None:
    """``_may_have_tail`` is False only where ``_tail_hint`` finds nothing."""
    if text._tail_hint().search(written):
        assert text._may_have_tail(written)
    assert not text._may_have_tail("ok? see you. bye?")
    assert text._may_have_tail("ok?see")


@settings(max_examples=1500, deadline=None)
@given(st.one_of(texts, ascii_texts, apart_texts))
def test_sentence_dots_hold_no_link(written: str) -> None:
    """Where ``_sentence_dots`` says every full stop ends a sentence, no chunk ``_urls_in``
    reads may link (its loop finds nothing)."""
    if text._sentence_dots(written):
        assert not [chunk for chunk in written.split()
                    if text._may_link(chunk.rstrip(text._TRAILING))]
    assert text._sentence_dots("ok. see you.")
    assert not text._sentence_dots("ok. see x.com")


BEFORE = "9d20870"  # main at session 44's start


@functools.cache
def _before() -> types.ModuleType:
    """``text.py`` as main had it at the session's start, from the repository's history."""
    root = Path(__file__).resolve().parents[1]
    try:
        source = subprocess.run(["git", "-C", str(root), "show", f"{BEFORE}:src/spimguard/text.py"],
                                check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history to read main's text.py from")
    module = types.ModuleType("before_text")
    sys.modules["before_text"] = module  # dataclasses look their module up
    exec(compile(source, "before_text.py", "exec"), module.__dict__)
    return module


@settings(max_examples=1500, deadline=None)
@given(st.one_of(texts, ascii_texts, apart_texts, spaced_texts))
def test_view_as_before(written: str) -> None:
    """Every field of the view, and of each link, as main's ``text.py`` gave it."""
    assert text.one_spaced  # this session's (the comparison alone holds on main too)
    assert _fields(text._view(written)) == _fields(_before()._view(written))
    assert text.masked(written, ("a.com",)) == _before().masked(written, ("a.com",))

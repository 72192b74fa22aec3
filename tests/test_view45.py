"""Session 45 (``view45``): a new text's view built in C, every field as before.

``MessageView`` and ``UrlFact`` were frozen dataclasses, whose ``__init__`` set each field
by an ``object.__setattr__`` call (~27,600 instructions a view); they are frozen
``msgspec.Struct``s now. These pin that the build runs no Python frame, that what readers
rely on holds (frozen, equal and hashed by fields, picklable, a dictionary's key), and that
every field of hostile texts' views is main's (the smoke of ``benchmarks/view_same.py``,
new here, on main's ``text.py`` as the session began).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from spimguard import text

TREE = Path(__file__).resolve().parents[1]
MAIN = "1841b11e"  # main as session 45 began

with pytest.MonkeyPatch.context() as _patch:
    _patch.syspath_prepend(str(TREE / "benchmarks"))
    import view_same

# Hostile texts: runs of dots and slashes, confusables, zero-width and bidi characters,
# links apart and whole, and 10 KB of each.
HOSTILE = ("see tones-shop. com/new", "a" + "." * 5000, "/" * 5000 + "x.com", "http://" * 900,
           "раypal.com \u200bwww.\u200bx.com", "\u202ehttp://denied.example\u202c ok",
           "tones-shop\u2022biz " * 400, "a. b. c. " * 1200, "faß.de ϲ xn--fa-hia.de",
           "ｆｒｅｅ 🅕🅡🅔🅔 ríñgtönés\u0301 www.bbc.co.uk/news/1 bit.ly/x" * 40,
           "x1.zz " * 1700, "你好，请看 tones-shop.com 很好 สมัครเลย", "")


def _calls(build: Any) -> int:
    """How many Python frames ``build()`` opens (its own not counted)."""
    opened: list[str] = []

    def seen(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            opened.append(frame.f_code.co_name)

    sys.setprofile(seen)
    try:
        build()
    finally:
        sys.setprofile(None)
    return len(opened) - 1  # ``build``'s own


def test_a_view_is_built_with_no_python_frame_and_read_as_before() -> None:
    """Main's frozen dataclasses ran an ``__init__`` in Python, a frame each (what fails on
    main). What readers rely on, and main's views gave, still holds: a batch keys its texts
    by their views (``features.batch_parts``), and a view is never changed once built."""
    url = text.parse_url.__wrapped__("https://x.com/a", explicit=True)
    assert url is not None
    assert _calls(lambda: text.MessageView(
        text="a", skeleton="a", urls=(url,), domains=("x.com",), fingerprint="f", masked="a",
        prose="a", prose_skeleton="a", spaced=True, apart_hosts=("b.com",), apart_tails=(1,),
        apart_sites=("b.com",), unread_hosts=(), transitional_hosts=())) == 0
    assert _calls(lambda: text.UrlFact("https://x.com/a", "x.com", "x.com", "x.com", False,
                                       True, "", "/a", "")) == 0
    first, again = text._view("see https://x.com/a and tones-shop. com/new"), text._view(
        "see https://x.com/a and tones-shop. com/new")
    assert first is not again and first == again and hash(first) == hash(again)
    assert {first: 1}[again] == 1 and first != text._view("another")
    assert pickle.loads(pickle.dumps(first)) == first
    with pytest.raises(AttributeError):
        first.text = "changed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        first.urls[0].host = "evil.example"  # type: ignore[misc]
    assert first.tokens == text.tokenize(first.text)


def test_hostile_texts_are_viewed_as_main_viewed_them() -> None:
    """Every field of each view, each link's too, and the tokens, as main's ``text.py``
    gives them (``view_same``, the benchmark that compares 200,000 texts so)."""
    try:
        base = view_same.base_text(TREE, MAIN)
    except (OSError, subprocess.CalledProcessError):  # a clone without main's history
        pytest.skip("no git history to read main's text.py from")
    written = [*HOSTILE, *view_same._mixes(300, seed=45)]
    assert list(view_same.differences(written, base)) == []

"""Session 34's review of ``links34`` (where a link's host ends), from the spammer's seat.

Each measured on main 4ddf5c2 first, where each test here fails:

- Every link whose authority ended at a mark ("*", "|", "^", "[", ...) read its run on to
  the next blank (``text._run_on``), and a run of such links ("www.a|www.a|...") is one
  link-like word after another: 64 KiB of them cost the square of the run, 8.2 s against
  base's 18 ms (/work/wt/base, same minute). A browser's host ends at its authority's end
  ('/', '\\\\', '?', '#'), and no name DNS answers is longer than 253 characters: the run on
  is read to there, and its path only for a link read whole (``text._stops``).
- An enclosing mark after a suffix, then more labels ("tones-shop.com\\u20dd.zzz"): the
  reader's reading is tones-shop.com.zzz, under no suffix, and no link was read; a
  linkifier's label holds no such mark and links tones-shop.com (as base read it). Both
  readings are read now, the cut one if its host lies under a public suffix.
- The CJK words for the dot were read only glued between two Latin labels; with blanks or
  brackets around them ("tones-shop 点 com"), as the other languages' words are read, no
  guess was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from spimguard import text
from spimguard.text import view
from test_review33a import DENIED, blocked

LIMIT = 64 * 1024


@contextmanager
def characters_read() -> Iterator[list[int]]:
    """How many characters the link reader hands to its parsers (``parse_url`` and the host
    reader past the caps): a count, not a time, so the shared machine cannot sway it."""
    count = [0]
    parse, netloc = text.parse_url, text._netloc_host

    def counted(raw: str, *, explicit: bool) -> text.UrlFact | None:
        count[0] += len(raw)
        return parse.__wrapped__(raw, explicit=explicit)

    def counted_host(link: str) -> str:
        count[0] += len(link)
        return netloc(link)

    counted.__wrapped__ = counted  # type: ignore[attr-defined]  # as lru_cache's is
    text.parse_url, text._netloc_host = counted, counted_host  # type: ignore[assignment]
    try:
        yield count
    finally:
        text.parse_url, text._netloc_host = parse, netloc


def work(written: Callable[[int], str], size: int) -> int:
    with characters_read() as count:
        text._view(written(size))
    return count[0]


def repeated(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


def numbered(unit: str) -> Callable[[int], str]:
    return lambda size: "".join(unit.format(i) for i in range(size // 4))[:size]


@pytest.mark.parametrize("written", [
    repeated("www.a|"), repeated("http://a*"), repeated("https://a.b^"), repeated("http://["),
    repeated("www.a*/"), numbered("http://b{}.com*"), numbered("www.a*.b{}.com/"),
    numbered("http://a*@b{}.com/"),
], ids=["www.a|", "http://a*", "https://a.b^", "http://[", "www.a*/", "http://bN.com*",
        "www.a*.bN.com/", "http://a*@bN.com/"])
def test_a_run_of_links_ending_at_marks_is_read_in_linear_work(
        written: Callable[[int], str]) -> None:
    """Four times the text, at most five times the characters parsed (linear: four; the
    square: sixteen; main 4ddf5c2: 14 to 16 on these)."""
    small, large = work(written, LIMIT // 4), work(written, LIMIT)
    assert large <= 5 * small + 4096, (small, large)


@pytest.mark.parametrize("written", [
    f"see {DENIED}\u20dd.zzz now", f"see {DENIED}\u20dd\u20dd.zzz now",
    f"see {DENIED}\u20dd.evil.zzz/x", f"see https://{DENIED}\u20dd.zzz now",
    f"see {DENIED}\u20e3.zzz now",  # a keycap
])
def test_a_host_cut_at_an_enclosing_mark_is_read_too(written: str) -> None:
    assert DENIED in {url.host for url in view(written).urls}
    assert blocked(written)


def test_a_label_cut_at_an_enclosing_mark_under_no_suffix_is_no_link() -> None:
    """The cut reading is kept only under a public suffix: "tones\\u20dd-shop.com" cut is
    "tones", no link (main read tones-shop.com alone, and so does the branch)."""
    assert [url.host for url in view("see tones\u20dd-shop.com/x").urls] == [DENIED]
    assert [url.host for url in view(f"see {DENIED}\u20dd.zzz").urls] == [DENIED]


@pytest.mark.parametrize("written", [
    "see tones-shop 点 com", "see tones-shop(点)com", "see tones-shop[点]com",
    "see tones-shop ドット com",
])
def test_a_cjk_dot_word_between_blanks_or_brackets(written: str) -> None:
    """Read as the other languages' words are, with blanks or brackets around them (main:
    only glued, "tones-shop点com"); a guess, never a link."""
    assert blocked(written)
    assert view(written).urls == ()

"""Session 35 (``units35``): a figure written with its unit is a figure, not leetspeak.

Leetspeak writes digits in place of a word's letters so that a word list misses the word
("fr33", "v1agra"); a figure's digits are the number it says, and the letters glued to it
say what it counts. The skeleton read "3pm", "1st", "10am" as leetspeak ("epm", "ist",
"ioam"), so ``masked`` saw no number and each such figure a copy carried was a word of its
own to bulk (``review34b``'s strict xfail). The closed set (``text._FIGURE``): an ordinal's
suffix where its number takes it, a clock's am/pm after an hour (or a colon's minutes),
and the "x" of how many times before a number. Everything else glued to digits is read as
before, so no disguise a reader of the rule picks gets past the word lists.
"""

from __future__ import annotations

import pytest

from spimguard.text import view
from test_attack_session32_content import _padded
from test_respin33 import _campaign


@pytest.mark.parametrize(("raw", "skeleton", "masked"), [
    ("see you at 3pm", "see you at 3pm", "see you at #"),
    ("doors open 10:30am sharp", "doors open 10:30am sharp", "doors open # sharp"),
    ("your 1st, 22nd, 3rd and 11th wins", "your 1st, 22nd, 3rd and 11th wins",
     "your #, #, # and # wins"),
    ("bonus x10 today", "bonus x10 today", "bonus # today"),
])
def test_a_figure_with_its_unit_is_read_as_the_figure(raw: str, skeleton: str,
                                                      masked: str) -> None:
    """Base 5b0cae0 read them as leetspeak: "see you at epm", "10:eoam", "ist", "erd",
    "iith", "bonus xio" (and masked "22nd" as "#nd")."""
    seen = view(raw)
    assert (seen.skeleton, seen.masked) == (skeleton, masked)


@pytest.mark.parametrize(("raw", "skeleton"), [
    ("4nd more", "and more"),  # 4 takes "th": no ordinal, a disguised "and"
    ("13rd", "ierd"),  # 13 takes "th"
    ("the 73am", "the team"),  # no hour: a clock's am/pm follows 1-12
    ("hot 53x chat", "hot sex chat"),  # a unit after the number is not in the set
    ("v154 ready", "visa ready"),  # nor a version's "v"
    ("800k readers", "book readers"),  # nor a magnitude's "k"
    ("1nfo 0nline 4free", "info online afree"),  # digits inside a word, as before
])
def test_a_disguise_shaped_like_a_figure_is_still_folded(raw: str, skeleton: str) -> None:
    """What the set leaves out is read as before; paired with the figures above, so the
    test fails on base (whose "3pm" is "epm")."""
    assert view(raw).skeleton == skeleton
    assert view("see you at 3pm").skeleton == "see you at 3pm"


CLOCK = [f"{h}:{m:02d}{half}" for h in range(1, 13) for m in (0, 15, 30, 45)
         for half in ("am", "pm")]
TIMES = [f"x{n}" for n in range(1, 13)]


@pytest.mark.parametrize("pad", [CLOCK, TIMES], ids=["clock", "x-times"])
@pytest.mark.parametrize("seed", [1, 5])
def test_a_pitch_padded_with_figures_is_one_campaign(seed: int, pad: list[str]) -> None:
    """200 copies padded after about a quarter of their words, the engine's cluster of the
    unpadded pitch: base 5b0cae0 43.3 (seed 1) and 48.8 (seed 5) with clock times, 93.6
    and 90.7 with "x2"; here 182 at both, as with bare numbers."""
    assert _campaign(_padded(seed, pad)) >= 150

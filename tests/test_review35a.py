"""Session 35 (``review35a``): ``units35``'s figures attacked from the spammer's seat.

``units35`` reads a figure written with its unit ("3pm", "1st", "x2") as the figure, and
``masked`` masks it whole ("#"), so a copy padded with figures is the copy unpadded. A
figure is one however its digits are written: ``_NUMBER`` masks a number in any script's
decimal digits, so "٣pm" (Arabic-Indic) is a time as "3pm" is, and a clock's minutes
follow a clock's colon (one after a digit), not a label's ("time:3pm" is three o'clock).
What the rule leaves open (a unit written apart from its number) is a strict xfail with
its numbers.
"""

from __future__ import annotations

import pytest

from spimguard.text import view
from test_attack_session32_content import _padded
from test_respin33 import _campaign


def _digits(number: int, zero: int) -> str:
    """``number`` in the decimal digits of the script whose zero is ``zero``."""
    return "".join(chr(zero + int(d)) for d in str(number))


# Decimal digits Unicode folds to no ASCII digit (NFKC leaves them): Arabic-Indic,
# Extended Arabic-Indic (Persian), Devanagari, Bengali; and ASCII.
SCRIPTS = (0x30, 0x660, 0x6F0, 0x966, 0x9E6)
TIMES = [_digits(h, zero) + half for zero in SCRIPTS for h in range(1, 13)
         for half in ("am", "pm")]


@pytest.mark.parametrize(("raw", "plain"), [
    ("see you at \u0663pm", "see you at 3pm"),  # Arabic-Indic three
    ("the \u0661st prize", "the 1st prize"),
    ("the \u0967\u0968th day", "the 12th day"),  # Devanagari twelve
    ("bonus x\u0661\u0662 today", "bonus x12 today"),  # Arabic-Indic twelve
])
def test_a_figure_in_any_scripts_digits_is_masked_as_in_ascii(raw: str, plain: str) -> None:
    """``masked`` masks a number in any script's digits ("#"), so the figure's unit is
    masked with it: base 5b0cae0 and units35 masked "\u0663pm" as "#pm", "\u0661st" as
    "#st", "x\u0661\u0662" as "x#", where "3pm", "1st" and "x12" are "#" (on base "epm",
    "ist", "xi#")."""
    assert view(raw).masked == view(plain).masked
    assert view(plain).masked != view(plain).skeleton  # the figure is masked (base: leet)


def test_no_ordinal_in_other_digits_is_read_where_ascii_reads_none() -> None:
    """The digits are read for the number they say, so "11st" is no ordinal in any script
    (and the figure above is not read as one for its script alone). Paired with a figure
    base does not mask, so the test fails on base."""
    assert view("the \u0661\u0661st").masked == "the #st"
    assert view("the \u0661\u0661th").masked == "the #"


@pytest.mark.parametrize(("raw", "skeleton", "masked"), [
    ("time:3pm", "time:3pm", "time:#"),  # a label's colon: three o'clock
    ("at:11am ok", "at:11am ok", "at:# ok"),
    ("10:30pm", "10:30pm", "#"),  # a clock's colon: its minutes
    ("x:73am", "x:team", "x:team"),  # no clock: no hour either, a disguised "team"
    ("12:73am", "12:team", "#:team"),  # no minute: 00-59
])
def test_only_a_clocks_colon_takes_minutes(raw: str, skeleton: str, masked: str) -> None:
    """units35 read a run after any colon as a clock's minutes: "time:3pm" was leet
    ("time:epm", as on base) and "x:73am" a figure in the skeleton ("x:73am") that
    ``masked`` did not read as one ("x:#am"). A clock's colon follows a digit, as
    ``masked`` reads a number, and its minutes are 00-59."""
    seen = view(raw)
    assert (seen.skeleton, seen.masked) == (skeleton, masked)
    assert view("time:3pm").skeleton == "time:3pm"  # paired, so each case fails on base


def test_a_time_after_a_labels_colon_pads_no_more_than_after_a_space() -> None:
    """200 copies padded with "at:3pm" and with "at 3pm" (1-12, am/pm) are one pitch
    padded with the word "at" and a time either way: units35's engine cluster counted
    51-86 with the colon (seeds 11-15; the times read as leet, "at:epm") and 131-152 with
    the space; here 131-152 both. Base reads both as leet ("at:epm", "at epm"), so the
    skeleton is checked too."""
    assert view("at:3pm").skeleton == "at:3pm"
    colon = [f"at:{h}{half}" for h in range(1, 13) for half in ("am", "pm")]
    space = [f"at {h}{half}" for h in range(1, 13) for half in ("am", "pm")]
    assert _campaign(_padded(23, colon)) == _campaign(_padded(23, space))


@pytest.mark.parametrize("seed", [21, 22])
def test_a_pitch_padded_with_times_in_other_scripts_digits_is_one_campaign(seed: int) -> None:
    """200 copies padded after about a quarter of their words with a time in one of five
    scripts' digits, the engine's cluster of the unpadded pitch: base 5b0cae0 30-75, units35
    129-146 (seeds 11-15, six scripts with fullwidth, which NFKC folds), here 175-182."""
    assert _campaign(_padded(seed, TIMES)) >= 150


APART = [f"{h}{space}{half}" for h in range(1, 13) for half in ("am", "pm", "a.m.", "p.m.")
         for space in ("", " ")]


@pytest.mark.xfail(strict=True, reason=(
    "open: a clock's half of the day written apart from its hour ('3 pm', '3 p.m.') or with "
    "dots ('3p.m.') keeps its letters as a word of their own ('# pm', '#p.m.'), so a copy "
    "padded with times in those forms varies per copy: 200 copies (seeds 11-15, not tuned "
    "on) met 29-55 on base 5b0cae0, 90-111 on units35 and here, where times glued ('3pm') "
    "meet 182. Masking 'am'/'pm' after a number changes the masked form (the fingerprint) of "
    "31 deduplicated corpus texts (28 ham: 'meet him today at 2 pm', 'since 4 p.m. ET'), "
    "which moves the content model's folds (a retrain), and 'am' after a number is also "
    "the verb (Mishra ham: '... 32  am I think?'): measured, not shipped (review35a)"))
@pytest.mark.parametrize("seed", [21])
def test_a_pitch_padded_with_times_written_apart_is_one_campaign(seed: int) -> None:
    assert _campaign(_padded(seed, APART)) >= 150
